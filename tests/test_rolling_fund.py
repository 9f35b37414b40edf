"""The fourth programme, written from the docs alone: a rolling fund with a pass mark, an award
paid in two instalments worked out by the engine, and a report due six months after the award."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from engine.errors import ActionRefused, NotFound
from engine.runtime import Actor, Engine
from engine.runtime.instalments import award_mismatch, next_problems, plan
from engine.scheduler.sweeper import sweep
from engine.timeline.planner import dry_run

from .clock import Clock
from .conftest import EXAMPLE, account
from .databases import database_in

FUND = "neighbourhood_rolling_fund"
PROGRAMME = EXAMPLE / "programmes" / "rolling_fund.yaml"
GROUP = Actor("applicant", "gita@group.example", "lark_lane")
CORA = Actor("commissioner", "cora")
APPLICATION = {
    "group_name": "Lark Lane Lunch Club", "annual_income": 40_000, "works_in_borough": True,
    "project_summary": "A weekly lunch and a lift there.", "amount_requested": 7_777,
}  # fmt: skip


@pytest.fixture
def fund(tmp_path: Path) -> tuple[Engine, Clock]:
    clock = Clock("2025-05-06T10:00")
    engine = Engine(database_in(tmp_path, "fund"), clock=clock)
    engine.publish(PROGRAMME, EXAMPLE / "forms")
    with engine.store.transaction():
        engine.store.ensure_organisation("lark_lane", "Lark Lane Lunch Club", "2025-01-01")
        engine.store.create_user("gita@group.example", None, "Gita", "applicant", "lark_lane", "2025-01-01")  # fmt: skip
        account(engine.store, "cora@council.example", "Cora", "commissioner", at="2025-01-01")
    return engine, clock


def assessed(engine: Engine, *means: tuple[int, int, int]) -> int:
    case = engine.start_case(FUND, "application", GROUP)
    engine.save_answers(case.id, "rolling_application", APPLICATION, GROUP)
    engine.act(case.id, "submit", GROUP)
    for i, (need, delivery, value) in enumerate(means):
        engine.assess(case.id, Actor("assessor", f"panel{i}"),
                      scores={"need": need, "delivery": delivery, "value": value}, recommendation="recommend")  # fmt: skip
    engine.act(case.id, "complete_assessment", Actor("assessor", "panel0"))
    return case.id


def test_the_fund_rolls_from_its_opening_with_no_deadline(fund: tuple[Engine, Clock]) -> None:
    engine, clock = fund
    clock.set("2025-03-31T12:00")
    with pytest.raises(ActionRefused, match="it opens at 9am on Tuesday 1 April 2025"):
        engine.start_case(FUND, "application", GROUP)
    clock.set("2031-11-20T12:00")  # years later, still open
    assert engine.start_case(FUND, "application", GROUP).state == "draft"


def test_a_project_below_the_pass_mark_is_not_funded(fund: tuple[Engine, Clock]) -> None:
    engine, _ = fund
    weak = assessed(engine, (3, 2, 2), (2, 2, 3))  # 2.5 and 2.2 out of 5
    with pytest.raises(ActionRefused) as refused:
        engine.act(weak, "fund", CORA)
    assert refused.value.reasons == [
        "the assessors' weighted mean score is 2.35 out of 5, below the pass mark of 3"
    ]


def test_the_grant_is_paid_in_two_instalments_the_engine_works_out(fund: tuple[Engine, Clock]) -> None:  # fmt: skip
    engine, _ = fund
    application = assessed(engine, (4, 4, 3), (4, 3, 4))
    engine.act(application, "fund", CORA)  # the amount asked for: £7,777
    [grant] = engine.store.children(application)
    no_agreement = {o.trigger: o for o in engine.actions(grant, CORA)}
    assert not no_agreement["sign_agreement"].reasons
    engine.act(grant, "sign_agreement", CORA)
    with pytest.raises(ActionRefused) as refused:  # a typed amount never overrides the instalment
        engine.act(grant, "pay_first_part", CORA, amount=7_777)
    assert refused.value.reasons == [
        'instalment 1, "On signing the grant agreement" is £4,666 (60% of the award), not £7,777; '
        "leave the amount blank to pay it"
    ]
    engine.act(grant, "pay_first_part", CORA)
    engine.save_answers(grant, "rolling_midpoint_report", {"progress_so_far": "Twelve lunches.", "people_taking_part": 31}, GROUP)  # fmt: skip
    engine.act(grant, "send_midpoint_report", GROUP)
    engine.act(grant, "accept_midpoint_report", CORA)
    engine.act(grant, "pay_final_part", CORA)
    funding = engine.funding_of(grant, GROUP)
    assert funding is not None and funding["paid"] == 7_777 and funding["left"] == 0
    # 60% rounds down to £4,666; the last share takes the rest, so the parts make the award
    assert [(i.label, i.amount) for i in funding["instalments"]] == [
        ("On signing the grant agreement", 4_666),
        ("After the mid-point report is accepted", 3_111),
    ]
    assert all(i.paid_at for i in funding["instalments"])


def test_an_instalment_waits_for_its_action_and_fixed_parts_must_make_the_award() -> None:
    specs = [{"label": "Start-up costs", "amount": 1_500, "after": "sign_agreement"},
             {"label": "The rest", "percent": 50}]  # fmt: skip
    [first, second] = plan(specs, 4_000, [])
    assert (first.amount, first.share, second.amount) == (1_500, "a fixed £1,500", 2_000)
    assert next_problems(first, None, "Record the grant agreement signed", None, datetime.now(UTC), "") == [
        'instalment 1, "Start-up costs" can be paid only after "Record the grant agreement signed"'
    ]  # fmt: skip
    assert award_mismatch(specs, 4_000) == (
        "the payment instalments come to £3,500, but £4,000 is being awarded; award £3,500, or "
        "change the instalments"
    )
    assert award_mismatch(specs, 3_000) is None
    assert next_problems(None, None, None, None, datetime.now(UTC), "") == ["every instalment of the award has been paid"]  # fmt: skip


def test_the_mid_point_report_is_due_once_six_months_after_the_award(fund: tuple[Engine, Clock]) -> None:  # fmt: skip
    engine, clock = fund
    application = assessed(engine, (4, 4, 4), (4, 4, 4))
    engine.act(application, "fund", CORA)  # 6 May 2025, 11am BST
    [grant] = engine.store.children(application)
    engine.act(grant, "sign_agreement", CORA)
    engine.act(grant, "pay_first_part", CORA)
    clock.set("2025-10-23T10:00")  # 14 days before 6 November, 10am GMT
    assert sweep(engine).sent == 1
    sent = {m["to_role"]: m["subject"] for m in engine.store.undelivered(10)}
    reference = engine.store.case(grant)["reference"]
    assert sent == {
        "applicant": "Your mid-point report is due in 14 days",
        "commissioner": f"{reference}: mid-point report due in 14 days",
    }
    clock.set("2027-01-01T10:00")  # never sent in: nothing recurs
    assert sweep(engine).sent == 0


def test_the_dry_run_shows_one_mid_point_report(fund: tuple[Engine, Clock]) -> None:
    engine, _ = fund
    programme = engine.programme(FUND)
    start, end = datetime(2025, 5, 1, tzinfo=UTC), datetime(2027, 5, 1, tzinfo=UTC)
    due = [p for p in dry_run(programme, start, end) if p.rule == "midpoint_report_due"]
    assert len(due) == 1


def test_the_application_and_the_grant_it_started_name_each_other_for_those_who_may_see_them(
    fund: tuple[Engine, Clock],
) -> None:
    engine, _ = fund
    application = assessed(engine, (4, 4, 3), (4, 3, 4))
    assert engine.related(application, CORA) == (None, [])
    engine.act(application, "fund", CORA)
    [grant] = engine.store.children(application)
    parent, children = engine.related(application, GROUP)
    assert parent is None and [c.id for c in children] == [grant]
    assert children[0].state_label == "Waiting for the grant agreement"
    parent, children = engine.related(grant, CORA)
    assert parent is not None and parent.id == application and children == []
    with engine.store.transaction():
        engine.store.ensure_organisation("other", "Another Group", "2025-01-01")
    with pytest.raises(NotFound):  # another organisation learns nothing of either
        engine.related(grant, Actor("applicant", "olu@other.example", "other"))
