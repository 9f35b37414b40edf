"""The programme studio in the browser: a commissioner opens a draft, sees the linter's messages,
saves (never over someone else's save), reads what publishing changes, publishes, downloads a
version's files, and starts next year's round; nobody reaches another programme's drafts."""

from __future__ import annotations

import html
import io
import json
import re
import zipfile
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

from engine.web.services import store

from .conftest import LIVERPOOL, PASSWORD, Clock, make_app, text
from .panel import person

BRADFORD = "bradford_healthy_minds_wave2"
MAIN = "programmes/liverpool.yaml"


def _open(browser: FlaskClient, pid: str = LIVERPOOL) -> str:
    r = browser.post(f"/studio/{pid}/drafts")
    assert r.status_code == 302, text(r)
    return r.headers["Location"]


def raw(response: object) -> str:
    """The page's HTML (text() drops the tags the helpers below read)."""
    return response.data.decode()  # type: ignore[attr-defined]


def _textarea(page: str) -> str:
    m = re.search(r'<textarea[^>]*id="text"[^>]*>(.*?)</textarea>', page, re.S)
    assert m, page
    return html.unescape(m.group(1))


def _revision(page: str) -> str:
    m = re.search(r'name="revision" value="(\d+)"', page)
    assert m
    return m.group(1)


def test_a_commissioner_edits_checks_and_publishes_a_change(app: Flask) -> None:
    cleo = person(app, "cleo@council.example", "commissioner")
    assert "The Life Rooms" in text(cleo.get("/studio/"))
    url = _open(cleo)
    page = raw(cleo.get(url))
    assert "No problems found" in page and "liverpool.yaml (programme)" in page
    original = _textarea(page)
    assert original.startswith("# ") and "id: liverpool_life_rooms_2022" in original

    # a mistyped state: saved (nothing is lost) and named where it is, with a suggestion
    broken = original.replace("dest: eligible", "dest: eligble", 1)
    assert broken != original
    r = cleo.post(url, data={"text": broken, "revision": _revision(page)})
    assert r.status_code == 302
    page = raw(cleo.get(url))
    line = broken.splitlines().index(next(x for x in broken.splitlines() if "dest: eligble" in x)) + 1  # fmt: skip
    assert "1 problem" in page and f"liverpool.yaml (programme), line {line}" in page
    assert 'did you mean "eligible"' in html.unescape(text(cleo.get(url)))
    refused = raw(cleo.get(url + "/publish"))
    assert "This draft cannot be published yet" in refused
    assert 'name="revision"' not in refused  # no Publish button while there is a problem
    r = cleo.post(url + "/publish", data={"revision": _revision(page)})
    assert "put it right before publishing" in text(r)
    assert len(store_versions(app)) == 1

    # fixed, and the budget raised: the publish page says so in words
    fixed = original.replace("total: 700000", "total: 750000", 1)
    assert fixed != original, "the budget line moved: update the test"
    cleo.post(url, data={"text": fixed, "revision": _revision(page)})
    page = raw(cleo.get(url + "/publish"))
    assert "What publishing changes" in page and "750,000" in page
    r = cleo.post(url + "/publish", data={"revision": _revision(page)})
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/studio/{LIVERPOOL}/versions")
    versions = text(cleo.get(f"/studio/{LIVERPOOL}/versions"))
    assert "2 (newest)" in versions and "cleo@council.example" in versions
    with app.app_context():
        assert store().service_log(limit=1)[0]["action"] == "programme published"
    # the new version's files download as they were written
    link = re.search(r'href="(/studio/[^"]+\.zip)"', cleo.get(f"/studio/{LIVERPOOL}/versions").data.decode())  # fmt: skip
    assert link
    archive = zipfile.ZipFile(io.BytesIO(cleo.get(link.group(1)).data))
    assert archive.read(MAIN).decode() == fixed
    assert "forms/liverpool_full_proposal.yaml" in archive.namelist()


def store_versions(app: Flask) -> list[dict]:
    with app.app_context():
        return store().versions(LIVERPOOL)


def test_a_save_over_someone_elses_save_is_refused_and_keeps_the_text(app: Flask) -> None:
    cleo = person(app, "cleo@council.example", "commissioner")
    cal = person(app, "cal@council.example", "commissioner")
    url = _open(cleo)
    first, second = raw(cleo.get(url)), raw(cal.get(url))
    original = _textarea(first)
    cleo.post(url, data={"text": original + "\n# cleo\n", "revision": _revision(first)})
    mine = original + "\n# cal's careful change\n"
    r = cal.post(url, data={"text": mine, "revision": _revision(second)})
    page = raw(r)
    assert r.status_code == 200 and "Your changes are not saved" in page
    assert "cleo@council.example saved this draft at" in page
    assert _textarea(page) == mine  # nothing typed is lost
    assert _textarea(raw(cal.get(url))).endswith("# cleo\n")


def test_lint_as_you_type_answers_with_positioned_messages(app: Flask, tmp_path: Path, clock: Clock) -> None:  # fmt: skip
    person(app, "cleo@council.example", "commissioner")  # set up on the CSRF-free app
    app = make_app(tmp_path, clock, WTF_CSRF_ENABLED=True)  # the same database, tokens checked
    cleo = app.test_client()
    page = cleo.get("/auth/sign-in").data.decode()
    token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page).group(1)
    data = {"csrf_token": token, "email": "cleo@council.example", "password": PASSWORD}
    assert cleo.post("/auth/sign-in", data=data).status_code == 302
    page = cleo.get("/studio/").data.decode()
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    r = cleo.post(f"/studio/{LIVERPOOL}/drafts", data={"csrf_token": token})
    url = r.headers["Location"]
    original = _textarea(raw(cleo.get(url)))
    body = json.dumps({"file": MAIN, "text": original.replace("dest: eligible", "dest: eligble", 1)})  # fmt: skip
    # without the page's token the request is refused: another site cannot make it
    assert cleo.post(url + "/lint", data=body, content_type="application/json").status_code == 400
    r = cleo.post(url + "/lint", data=body, content_type="application/json", headers={"X-CSRFToken": token})  # fmt: skip
    answer = r.get_json()
    assert answer["summary"] == "1 problem"
    (problem,) = answer["problems"]
    assert problem["file"] == MAIN and problem["code"] == "unknown-state" and problem["line"] > 1
    # what is typed is checked, not saved
    assert "No problems found" in text(cleo.get(url))
    too_big = json.dumps({"file": MAIN, "text": "x" * (3 * 1024 * 1024)})
    r = cleo.post(url + "/lint", data=too_big, content_type="application/json", headers={"X-CSRFToken": token})  # fmt: skip
    assert r.status_code == 413 and "too big" in r.get_json()["error"]


def test_next_round_starts_as_a_small_file_and_publishes_as_a_new_programme(app: Flask) -> None:
    cleo = person(app, "cleo@council.example", "commissioner")
    r = cleo.post(f"/studio/{LIVERPOOL}/next-round", data={"new_id": "Life Rooms 2023"})
    assert "Enter a short name for the new round using lower case letters" in text(r)
    r = cleo.post(f"/studio/{LIVERPOOL}/next-round", data={"new_id": "life_rooms_2023"})
    assert r.status_code == 302
    url = r.headers["Location"]
    page = raw(cleo.get(url))
    assert "life_rooms_2023.yaml (programme)" in page and "No problems found" in page
    small = _textarea(page)
    assert "extends: liverpool.yaml" in small and len(small.splitlines()) < 80
    # the new round builds on this one: the page says how it differs (its dates), in words
    page = raw(cleo.get(url + "/publish"))
    assert "This is a new programme" in page and "How it differs from The Life Rooms" in page
    assert "31 January 2023" in html.unescape(text(cleo.get(url + "/publish")))
    r = cleo.post(url + "/publish", data={"revision": _revision(page)})
    assert r.status_code == 302
    assert "Life Rooms" in text(cleo.get("/commission/life_rooms_2023"))
    # this year's round is as it was
    assert len(store_versions(app)) == 1


def test_a_commissioner_of_another_programme_finds_no_draft(app: Flask) -> None:
    cleo = person(app, "cleo@council.example", "commissioner")
    url = _open(cleo)
    with app.app_context():
        from engine.runtime.staff import StaffService  # noqa: F401 - the grants below are the store's

        user = store().user_by_email("cleo@council.example")
    other = person(app, "brad@council.example", "commissioner")
    with app.app_context():
        brad = store().user_by_email("brad@council.example")
        for held in store().roles_of(brad["id"]):
            store().revoke_role(held["id"])
        store().grant_role(brad["id"], "commissioner", BRADFORD, None, "test", "2022-01-01")
    assert user is not None
    for path in (url, url + "/publish", url + "/discard", f"/studio/{LIVERPOOL}/versions"):
        assert other.get(path).status_code == 404, path
    assert other.post(f"/studio/{LIVERPOOL}/drafts").status_code == 404
    assert other.post(url + "/lint", json={"file": MAIN, "text": ""}).status_code == 404
    assert "Life Rooms" not in text(other.get("/studio/"))


def test_discarding_asks_first(app: Flask) -> None:
    cleo = person(app, "cleo@council.example", "commissioner")
    url = _open(cleo)
    page = raw(cleo.get(url + "/discard"))
    assert "Discard this draft?" in page and "You cannot undo this" in page
    r = cleo.post(url + "/discard", data={"revision": _revision(page)})
    assert r.status_code == 302
    assert "Drafts in progress" not in text(cleo.get("/studio/"))
