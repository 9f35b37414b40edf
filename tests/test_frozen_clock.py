"""COMMISSION_NOW without a UTC offset is read on the programmes' wall clock (issue 15, item 11).

During British Summer Time a rehearsal at 11:30 is 11:30 BST (10:30 UTC) to the engine, not
12:30 BST; a time the clocks make happen twice or never, and one the programmes' different
timezones would each read differently, are refused with what to write instead.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from engine.cli import main
from engine.cli.main import frozen_clock

from .conftest import EXAMPLE
from .databases import database_in

TINY = (EXAMPLE / "programmes" / "tiny.yaml").read_text("utf-8")
CLOSES_AT_NOON_BST = TINY.replace("2022-02-21T17:00", "2022-07-01T12:00")
ANSWERS = json.dumps({"org_name": "Org A", "income": 40000, "org_type": "charity",
                      "priorities": ["isolation"], "summary": "Lunch club"})  # fmt: skip
ANN = ["--as", "applicant:ann@org_a"]


@pytest.fixture(autouse=True)
def _no_database_around(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Outside a command the clock looks at COMMISSION_DB or var/commission.db: neither is here."""
    monkeypatch.delenv("COMMISSION_DB", raising=False)
    monkeypatch.delenv("COMMISSION_NOW", raising=False)
    monkeypatch.chdir(tmp_path)


def now_for(monkeypatch: pytest.MonkeyPatch, text: str, timezones: list[str] | None = None):
    monkeypatch.setenv("COMMISSION_NOW", text)
    clock = frozen_clock(timezones=timezones)
    assert clock is not None
    return clock()


def refusal(monkeypatch: pytest.MonkeyPatch, text: str, timezones: list[str] | None = None):
    monkeypatch.setenv("COMMISSION_NOW", text)
    with pytest.raises(click.BadParameter) as caught:
        frozen_clock(timezones=timezones)
    return caught.value.message


def write(tmp_path: Path, name: str, text: str) -> Path:
    """A programme file beside a copy of the example's forms."""
    (tmp_path / "programmes").mkdir(exist_ok=True)
    forms = tmp_path / "forms"
    if not forms.exists():
        forms.mkdir()
        for form in (EXAMPLE / "forms").glob("*.yaml"):
            (forms / form.name).write_bytes(form.read_bytes())
    path = tmp_path / "programmes" / f"{name}.yaml"
    path.write_text(text, "utf-8")
    return path


def test_no_commission_now_is_the_real_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    assert frozen_clock() is None


def test_a_summer_time_without_an_offset_is_british_summer_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # no programme published anywhere yet: Europe/London, the default
    assert now_for(monkeypatch, "2022-07-01T11:30") == datetime(2022, 7, 1, 10, 30, tzinfo=UTC)
    assert now_for(monkeypatch, "2022-07-01T11:30", ["Europe/London"]) == datetime(
        2022, 7, 1, 10, 30, tzinfo=UTC
    )
    assert now_for(monkeypatch, "2022-07-01T11:30:15") == datetime(
        2022, 7, 1, 10, 30, 15, tzinfo=UTC
    )


def test_a_winter_time_without_an_offset_is_greenwich_mean_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert now_for(monkeypatch, "2022-01-20T10:00") == datetime(2022, 1, 20, 10, 0, tzinfo=UTC)


def test_a_date_alone_is_local_midnight(monkeypatch: pytest.MonkeyPatch) -> None:
    assert now_for(monkeypatch, "2022-07-01") == datetime(2022, 6, 30, 23, 0, tzinfo=UTC)
    assert now_for(monkeypatch, "2022-01-20") == datetime(2022, 1, 20, 0, 0, tzinfo=UTC)


def test_an_explicit_offset_is_honoured_whatever_the_programmes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for zones in (None, ["Europe/London"], ["Europe/London", "America/New_York"]):
        assert now_for(monkeypatch, "2022-07-01T11:30+00:00", zones) == datetime(
            2022, 7, 1, 11, 30, tzinfo=UTC
        )
        assert now_for(monkeypatch, "2022-07-01T11:30+01:00", zones) == datetime(
            2022, 7, 1, 10, 30, tzinfo=UTC
        )
        assert now_for(monkeypatch, "2022-07-01T10:30Z", zones) == datetime(
            2022, 7, 1, 10, 30, tzinfo=UTC
        )


def test_the_clock_is_in_utc_as_the_real_one_is(monkeypatch: pytest.MonkeyPatch) -> None:
    """Stamps are compared as text (`expires_at < now().isoformat()`): always +00:00."""
    for text in ("2022-07-01T11:30", "2022-07-01T11:30+01:00", "2022-07-01T07:30-03:00"):
        moment = now_for(monkeypatch, text)
        assert moment.isoformat() == "2022-07-01T10:30:00+00:00"


def test_a_time_the_clocks_going_back_make_happen_twice_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    message = refusal(monkeypatch, "2022-10-30T01:30")
    assert "happens twice in Europe/London" in message
    assert "2022-10-30T01:30+01:00" in message and "2022-10-30T01:30+00:00" in message
    # either way it is written with its offset, it is accepted
    assert now_for(monkeypatch, "2022-10-30T01:30+01:00") == datetime(
        2022, 10, 30, 0, 30, tzinfo=UTC
    )
    assert now_for(monkeypatch, "2022-10-30T01:30+00:00") == datetime(
        2022, 10, 30, 1, 30, tzinfo=UTC
    )
    # either side of the repeated hour is not ambiguous
    assert now_for(monkeypatch, "2022-10-30T00:59") == datetime(2022, 10, 29, 23, 59, tzinfo=UTC)
    assert now_for(monkeypatch, "2022-10-30T02:00") == datetime(2022, 10, 30, 2, 0, tzinfo=UTC)


def test_a_time_the_clocks_going_forward_skip_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    message = refusal(monkeypatch, "2022-03-27T01:30")
    assert "never happens in Europe/London" in message
    assert "2022-03-27T02:30+01:00" in message
    assert now_for(monkeypatch, "2022-03-27T02:00") == datetime(2022, 3, 27, 1, 0, tzinfo=UTC)


def test_programmes_in_different_timezones_need_an_offset(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    message = refusal(monkeypatch, "2022-07-01T11:30", ["Europe/London", "America/New_York"])
    assert "has no UTC offset and the programmes are in different timezones" in message
    assert "2022-07-01T11:30+01:00 (Europe/London)" in message
    assert "2022-07-01T11:30-04:00 (America/New_York)" in message


def test_something_that_is_not_a_date_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    assert "is not an ISO date and time" in refusal(monkeypatch, "next tuesday")


# -- on the command line, against the database's programmes ------------------------------------


def test_a_submission_at_11_30_bst_beats_a_noon_bst_deadline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Read as UTC, 11:30 was 12:30 BST and the noon deadline had passed."""
    path = write(tmp_path, "tiny", CLOSES_AT_NOON_BST)
    db = ["--db", str(database_in(tmp_path, "deadline"))]
    run = CliRunner().invoke
    monkeypatch.setenv("COMMISSION_NOW", "2022-07-01T09:00")
    assert run(main, ["publish", str(path), *db]).exit_code == 0

    def submit_at(now: str) -> object:
        monkeypatch.setenv("COMMISSION_NOW", "2022-07-01T11:00")
        started = run(main, ["case", "start", "tiny_grants", "application", *ANN, *db, "--json"])
        assert started.exit_code == 0, started.output
        ref = json.loads(started.stdout)["reference"]
        answered = run(main, ["case", "answer", ref, "tiny_eoi", "--answers", ANSWERS, *ANN, *db])
        assert answered.exit_code == 0, answered.output
        monkeypatch.setenv("COMMISSION_NOW", now)
        return run(main, ["case", "act", ref, "submit", *ANN, *db, "--json"])

    on_time = submit_at("2022-07-01T11:30")
    assert on_time.exit_code == 0, on_time.output
    assert json.loads(on_time.stdout)["state"] == "submitted"
    late = submit_at("2022-07-01T12:30")
    assert late.exit_code == 1
    assert "the deadline was" in late.stderr and "Applications close" in late.stderr
    explicit = submit_at("2022-07-01T11:30+00:00")  # 12:30 BST, written with its offset
    assert explicit.exit_code == 1 and "the deadline was" in explicit.stderr


def test_the_commands_read_it_in_the_timezone_of_the_published_programmes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    new_york = CLOSES_AT_NOON_BST.replace("timezone: Europe/London", "timezone: America/New_York")
    path = write(tmp_path, "tiny", new_york)
    db = ["--db", str(database_in(tmp_path, "zones"))]
    run = CliRunner().invoke
    monkeypatch.setenv("COMMISSION_NOW", "2022-07-01T11:30-04:00")
    assert run(main, ["publish", str(path), *db]).exit_code == 0
    monkeypatch.setenv("COMMISSION_NOW", "2022-07-01T11:30")  # 11:30 EDT: 15:30 UTC
    started = run(main, ["case", "start", "tiny_grants", "application", *ANN, *db, "--json"])
    assert started.exit_code == 0, started.output
    ref = json.loads(started.stdout)["reference"]
    history = json.loads(run(main, ["case", "history", ref, *db, "--json"]).stdout)
    assert datetime.fromisoformat(history[0]["at"]) == datetime(2022, 7, 1, 15, 30, tzinfo=UTC)

    london = write(
        tmp_path, "london", CLOSES_AT_NOON_BST.replace("id: tiny_grants", "id: tiny_london")
    )
    monkeypatch.setenv("COMMISSION_NOW", "2022-07-01T11:30-04:00")
    assert run(main, ["publish", str(london), *db]).exit_code == 0
    monkeypatch.setenv("COMMISSION_NOW", "2022-07-01T11:30")
    refused = run(main, ["case", "show", ref, *db])
    assert refused.exit_code == 2
    assert "the programmes are in different timezones" in refused.stderr
    assert "2022-07-01T11:30+01:00 (Europe/London)" in refused.stderr
    monkeypatch.setenv("COMMISSION_NOW", "2022-07-01T11:30-04:00")
    assert run(main, ["case", "show", ref, *db]).exit_code == 0


def test_a_refusal_on_the_command_line_says_what_to_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COMMISSION_NOW", "2022-10-30T01:30")
    db = ["--db", str(database_in(tmp_path, "refused"))]
    result = CliRunner().invoke(main, ["versions", "tiny_grants", *db])
    assert result.exit_code == 2
    assert "happens twice in Europe/London" in result.stderr
