"""`commission validate` and `inspect` as a commissioner uses them."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from engine.cli import main

from .conftest import EXAMPLE, ROOT
from .databases import database_in

LINE = re.compile(
    r"^(?P<path>[^:]+):(?P<line>\d+):(?P<col>\d+): error\[(?P<code>[a-z0-9-]+)\]: .{10,}$"
)


def write_programme(tmp_path: Path, text: str) -> Path:
    (tmp_path / "programmes").mkdir()
    (tmp_path / "forms").mkdir()
    for form in (EXAMPLE / "forms").glob("*.yaml"):
        (tmp_path / "forms" / form.name).write_bytes(form.read_bytes())
    path = tmp_path / "programmes" / "mine.yaml"
    path.write_text(text, "utf-8")
    return path


def test_every_problem_is_reported_at_once_with_exit_status_1(tmp_path: Path) -> None:
    text = (EXAMPLE / "programmes" / "tiny.yaml").read_text("utf-8")
    text = text.replace("dest: awarded", "dest: awardd").replace(
        "timezone: Europe/London", "timezone: Europe/Lodnon"
    )
    text = text.replace("before: 7 days", "before: a week")
    path = write_programme(tmp_path, text)
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 1
    problems = [LINE.match(line) for line in result.stdout.splitlines()]
    assert all(problems), result.stdout
    codes = {m["code"] for m in problems}
    assert {"unknown-state", "bad-timezone", "bad-duration"} <= codes
    assert 'did you mean "awarded"?' in result.stdout
    assert 'did you mean "Europe/London"?' in result.stdout


def test_validate_json_lists_files_and_problems(tmp_path: Path) -> None:
    text = (
        (EXAMPLE / "programmes" / "tiny.yaml")
        .read_text("utf-8")
        .replace("max_awards: 10", "max_awards: 30")
    )
    path = write_programme(tmp_path, text)
    result = CliRunner().invoke(main, ["validate", "--json", str(path)])
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    [entry] = [v for k, v in data.items() if k.endswith("mine.yaml")]
    assert entry["ok"] is False
    assert [p["code"] for p in entry["problems"]] == ["pot-too-small"]


def test_validate_with_no_arguments_checks_programmes_and_forms_folders(
    tmp_path: Path, monkeypatch
) -> None:
    write_programme(tmp_path, (EXAMPLE / "programmes" / "tiny.yaml").read_text("utf-8"))
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["validate"])
    assert result.exit_code == 0
    forms = sorted(f"forms/{f.name}: ok" for f in (EXAMPLE / "forms").glob("*.yaml"))
    assert result.stdout.splitlines() == ["programmes/mine.yaml: ok", *forms]


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["validate", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 1
    assert "no such file" in result.output


def test_inspect_refuses_an_invalid_programme_with_its_problems(tmp_path: Path) -> None:
    text = (
        (EXAMPLE / "programmes" / "tiny.yaml")
        .read_text("utf-8")
        .replace("initial: draft", "initial: drafts")
    )
    path = write_programme(tmp_path, text)
    result = CliRunner().invoke(main, ["inspect", str(path), "--json"])
    assert result.exit_code == 1
    assert "error[unknown-state]" in result.stdout
    assert "{" not in result.stdout  # nothing half-loaded is printed


def test_inspect_json_shows_dates_with_their_utc_offset(tmp_path: Path) -> None:
    text = (
        (EXAMPLE / "programmes" / "tiny.yaml")
        .read_text("utf-8")
        .replace("2022-02-21T17:00", "2022-06-21T17:00")
    )
    path = write_programme(tmp_path, text)
    result = CliRunner().invoke(main, ["inspect", str(path), "--json"])
    assert result.exit_code == 0, result.output
    closes = next(m for m in json.loads(result.stdout)["timeline"] if m["id"] == "closes")
    assert closes["at"] == "2022-06-21T17:00:00+01:00"  # 17:00 in June is BST
    opens = next(m for m in json.loads(result.stdout)["timeline"] if m["id"] == "opens")
    assert opens["at"] == "2022-01-04T09:00:00+00:00"


def test_a_case_can_be_driven_from_the_command_line(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("COMMISSION_NOW", "2022-02-01T10:00:00+00:00")
    path = write_programme(tmp_path, (EXAMPLE / "programmes" / "tiny.yaml").read_text("utf-8"))
    db = ["--db", str(database_in(tmp_path, "cli"))]
    ann = ["--as", "applicant:ann@org_a"]
    run = CliRunner().invoke
    assert run(main, ["publish", str(path), *db]).exit_code == 0
    started = run(main, ["case", "start", "tiny_grants", "application", *ann, *db, "--json"])
    assert started.exit_code == 0, started.output
    ref = json.loads(started.stdout)["reference"]
    answers = json.dumps({"org_name": "Org A", "income": 5_000_000, "org_type": "charity",
                          "priorities": ["isolation"], "summary": "Lunch club"})  # fmt: skip
    assert (
        run(main, ["case", "answer", ref, "tiny_eoi", "--answers", answers, *ann, *db]).exit_code
        == 0
    )
    refused = run(main, ["case", "act", ref, "submit", *ann, *db])
    assert refused.exit_code == 1
    assert "income must be under £1,000,000: you entered £5,000,000" in refused.stderr
    fixed = run(
        main, ["case", "answer", ref, "tiny_eoi", "--answers", '{"income": 40000}', *ann, *db]
    )
    assert fixed.exit_code == 0
    done = run(main, ["case", "act", ref, "submit", *ann, *db, "--json"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["state"] == "submitted"
    other = run(main, ["case", "show", ref, "--as", "applicant:bob@org_b", *db])
    assert other.exit_code == 1 and "there is no case" in other.stderr
    history = run(main, ["case", "history", ref, *db, "--json"])
    assert [e["action"] for e in json.loads(history.stdout)] == [
        "start",
        "answer",
        "answer",
        "submit",
    ]
    versions = run(main, ["versions", "tiny_grants", *db, "--json"])
    assert json.loads(versions.stdout)[0]["cases"] == 1


def test_db_upgrade_creates_or_reports_up_to_date(tmp_path: Path) -> None:
    db = ["--db", str(database_in(tmp_path, "new"))]
    first = CliRunner().invoke(main, ["db", "upgrade", *db])
    assert first.exit_code == 0 and "upgraded through schema" in first.output
    again = CliRunner().invoke(main, ["db", "upgrade", *db])
    assert "already up to date" in again.output


def test_a_liverpool_expression_of_interest_through_the_command_line(
    tmp_path: Path, monkeypatch
) -> None:
    """The same journey as tests/scenarios/liverpool_eoi.yaml, typed at a terminal."""
    import yaml

    monkeypatch.setenv("COMMISSION_DB", str(database_in(tmp_path, "liverpool")))
    monkeypatch.setenv("COMMISSION_NOW", "2022-01-20T10:00:00+00:00")
    journey = yaml.safe_load(
        (ROOT / "tests" / "scenarios" / "liverpool_eoi.yaml").read_text("utf-8")
    )
    answers = dict(journey["steps"][1]["answer"]["answers"])  # the small charity's answers
    (tmp_path / "eoi.json").write_text(json.dumps(answers), "utf-8")
    run = CliRunner().invoke
    assert run(main, ["publish", str(ROOT / "programmes" / "liverpool.yaml")]).exit_code == 0
    ann = ["--as", "applicant:ann@small_org"]
    ref = json.loads(
        run(
            main, ["case", "start", "liverpool_life_rooms_2022", "application", *ann, "--json"]
        ).stdout
    )["reference"]
    saved = run(
        main,
        [
            "case",
            "answer",
            ref,
            "liverpool_expression_of_interest",
            "--file",
            str(tmp_path / "eoi.json"),
            *ann,
        ],
    )
    assert saved.exit_code == 0, saved.output
    assert run(main, ["case", "act", ref, "submit_eoi", *ann]).exit_code == 0
    refused = run(main, ["case", "act", ref, "confirm_eligible", "--as", "commissioner:cora"])
    assert refused.exit_code == 1
    assert "you entered £600,000" in refused.stderr
    shown = run(main, ["case", "show", ref, "--json"])
    eligibility = {c["id"]: c["status"] for c in json.loads(shown.stdout)["eligibility"]}
    assert (
        eligibility["income_over_750k"] == "not_met"
        and eligibility["established_12_months"] == "met"
    )


@pytest.mark.sqlite_only  # `make run` keeps its demo in an SQLite file
def test_the_run_command_upgrades_a_demo_database_left_by_an_older_version(tmp_path: Path) -> None:
    import sqlite3

    from engine.cli.up import prepare
    from engine.store import SCHEMA_VERSION, Store
    from engine.store.migrations import sqlite_migration

    db = tmp_path / "demo.db"
    with sqlite3.connect(db) as old:  # as the engine one schema back left it
        for number in range(1, SCHEMA_VERSION):
            old.executescript(sqlite_migration(number))
        old.execute(f"PRAGMA user_version = {SCHEMA_VERSION - 1}")
    prepare(db, tmp_path / "demo.db.credentials.txt")
    assert Store(db).schema_version() == SCHEMA_VERSION  # opens without asking for an upgrade


def test_the_rolling_fund_from_the_command_line(tmp_path: Path, monkeypatch) -> None:
    # a naive COMMISSION_NOW is the programme's wall clock: 8:59 BST is before 9am on 1 April
    db = ["--db", str(database_in(tmp_path, "fund"))]
    group = ["--as", "applicant:gita@lark_lane"]
    run = CliRunner().invoke
    programme = EXAMPLE / "programmes" / "rolling_fund.yaml"
    assert run(main, ["publish", str(programme), *db]).exit_code == 0
    monkeypatch.setenv("COMMISSION_NOW", "2025-04-01T08:59")
    early = run(main, ["case", "start", "neighbourhood_rolling_fund", "application", *group, *db])
    assert early.exit_code == 1
    assert "you cannot start this yet: it opens at 9am on Tuesday 1 April 2025" in early.stderr
    monkeypatch.setenv("COMMISSION_NOW", "2025-04-01T09:00")
    started = run(main, ["case", "start", "neighbourhood_rolling_fund", "application", *group, *db, "--json"])  # fmt: skip
    assert started.exit_code == 0, started.output
    ref = json.loads(started.stdout)["reference"]
    answers = json.dumps({"group_name": "Lark Lane", "annual_income": 40000, "works_in_borough": True,
                          "project_summary": "Lunches.", "amount_requested": 5000})  # fmt: skip
    assert run(main, ["case", "answer", ref, "rolling_application", "--answers", answers, *group, *db]).exit_code == 0  # fmt: skip
    assert run(main, ["case", "act", ref, "submit", *group, *db]).exit_code == 0
    assert run(main, ["case", "act", ref, "complete_assessment", "--as", "assessor:asa", *db]).exit_code == 0  # fmt: skip
    refused = run(main, ["case", "act", ref, "fund", "--as", "commissioner:cora", *db])
    assert refused.exit_code == 1
    assert "no assessment has been completed; this decision needs 2 assessments first" in refused.stderr  # fmt: skip


def test_up_outside_the_projects_folder_says_where_to_run_it_and_makes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no demo/seed.yaml here
    monkeypatch.setenv("COMMISSION_NOW", "2022-01-20T10:00")  # `up` sets it: put back afterwards
    result = CliRunner().invoke(main, ["up", "--db", str(tmp_path / "demo.db")])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "run `commission up` from the project's folder" in result.output
    assert not (tmp_path / "demo.db").exists()
