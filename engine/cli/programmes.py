"""Programme files: validate, inspect, docs, diff, publish, versions; and `db upgrade`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from engine.cli.main import (
    db_option,
    fail,
    json_option,
    main,
    open_engine,
    show,
)
from engine.definition.loader import Linter, display_name, load_programme, read_source
from engine.errors import EngineError, ProgrammeInvalid
from engine.forms.answers import without_controls


def _default_files() -> list[Path]:
    files: list[Path] = []
    for folder in (Path("programmes"), Path("forms")):
        if folder.is_dir():
            files.extend(sorted(folder.glob("*.yaml")) + sorted(folder.glob("*.yml")))
    return files


forms_dir_option = click.option(
    "--forms-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the form files are (default: forms/ beside programmes/).",
)


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
@forms_dir_option
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
    money = f", currency {d.get('currency')}" if programme.has_money() else ", no money recorded"
    click.echo(f"  timezone {programme.timezone}{money}")
    for wid, wf in programme.workflows.items():
        click.echo(f"  workflow {wid}: {len(wf.states)} states, {len(wf.transitions)} transitions")
    click.echo(f"  forms: {', '.join(programme.forms)}")
    for m in programme.milestones.values():
        click.echo(f"  {m.span.start:%Y-%m-%d %H:%M %Z}  {m.label} ({m.span.precision})")
    extension = read_source(file, "programme").extension
    if extension is not None:
        through = "".join(f", which builds on {name}" for name in extension.chain[1:])
        click.echo(f"  builds on {extension.base}{through}; this file changes:")
        for line in extension.changes:
            click.echo(f"    {line}")


@main.command("new-round")
@click.argument("base", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--id", "new_id", required=True, help="The new round's programme id.")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write it (default: <id>.yaml beside BASE).",
)
@forms_dir_option
def new_round(base: Path, new_id: str, out: Path | None, forms_dir: Path | None) -> None:
    """Write next year's round as a small file that builds on BASE (`extends:`), dates a year on."""
    import re

    from engine.definition.next_round import round_file

    if not re.fullmatch(r"[a-z][a-z0-9_]*", new_id):
        raise click.ClickException(
            f'"{new_id}" cannot be a programme id: use lower case letters, digits and '
            "underscores, starting with a letter"
        )
    try:
        programme = load_programme(base, forms_dir)
    except ProgrammeInvalid as exc:
        for p in exc.problems:
            click.echo(str(p))
        raise click.ClickException(
            f"{display_name(base)} has mistakes; put them right before building a round on it"
        ) from None
    if new_id == programme.id:
        raise click.ClickException(f'the new round needs an id of its own, not "{new_id}"')
    out = out or base.parent / f"{new_id}.yaml"
    if out.exists():
        raise click.ClickException(f"{display_name(out)} already exists; nothing was written")
    data = read_source(base, "programme").data
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("x", encoding="utf-8") as f:  # "x": never overwrite, even in a race
        f.write(round_file(base, out, data, new_id))
    problems = Linter().programme(out, forms_dir, build=False)[1]
    found = [p for ps in problems.values() for p in ps]
    for p in found:
        click.echo(str(p))
    click.echo(f"wrote {display_name(out)}, building on {display_name(base)}")
    if found:
        sys.exit(1)


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


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@forms_dir_option
@db_option
@json_option
def publish(file: Path, forms_dir: Path | None, db_path: str, as_json: bool) -> None:
    """Validate a programme and register its new version; new cases use it, open cases keep theirs.

    When a version is already published, first prints what this one changes (as `commission diff`).
    """
    engine = open_engine(db_path)
    try:
        changed = engine.changes_from_published(load_programme(file, forms_dir))
        programme, new = engine.publish(file, forms_dir)
    except EngineError as exc:
        fail(exc)
    if changed and new and not as_json:
        click.echo(without_controls(changes_in_words(programme.name, changed)))
    word = "published" if new else "already published"
    data = {"programme": programme.id, "version": programme.version, "new": new,
            "changes": changed or []}  # fmt: skip
    show(data, as_json, f"{programme.id}: version {programme.version} {word}")


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@forms_dir_option
@db_option
@json_option
def diff(file: Path, forms_dir: Path | None, db_path: str, as_json: bool) -> None:
    """Say what publishing FILE would change from the newest published version, and the open
    cases each change touches. Publishes nothing."""
    engine = open_engine(db_path)
    try:
        programme = load_programme(file, forms_dir)
        changed = engine.changes_from_published(programme)
    except EngineError as exc:
        fail(exc)
    if changed is None:
        text = (f"No version of {programme.name} is published yet: publishing "
                f"{display_name(file)} adds its first version.")  # fmt: skip
    elif not changed:
        text = f"{display_name(file)} is the same as the published version of {programme.name}: publishing it changes nothing."
    else:
        text = changes_in_words(programme.name, changed)
    show({"programme": programme.id, "published": changed is not None, "changes": changed or []},
         as_json, text)  # fmt: skip


def changes_in_words(name: str, changed: list[dict[str, Any]]) -> str:
    """The changes a new version makes, one to a line, each with the open cases it touches."""
    lines = [
        f"Publishing this file changes {name} in {len(changed)} way{'s' if len(changed) != 1 else ''}:"
    ]
    for change in changed:
        lines.append(f"  - {change['sentence']}")
        if change["states"]:  # a change that can reach cases says how many it does
            lines.append(f"    {_cases_in_words(change)}")
    return "\n".join(lines)


def _cases_in_words(change: dict[str, Any]) -> str:
    count = change["count"]
    if not count:
        return "touches no open cases"
    listed = ", ".join(change["cases"])
    more = f" and {change['more']:,} more" if change["more"] else ""
    return f"touches {count:,} open case{'s' if count != 1 else ''}: {listed}{more}"


@main.command()
@click.argument("programme")
@db_option
@json_option
def versions(programme: str, db_path: str, as_json: bool) -> None:
    """List a programme's published versions and how many cases each has."""
    rows = open_engine(db_path).store.versions(programme)
    if not rows:
        fail(EngineError(f'no versions of "{programme}" are published; run `commission publish`'))
    lines = [
        f"{r['version']}  published {r['published_at'][:16]}  {r['cases']} case(s)" for r in rows
    ]
    show(rows, as_json, "\n".join(lines))


@main.command("export-programme")
@click.argument("programme")
@click.option("--to", "out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="The folder to write into: programmes/ and forms/ are made in it.")  # fmt: skip
@click.option("--version", "version", default=None, help="A version (as `commission versions` lists); the newest when left out.")  # fmt: skip
@click.option("--force", is_flag=True, help="Write over files that are there and differ.")
@db_option
def export_programme(programme: str, out: Path, version: str | None, force: bool, db_path: str) -> None:  # fmt: skip
    """Write a published version's files out, as `programmes/` and `forms/`, for keeping in git.

    A file already there with other text is left alone (and named) unless --force.
    """
    engine = open_engine(db_path)
    version = version or engine.store.latest_version(programme)
    files = engine.store.version_files(programme, version) if version else None
    if files is None:
        listed = {v["version"] for v in engine.store.versions(programme)}
        if not listed:
            fail(EngineError(f'there is no published programme "{programme}"; `commission versions` lists what is'))  # fmt: skip
        if version not in listed:
            fail(EngineError(f'"{programme}" has no version {version}; `commission versions {programme}` lists them'))  # fmt: skip
        fail(EngineError(f"the files of this version of {programme} were not kept (it was published before versions kept them); publish it again"))  # fmt: skip
    assert files is not None  # every other way out failed above
    clashes = [n for n, t in files.items() if (out / n).is_file() and (out / n).read_text("utf-8") != t]  # fmt: skip
    if clashes and not force:
        fail(EngineError(f"{len(clashes)} file(s) in {out} differ from the published ones and were not written over: {', '.join(sorted(clashes))}; use --force to replace them"))  # fmt: skip
    for name, text in sorted(files.items()):
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_text(text, "utf-8")
    click.echo(f"wrote {len(files)} file(s) of {programme} into {out}")
