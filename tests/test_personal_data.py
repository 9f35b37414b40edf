"""Personal data is visible only to the roles the YAML names: the rule, the checks, the exports."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path

import pytest

from engine.definition.loader import Linter
from engine.model import Question
from engine.reporting.export import records_csv
from engine.runtime import Actor, Engine

from .conftest import EXAMPLE, ROOT
from .databases import database_in

BRADFORD = "bradford_healthy_minds_wave2"
AISHA = Actor("caseworker", "aisha", "horton_park")
CORA = Actor("commissioner", "cora")
ROLES = ("applicant", "assessor", "commissioner", "caseworker")


def question(**spec: object) -> Question:
    return Question("q", "text", "A question?", True, dict(spec))


@pytest.mark.parametrize("anonymised", [False, True])
def test_an_unmarked_answer_is_seen_by_everyone_who_sees_the_case(anonymised: bool) -> None:
    assert all(question().visible_to_role(r, anonymised) for r in ROLES)


@pytest.mark.parametrize("mark", ["personal", "special_category"])
def test_personal_answers_are_kept_from_commissioners_and_assessors_only_when_anonymised(
    mark: str,
) -> None:
    q = question(**{mark: True})
    assert all(q.visible_to_role(r, False) for r in ROLES)
    assert [r for r in ROLES if q.visible_to_role(r, True)] == ["applicant", "caseworker"]


def test_visible_to_names_exactly_who_sees_an_answer_in_any_programme() -> None:
    shown = question(personal=True, visible_to=["commissioner", "caseworker"])
    assert shown.visible_to_role("commissioner", True)
    assert not shown.visible_to_role("applicant", True)
    kept = question(visible_to=["caseworker"])  # not personal, not anonymised: still obeyed
    assert [r for r in ROLES if kept.visible_to_role(r, False)] == ["caseworker"]


def tiny(tmp_path: Path, question_text: str, programme_text: str = "") -> list[str]:
    """The documented example with one more question and programme keys; its problems."""
    forms = tmp_path / "forms"
    forms.mkdir()
    form = (EXAMPLE / "forms" / "tiny_eoi.yaml").read_text("utf-8") + question_text
    (forms / "tiny_eoi.yaml").write_text(form, "utf-8")
    path = tmp_path / "tiny.yaml"
    path.write_text((EXAMPLE / "programmes" / "tiny.yaml").read_text("utf-8") + programme_text)
    _programme, by_file = Linter().programme(path, forms)
    return [str(p) for ps in by_file.values() for p in ps]


def test_an_unknown_role_in_visible_to_is_a_positioned_problem(tmp_path: Path) -> None:
    problems = tiny(
        tmp_path,
        "      - id: faith\n        type: text\n        label: What is your faith?\n"
        "        visible_to: [applicant, comissioner]\n",
    )
    assert len(problems) == 1
    assert "tiny_eoi.yaml:39:33: error[bad-value]:" in problems[0]
    assert 'did you mean "commissioner"?' in problems[0]


def test_visible_to_must_name_the_people_who_fill_in_the_form(tmp_path: Path) -> None:
    problems = tiny(
        tmp_path,
        "      - id: faith\n        type: text\n        label: What is your faith?\n"
        "        visible_to: [commissioner]\n",
    )
    assert len(problems) == 1
    assert "tiny.yaml:67:9: error[hidden-from-filler]:" in problems[0]
    assert 'question "faith" would be hidden from them' in problems[0]
    assert "add applicant to the question's visible_to" in problems[0]


def test_a_commissioners_form_cannot_hide_personal_answers_from_commissioners(
    tmp_path: Path,
) -> None:
    problems = tiny(
        tmp_path,
        "      - id: referee_name\n        type: text\n        label: Who is your referee?\n"
        "        personal: true\n",
        "reporting:\n  anonymised: true\n",
    )
    assert problems == []  # the applicant fills it in: applicants see personal answers
    by = "    states: [draft]\n    by: [applicant]\n"
    path = tmp_path / "tiny.yaml"
    assert by in path.read_text()
    path.write_text(
        path.read_text().replace(by, "    states: [draft]\n    by: [applicant, commissioner]\n")
    )
    problems = [str(p) for ps in Linter().programme(path, tmp_path / "forms")[1].values() for p in ps]  # fmt: skip
    assert len(problems) == 1 and "error[hidden-from-filler]" in problems[0]
    assert "personal data and this programme's reports are anonymised" in problems[0]


def test_special_category_data_cannot_be_marked_not_personal(tmp_path: Path) -> None:
    problems = tiny(
        tmp_path,
        "      - id: faith\n        type: text\n        label: What is your faith?\n"
        "        special_category: true\n        personal: false\n",
    )
    assert len(problems) == 1 and "error[conflicting-keys]" in problems[0]


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    eng = Engine(
        database_in(tmp_path, "personal"), clock=lambda: datetime(2024, 4, 15, 10, tzinfo=UTC)
    )
    eng.publish(ROOT / "programmes" / "bradford.yaml")
    return eng


def interviewed(engine: Engine) -> int:
    """A Bradford referral, accepted, with its initial interview recorded; its case id."""
    view = engine.start_case(BRADFORD, "referral", AISHA, subject="pseudonymous")
    engine.save_answers(view.id, "bradford_referral", {
        "referral_date": "2024-04-15", "referral_source": "primary_care", "date_of_birth": "1990-01-01",
        "postcode": "BD18 4NP", "pcn_locality": "pcn_4", "has_smi": True,
        "smi_support_situation": "not_supported_elsewhere", "other_vcse_service_could_support": False,
        "agrees_to_referral": True, "consent_to_share_data": True}, AISHA)  # fmt: skip
    engine.act(view.id, "accept_referral", AISHA)
    engine.save_answers(view.id, "bradford_initial_interview", INTERVIEW, AISHA)
    return view.id


INTERVIEW = {
    "interview_date": "2024-04-15", "sex": "female", "gender_same_as_birth": "yes",
    "sexual_orientation": "bisexual", "ethnicity": "asian_pakistani", "religion_or_belief": "muslim",
    "disability": "no", "marriage_or_civil_partnership": "neither", "pregnancy_or_maternity": "no",
    "main_language": "Urdu", "known_diagnoses": ["bipolar"], "wider_factors": ["money_worries"],
}  # fmt: skip


def test_the_engine_gives_a_commissioner_a_view_without_the_personal_answers(
    engine: Engine,
) -> None:
    case = interviewed(engine)
    theirs = engine.case(case, CORA)
    assert theirs.answers["bradford_referral"] == {
        "referral_date": "2024-04-15", "referral_source": "primary_care", "pcn_locality": "pcn_4",
        "other_vcse_service_could_support": False, "agrees_to_referral": True}  # fmt: skip
    assert theirs.answers["bradford_initial_interview"] == {"interview_date": "2024-04-15"}
    assert set(theirs.withheld) == {"bradford_referral", "bradford_initial_interview"}
    mine = engine.case(case, AISHA)
    assert mine.answers["bradford_referral"]["date_of_birth"] == "1990-01-01"
    assert mine.answers["bradford_initial_interview"]["religion_or_belief"] == "muslim"
    assert mine.withheld == ()


def test_a_records_export_leaves_out_what_its_reader_may_not_see(engine: Engine) -> None:
    interviewed(engine)
    programme = engine.programme(BRADFORD)
    form = "bradford_initial_interview"
    engine.act(1, "hold_initial_interview", AISHA)  # submits the interview
    rows = csv.DictReader(io.StringIO(records_csv(engine.store, programme, form, anonymised=True)))
    header = rows.fieldnames or []
    assert "On what date was the initial interview held?" in header
    for hidden in ("sexual orientation", "religion or belief", "ethnic group", "main language"):
        assert f"What is the person's {hidden}?" not in header
    # a caseworker's own, not anonymised, export has what the caseworker sees on the page
    own = records_csv(engine.store, programme, form, anonymised=False, role="caseworker")
    assert "What is the person's religion or belief?" in own.splitlines()[0] and "Muslim" in own
