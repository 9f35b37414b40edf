"""Nothing that cannot be undone happens on one click: the service asks first, then says what happened."""

from __future__ import annotations

from collections.abc import Callable

from flask.testing import FlaskClient

from .conftest import start_application, text


def test_withdrawing_asks_first_and_going_back_changes_nothing(applicant: Callable[..., FlaskClient]) -> None:  # fmt: skip
    ann = applicant()
    ref = start_application(ann)
    url = f"/apply/cases/{ref}/actions/withdraw"
    asked = ann.post(url, data={"state": "eoi_draft"})
    page = text(asked)
    assert asked.status_code == 200
    assert "Are you sure you want to withdraw application?" in page
    assert f"{ref} will be: Withdrawn" in page and "This cannot be undone." in page
    assert "Yes, withdraw application" in page and "No, go back" in page
    assert "Status: Withdrawn" not in text(ann.get(f"/apply/cases/{ref}"))  # asking changed nothing
    done = ann.post(url, data={"state": "eoi_draft", "confirmed": "yes"}, follow_redirects=True)
    assert f"Withdraw application: done. The status of {ref} is now: Withdrawn." in text(done)


def test_a_step_that_can_be_taken_back_needs_no_confirmation(applicant: Callable[..., FlaskClient]) -> None:  # fmt: skip
    ann = applicant()
    ref = start_application(ann)
    # saving a draft is not an action; an unknown action is refused by the engine, never confirmed
    r = ann.post(f"/apply/cases/{ref}/actions/no_such_action", data={"state": "eoi_draft"})
    assert r.status_code == 302 and "Are you sure" not in text(ann.get(r.headers["Location"]))
