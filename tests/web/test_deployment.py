"""Running it for real: `commission db copy` moves the demo deployment and proves it, `db backup`
copies a live SQLite file, and `commission doctor` says what is wrong with a deployment in words."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from engine.cli import main
from engine.runtime import Actor, Engine
from engine.store import Store
from engine.web import create_app

from ..conftest import ROOT
from ..databases import database_in
from .conftest import Clock


def run(args: list[str], env: dict[str, str] | None = None) -> Result:
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        return CliRunner().invoke(main, args, env=env)
    finally:
        os.chdir(cwd)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The demo deployment, on SQLite as `make run` leaves it; its one password."""
    db = tmp_path_factory.mktemp("demo") / "demo.db"
    seeded = run(["demo", "--db", str(db)])
    assert seeded.exit_code == 0, seeded.output
    return db, re.search(r"demo password: (\S+)", seeded.output).group(1)


def test_the_demo_deployment_is_copied_with_every_row_and_proved(demo: tuple[Path, str], tmp_path: Path) -> None:  # fmt: skip
    db, password = demo
    target = database_in(tmp_path, "copy")  # PostgreSQL when the suite runs on it
    copied = run(["db", "copy", str(db), target])
    assert copied.exit_code == 0, copied.output
    assert "every table has the same rows and checksum" in copied.output
    assert re.search(r"^audit\s+\d+ rows\s+sha256 [0-9a-f]{16}\s+same$", copied.output, re.M)
    source, copy = Store(db), Store(target)
    for programme in source.programme_ids():  # every case as it was, id, reference and facts
        assert copy.programme_cases(programme) == source.programme_cases(programme) != []
    # the demo people sign in on the copy with the same password and see their cases
    app = create_app({"DATABASE": target, "SECRET_KEY": "t", "SESSION_COOKIE_SECURE": False,
                      "CLOCK": Clock("2022-01-20T10:00"), "WTF_CSRF_ENABLED": False})  # fmt: skip
    browser = app.test_client()
    signed_in = browser.post("/auth/sign-in", data={"email": "applicant@example.org", "password": password})  # fmt: skip
    assert signed_in.status_code == 302
    theirs = [c["reference"] for c in source.cases_for_organisation("demo_community_trust")]
    page = browser.get(signed_in.headers["Location"]).data.decode()  # their applications
    assert theirs and any(reference in page for reference in theirs)
    # a case started on the copy takes the next id: the copied ones are not reused
    highest = max(c["id"] for p in source.programme_ids() for c in source.programme_cases(p))
    new = Engine(target, clock=Clock("2022-01-20T10:00")).start_case(
        "liverpool_life_rooms_2022", "application", Actor("applicant", "x", "org_x")
    )
    assert new.id > highest


def test_a_copy_into_a_database_that_holds_data_is_refused(demo: tuple[Path, str], tmp_path: Path) -> None:  # fmt: skip
    db, _ = demo
    target = database_in(tmp_path, "full")
    someone = Store(target)
    with someone.transaction():
        someone.ensure_organisation("org_x", "Someone else's", "2024-01-01")
    refused = run(["db", "copy", str(db), target])
    assert refused.exit_code == 1
    assert (
        "already holds data (in organisations); copy only into an empty database" in refused.output
    )
    assert Store(target).organisation_names() == {"org_x": "Someone else's"}


def test_an_sqlite_deployment_is_backed_up_while_it_runs(demo: tuple[Path, str], tmp_path: Path) -> None:  # fmt: skip
    db, _ = demo
    backed = run(["db", "backup", "--db", str(db), str(tmp_path / "backup.db")])
    assert backed.exit_code == 0, backed.output
    assert Store(tmp_path / "backup.db").programme_ids() == Store(db).programme_ids()
    again = run(["db", "backup", "--db", str(db), str(tmp_path / "backup.db")])
    assert (
        again.exit_code == 1 and "already exists; give the backup a new file name" in again.output
    )
    postgres = run(
        ["db", "backup", "--db", "postgresql://u:p@db.example/c", str(tmp_path / "x.db")]
    )
    assert postgres.exit_code == 1 and "pg_dump --format=custom" in postgres.output


def test_doctor_says_what_is_wrong_with_a_deployment_and_what_to_do(database: str) -> None:
    Store(database)  # made, at the current schema
    wrong = run(["doctor"], env={"COMMISSION_DB": database, "COMMISSION_SECRET_KEY": "short",
                                 "COMMISSION_BASE_URL": "http://funding.example.gov.uk",
                                 "COMMISSION_TRUSTED_HOSTS": "other.example", "COMMISSION_NOTIFY": "smtp",
                                 "SMTP_HOST": "", "SMTP_SENDER": ""})  # fmt: skip
    assert wrong.exit_code == 1
    out = wrong.output
    assert (
        "ok   the database is reachable" in out
        and "ok   the database's migrations are current" in out
    )
    assert "FIX  COMMISSION_SECRET_KEY is too short to be safe" in out
    assert "FIX  COMMISSION_BASE_URL (http://funding.example.gov.uk) is not https" in out
    assert "FIX  COMMISSION_TRUSTED_HOSTS (other.example) leaves out funding.example.gov.uk" in out
    assert "FIX  email by SMTP needs SMTP_HOST and SMTP_SENDER: set SMTP_HOST, SMTP_SENDER" in out
    assert (
        "FIX  nobody can administer the service, so nobody can invite staff: add the first administrator"
        in out
    )
    assert (
        "FIX  COMMISSION_OPERATOR is not set, so the pages show the demo's: set it to the organisation"
        in out
    )
    assert "7 thing(s) to fix" in out


def test_doctor_passes_a_deployment_that_is_ready(database: str) -> None:
    store = Store(database)
    with store.transaction():
        admin = store.create_user("root@example.gov.uk", None, "Root", "admin", None, "2022-01-01")
        store.grant_role(admin, "admin", None, None, "operator", "2022-01-01")
    ready = run(["doctor"], env={"COMMISSION_DB": database, "COMMISSION_SECRET_KEY": "k" * 64,
                                 "COMMISSION_BASE_URL": "https://funding.example.gov.uk",
                                 "COMMISSION_TRUSTED_HOSTS": "funding.example.gov.uk", "COMMISSION_NOTIFY": "smtp",
                                 "SMTP_HOST": "smtp.example.gov.uk", "SMTP_SENDER": "funding@example.gov.uk",
                                 "COMMISSION_OPERATOR": "Example Borough Council",
                                 "COMMISSION_CONTACT_EMAIL": "funding@example.gov.uk"})  # fmt: skip
    assert ready.exit_code == 0, ready.output
    assert (
        "the database accepts writes" in ready.output
        and "Everything checked is ready." in ready.output
    )


def test_doctor_names_an_unreachable_or_out_of_date_database(tmp_path: Path) -> None:
    missing = run(["doctor"], env={"COMMISSION_DB": str(tmp_path / "nowhere.db")})
    assert "FIX  there is no database at" in missing.output and missing.exit_code == 1
    old = tmp_path / "old.db"
    Store(old).execute("PRAGMA user_version = 3")
    behind = run(["doctor"], env={"COMMISSION_DB": str(old)})
    assert "FIX  the database is at schema 3; this engine needs" in behind.output
    assert "run `commission db upgrade`" in behind.output


def test_doctor_checks_staff_sign_in_against_the_provider(database: str) -> None:
    from tests.oidc_provider import running_provider

    Store(database)
    half = run(["doctor"], env={"COMMISSION_DB": database, "COMMISSION_OIDC_ISSUER": "https://login.example"})  # fmt: skip
    assert "FIX  staff sign-in with an organisation's account needs COMMISSION_OIDC_CLIENT_ID and COMMISSION_OIDC_CLIENT_SECRET" in half.output  # fmt: skip
    with running_provider() as provider:
        settings = {"COMMISSION_DB": database, "COMMISSION_OIDC_CLIENT_ID": "app", "COMMISSION_OIDC_CLIENT_SECRET": "s"}  # fmt: skip
        good = run(["doctor"], env={**settings, "COMMISSION_OIDC_ISSUER": provider.issuer})
        assert f"ok   staff sign in with their organisation's account through {provider.issuer}" in good.output  # fmt: skip
        wrong = run(["doctor"], env={**settings, "COMMISSION_OIDC_ISSUER": provider.issuer + "/tenant"})  # fmt: skip
        assert "answers, but is not an OpenID Connect issuer" in wrong.output
        assert "set COMMISSION_OIDC_ISSUER to the issuer address the provider gives" in wrong.output


def test_files_an_older_version_kept_on_disk_are_moved_into_the_database_once(
    demo: tuple[Path, str], tmp_path: Path
) -> None:
    db, _password = demo
    old = tmp_path / "old" / "commission.db"  # a deployment from before files went in the database
    old.parent.mkdir()
    old.write_bytes(db.read_bytes())
    (old.parent / "uploads").mkdir()
    store = Store(str(old))
    case_id = store.execute("SELECT min(id) FROM cases").fetchone()[0]
    files = {"a" * 32: b"%PDF-1.4 budget", "b" * 32: b"%PDF-1.4 constitution"}
    with store.transaction():
        for n, (stored_as, content) in enumerate(files.items()):
            store.execute(
                "INSERT INTO uploads (id, case_id, form_id, question_id, name, size, kind, stored_as, "
                "uploaded_by, created_at, content) VALUES (?, ?, 'f', 'q', ?, ?, 'pdf', ?, 'ann', ?, NULL)",
                (f"file{n}", case_id, f"file {n}.pdf", len(content), stored_as, f"2022-01-0{n + 1}"),
            )  # fmt: skip
    (old.parent / "uploads" / ("a" * 32)).write_bytes(files["a" * 32])
    (old.parent / "uploads" / ("b" * 32)).write_bytes(b"%PDF-1.4 another")  # not the same
    target = database_in(tmp_path, "moved")
    copied = run(["db", "copy", str(old), target])
    assert copied.exit_code == 0, copied.output
    assert "2 uploaded files are still on disk" in copied.output
    folded = run(["db", "fold-uploads", "--db", target, "--from", str(old.parent / "uploads")])
    assert folded.exit_code == 1
    assert "Moved 1 of 2 uploaded files kept on disk into the database." in folded.output
    assert (
        "file 1.pdf (kept as bbbb" in folded.output and "check it is the same file" in folded.output
    )
    moved = Store(target)
    assert (
        moved.upload_content("file0") == files["a" * 32] and moved.upload_content("file1") is None
    )
    (old.parent / "uploads" / ("b" * 32)).write_bytes(files["b" * 32])  # the right file found
    again = run(["db", "fold-uploads", "--db", target, "--from", str(old.parent / "uploads")])
    assert again.exit_code == 0 and "Moved 1 of 1 uploaded files" in again.output
    assert moved.upload_content("file1") == files["b" * 32]
    # on the SQLite file itself, the folder beside it is the default
    in_place = run(["db", "fold-uploads", "--db", str(old)])
    assert in_place.exit_code == 0 and "Moved 2 of 2 uploaded files" in in_place.output
    assert [Store(str(old)).upload_content(f"file{n}") for n in (0, 1)] == list(files.values())
