"""Rules on repeatable records hold: a `max_records` cap, and form rules that read the case."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from engine import ProgrammeInvalid, load_programme
from engine.errors import ActionRefused, AnswersInvalid
from engine.runtime import Engine

from .conftest import ROOT
from .databases import database_in
from .test_record_drafts import AISHA, accepted_referral

CONTACT = {"contact_date": "2024-04-16", "meaningful_contact": True, "contact_kind": "phone"}
ENTRY = "  - form: bradford_contact\n    workflow: referral\n    states: [contacting, assessed, supported]\n    by: [caseworker]\n    repeatable: true\n"  # fmt: skip


def bradford(tmp_path: Path, *, entry: str = "", rule: str = "") -> tuple[Path, Path]:
    """Bradford's programme and forms, the contact record's entry and form given more lines."""
    forms = tmp_path / "forms"
    shutil.copytree(ROOT / "forms", forms)
    if rule:
        contact = forms / "bradford_contact.yaml"
        contact.write_text(contact.read_text("utf-8") + rule, "utf-8")
    text = (ROOT / "programmes" / "bradford.yaml").read_text("utf-8")
    assert ENTRY in text
    path = tmp_path / "bradford.yaml"
    path.write_text(text.replace(ENTRY, ENTRY + entry), "utf-8")
    return path, forms


def engine_with(tmp_path: Path, path: Path, forms: Path) -> Engine:
    eng = Engine(database_in(tmp_path), clock=lambda: datetime(2024, 4, 16, 10, tzinfo=UTC))
    eng.publish(path, forms)
    return eng


def test_a_cap_on_records_refuses_one_more_in_words_before_it_is_filled_in(tmp_path: Path) -> None:
    eng = engine_with(tmp_path, *bradford(tmp_path, entry="    max_records: 2\n"))
    case = accepted_referral(eng)
    for _ in range(2):
        eng.save_answers(case, "bradford_contact", CONTACT, AISHA)
    with pytest.raises(
        ActionRefused, match="already has 2 of “Contact record”, the most it may have"
    ):
        eng.save_answers(case, "bradford_contact", CONTACT, AISHA)
    with pytest.raises(
        ActionRefused, match="Change one of them instead"
    ):  # a draft of a third, too
        eng.save_record_draft(case, "bradford_contact", {"contact_kind": "phone"}, AISHA)
    eng.save_answers(
        case, "bradford_contact", {**CONTACT, "contact_kind": "video"}, AISHA, record=1
    )
    assert len(eng.case(case, AISHA).records["bradford_contact"]) == 2  # changing one still works


def test_a_form_rule_reading_the_case_is_enforced_not_ignored(tmp_path: Path) -> None:
    rule = (
        "rules:\n  - id: at_most_two\n    rule: size(case.records.bradford_contact) < 2\n"
        "    message: Record at most two contacts for a person; change one of them instead.\n"
    )
    path, forms = bradford(tmp_path, rule=rule)
    eng = engine_with(tmp_path, path, forms)
    case = accepted_referral(eng)
    for _ in range(2):
        eng.save_answers(case, "bradford_contact", CONTACT, AISHA)
    with pytest.raises(AnswersInvalid, match="Record at most two contacts"):
        eng.save_answers(case, "bradford_contact", CONTACT, AISHA)
    assert len(eng.case(case, AISHA).records["bradford_contact"]) == 2


def test_a_cap_on_a_form_filled_in_once_is_refused_at_validate(tmp_path: Path) -> None:
    path, forms = bradford(tmp_path)
    text = path.read_text("utf-8").replace(
        "  - form: bradford_initial_interview\n    workflow: referral\n",
        "  - form: bradford_initial_interview\n    workflow: referral\n    max_records: 3\n",
    )
    path.write_text(text, "utf-8")
    with pytest.raises(ProgrammeInvalid, match='"max_records" does nothing'):
        load_programme(path, forms)


def test_a_show_if_reading_another_forms_answer_is_refused_where_it_is_written(
    tmp_path: Path,
) -> None:
    path, forms = bradford(tmp_path)
    contact = forms / "bradford_contact.yaml"
    text = contact.read_text("utf-8").replace(
        "      - id: contact_interventions\n",
        "      - id: contact_interventions\n        show_if: has_smi\n",
        1,
    )
    contact.write_text(text, "utf-8")
    with pytest.raises(ProgrammeInvalid) as refused:
        load_programme(path, forms)
    line = text.splitlines().index("        show_if: has_smi") + 1
    assert f"bradford_contact.yaml:{line}:18: error[unknown-question]" in str(refused.value)
    assert 'reads "has_smi", which is not a question of any form it can see' in str(refused.value)
