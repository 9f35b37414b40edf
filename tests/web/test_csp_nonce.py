"""A page refused before the app's own hooks ran still gets a real CSP nonce for its script."""

from __future__ import annotations

import re
from pathlib import Path

from .conftest import Clock, make_app


def test_the_csrf_error_page_has_a_nonce_matching_its_policy(tmp_path: Path, clock: Clock) -> None:
    client = make_app(tmp_path, clock, WTF_CSRF_ENABLED=True).test_client()
    r = client.post("/auth/sign-in", data={"email": "a@b.example", "password": "x"})
    assert r.status_code == 400 and "Your page timed out" in r.data.decode()
    nonce = re.search(r"'nonce-([^']*)'", r.headers["Content-Security-Policy"]).group(1)
    assert nonce and f'nonce="{nonce}"' in r.data.decode()
