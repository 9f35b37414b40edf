"""In real Chromium, issue 18's journey: a commissioner changes this year's round and starts next
year's in the browser, and applicants see the difference.

This year's round: the commissioner adds a required question to the expression of interest,
reads what publishing changes (the open cases it touches), publishes, and moves one open draft
to the new version; that applicant sees the question as "Needs answers", the other draft is
untouched. Next year's round: started from this one, the deadline moved, the budget raised, a
question added; a mistyped state is marked as it is typed and fixed; the new page previewed; the
differences read; published; an applicant sees the new round and starts it, with the new
question; this year's cases are as they were.
"""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from engine import Engine
from engine.runtime import Actor

from ..conftest import ROOT
from .conftest import Clock, Site, add_person, go, sign_in
from .test_editor import find_in_editor
from .test_rolling_fund import heading, nav, sign_out, success

PROGRAMME = "The Life Rooms VCSE Micro-Commissioning Programme"
NEXT = "The Life Rooms 2023"
COMMISSIONER = "cleo@council.example"
MOVED, STAYS, NEWCOMER = "ann@a.example", "bo@b.example", "cy@c.example"
EOI_FILE = "liverpool_expression_of_interest.yaml (form)"
VOLUNTEERS = "How many volunteers help you?"
UNDER_18S = "Do you work with under-18s?"


def type_into_editor(page: Any, after: str, text: str) -> None:
    """Put the cursor at the end of the first line holding `after` and type `text` there (as
    typed: the editor keeps each new line's indent as written, not its own)."""
    find_in_editor(page, after)
    page.keyboard.press("End")
    page.keyboard.insert_text(text)


def replace_in_editor(page: Any, old: str, new: str) -> None:
    """Select the first `old` with the editor's search and type `new` over it."""
    find_in_editor(page, old)
    page.keyboard.type(new)


def problems(page: Any) -> Any:
    """The list of the linter's messages under the editor."""
    return page.locator("[data-lint-list]")


def save(page: Any, file_label: str) -> None:
    go(page, page.get_by_role("button", name="Save", exact=True))
    expect(success(page)).to_contain_text(f"{file_label} saved")
    expect(problems(page).get_by_role("heading", name="No problems found")).to_be_visible()


def open_file(page: Any, label: str) -> None:
    go(page, page.get_by_role("link", name=label, exact=True))
    expect(heading(page)).to_have_text(label)


def a_question_on_project_idea(page: Any, qid: str, kind: str, label: str) -> None:
    """Add a question to the expression of interest's "Your project idea" page."""
    open_file(page, EOI_FILE)
    find_in_editor(page, "- id: declaration")  # the page after "Your project idea"
    page.keyboard.press("ArrowLeft")  # the start of the match: after the line's indent
    page.keyboard.press("Home")  # the start of the line
    page.keyboard.insert_text(f"      - id: {qid}\n        type: {kind}\n        label: {label}\n\n")  # fmt: skip
    save(page, EOI_FILE)


def test_a_commissioner_changes_this_round_and_starts_the_next_in_the_browser(
    context: Any, serve: Any
) -> None:
    clock = Clock("2022-01-20T10:00")
    site: Site = serve(ROOT / "programmes" / "liverpool.yaml", clock)
    add_person(site, COMMISSIONER, "Cleo Byrne", "commissioner")
    engine = Engine(site.app.config["DATABASE"], clock=clock)
    drafts = {}
    for email, org in ((MOVED, "Ash Grove Trust"), (STAYS, "Birch Lane Club"), (NEWCOMER, "Cedar Hall")):  # fmt: skip
        add_person(site, email, email[:2].title(), "applicant", org)
        if email != NEWCOMER:
            org_id = re.sub(r"\W+", "_", org.lower()).strip("_")
            drafts[email] = engine.start_case("liverpool_life_rooms_2022", "application",
                                              Actor("applicant", email, org_id)).reference  # fmt: skip
    page = context.new_page()

    # -- this year's round: a required question added, published, one draft moved ------------
    sign_in(page, site, COMMISSIONER)
    nav(page, "Edit programmes")
    go(page, page.get_by_role("button", name=f"Edit {PROGRAMME}"))
    expect(heading(page)).to_have_text("liverpool.yaml (programme)")
    a_question_on_project_idea(page, "volunteers", "number", VOLUNTEERS)
    go(page, page.get_by_role("link", name="Check and publish"))
    changes = page.locator("main")
    expect(changes).to_contain_text(VOLUNTEERS)
    expect(changes).to_contain_text("Touches 2 open cases")
    go(page, page.get_by_role("button", name="Publish"))
    expect(success(page)).to_contain_text(f"{PROGRAMME} is published")
    expect(page.locator("tbody tr")).to_have_count(2)  # two versions, newest first
    go(page, page.get_by_role("link", name="Move open cases to a newer version"))
    page.get_by_label(re.compile(drafts[MOVED])).check()
    go(page, page.get_by_role("button", name=re.compile("^Continue|^Move")))
    expect(page.get_by_text("This cannot be undone.")).to_be_visible()
    go(page, page.get_by_role("button", name=re.compile("^Yes|^Move")))
    expect(page.locator("main")).to_contain_text(drafts[MOVED])
    sign_out(page)

    sign_in(page, site, MOVED)
    page.goto(f"{site.url}/apply/cases/{drafts[MOVED]}")
    expect(page.locator("main")).to_contain_text("Needs answers")
    expect(page.locator("main")).to_contain_text(f"This form has changed. Answer: {VOLUNTEERS}")
    sign_out(page)
    sign_in(page, site, STAYS)
    page.goto(f"{site.url}/apply/cases/{drafts[STAYS]}")
    expect(page.locator("main")).not_to_contain_text("Needs answers")
    sign_out(page)

    # -- next year's round, started from this one ----------------------------------------------
    sign_in(page, site, COMMISSIONER)
    nav(page, "Edit programmes")
    go(page, page.get_by_role("link", name=f"Start the next round of {PROGRAMME}"))
    page.get_by_label("Short name for the new round").fill("life_rooms_2023")
    go(page, page.get_by_role("button", name="Start the next round"))
    expect(heading(page)).to_have_text("life_rooms_2023.yaml (programme)")
    expect(problems(page).get_by_role("heading", name="No problems found")).to_be_visible()
    # the deadline a week later, the budget raised, its own name
    replace_in_editor(page, "2023-01-31T17:00", "2023-02-07T17:00")
    type_into_editor(page, "id: life_rooms_2023",
                     f"\nname: {NEXT}\nfunding:\n  total: 800000")  # fmt: skip
    # a mistyped state is marked as it is typed, with what was meant; then put right
    type_into_editor(page, "total: 800000",
                     "\nworkflows:\n  application:\n    movable_states: [eoi_drat]")  # fmt: skip
    expect(problems(page).get_by_role("heading", name="1 problem")).to_be_visible()
    expect(problems(page)).to_contain_text('did you mean "eoi_draft"')
    expect(page.locator(".cm-lintRange-error")).to_have_text("eoi_drat")
    replace_in_editor(page, "eoi_drat", "eoi_draft")
    expect(problems(page).get_by_role("heading", name="No problems found")).to_be_visible()
    save(page, "life_rooms_2023.yaml (programme)")
    a_question_on_project_idea(page, "under_18s", "yesno", UNDER_18S)

    # the new page as applicants will see it
    go(page, page.get_by_role("link", name="Preview forms"))
    go(page, page.get_by_role("link", name="Expression of interest"))
    go(page, page.get_by_role("link", name="Your project idea"))
    expect(page.get_by_text(UNDER_18S)).to_be_visible()

    # what differs from this year's round, in words; then publish
    page.goto(page.url.split("/forms")[0] + "/publish")
    said = page.locator("main")
    expect(said).to_contain_text(f"How it differs from {PROGRAMME}")
    expect(said).to_contain_text(UNDER_18S)
    expect(said).to_contain_text("7 February 2023")
    expect(said).to_contain_text("£800,000")
    go(page, page.get_by_role("button", name="Publish"))
    expect(success(page)).to_contain_text(f"{NEXT} is published")
    sign_out(page)

    # -- an applicant sees next year's round and starts it --------------------------------------
    sign_in(page, site, NEWCOMER)
    nav(page, "Funding rounds")
    go(page, page.get_by_role("link", name=NEXT))
    expect(page.locator("main")).to_contain_text("5pm on Tuesday 7 February 2023")
    go(page, page.get_by_role("button", name="Start an application"))
    go(page, page.get_by_role("button", name="Start", exact=True))
    go(page, page.get_by_role("link", name="Expression of interest"))
    go(page, page.locator("main").get_by_role("link", name="Your project idea", exact=True))
    expect(page.get_by_text(UNDER_18S)).to_be_visible()
    expect(page.get_by_text(VOLUNTEERS)).to_be_visible()  # built on this year's newest version
    sign_out(page)

    # this year's open cases are untouched by next year's round
    for email in (MOVED, STAYS):
        sign_in(page, site, email)
        page.goto(f"{site.url}/apply/cases/{drafts[email]}")
        expect(page.locator("main")).not_to_contain_text(UNDER_18S)
        sign_out(page)
    assert engine.store.case_by_reference(drafts[STAYS])["version"] != engine.programme(
        "liverpool_life_rooms_2022").version  # fmt: skip
