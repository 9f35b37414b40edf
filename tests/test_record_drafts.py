"""A repeatable form's next record, filled in part by part: a draft until it is recorded whole."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from engine.errors import ActionRefused, AnswersInvalid, NotFound
from engine.runtime import Actor, Engine

from .conftest import ROOT
from .databases import database_in

BRADFORD = "bradford_healthy_minds_wave2"
AISHA = Actor("caseworker", "aisha", "horton_park")
REFERRAL = {
    "referral_date": "2024-04-15", "referral_source": "primary_care", "date_of_birth": "1990-01-01",
    "postcode": "BD18 4NP", "pcn_locality": "pcn_4", "has_smi": True,
    "smi_support_situation": "not_supported_elsewhere", "other_vcse_service_could_support": False,
    "agrees_to_referral": True, "consent_to_share_data": True,
}  # fmt: skip


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    eng = Engine(
        database_in(tmp_path, "drafts"), clock=lambda: datetime(2024, 4, 16, 10, tzinfo=UTC)
    )
    eng.publish(ROOT / "programmes" / "bradford.yaml")
    return eng


def accepted_referral(engine: Engine) -> int:
    view = engine.start_case(BRADFORD, "referral", AISHA, subject="pseudonymous")
    engine.save_answers(view.id, "bradford_referral", REFERRAL, AISHA)
    engine.act(view.id, "accept_referral", AISHA)
    return view.id


def test_a_draft_is_kept_part_by_part_and_recorded_whole(engine: Engine) -> None:
    case = accepted_referral(engine)
    engine.save_record_draft(case, "bradford_contact", {"contact_date": "2024-04-16"}, AISHA)
    draft = engine.save_record_draft(case, "bradford_contact", {"meaningful_contact": True}, AISHA)
    assert draft == {"contact_date": "2024-04-16", "meaningful_contact": True}
    assert not engine.case(case, AISHA).records.get("bradford_contact")  # not a record yet
    with pytest.raises(AnswersInvalid):  # incomplete: the kind of contact is missing
        engine.submit_record_draft(case, "bradford_contact", AISHA)
    engine.save_record_draft(case, "bradford_contact", {"contact_kind": "phone"}, AISHA)
    view = engine.submit_record_draft(case, "bradford_contact", AISHA)
    assert view.records["bradford_contact"] == [{**draft, "contact_kind": "phone"}]
    assert engine.record_draft(case, "bradford_contact", AISHA) == {}
    assert engine.history(case, AISHA)[-1]["detail"] == {"form": "bradford_contact", "record": 1}


def test_a_draft_is_checked_and_kept_to_the_forms_questions(engine: Engine) -> None:
    case = accepted_referral(engine)
    with pytest.raises(AnswersInvalid, match="is not a question of this form"):
        engine.save_record_draft(case, "bradford_contact", {"full_name": "Jo Bloggs"}, AISHA)
    with pytest.raises(ActionRefused, match="one form per case"):
        engine.save_record_draft(case, "bradford_referral", {"postcode": "BD18 4NP"}, AISHA)
    with pytest.raises(NotFound):  # a referral is not even visible to the organisation's applicants
        engine.save_record_draft(case, "bradford_contact", {}, Actor("applicant", "ann", "horton_park"))  # fmt: skip
    with pytest.raises(NotFound):
        engine.record_draft(case, "bradford_contact", Actor("caseworker", "ben", "shipley"))
    engine.save_record_draft(case, "bradford_contact", {"contact_date": "2024-04-16"}, AISHA)
    engine.discard_record_draft(case, "bradford_contact", AISHA)
    assert engine.record_draft(case, "bradford_contact", AISHA) == {}
