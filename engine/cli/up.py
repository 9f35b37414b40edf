"""`commission up`: the whole thing on one machine — demo data, the web app and the scheduler."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import click

from engine.cli.main import main

DEMO_NOW = "2022-01-20T10:00"  # the demo data's rehearsal date, when its first round is open


@main.command()
@click.option("--db", "db_path", type=click.Path(dir_okay=False, path_type=Path), default=Path("var/demo.db"),
              show_default=True, help="The demo database (created and seeded if missing).")  # fmt: skip
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True)
@click.option(
    "--outbox",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("var/outbox"),
    show_default=True,
)
def up(db_path: Path, host: str, port: int, outbox: Path) -> None:
    """Seed a demo database if there is none, then run the scheduler beside the web app.

    Acts as if it were COMMISSION_NOW (default: 20 January 2022 10:00, when the demo rounds are
    open). The demo people and their one password are printed at every start.
    """
    os.environ.setdefault("COMMISSION_NOW", DEMO_NOW)
    credentials = db_path.with_name(db_path.name + ".credentials.txt")
    prepare(db_path, credentials)
    click.echo(f"Demo database {db_path}, as if it were {os.environ['COMMISSION_NOW']}")
    if credentials.exists():
        click.echo(credentials.read_text("utf-8").rstrip())
    click.echo(f"Open http://{host}:{port}/ and sign in (/auth/sign-in). Ctrl+C stops both.")
    scheduler = subprocess.Popen(  # its own process: web workers never run jobs
        [
            sys.executable,
            "-m",
            "engine.cli",
            "scheduler",
            "--db",
            str(db_path),
            "--outbox",
            str(outbox),
        ],
    )
    try:
        from engine.cli.main import serve

        serve.callback(db_path=db_path, host=host, port=port, debug=False)  # type: ignore[misc]
    finally:
        scheduler.terminate()
        scheduler.wait(timeout=10)


def prepare(db_path: Path, credentials: Path) -> None:
    """Seed the demo database if there is none; bring one made by an older version up to date."""
    if db_path.exists():
        from engine.store import Store

        # the demo's own database: upgraded in place rather than refused at start-up
        applied = Store(db_path, check=False).upgrade()
        if applied:
            click.echo(f"Upgraded {db_path} to schema {applied[-1]}.")
        return
    from engine.web.demo import seed

    password = os.environ.get("COMMISSION_DEMO_PASSWORD") or f"demo-{secrets.token_urlsafe(9)}"
    db_path.parent.mkdir(parents=True, exist_ok=True)
    done = seed(db_path, Path("demo/seed.yaml"), password)
    lines = [f"  {email}" for email in done["users"]]
    credentials.write_text(
        "\n".join(["demo people:", *lines, f"demo password: {password}", ""]), "utf-8"
    )
    credentials.chmod(0o600)  # a demo password, but still nobody else's to read
