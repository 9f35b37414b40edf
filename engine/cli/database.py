"""`commission db …`: upgrade a database in place, copy one into another, back one up, and move
files an older version kept on disk into it."""

from __future__ import annotations

import re
from pathlib import Path

import click

from engine.cli.main import db_option, fail, is_file, main, make_room
from engine.errors import DatabaseError, EngineError


@main.group()
def db() -> None:
    """Look after the database."""


@db.command()
@db_option
def upgrade(db_path: str) -> None:
    """Bring an existing database up to this engine's schema, in place."""
    from engine.store import Store

    try:
        store = Store(db_path, check=False)
        applied = store.upgrade()
    except EngineError as exc:
        fail(exc)
    click.echo(
        f"{store.path}: upgraded through schema {applied[-1]}"
        if applied
        else f"{store.path}: already up to date"
    )


@db.command()
@click.argument("source")
@click.argument("target")
def copy(source: str, target: str) -> None:
    """Copy every row of SOURCE into the empty TARGET, then prove it table by table.

    SOURCE and TARGET are an SQLite file or a postgresql:// URL; the usual move is an SQLite
    deployment onto PostgreSQL. TARGET must hold no data (its tables are made if missing).
    Each table is compared afterwards by its count of rows and a SHA-256 over them.
    """
    from engine.store import Store
    from engine.store.copying import copy_database

    if is_file(source) and not Path(source).exists():
        fail(DatabaseError(f"there is no database at {source}; check the path"))
    make_room(target)
    try:
        origin = Store(source)
        report = copy_database(origin, Store(target))
    except EngineError as exc:
        fail(exc)
    width = max(len(t.table) for t in report)
    for t in report:
        verdict = (
            "same" if t.same else f"DIFFERENT: {t.copied} rows, sha256 {t.copied_checksum[:16]}"
        )
        click.echo(f"{t.table:<{width}}  {t.rows:>9} rows  sha256 {t.checksum[:16]}  {verdict}")
    total = sum(t.rows for t in report)
    if on_disk := len(origin.uploads_on_disk()):
        click.echo(f"{on_disk} uploaded files are still on disk beside {source}, not in the database: "
                   f"run `commission db fold-uploads --db TARGET --from FOLDER` so every host serves them.")  # fmt: skip
    if all(t.same for t in report):
        click.echo(f"Copied {total} rows in {len(report)} tables; every table has the same rows and checksum.")  # fmt: skip
        return
    fail(DatabaseError("the copy differs from the source in the tables marked DIFFERENT; do not switch over to it"))  # fmt: skip


_STORED_AS = re.compile(r"[0-9a-f]{32}")  # the random names files were kept on disk under


@db.command("fold-uploads")
@db_option
@click.option("--from", "folder", type=click.Path(file_okay=False, exists=True, path_type=Path),
              help="the folder the files are in (default: `uploads` beside an SQLite file)")  # fmt: skip
def fold_uploads(db_path: str, folder: Path | None) -> None:
    """Move uploaded files an older version kept on disk into the database, so every web host
    serves them (after `db copy` to PostgreSQL, run it on the new database with --from)."""
    from engine.store import Store
    from engine.web.demo import upload_folder

    if folder is None:
        if not is_file(db_path):
            fail(DatabaseError("say which folder the files are in with --from FOLDER"))
        folder = upload_folder(db_path)  # where those versions kept them, as the web app reads
    store = Store(db_path)
    waiting = store.uploads_on_disk()
    moved, problems = 0, []
    for row in waiting:
        where = f"{row['name']} (kept as {row['stored_as']})"
        path = folder / row["stored_as"]
        if not _STORED_AS.fullmatch(row["stored_as"]) or not path.is_file():
            problems.append(f"{where} is not in {folder}: find the folder that holds it")
            continue
        content = path.read_bytes()
        if len(content) != row["size"]:
            problems.append(f"{where} is {len(content):,} bytes in {folder}, not the {row['size']:,} "
                            "it had when uploaded: it was not moved; check it is the same file")  # fmt: skip
            continue
        with store.transaction():
            moved += store.keep_upload_content(row["id"], content)
    click.echo(f"Moved {moved} of {len(waiting)} uploaded files kept on disk into the database.")
    for problem in problems:
        click.echo(problem, err=True)
    if problems:
        fail(DatabaseError(f"{len(problems)} files were not moved; the others are in the database"))


@db.command()
@db_option
@click.argument("to", type=click.Path(dir_okay=False, path_type=Path))
def backup(db_path: str, to: Path) -> None:
    """Copy an SQLite database to the file TO while the service runs (SQLite's online backup).

    For PostgreSQL use its own tools, e.g. `pg_dump --format=custom` (docs/deploy.md).
    """
    from engine.store import Store

    if not is_file(db_path):
        fail(DatabaseError(
            "`commission db backup` copies an SQLite file; back up PostgreSQL with "
            "`pg_dump --format=custom --file=commission.dump DATABASE_URL` (docs/deploy.md)"
        ))  # fmt: skip
    if not Path(db_path).exists():
        fail(DatabaseError(f"there is no database at {db_path}; check the path"))
    if to.exists():
        fail(DatabaseError(f"{to} already exists; give the backup a new file name"))
    to.parent.mkdir(parents=True, exist_ok=True)
    try:
        Store(db_path).backup(to)  # type: ignore[attr-defined]
    except EngineError as exc:
        fail(exc)
    click.echo(f"Backed up {db_path} to {to} (schema {Store(to).schema_version()}).")
