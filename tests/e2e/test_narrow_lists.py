"""Every list of cases fits a 375 px phone: no sideways scrolling, its search and pages included."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import Site, open_context, sign_in

NARROW = 375
LISTS = [
    ("commissioner@example.org", "/commission/liverpool_life_rooms_2022/cases"),
    ("applicant@example.org", "/apply/applications"),
    ("assessor@example.org", "/assess/"),
    ("riverside.caseworker@example.org", "/casework/"),
]


@pytest.mark.parametrize(("email", "path"), LISTS, ids=[p for _e, p in LISTS])
def test_each_list_of_cases_fits_a_375_px_screen(browser: Any, site: Site, email: str, path: str) -> None:  # fmt: skip
    context = open_context(browser)
    try:
        page = context.new_page()
        sign_in(page, site, email)
        page.set_viewport_size({"width": NARROW, "height": 800})
        # a bad page number too: the error summary must fit as well as the list
        for address in (path, f"{path}?page=nope"):
            page.goto(f"{site.url}{address}")
            assert page.locator("#q").count() or "no " in page.inner_text("main").lower()
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= NARROW, f"{address} is {width} px wide on a {NARROW} px screen"
        assert not context.errors, context.errors
    finally:
        context.close()
