"""`ProgrammeChecker`: every cross-reference check of a programme file and the forms it uses.

Each topic is a mixin over `ProgrammeIndex`; `run` builds the index, then checks the topics in a
fixed order, because callers and tests rely on problems coming out in that order.
"""

from __future__ import annotations

from engine.dates import DateError, parse_timezone
from engine.definition.checks.attached_forms import AttachedFormChecks
from engine.definition.checks.base import _d
from engine.definition.checks.criteria import CriteriaChecks
from engine.definition.checks.declarations import DeclarationChecks
from engine.definition.checks.money import FundingChecks
from engine.definition.checks.reminders import ReminderChecks
from engine.definition.checks.reporting import ReportingChecks
from engine.definition.checks.retention import RetentionChecks
from engine.definition.checks.timeline import TimelineChecks
from engine.definition.checks.typed_values import TypedValueChecks
from engine.definition.checks.workflows import WorkflowChecks
from engine.errors import Problem


class ProgrammeChecker(
    TypedValueChecks,
    TimelineChecks,
    FundingChecks,
    WorkflowChecks,
    AttachedFormChecks,
    CriteriaChecks,
    ReminderChecks,
    ReportingChecks,
    RetentionChecks,
    DeclarationChecks,
):
    """Checks across one programme file and the forms it uses."""

    def run(self) -> list[Problem]:
        """Run every programme check; return the problems found."""
        d = _d(self.data)
        tzname = d.get("timezone")
        if isinstance(tzname, str):
            try:
                self.tz = parse_timezone(tzname)
            except DateError as exc:
                self.err(("timezone",), "bad-timezone", str(exc))
        self._index()
        self._typed_values()
        self._timeline()
        self._windows()
        self._funding()
        self._workflows()
        self._forms()
        self._eligibility_and_criteria()
        self._reviews()
        self._reminders()
        self._service_levels()
        self._kpis()
        self._demographics()
        self._retention()
        self._misspelt_declarations()  # last: it folds what the checks above found
        return self.problems
