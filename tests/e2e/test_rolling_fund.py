"""In real Chromium: the documentation's rolling fund (docs/example/programmes/rolling_fund.yaml),
from before it opens to the first instalment of a grant. The people and the clock are set up in
Python; everything a person does is done in the page: an applicant applies, two assessors score
the application, a commissioner funds it and pays the first part, and the applicant sees the
award and how it is paid. axe-core checks the key pages on the way."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from ..conftest import EXAMPLE
from .conftest import Clock, Site, add_person, go, sign_in
from .test_accessibility import Audit

FUND = "Neighbourhood Rolling Fund"
APPLICANT = "pat@larkhill.example"
GROUP = "Larkhill Lunch Club"
ASSESSORS = {  # email -> (need, delivery, value), recommendation
    "asha@council.example": ((4, 4, 3), "Recommend"),
    "ben@council.example": ((4, 3, 4), "Recommend with conditions"),
}
COMMISSIONER = "cleo@council.example"
CRITERIA = ("Evidence of local need", "Ability to deliver", "Value for money")
FIRST_PART = "Leave blank to pay instalment 1, “On signing the grant agreement”: £4,666 (60% of the award)"  # fmt: skip


def card(page: Any, reference: str) -> Any:
    """The case's card in a list of cases (each case is a summary card headed by its reference)."""
    return page.locator(".govuk-summary-card").filter(
        has=page.get_by_role("heading", name=reference, exact=True)
    )


def heading(page: Any) -> Any:
    """The page's main heading (a locator: expectations on it wait for the page)."""
    return page.locator("h1").first


def save_and_continue(page: Any) -> None:
    go(page, page.get_by_role("button", name="Save and continue"))


def sign_out(page: Any) -> None:
    go(page, page.get_by_role("button", name="Sign out"))
    expect(page.get_by_text("Signed in as")).to_have_count(0)


def nav(page: Any, name: str) -> None:
    """Follow a link of the service navigation in the header."""
    go(page, page.get_by_role("link", name=name, exact=True).first)


def success(page: Any) -> Any:
    """The success banner a flashed message shows."""
    return page.locator(".govuk-notification-banner--success")


def confirm(page: Any, action: str, audit: Audit | None = None, label: str = "") -> None:
    """Answer "Are you sure…?" yes: the action cannot be undone, so the service asks first."""
    expect(heading(page)).to_have_text(f"Are you sure you want to {action}?")
    expect(page.get_by_text("This cannot be undone.")).to_be_visible()
    if audit is not None:
        audit.check(page, label)
    go(page, page.get_by_role("button", name=f"Yes, {action}"))


def test_a_rolling_fund_from_opening_soon_to_the_first_instalment(
    context: Any, axe_source: str, serve: Any
) -> None:
    clock = Clock("2025-03-31T10:00")
    site: Site = serve(EXAMPLE / "programmes" / "rolling_fund.yaml", clock)
    context.add_init_script(script=axe_source)  # axe-core in every page, for the checks
    page = context.new_page()
    audit = Audit(site)

    # 1. before the fund opens: "Opening soon", when it opens, and no way to start
    page.goto(site.url + "/apply/")
    expect(heading(page)).to_have_text("Funding rounds")
    round_block = page.locator("main > div", has=page.get_by_role("link", name=FUND))
    expect(round_block.locator(".govuk-tag")).to_have_text("Opening soon")
    audit.check(page, "public (rounds, opening soon)")
    go(page, page.get_by_role("link", name=FUND))
    expect(heading(page)).to_have_text(FUND)
    expect(page.locator("main")).to_contain_text(
        "This round is not open yet. You can start an application from 9am on Tuesday 1 April 2025."
    )
    expect(page.get_by_role("button", name="Start an application")).to_have_count(0)
    expect(page.get_by_role("link", name="Start an application")).to_have_count(0)
    audit.check(page, "public (round, opening soon)")

    # 2. the fund is open: an applicant applies
    clock.set("2025-05-06T10:00")
    add_person(site, APPLICANT, "Pat Okafor", "applicant", GROUP)
    sign_in(page, site, APPLICANT)
    nav(page, "Funding rounds")
    expect(round_block.locator(".govuk-tag")).to_have_text("Open")
    go(page, page.get_by_role("link", name=FUND))
    go(page, page.get_by_role("button", name="Start an application"))
    expect(heading(page)).to_have_text("Start an application")
    go(page, page.get_by_role("button", name="Start", exact=True))
    expect(heading(page)).to_have_text(re.compile(r"^Application NRF-\d+$"))
    reference = re.search(r"NRF-\d+", heading(page).inner_text()).group(0)
    go(page, page.locator("main").get_by_role("link", name="Application", exact=True))
    expect(heading(page)).to_have_text("Application")
    expect(page.get_by_text("You have completed 0 of 2 sections")).to_be_visible()
    audit.check(page, "applicant (task list)")

    go(page, page.locator("main").get_by_role("link", name="Your group", exact=True))
    expect(heading(page)).to_have_text("Your group")
    page.get_by_label("What is your group's name?").fill(GROUP)
    page.get_by_label("What was your group's income in its last financial year?").fill("48,500")
    borough = page.get_by_role("group", name="Does your group work in the borough?")
    borough.get_by_label("Yes", exact=True).check()
    audit.check(page, "applicant (question page)")
    save_and_continue(page)

    expect(heading(page)).to_have_text("Your project")
    page.get_by_label("Describe your project").fill(
        "A weekly lunch club with a lift there and back for older people living alone."
    )
    page.get_by_label("How much are you asking for?").fill("7777")
    save_and_continue(page)

    expect(heading(page)).to_have_text("Check your answers")
    answers = page.locator("main")
    for seen in (GROUP, "£48,500", "£7,777", "A weekly lunch club"):
        expect(answers).to_contain_text(seen)
    borough_row = page.locator(".govuk-summary-list__row", has_text="work in the borough")
    expect(borough_row.locator(".govuk-summary-list__value")).to_have_text("Yes")
    audit.check(page, "applicant (check answers)")
    go(page, page.get_by_role("button", name="Submit application"))
    expect(heading(page)).to_have_text("Application submitted")
    expect(page.locator(".govuk-panel")).to_contain_text("Your reference number")
    expect(page.locator(".govuk-panel strong")).to_have_text(reference)
    audit.check(page, "applicant (confirmation)")
    sign_out(page)

    # 3. two assessors score it; the second completes the panel's assessment
    clock.set("2025-05-12T09:30")
    for email in ASSESSORS:
        add_person(site, email, email.split("@")[0].title() + " Assessor", "assessor")
    for n, (email, (scores, recommendation)) in enumerate(ASSESSORS.items()):
        sign_in(page, site, email)
        nav(page, "Applications to assess")
        expect(heading(page)).to_have_text("Applications to assess")
        row = card(page, reference)
        expect(row).to_contain_text(GROUP)
        expect(row).to_contain_text("To do")
        go(page, row.get_by_role("link", name=reference))
        expect(heading(page)).to_have_text(f"Assess {reference}: {GROUP}")
        expect(page.locator("main")).to_contain_text("£7,777")  # the application beside the sheet
        for criterion, score in zip(CRITERIA, scores, strict=True):
            sheet = page.get_by_role("group", name=re.compile(criterion))
            sheet.get_by_label(str(score), exact=True).check()
        page.get_by_role("group", name="Your recommendation").get_by_label(
            recommendation, exact=True
        ).check()
        page.get_by_label("Overall comments (optional)").fill("Clear need, and a modest budget.")
        if n == 0:
            audit.check(page, "assessor (score sheet)")
        go(page, page.get_by_role("button", name="Save your assessment"))
        expect(success(page)).to_contain_text(f"Your assessment of {reference} is saved.")
        expect(page.get_by_text("You have scored this")).to_be_visible()
        if n == 0:
            sign_out(page)
    # the second assessor completes it (the two sheets `minimum_assessments` asks for are needed
    # by the decision to fund, not by this step)
    go(page, page.get_by_role("button", name="Complete the panel's assessment"))
    confirm(page, "complete the panel's assessment", audit, "assessor (confirm)")
    expect(success(page)).to_contain_text(
        f"Complete the panel's assessment: done. The status of {reference} is now: Assessed by the panel."
    )
    expect(page.get_by_text("No application is waiting for you to assess it.")).to_be_visible()
    sign_out(page)

    # 4. a commissioner funds it, records the agreement signed, and pays the first part
    clock.set("2025-05-20T14:00")
    add_person(site, COMMISSIONER, "Cleo Commissioner", "commissioner")
    sign_in(page, site, COMMISSIONER)
    nav(page, "Programmes")
    go(page, page.get_by_role("link", name=FUND))
    go(page, page.locator("main nav").get_by_role("link", name="Cases", exact=True))
    go(page, card(page, reference).get_by_role("link", name=reference))
    expect(heading(page)).to_have_text(f"Application {reference}")
    scores = page.get_by_role("table", name="Scores by assessor")
    weighted = scores.get_by_role("row", name=re.compile("^Weighted score")).get_by_role("cell")
    expect(weighted).to_have_text(["70.0%", "67.5%", "68.8%"])  # each assessor's, and the mean
    fund = page.locator("form", has=page.get_by_role("button", name="Fund the project"))
    expect(fund.get_by_label("Amount (optional)")).to_have_accessible_description(
        "Leave blank to use the answer to “How much are you asking for?”"
    )
    audit.check(page, "commissioner (application)")
    go(page, fund.get_by_role("button", name="Fund the project"))  # the amount left blank
    confirm(page, "fund the project", audit, "commissioner (confirm)")
    expect(success(page)).to_contain_text(
        f"Fund the project: done. The status of {reference} is now: Funded. A grant has been made."
    )
    history = page.get_by_role("table", name=re.compile("Everything that happened"))
    expect(history).to_contain_text("Award £7,777")

    # the grant the award started, linked from the application (and the application from it)
    related = page.locator("#related + ul li")
    expect(related).to_have_count(1)
    expect(related).to_contain_text(
        re.compile(r"Led to the grant\s+\S+\s+\(waiting for the grant agreement\)")
    )
    grant = related.get_by_role("link").inner_text().strip()
    go(page, related.get_by_role("link", name=grant))
    expect(heading(page)).to_have_text(f"Grant {grant}")
    expect(page.locator("#related + ul")).to_contain_text(
        f"Started from the application {reference}"
    )
    expect(page.locator("main")).to_contain_text(GROUP)
    go(page, page.get_by_role("button", name="Record the grant agreement signed"))
    expect(success(page)).to_contain_text(f"The status of {grant} is now: Grant agreement signed.")
    pay = page.locator(
        "form", has=page.get_by_role("button", name="Pay the first part of the grant")
    )
    amount = pay.get_by_label("Amount (optional)")
    expect(amount).to_have_accessible_description(FIRST_PART)
    expect(pay.locator(".govuk-hint")).to_have_text(FIRST_PART)
    expect(amount).to_have_value("")
    audit.check(page, "commissioner (grant)")
    go(page, pay.get_by_role("button", name="Pay the first part of the grant"))
    confirm(page, "pay the first part of the grant")
    expect(success(page)).to_contain_text(f"The status of {grant} is now: Project running.")
    history = page.get_by_role("table", name=re.compile("Everything that happened"))
    expect(history).to_contain_text("Payment £4,666")
    sign_out(page)

    # 5. the applicant sees the award, and how it is paid
    clock.set("2025-05-21T09:00")
    sign_in(page, site, APPLICANT)
    nav(page, "Your applications")
    expect(card(page, reference)).to_contain_text("Funded")
    row = card(page, grant)
    expect(row).to_contain_text("Project running")
    go(page, row.get_by_role("link", name=grant))
    expect(heading(page)).to_have_text(f"Grant {grant}")
    expect(page.get_by_role("heading", name="Your award")).to_be_visible()
    award = page.locator("main .govuk-summary-list").first
    for key, value in (("Awarded", "£7,777"), ("Paid so far", "£4,666"),
                       ("Still to be paid", "£3,111")):  # fmt: skip
        fact = award.locator(".govuk-summary-list__row", has_text=key)
        expect(fact.locator(".govuk-summary-list__value")).to_have_text(value)
    paid = page.get_by_role("table", name="How your award is paid")
    rows = paid.locator("tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0).locator("td")).to_have_text(
        ["On signing the grant agreement", "£4,666", "3pm on Tuesday 20 May 2025"]
    )
    expect(rows.nth(1).locator("td")).to_have_text(
        ["After the mid-point report is accepted", "£3,111", "Not yet"]
    )
    audit.check(page, "applicant (grant)")

    assert not audit.problems, audit.report()
    # no page had a JavaScript error or a console error (a script the CSP refused, say)
    assert not context.errors, context.errors
