"""`commission demo` seeds people and cases from a data file; the four demo people can sign in."""

from __future__ import annotations

import os
import re
from pathlib import Path

from click.testing import CliRunner

from engine.cli import main
from engine.web import create_app

from ..conftest import ROOT
from .conftest import Clock


def test_demo_database_people_sign_in_and_see_their_cases(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        result = CliRunner().invoke(main, ["demo", "--db", str(db)])
    finally:
        os.chdir(cwd)
    assert result.exit_code == 0, result.output
    password = re.search(r"demo password: (\S+)", result.output).group(1)
    for role in ("commissioner", "assessor", "applicant", "caseworker"):
        assert f"{role}@example.org" in result.output
    app = create_app({"DATABASE": str(db), "SECRET_KEY": "t", "SESSION_COOKIE_SECURE": False,
                      "CLOCK": Clock("2022-01-20T10:00"), "WTF_CSRF_ENABLED": False})  # fmt: skip
    for role in ("commissioner", "assessor", "applicant", "caseworker"):
        browser = app.test_client()
        r = browser.post(
            "/auth/sign-in", data={"email": f"{role}@example.org", "password": password}
        )
        assert r.status_code == 302, role
    browser = app.test_client()
    browser.post("/auth/sign-in", data={"email": "applicant@example.org", "password": password})
    page = browser.get("/apply/applications").data.decode()
    assert "LIV-000001" in page and "LIV-000002" not in page  # another organisation's case
    again = CliRunner().invoke(main, ["demo", "--db", str(db), "--data", str(ROOT / "demo" / "seed.yaml")])  # fmt: skip
    assert again.exit_code != 0 and "already has people" in again.output
