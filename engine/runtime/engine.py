"""`Engine`: the one service API that the web app, the CLI and the scheduler all call.

Every action is one transaction: the case's state, its answers, the audit event and any money
rows are written together or not at all. A refused action says every reason, in words.

`Engine` is a facade with no code of its own: each concern is a service class over one shared
core (`EngineCore`: the store, the clock, the programmes read), and `Engine` mixes them, so
callers hold one object with one store and one clock whichever service they call.
"""

from __future__ import annotations

from engine.runtime.actions import ActionService
from engine.runtime.answering import AnswerService
from engine.runtime.bulk import BulkService
from engine.runtime.dashboards import DashboardService
from engine.runtime.money import MoneyService
from engine.runtime.moving import MovingService
from engine.runtime.panel import PanelService
from engine.runtime.pinning import PinningService
from engine.runtime.publishing import PublishingService
from engine.runtime.records import RecordService
from engine.runtime.staff import StaffService
from engine.runtime.studio import StudioService
from engine.runtime.subject_access import SubjectAccessService
from engine.runtime.views import (
    ROLES,
    SCHEDULER,
    ActionOption,
    Actor,
    CaseView,
    CriterionResult,
    ServiceLevelResult,
)

__all__ = [
    "ROLES",
    "SCHEDULER",
    "ActionOption",
    "Actor",
    "CaseView",
    "CriterionResult",
    "Engine",
    "ServiceLevelResult",
]


class Engine(
    BulkService,
    ActionService,
    RecordService,
    AnswerService,
    MoneyService,
    PanelService,
    DashboardService,
    StaffService,
    SubjectAccessService,
    PublishingService,
    MovingService,
    PinningService,
    StudioService,
):
    """Drives cases of published programmes through their workflows, on one SQLite database."""
