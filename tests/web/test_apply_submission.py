"""What an applicant gets on and after submitting: an email, a PDF, a warning before a second
application, the decision on the case page, and whom to ask for help on every page."""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

from engine.runtime import Actor, Engine
from engine.web.services import store

from .conftest import EOI, LIVERPOOL, Clock, start_application, text
from .panel import person, seed_engine, submitted_case
from .test_generic import EOI_ANSWERS


def answered(app: Flask, clock: Clock, ref: str) -> None:
    """Every answer of the Liverpool expression of interest saved, as the applicant would."""
    engine = Engine(app.config["DATABASE"], clock=clock)
    org = engine.case(ref, Actor("commissioner")).organisation
    engine.save_answers(ref, EOI, EOI_ANSWERS, Actor("applicant", "ann@small.example", org))


def emails_about(app: Flask, address: str, ref: str) -> list[dict]:
    with app.app_context():
        return [m for m in store().outbox_for(address) if ref in m["subject"]]


def pdf_text(data: bytes) -> str:
    """The text a WeasyPrint PDF draws, read back through each font's ToUnicode map.

    No PDF library is locked, so this reads the little of the format WeasyPrint writes: objects
    (some packed in object streams), Flate streams, fonts' glyph-to-character maps, and TJ runs.
    """

    def stream(body: bytes) -> bytes:
        found = re.search(rb"stream\r?\n(.*)endstream", body, re.S)
        if found is None:
            return b""
        raw = found[1]
        return (
            zlib.decompressobj().decompress(raw) if b"FlateDecode" in body[: found.start()] else raw
        )

    objects = {int(m[1]): m[2] for m in re.finditer(rb"(\d+) 0 obj(.*?)endobj", data, re.S)}
    for body in list(objects.values()):
        if b"/ObjStm" in body:
            packed, first = stream(body), int(re.search(rb"/First (\d+)", body)[1])
            head = [int(x) for x in packed[:first].split()]
            starts = [*head[1::2], len(packed) - first]
            for i, num in enumerate(head[0::2]):
                objects[num] = packed[first + starts[i] : first + starts[i + 1]]
    maps: dict[int, dict[int, str]] = {}
    for num, body in objects.items():
        if ref := re.search(rb"/ToUnicode (\d+) 0 R", body):
            cmap = stream(objects[int(ref[1])])
            pairs = re.findall(rb"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>", cmap)
            maps[num] = {
                int(g, 16): bytes.fromhex(u.decode()).decode("utf-16-be") for g, u in pairs
            }
    names = {  # a page's resource name of each font, as its content stream selects it
        name.decode(): int(num)
        for body in objects.values()
        for name, num in re.findall(rb"/(\w+)\s+(\d+)\s+0\s+R", body)
        if int(num) in maps
    }
    out: list[str] = []
    for body in objects.values():
        content, font = stream(body), {}
        if b"TJ" not in content or b"begincmap" in content:
            continue  # not a page's drawing
        for m in re.finditer(rb"/(\w+)\s+[\d.]+\s+Tf|<([0-9a-fA-F]+)>|\]\s*TJ", content):
            if m[1]:
                font = maps.get(names.get(m[1].decode(), -1), {})
            elif m[2]:
                glyphs = m[2].decode()
                out.extend(
                    font.get(int(glyphs[i : i + 4], 16), "") for i in range(0, len(glyphs), 4)
                )
            else:
                out.append(" ")
    return re.sub(r"\s+", " ", "".join(out))


def test_submitting_emails_the_submitter_once_with_the_reference_next_steps_and_answers(
    app: Flask, applicant: Callable[..., FlaskClient], clock: Clock
) -> None:
    ann = applicant()
    ref = start_application(ann)
    answered(app, clock, ref)
    assert emails_about(app, "ann@small.example", ref) == []  # saving answers sends nothing
    app.config["BASE_URL"] = "https://funding.example.org"  # links come from it, not the Host
    r = ann.post(f"/apply/cases/{ref}/forms/{EOI}/check")
    assert r.headers["Location"].endswith(f"/forms/{EOI}/confirmation")
    again = ann.post(f"/apply/cases/{ref}/forms/{EOI}/check")  # a retry of the same POST
    assert again.status_code == 302 and again.headers["Location"].endswith("/confirmation")
    [email] = emails_about(app, "ann@small.example", ref)
    assert "The Life Rooms VCSE Micro-Commissioning Programme" in email["subject"]
    body = email["body"]
    assert f"Your reference is {ref}." in body
    # what happens next: the new state's description in the programme file
    assert "The Life Rooms is checking the expression of interest against the eligibility criteria." in body  # fmt: skip
    assert f"https://funding.example.org/apply/cases/{ref}" in body
    # the answers in words: labels, money in pounds, dates in words, options' labels, no ids
    assert "What was your organisation's total income in its last accounts?: £1,200,000" in body
    assert "Briefly describe the project you would propose: Befriending." in body
    assert "1 March 2015" in body
    assert "Social isolation/improved relationships" in body
    assert "social_isolation" not in body and "registered_charity" not in body
    assert "2015-03-01" not in body and "<" not in body


def test_the_submitted_application_downloads_as_a_pdf_for_its_own_organisation_only(
    app: Flask, applicant: Callable[..., FlaskClient], clock: Clock
) -> None:
    ann = applicant()
    ref = start_application(ann)
    url = f"/apply/cases/{ref}/forms/{EOI}/pdf"
    assert ann.get(url).status_code == 404  # nothing submitted yet
    answered(app, clock, ref)
    ann.post(f"/apply/cases/{ref}/forms/{EOI}/check")
    assert "Download your application (PDF)" in text(ann.get(f"/apply/cases/{ref}/forms/{EOI}/confirmation"))  # fmt: skip
    case = ann.get(f"/apply/cases/{ref}").data.decode()
    assert f'href="{url}"' in case and "Download your expression of interest (PDF)" in case
    r = ann.get(url)
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    assert r.data.startswith(b"%PDF")
    assert f"{ref}-expression-of-interest.pdf" in r.headers["Content-Disposition"]
    words = pdf_text(r.data)
    assert ref in words and "Small Org" in words and "Befriending." in words
    assert "£1,200,000" in words and "10am on Thursday 20 January 2022" in words
    bob = applicant("bob@other.example", "Other Org")
    assert bob.get(url).status_code == 404  # another organisation's application


def test_a_second_application_warns_first_and_can_still_be_started(
    app: Flask, applicant: Callable[..., FlaskClient], clock: Clock
) -> None:
    ann = applicant()
    first = start_application(ann)
    start = f"/apply/rounds/{LIVERPOOL}/start"
    page = text(ann.get(start))
    assert "Your organisation has already started an application for The Life Rooms" in page
    assert f'href="/apply/cases/{first}"' in ann.get(start).data.decode()
    r = ann.post(start, data={"another": "yes"})  # "Start another application"
    assert r.status_code == 302
    second = r.headers["Location"].rsplit("/", 1)[-1]
    assert second != first
    # another organisation is not warned about Ann's
    bob = applicant("bob@other.example", "Other Org")
    assert "already started" not in text(bob.get(start))
    # a withdrawn application does not count
    engine = Engine(app.config["DATABASE"], clock=clock)
    org = engine.case(first, Actor("commissioner")).organisation
    for ref in (first, second):
        engine.act(ref, "withdraw", Actor("applicant", "ann@small.example", org))
    assert "Start an application" in text(ann.get(start))


def test_the_case_page_shows_the_decision_once_one_is_made(app: Flask, tmp_path: Path, clock: Clock) -> None:  # fmt: skip
    engine = seed_engine(app, tmp_path, clock)
    ref = submitted_case(engine, "org_a", "Org A")
    ann = person(app, "ann@org-a.example", "applicant", "org_a")
    assert "Decision" not in text(ann.get(f"/apply/cases/{ref}"))  # not decided yet
    engine.act(ref, "reject", Actor("commissioner", "cora"), reason="Outside the area")
    page = text(ann.get(f"/apply/cases/{ref}"))
    assert "Decision: not funded" in page
    assert (
        "Outside the area" not in page
    )  # the reason is the funder's note: nothing marks it shared


def test_every_page_about_a_programme_says_whom_to_ask(
    app: Flask, applicant: Callable[..., FlaskClient], clock: Clock
) -> None:
    ann = applicant()
    ref = start_application(ann)
    pages = [
        f"/apply/rounds/{LIVERPOOL}",
        f"/apply/rounds/{LIVERPOOL}/start",
        f"/apply/cases/{ref}",
        f"/apply/cases/{ref}/eligibility",
        f"/apply/cases/{ref}/forms/{EOI}",
        f"/apply/cases/{ref}/forms/{EOI}/pages/organisation",
        f"/apply/cases/{ref}/forms/{EOI}/check",
    ]
    for url in pages:
        page = text(ann.get(url))
        assert "Get help with your application" in page, url
        assert (
            "Mersey Care NHS Foundation Trust Email: Contracts.Cloud@merseycare.nhs.uk" in page
        ), url
    # a programme file that gives no address: the service's own contact
    page = text(ann.get("/apply/rounds/llr_resilience_recovery_hubs"))
    assert "Get help with your application" in page and "funding@example.org" in page
