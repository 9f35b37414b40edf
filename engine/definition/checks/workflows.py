"""Each workflow's graph: its states and transitions, and every state reachable and with a way out.

Transitions must join states that exist, with exact deadlines, timed ones left to the scheduler,
attached forms and well-formed effects; a state that is not final needs a transition out.

One mistake gets one error. A transition whose source or dest is not a state is reported where it
is written, and stays in the graph joined to the states it may have meant (see `_meant`), so the
states after it are not also called unreachable, nor the state it leaves a dead end.
"""

from __future__ import annotations

import difflib
from typing import Any

from engine.definition.checks.base import _d, _l
from engine.definition.checks.index import ACTORS, ProgrammeIndex
from engine.definition.schema_check import did_you_mean
from engine.definition.yaml_source import Path


class WorkflowChecks(ProgrammeIndex):
    """States, transitions, reachability and dead ends of each workflow."""

    def _label_question(self, wid: str, wf: dict[str, Any]) -> None:
        """A workflow's `label_question` is asked once per case, on a form attached to it."""
        if "label_question" not in wf:
            return
        once = [str(_d(e).get("form")) for e in _l(_d(self.data).get("forms"))
                if _d(e).get("workflow") == wid and _d(e).get("repeatable") is not True]  # fmt: skip
        asked = {q for f in once if f in self.forms for q in self.forms[f].questions}
        where = f'asked once per case in workflow "{wid}"'
        self.ref(("workflows", wid, "label_question"), wf["label_question"], asked, "unknown-question", "question", where)  # fmt: skip

    def _movable_states(
        self, wid: str, wf: dict[str, Any], states: set[str], final: set[str]
    ) -> None:
        """`movable_states` names states of the workflow, none of them final (closed is frozen)."""
        for i, s in enumerate(_l(wf.get("movable_states"))):
            path: Path = ("workflows", wid, "movable_states", i)
            if (
                self.ref(path, s, states, "unknown-state", "state", f'in workflow "{wid}"')
                and s in final
            ):
                self.err(path, "final-state-moves",
                         f'"{s}" is a final state, so its cases never move to a newer version: '
                         "remove it from `movable_states`")  # fmt: skip

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
            self._label_question(wid, wf)
            self._movable_states(wid, wf, states, final)
            edges: dict[str, set[str]] = {s: set() for s in states}
            for ti, t in enumerate(_l(wf.get("transitions"))):
                t = _d(t)
                tpath: Path = (*base, "transitions", ti)
                where = f'in workflow "{wid}"'
                src = t.get("source")
                named: list[tuple[Path, Any]]  # the source states as written, and where
                if src == "*":
                    named = []
                elif isinstance(src, list):
                    named = [((*tpath, "source", si), s) for si, s in enumerate(src)]
                else:
                    named = [((*tpath, "source"), src)]
                sources = set(states - final) if src == "*" else set()
                for spath, s in named:
                    if self.ref(spath, s, states, "unknown-state", "state", where):
                        sources.add(s)
                        if s in final:
                            self.err(
                                (*tpath, "source"),
                                "leaves-final-state",
                                f'transition "{t.get("trigger")}" leaves "{s}", which is a final '
                                "state; a case never leaves a final state (remove `final: true` "
                                "or the transition)",
                            )
                    else:
                        sources |= _meant(s, states)
                dest = t.get("dest")
                if self.ref((*tpath, "dest"), dest, states, "unknown-state", "state", where):
                    dests = {dest}
                else:
                    dests = _meant(dest, states)
                for s in sources:
                    edges[s] |= dests
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
                    if self._form_not_attached(form, wid):
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
                    # `by: [schedulr]` is one mistake, which the schema check reports
                    if (
                        isinstance(by, list)
                        and by != ["scheduler"]
                        and all(isinstance(r, str) and r in ACTORS for r in by)
                    ):
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
                        self._copied_forms(
                            epath, _l(eff.get("copy_answers")), wid, eff.get("workflow")
                        )
                    for qk in ("amount", "lot"):
                        if qk in eff and self.all_questions_known:
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

    def _copied_forms(self, epath: Path, forms: list[Any], wid: str, new: Any) -> None:
        """Each form a new case copies (`copy_answers`) is attached to both workflows."""
        for fi, form in enumerate(forms):
            for w in dict.fromkeys((wid, new)):
                if isinstance(w, str) and w in self.workflows and self._form_not_attached(form, w):
                    self.err(
                        (*epath, "copy_answers", fi),
                        "unknown-form",
                        f'start_case copies the answers of form "{form}", but no form "{form}" is '
                        f'attached to workflow "{w}" under `forms:`: attach it to both workflows',
                    )
                    break

    def _form_not_attached(self, form: Any, wid: str) -> bool:
        """Whether a transition's form is missing from workflow `wid`, by a mistake of its own.

        Not when the mistake is in the `forms:` entry that attaches it, reported there: an entry
        with no workflow or one that does not exist (perhaps this one misspelt), or a form whose
        file could not be found (perhaps this name misspelt).
        """
        if not isinstance(form, str) or wid in self.form_workflows.get(form, set()):
            return False
        if any(
            not isinstance(w, str) or w not in self.workflows
            for w in self.listed_forms.get(form, [])
        ):
            return False
        return form in self.listed_forms or not self.may_be_unread_form(form)

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


def _meant(name: Any, states: set[str]) -> set[str]:
    """The states a source or dest that is not a state may stand for, when drawing the graph.

    Leaving the transition out of the graph would turn one typo into a cascade: every state after
    it unreachable, the state it leaves a dead end. Skipping the graph checks for the whole
    workflow would hide its real dead ends and unreachable states too. So the transition is kept,
    joined to every state the author may have meant: the near misses a "did you mean" is drawn
    from, or, when no state is near (a state not declared yet, or a name quite unlike the one
    meant), to every state, since then none can be blamed. An extra edge only ever takes an
    unreachable or dead-end report away, never adds one, and a workflow whose names are all
    right is drawn exactly as written.
    """
    if isinstance(name, str):
        near = difflib.get_close_matches(name, sorted(states), n=max(len(states), 1), cutoff=0.6)
        if near:
            return set(near)
    return set(states)  # no name at all (the schema check has said so) or none near
