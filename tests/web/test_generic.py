"""The applicant pages work for any programme: roles asked when a workflow has them, repeating
groups added and removed item by item."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient

from engine.runtime import Actor, Engine

from .conftest import Clock, start_application, text

FULL = "liverpool_full_proposal"
EOI_ANSWERS = {
    "organisation_name": "Big Org", "organisation_address": "1 Dale Street", "organisation_postcode": "L2 2DH",
    "contact_name": "Ann", "contact_role": "Director", "contact_email": "ann@small.example",
    "contact_phone": "0151 123 4567", "organisation_type": "registered_charity", "has_governing_document": True,
    "has_charitable_objectives": True, "charitable_objectives": "To relieve poverty.", "governing_document_upload": {"name": "c.pdf", "size": 10},
    "date_established": "2015-03-01", "income": 1200000, "accounts_year_end": "2021-03-31",
    "accounts_type": "annual_accounts", "accounts_upload": {"name": "a.pdf", "size": 10}, "has_bank_account": True,
    "bank_signatories": 2, "liverpool_beneficiaries_percent": 90, "beneficiaries_evidence": "Postcodes.",
    "safeguarding_policy_up_to_date": True, "safeguarding_policy_reviewed": "2021-10-01",
    "safeguarding_policy_upload": {"name": "s.pdf", "size": 10}, "mobilisation_date": "2022-03-01",
    "priorities_of_interest": ["social_isolation"], "project_outline": "Befriending.", "eoi_declaration_confirmed": True,
}  # fmt: skip


def test_a_workflow_with_roles_asks_which_role(applicant: Callable[..., FlaskClient], clock: Clock) -> None:  # fmt: skip
    clock.set(
        "2024-02-05T10:00"
    )  # the round is open: after its briefing, before the Leads' deadline
    ann = applicant()
    url = "/apply/rounds/bradford_healthy_minds_wave2/start"
    start = text(ann.get(url))
    assert "Which role are you applying for?" in start
    assert "Which lot" not in start  # the expression of interest asks it: asked once
    r = ann.post(url, data={})
    assert r.status_code == 200 and "Select the role you are applying for" in text(r)
    r = ann.post(url, data={"role": "lead"})
    assert r.status_code == 302
    ref = r.headers["Location"].rsplit("/", 1)[-1]
    case = ann.get(f"/apply/cases/{ref}").data.decode()
    assert "/forms/bradford_lead_eoi" in case and "/forms/bradford_partner_eoi" not in case


def test_repeating_groups_are_added_to_and_removed_from(
    app: Flask, applicant: Callable[..., FlaskClient], clock: Clock
) -> None:
    ann = applicant()
    ref = start_application(ann)
    engine = Engine(app.config["DATABASE"], clock=clock)
    me = Actor(
        "applicant", "ann@small.example", engine.case(ref, Actor("commissioner")).organisation
    )
    engine.save_answers(ref, "liverpool_expression_of_interest", EOI_ANSWERS, me)
    engine.act(ref, "submit_eoi", me)
    engine.act(ref, "confirm_eligible", Actor("commissioner", "cora"))
    clock.set("2022-02-07T09:00")
    engine.act(ref, "invite_to_full_proposal", Actor("commissioner", "cora"))
    page = f"/apply/cases/{ref}/forms/{FULL}/pages/budget"
    assert "Start full proposal" in text(ann.get(f"/apply/cases/{ref}"))
    assert ann.post(f"/apply/cases/{ref}/actions/start_proposal", data={"state": "invited"}).status_code == 302  # fmt: skip

    line = {"budget_lines-0-budget_item": "Venue hire", "budget_lines-0-budget_category": "venue",
            "budget_lines-0-budget_amount": "60000"}  # fmt: skip
    r = ann.post(page, data={**line, "_add": "budget_lines"})
    assert r.headers["Location"].endswith("?add=budget_lines#budget_lines")
    html = ann.get(r.headers["Location"]).data.decode()
    assert 'value="Venue hire"' in html and 'name="budget_lines-1-budget_item"' in html
    assert "Add another budget line" in html
    two = {**line, "budget_lines-1-budget_item": "Sessions", "budget_lines-1-budget_category": "activity",
           "budget_lines-1-budget_amount": "40000", "amount_requested": "100000", "_action": "continue"}  # fmt: skip
    r = ann.post(page, data=two)
    assert r.status_code == 302, text(r)
    check = text(ann.get(f"/apply/cases/{ref}/forms/{FULL}/check"))
    assert "Budget line 2" in check and "Sessions" in check and "£40,000" in check
    # an item missing an answer is named in the engine's words
    r = ann.post(page, data={**two, "budget_lines-1-budget_category": ""})
    assert r.status_code == 200 and "budget line 2: Select an answer to 'Type of cost'" in text(r)
    r = ann.post(page, data={**two, "_remove": "budget_lines:0"})
    assert r.status_code == 302
    check = text(ann.get(f"/apply/cases/{ref}/forms/{FULL}/check"))
    assert "Venue hire" not in check and "Sessions" in check
