"""A page saved is checked once: the engine reuses the page's own check when nothing differs.

The page checks its answers to show messages; the engine checks the same answers as it saves.
The second check is the first one's result only when everything it depends on is the same:
the form, the answers, whether every required answer is needed, and what the rules read besides
the answers (`now`, `case`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from engine.forms import answers as checks
from engine.forms.answers import check_form
from engine.model import Form, Question

START = Question("start", "date", "When will it start?", True, {
    "validate": [{"rule": "value >= now", "message": "The start date must be today or later"}]})  # fmt: skip
NAME = Question("name", "text", "Project name", True, {})
FORM = Form("f", "F", (("p", "P", (START, NAME)),), {})


def test_a_rule_reading_now_is_judged_with_each_checks_own_now() -> None:
    answers = {"start": "2022-03-01", "name": "Hub"}
    before = {"now": datetime(2022, 2, 1, tzinfo=UTC)}
    after = {"now": datetime(2022, 4, 1, tzinfo=UTC)}
    assert check_form(FORM, answers, complete=False, context=before)[1] == {}
    assert check_form(FORM, answers, complete=False, context=after)[1] == {
        "start": ["The start date must be today or later"]
    }


def test_a_second_check_gives_the_same_messages_whatever_the_first_caller_did() -> None:
    answers = {"start": "2022-03-01"}
    moment = {"now": datetime(2022, 4, 1, tzinfo=UTC)}
    expected = {
        "start": ["The start date must be today or later"],
        "name": ["Enter the project name"],
    }
    clean, errors = check_form(FORM, answers, complete=True, context=moment)
    assert errors == expected
    errors["start"].append("changed by the caller")  # as a page adds its own date messages
    errors["extra"] = ["added by the caller"]
    clean["name"] = "changed by the caller"
    assert check_form(FORM, answers, complete=True, context=moment) == ({}, expected)


def test_changed_answers_or_a_complete_check_are_worked_out_afresh(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = _counting(monkeypatch)
    moment = {"now": datetime(2022, 2, 1, tzinfo=UTC)}
    assert check_form(FORM, {"name": "Hub"}, complete=False, context=moment)[1] == {}
    assert check_form(FORM, {"name": "Hub"}, complete=True, context=moment)[1] == {
        "start": ["Enter the date it will start"]
    }
    assert check_form(FORM, {"name": "Hub", "start": "x"}, complete=True, context=moment)[1] == {
        "start": ["The date it will start must be a real date"]
    }
    assert len(calls) == 3


def _counting(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the checks actually worked out (not taken from the one before)."""
    calls: list[int] = []
    real = checks._check_form

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(checks, "_check_form", counted)
    return calls
