"""The one service API: `Engine`, which web, CLI and scheduler all call.

`engine` is the facade; `machines` builds the workflow state machines from the model;
`assessment` scores and moderates. Every change goes through the store in one transaction.
May import the store, forms, timeline, definition and the base modules; never web, CLI,
scheduler or reporting.
"""

from engine.runtime.engine import SCHEDULER, ActionOption, Actor, CaseView, Engine

__all__ = ["SCHEDULER", "ActionOption", "Actor", "CaseView", "Engine"]
