"""After signing in, each person lands where their own work is, not on the start page."""

from __future__ import annotations

import pytest
from flask import Flask

from .panel import PASSWORD, person


@pytest.mark.parametrize(
    ("role", "home"),
    [("applicant", "/apply/applications"), ("assessor", "/assess/"),
     ("commissioner", "/commission/"), ("caseworker", "/casework/")],
)  # fmt: skip
def test_after_signing_in_each_person_lands_in_their_own_place(app: Flask, role: str, home: str) -> None:  # fmt: skip
    organisation = "org_c" if role in ("applicant", "caseworker") else None
    person(app, f"{role}@example.org", role, organisation)  # makes the account
    browser = app.test_client()
    r = browser.post("/auth/sign-in", data={"email": f"{role}@example.org", "password": PASSWORD})
    assert r.status_code == 302 and r.headers["Location"].endswith(home)
