"""Computed questions (a total worked out, never typed) and each record's own date, in the engine."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from engine.definition.loader import Linter
from engine.errors import AnswersInvalid
from engine.runtime import Actor, Engine

from .databases import database_in

SAM = Actor("caseworker", "sam", "hub")

PROGRAMME = {
    "id": "visits",
    "name": "Home visits",
    "timezone": "Europe/London",
    "currency": "GBP",
    "funding": {"total": 1000},
    "workflows": {
        "referral": {
            "title": "Referral",
            "subject": "person",
            "initial": "open",
            "states": [{"id": "open", "label": "Open"}, {"id": "closed", "label": "Closed", "final": True}],
            "transitions": [{"trigger": "close", "source": "open", "dest": "closed", "by": ["caseworker"]}],
        }
    },
    "forms": [
        {"form": "visit", "workflow": "referral", "by": ["caseworker"], "repeatable": True},
        {"form": "booking", "workflow": "referral", "by": ["caseworker"], "repeatable": True,
         "future_dates": True},
    ],
}  # fmt: skip

VISIT = {
    "id": "visit",
    "title": "Visit record",
    "pages": [
        {
            "id": "visit",
            "title": "The visit",
            "questions": [
                {"id": "visit_date", "type": "date", "label": "When was the visit?"},
                {"id": "next_visit", "type": "date", "label": "When is the next visit?", "required": False},
                {"id": "mood", "type": "scale", "label": "Mood", "min": 1, "max": 5},
                {"id": "sleep", "type": "scale", "label": "Sleep", "min": 1, "max": 5},
                {"id": "work_applies", "type": "yesno", "label": "Is work relevant?"},
                {"id": "work", "type": "scale", "label": "Work", "min": 1, "max": 5, "show_if": "work_applies"},
                {"id": "total", "type": "number", "label": "Total score",
                 "compute": "mood + sleep + (work_applies ? work : 0)"},
            ],
        }
    ],
    "rules": [{"id": "high", "rule": "total <= 14", "message": "A total over 14 needs a second visit", "question": "total"}],
}  # fmt: skip

BOOKING = {
    "id": "booking",
    "title": "Booking",
    "pages": [{"id": "booking", "title": "Booking", "questions": [
        {"id": "booked_for", "type": "date", "label": "When is it booked for?"}]}],
}  # fmt: skip


def write(tmp_path: Path, programme: dict, *forms: dict) -> Path:
    (tmp_path / "forms").mkdir(exist_ok=True)
    for form in forms:
        (tmp_path / "forms" / f"{form['id']}.yaml").write_text(
            yaml.safe_dump(form, sort_keys=False)
        )
    path = tmp_path / "programme.yaml"
    path.write_text(yaml.safe_dump(programme, sort_keys=False))
    return path


def problems(tmp_path: Path, programme: dict, *forms: dict) -> list[str]:
    path = write(tmp_path, programme, *forms)
    _programme, by_file = Linter().programme(path, tmp_path / "forms")
    return [f"{p.code}: {p.message}" for ps in by_file.values() for p in ps]


class Clock:
    moment = datetime(2024, 4, 15, 14, tzinfo=UTC)  # 3pm on 15 April 2024 in London

    def __call__(self) -> datetime:
        return self.moment


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def engine(tmp_path: Path, clock: Clock) -> Engine:
    eng = Engine(database_in(tmp_path, "computed"), clock=clock)
    eng.publish(write(tmp_path, PROGRAMME, VISIT, BOOKING), tmp_path / "forms")
    return eng


def visit(**answers: object) -> dict[str, object]:
    return {"visit_date": "2024-04-15", "mood": 3, "sleep": 4, "work_applies": False, **answers}


def test_a_total_is_worked_out_and_stored_whatever_was_typed(engine: Engine) -> None:
    case = engine.start_case("visits", "referral", SAM, subject="pseudonymous")
    view = engine.save_answers(case.id, "visit", visit(total=99), SAM)
    assert view.records["visit"][0]["total"] == 7
    view = engine.save_answers(case.id, "visit", visit(work_applies=True, work=5), SAM)
    assert view.records["visit"][1]["total"] == 12  # the branch taken reads the ninth score


def test_rules_read_the_worked_out_total(engine: Engine) -> None:
    case = engine.start_case("visits", "referral", SAM, subject="pseudonymous")
    with pytest.raises(AnswersInvalid) as refused:
        engine.save_answers(
            case.id, "visit", visit(mood=5, sleep=5, work_applies=True, work=5), SAM
        )
    assert refused.value.errors == {"total": ["A total over 14 needs a second visit"]}


def test_a_draft_has_no_total_until_every_score_it_adds_is_given(engine: Engine) -> None:
    case = engine.start_case("visits", "referral", SAM, subject="pseudonymous")
    draft = engine.save_record_draft(case.id, "visit", {"visit_date": "2024-04-15", "mood": 3}, SAM)
    assert "total" not in draft
    draft = engine.save_record_draft(case.id, "visit", {"sleep": 2, "work_applies": False}, SAM)
    assert draft["total"] == 5


def test_a_record_dated_after_today_is_refused_unless_its_form_looks_ahead(
    engine: Engine, clock: Clock
) -> None:
    case = engine.start_case("visits", "referral", SAM, subject="pseudonymous")
    with pytest.raises(AnswersInvalid) as refused:  # what the CLI's `answer` calls too
        engine.save_answers(case.id, "visit", visit(visit_date="2024-04-16"), SAM)
    assert refused.value.errors == {"visit_date": ["The date of the visit must be today or in the past"]}  # fmt: skip
    with pytest.raises(AnswersInvalid, match="today or in the past"):  # a draft is told at once
        engine.save_record_draft(case.id, "visit", {"visit_date": "2024-04-16"}, SAM)
    engine.save_answers(case.id, "visit", visit(next_visit="2024-05-01"), SAM)  # not its own date
    view = engine.save_answers(case.id, "booking", {"booked_for": "2024-06-01"}, SAM)
    assert view.records["booking"] == [{"booked_for": "2024-06-01"}]  # future_dates: true
    clock.moment = datetime(2024, 4, 15, 23, 30, tzinfo=UTC)  # already 16 April in London
    view = engine.save_answers(case.id, "visit", visit(visit_date="2024-04-16"), SAM)
    assert len(view.records["visit"]) == 2


def test_record_date_names_the_question_that_dates_a_record(tmp_path: Path, clock: Clock) -> None:
    ahead_first = {**VISIT, "pages": [{**VISIT["pages"][0], "questions": [
        VISIT["pages"][0]["questions"][1], VISIT["pages"][0]["questions"][0], *VISIT["pages"][0]["questions"][2:]]}]}  # fmt: skip
    named = {**PROGRAMME, "forms": [{**PROGRAMME["forms"][0], "record_date": "visit_date"}, PROGRAMME["forms"][1]]}  # fmt: skip
    assert problems(tmp_path, named, ahead_first, BOOKING) == []
    eng = Engine(database_in(tmp_path, "named"), clock=clock)
    eng.publish(write(tmp_path, named, ahead_first, BOOKING), tmp_path / "forms")
    case = eng.start_case("visits", "referral", SAM, subject="pseudonymous")
    eng.save_answers(case.id, "visit", visit(next_visit="2024-05-01"), SAM)  # a plan ahead is fine
    with pytest.raises(AnswersInvalid, match="The date of the visit must be today or in the past"):
        eng.save_answers(case.id, "visit", visit(visit_date="2024-04-20"), SAM)


def test_record_date_and_future_dates_are_checked(tmp_path: Path) -> None:
    wrong = {**PROGRAMME, "forms": [
        {**PROGRAMME["forms"][0], "record_date": "mood"},
        {"form": "booking", "workflow": "referral", "by": ["caseworker"], "future_dates": True},
    ]}  # fmt: skip
    found = problems(tmp_path, wrong, VISIT, BOOKING)
    assert any(p.startswith('unknown-question: there is no date question "mood"') for p in found), found  # fmt: skip
    assert any(p.startswith('key-not-for-form: form "booking" is filled in once per case') for p in found), found  # fmt: skip


def _with_question(**changes: object) -> dict:
    qs = [q for q in VISIT["pages"][0]["questions"] if q["id"] != "total"]
    return {**VISIT, "rules": [], "pages": [{**VISIT["pages"][0], "questions": [*qs, {"id": "total", "type": "number", "label": "Total", **changes}]}]}  # fmt: skip


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        ({"compute": "mood + slep"}, 'the compute of question "total" reads "slep", which is not a question'),
        ({"compute": "mood + sleep", "min": 2}, 'question "total" is computed, never typed, so "min" does nothing'),
        ({"compute": "mood + sleep", "type": "text"}, '"compute" does nothing; it is for number, decimal, money, percent'),
        ({"compute": 'mood + "1"'}, "expression-type"),
    ],
)  # fmt: skip
def test_a_computed_questions_mistakes_are_found_where_they_are(
    tmp_path: Path, changes: dict, says: str
) -> None:
    found = problems(tmp_path, PROGRAMME, _with_question(**changes), BOOKING)
    assert any(says in p for p in found), found


def test_a_computed_question_reads_no_other_computed_one_and_a_page_must_ask_something(
    tmp_path: Path,
) -> None:
    form = _with_question(compute="mood + sleep")
    form["pages"].append({"id": "sums", "title": "Sums", "questions": [
        {"id": "double", "type": "number", "label": "Double", "compute": "total * 2"}]})  # fmt: skip
    found = problems(tmp_path, PROGRAMME, form, BOOKING)
    assert any('reads "total", which is itself computed' in p for p in found), found
    assert any(p.startswith('nothing-asked: page "sums" has only computed questions') for p in found), found  # fmt: skip
