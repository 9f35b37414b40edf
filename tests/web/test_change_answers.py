"""A Change link on "Check your answers" comes back to "Check your answers"."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient

from .conftest import EOI, Clock, start_application
from .test_apply_submission import answered

ORGANISATION = {"organisation_name": "Small Org", "organisation_address": "1 Dale Street",
                "organisation_postcode": "L2 2DH", "_action": "continue"}  # fmt: skip


def page(ref: str, page_id: str) -> str:
    return f"/apply/cases/{ref}/forms/{EOI}/pages/{page_id}"


def test_changing_an_answer_returns_to_check_your_answers(
    app: Flask, clock: Clock, applicant: Callable[..., FlaskClient]
) -> None:
    ann = applicant()
    ref = start_application(ann)
    answered(app, clock, ref)
    check = ann.get(f"/apply/cases/{ref}/forms/{EOI}/check").data.decode()
    assert f'href="{page(ref, "organisation")}?change=1#organisation_name-question"' in check
    r = ann.post(f"{page(ref, 'organisation')}?change=1", data=ORGANISATION,
                 content_type="multipart/form-data")  # fmt: skip
    assert r.headers["Location"] == f"/apply/cases/{ref}/forms/{EOI}/check"
    # without the Change link, saving a page goes on through the form, as before
    r = ann.post(page(ref, "organisation"), data=ORGANISATION, content_type="multipart/form-data")
    assert r.headers["Location"] == page(ref, "contact")


def test_a_change_that_asks_something_new_goes_there_first(
    applicant: Callable[..., FlaskClient],
) -> None:
    ann = applicant()
    ref = start_application(ann)
    contact = {"contact_name": "Ann", "contact_role": "Director", "contact_email": "ann@small.example",
               "contact_phone": "0151 123 4567", "_action": "continue"}  # fmt: skip
    ann.post(page(ref, "contact"), data=contact, content_type="multipart/form-data")
    r = ann.post(f"{page(ref, 'organisation')}?change=1", data=ORGANISATION,
                 content_type="multipart/form-data")  # fmt: skip
    # the contact page is answered: the first page still to answer comes next, still a change
    assert r.headers["Location"] == f"{page(ref, 'type_and_governance')}?change=1"
