"""What a programme declares, indexed once, and the checks of references into it.

Workflows with their states, triggers and roles, milestones, cadences and the forms attached to
each workflow are collected before any topic is checked, so every topic can check a name it
meets against them: a workflow, a state, a role, a form, a milestone or a time anchor.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from engine.dates import Span
from engine.definition.checks.base import BaseChecker, _d, _l
from engine.definition.checks.forms import FormInfo
from engine.definition.yaml_source import Path, Positions

UTC_ZONE = ZoneInfo("UTC")


class ProgrammeIndex(BaseChecker):
    """What one programme file declares, and the checks of references into it."""

    def __init__(
        self,
        fname: str,
        data: Any,
        positions: Positions,
        forms: dict[str, FormInfo],
        source_text: str | None = None,
    ) -> None:
        super().__init__(fname, data, positions)
        self.forms = forms  # only the forms the programme lists and that could be read
        self.source_text = source_text
        self.tz: ZoneInfo = UTC_ZONE
        self.spans: dict[str, Span] = {}
        self.milestones: dict[str, int] = {}
        self.workflows: dict[str, dict[str, Any]] = {}
        self.states: dict[str, set[str]] = {}
        self.triggers: dict[str, set[str]] = {}
        self.roles: dict[str, set[str]] = {}
        self.form_workflows: dict[str, set[str]] = {}
        self.reviews: dict[str, dict[str, Any]] = {}

    def _index(self) -> None:
        d = _d(self.data)
        for key in ("priorities", "outcomes", "services", "eligibility", "criteria", "timeline",
                    "reviews", "reminders", "service_levels", "kpis"):  # fmt: skip
            self.unique_ids(d.get(key), (key,), what=key.rstrip("s").replace("_", " "))
        funding = _d(d.get("funding"))
        for key in ("lots", "fees", "caps"):
            self.unique_ids(funding.get(key), ("funding", key), what=key.rstrip("s"))
        self.milestones = {
            m["id"]: i
            for i, m in enumerate(_l(d.get("timeline")))
            if isinstance(_d(m).get("id"), str)
        }
        self.reviews = {
            r["id"]: r for r in _l(d.get("reviews")) if isinstance(_d(r).get("id"), str)
        }
        for wid, wf in _d(d.get("workflows")).items():
            wf = _d(wf)
            self.workflows[wid] = wf
            self.unique_ids(wf.get("states"), ("workflows", wid, "states"), what="state")
            self.unique_ids(wf.get("roles"), ("workflows", wid, "roles"), what="role")
            self.states[wid] = {
                s["id"] for s in _l(wf.get("states")) if isinstance(_d(s).get("id"), str)
            }
            self.triggers[wid] = {
                t["trigger"]
                for t in _l(wf.get("transitions"))
                if isinstance(_d(t).get("trigger"), str)
            }
            self.roles[wid] = {
                r["id"] for r in _l(wf.get("roles")) if isinstance(_d(r).get("id"), str)
            }
        for f in _l(d.get("forms")):
            f = _d(f)
            if isinstance(f.get("form"), str) and isinstance(f.get("workflow"), str):
                self.form_workflows.setdefault(f["form"], set()).add(f["workflow"])

    @property
    def question_names(self) -> set[str]:
        """Every question id of every form the programme uses."""
        names: set[str] = set()
        for info in self.forms.values():
            names |= set(info.questions)
        return names

    def milestone(self, path: Path, name: Any, *, exact: bool = False, what: str = "") -> None:
        """Check a reference to a milestone (and that it is an exact time, for deadlines)."""
        if not self.ref(
            path, name, set(self.milestones), "unknown-milestone", "milestone", "in the timeline"
        ):
            return
        span = self.spans.get(name)
        if exact and span is not None and span.precision not in ("minute", "day"):
            self.err(
                path,
                "vague-deadline",
                f'milestone "{name}" is known only as {_show(span)}, so it cannot be {what}; '
                "give it an exact `at` date (and time)",
            )

    def anchor(self, path: Path, a: Any, workflow: Any, what: str) -> None:
        """Check a time anchor: exactly one reference, which exists, and a readable offset."""
        a = _d(a)
        ref = self.exactly_one(
            path,
            a,
            ("milestone", "review", "entered", "trigger"),
            "bad-anchor",
            f"the time of {what}",
        )
        if ref is None:
            return
        if "before" in a and "after" in a:
            self.err(path, "bad-anchor", f"the time of {what} has both before and after; keep one")
        if ref == "milestone":
            self.milestone((*path, "milestone"), a["milestone"])
        elif ref == "review":
            self.ref(
                (*path, "review"),
                a["review"],
                set(self.reviews),
                "unknown-review",
                "cadence",
                "in `reviews`",
            )
        else:
            if not isinstance(workflow, str):
                self.err(
                    path,
                    "needs-workflow",
                    f'the time of {what} counts from a case event ("{ref}"), so it needs a `workflow`',
                )
                return
            if workflow not in self.workflows:
                return  # reported where the workflow is named
            if ref == "entered":
                self.ref(
                    (*path, "entered"),
                    a["entered"],
                    self.states[workflow],
                    "unknown-state",
                    "state",
                    f'in workflow "{workflow}"',
                )
            else:
                self.ref(
                    (*path, "trigger"),
                    a["trigger"],
                    self.triggers[workflow],
                    "unknown-trigger",
                    "transition",
                    f'in workflow "{workflow}"',
                )

    def workflow_ref(self, path: Path, wid: Any) -> bool:
        """Check a reference to a workflow."""
        return self.ref(path, wid, set(self.workflows), "unknown-workflow", "workflow")

    def state_refs(self, path: Path, states: Any, wid: Any) -> None:
        """Check a list of state names against a workflow."""
        if not isinstance(wid, str) or wid not in self.states:
            if isinstance(states, list) and states and not isinstance(wid, str):
                self.err(
                    path,
                    "needs-workflow",
                    "states are named here, so a `workflow` is needed to say whose states they are",
                )
            return
        for i, s in enumerate(_l(states)):
            self.ref(
                (*path, i), s, self.states[wid], "unknown-state", "state", f'in workflow "{wid}"'
            )

    def role_refs(self, path: Path, roles: Any, wid: Any) -> None:
        """Check applicant roles against the workflow that declares them."""
        known = (
            self.roles.get(wid, set())
            if isinstance(wid, str)
            else set().union(*self.roles.values())
            if self.roles
            else set()
        )
        for i, r in enumerate(_l(roles)):
            self.ref(
                (*path, i),
                r,
                known,
                "unknown-role",
                "role",
                "declared under the workflow's `roles`",
            )

    def form_ref(self, path: Path, name: Any) -> bool:
        """Check a reference to a form the programme uses."""
        return self.ref(
            path, name, set(self.form_workflows), "unknown-form", "form", "under `forms:`"
        )


def _show(span: Span) -> str:
    if span.precision == "minute":
        return span.start.strftime("%-d %B %Y %H:%M")
    if span.precision == "day":
        return span.start.strftime("%-d %B %Y")
    if span.precision == "month":
        return span.start.strftime("%B %Y")
    if span.precision == "year":
        return span.start.strftime("%Y")
    if span.precision == "week":
        return "the week beginning " + span.start.strftime("%-d %B %Y")
    return f"{span.start.strftime('%-d %B %Y')} to {span.end.strftime('%-d %B %Y')}"
