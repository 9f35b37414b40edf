"""The engine's guarantees that no single journey shows: versions, concurrency, faults, access."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from engine.errors import (
    ActionRefused,
    AnswersInvalid,
    DatabaseError,
    NotFound,
    NotPermitted,
    StaleCase,
)
from engine.runtime import Actor, Engine
from engine.store import SCHEMA_VERSION, Store

from .conftest import EXAMPLE, ROOT
from .databases import database_in

ANN = Actor("applicant", "ann", "org_a")
BOB = Actor("applicant", "bob", "org_b")
CORA = Actor("commissioner", "cora")
JAN_10 = datetime(2022, 1, 10, 12, 0, tzinfo=UTC)
GOOD = {
    "org_name": "Org A",
    "income": 50000,
    "org_type": "charity",
    "priorities": ["isolation"],
    "summary": "Lunch club",
}


def copy_example(tmp_path: Path, edit=None) -> Path:
    (tmp_path / "programmes").mkdir(exist_ok=True)
    (tmp_path / "forms").mkdir(exist_ok=True)
    (tmp_path / "forms" / "tiny_eoi.yaml").write_bytes(
        (EXAMPLE / "forms" / "tiny_eoi.yaml").read_bytes()
    )
    text = (EXAMPLE / "programmes" / "tiny.yaml").read_text("utf-8")
    path = tmp_path / "programmes" / "tiny.yaml"
    path.write_text(edit(text) if edit else text, "utf-8")
    return path


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    e = Engine(database_in(tmp_path, "engine"), clock=lambda: JAN_10)
    e.publish(copy_example(tmp_path))
    return e


def submitted(engine: Engine, actor: Actor = ANN) -> int:
    case = engine.start_case("tiny_grants", "application", actor)
    engine.save_answers(case.id, "tiny_eoi", GOOD, actor)
    return engine.act(case.id, "submit", actor).id


def test_a_case_keeps_the_version_it_started_under(tmp_path: Path, engine: Engine) -> None:
    old = engine.start_case("tiny_grants", "application", ANN)
    # the commissioner adds a shortlisting step and republishes
    edited = copy_example(tmp_path, lambda t: t.replace(
        "      - {id: submitted, label: Submitted}",
        "      - {id: submitted, label: Submitted}\n      - {id: shortlisted, label: Shortlisted}",
    ).replace("      - trigger: award\n", "      - trigger: shortlist\n        source: submitted\n        dest: shortlisted\n        by: [assessor]\n      - trigger: award\n        source: shortlisted\n        dest: awarded\n        by: [commissioner]\n        effects: [{do: record_award}]\n      - trigger: award_direct\n"))  # fmt: skip
    programme, new = Engine(engine.store).publish(edited)
    assert new and programme.version != old.version
    fresh = engine.start_case("tiny_grants", "application", ANN)
    assert fresh.version == programme.version
    assert engine.case(old.id, ANN).version == old.version
    engine.save_answers(old.id, "tiny_eoi", GOOD, ANN)
    engine.act(old.id, "submit", ANN)
    with pytest.raises(NotFound, match="shortlist"):  # the old case's workflow has no such step
        engine.act(old.id, "shortlist", Actor("assessor", "ada"))
    counts = {v["version"]: v["cases"] for v in engine.store.versions("tiny_grants")}
    assert counts == {old.version: 1, programme.version: 1}


def test_two_people_acting_at_once_one_wins_and_the_other_is_told(
    tmp_path: Path, engine: Engine
) -> None:
    case_id = submitted(engine)
    looked = engine.case(case_id, CORA)
    other = Engine(database_in(tmp_path, "engine"), clock=lambda: JAN_10)  # a second web worker
    other.act(case_id, "reject", CORA, reason="Out of area", expected_revision=looked.revision)
    with pytest.raises(StaleCase, match="changed while you were looking"):
        engine.act(case_id, "award", CORA, amount=10000, expected_revision=looked.revision)
    assert engine.case(case_id, CORA).state == "rejected"
    assert engine.store.award_totals("tiny_grants")["count"] == 0


def test_refusals_name_every_reason(engine: Engine) -> None:
    case = engine.start_case("tiny_grants", "application", ANN)
    engine.save_answers(case.id, "tiny_eoi", {"income": 2_000_000}, ANN)
    with pytest.raises(ActionRefused) as err:
        engine.act(case.id, "submit", ANN)
    text = str(err.value)
    assert "£2,000,000" in text  # the eligibility criterion's own words, with the answer
    assert "What is your organisation's name?" in text  # an unanswered required question


CRITERIA = """eligibility:
  - id: founded
    text: Have been running for at least a year.
    rule: founded < 2022
    failure: "You must have been running for a year: you told us you started in {{ founded }}"
  - id: reach
    text: Reach fewer than 10,000 people.
    rule: reach < 10000
    failure: "You must reach fewer than 10,000 people: you told us {{ reach }}"
  - id: big_enough
    text: Have an income of £10,000 or more.
    rule: income >= 10000
    failure: "Your income must be £10,000 or more: you entered £{{ income }}"
"""
QUESTIONS = """      - id: founded
        type: number
        label: In what year did your organisation start?
        required: false
      - id: reach
        type: number
        label: How many people will your project reach?
        required: false
"""


def with_numbers(tmp_path: Path) -> Engine:
    """The worked example with a year, a count and a lower income limit to refuse on."""

    def edit(text: str) -> str:
        text = text.replace("eligibility:\n", CRITERIA)
        return text.replace(
            "        eligibility: true\n",
            "        eligibility: true\n"
            "        guard: reach > 0\n"
            "        guard_message: A project must reach at least one person.\n",
        )

    path = copy_example(tmp_path, edit)
    form = tmp_path / "forms" / "tiny_eoi.yaml"
    form.write_text(
        form.read_text("utf-8").replace(
            "      - id: org_type\n", QUESTIONS + "      - id: org_type\n"
        ),
        "utf-8",
    )
    e = Engine(database_in(tmp_path, "numbers"), clock=lambda: JAN_10)
    e.publish(path)
    return e


def test_a_year_in_a_refusal_reads_as_typed_and_big_numbers_and_money_have_commas(
    tmp_path: Path,
) -> None:
    engine = with_numbers(tmp_path)
    case = engine.start_case("tiny_grants", "application", ANN)
    answers = {**GOOD, "income": 5000, "founded": 2023, "reach": 12500}
    engine.save_answers(case.id, "tiny_eoi", answers, ANN)
    with pytest.raises(ActionRefused) as err:
        engine.act(case.id, "submit", ANN)
    assert err.value.reasons == [
        "You must have been running for a year: you told us you started in 2023",
        "You must reach fewer than 10,000 people: you told us 12,500",
        "Your income must be £10,000 or more: you entered £5,000",
    ]


def test_a_reason_written_as_a_sentence_is_not_punctuated_twice(tmp_path: Path) -> None:
    engine = with_numbers(tmp_path)
    case = engine.start_case("tiny_grants", "application", ANN)
    engine.save_answers(case.id, "tiny_eoi", GOOD, ANN)  # neither the year nor the reach
    with pytest.raises(ActionRefused) as err:
        engine.act(case.id, "submit", ANN)
    assert err.value.reasons == [
        'Have been running for at least a year. Answer "In what year did your organisation '
        'start?" first',
        'Reach fewer than 10,000 people. Answer "How many people will your project reach?" first',
        'A project must reach at least one person. Answer "How many people will your project '
        'reach?" first',
    ]
    assert ".:" not in str(err.value)


def test_bad_requests_are_named(engine: Engine) -> None:
    case_id = submitted(engine)
    with pytest.raises(NotFound, match="there is no case 999"):
        engine.case(999, CORA)
    with pytest.raises(NotFound, match='did you mean "award"'):
        engine.act(case_id, "awrd", CORA)
    with pytest.raises(ActionRefused, match="cannot be taken while the case is submitted"):
        engine.act(case_id, "submit", ANN)
    with pytest.raises(NotPermitted, match="taken by commissioner"):
        engine.act(case_id, "award", ANN, amount=10000)
    with pytest.raises(AnswersInvalid) as err:
        engine.save_answers(engine.start_case("tiny_grants", "application", ANN).id, "tiny_eoi",
                            {"income": "lots", "org_type": "plc"}, ANN)  # fmt: skip
    assert set(err.value.errors) == {"income", "org_type"}


def test_an_applicant_never_sees_another_organisations_case(engine: Engine) -> None:
    case_id = submitted(engine, ANN)
    for call in (lambda: engine.case(case_id, BOB), lambda: engine.history(case_id, BOB),
                 lambda: engine.act(case_id, "award", BOB), lambda: engine.save_answers(case_id, "tiny_eoi", GOOD, BOB)):  # fmt: skip
        with pytest.raises(NotFound):
            call()


def test_money_rules_refuse_with_the_rule_and_the_amount(engine: Engine) -> None:
    with pytest.raises(ActionRefused, match="at most £20,000; £25,000 is £5,000 too much"):
        engine.act(submitted(engine), "award", CORA, amount=25000, lot="north")
    for _ in range(2):
        engine.act(submitted(engine), "award", CORA, amount=20000, lot="north")
    with pytest.raises(ActionRefused, match=r"£10,000 over its £50,000 budget"):
        engine.act(submitted(engine), "award", CORA, amount=20000, lot="north")


def test_awards_made_at_the_same_moment_by_several_processes_stay_within_the_budget(
    tmp_path: Path, engine: Engine
) -> None:
    # three web workers (each its own connection) award £20,000 from North's £50,000 at once:
    # writers take turns, so the third sees the first two and is refused
    cases = [submitted(engine) for _ in range(3)]
    workers = [Engine(database_in(tmp_path, "engine"), clock=lambda: JAN_10) for _ in cases]
    start = threading.Barrier(len(cases))
    outcomes: list[str] = []

    def award(worker: Engine, case_id: int) -> None:
        start.wait()
        try:
            worker.act(case_id, "award", CORA, amount=20000, lot="north")
            outcomes.append("awarded")
        except ActionRefused as exc:
            outcomes.append(str(exc))

    threads = [
        threading.Thread(target=award, args=pair) for pair in zip(workers, cases, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("awarded") == 2
    [refused] = [o for o in outcomes if o != "awarded"]
    assert "£10,000 over its £50,000 budget" in refused
    assert engine.store.award_totals("tiny_grants")["lots"]["north"]["amount"] == 40000


def test_the_audit_log_cannot_be_rewritten(engine: Engine) -> None:
    case_id = submitted(engine)
    with pytest.raises(DatabaseError, match="append-only"):
        engine.store.execute(
            "UPDATE audit SET actor_role = 'commissioner' WHERE case_id = ?", (case_id,)
        )
    with pytest.raises(DatabaseError, match="append-only"):
        engine.store.execute("DELETE FROM audit")
    history = engine.history(case_id, ANN)
    assert [(e["action"], e["from"], e["to"]) for e in history] == [
        ("start", None, "draft"), ("answer", "draft", "draft"), ("submit", "draft", "submitted")]  # fmt: skip


@pytest.mark.sqlite_only  # another program holding the file's write lock
def test_a_busy_database_is_a_sentence_not_a_hang(tmp_path: Path, engine: Engine) -> None:
    case_id = submitted(engine)
    blocker = sqlite3.connect(tmp_path / "engine.db", isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        quick = Engine(Store(tmp_path / "engine.db", timeout=0.05), clock=lambda: JAN_10)
        with pytest.raises(DatabaseError, match="busy with another action; try again"):
            quick.act(case_id, "reject", CORA, reason="x")
    finally:
        blocker.execute("ROLLBACK")
    assert engine.case(case_id, CORA).state == "submitted"


@pytest.mark.sqlite_only  # SQLite's own read-only switch
def test_a_read_only_database_is_named(engine: Engine) -> None:
    case_id = submitted(engine)
    engine.store.db.execute("PRAGMA query_only = ON")
    with pytest.raises(DatabaseError, match="read-only"):
        engine.act(case_id, "reject", CORA, reason="x")


@pytest.mark.sqlite_only  # files from older versions (PostgreSQL's: tests/test_store_schema.py)
def test_an_older_or_newer_database_is_refused_with_what_to_do(tmp_path: Path) -> None:
    old = tmp_path / "old.db"
    with sqlite3.connect(old) as conn:
        conn.execute("CREATE TABLE legacy (note TEXT)")
        conn.execute("INSERT INTO legacy VALUES ('kept')")
    with pytest.raises(DatabaseError, match="commission db upgrade"):
        Engine(old)
    store = Store(old, check=False)
    assert store.upgrade() == list(range(1, SCHEMA_VERSION + 1))
    assert Engine(old).store.schema_version() == SCHEMA_VERSION
    assert store.db.execute("SELECT note FROM legacy").fetchone() == ("kept",)  # upgraded in place
    newer = tmp_path / "newer.db"
    with sqlite3.connect(newer) as conn:
        conn.execute("PRAGMA user_version = 99")
    with pytest.raises(DatabaseError, match="newer version of the engine"):
        Engine(newer)


CRASH = r"""
import os, sys
from datetime import datetime, UTC
from engine.runtime import Actor, Engine
from engine.store import Store
point = sys.argv[3]
real = getattr(Store, point)
def die(self, *args, **kwargs):
    if point != "move_case":
        os._exit(9)
    real(self, *args, **kwargs)  # the state is written, then the process is killed
    os._exit(9)
setattr(Store, point, die)
engine = Engine(sys.argv[1], clock=lambda: datetime(2022, 1, 10, 12, tzinfo=UTC))
engine.act(int(sys.argv[2]), "award", Actor("commissioner", "cora"), amount=10000, lot="north")
"""


# The award action writes, in order: the award row, the new state, the audit event, then commits.
@pytest.mark.parametrize("point", ["insert_award", "move_case", "audit"])
def test_a_process_killed_mid_action_leaves_the_case_fully_before_it(
    tmp_path: Path, engine: Engine, point: str
) -> None:
    case_id = submitted(engine)
    before = engine.case(case_id, CORA)
    events = len(engine.history(case_id, CORA))
    result = subprocess.run([sys.executable, "-c", CRASH, str(database_in(tmp_path, "engine")), str(case_id), point],
                            cwd=ROOT, capture_output=True, text=True)  # fmt: skip
    assert result.returncode == 9, result.stderr
    again = Engine(database_in(tmp_path, "engine"), clock=lambda: JAN_10)
    after = again.case(case_id, CORA)
    assert (
        (after.state, after.revision)
        == (before.state, before.revision)
        == ("submitted", before.revision)
    )
    assert len(again.history(case_id, CORA)) == events
    assert again.store.award_totals("tiny_grants") == {"count": 0, "amount": 0, "lots": {}}
    again.act(
        case_id, "award", CORA, amount=10000, lot="north"
    )  # and the case is usable afterwards
    assert again.case(case_id, CORA).state == "awarded"


def test_a_date_quoted_in_a_failure_reads_as_a_date(tmp_path: Path) -> None:
    engine = Engine(database_in(tmp_path), clock=lambda: datetime(2022, 1, 10, tzinfo=UTC))
    engine.publish(ROOT / "programmes" / "liverpool.yaml")
    case = engine.start_case("liverpool_life_rooms_2022", "application", ANN)
    engine.save_answers(case.id, "liverpool_expression_of_interest", {"date_established": "2021-06-01"}, ANN)  # fmt: skip
    [established] = [c for c in engine.eligibility(case.id, ANN) if c.id == "established_12_months"]
    assert established.status == "not_met"
    assert established.message.endswith("You told us it was established on 1 June 2021.")
