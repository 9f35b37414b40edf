"""`commission privacy …`: data-protection duties. A subject access export (JSON and a readable
HTML page), erasure of one person's or one account's personal data, and the retention rules
applied now (the scheduler applies them daily)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from engine.cli.main import db_option, fail, json_option, main, open_engine, parse_actor, show
from engine.errors import EngineError

privacy_as = click.option("--as", "actor_text", default="commissioner:command-line", show_default=True,
                          help="Who is acting (logged): ROLE[:ID].")  # fmt: skip
person_option = click.option("--person", help="The identifier the person's cases are about.")
account_option = click.option("--account", help="The email address of an account.")


def _one_of(person: str | None, account: str | None) -> None:
    if bool(person) == bool(account):
        raise click.UsageError("give exactly one of --person ID or --account EMAIL")


@main.group()
def privacy() -> None:
    """Subject access exports, erasure and retention (data protection)."""


@privacy.command("export")
@person_option
@account_option
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="The folder to write personal-data.json and personal-data.html in.")  # fmt: skip
@db_option
@privacy_as
def export(person: str | None, account: str | None, out_dir: Path, db_path: str, actor_text: str) -> None:  # fmt: skip
    """Write everything held about one person or one account, as JSON and as an HTML page."""
    from engine.runtime.subject_access import subject_access_html

    _one_of(person, account)
    try:
        held = open_engine(db_path).subject_access(
            parse_actor(actor_text), person=person, account=account
        )
    except EngineError as exc:
        fail(exc)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "personal-data.json").write_text(
        json.dumps(held, indent=2, ensure_ascii=False) + "\n"
    )
    (out_dir / "personal-data.html").write_text(subject_access_html(held))
    click.echo(f"{len(held['cases'])} cases written to {out_dir / 'personal-data.json'} "
               f"and {out_dir / 'personal-data.html'}")  # fmt: skip


@privacy.command("erase")
@person_option
@account_option
@click.option("--yes", is_flag=True, help="Erase without asking to confirm.")
@db_option
@privacy_as
@json_option
def erase(person: str | None, account: str | None, yes: bool, db_path: str, actor_text: str,
          as_json: bool) -> None:  # fmt: skip
    """Erase one person's or one account's personal data; anonymised counts stay the same."""
    _one_of(person, account)
    what = "this person's personal data" if person else "this account and its personal data"
    if not yes and not click.confirm(f"Erase {what}? This cannot be undone", default=False):
        click.echo("Nothing was erased.")
        return
    engine = open_engine(db_path)
    try:
        actor = parse_actor(actor_text)
        done = (
            engine.erase_person(person, actor)
            if person
            else engine.erase_account(account or "", actor)
        )
    except EngineError as exc:
        fail(exc)
    if done["already"]:
        text = "This was already erased; nothing more to erase."
    else:
        rows = sum(done["rows"].values())
        text = f"Erased: {len(done['cases'])} cases, {rows} rows changed or removed."
    show(done, as_json, text)


@privacy.command("retention")
@click.option("--dry-run", is_flag=True, help="Say what would go, and change nothing.")
@db_option
@privacy_as
@json_option
def retention(dry_run: bool, db_path: str, actor_text: str, as_json: bool) -> None:
    """Apply every programme's retention rules now to the cases whose time has passed."""
    try:
        results = open_engine(db_path).apply_retention(parse_actor(actor_text), dry_run=dry_run)
    except EngineError as exc:
        fail(exc)
    verb = "would go" if dry_run else "done"
    lines = [f"{r['rule']} ({r['programme']}): {len(r['cases'])} cases {verb}: {', '.join(r['cases'])}"
             for r in results]  # fmt: skip
    show(results, as_json, "\n".join(lines) or "Nothing is due under any retention rule.")
