"""The one service API: `Engine`, which web, CLI and scheduler all call.

`engine` is the facade, mixing one service per concern over a shared `core`: `cases` (cases,
answers, eligibility), `actions` (actions, their effects, service levels), `money` (award and
payment rules), `records` (record drafts), `panel` (assessors' sheets, moderation) and
`dashboards`; `views` holds the plain types they return. `machines` builds the workflow state
machines from the model; `assessment` scores and moderates. Every change goes through the store
in one transaction. May import the store, forms, timeline, definition and the base modules;
never web, CLI, scheduler or reporting.
"""

from engine.runtime.cases import lot_questions
from engine.runtime.engine import Engine
from engine.runtime.views import SCHEDULER, ActionOption, Actor, CaseView

__all__ = ["SCHEDULER", "ActionOption", "Actor", "CaseView", "Engine", "lot_questions"]
