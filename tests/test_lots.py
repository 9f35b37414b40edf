"""A case's lot is one thing: the answer that chooses it, the award and its contract agree."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from engine.errors import AnswersInvalid

from .conftest import ROOT
from .test_scenarios import Journey


@pytest.fixture
def appointed(tmp_path: Path) -> Journey:
    """Bradford's panel appoints Leads, every case started without a lot: the forms choose it."""
    spec = yaml.safe_load((ROOT / "tests/scenarios/bradford_lead_appointment.yaml").read_text())
    for step in spec["steps"]:
        if "start" in step:
            step["start"].pop("lot", None)
    journey = Journey(spec, tmp_path)
    journey.run()
    return journey


def test_the_answer_chooses_the_lot_and_the_award_and_contract_keep_it(appointed: Journey) -> None:
    store = appointed.engine.store
    lots = {name: store.case(case_id)["lot"] for name, case_id in appointed.cases.items()}
    assert lots["horton"] == "lot_1" and lots["shipley"] == "lot_2"
    assert lots["horton_contract"] == "lot_1"  # the contract is in the award's lot
    awards = {a["case_id"]: a["lot"] for a in store.awards("bradford_healthy_minds_wave2")}
    assert awards[appointed.cases["horton"]] == "lot_1"
    for case_id, lot in awards.items():
        assert store.case(case_id)["lot"] == lot  # what the dashboard counts is the case's lot


def test_a_contracts_forms_take_its_lot_instead_of_asking_again(appointed: Journey) -> None:
    engine, lena = appointed.engine, appointed.actors["lena"]
    contract = appointed.cases["horton_contract"]
    view = engine.case(contract, lena)
    assert view.answers["bradford_contract_acceptance"]["lot"] == "lot_1"  # shown as answered
    with pytest.raises(AnswersInvalid) as refused:
        engine.save_answers(contract, "bradford_contract_acceptance", {"lot": "lot_2"}, lena)
    assert refused.value.errors == {"lot": ["Leave the lot as it is: it was settled when the award was made"]}  # fmt: skip
    saved = engine.save_answers(contract, "bradford_contract_acceptance", {}, lena)
    assert saved.answers["bradford_contract_acceptance"]["lot"] == "lot_1"
    assert engine.store.case(contract)["lot"] == "lot_1"


def test_changing_the_answer_in_a_draft_moves_the_case(appointed: Journey) -> None:
    engine, uma = appointed.engine, appointed.actors["uma"]
    draft = engine.start_case("bradford_healthy_minds_wave2", "application", uma, role="lead")
    assert draft.lot is None
    assert engine.save_answers(draft.id, "bradford_lead_eoi", {"lot": "lot_3"}, uma).lot == "lot_3"
    assert engine.save_answers(draft.id, "bradford_lead_eoi", {"lot": "lot_2"}, uma).lot == "lot_2"
