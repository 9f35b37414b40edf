"""Each workflow's graph: its states and transitions, and every state reachable and with a way out.

Transitions must join states that exist, with exact deadlines, timed ones left to the scheduler,
attached forms and well-formed effects; a state that is not final needs a transition out.
"""

from __future__ import annotations

from typing import Any

from engine.definition.checks.base import _d, _l
from engine.definition.checks.index import ProgrammeIndex
from engine.definition.schema_check import did_you_mean
from engine.definition.yaml_source import Path


class WorkflowChecks(ProgrammeIndex):
    """States, transitions, reachability and dead ends of each workflow."""

    def _workflows(self) -> None:
        for wid, wf in self.workflows.items():
            base: Path = ("workflows", wid)
            states = self.states[wid]
            final = {
                s["id"]
                for s in _l(wf.get("states"))
                if _d(s).get("final") and isinstance(_d(s).get("id"), str)
            }
            initial = wf.get("initial")
            self.ref(
                (*base, "initial"),
                initial,
                states,
                "unknown-state",
                "state",
                f'in workflow "{wid}"',
            )
            edges: dict[str, set[str]] = {s: set() for s in states}
            for ti, t in enumerate(_l(wf.get("transitions"))):
                t = _d(t)
                tpath: Path = (*base, "transitions", ti)
                src = t.get("source")
                sources: list[str]
                if src == "*":
                    sources = sorted(states - final)
                elif isinstance(src, list):
                    sources = [s for s in src if isinstance(s, str)]
                    for si, s in enumerate(src):
                        self.ref(
                            (*tpath, "source", si),
                            s,
                            states,
                            "unknown-state",
                            "state",
                            f'in workflow "{wid}"',
                        )
                elif isinstance(src, str):
                    sources = [src]
                    self.ref(
                        (*tpath, "source"),
                        src,
                        states,
                        "unknown-state",
                        "state",
                        f'in workflow "{wid}"',
                    )
                else:
                    sources = []
                dest = t.get("dest")
                ok_dest = self.ref(
                    (*tpath, "dest"), dest, states, "unknown-state", "state", f'in workflow "{wid}"'
                )
                for s in sources:
                    if s in final and src != "*":
                        self.err(
                            (*tpath, "source"),
                            "leaves-final-state",
                            f'transition "{t.get("trigger")}" leaves "{s}", which is a final state; '
                            "a case never leaves a final state (remove `final: true` or the transition)",
                        )
                    if s in edges and ok_dest and isinstance(dest, str):
                        edges[s].add(dest)
                label = f'transition "{t.get("trigger")}"'
                if "deadline" in t:
                    self.milestone(
                        (*tpath, "deadline"),
                        t["deadline"],
                        exact=True,
                        what=f"the deadline of {label}",
                    )
                if "not_before" in t:
                    self.milestone(
                        (*tpath, "not_before"),
                        t["not_before"],
                        exact=True,
                        what=f"the start of {label}",
                    )
                for fi, form in enumerate(_l(t.get("forms"))):
                    if isinstance(form, str) and wid not in self.form_workflows.get(form, set()):
                        attached = sorted(f for f, ws in self.form_workflows.items() if wid in ws)
                        self.err(
                            (*tpath, "forms", fi),
                            "unknown-form",
                            f'{label} needs form "{form}", but no form "{form}" is attached to workflow '
                            f'"{wid}" under `forms:`{did_you_mean(form, set(attached))}',
                        )
                if "at" in t:
                    self.anchor((*tpath, "at"), t["at"], wid, label)
                    by = t.get("by")
                    if isinstance(by, list) and by != ["scheduler"]:
                        self.err(
                            (*tpath, "by"),
                            "timed-by",
                            f"{label} is timed (it has `at`), so only the scheduler takes it; "
                            "remove `by` or make it [scheduler]",
                        )
                for ei, eff in enumerate(_l(t.get("effects"))):
                    eff = _d(eff)
                    epath: Path = (*tpath, "effects", ei)
                    if eff.get("do") == "start_case":
                        if "workflow" not in eff:
                            self.err(
                                epath,
                                "missing-key",
                                'start_case needs "workflow": the workflow of the new case',
                            )
                        else:
                            self.ref(
                                (*epath, "workflow"),
                                eff["workflow"],
                                set(self.workflows),
                                "unknown-workflow",
                                "workflow",
                            )
                    for qk in ("amount", "lot"):
                        if qk in eff:
                            self.ref(
                                (*epath, qk),
                                eff[qk],
                                self.question_names,
                                "unknown-question",
                                "question",
                                "in the programme's forms",
                            )
                    if eff.get("do") in ("raise_flag", "clear_flag") and "flag" not in eff:
                        self.err(
                            epath,
                            "missing-key",
                            f'{eff.get("do")} needs "flag": the name of the flag',
                        )
            self._reachability(wid, base, wf, edges, final, initial)

    def _reachability(
        self,
        wid: str,
        base: Path,
        wf: dict[str, Any],
        edges: dict[str, set[str]],
        final: set[str],
        initial: Any,
    ) -> None:
        index = {
            s["id"]: i
            for i, s in enumerate(_l(wf.get("states")))
            if isinstance(_d(s).get("id"), str)
        }
        if isinstance(initial, str) and initial in edges:
            seen = {initial}
            todo = [initial]
            while todo:
                for nxt in edges.get(todo.pop(), ()):
                    if nxt not in seen:
                        seen.add(nxt)
                        todo.append(nxt)
            for s, i in index.items():
                if s not in seen:
                    self.err(
                        (*base, "states", i, "id"),
                        "unreachable-state",
                        f'state "{s}" of workflow "{wid}" cannot be reached from "{initial}"; '
                        "add a transition into it or remove it",
                    )
        for s, i in index.items():
            if s not in final and not edges.get(s):
                self.err(
                    (*base, "states", i, "id"),
                    "dead-end-state",
                    f'state "{s}" of workflow "{wid}" has no way out; add a transition from it, '
                    "or mark it `final: true`",
                )
