"""A subject access export gathers everything held about one person or one account, as plain
data and as a readable page with no internal names and dates in words."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from engine.cli import main
from engine.errors import NotFound, NotPermitted
from engine.runtime import Actor, Engine
from engine.runtime.subject_access import subject_access_html

from .clock import Clock
from .conftest import ROOT, account
from .databases import database_in
from .test_erasure import BRADFORD_FILE, COMMISSIONER, PERSONAL, referral
from .test_retention import ANN, LIVERPOOL


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    eng = Engine(database_in(tmp_path, "sar"), clock=Clock("2024-04-16T10:00"))
    eng.publish(BRADFORD_FILE)
    return eng


def test_a_persons_export_has_their_cases_answers_and_history_in_words(engine: Engine) -> None:
    case_id = referral(engine, "P-1", PERSONAL)
    referral(engine, "P-2", PERSONAL)
    held = engine.subject_access(COMMISSIONER, person="P-1")
    [case] = held["cases"]
    assert case["reference"] == engine.store.case(case_id)["reference"]
    assert case["state"] != engine.store.case(case_id)["state"]  # its label, not its name
    answers = {a["question"]: a["answer"] for a in case["answers"][0]["answers"]}
    assert answers["What is the person's date of birth?"] == "17 May 1990"
    assert case["started"] == "11am on Tuesday 16 April 2024"  # in words, on the programme's clock
    assert [e["what"] for e in case["history"]][:2] == ["Started", "Answers saved"]
    page = subject_access_html(held)
    assert "17 May 1990" in page and "<script" not in page
    for internal in ("bradford_referral", "local_reference", "contacting", "2024-04-16T"):
        assert internal not in page, internal


def test_an_accounts_export_has_the_account_its_cases_and_the_messages_sent_to_it(
    tmp_path: Path,
) -> None:
    eng = Engine(database_in(tmp_path, "sar"), clock=Clock("2022-01-20T10:00"))
    eng.publish(ROOT / "programmes" / "liverpool.yaml")
    eng.store.ensure_organisation("riverside", "Riverside Trust", "2022-01-01T00:00")
    account(eng.store, ANN.id, "Ann Example", "applicant", "riverside")
    eng.store.add_outbox_message(
        ANN.id, "Your draft is saved", "Come back any time", "2022-01-20T10:00:00+00:00"
    )
    view = eng.start_case(LIVERPOOL, "application", ANN)
    held = eng.subject_access(COMMISSIONER, account=ANN.id.upper())
    assert held["account"]["name"] == "Ann Example"
    assert held["account"]["organisation"] == "Riverside Trust"
    assert [c["reference"] for c in held["cases"]] == [view.reference]
    assert held["messages"][0]["subject"] == "Your draft is saved"
    assert "Come back any time" in subject_access_html(held)


def test_only_administrators_and_commissioners_export_and_nobody_is_refused_plainly(
    engine: Engine,
) -> None:
    referral(engine, "P-1", PERSONAL)
    with pytest.raises(NotPermitted):
        engine.subject_access(Actor("caseworker", "aisha", "horton_park"), person="P-1")
    with pytest.raises(NotFound, match="check the identifier"):
        engine.subject_access(COMMISSIONER, person="P-404")


def test_the_command_writes_json_and_a_page(engine: Engine, tmp_path: Path) -> None:
    referral(engine, "P-1", PERSONAL)
    out = tmp_path / "export"
    done = CliRunner().invoke(main, ["privacy", "export", "--person", "P-1", "--out", str(out),
                                     "--db", database_in(tmp_path, "sar")])  # fmt: skip
    assert done.exit_code == 0, done.output
    held = json.loads((out / "personal-data.json").read_text())
    assert len(held["cases"]) == 1
    assert "<h1>Personal data held" in (out / "personal-data.html").read_text()
    both = CliRunner().invoke(
        main, ["privacy", "export", "--out", str(out), "--db", database_in(tmp_path, "sar")]
    )
    assert both.exit_code != 0 and "exactly one of --person ID or --account EMAIL" in both.output
