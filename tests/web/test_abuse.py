"""What an attacker tried against the running app, each a regression test (issue 13, part 2)."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import struct
import threading
import tracemalloc
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.serving import make_server

from engine.runtime import Engine
from engine.web.services import store
from engine.web.uploads import MAX_ZIP_EXPANDED, UploadRefused, sniff

from .conftest import PASSWORD, Clock, confirm_email, make_app, start_application, text

ODT = b"application/vnd.oasis.opendocument.text"


def _odt_with_mimetype(member: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("mimetype", member)
        archive.writestr("content.xml", b"<x/>")
    return buffer.getvalue()


def test_a_zip_member_is_read_a_few_bytes_at_most() -> None:
    # 64 MB of one part, compressed to a few dozen KB: judging its type must not expand it
    bomb = _odt_with_mimetype(ODT + b" " * (64 * 1024 * 1024))
    assert len(bomb) < 1024 * 1024
    tracemalloc.start()
    try:
        kinds = sniff(bomb)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert kinds == {"odt"}
    assert peak < 4 * 1024 * 1024


def _claim_size(data: bytes, size: int) -> bytes:
    """The same zip, its central directory claiming each part expands to `size` bytes."""
    out = bytearray(data)
    at = out.find(b"PK\x01\x02")
    while at != -1:
        out[at + 24 : at + 28] = struct.pack("<I", size)  # uncompressed size
        at = out.find(b"PK\x01\x02", at + 4)
    return bytes(out)


def test_a_zip_that_says_it_expands_past_a_document_is_refused_with_a_message() -> None:
    huge = _claim_size(_odt_with_mimetype(ODT), MAX_ZIP_EXPANDED // 2 + 1)
    with pytest.raises(UploadRefused, match="expands to far more than a document"):
        sniff(huge)


def test_a_zip_of_too_many_parts_is_refused() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for i in range(10_001):
            archive.writestr(f"p{i}", b"")
    with pytest.raises(UploadRefused):
        sniff(buffer.getvalue())


@pytest.mark.parametrize(
    "target",
    ["/%09/evil.test", "/%0D%0A/x", "/%0A/evil.test", "/\\evil.test", "//evil.test",
     "https://evil.test/", "/%5C/evil.test", "javascript:alert(1)"],
)  # fmt: skip
def test_sign_in_never_returns_to_another_site(
    client: FlaskClient, applicant: Callable[..., FlaskClient], target: str
) -> None:
    applicant("ann@small.example")
    r = client.post(f"/auth/sign-in?next={target}", data={"email": "ann@small.example", "password": PASSWORD})  # fmt: skip
    assert r.status_code == 302
    location = r.headers["Location"]
    assert location.startswith("/") and not location.startswith("//")
    assert "evil" not in location and "\t" not in location and "\n" not in location


def test_sign_in_still_returns_to_a_page_on_this_site(
    client: FlaskClient, applicant: Callable[..., FlaskClient]
) -> None:
    applicant("ann@small.example")
    r = client.post("/auth/sign-in?next=/apply/applications", data={"email": "ann@small.example", "password": PASSWORD})  # fmt: skip
    assert r.headers["Location"] == "/apply/applications"


@pytest.mark.parametrize(
    ("field", "typed", "message"),
    [
        ("income", "5" * 5000, "Enter a number of 15 digits or fewer"),
        ("income", "²", "income in its last accounts must be in whole pounds, like 25000"),
        ("date_established", ["1" + "0" * 20, "2", "2015"], "established must be a real date"),
        ("date_established", ["²", "2", "2015"], "established must be a real date"),
    ],
)
def test_absurd_numbers_and_dates_get_a_field_message_not_an_error_page(
    applicant: Callable[..., FlaskClient], field: str, typed: str | list[str], message: str
) -> None:
    ann = applicant()
    ref = start_application(ann)
    # the day, month and year inputs share the question's name, as GOV.UK's date input does
    data = {"income": "", "date_established": ["1", "2", "2015"], field: typed}
    r = ann.post(f"/apply/cases/{ref}/eligibility", data=data, content_type="multipart/form-data")
    assert r.status_code == 200
    assert message in text(r)


SNEAKY = "Ann\x00 Exa\u202emple\x1b[31m red\x1b[0m"


def test_control_characters_and_bidi_overrides_are_dropped_as_answers_come_in(
    applicant: Callable[..., FlaskClient],
) -> None:
    ann = applicant()
    ref = start_application(ann)
    page = f"/apply/cases/{ref}/forms/liverpool_expression_of_interest/pages/contact"
    r = ann.post(page, data={"contact_name": SNEAKY, "contact_role": "Line one\r\nline\ttwo\x07", "_action": "save"})  # fmt: skip
    assert r.status_code == 302
    html = ann.get(page).data.decode()
    assert 'value="Ann Example[31m red[0m"' in html
    for bad in ("\x00", "\u202e", "\x1b", "\x07"):
        assert bad not in html


def test_the_servers_access_log_never_holds_a_reset_token(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    server = make_server("127.0.0.1", 0, app)  # Werkzeug's own server, as `commission serve` runs
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with caplog.at_level(logging.INFO, logger="werkzeug"):
            for path in ("/auth/reset/SECRETtoken123", "/auth/sign-in?next=/x&token=SECRETq"):
                with contextlib.suppress(urllib.error.HTTPError):
                    urllib.request.urlopen(f"http://127.0.0.1:{server.port}{path}", timeout=10)
    finally:
        server.shutdown()
        thread.join(timeout=10)
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name == "werkzeug")
    assert "GET /auth/reset/[redacted]" in logged
    assert "SECRET" not in logged


def _outbox(app: Flask, email: str) -> list[dict[str, object]]:
    with app.app_context():
        return store().outbox_for(email)


@pytest.mark.parametrize(
    "headers",
    [{"Host": "evil.test"}, {"X-Forwarded-Host": "evil.test"}, {"Host": "evil.test", "X-Forwarded-Proto": "http"}],
)  # fmt: skip
def test_a_reset_link_is_built_from_the_configured_address_not_the_request(
    tmp_path: Path, clock: Clock, headers: dict[str, str]
) -> None:
    app = make_app(tmp_path, clock, BASE_URL="https://funding.example.org/")
    browser = app.test_client()
    browser.post("/auth/register", data={"name": "Ann", "organisation": "Org", "email": "ann@org.example", "password": PASSWORD, "confirm": PASSWORD})  # fmt: skip
    browser.post("/auth/sign-out")
    browser.post("/auth/reset", data={"email": "ann@org.example"}, headers=headers)
    [message] = [
        m for m in _outbox(app, "ann@org.example") if m["subject"] == "Reset your password"
    ]
    assert "https://funding.example.org/auth/reset/" in str(message["body"])
    assert "evil" not in str(message["body"])


def test_a_host_the_deployment_does_not_serve_is_refused(tmp_path: Path, clock: Clock) -> None:
    app = make_app(tmp_path, clock, TRUSTED_HOSTS=["funding.example.org"])
    browser = app.test_client()
    assert browser.get("/auth/sign-in", headers={"Host": "evil.test"}).status_code == 400
    assert browser.get("/auth/sign-in", headers={"Host": "funding.example.org"}).status_code == 200


def test_proxy_headers_count_only_when_the_deployment_says_it_is_behind_a_proxy(
    tmp_path: Path, clock: Clock
) -> None:
    hosts = ["funding.example.org"]
    plain = make_app(tmp_path, clock, TRUSTED_HOSTS=hosts).test_client()
    behind = make_app(tmp_path, clock, TRUSTED_HOSTS=hosts, PROXIES=1).test_client()
    # the proxy reaches the app as app:8000 and says which host the person asked for
    via_proxy = {"Host": "app:8000", "X-Forwarded-Host": "funding.example.org", "X-Forwarded-Proto": "https"}  # fmt: skip
    assert behind.get("/auth/sign-in", headers=via_proxy).status_code == 200
    # without the setting, a forged X-Forwarded-Host counts for nothing
    assert plain.get("/auth/sign-in", headers=via_proxy).status_code == 400


def _sign_in(browser: FlaskClient, email: str, password: str, address: str = "198.51.100.7"):
    return browser.post("/auth/sign-in", data={"email": email, "password": password},
                        environ_base={"REMOTE_ADDR": address})  # fmt: skip


def test_the_same_email_written_differently_shares_one_counter(
    app: Flask, applicant: Callable[..., FlaskClient]
) -> None:
    applicant("ann@small.example")
    browser = app.test_client()
    for written in ("ann@small.example\n", " ANN@small.example", "Ann@Small.Example\n", "ann@small.example", "ann@small.example\t"):  # fmt: skip
        assert _sign_in(browser, written, "wrong guess").status_code == 200
    r = _sign_in(browser, "ann@small.example\n\n", "another guess")
    assert r.status_code == 429 and "Too many attempts to sign in: wait 30 seconds" in text(r)


def test_the_owner_is_kept_out_for_seconds_not_for_good_and_each_guess_waits_longer(
    app: Flask, applicant: Callable[..., FlaskClient], clock: Clock
) -> None:
    applicant("ann@small.example")
    browser = app.test_client()
    for _ in range(5):
        _sign_in(browser, "ann@small.example", "wrong guess")
    assert _sign_in(browser, "ann@small.example", PASSWORD).status_code == 429
    clock.set("2022-01-20T10:00:31")
    assert _sign_in(browser, "ann@small.example", "sixth guess").status_code == 200
    r = _sign_in(browser, "ann@small.example", PASSWORD)  # the sixth failure: a minute now
    assert r.status_code == 429 and "wait 1 minute" in text(r)
    clock.set("2022-01-20T10:01:32")
    assert _sign_in(browser, "ann@small.example", PASSWORD).status_code == 302


def test_one_address_guessing_at_many_accounts_is_slowed_too(
    app: Flask, applicant: Callable[..., FlaskClient]
) -> None:
    applicant("ann@small.example")
    browser = app.test_client()
    for i in range(20):
        assert _sign_in(browser, f"person{i}@example.org", "guess").status_code == 200
    assert _sign_in(browser, "ann@small.example", "guess").status_code == 429
    # someone else, elsewhere, is not held up by it
    assert (
        _sign_in(app.test_client(), "ann@small.example", PASSWORD, "203.0.113.9").status_code == 302
    )


def test_a_cookie_replayed_after_signing_out_signs_nobody_in(
    app: Flask, applicant: Callable[..., FlaskClient]
) -> None:
    ann = applicant()
    cookie = ann.get_cookie(app.config["SESSION_COOKIE_NAME"])
    assert cookie is not None
    assert "Signed in as Ann Example" in text(ann.get("/apply/applications"))
    ann.post("/auth/sign-out")
    thief = app.test_client()
    thief.set_cookie(app.config["SESSION_COOKIE_NAME"], cookie.value)
    r = thief.get("/apply/applications")
    assert r.status_code == 302 and r.headers["Location"].startswith("/auth/sign-in")


def test_a_new_password_signs_out_every_other_browser(
    app: Flask, applicant: Callable[..., FlaskClient]
) -> None:
    ann = applicant()
    laptop = app.test_client()
    _sign_in(laptop, "ann@small.example", PASSWORD)
    assert laptop.get("/apply/applications").status_code == 200
    ann.post("/auth/reset", data={"email": "ann@small.example"})
    [message] = [
        m for m in _outbox(app, "ann@small.example") if m["subject"] == "Reset your password"
    ]
    link = str(message["body"]).split("http://localhost", 1)[1].split()[0]
    ann.post(link, data={"password": "a brand new passphrase", "confirm": "a brand new passphrase"})
    assert laptop.get("/apply/applications").status_code == 302
    assert ann.get("/apply/applications").status_code == 200  # the browser that changed it


def test_a_very_long_answer_beside_a_file_question_is_refused_on_its_field_not_the_page(
    applicant: Callable[..., FlaskClient],
) -> None:
    ann = applicant()
    ref = start_application(ann)
    page = f"/apply/cases/{ref}/forms/liverpool_expression_of_interest/pages/type_and_governance"
    first = {"organisation_type": "registered_charity", "has_governing_document": "yes",
             "has_charitable_objectives": "yes", "_action": "save"}  # fmt: skip
    for _ in range(2):  # each answer reveals the next question, as on the page
        assert ann.post(page, content_type="multipart/form-data", data=first).status_code == 302
    r = ann.post(page, content_type="multipart/form-data", data={
        "organisation_type": "registered_charity", "has_governing_document": "yes",
        "has_charitable_objectives": "yes", "charitable_objectives": "word " * 250_000,
        "_action": "save"})  # fmt: skip
    assert r.status_code == 200
    shown = text(r)
    assert "The answer is 1,249,999 characters long; it can be at most 100,000" in shown
    assert 'value="registered_charity" checked' in r.data.decode()  # what else was typed is kept


def test_adding_a_colleague_never_says_whether_someone_has_an_account(
    app: Flask, applicant: Callable[..., FlaskClient]
) -> None:
    ann = applicant()
    applicant("zoe@elsewhere.example", "Elsewhere Org")  # already has an account
    said = []
    for email in ("ben@small.example", "zoe@elsewhere.example"):
        r = ann.post("/auth/organisation", data={"name": "Someone", "email": email}, follow_redirects=True)  # fmt: skip
        said.append(text(r).split("We have emailed ", 1)[1].split(" about joining")[0])
    assert said == ["ben@small.example", "zoe@elsewhere.example"]  # the same words for both
    [told] = [m for m in _outbox(app, "zoe@elsewhere.example") if "tried" in str(m["subject"])]
    assert told["subject"] == "Someone tried to add you to Small Org"
    assert "you already have an account, so nothing has changed" in str(told["body"])
    [invited] = _outbox(app, "ben@small.example")
    assert invited["subject"] == "You have been added to Small Org"


COSTLY = "lists.range(1000).map(x, lists.range(1000).filter(y, y == x)).size() > 0"


def test_a_rule_published_before_the_bounds_is_not_worked_out_and_no_page_breaks(
    tmp_path: Path, clock: Clock
) -> None:
    app = make_app(tmp_path, clock)
    store_ = Engine(app.config["DATABASE"], clock=clock).store
    [version] = store_.versions("liverpool_life_rooms_2022")
    data = store_.programme_data("liverpool_life_rooms_2022", version["version"])
    assert data is not None
    data["eligibility"][0]["rule"] = COSTLY  # as a file validated before today's checks had it
    store_.execute("UPDATE programme_versions SET data = ? WHERE programme_id = ?",
                   (json.dumps(data), "liverpool_life_rooms_2022"))  # fmt: skip
    browser = app.test_client()
    browser.post("/auth/register", data={"name": "Ann", "organisation": "Org", "email": "ann@org.example", "password": PASSWORD, "confirm": PASSWORD})  # fmt: skip
    confirm_email(app, browser, "ann@org.example")
    ref = start_application(browser)
    r = browser.get(f"/apply/cases/{ref}/eligibility")
    assert r.status_code == 200
    assert "this rule could not be worked out" in text(r)
