"""Cross-reference checks the JSON Schema cannot express, one module per topic.

`base` reports a problem at its position and checks names and expressions; `forms` checks one
form file; `index` collects what a programme declares and checks references into it;
`typed_values`, `timeline`, `money`, `workflows`, `attached_forms`, `criteria`, `reminders` and
`reporting` each check one topic of a programme; `declarations` folds the uses of a misspelt
declaration into one problem; `programme` composes them into `ProgrammeChecker`.
"""

from __future__ import annotations

from engine.definition.checks.forms import FormChecker, FormInfo, form_info
from engine.definition.checks.programme import ProgrammeChecker
from engine.definition.checks.typed_values import typed_values

__all__ = ["FormChecker", "FormInfo", "ProgrammeChecker", "form_info", "typed_values"]
