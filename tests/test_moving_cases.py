"""Moving open cases to a newer version of their programme: the preview, the move, its audit,
and rules over questions the newer version added read as "not answered yet"."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine import Engine
from engine.errors import ActionRefused, NotFound, NotPermitted
from engine.runtime import Actor

from .clock import Clock
from .test_diff_in_words import ON_HOLD, edited

COMMISSIONER = Actor("commissioner", "cleo")
APPLICANT = Actor("applicant", "ann@example.org", "org_a")
PID = "tiny_grants"
ANSWERS = {"org_name": "Ann's group", "income": 50000, "org_type": "charity",
           "priorities": ["isolation"], "summary": "Lunch clubs"}  # fmt: skip

# The newer version: a required question added to the form, read by a new eligibility criterion
# and by the submit action's guard; the summary question gone; "On hold" gone (as in tiny.yaml).
VOLUNTEERS = [(
    "      - id: summary\n        type: textarea\n        label: Describe your project\n        word_limit: 500",
    "      - id: volunteers\n        type: number\n        label: How many volunteers help you?\n        min: 0",
)]  # fmt: skip
CRITERION = [
    ("timeline:", "  - id: volunteers\n    text: Have at least one volunteer\n"
                  "    rule: volunteers >= 1\ntimeline:"),
    ("        eligibility: true\n", "        eligibility: true\n        guard: volunteers < 100\n"
                                    "        guard_message: Tell us about a smaller project\n"),
]  # fmt: skip


@pytest.fixture
def engine(database: str, tmp_path: Path) -> Engine:
    """Version 1 (with "On hold") published, with four cases, then version 2 published."""
    e = Engine(database, clock=Clock("2022-01-10T10:00"))
    e.publish(edited(tmp_path, "v1", ON_HOLD))
    return e


def start(engine: Engine, org: str = "org_a", **answers: object) -> str:
    actor = Actor("applicant", f"{org}@example.org", org)
    case = engine.start_case(PID, "application", actor, organisation_name=org.title())
    engine.save_answers(case.id, "tiny_eoi", {**ANSWERS, **answers}, actor)
    return case.reference


def publish_v2(engine: Engine, tmp_path: Path, extra: list[tuple[str, str]] = ()) -> str:
    engine._clock = Clock("2022-01-12T09:00")  # type: ignore[attr-defined]
    programme, _new = engine.publish(edited(tmp_path, "v2", [*CRITERION, *extra], VOLUNTEERS))
    return programme.version


def test_only_drafts_may_move_by_default_and_each_group_says_why(
    engine: Engine, tmp_path: Path
) -> None:
    draft = start(engine, "org_a")
    held = start(engine, "org_b")
    engine.act(held, "pause", COMMISSIONER)
    sent = start(engine, "org_c")
    engine.act(sent, "submit", Actor("applicant", "org_c@example.org", "org_c"))
    closed = start(engine, "org_d")
    engine.act(closed, "reject", COMMISSIONER, reason="Out of area")
    version = publish_v2(engine, tmp_path)

    to, groups = engine.move_preview(PID, None, COMMISSIONER)

    assert to == version  # the newest by default
    by_state = {g.state_label: g for g in groups}
    assert by_state["Draft"].may_move and [c.reference for c in by_state["Draft"].cases] == [draft]
    assert by_state["Draft"].needs_answers == (
        ("Expression of interest", ("How many volunteers help you?",)),
    )
    # the answer to the question version 2 removed is kept but not shown, and the preview says so
    assert by_state["Draft"].cases[0].set_aside == ("Describe your project",)
    assert by_state["Draft"].cases[0].organisation == "Org_A"
    assert by_state["On hold"].why_not == (
        'the new version has no "On hold" status, so the case would have nowhere to be'
    )
    assert by_state["Submitted"].why_not == 'the new version lets only cases that are "Draft" move'
    assert by_state["Not funded"].why_not.startswith("it is not funded, and a closed case stays")
    assert not any(g.may_move for g in groups if g.state_label != "Draft")


def test_the_newer_version_can_let_more_states_move(engine: Engine, tmp_path: Path) -> None:
    sent = start(engine)
    engine.act(sent, "submit", APPLICANT)
    publish_v2(
        engine,
        tmp_path,
        [("    initial: draft\n", "    initial: draft\n    movable_states: [draft, submitted]\n")],
    )

    [result] = engine.move_cases(PID, None, [sent], COMMISSIONER)

    assert result.moved and result.state_label == "Submitted"


def test_a_move_is_audited_keeps_answers_and_leaves_refused_cases_as_they_were(
    engine: Engine, tmp_path: Path
) -> None:
    draft, other = start(engine, "org_a"), start(engine, "org_b")
    held = start(engine, "org_c")
    engine.act(held, "pause", COMMISSIONER)
    old = engine.case(held, COMMISSIONER)
    version = publish_v2(engine, tmp_path)

    results = engine.move_cases(PID, version, [draft, held, "TG-999999", other], COMMISSIONER,
                                "New form for everyone")  # fmt: skip

    assert [(r.reference, r.moved) for r in results] == [
        (draft, True), (held, False), ("TG-999999", False), (other, True)]  # fmt: skip
    assert results[0].needs_answers == ("How many volunteers help you?",)
    assert results[1].reasons == (
        'the new version has no "On hold" status, so the case would have nowhere to be',
    )
    assert results[2].reasons == ("there is no case TG-999999",)
    after = engine.case(held, COMMISSIONER)
    assert (after.version, after.revision) == (old.version, old.revision)
    moved = engine.case(draft, COMMISSIONER)
    assert moved.version == version
    # the removed question's answer is kept in the record, never shown
    assert "summary" not in moved.answers["tiny_eoi"]
    assert engine.store.answers(moved.id)[0]["data"]["summary"] == "Lunch clubs"
    [entry] = [
        e for e in engine.history(draft, COMMISSIONER) if e["action"] == "moved_to_newer_version"
    ]
    assert entry["actor"] == "cleo" and entry["version"] == version
    assert entry["detail"]["needs_answers"] == {"tiny_eoi": ["volunteers"]}
    assert entry["detail"]["reason"] == "New form for everyone"
    # moving again changes nothing
    [again] = engine.move_cases(PID, version, [draft], COMMISSIONER)
    assert again.reasons == ("it is already on this version",)


def test_a_case_that_changed_since_the_preview_is_checked_again(
    engine: Engine, tmp_path: Path
) -> None:
    draft = start(engine)
    version = publish_v2(engine, tmp_path)
    _to, [group] = engine.move_preview(PID, version, COMMISSIONER)
    assert group.may_move
    engine.act(draft, "submit", APPLICANT)  # on version 1, after the preview

    [result] = engine.move_cases(PID, version, [c.id for c in group.cases], COMMISSIONER)

    assert not result.moved and result.state_label == "Submitted"
    assert result.reasons == ('the new version lets only cases that are "Draft" move',)


def test_a_new_question_is_not_answered_yet_for_every_rule_that_reads_it(
    engine: Engine, tmp_path: Path
) -> None:
    draft = start(engine)
    version = publish_v2(engine, tmp_path)
    engine.move_cases(PID, version, [draft], COMMISSIONER)

    criteria = {c.id: c for c in engine.eligibility(draft, APPLICANT)}
    assert criteria["volunteers"].status == "not_answered"
    assert criteria["volunteers"].message == 'answer "How many volunteers help you?" first'
    [submit] = [a for a in engine.actions(draft, APPLICANT) if a.trigger == "submit"]
    assert not submit.allowed
    said = " ".join(submit.reasons)
    assert "Have at least one volunteer" in said  # not a silent "not met"
    assert 'Tell us about a smaller project: answer "How many volunteers help you?" first' in said
    assert engine.needs_answers(draft, APPLICANT) == {"tiny_eoi": ["How many volunteers help you?"]}

    # answering it: the kept answer is still kept, and the case can be submitted
    engine.save_answers(draft, "tiny_eoi", {"volunteers": 3}, APPLICANT)
    assert engine.needs_answers(draft, APPLICANT) == {}
    case = engine.act(draft, "submit", APPLICANT)
    assert case.state == "submitted"
    assert engine.store.answers(case.id)[0]["data"]["summary"] == "Lunch clubs"


def test_only_a_commissioner_whose_role_reaches_the_programme_moves_cases(
    engine: Engine, tmp_path: Path
) -> None:
    draft = start(engine)
    version = publish_v2(engine, tmp_path)
    elsewhere = Actor("commissioner", "olga", programmes=frozenset({"another"}))
    with pytest.raises(NotFound):
        engine.move_preview(PID, version, elsewhere)
    with pytest.raises(NotFound):
        engine.move_cases(PID, version, [draft], elsewhere)
    with pytest.raises(NotPermitted):
        engine.move_cases(PID, version, [draft], APPLICANT)
    with pytest.raises(NotFound):
        engine.move_preview(PID, "no-such-version", COMMISSIONER)
    assert engine.case(draft, COMMISSIONER).version != version


def test_all_that_may_move_moves_each_and_a_large_programme_is_counted_not_listed(
    engine: Engine, tmp_path: Path
) -> None:
    drafts = [start(engine, f"org_{i}") for i in range(5)]
    version = publish_v2(engine, tmp_path)

    _to, [group] = engine.move_preview(PID, version, COMMISSIONER, shown=2)
    assert (group.count, len(group.cases), group.more) == (5, 2, 3)

    results = engine.move_cases(PID, version, None, COMMISSIONER)
    assert sorted(r.reference for r in results if r.moved) == sorted(drafts)
    assert engine.move_preview(PID, version, COMMISSIONER)[1] == []
    with pytest.raises(ActionRefused, match="no case can move"):
        engine.move_cases(PID, version, None, COMMISSIONER)


def test_movable_states_must_name_open_states_of_the_workflow(tmp_path: Path) -> None:
    from .conftest import EXAMPLE, refusal

    said = refusal(tmp_path / "a", EXAMPLE, "programmes/tiny.yaml", "    initial: draft\n",
                   "    initial: draft\n    movable_states: [draft, sumbitted]\n")  # fmt: skip
    assert 'there is no state "sumbitted" in workflow "application"' in said
    assert 'did you mean "submitted"' in said.lower()
    assert "tiny.yaml:40:29: error[unknown-state]" in said  # where it is written
    said = refusal(tmp_path / "b", EXAMPLE, "programmes/tiny.yaml", "    initial: draft\n",
                   "    initial: draft\n    movable_states: [awarded]\n")  # fmt: skip
    assert '"awarded" is a final state, so its cases never move' in said


def test_a_rule_reading_answers_dot_a_new_question_asks_for_it_too(
    engine: Engine, tmp_path: Path
) -> None:
    draft = start(engine)
    extra = [("timeline:", "  - id: some_help\n    text: Have some help\n"
                           "    rule: answers.volunteers > 0\ntimeline:")]  # fmt: skip
    engine.move_cases(PID, publish_v2(engine, tmp_path, extra), [draft], COMMISSIONER)

    criteria = {c.id: c for c in engine.eligibility(draft, APPLICANT)}

    assert criteria["some_help"].status == "not_answered"
    assert criteria["some_help"].message == 'answer "How many volunteers help you?" first'


def test_a_case_moved_to_a_version_labelling_cases_by_an_answer_is_listed_by_it(
    engine: Engine, tmp_path: Path
) -> None:
    draft = start(engine)
    assert engine.store.case_by_reference(draft)["label"] is None  # version 1 names no label
    version = publish_v2(engine, tmp_path, [("    initial: draft", "    label_question: org_name\n    initial: draft")])  # fmt: skip
    [moved] = engine.move_cases(PID, version, [draft], COMMISSIONER)
    assert moved.moved
    assert engine.store.case_by_reference(draft)["label"] == "Ann's group"
    total, rows = engine.store.find_cases(search="ANN'S", labels=True)
    assert total == 1 and rows[0]["reference"] == draft and rows[0]["label"] == "Ann's group"
