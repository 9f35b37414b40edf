"""The `commission` group, its shared options, and the helpers every command module uses."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn
from zoneinfo import ZoneInfo

import click

from engine.errors import ActionRefused, AnswersInvalid, EngineError, ProgrammeInvalid
from engine.forms.answers import without_controls

if TYPE_CHECKING:  # imported when a command runs: `commission validate` needs no database
    from engine.runtime import Actor, Engine

DEFAULT_DB = "var/commission.db"
DEFAULT_TIMEZONE = "Europe/London"  # a COMMISSION_NOW without an offset, before any programme
db_option = click.option(
    "--db",
    "db_path",
    envvar="COMMISSION_DB",
    default=DEFAULT_DB,
    show_default=True,
    help="The database: an SQLite file, or a postgresql://user:password@host/name URL "
    "(or set COMMISSION_DB).",
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
as_option = click.option(
    "--as",
    "actor_text",
    default="commissioner",
    show_default=True,
    help="Who is acting: ROLE[:ID][@ORGANISATION], e.g. applicant:ann@org_a.",
)


@click.group()
@click.version_option(package_name="commissioning-engine")
def main() -> None:
    """Run commissioning programmes written in YAML.

    Set COMMISSION_DB to choose the database, and COMMISSION_NOW to act as if it were that
    moment, e.g. to rehearse a round's deadlines. COMMISSION_NOW is an ISO date and time on the
    wall clock of the database's programmes (2022-07-01T11:30 is 11:30 BST in Europe/London, the
    timezone used before any programme is published; a date alone is midnight). Give it a UTC
    offset (2022-07-01T11:30+01:00) when the programmes are in different timezones, or for the
    hour the clocks go back.
    """


def is_file(db_path: str) -> bool:
    """Whether the database is an SQLite file (not `:memory:`, not a PostgreSQL URL)."""
    from engine.store import is_postgres

    return db_path != ":memory:" and not is_postgres(db_path)


def make_room(db_path: str) -> None:
    """Make the folder an SQLite file goes in (a PostgreSQL database needs nothing made)."""
    if is_file(db_path):
        Path(db_path).parent.mkdir(parents=True, exist_ok=True)


def open_engine(db_path: str) -> Engine:
    """The engine on a database, acting as if it were COMMISSION_NOW when that is set."""
    from engine.runtime import Engine

    make_room(db_path)
    clock = frozen_clock(db_path)
    return Engine(db_path, clock=clock) if clock else Engine(db_path)


def parse_actor(text: str) -> Actor:
    """`ROLE[:ID][@ORGANISATION]` as the actor it names."""
    from engine.runtime import Actor

    organisation = None
    if "@" in text:
        text, organisation = text.split("@", 1)
    role, _, ident = text.partition(":")
    return Actor(role, ident or role, organisation)


def fail(exc: EngineError) -> NoReturn:
    """Print an engine error as sentences (every reason, every problem) and exit 1."""
    if isinstance(exc, ProgrammeInvalid):
        for p in exc.problems:
            click.echo(str(p), err=True)
    elif isinstance(exc, AnswersInvalid):
        click.echo(f"error: {exc}", err=True)
    elif isinstance(exc, ActionRefused):
        click.echo(f"error: {exc.message}", err=True)
        for r in exc.reasons:
            click.echo(f"  - {r}", err=True)
    else:
        click.echo(f"error: {exc}", err=True)
    sys.exit(1)


def show(data: object, as_json: bool, text: str) -> None:
    """Print `data` as JSON, or `text` for people, never a terminal escape someone typed."""
    out = json.dumps(data, indent=2, default=str, ensure_ascii=False) if as_json else text
    click.echo(without_controls(out))


def frozen_clock(
    db_path: str | None = None, timezones: Iterable[str] | None = None
) -> Callable[[], datetime] | None:
    """COMMISSION_NOW as a frozen clock for the engine and web app (None: the real time).

    With a UTC offset (`2022-07-01T11:30+01:00`) it is that moment. Without one (`2022-07-01T11:30`,
    or `2022-07-01` for midnight) it is read on the programmes' wall clock: in `timezones` when
    given (the programme a command reads), else in the timezone of every programme published in
    the database at `db_path` (DEFAULT_TIMEZONE while none is). Refused, saying what to write
    instead, when those are different timezones, or when the time happens twice (the clocks go
    back) or never (they go forward) there.
    """
    frozen = os.environ.get("COMMISSION_NOW")
    if not frozen:
        return None
    try:
        moment = datetime.fromisoformat(frozen)
    except ValueError:
        raise click.BadParameter(f"COMMISSION_NOW={frozen!r} is not an ISO date and time") from None
    if moment.tzinfo is None:
        zones = set(timezones) if timezones is not None else _published_timezones(db_path)
        moment = _on_wall_clock(frozen, moment, sorted(zones) or [DEFAULT_TIMEZONE])
    moment = moment.astimezone(UTC)  # as the real clock gives it: stamps compare as text
    return lambda: moment


def _written(moment: datetime) -> str:
    """`2022-07-01T11:30+01:00`: a moment as COMMISSION_NOW may be written."""
    exact = moment.second or moment.microsecond
    return moment.isoformat(timespec="auto" if exact else "minutes")


def _on_wall_clock(text: str, naive: datetime, zones: list[str]) -> datetime:
    """A local date and time in the programmes' one timezone, refused where it is ambiguous."""
    if len(zones) > 1:
        examples = " or ".join(
            f"{_written(naive.replace(tzinfo=ZoneInfo(z)))} ({z})" for z in zones
        )
        raise click.BadParameter(
            f"COMMISSION_NOW={text} has no UTC offset and the programmes are in different "
            f"timezones; write it with an offset, such as {examples}"
        )
    [name] = zones
    tz = ZoneInfo(name)
    first, second = naive.replace(tzinfo=tz, fold=0), naive.replace(tzinfo=tz, fold=1)
    if first.utcoffset() == second.utcoffset():
        return first
    if first.astimezone(UTC).astimezone(tz).replace(tzinfo=None) == naive:
        raise click.BadParameter(
            f"COMMISSION_NOW={text} happens twice in {name}, as the clocks go back; write it "
            f"with its UTC offset: {_written(first)} for the first time, {_written(second)} for "
            "the second"
        )
    raise click.BadParameter(
        f"COMMISSION_NOW={text} never happens in {name}: the clocks go forward past it; write "
        f"a time that does, such as {_written(first.astimezone(UTC).astimezone(tz))}"
    )


def _published_timezones(db_path: str | None) -> set[str]:
    """The timezones of every programme version published in a database (none in a new one)."""
    from engine.store import Store, is_postgres

    if db_path is None or (
        not is_postgres(db_path) and not (is_file(db_path) and Path(db_path).is_file())
    ):
        return set()  # not made yet: nothing to open, and nothing made by looking
    try:
        store = Store(db_path, check=False)
    except EngineError:
        return set()  # opening the engine next says what is wrong with the database
    try:
        return {
            str(data["timezone"])
            for programme_id in store.programme_ids()
            for v in store.versions(programme_id)
            if (data := store.programme_data(programme_id, v["version"]))
        }
    except EngineError:
        return set()  # an empty or old database: as above
    finally:
        store.close()
