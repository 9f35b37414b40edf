"""`commission calendar` writes valid RFC 5545 (issue 15, item 12).

Every event has a UID and a DTSTAMP; every TZID is defined by a VTIMEZONE in the file, so a
close at 12:00 BST is 11:00 UTC in any calendar app, never a floating 12:00.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from icalendar import Calendar, Event

from engine.cli import main
from engine.definition.loader import load_programme
from engine.model import Programme
from engine.timeline.ical import programme_calendar

from .conftest import EXAMPLE, PROGRAMMES

NOW = datetime(2022, 7, 1, 10, 30, tzinfo=UTC)
TINY = (EXAMPLE / "programmes" / "tiny.yaml").read_text("utf-8")
CLOSES_AT_NOON_BST = TINY.replace("2022-02-21T17:00", "2022-07-01T12:00")
DATE_TIME = re.compile(r"^\d{8}T\d{6}Z?$")


def unfolded(text: str) -> list[str]:
    """The file's content lines, long lines joined again (RFC 5545 section 3.1)."""
    return text.replace("\r\n ", "").replace("\r\n\t", "").split("\r\n")


def tzids_used(cal: Calendar) -> set[str]:
    """Every TZID parameter on any property of any component (lists of values too)."""
    used = set()
    for component in cal.walk():
        for _name, value in component.property_items(recursive=False, sorted=False):
            for v in value if isinstance(value, list) else [value]:
                params = getattr(v, "params", {})
                if "TZID" in params:
                    used.add(params["TZID"])
    return used


def the_programme(tmp_path: Path, text: str) -> Path:
    (tmp_path / "programmes").mkdir()
    (tmp_path / "forms").mkdir()
    for form in (EXAMPLE / "forms").glob("*.yaml"):
        (tmp_path / "forms" / form.name).write_bytes(form.read_bytes())
    path = tmp_path / "programmes" / "mine.yaml"
    path.write_text(text, "utf-8")
    return path


def event(cal: Calendar, uid: str) -> Event:
    [found] = [e for e in cal.walk("VEVENT") if str(e["UID"]) == uid]
    return found


def check_rfc_5545(text: str) -> Calendar:
    """Parse the file and check what RFC 5545 requires of a VCALENDAR and its VEVENTs."""
    cal = Calendar.from_ical(text)
    assert cal.name == "VCALENDAR"
    assert str(cal["PRODID"]) and str(cal["VERSION"]) == "2.0"
    events = cal.walk("VEVENT")
    assert events
    uids = [str(e["UID"]) for e in events]
    assert len(set(uids)) == len(uids), "UIDs must be unique"
    for e in events:
        assert "DTSTART" in e and "DTSTAMP" in e, e["UID"]
        assert e.decoded("DTSTAMP") == NOW  # the frozen clock's, in UTC
        assert not ("DTEND" in e and "DURATION" in e)
    defined = {str(tz["TZID"]) for tz in cal.walk("VTIMEZONE")}
    assert tzids_used(cal) <= defined, "every TZID is defined by a VTIMEZONE"
    assert cal.get_missing_tzids() == set()
    lines = unfolded(text)
    assert lines[0] == "BEGIN:VCALENDAR" and lines[-2:] == ["END:VCALENDAR", ""]
    # the raw lines agree: no TZID without its VTIMEZONE, no floating date and time
    inside: list[str] = []  # the components the line is in
    for line in lines:
        name, _, value = line.partition(":")
        if name in ("BEGIN", "END"):
            inside = [*inside, value] if name == "BEGIN" else inside[:-1]
            continue
        if "VTIMEZONE" in inside:
            continue  # an observance's DTSTART is local time by definition (3.6.5)
        if tzid := re.search(r";TZID=\"?([^\";:]+)", name):
            assert tzid.group(1) in defined, line
        if name.split(";")[0] in ("DTSTART", "DTEND", "DTSTAMP") and DATE_TIME.match(value):
            assert "TZID=" in name or value.endswith("Z"), f"floating time: {line}"
        if name == "DTSTAMP":
            assert value.endswith("Z"), line  # RFC 5545 3.8.7.2: in UTC
    return cal


@pytest.mark.parametrize("path", PROGRAMMES, ids=lambda p: p.stem)
def test_each_shipped_programme_writes_valid_rfc_5545(path: Path) -> None:
    programme = load_programme(path)
    text = programme_calendar(programme, now=NOW)
    cal = check_rfc_5545(text)
    assert len(cal.walk("VEVENT")) >= len(programme.milestones)
    assert programme_calendar(programme, now=NOW) == text  # the same moment, the same file


def test_a_close_at_noon_bst_is_11_utc_by_the_files_own_vtimezone(tmp_path: Path) -> None:
    programme = load_programme(the_programme(tmp_path, CLOSES_AT_NOON_BST))
    text = programme_calendar(programme, now=NOW)
    cal = check_rfc_5545(text)
    assert 'TZID="UTC+01:00"' not in text
    closes = event(cal, "tiny_grants-closes@commissioning-engine")
    assert closes["DTSTART"].params["TZID"] == "Europe/London"
    assert closes.decoded("DTSTART").astimezone(UTC) == datetime(2022, 7, 1, 11, 0, tzinfo=UTC)
    # read with the VTIMEZONE written in the file, not the machine's own zone database
    [vtimezone] = cal.walk("VTIMEZONE")
    from_file = vtimezone.to_tz(lookup_tzid=False)
    local = closes.decoded("DTSTART").replace(tzinfo=None)
    assert local == datetime(2022, 7, 1, 12, 0)
    assert local.replace(tzinfo=from_file).astimezone(UTC) == datetime(2022, 7, 1, 11, tzinfo=UTC)
    opens = event(cal, "tiny_grants-opens@commissioning-engine")  # 09:00 in January is GMT
    local = opens.decoded("DTSTART").replace(tzinfo=None)
    assert local.replace(tzinfo=from_file).astimezone(UTC) == datetime(2022, 1, 4, 9, tzinfo=UTC)


def test_a_shipped_winter_deadline_keeps_its_moment() -> None:
    [liverpool] = [p for p in PROGRAMMES if p.stem == "liverpool"]
    programme: Programme = load_programme(liverpool)
    cal = check_rfc_5545(programme_calendar(programme, now=NOW))
    timed = [m for m in programme.milestones.values() if m.span.precision == "minute"]
    assert timed
    for m in timed:
        e = event(cal, f"{programme.id}-{m.id}@commissioning-engine")
        assert e.decoded("DTSTART") == m.span.start


def test_vague_dates_are_all_day_events_covering_them(tmp_path: Path) -> None:
    programme = load_programme(the_programme(tmp_path, CLOSES_AT_NOON_BST))
    cal = check_rfc_5545(programme_calendar(programme, now=NOW))
    outcome = event(cal, "tiny_grants-outcome@commissioning-engine")  # week_of: 2022-02-07
    assert outcome.decoded("DTSTART") == date(2022, 2, 7)
    assert outcome.decoded("DTEND") == date(2022, 2, 14)  # exclusive: the Monday after
    meeting = event(cal, "tiny_grants-quarterly-0@commissioning-engine")  # 2022-05, not pinned
    assert (meeting.decoded("DTSTART"), meeting.decoded("DTEND")) == (
        date(2022, 5, 1),
        date(2022, 6, 1),
    )


def test_the_calendar_command_stamps_events_with_commission_now(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = the_programme(tmp_path, CLOSES_AT_NOON_BST)
    monkeypatch.setenv("COMMISSION_NOW", "2022-07-01T11:30")  # 11:30 BST: 10:30 UTC
    first = CliRunner().invoke(main, ["calendar", str(path)])
    assert first.exit_code == 0, first.output
    text = first.stdout_bytes.decode("utf-8")  # as written: lines end CRLF (`.stdout` drops \r)
    check_rfc_5545(text)
    assert "DTSTAMP:20220701T103000Z\r\n" in text
    assert CliRunner().invoke(main, ["calendar", str(path)]).stdout_bytes == first.stdout_bytes
    monkeypatch.setenv("COMMISSION_NOW", "2022-10-30T01:30")  # happens twice: refused
    refused = CliRunner().invoke(main, ["calendar", str(path)])
    assert refused.exit_code == 2 and "happens twice in Europe/London" in refused.stderr


def test_meetings_after_the_last_milestone_are_in_the_calendar_as_in_the_dry_run(
    tmp_path: Path,
) -> None:
    # the round's last milestone is 21 February 2022; the meetings go on into 2023
    later = TINY.replace(
        "dates: [2022-05, 2022-08]", "dates: [2022-05, 2022-08, 2023-03-14]"
    ).replace(
        "reminders:\n",
        "reminders:\n"
        "  - id: meeting_soon\n"
        "    to: [commissioner]\n"
        "    when: {review: quarterly, before: 7 days}\n"
        "    message: {subject: Meeting next week, body: The quarterly meeting is next week.}\n",
    )
    path = the_programme(tmp_path, later)
    programme = load_programme(path)
    cal = check_rfc_5545(programme_calendar(programme, now=NOW))
    meetings = sorted(
        (e.decoded("DTSTART"), str(e["SUMMARY"]))
        for e in cal.walk("VEVENT")
        if str(e["UID"]).startswith("tiny_grants-quarterly-")
    )
    assert meetings == [
        (date(2022, 5, 1), "Quarterly meeting, May 2022"),
        (date(2022, 8, 1), "Quarterly meeting, August 2022"),
        (date(2023, 3, 14), "Quarterly meeting, 14 March 2023"),
    ]
    dry_run = CliRunner().invoke(main, ["schedule", str(path), "--from", "2022", "--to", "2023"])
    assert dry_run.exit_code == 0, dry_run.output
    for _day, summary in meetings:  # the calendar and the dry run agree
        assert summary in dry_run.output
