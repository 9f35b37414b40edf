"""The `commission` group, its shared options, and the helpers every command module uses."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import click

from engine.errors import ActionRefused, AnswersInvalid, EngineError, ProgrammeInvalid
from engine.forms.answers import without_controls

if TYPE_CHECKING:  # imported when a command runs: `commission validate` needs no database
    from engine.runtime import Actor, Engine

DEFAULT_DB = "var/commission.db"
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

    Set COMMISSION_DB to choose the database, and COMMISSION_NOW (an ISO date and time) to act
    as if it were that moment, e.g. to rehearse a round's deadlines.
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
    clock = frozen_clock()
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


def frozen_clock() -> Callable[[], datetime] | None:
    """COMMISSION_NOW as a frozen clock for the engine and web app (None: the real time)."""
    frozen = os.environ.get("COMMISSION_NOW")
    if not frozen:
        return None
    try:
        moment = datetime.fromisoformat(frozen)
    except ValueError:
        raise click.BadParameter(f"COMMISSION_NOW={frozen!r} is not an ISO date and time") from None
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return lambda: moment
