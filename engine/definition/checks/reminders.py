"""Reminders and service levels: the workflow, states and time anchor each counts from."""

from __future__ import annotations

from engine.definition.checks.base import _d, _l
from engine.definition.checks.index import ProgrammeIndex
from engine.definition.yaml_source import Path


class ReminderChecks(ProgrammeIndex):
    """Reminders and service levels, and the times they count from."""

    def _reminders(self) -> None:
        for i, r in enumerate(_l(_d(self.data).get("reminders"))):
            r = _d(r)
            path: Path = ("reminders", i)
            wid = r.get("workflow")
            if "workflow" in r:
                self.workflow_ref((*path, "workflow"), wid)
            if "when" in r:
                self.anchor((*path, "when"), r["when"], wid, f'reminder "{r.get("id")}"')
            self.state_refs((*path, "states"), r.get("states"), wid)
            # only roles named as text count: anything else in `to` is the schema's to report
            told = {t for t in _l(r.get("to")) if isinstance(t, str)}
            for role in _d(_d(r.get("message")).get("for")):
                if role not in told:
                    self.err(
                        (*path, "message", "for", role),
                        "wording-for-nobody",
                        f'reminder "{r.get("id")}" words its message for {role}s, but they are '
                        f"not in its `to` ({', '.join(sorted(map(str, told)))}), so nobody would "
                        f"read it; add {role} to `to`, or remove this wording",
                        key=True,
                    )

    def _service_levels(self) -> None:
        for i, s in enumerate(_l(_d(self.data).get("service_levels"))):
            s = _d(s)
            path: Path = ("service_levels", i)
            wid = s.get("workflow")
            if self.workflow_ref((*path, "workflow"), wid) and "within" in s:
                within = _d(s["within"])
                self.anchor((*path, "within"), within, wid, f'service level "{s.get("id")}"')
                if "milestone" in within or "review" in within:
                    self.err(
                        (*path, "within"),
                        "bad-anchor",
                        "a service level counts from a case event: use `entered`, `trigger` "
                        "or `answer`",
                    )
                if "after" not in within:
                    self.err(
                        (*path, "within"),
                        "bad-anchor",
                        'a service level needs "after": how long from the event it must be kept',
                    )
