"""A draft previewed in the studio before it is published: its forms as applicants will see them,
its workflows, its timeline; the problems instead while it has any; nobody else's drafts."""

from __future__ import annotations

import html
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.security import generate_password_hash

from engine.runtime import Engine

from ..conftest import account
from .conftest import EOI, LIVERPOOL, PASSWORD
from .conftest import text as page_text
from .panel import person

MAIN = "programmes/liverpool.yaml"
EOI_FILE = f"forms/{EOI}.yaml"
BRADFORD = "bradford_healthy_minds_wave2"


def text(response: object) -> str:
    """The page's words, entities decoded."""
    return html.unescape(page_text(response))


def _open(browser: FlaskClient, pid: str = LIVERPOOL) -> str:
    """Open a draft of the programme as the studio's Edit button does; the editor's address."""
    r = browser.post(f"/studio/{pid}/drafts")
    assert r.status_code == 302, r.data
    return r.headers["Location"]


def _change(browser: FlaskClient, editor: str, name: str, old: str, new: str) -> None:
    """Change one file of the draft in the editor and save it."""
    page = browser.get(editor, query_string={"file": name}).data.decode()
    found = re.search(r'<textarea[^>]*id="text"[^>]*>(.*?)</textarea>', page, re.S)
    revision = re.search(r'name="revision" value="(\d+)"', page)
    assert found and revision
    before = html.unescape(found.group(1))
    assert old in before
    r = browser.post(editor, query_string={"file": name},
                     data={"text": before.replace(old, new, 1), "revision": revision.group(1)})  # fmt: skip
    assert r.status_code == 302, text(r)


def test_a_question_added_to_a_drafts_form_shows_in_its_preview(app: Flask) -> None:
    cleo = person(app, "cleo@council.example", "commissioner")
    editor = _open(cleo)
    _change(cleo, editor, EOI_FILE, "      - id: website\n",
            "      - id: volunteers\n        type: number\n        label: How many volunteers do you have?\n"
            "      - id: website\n")  # fmt: skip
    forms = cleo.get(f"{editor}/forms")
    assert forms.status_code == 200
    assert "Expression of interest" in text(forms) and "Draft of The Life Rooms" in text(forms)
    link = re.search(r'href="([^"]+/forms/' + EOI + r'/preview)"', forms.data.decode())
    assert link and link.group(1).startswith(editor)  # the draft's preview, not the published one
    r = cleo.get(link.group(1))
    page = text(r)
    assert r.status_code == 200 and "How many volunteers do you have?" in page
    assert "Your organisation" in page and "read only" in page
    main = r.data.decode().split("<main")[1]
    assert '<fieldset class="govuk-fieldset" disabled>' in main and "<form" not in main
    # the next page's link stays in the draft
    nxt = re.search(r'href="([^"]+)" rel="next"', r.data.decode())
    assert nxt and nxt.group(1) == f"{editor}/forms/{EOI}/preview/contact"
    assert "Contact for this application" in text(cleo.get(nxt.group(1)))
    # applicants and the published programme's preview are unchanged until it is published
    published = text(cleo.get(f"/commission/{LIVERPOOL}/forms/{EOI}/preview"))
    assert "How many volunteers do you have?" not in published
    assert cleo.get(f"{editor}/forms/{EOI}/preview/nope").status_code == 404
    assert cleo.get(f"{editor}/forms/nope/preview").status_code == 404


def test_a_state_added_to_a_drafts_workflow_shows_in_its_picture_and_table(app: Flask) -> None:
    cleo = person(app, "cleo@council.example", "commissioner")
    editor = _open(cleo)
    _change(cleo, editor, MAIN, "      - id: eligible\n",
            "      - id: on_hold\n        label: Put on hold while we check\n      - id: eligible\n")  # fmt: skip
    _change(cleo, editor, MAIN, "      - trigger: confirm_eligible\n",
            "      - trigger: hold\n        label: Put on hold\n        source: eoi_submitted\n"
            "        dest: on_hold\n        by: [commissioner]\n"
            "      - trigger: resume\n        label: Take off hold\n        source: on_hold\n"
            "        dest: eoi_submitted\n        by: [commissioner]\n"
            "      - trigger: confirm_eligible\n")  # fmt: skip
    listing = cleo.get(f"{editor}/workflows")
    assert listing.status_code == 200 and "Application" in text(listing)
    assert f'href="{editor}/workflows/application"' in listing.data.decode()
    r = cleo.get(f"{editor}/workflows/application")
    assert r.status_code == 200
    assert "Put on hold while we check" in text(r)
    assert (
        "Take off hold Put on hold while we check Expression of interest submitted commissioner"
        in text(r)
    )
    assert 'state "Put on hold while we check" as s_on_hold' in html.unescape(r.data.decode())
    assert "style-src 'self' 'unsafe-inline'" in r.headers["Content-Security-Policy"]
    assert "Put on hold while we check" not in text(cleo.get(f"/commission/{LIVERPOOL}/workflows/application"))  # fmt: skip
    assert cleo.get(f"{editor}/workflows/nope").status_code == 404


def test_the_timeline_shows_a_moved_deadline_in_words(app: Flask) -> None:
    cleo = person(app, "cleo@council.example", "commissioner")
    editor = _open(cleo)
    before = text(cleo.get(f"{editor}/timeline"))
    assert "5pm on Monday 31 January 2022 Expression of interest deadline" in before
    _change(cleo, editor, MAIN, "at: 2022-01-31T17:00", "at: 2022-02-04T17:00")
    r = cleo.get(f"{editor}/timeline")
    page = text(r)
    assert r.status_code == 200
    assert "5pm on Friday 4 February 2022 Expression of interest deadline" in page
    # its reminder moves with it, in words, to the people it goes to
    assert (
        "5pm on Friday 28 January 2022 Reminder to applicants: 7 days left: expression of interest "
        "closes 31 January 2022 at 5pm 7 days before “Expression of interest deadline” Applicants"
    ) in page.replace("…", "7 days")
    assert "5pm on Monday 31 January 2022" not in page
    # a date known only by its week hangs its reminder until it is pinned
    assert "Not pinned yet The week of Monday 7 February 2022" in page
    assert "Nothing is sent" in page
    assert not re.search(r"\d{4}-\d{2}-\d{2}", page)  # never an ISO date
    assert "eoi_deadline" not in page and "close_eoi_round" not in page  # nor an id


def test_a_draft_with_a_problem_lists_it_on_each_preview_page(app: Flask) -> None:
    cleo = person(app, "cleo@council.example", "commissioner")
    editor = _open(cleo)
    _change(cleo, editor, MAIN, "dest: eligible", "dest: eligble")
    for page in ("forms", f"forms/{EOI}/preview", "workflows", "workflows/application", "timeline"):
        r = cleo.get(f"{editor}/{page}")
        words = text(r)
        assert r.status_code == 200, page
        assert "This draft has 1 problem, so it cannot be previewed" in words, page
        assert "eligble" in words and "liverpool.yaml (programme), line" in words
    assert f'href="{editor}?file=programmes/liverpool.yaml#text"' in r.data.decode()


def test_a_commissioner_of_another_programme_cannot_see_the_draft(app: Flask) -> None:
    cleo = person(app, "cleo@council.example", "commissioner")
    editor = _open(cleo)
    engine = Engine(app.config["DATABASE"])
    with engine.store.transaction():
        account(engine.store, "brad@bradford.example", "Brad", "commissioner",
                password_hash=generate_password_hash(PASSWORD), programme=BRADFORD)  # fmt: skip
    brad = app.test_client()
    assert brad.post("/auth/sign-in", data={"email": "brad@bradford.example", "password": PASSWORD}).status_code == 302  # fmt: skip
    for page in ("forms", f"forms/{EOI}/preview", "workflows", "workflows/application", "timeline"):
        assert brad.get(f"{editor}/{page}").status_code == 404, page
        assert cleo.get(f"{editor}/{page}").status_code == 200, page
    assert brad.get("/studio/drafts/999/timeline").status_code == 404
    caseworker = person(app, "cas@org.example", "caseworker", "org_a")
    assert caseworker.get(f"{editor}/timeline").status_code == 403


def test_a_long_timeline_shows_the_first_rows_and_says_how_many_more(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    cleo = person(app, "cleo@council.example", "commissioner")
    editor = _open(cleo, BRADFORD)
    whole = cleo.get(f"{editor}/timeline").data.decode()
    count = whole.count('<tr class="govuk-table__row">') - 1  # the heading's row
    assert count > 20 and "more after them" not in whole
    monkeypatch.setattr("engine.web.studio.preview.MAX_ROWS", 20)
    r = cleo.get(f"{editor}/timeline")
    assert r.data.decode().count('<tr class="govuk-table__row">') == 1 + 20
    assert f"These are the first 20. There are {count - 20} more after them, up to Tuesday 5 August 2025" in text(r)  # fmt: skip
