"""Working days skip the bank holidays of the UK calendar a programme names (England and Wales
unless it says otherwise)."""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from engine.dates import parse_duration
from engine.definition.loader import load_programme
from engine.timeline.occasions import is_working_day, shift
from engine.timeline.planner import dry_run

from .conftest import EXAMPLE

LONDON = ZoneInfo("Europe/London")


@pytest.mark.parametrize(
    ("day", "division", "working"),
    [
        (date(2023, 1, 3), "england-and-wales", True),
        (date(2023, 1, 3), "scotland", False),  # 2 January's holiday, moved to the Tuesday
        (date(2023, 3, 17), "england-and-wales", True),
        (date(2023, 3, 17), "northern-ireland", False),  # St Patrick's Day
        (date(2023, 8, 7), "scotland", False),  # Scotland's summer holiday: first Monday in August
        (date(2023, 8, 28), "scotland", True),  # England's late summer holiday is not Scotland's
        (date(2023, 8, 28), "england-and-wales", False),
    ],
)
def test_each_uk_calendar_has_its_own_bank_holidays(day: date, division: str, working: bool) -> None:  # fmt: skip
    assert is_working_day(day, division) is working


def programme_with(tmp_path: Path, bank_holidays: str | None):
    """The documented example with its reminder 2 working days before a deadline on 4 January."""
    shutil.copytree(EXAMPLE, tmp_path / "example")
    path = tmp_path / "example" / "programmes" / "tiny.yaml"
    text = path.read_text()
    text = text.replace("at: 2022-02-21T17:00", "at: 2023-01-04T17:00")
    text = text.replace("at: 2022-01-04T09:00", "at: 2022-12-01T09:00")
    text = text.replace("week_of: 2022-02-07", "week_of: 2022-12-05")
    text = text.replace("before: 7 days}", "before: 2 working days}")
    if bank_holidays:
        text = text.replace("timezone: Europe/London\n", f"timezone: Europe/London\nbank_holidays: {bank_holidays}\n")  # fmt: skip
    path.write_text(text)
    return load_programme(path, tmp_path / "example" / "forms")


@pytest.mark.parametrize(
    ("bank_holidays", "sent"),
    [
        (None, datetime(2022, 12, 30, 17, 0, tzinfo=UTC)),  # skips 3 and 2 January: Friday
        ("england-and-wales", datetime(2022, 12, 30, 17, 0, tzinfo=UTC)),
        ("scotland", datetime(2022, 12, 29, 17, 0, tzinfo=UTC)),  # 3 January is a holiday too
    ],
)
def test_a_reminder_in_working_days_follows_the_programmes_calendar(tmp_path: Path, bank_holidays: str | None, sent: datetime) -> None:  # fmt: skip
    programme = programme_with(tmp_path, bank_holidays)
    planned = dry_run(
        programme, datetime(2022, 12, 1, tzinfo=UTC), datetime(2023, 1, 5, tzinfo=UTC)
    )
    reminders = [p for p in planned if p.rule == "closing_soon"]
    assert [p.due for p in reminders] == [sent]


def test_shifting_by_working_days_keeps_the_wall_clock_time() -> None:
    friday = datetime(2023, 3, 16, 17, 0, tzinfo=LONDON)  # a Thursday, 5pm
    after = shift(friday, parse_duration("1 working day"), +1, LONDON, "northern-ireland")
    assert after == datetime(2023, 3, 20, 17, 0, tzinfo=LONDON)
