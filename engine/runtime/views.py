"""What the runtime hands its callers: who is acting, and plain views of cases and their checks.

Frozen dataclasses with no behaviour beyond presenting themselves; every service returns these,
and web, CLI and scheduler build `Actor`s to call the `Engine` with.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from engine.errors import NotPermitted

ROLES = ("applicant", "assessor", "commissioner", "caseworker", "admin", "scheduler")


@dataclass(frozen=True)
class Actor:
    """Who is acting: a role, who they are, (for applicants and caseworkers) their organisation,
    and the programmes their role covers (None: not limited, as for the scheduler and the CLI)."""

    role: str
    id: str = ""
    organisation: str | None = None
    programmes: frozenset[str] | None = None

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise NotPermitted(f'"{self.role}" is not a role; roles are {", ".join(ROLES)}')

    def covers(self, programme_id: str) -> bool:
        """Whether this actor's role reaches the programme."""
        return self.programmes is None or programme_id in self.programmes


SCHEDULER = Actor("scheduler", "scheduler")


@dataclass(frozen=True)
class CriterionResult:
    """One eligibility criterion checked against the answers so far."""

    id: str
    text: str
    status: str  # met, not_met, not_answered, not_applicable
    message: str = ""

    @property
    def passed(self) -> bool:
        """Met, or not applicable to this applicant."""
        return self.status in ("met", "not_applicable")


@dataclass(frozen=True)
class ActionOption:
    """An action on a case, and whether this actor may take it now (and if not, why not)."""

    trigger: str
    label: str
    dest: str
    allowed: bool
    reasons: tuple[str, ...] = ()
    needs_reason: bool = False


@dataclass(frozen=True)
class ServiceLevelResult:
    """A time-limited promise on one case: kept, pending, at risk (warned), missed (flagged),
    paused (its clock stopped while the case is in a state such as on hold) or not started."""

    id: str
    title: str
    status: str  # kept, pending, at_risk, missed, paused, not_started
    due: datetime | None


@dataclass(frozen=True)
class CaseView:
    """A case as people see it."""

    id: int
    reference: str
    programme_id: str
    version: str
    workflow: str
    state: str
    state_label: str
    organisation: str | None
    role: str | None
    lot: str | None
    parent_id: int | None
    revision: int
    flags: dict[str, Any] = field(default_factory=dict)
    answers: dict[str, dict[str, Any]] = field(default_factory=dict)
    records: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    submitted: dict[str, str | None] = field(default_factory=dict)
    # forms with answers left out of this view because the viewer's role may not see them
    withheld: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """Plain data, for `--json` output."""
        return dict(self.__dict__)
