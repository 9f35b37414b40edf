"""`commission …`: the command line for commissioners, support and scripts."""

from __future__ import annotations

import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from engine.definition.loader import Linter, display_name, load_programme
from engine.errors import ActionRefused, AnswersInvalid, EngineError, ProgrammeInvalid

DEFAULT_DB = "var/commission.db"
db_option = click.option(
    "--db",
    "db_path",
    envvar="COMMISSION_DB",
    default=DEFAULT_DB,
    show_default=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The SQLite database (or set COMMISSION_DB).",
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


def _default_files() -> list[Path]:
    files: list[Path] = []
    for folder in (Path("programmes"), Path("forms")):
        if folder.is_dir():
            files.extend(sorted(folder.glob("*.yaml")) + sorted(folder.glob("*.yml")))
    return files


@main.command()
@click.argument("files", nargs=-1, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
def validate(files: tuple[Path, ...], as_json: bool) -> None:
    """Check programme and form files (all of programmes/ and forms/ by default).

    Prints `ok` for each clean file, or every problem as `path:line:col: error[code]: sentence`.
    Exits 1 if any file has a problem.
    """
    targets = list(files) or _default_files()
    if not targets:
        raise click.ClickException(
            "no files to check: name some, or run this where programmes/ and forms/ are"
        )
    linter = Linter()
    results: dict[str, list] = {}
    for path in targets:
        if not path.exists():
            results[display_name(path)] = [None]
            continue
        for fname, problems in linter.file(path).items():
            results.setdefault(fname, [])
            for p in problems:
                if p not in results[fname]:
                    results[fname].append(p)
    failed = False
    if as_json:
        out = {}
        for fname, problems in results.items():
            if problems == [None]:
                out[fname] = {
                    "ok": False,
                    "problems": [{"code": "not-found", "message": "no such file"}],
                }
                failed = True
                continue
            failed |= bool(problems)
            out[fname] = {"ok": not problems, "problems": [p.as_dict() for p in sorted(problems)]}
        click.echo(json.dumps(out, indent=2))
    else:
        for fname, problems in results.items():
            if problems == [None]:
                click.echo(f"{fname}: error[not-found]: no such file", err=True)
                failed = True
            elif problems:
                failed = True
                for p in sorted(problems):
                    click.echo(str(p))
            else:
                click.echo(f"{fname}: ok")
        if failed:
            count = sum(len(p) for p in results.values() if p != [None])
            click.echo(f"{count} problem{'s' if count != 1 else ''} found", err=True)
    sys.exit(1 if failed else 0)


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--json", "as_json", is_flag=True, help="Print the whole normalised programme as JSON."
)
@click.option(
    "--forms-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the form files are (default: forms/ beside programmes/).",
)
def inspect(file: Path, as_json: bool, forms_dir: Path | None) -> None:
    """Show a programme as the engine reads it: validated, dates with UTC offsets, forms resolved."""
    try:
        programme = load_programme(file, forms_dir)
    except ProgrammeInvalid as exc:
        for p in exc.problems:
            click.echo(str(p))
        sys.exit(1)
    if as_json:
        click.echo(json.dumps(programme.data, indent=2, ensure_ascii=False))
        return
    d = programme.data
    click.echo(f"{programme.name} ({programme.id}), version {programme.version}")
    click.echo(f"  timezone {programme.timezone}, currency {d.get('currency')}")
    for wid, wf in programme.workflows.items():
        click.echo(f"  workflow {wid}: {len(wf.states)} states, {len(wf.transitions)} transitions")
    click.echo(f"  forms: {', '.join(programme.forms)}")
    for m in programme.milestones.values():
        click.echo(f"  {m.span.start:%Y-%m-%d %H:%M %Z}  {m.label} ({m.span.precision})")


@main.command()
@click.option("--check", is_flag=True, help="Fail if docs/programme-file.md is not up to date.")
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("docs/programme-file.md"),
    show_default=True,
)
def docs(check: bool, output: Path) -> None:
    """Write the programme-file reference from the JSON Schemas."""
    from engine.definition.docs import render_reference

    text = render_reference()
    if check:
        current = output.read_text("utf-8") if output.exists() else ""
        if current != text:
            raise click.ClickException(f"{output} is out of date; run `commission docs`")
        click.echo(f"{output}: up to date")
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, "utf-8")
    click.echo(f"wrote {output}")


def _engine(db_path: Path):
    from engine.runtime import Engine

    if str(db_path) != ":memory:":
        db_path.parent.mkdir(parents=True, exist_ok=True)
    frozen = os.environ.get("COMMISSION_NOW")
    if frozen:  # for demos, rehearsals and tests: act as if it were this moment
        try:
            moment = datetime.fromisoformat(frozen)
        except ValueError:
            raise click.BadParameter(
                f"COMMISSION_NOW={frozen!r} is not an ISO date and time"
            ) from None
        moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        return Engine(db_path, clock=lambda: moment)
    return Engine(db_path)


def _actor(text: str):
    from engine.runtime import Actor

    organisation = None
    if "@" in text:
        text, organisation = text.split("@", 1)
    role, _, ident = text.partition(":")
    return Actor(role, ident or role, organisation)


def _fail(exc: EngineError) -> None:
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


def _print(data: object, as_json: bool, text: str) -> None:
    if as_json:
        click.echo(json.dumps(data, indent=2, default=str, ensure_ascii=False))
    else:
        click.echo(text)


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--forms-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the form files are.",
)
@db_option
@json_option
def publish(file: Path, forms_dir: Path | None, db_path: Path, as_json: bool) -> None:
    """Validate a programme and register its new version; new cases use it, open cases keep theirs."""
    try:
        programme, new = _engine(db_path).publish(file, forms_dir)
    except EngineError as exc:
        _fail(exc)
    word = "published" if new else "already published"
    _print({"programme": programme.id, "version": programme.version, "new": new}, as_json,
           f"{programme.id}: version {programme.version} {word}")  # fmt: skip


@main.command()
@click.argument("programme")
@db_option
@json_option
def versions(programme: str, db_path: Path, as_json: bool) -> None:
    """List a programme's published versions and how many cases each has."""
    rows = _engine(db_path).store.versions(programme)
    if not rows:
        _fail(EngineError(f'no versions of "{programme}" are published; run `commission publish`'))
    lines = [
        f"{r['version']}  published {r['published_at'][:16]}  {r['cases']} case(s)" for r in rows
    ]
    _print(rows, as_json, "\n".join(lines))


@main.group()
def db() -> None:
    """Look after the database."""


@db.command()
@db_option
def upgrade(db_path: Path) -> None:
    """Bring an existing database up to this engine's schema, in place."""
    from engine.store import Store

    try:
        store = Store(db_path, check=False)
        applied = store.upgrade()
    except EngineError as exc:
        _fail(exc)
    click.echo(
        f"{db_path}: upgraded through schema {applied[-1]}"
        if applied
        else f"{db_path}: already up to date"
    )


@main.group()
def case() -> None:
    """Start, fill in, act on and look at cases."""


def _case_text(view, actions=None) -> str:
    lines = [
        f"{view.reference} ({view.workflow}) — {view.state_label} [{view.state}], revision {view.revision}"
    ]
    if view.organisation:
        lines.append(
            f"  organisation: {view.organisation}" + (f", role {view.role}" if view.role else "")
        )
    for opt in actions or []:
        mark = "can" if opt.allowed else "cannot"
        lines.append(f"  {mark} {opt.trigger}: {opt.label}")
        lines.extend(f"      - {r}" for r in opt.reasons)
    return "\n".join(lines)


@case.command("start")
@click.argument("programme")
@click.argument("workflow")
@as_option
@click.option("--organisation", help="The organisation the case is for (defaults to the actor's).")
@click.option("--role", "applicant_role", help="The role applied in, e.g. lead or partner.")
@click.option("--lot", help="The lot applied for.")
@click.option("--subject", help="For a case about a person: a pseudonymous reference.")
@db_option
@json_option
def case_start(programme: str, workflow: str, actor_text: str, organisation: str | None,
               applicant_role: str | None, lot: str | None, subject: str | None, db_path: Path, as_json: bool) -> None:  # fmt: skip
    """Open a new case of a workflow."""
    try:
        view = _engine(db_path).start_case(programme, workflow, _actor(actor_text), organisation=organisation,
                                           role=applicant_role, lot=lot, subject=subject)  # fmt: skip
    except EngineError as exc:
        _fail(exc)
    _print(view.as_dict(), as_json, _case_text(view))


@case.command("answer")
@click.argument("case_ref")
@click.argument("form")
@click.option("--answers", "answers_text", help="The answers as a JSON object.")
@click.option("--file", "answers_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A JSON or YAML file holding the answers.")  # fmt: skip
@click.option(
    "--record", type=int, help="For a repeatable form: the record to change (default: a new one)."
)
@as_option
@db_option
@json_option
def case_answer(case_ref: str, form: str, answers_text: str | None, answers_file: Path | None,
                record: int | None, actor_text: str, db_path: Path, as_json: bool) -> None:  # fmt: skip
    """Save answers to one of a case's forms."""
    if answers_file:
        from engine.definition.yaml_source import read_yaml

        answers, _pos, problems = read_yaml(str(answers_file), answers_file.read_bytes())
        if problems:
            _fail(ProgrammeInvalid(problems))
    else:
        try:
            answers = json.loads(answers_text or "{}")
        except json.JSONDecodeError as exc:
            raise click.BadParameter(
                f"not JSON: {exc.msg} at character {exc.pos}", param_hint="--answers"
            ) from None
    if not isinstance(answers, dict):
        raise click.BadParameter("answers must be an object of question id to answer")
    try:
        view = _engine(db_path).save_answers(
            case_ref, form, answers, _actor(actor_text), record=record
        )
    except EngineError as exc:
        _fail(exc)
    _print(view.as_dict(), as_json, _case_text(view))


@case.command("act")
@click.argument("case_ref")
@click.argument("trigger")
@as_option
@click.option("--amount", type=int, help="For an award or a payment: the amount in whole pounds.")
@click.option("--lot", help="For an award: the lot.")
@click.option("--reason", help="Why, where the action needs a reason.")
@click.option("--expect-state", help="Refuse if the case is no longer in this state.")
@db_option
@json_option
def case_act(case_ref: str, trigger: str, actor_text: str, amount: int | None, lot: str | None,
             reason: str | None, expect_state: str | None, db_path: Path, as_json: bool) -> None:  # fmt: skip
    """Take an action on a case (every reason is given if it cannot be taken)."""
    try:
        view = _engine(db_path).act(case_ref, trigger, _actor(actor_text), amount=amount, lot=lot,
                                    reason=reason, expected_state=expect_state)  # fmt: skip
    except EngineError as exc:
        _fail(exc)
    _print(view.as_dict(), as_json, _case_text(view))


@case.command("show")
@click.argument("case_ref")
@as_option
@db_option
@json_option
def case_show(case_ref: str, actor_text: str, db_path: Path, as_json: bool) -> None:
    """Show a case, the actions open to you now and its eligibility."""
    engine = _engine(db_path)
    actor = _actor(actor_text)
    try:
        view = engine.case(case_ref, actor)
        actions = engine.actions(case_ref, actor)
        criteria = engine.eligibility(case_ref, actor)
    except EngineError as exc:
        _fail(exc)
    data = {
        **view.as_dict(),
        "actions": [a.__dict__ for a in actions],
        "eligibility": [c.__dict__ for c in criteria],
    }
    text = _case_text(view, actions)
    if criteria:
        text += "\n  eligibility:\n" + "\n".join(
            f"    {c.status:>14}  {c.text}" + (f" — {c.message}" if c.message else "")
            for c in criteria
        )
    _print(data, as_json, text)


@case.command("history")
@click.argument("case_ref")
@as_option
@db_option
@json_option
def case_history(case_ref: str, actor_text: str, db_path: Path, as_json: bool) -> None:
    """Show a case's audit log: who did what, when."""
    try:
        events = _engine(db_path).history(case_ref, _actor(actor_text))
    except EngineError as exc:
        _fail(exc)
    lines = [
        f"{e['at'][:19]}  {e['role']:<12} {e['action']:<24} {e['from'] or '-'} -> {e['to'] or '-'}"
        for e in events
    ]
    _print(events, as_json, "\n".join(lines))


def _clock():
    """COMMISSION_NOW as a frozen clock for the web app (None: the real time)."""
    frozen = os.environ.get("COMMISSION_NOW")
    if not frozen:
        return None
    try:
        moment = datetime.fromisoformat(frozen)
    except ValueError:
        raise click.BadParameter(f"COMMISSION_NOW={frozen!r} is not an ISO date and time") from None
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return lambda: moment


@main.command()
@db_option
@click.option("--host", default="127.0.0.1", show_default=True, help="The address to listen on.")
@click.option("--port", default=5000, show_default=True, type=int, help="The port to listen on.")
@click.option(
    "--debug",
    is_flag=True,
    help="Reload on code changes and show tracebacks (never in production).",
)
def serve(db_path: Path, host: str, port: int, debug: bool) -> None:
    """Serve the web app on a database (with COMMISSION_NOW, as if it were that moment).

    This is Werkzeug's server, for one machine; in production run `engine.web:create_app()`
    under gunicorn behind HTTPS.
    """
    from engine.web import create_app

    db_path.parent.mkdir(parents=True, exist_ok=True)
    config: dict = {"DATABASE": str(db_path), "CLOCK": _clock()}
    if host in ("127.0.0.1", "localhost", "::1"):
        config["SESSION_COOKIE_SECURE"] = False  # plain http on this machine only
    try:
        app = create_app(config)
    except EngineError as exc:
        _fail(exc)
    click.echo(f"Serving {db_path} on http://{host}:{port}/ (Ctrl+C to stop)")
    app.run(host=host, port=port, debug=debug, use_reloader=debug)


@main.command()
@db_option
@click.option("--data", "data_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=Path("demo/seed.yaml"), show_default=True, help="The demo data file.")  # fmt: skip
@click.option("--password", envvar="COMMISSION_DEMO_PASSWORD", help="The demo password (default: a new random one).")  # fmt: skip
def demo(db_path: Path, data_file: Path, password: str | None) -> None:
    """Create a demo database: the programmes, demo people and cases from a data file.

    For demonstrations only: every demo person has the one password printed here.
    """
    import secrets

    from engine.web.demo import seed

    password = password or f"demo-{secrets.token_urlsafe(9)}"
    db_path.parent.mkdir(parents=True, exist_ok=True)
    try:
        done = seed(db_path, data_file, password)
    except (EngineError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{db_path}: published {', '.join(done['programmes'])}")
    click.echo(f"cases: {', '.join(done['cases'])}")
    click.echo("demo people (sign in at /auth/sign-in):")
    for email in done["users"]:
        click.echo(f"  {email}")
    click.echo(f"demo password: {password}")
