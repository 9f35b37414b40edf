"""`commission demo` seeds people and cases from a data file; the four demo people can sign in."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from click.testing import CliRunner

from engine.cli import main
from engine.web import create_app

from ..conftest import ROOT
from ..databases import database_in
from ..test_export import validator
from .conftest import LIVERPOOL, Clock, text


def test_demo_database_people_sign_in_and_see_their_cases(tmp_path: Path) -> None:
    db = database_in(tmp_path, "demo")
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

    # Liverpool's round already run for one organisation: its award as open data, its May meeting
    exported = CliRunner().invoke(main, ["export", LIVERPOOL, "--db", str(db), "--format", "360giving"])  # fmt: skip
    assert exported.exit_code == 0, exported.output
    package = json.loads(exported.output)
    assert not list(validator().iter_errors(package))
    assert [
        (g["recipientOrganization"][0]["name"], g["amountAwarded"]) for g in package["grants"]
    ] == [("Lodge Lane Community Trust", 100000)]
    cora = app.test_client()
    cora.post("/auth/sign-in", data={"email": "commissioner@example.org", "password": password})
    pack = text(cora.get(f"/commission/{LIVERPOOL}/meetings/quarterly_monitoring_meeting/1"))
    assert "1 received, 0 missing" in pack
    assert "Lodge Lane Community Trust £100,000 £12,000 £88,000" in pack  # spent by the meeting
    assert "Were the KPIs met? No" in pack and "The provider must produce a recovery plan" in pack
    # the KPIs of the months the contract ran, chosen on the page
    kpis = cora.get(
        f"/commission/{LIVERPOOL}/kpis", query_string={"from": "2022-04", "to": "2022-09"}
    )
    page = text(kpis)
    assert 'name="from" type="text" value="2022-04"' in kpis.data.decode()
    assert "Q1 2022/23 38" in page and "Q2 2022/23 71" in page  # people accessing, per return
