"""The accessibility walk's part for commissioners' pages no link in the walk reaches in time.

A demo commissioner, following links and buttons as they would: a published form previewed as
applicants see it; one monitoring meeting's pack; then one action taken on many cases from the
filtered list of cases, its "Are you sure…?" page and the page saying what happened to each case.
The action changes a demo contract (one no other browser test reads), so this part runs last.
"""

from __future__ import annotations

import re
from typing import Any

from .audit import Audit
from .conftest import go, sign_in

COMMISSIONER = "commissioner@example.org"  # demo/seed.yaml: commissions every demo programme
# the demo programme with a meeting held (its record entered) and forms to preview
MEETINGS = "The Life Rooms VCSE Micro-Commissioning Programme"
# the demo programme whose one contract in delivery may have its service review started
BULK = "Mental Health Resilience and Recovery Hubs"
KIND, STATE, ACTION = "Hub contract", "In delivery", "Start the 2018 service review"


def _open(page: Any, site: Any, programme: str, link: str) -> None:
    """From the commissioner's home, a programme's dashboard, then one of its own pages."""
    page.goto(f"{site.url}/commission/")
    go(page, page.locator("main").get_by_role("link", name=programme))
    go(page, _nav(page, programme).get_by_role("link", name=link))


def tour_commission(page: Any, audit: Audit) -> None:
    """A form preview, a meeting's pack, and a bulk action's confirm and results pages."""
    site = audit.site
    label = "commissioner (programme pages)"
    sign_in(page, site, COMMISSIONER)
    main = page.locator("main")

    # a published form, as applicants will see its first page
    _open(page, site, MEETINGS, "Preview forms")
    go(page, main.locator("table a").first)
    assert site.endpoint(page.url) == "commission.preview", page.url
    audit.check(page, label + " (form preview)")

    # one monitoring meeting's pack
    _open(page, site, MEETINGS, "Meetings")
    # its first occasion (the programme's own links are a list too: not those)
    go(page, main.locator("ul.govuk-list:not(.app-inline-list) a").first)
    assert site.endpoint(page.url) == "commission.meeting", page.url
    audit.check(page, label + " (meeting)")

    # one action on every case of the filtered list: asked first, then what happened to each
    _open(page, site, BULK, "Cases")
    page.get_by_label("Kind of case").select_option(label=KIND)
    page.get_by_label("State").select_option(label=STATE)
    go(page, main.get_by_role("button", name=re.compile("^Show ")))
    page.get_by_label(re.compile(r"^Select all \d+ matching case")).check()
    actions = page.get_by_role("group", name="What do you want to do?")
    actions.get_by_label(ACTION, exact=True).check()
    go(page, main.get_by_role("button", name="Continue"))
    assert "Are you sure you want to start the 2018 service review for 1 case?" in page.locator("h1").inner_text()  # fmt: skip
    audit.check(page, label + " (bulk confirm)")
    go(page, main.get_by_role("button", name=re.compile(r"^Yes, ")))
    assert "1 done, 0 not done" in page.locator("h1").inner_text()
    audit.check(page, label + " (bulk results)")
    go(page, page.get_by_role("button", name="Sign out"))


def _nav(page: Any, programme: str) -> Any:
    """The links every page of a programme carries."""
    return page.get_by_role("navigation", name=programme)
