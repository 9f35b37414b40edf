"""The web app on one machine: `serve`, `demo`, and `up` (demo data, web app and scheduler)."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import click

from engine.cli.main import db_option, fail, frozen_clock, main, make_room
from engine.errors import EngineError
from engine.store.dialect import shown

DEMO_NOW = "2022-01-20T10:00"  # the demo data's rehearsal date, when its first round is open
DEMO_DATA = Path("demo/seed.yaml")  # from the project's folder, where `make run` starts


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
        serve.callback(db_path=str(db_path), host=host, port=port, debug=False)  # type: ignore[misc]
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

    if not DEMO_DATA.is_file():  # the demo's data is in the project's folder, not in the package
        raise click.ClickException(
            f"there is no {DEMO_DATA} here: run `commission up` from the project's folder (as "
            "`make run` does), or give an existing database with --db"
        )
    password = os.environ.get("COMMISSION_DEMO_PASSWORD") or f"demo-{secrets.token_urlsafe(9)}"
    db_path.parent.mkdir(parents=True, exist_ok=True)
    done = seed(db_path, DEMO_DATA, password)
    lines = [f"  {email}" for email in done["users"]]
    credentials.write_text(
        "\n".join(["demo people:", *lines, f"demo password: {password}", ""]), "utf-8"
    )
    credentials.chmod(0o600)  # a demo password, but still nobody else's to read


@main.command()
@db_option
@click.option("--host", default="127.0.0.1", show_default=True, help="The address to listen on.")
@click.option("--port", default=5000, show_default=True, type=int, help="The port to listen on.")
@click.option(
    "--debug",
    is_flag=True,
    help="Reload on code changes and show tracebacks (never in production).",
)
def serve(db_path: str, host: str, port: int, debug: bool) -> None:
    """Serve the web app on a database (with COMMISSION_NOW, as if it were that moment).

    This is Werkzeug's server, for one machine; in production run `engine.web:create_app()`
    under gunicorn behind HTTPS.
    """
    from engine.web import create_app

    make_room(db_path)
    config: dict = {"DATABASE": str(db_path), "CLOCK": frozen_clock(str(db_path))}
    if not os.environ.get("COMMISSION_BASE_URL"):  # links in emails point at this server
        config["BASE_URL"] = f"http://{host}:{port}"
    if host in ("127.0.0.1", "localhost", "::1"):
        config["SESSION_COOKIE_SECURE"] = False  # plain http on this machine only
    try:
        app = create_app(config)
    except EngineError as exc:
        fail(exc)
    click.echo(f"Serving {shown(db_path)} on http://{host}:{port}/ (Ctrl+C to stop)")
    app.run(host=host, port=port, debug=debug, use_reloader=debug)


@main.command()
@db_option
@click.option("--data", "data_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=DEMO_DATA, show_default=True, help="The demo data file.")  # fmt: skip
@click.option("--password", envvar="COMMISSION_DEMO_PASSWORD", help="The demo password (default: a new random one).")  # fmt: skip
def demo(db_path: str, data_file: Path, password: str | None) -> None:
    """Create a demo database: the programmes, demo people and cases from a data file.

    For demonstrations only: every demo person has the one password printed here.
    """
    import secrets

    from engine.web.demo import seed

    password = password or f"demo-{secrets.token_urlsafe(9)}"
    make_room(db_path)
    try:
        done = seed(db_path, data_file, password)
    except (EngineError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{shown(db_path)}: published {', '.join(done['programmes'])}")
    click.echo(f"cases: {', '.join(done['cases'])}")
    click.echo("demo people (sign in at /auth/sign-in):")
    for email in done["users"]:
        click.echo(f"  {email}")
    click.echo(f"demo password: {password}")
