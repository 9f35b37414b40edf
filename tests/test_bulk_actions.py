"""One action on many cases: each case checked as a single action is, each its own transaction."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.errors import ActionRefused
from engine.runtime import Actor, Engine
from engine.runtime.bulk import MOST_AT_ONCE, UNEXPECTED

from .clock import Clock
from .conftest import ROOT
from .databases import database_in
from .web.test_generic import EOI_ANSWERS

LIVERPOOL = "liverpool_life_rooms_2022"
EOI = "liverpool_expression_of_interest"
CORA = Actor("commissioner", "cora")
INCOME = (
    "Your organisation's income in its last accounts must be over £750,000: you entered £500,000."
)


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    """Liverpool published, before its expression of interest deadline."""
    e = Engine(database_in(tmp_path), clock=Clock("2022-01-20T10:00"))
    e.publish(ROOT / "programmes" / "liverpool.yaml")
    return e


def submitted_eoi(engine: Engine, org: str, **answers: object) -> str:
    """An expression of interest of organisation `org`, answered and submitted; its reference."""
    actor = Actor("applicant", f"{org}@example.org", org)
    case = engine.start_case(LIVERPOOL, "application", actor, organisation_name=org.title())
    engine.save_answers(case.id, EOI, {**EOI_ANSWERS, **answers}, actor)
    return engine.act(case.id, "submit_eoi", actor).reference


def test_each_case_is_done_or_refused_on_its_own_with_the_reasons_a_single_action_gives(
    engine: Engine,
) -> None:
    first, second = submitted_eoi(engine, "org_a"), submitted_eoi(engine, "org_b")
    small = submitted_eoi(engine, "org_c", income=500000)
    before = engine.case(small, CORA)

    results = engine.act_on_many([first, small, second], "confirm_eligible", CORA)

    assert [(r.reference, r.done, r.state_label) for r in results] == [
        (first, True, "Eligible"),
        (small, False, "Expression of interest submitted"),
        (second, True, "Eligible"),
    ]
    assert INCOME in " ".join(results[1].reasons)
    # the refused case is exactly as it was: same state, same revision, no new history
    after = engine.case(small, CORA)
    assert (after.state, after.revision) == (before.state, before.revision)
    assert [e["action"] for e in engine.history(small, CORA)][-1] == "submit_eoi"
    # a single action on the same case is refused for the same reasons
    with pytest.raises(ActionRefused) as single:
        engine.act(small, "confirm_eligible", CORA)
    assert tuple(single.value.reasons) == results[1].reasons


def test_an_error_on_one_case_undoes_only_that_case(engine: Engine) -> None:
    refs = [submitted_eoi(engine, f"org_{x}") for x in "abc"]
    broken = engine.case(refs[1], CORA).id
    audit = engine.store.audit

    def failing_audit(case_id: int, *args: object) -> None:
        if case_id == broken:  # after the case's new state is written: it must be rolled back
            raise RuntimeError("disk full")
        audit(case_id, *args)

    engine.store.audit = failing_audit  # type: ignore[method-assign]
    results = engine.act_on_many(refs, "confirm_eligible", CORA)
    engine.store.audit = audit  # type: ignore[method-assign]

    assert [r.done for r in results] == [True, False, True]
    assert results[1].reasons == (UNEXPECTED,) and "disk full" not in results[1].reasons[0]
    assert [engine.case(r, CORA).state for r in refs] == ["eligible", "eoi_submitted", "eligible"]


def test_a_reason_the_action_needs_is_given_once_for_every_case(engine: Engine) -> None:
    refs = [submitted_eoi(engine, "org_a"), submitted_eoi(engine, "org_b")]
    refused = engine.act_on_many(refs, "find_ineligible", CORA)
    assert [(r.done, r.reasons) for r in refused] == [(False, ("give a reason",))] * 2

    done = engine.act_on_many(
        refs, "find_ineligible", CORA, reason="Safeguarding policy out of date"
    )
    assert [(r.done, r.state_label) for r in done] == [(True, "Not eligible")] * 2
    assert all(engine.history(r, CORA)[-1]["detail"]["reason"] == "Safeguarding policy out of date"
               for r in refs)  # fmt: skip


def test_a_case_that_moved_meanwhile_or_does_not_exist_is_not_done(engine: Engine) -> None:
    moved, waiting = submitted_eoi(engine, "org_a"), submitted_eoi(engine, "org_b")
    engine.act(moved, "confirm_eligible", CORA)  # someone else decided it meanwhile

    results = engine.act_on_many(
        [moved, waiting, "LLR-NOPE"], "find_ineligible", CORA,
        expected_state="eoi_submitted", reason="Not local",
    )  # fmt: skip

    assert [(r.done, r.state_label) for r in results] == [
        (False, "Eligible"), (True, "Not eligible"), (False, "")
    ]  # fmt: skip
    assert "changed while you were looking at it" in results[0].reasons[0]
    assert results[2].reasons == ("there is no case LLR-NOPE",) and not results[2].found
    assert engine.case(moved, CORA).state == "eligible"


def test_a_commissioner_of_another_programme_changes_nothing(engine: Engine) -> None:
    ref = submitted_eoi(engine, "org_a")
    elsewhere = Actor("commissioner", "cal", programmes=frozenset({"another_programme"}))

    results = engine.act_on_many([ref], "confirm_eligible", elsewhere)

    assert [(r.done, r.found, r.state_label) for r in results] == [(False, False, "")]
    assert engine.case(ref, CORA).state == "eoi_submitted"


def test_the_batch_is_bounded_and_nothing_is_done_past_the_bound(engine: Engine) -> None:
    ref = submitted_eoi(engine, "org_a")
    many = [ref, *(f"REF-{n}" for n in range(MOST_AT_ONCE))]
    with pytest.raises(
        ActionRefused, match=f"at most {MOST_AT_ONCE} cases at a time: you chose 501"
    ):
        engine.act_on_many(many, "confirm_eligible", CORA)
    assert engine.case(ref, CORA).state == "eoi_submitted"
    with pytest.raises(ActionRefused, match="choose at least one case"):
        engine.act_on_many([], "confirm_eligible", CORA)
    # the same case named twice is acted on once
    assert len(engine.act_on_many([ref, ref], "confirm_eligible", CORA)) == 1


def test_the_actions_offered_for_a_state_are_the_roles_own(engine: Engine) -> None:
    offered = engine.bulk_actions(LIVERPOOL, "application", "eoi_submitted", CORA)
    assert [(a.label, a.needs_reason) for a in offered] == [
        ("Confirm eligible", False), ("Mark as not eligible", True)
    ]  # fmt: skip
    assert engine.bulk_actions(LIVERPOOL, "application", "proposal_submitted", CORA) == []
