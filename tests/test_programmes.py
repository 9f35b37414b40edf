"""The three shipped schemes validate, inspect, and carry the facts MISSION.md lists."""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from engine.cli import main
from engine.definition.loader import load_programme
from engine.definition.schema_check import load_schema
from engine.forms.answers import check_value
from engine.model import Question

from .conftest import PROGRAMMES, ROOT

TOP_LEVEL = {"id", "name", "timezone", "currency", "funding", "priorities", "eligibility",
             "criteria", "timeline", "workflows", "forms", "reviews", "reminders", "kpis"}  # fmt: skip


@pytest.fixture(scope="module")
def programmes() -> dict[str, dict]:
    return {p.stem: load_programme(p).data for p in PROGRAMMES}


def by_id(items: list[dict], key: str = "id") -> dict[str, dict]:
    return {item[key]: item for item in items}


def test_three_programmes_are_shipped() -> None:
    assert sorted(p.stem for p in PROGRAMMES) == ["bradford", "liverpool", "llr_hubs"]


def test_validate_says_ok_for_every_shipped_file() -> None:
    result = CliRunner().invoke(main, ["validate"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert all(line.endswith(": ok") for line in lines)
    files = len(list((ROOT / "programmes").glob("*.yaml"))) + len(
        list((ROOT / "forms").glob("*.yaml"))
    )
    assert len(lines) == files


@pytest.mark.parametrize("path", PROGRAMMES, ids=lambda p: p.stem)
def test_inspect_json_is_the_normalised_programme(path: Path) -> None:
    result = CliRunner().invoke(main, ["inspect", str(path), "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert set(data) >= TOP_LEVEL, TOP_LEVEL - set(data)
    for m in data["timeline"]:  # every milestone has an offset-carrying start and end
        assert datetime.fromisoformat(m["start"]).utcoffset() is not None
        assert datetime.fromisoformat(m["end"]) >= datetime.fromisoformat(m["start"])
    for entry in data["forms"]:  # forms are resolved into the document
        assert entry["definition"]["id"] == entry["form"]
        assert entry["definition"]["pages"]


def test_liverpool_carries_its_facts(programmes: dict[str, dict]) -> None:
    lp = programmes["liverpool"]
    f = lp["funding"]
    assert (f["total"], f["award"]["min"], f["award"]["max"], f["max_awards"]) == (
        700000,
        50000,
        100000,
        14,
    )
    assert f["payment"]["schedule"] == "single" and f["payment"]["after"] == "sign_contract"
    assert len(lp["priorities"]) == 5 and all(p["outcomes"] for p in lp["priorities"])
    assert len(lp["eligibility"]) == 9
    t = by_id(lp["timeline"])
    assert t["eoi_deadline"]["at"] == "2022-01-31T17:00:00+00:00"
    assert t["full_submission_deadline"]["at"] == "2022-02-21T17:00:00+00:00"
    assert t["eoi_outcome"]["precision"] == "week" and t["eoi_outcome"]["start"].startswith(
        "2022-02-07"
    )
    meeting = by_id(lp["reviews"])["quarterly_monitoring_meeting"]
    assert [d["text"] for d in meeting["dates"]] == ["2022-05", "2022-08", "2022-11", "2023-02"]
    assert meeting["due"][0]["before"] == "1 week"
    assert any(t.get("notice") == "3 months" for t in lp["contract"]["termination"])
    assert len(lp["outcomes"]) >= 9  # the nine COMF outcomes


def test_liverpool_full_proposal_after_the_deadline_is_guarded(programmes: dict[str, dict]) -> None:
    app = programmes["liverpool"]["workflows"]["application"]
    submit = [t for t in app["transitions"] if t.get("deadline") == "full_submission_deadline"]
    assert submit, "the full proposal submission must carry the 21 Feb 2022 17:00 deadline"


def test_bradford_carries_its_facts(programmes: dict[str, dict]) -> None:
    bd = programmes["bradford"]
    f = bd["funding"]
    assert f["total"] == 850000 and f["per"] == "year"
    lots = [(lot["population"], lot["budget"], lot["lead_providers"]) for lot in f["lots"]]
    assert lots == [(161723, 275000, 1), (174038, 300000, 1), (117108, 205000, 1)]
    assert [fee["percent"] for fee in f["fees"]] == [8.24]
    caps = {(c["limit"], c["percent"]) for c in f["caps"]}
    assert caps == {("at_most", 30), ("at_least", 70)}
    assert f["payment"]["schedule"] == "quarterly" and f["payment"]["timing"] == "in_advance"
    t = by_id(bd["timeline"])
    assert t["lead_eoi_deadline"]["at"] == "2024-02-26T09:00:00+00:00"
    # 1 April 2024 is in British Summer Time: the offset must say so
    assert any(m["start"] == "2024-04-01T00:00:00+01:00" for m in bd["timeline"])
    roles = {r["id"] for r in bd["workflows"]["application"]["roles"]}
    assert roles == {"lead", "partner"}
    dspt = [c for c in bd["eligibility"] if "applies_to" in c]
    assert {tuple(c["applies_to"]) for c in dspt} >= {("lead",), ("partner",)}
    assert "referral" in bd["workflows"]
    sl = bd["service_levels"][0]
    assert sl["within"]["after"] == "4 weeks"
    postcode = [q for e in bd["forms"] for p in e["definition"]["pages"] for q in p["questions"]
                if q["type"] == "postcode"]  # fmt: skip
    assert postcode and all(q.get("keep_characters") == 4 and q.get("personal") for q in postcode)


def test_llr_carries_its_facts(programmes: dict[str, dict]) -> None:
    llr = programmes["llr_hubs"]
    assert {"application", "contract", "referral"} <= set(llr["workflows"])
    cadences = {r["id"]: r for r in llr["reviews"]}
    everies = sorted(r.get("every", "") for r in cadences.values())
    assert "6 weeks" in everies and "6 months" in everies and "3 months" in everies
    assert {s["id"] for s in llr["services"]} >= {"information", "advice_navigation"}
    tool = next(e["definition"] for e in llr["forms"] if e["form"] == "llr_baseline_assessment")
    scales = [q for p in tool["pages"] for q in p["questions"] if q["type"] == "scale"]
    assert len(scales) == 9  # the nine "I feel more able to…" domains
    kpi = by_id(llr["kpis"])
    targets = sorted(k["target"]["value"] for k in kpi.values() if "target" in k)
    assert 90 in targets
    assert len(llr["kpis"]) >= 15


def test_what_people_read_in_the_shipped_files_cites_no_source_document() -> None:
    """References to the source documents ("(seed §4.1)") are for the file's authors: comments."""
    import re

    import yaml

    cited = re.compile(r"\bseed\b", re.IGNORECASE)
    found = []

    def walk(node: object, where: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                walk(value, f"{where}.{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, f"{where}[{i}]")
        elif isinstance(node, str) and cited.search(node):
            found.append(f"{where}: {node[:80]}")

    for path in [*PROGRAMMES, *sorted((ROOT / "forms").glob("*.yaml"))]:
        walk(yaml.safe_load(path.read_text("utf-8")), path.name)
    assert not found, "\n".join(found)


NO_MONEY = """\
id: link_work
name: Link-worker referrals
timezone: Europe/London
workflows:
  referral:
    title: Referral
    subject: person
    initial: received
    states:
      - {id: received, label: Received}
      - {id: discharged, label: Discharged, final: true}
    transitions:
      - {trigger: discharge, source: received, dest: discharged, by: [caseworker]}
"""


def test_a_programme_with_no_money_need_not_name_a_currency(tmp_path: Path) -> None:
    (tmp_path / "programmes").mkdir()
    (tmp_path / "forms").mkdir()
    path = tmp_path / "programmes" / "link_work.yaml"
    path.write_text(NO_MONEY, "utf-8")
    result = CliRunner().invoke(main, ["validate", str(path)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert result.output.strip().endswith(": ok")
    assert load_programme(path).data["currency"] == "GBP"  # amounts, if any, are in pounds


def test_the_keep_characters_description_says_what_is_kept() -> None:
    spec = load_schema("form")["$defs"]["question"]["properties"]["keep_characters"]
    examples = re.findall(r"`([A-Z0-9 ]+)` from ([A-Z0-9]+ [A-Z0-9]+)", spec["description"])
    assert len(examples) >= 4
    question = Question("postcode", "postcode", "Postcode", True, {"keep_characters": 4})
    for kept, typed in examples:
        assert check_value(question, typed) == (kept, []), typed
        assert check_value(question, typed.lower().replace(" ", "")) == (kept, []), typed
