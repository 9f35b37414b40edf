"""Applicants: open rounds, starting an application, eligibility first, the forms, submitting."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint

bp = Blueprint("apply", __name__, url_prefix="/apply")


@bp.app_template_filter("datetime")
def to_datetime(text: str) -> datetime:
    """An ISO timestamp from the store as a datetime."""
    return datetime.fromisoformat(text)


from engine.web.apply import cases, pages, returns, rounds, submitted  # noqa: E402, F401 - the views register themselves on bp
