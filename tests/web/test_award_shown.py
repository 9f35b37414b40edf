"""An applicant sees the amount awarded, which the commissioner set at the decision."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from engine.runtime import Actor

from .conftest import Clock, text
from .panel import person, seed_engine, submitted_case


def test_the_applicant_sees_the_award_set_at_the_decision(app: Flask, tmp_path: Path, clock: Clock) -> None:  # fmt: skip
    engine = seed_engine(app, tmp_path, clock)
    ref = submitted_case(engine, "org_a", "Org A")
    case_id = engine.store.case_by_reference(ref)["id"]
    engine.act(case_id, "assess", Actor("assessor", "asa"))
    # asked for more, awarded £12,500 in the north lot: the decision sets the amount, in the band
    engine.act(case_id, "award", Actor("commissioner", "cora"), amount=12_500, lot="north")
    ann = person(app, "ann@org-a.example", "applicant", "org_a")
    page = text(ann.get(f"/apply/cases/{ref}"))
    assert "Your award Awarded £12,500 Decided 10am on Thursday 20 January 2022 Lot North" in page
    assert "Paid so far £0 Still to be paid £12,500" in page
    other = person(app, "bob@org-b.example", "applicant", "org_b")
    assert other.get(f"/apply/cases/{ref}").status_code == 404  # nobody else's to see
