"""A new case starts on the newest version of its programme, though an engine remembers the
version it last started one on (so it need not ask which is newest before it starts): another
process publishing a version in between, the case starts on that one, and nothing of the try on
the older version is kept; refused on the older version, the newest decides."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.errors import NotPermitted
from engine.runtime import Actor, Engine

from .clock import Clock
from .test_diff_in_words import ON_HOLD, edited

PID = "tiny_grants"
ANN = Actor("applicant", "ann@example.org", "org_a")
CLEO = Actor("commissioner", "cleo")
COMMISSIONERS_ONLY = [("    subject: organisation\n", "    subject: organisation\n    started_by: [commissioner]\n")]  # fmt: skip


def _two_workers(database: str) -> tuple[Engine, Engine]:
    """Two engines on one database, as two web workers hold them."""
    clock = Clock("2022-01-10T10:00")
    return Engine(database, clock=clock), Engine(database, clock=clock)


def test_a_version_another_worker_published_is_the_one_the_next_case_starts_on(
    database: str, tmp_path: Path
) -> None:
    worker, publisher = _two_workers(database)
    first, _ = publisher.publish(edited(tmp_path, "v1"))
    before = worker.start_case(PID, "application", ANN)
    newer, _ = publisher.publish(edited(tmp_path, "v2", ON_HOLD))
    after = worker.start_case(PID, "application", ANN)
    assert (before.version, after.version) == (first.version, newer.version)
    # the try on the older version left nothing: no case, no reference skipped
    assert after.reference == f"TG-{before.id + 1:06d}" and after.id == before.id + 1
    assert [c["reference"] for c in worker.store.cases_by_version(PID, limit=10, version=newer.version,
                                                                  workflow="application", state="draft")] == [after.reference]  # fmt: skip
    assert worker.start_case(PID, "application", ANN).version == newer.version


def test_refused_on_the_version_it_knows_a_case_is_started_if_the_newest_allows_it(
    database: str, tmp_path: Path
) -> None:
    worker, publisher = _two_workers(database)
    publisher.publish(edited(tmp_path, "v1", COMMISSIONERS_ONLY))
    worker.start_case(PID, "application", CLEO)  # the worker knows version 1
    with pytest.raises(NotPermitted, match="it is started by commissioner"):
        worker.start_case(PID, "application", ANN)
    worker.start_case(PID, "application", CLEO)
    newer, _ = publisher.publish(edited(tmp_path, "v2"))  # applicants may start one again
    assert worker.start_case(PID, "application", ANN).version == newer.version
