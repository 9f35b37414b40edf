"""Saving a page as a draft checks its answers once, and still says what is wrong."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient

from engine.forms import answers as checks

from .conftest import EOI, start_application, text


def _counting(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    real = checks._check_form

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(checks, "_check_form", counted)
    return calls


def test_saving_a_page_as_a_draft_checks_its_answers_once(
    applicant: Callable[..., FlaskClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    browser = applicant()
    ref = start_application(browser)
    page = f"/apply/cases/{ref}/forms/{EOI}/pages/contact"
    calls = _counting(monkeypatch)
    saved = browser.post(page, data={"contact_name": "Ann Applicant", "_action": "save"})
    assert saved.status_code == 302
    assert len(calls) == 1  # the page's check, reused by the engine as it saved
    assert "Ann Applicant" in browser.get(page).get_data(as_text=True)


def test_a_draft_with_a_wrong_answer_is_not_saved_and_says_what_to_fix(
    applicant: Callable[..., FlaskClient],
) -> None:
    browser = applicant()
    ref = start_application(browser)
    page = f"/apply/cases/{ref}/forms/{EOI}/pages/contact"
    refused = browser.post(page, data={"contact_name": "Ann Applicant", "contact_email": "not an email", "_action": "save"})  # fmt: skip
    assert refused.status_code == 200
    assert "Enter an email address in the correct format" in text(refused)
    assert "Ann Applicant" not in browser.get(page).get_data(as_text=True)
