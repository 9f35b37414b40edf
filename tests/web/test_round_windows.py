"""Applicants see whether each round is open, opening soon or closed, and when, in words."""

from __future__ import annotations

import re
from collections.abc import Callable

from flask.testing import FlaskClient

from .conftest import Clock, text

BRADFORD = "bradford_healthy_minds_wave2"


def tags(page: str) -> dict[str, str]:
    """Each round's name on the list and the tag beside it."""
    found = re.findall(r"<h2[^>]*><a[^>]*>([^<]+)</a></h2>\s*<strong[^>]*>\s*([^<]+?)\s*</strong>", page)  # fmt: skip
    return dict(found)


def test_the_list_of_rounds_says_open_opening_soon_or_closed(client: FlaskClient, clock: Clock) -> None:  # fmt: skip
    # 20 January 2022: Liverpool takes expressions of interest; Bradford's round is in 2024; the
    # LLR Hubs' proposals closed with 2017
    listed = tags(client.get("/apply/").data.decode())
    assert listed == {
        "The Life Rooms VCSE Micro-Commissioning Programme": "Open",
        "Healthy Minds Peripatetic Mental Health Support Service in Community — Wave 2": "Opening soon",
        "Mental Health Resilience and Recovery Hubs": "Closed",
    }
    page = text(client.get("/apply/"))
    assert page.index("Life Rooms") < page.index("Healthy Minds") < page.index("Resilience")
    clock.set("2024-02-05T10:00")
    listed = tags(client.get("/apply/").data.decode())
    assert (
        listed["Healthy Minds Peripatetic Mental Health Support Service in Community — Wave 2"]
        == "Open"
    )
    assert listed["The Life Rooms VCSE Micro-Commissioning Programme"] == "Closed"


def test_a_round_not_yet_open_says_when_it_opens_and_offers_no_start(
    applicant: Callable[..., FlaskClient],
) -> None:
    ann = applicant()
    page = text(ann.get(f"/apply/rounds/{BRADFORD}"))
    assert "Opens Friday 26 January 2024" in page
    assert "You can start an application from Friday 26 January 2024" in page
    assert "Start an application" not in page
    start = ann.get(f"/apply/rounds/{BRADFORD}/start")  # a bookmarked start page
    assert start.status_code == 302 and start.headers["Location"].endswith(f"/rounds/{BRADFORD}")


def test_a_closed_round_says_when_it_closed(client: FlaskClient, clock: Clock) -> None:
    clock.set("2023-01-01T10:00")
    page = text(client.get("/apply/rounds/llr_resilience_recovery_hubs"))
    assert "This round is closed: it closed 2017. You cannot start a new application." in page
    assert "Closed 2017 (Contract starts (2017))" in page
    assert not re.search(r"\d{4}-\d{2}-\d{2}", page) and "Start an application" not in page
