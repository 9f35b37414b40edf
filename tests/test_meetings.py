"""Meeting packs: the returns in and missing, the KPIs with RAG, spend against budget."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from engine.cli import main
from engine.errors import NotFound
from engine.reporting.meetings import held_on, meeting_occasions, meeting_pack, pack_csv

from .conftest import ROOT
from .databases import database_in
from .test_kpis import Data, _moved, at

RETURN = "liverpool_quarterly_monitoring_return"


def test_the_may_meeting_pack_shows_who_sent_a_return_and_spend_against_budget(
    tmp_path: Path,
) -> None:
    d = Data(tmp_path, "liverpool.yaml")
    store = d.engine.store
    a = d.case("contract", "delivering", "org_a", created="2022-03-01T09:00", forms={RETURN: [
        ("2022-05-10T09:00", {"people_accessing": 120, "spend_this_quarter": 30000}),
        # sent after the meeting: not in May's spend, though the pack is read later still
        ("2022-08-01T09:00", {"people_accessing": 90, "spend_this_quarter": 25000})]})  # fmt: skip
    b = d.case("contract", "delivering", "org_b", created="2022-03-01T09:00")
    with store.transaction():
        store.insert_award(a, d.programme.id, None, 100000, at("2022-03-01T12:00").isoformat())
        store.insert_award(b, d.programme.id, None, 60000, at("2022-03-01T12:00").isoformat())
        store.pin(
            d.programme.id,
            "review:quarterly_monitoring_meeting:0",
            at("2022-05-18T10:00").isoformat(),
            "t",
            "t",
        )
    pack = meeting_pack(
        store, d.programme, "quarterly_monitoring_meeting", 0, at("2022-09-19T09:00")
    )
    assert pack.when == at("2022-05-18T10:00")
    received = {r.organisation: r.received for r in pack.returns}
    assert received["org_a"] is not None and received["org_b"] is None
    assert [r.organisation for r in pack.missing] == ["org_b"]
    assert pack.returns[0].due == at("2022-05-11T10:00")  # one week before the meeting
    spend = {s["organisation"]: (s["awarded"], s["spent"], s["left"]) for s in pack.spend}
    assert spend == {"org_a": (100000, 30000.0, 70000.0), "org_b": (60000, 0.0, 60000.0)}
    people = [k for k in pack.kpis if k.kpi == "people_accessing"]
    # org_b sent nothing: not reported, not a 0 beside org_a's 120
    assert {k.group: (k.value, k.reported) for k in people} == {
        "org_a": (120.0, True), "org_b": (None, False)}  # fmt: skip
    text = pack_csv(pack, d.programme, {"org_a": "Dingle Family Hub", "org_b": "Anfield Walkers"})
    lines = text.splitlines()
    # in the meeting's words: forms, organisations and statuses by name, days in words
    assert "Return,Reference,Organisation,Due,Received" in lines
    assert any(line.startswith("Quarterly monitoring report,") and
               line.endswith(",Anfield Walkers,10am on Wednesday 11 May 2022,Missing") for line in lines)  # fmt: skip
    assert "Numbers accessing,Anfield Walkers,Not reported" in text
    assert "org_" not in text and "liverpool_" not in text and "2022-05" not in text


def test_an_occasion_that_does_not_exist_is_named(tmp_path: Path) -> None:
    d = Data(tmp_path, "liverpool.yaml")
    with pytest.raises(NotFound, match="there is no number 9"):
        meeting_pack(
            d.engine.store, d.programme, "quarterly_monitoring_meeting", 8, at("2022-05-19T09:00")
        )


RECORD = "liverpool_monitoring_meeting_record"


def test_a_pack_agrees_with_the_record_of_its_meeting_not_with_today(tmp_path: Path) -> None:
    """No date pinned: the May meeting's record says when it was held; the pack for May shows
    that day, the returns due a week before it, and May's decisions only, even read in October
    after the contract has ended and August's meeting has been recorded too."""
    d = Data(tmp_path, "liverpool.yaml")
    a = d.case("contract", "completed", "org_a", created="2022-03-01T09:00", forms={
        RETURN: [("2022-04-25T10:00", {"people_accessing": 38, "spend_this_quarter": 12000}),
                 ("2022-07-25T10:00", {"people_accessing": 71, "spend_this_quarter": 26000})],
        RECORD: [("2022-05-16T14:00", {"meeting_date": "2022-05-16", "kpis_met": False,
                                       "spend_reviewed": "Spend of £12,000 is behind profile."}),
                 ("2022-08-18T14:00", {"meeting_date": "2022-08-17", "kpis_met": True,
                                       "spend_reviewed": "Back on profile."})]})  # fmt: skip
    _moved(d, a, [("2022-03-07T10:00", None, "delivering"),
                  ("2022-09-30T10:00", "delivering", "completed")])  # fmt: skip
    store = d.engine.store
    with store.transaction():
        store.insert_award(a, d.programme.id, None, 100000, at("2022-03-01T12:00").isoformat())
    october = at("2022-10-20T09:00")
    may = meeting_pack(store, d.programme, "quarterly_monitoring_meeting", 0, october)
    assert may.when == may.held[0] and may.held[0].date().isoformat() == "2022-05-16"
    assert may.period == "16 February 2022 to 16 May 2022"  # up to the day it was held
    [status] = may.returns  # ended since, but it owed May's return: still listed
    assert status.due is not None and status.due.date().isoformat() == "2022-05-09"
    assert status.received == datetime.fromisoformat(at("2022-04-25T10:00").isoformat())
    assert [dec.get("spend_reviewed") for dec in may.decisions] == [
        "Spend of £12,000 is behind profile."
    ]
    assert [s["spent"] for s in may.spend] == [12000.0]  # what the minutes say was spent
    august = meeting_pack(store, d.programme, "quarterly_monitoring_meeting", 1, october)
    assert august.held[0].date().isoformat() == "2022-08-17"
    assert [dec.get("spend_reviewed") for dec in august.decisions] == ["Back on profile."]
    assert [s["spent"] for s in august.spend] == [38000.0]
    assert [r.received is not None for r in august.returns] == [True]  # July's, since May's meeting


def test_the_meetings_say_the_day_their_records_give(tmp_path: Path) -> None:
    d = Data(tmp_path, "liverpool.yaml")
    d.case("contract", "delivering", "org_a", created="2022-03-01T09:00", forms={
        RECORD: [("2022-05-16T14:00", {"meeting_date": "2022-05-16"})]})  # fmt: skip
    review = next(
        r for r in d.programme.data["reviews"] if r["id"] == "quarterly_monitoring_meeting"
    )
    store = d.engine.store
    found = meeting_occasions(store, d.programme, review, at("2023-06-01T00:00"))
    days = held_on(store, d.programme, review, found)
    assert [x.date().isoformat() if x else None for x in days] == ["2022-05-16", None, None, None]


def test_a_pack_gives_the_pinned_time_on_the_programmes_clock(tmp_path: Path) -> None:
    d = Data(tmp_path, "liverpool.yaml")
    d.case("contract", "delivering", "org_a", created="2022-03-01T09:00")
    store = d.engine.store
    with store.transaction():  # pinned as `commission pin` stores it: in UTC
        store.pin(d.programme.id, "review:quarterly_monitoring_meeting:0",
                  "2022-05-17T23:30:00+00:00", "t", "t")  # fmt: skip
    pack = meeting_pack(
        store, d.programme, "quarterly_monitoring_meeting", 0, at("2022-06-01T09:00")
    )
    # 23:30 in UTC is 12:30am on the 18th in London (BST): the day is the 18th, in words
    assert pack.period == "18 February 2022 to 18 May 2022"
    first = pack_csv(pack, d.programme, {}).splitlines()[0]
    assert first == (
        '"Quarterly contract monitoring meeting, May 2022",12:30am on Wednesday 18 May 2022,'
        "Reviewing 18 February 2022 to 18 May 2022"
    )
    assert "23:30" not in first and "17 May" not in first
    run = CliRunner().invoke(
        main, ["meeting-pack", d.programme.id, "quarterly_monitoring_meeting", "1",
               "--db", database_in(tmp_path, "kpi")], env={"COMMISSION_NOW": "2022-06-01T09:00"})  # fmt: skip
    assert run.exit_code == 0, run.output
    assert run.output.startswith(
        "Quarterly contract monitoring meeting, May 2022 — 12:30am on Wednesday 18 May 2022;"
    )


DELIVERING = """\
  - id: contracts_delivering
    title: Contracts being delivered
    source: cases
    workflow: contract
    states: [delivering]
    measure: count
    period: quarter
    by: [organisation]
"""


def test_an_anonymised_pack_hides_small_counts_of_people_as_the_kpi_pages_do(
    tmp_path: Path,
) -> None:
    d = Data(tmp_path, "liverpool.yaml")
    text = (ROOT / "programmes" / "liverpool.yaml").read_text("utf-8")
    path = tmp_path / "liverpool.yaml"  # anonymised, with no threshold of its own: 5
    path.write_text(text.replace("\nkpis:\n", f"\nkpis:\n{DELIVERING}", 1), "utf-8")
    d.programme, _ = d.engine.publish(path, ROOT / "forms")
    assert d.programme.suppress_below() == 5
    for n in range(6):
        d.case("contract", "delivering", "org_a", created=f"2022-03-0{n + 1}T09:00")
    d.case("contract", "delivering", "org_b", created="2022-03-01T09:00")
    pack = meeting_pack(
        d.engine.store, d.programme, "quarterly_monitoring_meeting", 0, at("2022-06-01T09:00")
    )
    rows = {k.group: (k.value, k.suppressed) for k in pack.kpis if k.kpi == "contracts_delivering"}
    assert rows == {"org_a": (6.0, False), "org_b": (None, True)}  # 1 contract: hidden
    text = pack_csv(pack, d.programme, {"org_a": "Dingle Family Hub", "org_b": "Anfield Walkers"})
    assert "Contracts being delivered,Dingle Family Hub,6," in text
    assert "Contracts being delivered,Anfield Walkers,Fewer than 5,," in text
    # a return is an organisation's own report, not a person: shown whatever it counts
    assert "Numbers accessing,Anfield Walkers,Not reported" in text


def test_a_programme_with_no_money_has_no_spend_in_its_pack(tmp_path: Path) -> None:
    from engine.runtime import Engine

    from .conftest import EXAMPLE

    engine = Engine(database_in(tmp_path, "link"), clock=lambda: at("2024-10-01T09:00"))
    programme, _ = engine.publish(EXAMPLE / "programmes" / "link_service.yaml")
    assert not programme.has_money()
    pack = meeting_pack(engine.store, programme, "quarterly_meeting", 0, at("2024-10-01T09:00"))
    text = pack_csv(pack, programme, {})
    assert "KPI" in text and "Amount awarded" not in text and "Spent" not in text
    liverpool = engine.publish(ROOT / "programmes" / "liverpool.yaml")[0]
    assert liverpool.has_money()
