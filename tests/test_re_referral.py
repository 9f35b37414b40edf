"""A re-referral is a new case linked to the earlier one, and may start from its answers."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from engine import ProgrammeInvalid, load_programme
from engine.errors import NotFound
from engine.runtime import Actor, Engine

from .conftest import ROOT
from .databases import database_in
from .test_record_drafts import AISHA, BRADFORD, REFERRAL

NOT_ACCEPTED = """      - id: not_accepted
        label: Referral not accepted
        final: true
"""
RE_REFERRED = """      - id: not_accepted
        label: Referral not accepted
      - id: referred_again
        label: Referred again
        final: true
"""
DISCHARGE = "        guard_message: The step up / step down / discharge record must say support is finishing.\n"  # fmt: skip
RE_REFER = """      - trigger: refer_again
        label: Refer again
        source: not_accepted
        dest: referred_again
        by: [caseworker]
        effects:
          - do: start_case
            workflow: referral
{copy}"""
STARTERS = "    subject: person\n    label_question: local_reference"


def re_referral_programme(tmp_path: Path, copy: str = "[bradford_referral]") -> Path:
    """Bradford's programme, where a referral not accepted can be referred again as a new case."""
    text = (ROOT / "programmes" / "bradford.yaml").read_text("utf-8")
    for old in (NOT_ACCEPTED, DISCHARGE, STARTERS):
        assert text.count(old) == 1, old
    line = f"            copy_answers: {copy}\n" if copy else ""
    text = text.replace(NOT_ACCEPTED, RE_REFERRED)
    text = text.replace(DISCHARGE, DISCHARGE + RE_REFER.format(copy=line))
    path = tmp_path / "bradford_re_referral.yaml"
    path.write_text(text, "utf-8")
    return path


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    eng = Engine(database_in(tmp_path, "re"), clock=lambda: datetime(2024, 4, 16, 10, tzinfo=UTC))
    eng.publish(re_referral_programme(tmp_path), ROOT / "forms")
    return eng


def refused_referral(engine: Engine) -> int:
    view = engine.start_case(BRADFORD, "referral", AISHA, subject="pseudonymous")
    engine.save_answers(view.id, "bradford_referral", REFERRAL, AISHA)
    engine.act(view.id, "refuse_referral", AISHA, reason="Supported by another service")
    return view.id


def test_a_re_referral_is_a_new_case_linked_both_ways_starting_from_the_earlier_answers(
    engine: Engine,
) -> None:
    earlier = refused_referral(engine)
    engine.act(earlier, "refer_again", AISHA)
    parent, children = engine.related(earlier, AISHA)
    assert parent is None and len(children) == 1
    again = children[0]
    assert again.state == "referred" and again.id != earlier
    assert engine.related(again.id, AISHA)[0].id == earlier  # the link seen from the new case
    # the earlier referral's answers, as a draft to check and accept afresh
    assert again.answers["bradford_referral"]["referral_source"] == "primary_care"
    assert again.submitted["bradford_referral"] is None
    engine.save_answers(again.id, "bradford_referral", {"referral_source": "first_response"}, AISHA)
    engine.act(again.id, "accept_referral", AISHA)  # complete as copied: it can be accepted
    assert engine.case(again.id, AISHA).state == "contacting"
    # a copy: the earlier case keeps its own answers
    assert engine.case(earlier, AISHA).answers["bradford_referral"]["referral_source"] == "primary_care"  # fmt: skip


def test_without_copy_answers_a_re_referral_starts_empty(tmp_path: Path) -> None:
    eng = Engine(database_in(tmp_path, "bare"), clock=lambda: datetime(2024, 4, 16, tzinfo=UTC))
    eng.publish(re_referral_programme(tmp_path, copy=""), ROOT / "forms")
    earlier = refused_referral(eng)
    eng.act(earlier, "refer_again", AISHA)
    again = eng.related(earlier, AISHA)[1][0]
    assert again.answers == {}


def test_another_organisation_sees_neither_case_of_a_re_referral(engine: Engine) -> None:
    earlier = refused_referral(engine)
    engine.act(earlier, "refer_again", AISHA)
    ben = Actor("caseworker", "ben", "another_org")
    again = engine.related(earlier, AISHA)[1][0]
    with pytest.raises(NotFound, match="there is no case"):
        engine.related(again.id, ben)


def test_copying_a_form_the_new_workflow_does_not_use_is_refused_at_validate(
    tmp_path: Path,
) -> None:
    path = re_referral_programme(tmp_path, copy="[bradford_contract_acceptance]")
    with pytest.raises(ProgrammeInvalid) as err:
        load_programme(path, ROOT / "forms")
    message = str(err.value)
    assert 'copies the answers of form "bradford_contract_acceptance"' in message
    assert 'attached to workflow "referral"' in message and "attach it to both workflows" in message


def test_a_workflow_that_starts_itself_is_still_opened_by_its_caseworkers(engine: Engine) -> None:
    """A re-referral action in the referral workflow does not make referrals commissioner-only."""
    programme = engine.programme(BRADFORD)
    assert engine.starters(programme, programme.workflows["referral"]) == ("caseworker", "commissioner")  # fmt: skip
    assert engine.starters(programme, programme.workflows["contract"]) == ("commissioner",)
    assert engine.start_case(BRADFORD, "referral", AISHA, subject="pseudonymous").workflow == "referral"  # fmt: skip
