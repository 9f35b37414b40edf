"""Applicants: open rounds, starting an application, eligibility first, the forms, submitting."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint
from flask.blueprints import BlueprintSetupState

from .. import describe
from ..widgets import answer_errors, answer_fields, params_for

bp = Blueprint("apply", __name__, url_prefix="/apply")


@bp.record_once
def helpers(state: BlueprintSetupState) -> None:
    """What templates call to lay out fields and answers."""
    state.app.jinja_env.globals.update(
        params_for=params_for,
        answer_fields=answer_fields,
        answer_errors=answer_errors,
        show_answer=describe.show_answer,
        money=describe.money,
        when=describe.when,
    )


@bp.app_template_filter("datetime")
def to_datetime(text: str) -> datetime:
    """An ISO timestamp from the store as a datetime."""
    return datetime.fromisoformat(text)


from . import cases, pages, returns, rounds  # noqa: E402, F401 - the views register themselves on bp
