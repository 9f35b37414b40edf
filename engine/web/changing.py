"""Changing an answer from "Check your answers": back to the check page, not through the form.

GOV.UK's pattern: a Change link opens the page with `change=1`; saving it returns to "Check your
answers", unless the new answer asks something not yet answered, whose page comes first.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from flask import request

from engine.model import Question


def changing() -> bool:
    """Whether this page was opened from a Change link on "Check your answers"."""
    return request.args.get("change") == "1"


def unanswered_page(
    page_ids: Iterable[str], shown: Callable[[str], list[Question]], saved: Mapping[str, Any]
) -> str | None:
    """The first of these pages asking a question the answers so far leave unanswered, if any."""
    for page_id in page_ids:
        if any(q.id not in saved and not q.spec.get("compute") for q in shown(page_id)):
            return page_id
    return None
