"""A provider with a contract sends its monitoring returns and sees what is due next."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from engine.model import Question
from engine.runtime import Actor

from .conftest import LIVERPOOL, Clock, text

RETURN = "liverpool_quarterly_monitoring_return"


def answer(q: Question) -> Any:
    """A plausible answer of the question's kind, as a browser sends it."""
    options = q.spec.get("options", [])
    return {
        "number": "12",
        "money": "1000",
        "textarea": "Weekly sessions went well.",
        "text": "WEMWBS",
        "yesno": "yes",
        "radios": options[0]["value"] if options else "",
        "select": options[0]["value"] if options else "",
        "checkboxes": [options[0]["value"]] if options else [],
    }.get(q.type, "")


def contract(app: Flask, clock: Clock, organisation: str) -> str:
    """A Liverpool contract for the organisation, delivering since 21 March 2022; its reference."""
    from engine.web.services import engine

    cora = Actor("commissioner", "cora")
    with app.app_context():
        eng = engine()
        with eng.store.transaction():  # the commissioner fixes May's meeting: 18 May 2022, 10am
            eng.store.pin(LIVERPOOL, "review:quarterly_monitoring_meeting:0", "2022-05-18T09:00:00+00:00", "cora", "2022-03-01")  # fmt: skip
        view = eng.start_case(LIVERPOOL, "contract", cora, organisation=organisation)
        eng.act(view.id, "sign_contract", cora)
        eng.act(view.id, "pay", cora, amount=60000)
        eng.act(view.id, "start_delivery", cora)
        return view.reference


def org_of(app: Flask, email: str) -> str:
    from engine.web.services import store

    with app.app_context():
        return store().user_by_email(email)["organisation_id"]


def test_a_liverpool_provider_submits_a_quarterly_return_and_sees_what_is_due_next(
    app: Flask, applicant: Callable[..., FlaskClient], clock: Clock
) -> None:
    ann = applicant()
    clock.set("2022-04-20T10:00")
    ref = contract(app, clock, org_of(app, "ann@small.example"))

    listing = text(ann.get("/apply/returns"))
    assert ref in listing and "Quarterly monitoring report: next due 10am on Wednesday 11 May 2022" in listing  # fmt: skip
    page = text(ann.get(f"/apply/cases/{ref}/returns"))
    assert "Due next" in page
    assert "10am on Wednesday 11 May 2022 (1 week before the Quarterly contract monitoring meeting at 10am on Wednesday 18 May 2022)" in page  # fmt: skip
    assert "August 2022 (the date is not fixed yet)" in page  # not pinned yet: said so
    assert "None sent yet" in page
    assert "Your quarterly monitoring report is due in a week" in page  # the reminder rows ahead

    # page by page, with an error shown and fixed, and a page saved to come back to
    from engine.web.services import engine

    with app.app_context():
        form = engine().programme(LIVERPOOL).forms[RETURN]
    base = f"/apply/cases/{ref}/returns/{RETURN}"
    assert "You have completed 0 of" in text(ann.get(base))
    r = ann.post(f"{base}/pages/period", data={"_action": "continue"})
    assert (
        r.status_code == 200
        and "There is a problem" in text(r)
        and "Select which contract monitoring meeting this report is for" in text(r)
    )
    r = ann.post(f"{base}/pages/period", data={"reporting_quarter": "may_2022", "_action": "save"})
    assert r.headers["Location"].endswith(f"{base}?saved=1")
    assert "Continue your quarterly monitoring report" in text(ann.get(f"/apply/cases/{ref}/returns"))  # fmt: skip
    location = f"{base}/pages/period"
    for _ in range(40):
        if not location.startswith(f"{base}/pages/"):
            break
        page_id = location.rsplit("/", 1)[-1].split("#")[0]
        shown = next(qs for pid, _t, qs in form.pages if pid == page_id)
        data = {q.id: answer(q) for q in shown if q.type != "file"}
        if page_id == "period":
            data["reporting_quarter"] = "may_2022"
        if page_id == "outcome_measures":  # the form's own rule: these add up to those matched
            data.update(matched_improved="4", matched_no_change="4", matched_declined="4")
        r = ann.post(f"{base}/pages/{page_id}", data={**data, "_action": "continue"},
                     content_type="multipart/form-data")  # fmt: skip
        assert r.status_code == 302, text(r)
        location = r.headers["Location"].split("?")[0]
        location = location if "#" not in location else location.split("#")[0]
    assert location.endswith(f"{base}/check")
    check = text(ann.get(f"{base}/check"))
    assert "Check your answers" in check and "May 2022" in check
    r = ann.post(f"{base}/check")
    assert r.status_code == 302, text(r)[-3000:]
    assert r.headers["Location"].endswith(f"/apply/cases/{ref}/returns")
    page = text(ann.get(r.headers["Location"]))
    assert f"Quarterly monitoring report 1 sent on {ref}" in page
    assert "Quarterly monitoring report 1 , sent 11am on Wednesday 20 April 2022" in page
    # the return answered May's meeting: August's is next
    assert "Due next 1 week before Quarterly contract monitoring meeting, August 2022 (the date is not fixed yet)" in page  # fmt: skip
    assert (
        "Start a new quarterly monitoring report" in page
    )  # the draft is gone; next quarter's is new
    sent = text(ann.get(f"{base}/sent/1"))
    assert "May 2022" in sent and "Weekly sessions went well." in sent

    with app.app_context():
        view = engine().case(ref, Actor("commissioner", "cora"))
    assert len(view.records[RETURN]) == 1 and view.records[RETURN][0]["reporting_quarter"] == "may_2022"  # fmt: skip


def test_returns_of_another_organisation_are_not_found(
    app: Flask, applicant: Callable[..., FlaskClient], clock: Clock
) -> None:
    ann = applicant()
    bob = applicant("bob@other.example", "Other Org")
    clock.set("2022-04-20T10:00")
    ref = contract(app, clock, org_of(app, "ann@small.example"))
    for url in (f"/apply/cases/{ref}/returns", f"/apply/cases/{ref}/returns/{RETURN}",
                f"/apply/cases/{ref}/returns/{RETURN}/pages/period", f"/apply/cases/{ref}/returns/{RETURN}/sent/1"):  # fmt: skip
        assert bob.get(url).status_code == 404, url
    assert ref not in text(bob.get("/apply/returns"))
    # a form the commissioner fills in is not a return the provider can reach
    assert ann.get(f"/apply/cases/{ref}/returns/liverpool_monitoring_meeting_record").status_code == 404  # fmt: skip


def test_a_return_cannot_be_sent_before_delivery_starts(
    app: Flask, applicant: Callable[..., FlaskClient], clock: Clock
) -> None:
    from engine.web.services import engine

    ann = applicant()
    clock.set("2022-03-07T10:00")
    with app.app_context():
        view = engine().start_case(LIVERPOOL, "contract", Actor("commissioner", "cora"),
                                   organisation=org_of(app, "ann@small.example"))  # fmt: skip
    ref = view.reference
    page = text(ann.get(f"/apply/cases/{ref}/returns"))
    assert "Returns cannot be sent while the contract is contract awaiting signature" in page
    base = f"/apply/cases/{ref}/returns/{RETURN}"
    r = ann.post(f"{base}/pages/period", data={"reporting_quarter": "may_2022"})
    assert r.headers["Location"].endswith(f"{base}/check")  # read-only: nothing saved
    assert ann.post(f"{base}/check").status_code == 400
    with app.app_context():
        assert engine().record_draft(ref, RETURN, Actor("commissioner", "cora")) == {}
