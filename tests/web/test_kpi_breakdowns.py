"""The commissioner's KPI page: a table for each answer a KPI is broken down by, the answers by
their labels."""

from __future__ import annotations

from flask import Flask

from engine.runtime import Actor, Engine

from ..test_kpi_dates import DATA
from .conftest import Clock
from .panel import person
from .test_reports import table_rows

SAM = Actor("caseworker", "sam", "hub")


def test_the_kpi_page_shows_referrals_by_source_with_the_options_labels(
    app: Flask, clock: Clock
) -> None:
    engine = Engine(app.config["DATABASE"], clock=clock)
    engine.publish(DATA / "kpi_dates.yaml", DATA / "forms")
    for day, source in (("2026-08-03", "gp"), ("2026-08-04", "gp"), ("2026-08-05", None)):
        clock.set(f"{day}T12:00")
        case = engine.start_case("referral_counts", "referral", SAM, organisation="hub").id
        answers = {"referral_date": day, **({"referral_source": source} if source else {})}
        engine.save_answers(case, "kd_referral", answers, SAM)
    clock.set("2026-09-02T09:00")
    cora = person(app, "cora@council.example", "commissioner")
    r = cora.get("/commission/referral_counts/kpis?period=month&from=2026-08&to=2026-08")
    assert r.status_code == 200
    html = r.data.decode()
    rows = table_rows(html, "Referrals received by answer to “Who referred them?”")
    assert [row[:3] for row in rows] == [
        ["August 2026", "Their GP", "2"],
        ["August 2026", "They referred themselves", "0"],
        ["August 2026", "Their school", "0"],
        ["August 2026", "Not answered", "1"],
    ]
    needs = table_rows(html, "Referrals received by answer to “What do they need help with?”")
    assert [row[1] for row in needs] == ["Housing", "Money", "Low mood", "Not answered"]
    assert ">gp<" not in html and ">school<" not in html  # never an option's short name
    # a KPI with no answer breakdown has only its own table
    assert "People on the books by answer" not in html
