"""CSRF on every form, secure cookies, security headers, uploads judged by their content."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable
from pathlib import Path

from flask.testing import FlaskClient

from engine.web.services import store
from engine.web.uploads import sniff

from .conftest import EOI, PASSWORD, Clock, confirm_email, make_app, start_application, text


def test_csrf_is_enforced_when_enabled(tmp_path: Path, clock: Clock) -> None:
    app = make_app(tmp_path, clock, WTF_CSRF_ENABLED=True)
    browser = app.test_client()
    data = {"name": "Ann", "organisation": "Org", "email": "ann@org.example", "password": PASSWORD, "confirm": PASSWORD}  # fmt: skip
    r = browser.post("/auth/register", data=data)
    assert r.status_code == 400 and b"Your page timed out" in r.data
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', browser.get("/auth/register").data.decode())  # fmt: skip
    assert token, "the form carries a CSRF token"
    r = browser.post("/auth/register", data={**data, "csrf_token": token.group(1)})
    assert r.status_code == 200 and b"Check your email" in r.data
    confirm_email(app, browser, "ann@org.example")
    # the plain action buttons carry one too
    r = browser.post("/apply/rounds/liverpool_life_rooms_2022/start", data={})
    assert r.status_code == 400
    assert b'name="csrf_token"' in browser.get("/apply/applications").data


def test_answer_pages_save_only_with_their_token(
    tmp_path: Path, clock: Clock, applicant: Callable[..., FlaskClient]
) -> None:
    ref = start_application(applicant())  # set up on the CSRF-free test app, same database
    app = make_app(tmp_path, clock, WTF_CSRF_ENABLED=True)
    browser = app.test_client()
    page = browser.get("/auth/sign-in").data.decode()
    token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page).group(1)
    r = browser.post("/auth/sign-in", data={"csrf_token": token, "email": "ann@small.example", "password": PASSWORD})  # fmt: skip
    assert r.status_code == 302
    for path, answers in ((f"/apply/cases/{ref}/forms/{EOI}/pages/contact", {"contact_name": "Ann Token", "_action": "save"}),
                          (f"/apply/cases/{ref}/eligibility", {"income": "600000"})):  # fmt: skip
        shown = browser.get(path).data.decode()
        token = re.search(r'name="csrf_token" value="([^"]+)"', shown)
        assert token, f"{path} carries a CSRF token"
        browser.post(path, data=answers)  # no token: refused, nothing saved
        assert "Ann Token" not in browser.get(path).data.decode() and "600,000" not in text(browser.get(path))  # fmt: skip
        r = browser.post(path, data={**answers, "csrf_token": token.group(1)})
        assert r.status_code == 302
    assert "Ann Token" in browser.get(f"/apply/cases/{ref}/forms/{EOI}/pages/contact").data.decode()
    assert "you entered £600,000" in text(browser.get(f"/apply/cases/{ref}/eligibility"))


def test_security_headers_and_cookie_flags(tmp_path: Path, clock: Clock) -> None:
    app = make_app(tmp_path, clock, SESSION_COOKIE_SECURE=True)
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["SESSION_COOKIE_HTTPONLY"]
    browser = app.test_client()
    browser.post("/auth/register", data={"name": "Ann", "organisation": "Org", "email": "a@o.example", "password": PASSWORD, "confirm": PASSWORD})  # fmt: skip
    with app.app_context():
        [message] = store().outbox_for("a@o.example")
    r = browser.get(re.search(r"http://localhost(/auth/confirm/\S+)", message["body"]).group(1))
    cookie = r.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    r = browser.get("/")
    csp = r.headers["Content-Security-Policy"]
    assert (
        "default-src 'self'" in csp
        and "frame-ancestors 'none'" in csp
        and "object-src 'none'" in csp
    )
    nonce = re.search(r"'nonce-([^']+)'", csp).group(1)
    assert f'<script nonce="{nonce}">' in r.data.decode()
    assert r.headers["X-Frame-Options"] == "DENY"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Referrer-Policy"] == "same-origin"
    assert r.headers["Cache-Control"] == "no-store"


def test_static_files_may_be_kept_by_browsers_pages_never(tmp_path: Path, clock: Clock) -> None:
    browser = make_app(tmp_path, clock).test_client()
    css = browser.get("/static/govuk/govuk-frontend.min.css")
    assert css.status_code == 200
    assert (
        "max-age=86400" in css.headers["Cache-Control"]
        and "no-store" not in css.headers["Cache-Control"]
    )
    assert css.headers["X-Content-Type-Options"] == "nosniff"  # security headers on files too
    missing = browser.get(
        "/static/govuk/govuk-frontend.min.nothing"
    )  # a page, though under /static
    assert missing.status_code == 404 and missing.headers["Cache-Control"] == "no-store"
    assert len(missing.headers.getlist("Content-Security-Policy")) == 1


def _zip(names: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in names.items():
            z.writestr(name, data)
    return buf.getvalue()


def test_file_types_are_judged_by_their_bytes() -> None:
    assert sniff(b"%PDF-1.7\n...") == {"pdf"}
    assert sniff(b"\x89PNG\r\n\x1a\n....") == {"png"}
    assert sniff(b"\xff\xd8\xff\xe0....") == {"jpg"}
    assert sniff(_zip({"[Content_Types].xml": b"<x/>", "word/document.xml": b"<x/>"})) == {"docx"}
    assert sniff(_zip({"[Content_Types].xml": b"<x/>", "xl/workbook.xml": b"<x/>"})) == {"xlsx"}
    assert sniff(_zip({"mimetype": b"application/vnd.oasis.opendocument.text"})) == {"odt"}
    assert sniff(_zip({"evil.exe": b"MZ"})) == set()
    assert sniff(b"name,amount\nA,1\n") == {"csv", "txt"}
    assert sniff(b"MZ\x90\x00\x03\x00") == set()  # a Windows program is nothing allowed
    assert sniff(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1...") == {"doc", "xls"}
