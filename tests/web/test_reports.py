"""Commissioners' KPI tables and charts, and meeting packs in the browser."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from engine.runtime import Engine

from .conftest import LIVERPOOL, Clock
from .conftest import text as page_text
from .panel import person

RETURN = "liverpool_quarterly_monitoring_return"


def seed_returns(app: Flask, clock: Clock) -> None:
    """Two Liverpool contracts with awards; one sends its May return, one does not."""
    engine = Engine(app.config["DATABASE"], clock=clock)
    store = engine.store
    programme = engine.programme(LIVERPOOL)
    with store.transaction():
        for n, org in enumerate(("org_a", "org_b")):
            case = store.insert_case({
                "programme_id": LIVERPOOL, "version": programme.version, "workflow": "contract", "state": "delivering",
                "organisation_id": org, "subject": None, "role": None, "lot": None, "parent_id": None,
                "entered": {}, "created_at": "2022-03-01T09:00:00+00:00"}, "LIV")  # fmt: skip
            store.insert_award(
                case, LIVERPOOL, None, 100000 - 40000 * n, "2022-03-01T12:00:00+00:00"
            )
            if org == "org_a":
                store.save_answers(case, RETURN, 1, {"people_accessing": 120, "spend_this_quarter": 30000},
                                   "2022-05-10T09:00:00+00:00", submitted=True)  # fmt: skip
        store.pin(
            LIVERPOOL,
            "review:quarterly_monitoring_meeting:0",
            "2022-05-18T09:00:00+00:00",
            "t",
            "t",
        )


def test_the_kpi_page_shows_each_kpi_with_a_chart_and_its_numbers(app: Flask, clock: Clock) -> None:
    clock.set("2022-09-01T09:00")
    seed_returns(app, clock)
    cora = person(app, "cora@council.example", "commissioner")
    r = cora.get(f"/commission/{LIVERPOOL}/kpis?from=2022-04&to=2022-06")
    assert r.status_code == 200
    page = r.data.decode()
    assert page.count("<svg") >= 10 and 'role="img"' in page  # a picture per KPI
    words = page_text(r)
    assert "Numbers accessing" in words and "Q1 2022/23" in words and "120" in words
    by_org = page_text(
        cora.get(f"/commission/{LIVERPOOL}/kpis?from=2022-04&to=2022-06&by=organisation")
    )
    assert "org_a" in by_org
    assert cora.get(f"/commission/{LIVERPOOL}/kpis?by=everyone").status_code == 400


def test_a_meeting_pack_lists_missing_returns_and_spend_and_downloads(
    app: Flask, clock: Clock
) -> None:
    clock.set("2022-05-19T09:00")
    seed_returns(app, clock)
    cora = person(app, "cora@council.example", "commissioner")
    listing = page_text(cora.get(f"/commission/{LIVERPOOL}/meetings"))
    assert "May 2022" in listing and "date not pinned yet" in listing  # August onwards
    r = cora.get(f"/commission/{LIVERPOOL}/meetings/quarterly_monitoring_meeting/1")
    assert r.status_code == 200
    words = page_text(r)
    assert "1 received, 1 missing" in words and "Missing" in words
    assert "£30,000" in words and "£70,000" in words  # org_a spent £30,000 of £100,000
    csv = cora.get(f"/commission/{LIVERPOOL}/meetings/quarterly_monitoring_meeting/1?format=csv")
    assert csv.mimetype == "text/csv" and b"MISSING" in csv.data
    assert (
        cora.get(f"/commission/{LIVERPOOL}/meetings/quarterly_monitoring_meeting/9").status_code
        == 404
    )


def test_applicants_cannot_see_kpis_or_meeting_packs(
    app: Flask, clock: Clock, tmp_path: Path
) -> None:
    ann = person(app, "ann@small.example", "applicant", "small_org")
    for url in (f"/commission/{LIVERPOOL}/kpis", f"/commission/{LIVERPOOL}/meetings",
                f"/commission/{LIVERPOOL}/meetings/quarterly_monitoring_meeting/1"):  # fmt: skip
        assert ann.get(url).status_code in (403, 404)
