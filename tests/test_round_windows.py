"""A round takes new applications only between its `opens` and `closes`, and says so in words."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from engine.definition.loader import load_programme
from engine.errors import ActionRefused
from engine.runtime import Actor, Engine
from engine.timeline.windows import CLOSED, OPEN, OPENING, window

from .clock import Clock
from .conftest import EXAMPLE, ROOT
from .databases import database_in

ANN = Actor("applicant", "ann", "org_a")


def engine_at(tmp_path: Path, clock: Clock) -> Engine:
    engine = Engine(database_in(tmp_path, "windows"), clock=clock)
    engine.publish(EXAMPLE / "programmes" / "tiny.yaml", EXAMPLE / "forms")
    return engine


def status(path: Path, at: str) -> str:
    programme = load_programme(path, ROOT / "forms")
    wf = next(iter(programme.workflows.values()))
    return window(programme, wf).status(datetime.fromisoformat(at).replace(tzinfo=UTC))


@pytest.mark.parametrize(
    ("name", "at", "expected"),
    [
        ("liverpool", "2022-01-20T10:00", OPEN),
        ("liverpool", "2022-01-31T17:01", CLOSED),  # its only first step's deadline has passed
        ("bradford", "2022-01-20T10:00", OPENING),  # a 2024 round in 2022
        ("bradford", "2024-02-05T10:00", OPEN),
        ("bradford", "2024-05-20T10:00", OPEN),  # partners still apply after the Leads' deadline
        ("bradford", "2024-07-01T00:00", CLOSED),
        ("llr_hubs", "2017-02-06T09:00", OPEN),
        ("llr_hubs", "2022-01-20T10:00", CLOSED),  # a 2017 contract is not open for ever
    ],
)
def test_each_shipped_round_is_open_opening_or_closed_on_the_right_dates(name: str, at: str, expected: str) -> None:  # fmt: skip
    assert status(ROOT / "programmes" / f"{name}.yaml", at) == expected


def test_no_draft_can_be_started_before_the_round_opens(tmp_path: Path) -> None:
    clock = Clock("2022-01-04T08:59")  # the example round opens at 9am on 4 January 2022
    engine = engine_at(tmp_path, clock)
    with pytest.raises(ActionRefused) as refused:
        engine.start_case("tiny_grants", "application", ANN)
    assert refused.value.message == (
        "you cannot start this yet: it opens at 9am on Tuesday 4 January 2022"
    )
    assert engine.store.programme_cases("tiny_grants") == []  # nothing half-made was kept
    clock.moment = datetime(2022, 1, 4, 9, 0, tzinfo=UTC)
    assert engine.start_case("tiny_grants", "application", ANN).state == "draft"


def test_no_application_can_be_started_once_the_round_has_closed(tmp_path: Path) -> None:
    clock = Clock("2022-02-21T17:00")  # the deadline's own minute is still open
    engine = engine_at(tmp_path, clock)
    assert engine.start_case("tiny_grants", "application", ANN).state == "draft"
    clock.moment = datetime(2022, 2, 21, 17, 1, tzinfo=UTC)
    with pytest.raises(ActionRefused) as refused:
        engine.start_case("tiny_grants", "application", ANN)
    assert refused.value.message == (
        "you can no longer start this: it closed at 5pm on Monday 21 February 2022"
    )


def test_a_window_known_only_by_its_year_stays_open_to_the_end_of_that_year(tmp_path: Path) -> None:  # fmt: skip
    engine = Engine(database_in(tmp_path, "llr"), clock=Clock("2017-12-31T23:59"))
    engine.publish(ROOT / "programmes" / "llr_hubs.yaml", ROOT / "forms")
    pid = "llr_resilience_recovery_hubs"
    assert engine.start_case(pid, "application", ANN).state == "draft"
    late = Engine(engine.store, clock=Clock("2018-01-01T00:00"))
    with pytest.raises(ActionRefused, match=r"it closed at the end of 2017$"):
        late.start_case(pid, "application", ANN)
