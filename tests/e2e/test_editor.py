"""In real Chromium: the programme studio's code editor (engine/web/assets/editor.js, bundled by
`make setup`). A commissioner opens a draft of a demo programme, mistypes a transition's state,
and sees the linter's message marked at the word and listed under the editor as they type; the
list's link takes them to the line, they fix it and the message goes; keyboard users can leave
the editor; Save sends what was typed in the editor. axe-core checks the page with a problem shown.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from engine.runtime import Actor, Engine

from ..conftest import ROOT
from .audit import IDS, spoken_names, text_outside
from .conftest import Site, go, open_context, sign_in

COMMISSIONER = "commissioner@example.org"  # demo/seed.yaml: commissions every demo programme
PROGRAMME = "The Life Rooms VCSE Micro-Commissioning Programme"
FILE = "liverpool.yaml (programme)"
TYPO = "dest: eligble"  # a transition to a state the workflow does not have
SERIOUS = ("serious", "critical")


def first_line_with(text: str) -> int:
    """The line number (from 1) of the first line of the demo programme file holding `text`."""
    lines = (ROOT / "programmes" / "liverpool.yaml").read_text("utf-8").splitlines()
    return next(i for i, line in enumerate(lines, 1) if text in line)


@pytest.fixture
def ctx(browser: Any, axe_source: str) -> Iterator[Any]:
    """A fresh profile with axe-core in every page, noting script errors and refused styles."""
    context = open_context(browser)
    context.add_init_script(script=axe_source)
    try:
        yield context
    finally:
        context.close()


def serious_axe_violations(page: Any) -> list[str]:
    """axe-core's serious and critical findings on the page as it is now."""
    found = page.evaluate(
        """async () => (await axe.run(document, {resultTypes: ["violations"]})).violations
            .map(v => ({id: v.id, impact: v.impact,
                        nodes: v.nodes.slice(0, 3).map(n => n.target.join(" "))}))"""
    )
    return [f"{v['impact']}: {v['id']} {v['nodes']}" for v in found if v["impact"] in SERIOUS]


def find_in_editor(page: Any, text: str) -> None:
    """Select the first `text` in the editor with its own search (Ctrl+F), as a person would."""
    page.locator(".cm-content").click()
    page.keyboard.press("Control+f")
    page.keyboard.type(text)
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")  # closes the search; the match stays selected in the editor


def open_editor(site: Site, ctx: Any) -> Any:
    """A new page, signed in as the commissioner, on the programme's draft in the editor."""
    page = ctx.new_page()
    sign_in(page, site, COMMISSIONER)
    page.goto(f"{site.url}/studio/")
    go(page, page.get_by_role("button", name=f"Edit {PROGRAMME}"))
    return page


def test_a_mistake_is_marked_and_listed_as_it_is_typed_and_goes_when_fixed(
    site: Site, ctx: Any
) -> None:
    page = open_editor(site, ctx)

    # the plain text box became a code editor, named by the text box's label
    editor = page.get_by_role("textbox", name="Contents of liverpool.yaml")
    expect(editor).to_have_class(re.compile(r"\bcm-content\b"))
    expect(page.locator("textarea#text")).to_be_hidden()
    expect(page.locator(".cm-lineNumbers")).to_be_visible()
    # CodeMirror's own styles were applied, none refused by the Content-Security-Policy
    unstyled = f"CodeMirror is unstyled: the page's styles refused? {ctx.errors}"
    expect(page.locator(".cm-editor"), unstyled).to_have_css("display", "flex")
    assert not ctx.errors, ctx.errors
    problems = page.locator("[data-lint-list]")
    expect(problems.get_by_role("heading", name="No problems found")).to_be_visible()

    # a transition to a state that does not exist: marked at the word, listed with a suggestion
    line = first_line_with("dest: eligible")
    find_in_editor(page, "dest: eligible")
    page.keyboard.type(TYPO)
    expect(page.locator(".cm-lintRange-error")).to_have_text("eligble")
    expect(problems.get_by_role("heading", name="1 problem")).to_be_visible()
    link = problems.get_by_role("link", name=f"{FILE}, line {line}")
    expect(link).to_be_visible()
    expect(problems.locator("li")).to_contain_text('did you mean "eligible"')
    assert serious_axe_violations(page) == []

    # the list's link puts the cursor on the mistake; the fix is typed there and the message goes
    page.keyboard.press("Control+Home")  # somewhere else first
    link.click()
    expect(editor).to_be_focused()
    page.keyboard.press("Shift+End")
    page.keyboard.type("eligible")
    expect(problems.get_by_role("heading", name="No problems found")).to_be_visible()
    expect(page.locator(".cm-lintRange-error")).to_have_count(0)
    expect(problems.locator("li")).to_have_count(0)

    # Tab indents inside the editor; Escape then Tab leaves it, for the Save button
    page.keyboard.press("Control+End")
    page.keyboard.type("\n# checked in the browser")
    page.keyboard.press("Home")
    page.keyboard.press("Tab")
    expect(editor).to_be_focused()
    expect(page.locator(".cm-activeLine")).to_have_text("  # checked in the browser")
    page.keyboard.press("Escape")
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Save")).to_be_focused()

    # Save sends the editor's text: the page after saving shows it, with no problem
    page.keyboard.press("Enter")
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(f"{FILE} saved")
    expect(page.locator("textarea#text")).to_have_value(
        re.compile(r"\n  # checked in the browser\s*$")
    )
    expect(problems.get_by_role("heading", name="No problems found")).to_be_visible()
    assert not ctx.errors, ctx.errors  # no script error on the way


def test_leaving_with_changes_not_saved_asks_first_and_saving_does_not(
    site: Site, ctx: Any
) -> None:
    page = open_editor(site, ctx)
    editor_page = page.url
    preview = page.get_by_role("navigation", name="This draft").get_by_role(
        "link", name="Preview forms"
    )
    asked: list[str] = []  # the browser's questions, answered as the test says: stay or leave
    answer = {"leave": False}
    page.on(
        "dialog",
        lambda d: (asked.append(d.type), d.accept() if answer["leave"] else d.dismiss()),
    )

    # typed, not saved: following a link asks "Leave site?"; choosing to stay keeps the text
    page.locator(".cm-content").click()
    page.keyboard.press("Control+End")
    page.keyboard.type("\n# typed before following a link")
    with page.expect_event("dialog"):
        preview.click()
    assert asked == ["beforeunload"]
    expect(page).to_have_url(editor_page)
    expect(page.locator(".cm-content")).to_contain_text("# typed before following a link")

    # Save sends the form without asking; after it, leaving asks nothing
    answer["leave"] = True  # were it asked (wrongly), the page would still go on
    go(page, page.get_by_role("button", name="Save"))
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(f"{FILE} saved")
    go(page, preview)
    expect(page.get_by_role("heading", name="Preview forms")).to_be_visible()
    assert asked == ["beforeunload"], "asked again after saving"
    assert not ctx.errors, ctx.errors


def test_around_the_editor_the_page_names_the_programme_not_its_id(site: Site, ctx: Any) -> None:
    # a colleague's draft of the same programme besides this person's own (pressing "Edit" again
    # opens one's own draft): the walk met the id with two drafts open
    colleague = Actor("commissioner", "colleague@example.org")
    Engine(site.app.config["DATABASE"]).open_draft("liverpool_life_rooms_2022", colleague)
    page = open_editor(site, ctx)
    # the file's own words, in the editor: the page around it must not repeat the id
    expect(page.locator(".cm-content")).to_contain_text("id: liverpool_life_rooms_2022")

    # what a person reads, and what a screen reader says besides (the page's title, labels)
    around = "\n".join([text_outside(page, ".cm-editor"), *spoken_names(page, ".cm-editor")])
    assert f"Draft of {PROGRAMME}" in around
    assert f"liverpool.yaml (programme) – draft of {PROGRAMME}" in around  # the page's title
    assert "Contents of liverpool.yaml" in around  # the editor's label, outside the editor
    assert IDS.findall(around) == []

    # both drafts (and any other test's) in the studio's list, by the programme's name
    page.goto(f"{site.url}/studio/")
    assert page.locator("main").get_by_role("link", name=PROGRAMME, exact=True).count() >= 2
    listed = "\n".join([page.locator("body").inner_text(), *spoken_names(page)])
    assert IDS.findall(listed) == []
