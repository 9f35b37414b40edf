"""The accessibility walk's part for the programme studio, a programme's dates and moving cases.

A demo commissioner, following links as they would: edits a demo programme in a draft (the code
editor loaded), raises a lot's budget, previews the draft's forms, workflows and timeline, reads
what publishing changes; saves a mistake and sees the problems page and the refusal to publish;
throws the draft away after the question; asks for the next round with no name. Then the
programme's dates and the page pinning one (sent empty too); and, once a newer version is
published (in Python: see `publish_newer`), moving the demo applicant's draft application to it:
the list (sent with nothing ticked), "Are you sure…?" and what happened. It runs after every
other walk, as it changes the programme and moves a case.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from .audit import Audit, submit_empty
from .conftest import Site, go, sign_in

COMMISSIONER = "commissioner@example.org"  # demo/seed.yaml: commissions every demo programme
# a demo programme no other browser test edits, with dates known only by their month or week,
# and the demo applicant's expression of interest just started (a draft: it may move)
PROGRAMME = "Healthy Minds Peripatetic Mental Health Support Service in Community — Wave 2"
FILE = "bradford.yaml (programme)"
PID = "bradford_healthy_minds_wave2"
MAIN_FILE = "programmes/bradford.yaml"
BUDGET = "budget: 275000"  # the first lot's, in programmes/bradford.yaml
RAISED = "budget: 280000"
MISTAKE = "budget: lots"  # the linter: "budget" should be a whole number, not text


def tour_studio(page: Any, audit: Audit) -> None:
    """The commissioner's studio, dates and moving pages, each reached by a link or a button."""
    site = audit.site
    label = "commissioner (studio)"
    sign_in(page, site, COMMISSIONER)
    main = page.locator("main")

    # a draft, in the code editor; the budget raised and saved
    go(page, page.get_by_role("link", name="Edit programmes"))
    audit.check(page, label)
    go(page, page.get_by_role("button", name=f"Edit {PROGRAMME}"))
    audit.check(page, label + " (editor)")
    _replace(page, BUDGET, RAISED)
    go(page, main.get_by_role("button", name="Save", exact=True))
    assert f"{FILE} saved" in page.locator(".govuk-notification-banner").inner_text()
    audit.check(page, label + " (saved)")
    draft = page.url.split("?")[0]

    # the draft previewed: its forms, a page of one, its workflows, one of them, its timeline
    go(page, _nav(page).get_by_role("link", name="Preview forms"))
    audit.check(page, label + " (preview)")
    go(page, main.locator("table a").first)  # a form's first page, as applicants will see it
    audit.check(page, label + " (preview)")
    go(page, main.get_by_role("link", name="Next page"))
    audit.check(page, label + " (preview)")
    go(page, page.locator(".govuk-back-link"))  # the draft's forms
    go(page, _nav(page).get_by_role("link", name="Workflows"))
    audit.check(page, label + " (preview)")
    go(page, main.locator(".govuk-list--spaced a").first)
    audit.check(page, label + " (preview)")
    go(page, page.locator(".govuk-back-link"))  # the draft's workflows
    go(page, _nav(page).get_by_role("link", name="Timeline and reminders"))
    audit.check(page, label + " (preview)")

    # what publishing changes: the budget, in words
    go(page, _nav(page).get_by_role("link", name="Check and publish"))
    assert "What publishing changes" in main.inner_text()
    audit.check(page, label + " (changes)")

    # a mistake saved: the editor lists it, the previews list it, and nothing can be published
    page.goto(draft)
    _replace(page, RAISED, MISTAKE)
    go(page, main.get_by_role("button", name="Save", exact=True))
    audit.check(page, label + " (a problem)")
    go(page, _nav(page).get_by_role("link", name="Preview forms"))
    assert "cannot be previewed" in page.locator("h1").inner_text()
    audit.check(page, label + " (a problem)")
    go(page, main.get_by_role("link", name="Go back to the editor"))
    go(page, _nav(page).get_by_role("link", name="Check and publish"))
    assert "cannot be published yet" in page.locator("h1").inner_text()
    audit.check(page, label + " (a problem)")

    # the draft thrown away, after the question; the next round asked for with no name
    go(page, page.locator(".govuk-back-link"))  # the editor
    go(page, _nav(page).get_by_role("link", name="Discard draft"))
    audit.check(page, label + " (discard?)")
    go(page, main.get_by_role("button", name="Discard draft"))
    assert "discarded" in page.locator(".govuk-notification-banner").inner_text()
    audit.check(page, label + " (discarded)")
    go(page, main.get_by_role("link", name=f"Start the next round of {PROGRAMME}"))
    audit.check(page, label + " (next round)")
    submit_empty(page, audit, label, "studio.next_round", "Start the next round")

    # the programme's dates, and pinning one (sent empty first)
    page.goto(f"{site.url}/commission/")
    go(page, main.get_by_role("link", name=PROGRAMME))  # its dashboard
    go(page, main.get_by_role("link", name="Dates", exact=True))
    audit.check(page, label + " (dates)")
    go(page, main.get_by_role("link", name=re.compile(r"^(Pin|Change) the date of ")).first)
    audit.check(page, label + " (pin a date)")
    submit_empty(page, audit, label, "commission.pin_date", "Pin the date")
    go(page, page.locator(".govuk-back-link"))  # the dates

    # moving the applicant's draft to a newer version: sent with nothing ticked, then ticked
    publish_newer(site, PID, RAISED)
    go(page, main.get_by_role("link", name="Versions", exact=True))
    audit.check(page, label + " (versions)")
    versions = page.url
    go(page, main.get_by_role("link", name="Move open cases to a newer version"))
    audit.check(page, label + " (moving cases)")
    submit_empty(page, audit, label, "commission.move", "Continue")
    page.goto(versions)
    go(page, main.get_by_role("link", name="Move open cases to a newer version"))
    main.locator("input[name=cases]").first.check()
    go(page, main.get_by_role("button", name="Continue"))
    assert "Are you sure you want to move 1 case" in page.locator("h1").inner_text()
    audit.check(page, label + " (move?)")
    go(page, main.get_by_role("button", name=re.compile(r"^Yes, move ")))
    assert "1 moved, 0 not moved" in page.locator("h1").inner_text()
    audit.check(page, label + " (moved)")
    go(page, page.get_by_role("button", name="Sign out"))


def publish_newer(site: Site, pid: str, budget: str) -> None:
    """A newer version of the programme, its first lot's budget changed, published from the files
    of its newest version as `commission publish` would, an hour after that one: the demo
    publishes its programmes at the real time and the site runs at 2022, so a version published
    through the studio would count as the oldest, and no case could move to it."""
    from engine.runtime import Engine

    store = Engine(site.app.config["DATABASE"]).store
    newest = store.versions(pid)[-1]
    files = store.version_files(pid, newest["version"])
    assert files is not None, f"the files of {pid}'s newest version were not kept"
    folder = site.folder / "newer"
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text.replace(BUDGET, budget, 1) if name == MAIN_FILE else text, "utf-8")  # fmt: skip
    later = datetime.fromisoformat(newest["published_at"]) + timedelta(hours=1)
    _programme, new = Engine(site.app.config["DATABASE"], clock=lambda: later).publish(folder / MAIN_FILE)  # fmt: skip
    assert new, f"{MAIN_FILE} with {budget} is no new version"


def _nav(page: Any) -> Any:
    """The draft's own links (edit, preview, publish, discard)."""
    return page.get_by_role("navigation", name="This draft")


def _replace(page: Any, old: str, new: str) -> None:
    """Find `old` in the code editor with its own search (Ctrl+F) and type `new` over it."""
    page.locator(".cm-content").click()
    page.keyboard.press("Control+f")
    page.keyboard.type(old)
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")  # closes the search; the match stays selected
    page.keyboard.type(new)
