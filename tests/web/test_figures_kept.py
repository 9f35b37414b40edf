"""KPI and people-reached figures are kept per programme between page views: an action in one
programme leaves another's kept, and the programme's own figures change in the same request
cycle as the action that changes them."""

from __future__ import annotations

import importlib
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from engine.runtime import Actor, Engine

from ..conftest import EXAMPLE
from .conftest import Clock, text
from .panel import person
from .test_reports import table_rows

LLR = "llr_resilience_recovery_hubs"
KPIS = "?period=month&from=2024-05&to=2024-06"


def counted(monkeypatch: pytest.MonkeyPatch, where: str, name: str) -> list[int]:
    """Count each time the function `name` of module `where` works figures out (an item each)."""
    calls: list[int] = []
    module = importlib.import_module(where)
    real: Callable[..., Any] = getattr(module, name)

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, counting)
    return calls


def test_figures_are_kept_until_their_own_programme_changes(
    app: Flask, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock.set("2024-06-12T09:00")
    engine = Engine(app.config["DATABASE"], clock=clock)
    service, _ = engine.publish(EXAMPLE / "programmes" / "link_service.yaml")
    lee = Actor("caseworker", "lee@trust.example", "example_trust")
    kim = Actor("caseworker", "kim@hub.example", "hub_a")

    def refer(day: str) -> None:  # an action in the link service
        case = engine.start_case(service.id, "referral", lee, organisation="example_trust")
        engine.save_answers(case.id, "link_referral", {"referral_date": day, "referral_source": "gp"}, lee)  # fmt: skip

    def llr_referral(sex: str) -> None:  # an action in the other programme
        case = engine.start_case(LLR, "referral", kim, organisation="hub_a")
        engine.save_answers(case.id, "llr_referral", {"sex": sex}, kim)

    def may(browser: FlaskClient) -> str:
        html = browser.get(f"/commission/{service.id}/kpis{KPIS}").data.decode()
        rows = table_rows(html, "Referrals received: the numbers")
        return next(r for r in rows if r[0] == "May 2024")[1]

    def may_trend(browser: FlaskClient) -> str:
        html = browser.get(f"/commission/{service.id}/trends?period=month").data.decode()
        rows = table_rows(html, "Referrals received: the numbers")
        return next(r for r in rows if r[0] == "May 2024")[1]

    def referred(browser: FlaskClient) -> str:  # the dashboard's count of people referred
        found = re.search(
            r"Referred (\d+) referred", text(browser.get(f"/commission/{service.id}"))
        )
        return found.group(1) if found else "none"

    def women(browser: FlaskClient) -> str:
        html = browser.get(f"/commission/{LLR}/people").data.decode()
        return next(r for r in table_rows(html, "Sex: the numbers") if r[0] == "Female")[1]

    kpi_work = counted(monkeypatch, "engine.web.commission.reports", "_kpi_blocks")
    people_work = counted(monkeypatch, "engine.reporting.demographics", "_breakdowns")
    for day in range(20, 25):  # five: fewer would be hidden, as the programme is anonymised
        refer(f"2024-05-{day}")
    cora = person(app, "cora@council.example", "commissioner")
    assert may(cora) == "5" and len(kpi_work) == 1
    assert women(cora) == "0" and len(people_work) == 1
    assert may_trend(cora) == "5" and referred(cora) == "5"

    llr_referral("female")  # the other programme's figures change at once …
    assert women(cora) == "1" and len(people_work) == 2
    assert may(cora) == "5" and len(kpi_work) == 1  # … and the link service's are kept

    refer("2024-05-28")  # an action in the link service: its figures change at once …
    assert may(cora) == "6" and len(kpi_work) == 2
    assert may_trend(cora) == "6"  # its trends too, from the figures kept for them
    assert referred(cora) == "6"  # and its dashboard, counted afresh on each view
    assert women(cora) == "1" and len(people_work) == 2  # … and the other's are kept
    assert may(cora) == "6" and len(kpi_work) == 2  # a second view is the kept one


def test_figures_the_scheduler_works_out_ahead_are_what_the_first_view_shows_unworked(
    app: Flask,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    from engine.reporting import kpi_kept, memo, people_kept
    from engine.scheduler.warming import warming

    clock.set("2024-06-12T09:00")
    engine = Engine(app.config["DATABASE"], clock=clock)
    service, _ = engine.publish(EXAMPLE / "programmes" / "link_service.yaml")
    lee = Actor("caseworker", "lee@trust.example", "example_trust")
    for day in range(20, 26):
        case = engine.start_case(service.id, "referral", lee, organisation="example_trust")
        engine.save_answers(case.id, "link_referral", {"referral_date": f"2024-05-{day}", "referral_source": "gp"}, lee)  # fmt: skip
    pages = [f"/commission/{service.id}/{page}" for page in ("kpis", "trends", "people")]

    def new_process() -> None:  # nothing kept in the web process, only in the database
        for kept in (kpi_kept._kept, memo._kept, people_kept._kept):
            kept.clear()

    cora = person(app, "cora@council.example", "commissioner")
    work_out = warming(Engine(app.config["DATABASE"], clock=clock))  # the scheduler's own engine
    work_out()
    said = capsys.readouterr().out
    assert "the report figures of Link worker service are ready" in said
    work_out()  # the same versions: nothing again
    assert "report figures" not in capsys.readouterr().out
    shutil.copytree(EXAMPLE, tmp_path / "example")  # a new version, published by another process
    edited = tmp_path / "example" / "programmes" / "link_service.yaml"
    edited.write_text(edited.read_text("utf-8").replace(
        "name: Link worker service", "name: Link worker service (2024)", 1), "utf-8")  # fmt: skip
    service, _ = engine.publish(edited)
    work_out()
    said = capsys.readouterr().out
    assert "Link worker service (2024) are ready" in said and "Resilience" not in said

    new_process()
    runs = counted(monkeypatch, "engine.reporting.kpi_runs", "KpiCalculator")
    counts = counted(monkeypatch, "engine.reporting.people_kept", "_count_all")
    ahead = [browser_tables(cora, url) for url in pages]
    assert runs == [] and counts == []  # read as the scheduler kept them: no case read

    new_process()
    engine.store.execute("DELETE FROM kept_figures")  # and now worked out by the pages themselves
    assert [browser_tables(cora, url) for url in pages] == ahead
    assert runs and counts
    assert any(row[:2] == ["May 2024", "6"] for tables in ahead[1:2] for row in tables)


def browser_tables(browser: FlaskClient, url: str) -> list[list[str]]:
    """Every row of every table on a page, as its cells' text."""
    response = browser.get(url)
    assert response.status_code == 200, url
    html = response.data.decode()
    return [[re.sub(r"<[^>]+>|\s+", " ", cell).strip() for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", html, re.S)]  # fmt: skip
