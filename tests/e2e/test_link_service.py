"""In real Chromium: the documentation's link worker service (docs/example/programmes/
link_service.yaml), as a link worker (a caseworker) uses it. The person and the clock are set up in
Python; everything the link worker does is done in the page: start a referral, fill in the
referral form, see the case with its time limits counted in working days across a weekend and a
bank holiday, record an attempt to contact the person (the promise kept), take them on, record six
sessions, be told in words that a seventh cannot be added, and put support on hold (the review's
clock stops, then resumes with the time left). axe-core checks the key pages."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from ..conftest import EXAMPLE
from .conftest import Clock, Site, add_person, go, sign_in
from .test_accessibility import Audit
from .test_rolling_fund import heading, nav, save_and_continue, success

LINK_WORKER = "lee@trust.example"
FIRST_CONTACT = "First attempt to contact the person within 2 working days of referral"
DECISION = "Decision whether to take the person on within 5 working days of referral"
REVIEW = (
    "The 12-week review recorded within 13 weeks of support starting, not counting time on hold"
)
SEVENTH = (
    "This case already has 6 of “Session”, the most it may have. "
    "Change one of them instead of adding another."
)


def fill_date(page: Any, question: str, day: int, month: int, year: int) -> None:
    """Type a date into the day, month and year boxes of a date question."""
    group = page.get_by_role("group", name=question)
    group.get_by_label("Day").fill(str(day))
    group.get_by_label("Month").fill(str(month))
    group.get_by_label("Year").fill(str(year))


def choose(page: Any, question: str, option: str) -> None:
    """Select one radio of a question."""
    page.get_by_role("group", name=question).get_by_label(option, exact=True).check()


def promise(page: Any, title: str) -> Any:
    """The row of the case's "Time limits" list for one promise."""
    return page.locator(".govuk-summary-list__row", has_text=title)


def record_session(page: Any, day: int, month: int, how: str) -> None:
    """From the case page, record one session through its form and check page."""
    go(page, page.get_by_role("button", name="Record a new session"))
    expect(heading(page)).to_have_text("Session")
    fill_date(page, "On what date was the session?", day, month, 2024)
    choose(page, "How was the session held?", how)
    save_and_continue(page)
    expect(heading(page)).to_have_text("Check your answers")
    go(page, page.get_by_role("button", name="Record session"))


def test_a_link_worker_takes_a_referral_from_first_contact_to_six_sessions(
    context: Any, axe_source: str, serve: Any
) -> None:
    clock = Clock("2024-05-24T09:00")  # 10am BST on Friday 24 May 2024, before a bank holiday
    site: Site = serve(EXAMPLE / "programmes" / "link_service.yaml", clock)
    context.add_init_script(script=axe_source)  # axe-core in every page, for the checks
    page = context.new_page()
    audit = Audit(site)
    add_person(site, LINK_WORKER, "Lee Link", "caseworker", "Example Community Trust")

    # 1. the link worker starts a referral and fills in the referral form
    sign_in(page, site, LINK_WORKER)
    nav(page, "Your cases")
    expect(heading(page)).to_have_text("Your cases")
    expect(page.get_by_text("Your organisation has no cases yet.")).to_be_visible()
    audit.check(page, "caseworker (no cases)")
    go(page, page.get_by_role("button", name="Start a referral"))
    expect(heading(page)).to_have_text("Referral")
    reference = re.search(r"LWS-\d{6}", page.locator(".govuk-caption-l").inner_text()).group(0)
    expect(page.get_by_text("You have completed 0 of 2 sections")).to_be_visible()
    audit.check(page, "caseworker (referral task list)")

    go(page, page.locator("main").get_by_role("link", name="The referral", exact=True))
    expect(heading(page)).to_have_text("The referral")
    fill_date(page, "On what date was the person referred?", 24, 5, 2024)
    page.get_by_label("Your own reference for this person").fill("TRUST-0042")
    choose(page, "Who referred the person?", "GP practice")
    page.get_by_label("What would the person like help with?").fill(
        "Lives alone since his wife died last year and rarely goes out."
    )
    audit.check(page, "caseworker (referral question page)")
    save_and_continue(page)

    expect(heading(page)).to_have_text("About the person")
    fill_date(page, "What is the person's date of birth?", 11, 2, 1951)
    page.get_by_label("What is the person's postcode?").fill("ls6 2ab")
    choose(page, "Has the person agreed to be referred?", "Yes")
    save_and_continue(page)

    expect(heading(page)).to_have_text("Check your answers")
    for question, shown in (
        ("On what date was the person referred?", "24 May 2024"),
        ("Who referred the person?", "GP practice"),
        ("What is the person's date of birth?", "11 February 1951"),
        ("What is the person's postcode?", "LS6"),  # only the district is kept
    ):
        row = page.locator(".govuk-summary-list__row", has_text=question)
        expect(row.locator(".govuk-summary-list__value")).to_have_text(shown)
    # nobody has spoken to him yet, so he cannot be taken on: the page says why, in words
    expect(page.locator("main")).to_contain_text(
        "Take on the referral is not available yet. Record a contact in which you spoke to the "
        "person first: the decision to take them on is made with them."
    )
    audit.check(page, "caseworker (referral check answers)")

    # 2. the case: time limits in working days, past the weekend and the spring bank holiday
    nav(page, "Your cases")
    case_link = page.locator("main").get_by_role("link", name=reference)
    expect(page.locator("main")).to_contain_text("TRUST-0042")  # the link worker's own reference
    audit.check(page, "caseworker (cases)")
    go(page, case_link)
    expect(heading(page)).to_have_text(f"Referral {reference}")
    expect(page.locator("main")).to_contain_text("Status: Referred")
    expect(promise(page, FIRST_CONTACT)).to_contain_text("Due")
    expect(page.locator("main")).to_contain_text(
        # from the referral date: the end of the second working day after it (Monday is a holiday)
        "Must be met by the end of Wednesday 29 May 2024."
    )
    expect(page.locator("main")).to_contain_text("Must be met by 10am on Monday 3 June 2024.")
    audit.check(page, "caseworker (new referral)")

    # 3. that afternoon he is phoned and answers: the first-contact promise is kept
    clock.set("2024-05-24T13:00")
    go(page, page.get_by_role("button", name="Record a new contact attempt"))
    expect(heading(page)).to_have_text("Contact attempt")
    fill_date(page, "On what date did you try to contact the person?", 24, 5, 2024)
    choose(page, "How did you try to contact them?", "Phone call")
    choose(page, "Did you speak to the person?", "Yes")
    audit.check(page, "caseworker (contact attempt)")
    save_and_continue(page)
    expect(heading(page)).to_have_text("Check your answers")
    go(page, page.get_by_role("button", name="Record contact attempt"))
    expect(success(page)).to_contain_text("Contact attempt 1 recorded")
    expect(promise(page, FIRST_CONTACT)).to_contain_text("Kept")
    expect(promise(page, FIRST_CONTACT)).to_contain_text("Met in time.")
    expect(promise(page, DECISION)).to_contain_text("Due")

    # 4. he is taken on
    go(page, page.get_by_role("button", name="Take on the referral", exact=True))
    expect(success(page)).to_contain_text(f"The status of {reference} is now: Receiving support.")
    expect(promise(page, DECISION)).to_contain_text("Kept")
    expect(page.locator("main li", has_text="Referral taken on")).to_have_count(1)
    audit.check(page, "caseworker (receiving support)")

    # 5. six weekly sessions, then a seventh is refused in words
    for n, (day, month, how) in enumerate(
        [(3, 6, "In person"), (10, 6, "By phone"), (17, 6, "Going with the person to an activity or service"),
         (24, 6, "In person"), (1, 7, "By video call"), (8, 7, "In person")], 1
    ):  # fmt: skip
        clock.set(f"2024-{month:02}-{day:02}T15:00")
        record_session(page, day, month, how)
        expect(success(page)).to_contain_text(f"Session {n} recorded")
    sessions = page.locator("main li", has_text=re.compile(r"^Session \d, "))
    expect(sessions).to_have_count(6)
    expect(sessions.first).to_have_text("Session 6, Monday 8 July 2024")

    # the case page offers no seventh, and says why
    expect(page.get_by_role("button", name="Record a new session")).to_have_count(0)
    expect(page.locator("main")).to_contain_text(
        "This case has 6 session records, the most it may have. To correct one, open it from the list."
    )
    # one begun from an older tab is refused in words when it is saved
    clock.set("2024-07-15T15:00")
    page.goto(f"{site.url}/casework/cases/{reference}/forms/link_session")
    fill_date(page, "On what date was the session?", 15, 7, 2024)
    choose(page, "How was the session held?", "In person")
    save_and_continue(page)
    expect(page.locator(".govuk-error-summary")).to_contain_text(SEVENTH)
    audit.check(page, "caseworker (seventh session refused)")
    go(page, page.get_by_role("link", name=f"Back to {reference}").first)
    expect(page.locator("main li", has_text=re.compile(r"^Session \d, "))).to_have_count(6)

    # 6. he goes into hospital: support is put on hold, and the review's clock stops
    expect(promise(page, REVIEW)).to_contain_text("Must be met by 2pm on Friday 23 August 2024.")
    page.get_by_label("Why? (put support on hold)").fill("In hospital after a fall.")
    go(page, page.get_by_role("button", name="Put support on hold"))
    expect(page.locator("main")).to_contain_text("Status: On hold")
    expect(promise(page, REVIEW)).to_contain_text("Paused")
    expect(promise(page, REVIEW)).to_contain_text(
        "The clock is stopped while the case is on hold, and starts again with the time that was "
        "left when it moves on."
    )
    audit.check(page, "caseworker (on hold)")
    # two weeks later support restarts, and the limit moves two weeks on
    clock.set("2024-07-29T15:00")
    go(page, page.get_by_role("button", name="Restart support"))
    expect(promise(page, REVIEW)).to_contain_text("Must be met by 2pm on Friday 6 September 2024.")

    assert not audit.problems, audit.report()
    # no page had a JavaScript error or a console error (a script the CSP refused, say)
    assert not context.errors, context.errors
