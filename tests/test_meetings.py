"""Meeting packs: the returns in and missing, the KPIs with RAG, spend against budget."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.errors import NotFound
from engine.reporting.meetings import meeting_pack, pack_csv

from .test_kpis import Data, at

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
    assert {k.group: k.value for k in people} == {"org_a": 120.0}
    text = pack_csv(pack)
    assert "MISSING" in text and "people" in text.lower()


def test_an_occasion_that_does_not_exist_is_named(tmp_path: Path) -> None:
    d = Data(tmp_path, "liverpool.yaml")
    with pytest.raises(NotFound, match="there is no number 9"):
        meeting_pack(
            d.engine.store, d.programme, "quarterly_monitoring_meeting", 8, at("2022-05-19T09:00")
        )
