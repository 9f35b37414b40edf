"""`commission scheduler`, `schedule` (the dry run), `calendar` and `pin`: time on the command line."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import click

from engine.cli.main import (
    db_option,
    fail,
    frozen_clock,
    is_file,
    json_option,
    main,
    open_engine,
)
from engine.errors import EngineError, ProgrammeInvalid
from engine.model import Programme


def _programme(ref: str, db_path: str) -> Programme:
    """A programme from a file path, or a published one by id."""
    path = Path(ref)
    if path.suffix in (".yaml", ".yml") or path.exists():
        from engine.definition.loader import load_programme

        try:
            return load_programme(path)
        except ProgrammeInvalid as exc:
            fail(exc)
    try:
        return open_engine(db_path).programme(ref)
    except EngineError as exc:
        fail(exc)
    raise AssertionError  # pragma: no cover - fail exits


def _moment(text: str, tz: ZoneInfo, end: bool = False) -> datetime:
    from engine.dates import DateError, parse_when

    try:
        span = parse_when(text, tz)
    except DateError as exc:
        raise click.BadParameter(str(exc)) from None
    return span.end if end else span.start


@main.command()
@click.argument("programme")
@click.option("--from", "start", required=True, help="Start of the window: a date, month or year.")
@click.option("--to", "end", required=True, help="End of the window: a date, month or year.")
@db_option
@json_option
def schedule(programme: str, start: str, end: str, db_path: str, as_json: bool) -> None:
    """Dry run: every reminder, timed action and check that would fire, in time order.

    PROGRAMME is a programme file or a published programme's id. Things relative to a case
    (4 weeks after a referral) are shown for a case whose every event happens at --from.
    """
    from engine.timeline.planner import dry_run, pins_of

    p = _programme(programme, db_path)
    tz = ZoneInfo(p.timezone)
    pins = {}
    if (not is_file(db_path) or Path(db_path).exists()) and not Path(programme).exists():
        pins = pins_of(open_engine(db_path).store, p.id)
    items = dry_run(p, _moment(start, tz), _moment(end, tz, end=True), pins)
    rows = [
        {
            "due": it.due.astimezone(tz).isoformat() if it.due else None,
            "pinned": it.due is not None,
            "kind": it.kind,
            "rule": it.rule,
            "workflow": it.workflow,
            "to": list(it.to),
            "reason": it.reason,
        }
        for it in items
    ]
    if as_json:
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    for it, r in zip(items, rows, strict=True):
        when = it.due.astimezone(tz).strftime("%a %d %b %Y %H:%M %Z") if it.due else "unpinned"
        click.echo(f"{when:<25}  {r['kind']:<18} {r['reason']}")


@main.command()
@click.argument("programme")
@db_option
def calendar(programme: str, db_path: str) -> None:
    """Write the programme's timeline and fixed meetings as iCalendar (e.g. > round.ics).

    Times are on the programme's wall clock, its timezone defined in the file; each event is
    stamped with the current time (COMMISSION_NOW when set).
    """
    from engine.timeline.ical import programme_calendar

    p = _programme(programme, db_path)
    clock = frozen_clock(timezones=[p.timezone])
    now = clock() if clock else datetime.now(UTC)
    click.echo(programme_calendar(p, now=now), nl=False)


@main.command()
@click.argument("programme")
@click.argument("target")
@click.argument("at")
@db_option
def pin(programme: str, target: str, at: str, db_path: str) -> None:
    """Pin a vague date to a moment, e.g. `pin ID review:quarterly_meeting:0 2022-05-18T10:00`.

    TARGET is `milestone:<id>` or `review:<cadence id>:<occasion number from 0>`. AT must fall in
    the date's own period (a meeting in May 2022 is pinned to a moment in May 2022). Reminders
    hang on pinned dates; until then the dry run lists them as unpinned. Commissioners can do
    the same on the programme's Dates page.
    """
    from engine.cli.users import OPERATOR
    from engine.runtime import Actor

    engine = open_engine(db_path)
    operator = Actor("commissioner", OPERATOR)  # a commissioner of every programme
    try:
        p = engine.programme(programme)
        engine.pinnable_date(p.id, target, operator)  # an unknown target before an unread time
        moment = _moment(at, ZoneInfo(p.timezone))
        engine.pin_date(p.id, target, moment, operator)
    except EngineError as exc:
        fail(exc)
    click.echo(f"{target} pinned to {moment:%-d %B %Y %H:%M %Z}; reminders re-planned")


@main.command()
@db_option
@click.option("--interval", default=30.0, show_default=True, help="Seconds between sweeps.")
@click.option("--outbox", type=click.Path(file_okay=False, path_type=Path), default=Path("var/outbox"),
              show_default=True, help="Where the file backend writes messages.")  # fmt: skip
@click.option("--once", is_flag=True, help="Sweep and deliver once, then stop.")
def scheduler(db_path: str, interval: float, outbox: Path, once: bool) -> None:
    """Run the scheduler: send what is due, take timed actions, check service levels.

    Catches up at start on anything missed while it was down. Messages go to the outbox
    folder and the console (COMMISSION_NOTIFY=smtp or notify to send them for real).
    COMMISSION_NOW says what is due; claims on messages and delivery times use the real clock,
    so a claim left by a scheduler that died lapses after five minutes whatever it says.
    Several schedulers may run against one PostgreSQL database: none sends a message twice.
    """
    from engine.scheduler.delivery import backend_from_env, deliver
    from engine.scheduler.sweeper import run_forever, sweep

    backend = backend_from_env(outbox)
    if once:
        engine = open_engine(db_path)
        result = sweep(engine)
        delivered = deliver(engine.store, backend)
        click.echo(f"{result.sent} sent, {result.taken} actions taken, {result.checked} checks, "
                   f"{result.skipped} skipped; {delivered} delivered")  # fmt: skip
        return
    # each engine keeps COMMISSION_NOW's clock
    run_forever(lambda: open_engine(db_path), backend, interval)
