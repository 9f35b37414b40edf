"""Every list of cases is searched, filtered, sorted and paged 25 at a time, and says plainly what
is wrong with an address it cannot follow (never a 400 page)."""

from __future__ import annotations

import html as markup
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from engine.runtime import Actor, Engine

from ..conftest import ROOT
from .conftest import LIVERPOOL, Clock
from .conftest import text as page_text
from .panel import PANEL, person, seed_engine, submitted_case

BRADFORD = "bradford_healthy_minds_wave2"


def text(response: TestResponse) -> str:
    """The page's words, entities decoded."""
    return markup.unescape(page_text(response))


def cards(response: TestResponse) -> int:
    """How many cases the page lists (one summary card each)."""
    return response.data.decode().count('class="govuk-summary-card"')


@pytest.fixture
def engine(app: Flask, tmp_path: Path, clock: Clock) -> Engine:
    """An engine on the app's database, with the panel programme published."""
    return seed_engine(app, tmp_path, clock)


@pytest.fixture
def cora(app: Flask) -> FlaskClient:
    """A commissioner, signed in."""
    return person(app, "cora@council.example", "commissioner")


def drafts(engine: Engine, count: int, org: str = "org_a", name: str = "Acorn Trust") -> list[str]:
    """`count` draft applications of one organisation, oldest first; their references."""
    actor = Actor("applicant", f"{org}@example.org", org)
    return [
        engine.start_case(PANEL, "application", actor, organisation_name=name).reference
        for _ in range(count)
    ]


def test_a_list_of_60_cases_shows_25_a_page_with_govuk_pagination(engine: Engine, cora: FlaskClient) -> None:  # fmt: skip
    refs = drafts(engine, 60)
    first = cora.get(f"/commission/{PANEL}/cases")
    assert first.status_code == 200 and cards(first) == 25
    page = text(first)
    assert "Showing 1 to 25 of 60 cases" in page
    assert refs[-1] in page and refs[-25] in page and refs[-26] not in page  # newest first
    html = first.data.decode()
    assert 'class="govuk-pagination"' in html and 'aria-current="page"' in html
    assert "page=2" in html and "page=3" in html
    second = cora.get(f"/commission/{PANEL}/cases?page=2")
    assert cards(second) == 25 and "Showing 26 to 50 of 60 cases" in text(second)
    assert refs[-26] in text(second) and refs[-1] not in text(second)
    last = cora.get(f"/commission/{PANEL}/cases?page=3")
    assert cards(last) == 10 and "Showing 51 to 60 of 60 cases" in text(last)
    assert refs[0] in text(last)


def test_search_finds_a_reference_or_an_organisation_in_any_case_of_letters(engine: Engine, cora: FlaskClient) -> None:  # fmt: skip
    acorn = drafts(engine, 2, "org_a", "Acorn Trust")
    birch = drafts(engine, 1, "org_b", "Birch Community Hall")
    page = text(cora.get(f"/commission/{PANEL}/cases?q=BIRCH+community"))
    assert "Showing 1 to 1 of 1 case" in page and birch[0] in page and acorn[0] not in page
    page = text(cora.get(f"/commission/{PANEL}/cases?q={acorn[1].lower()}"))
    assert acorn[1] in page and acorn[0] not in page and birch[0] not in page
    # a % in a search is a character, not "anything"
    page = text(cora.get(f"/commission/{PANEL}/cases?q=%25"))
    assert "No cases match your search and filters" in page and acorn[0] not in page


def test_search_by_a_references_start_or_number_part_of_a_name_or_nothing(engine: Engine, cora: FlaskClient) -> None:  # fmt: skip
    acorn = drafts(engine, 12, "org_a", "Acorn Trust")
    birch = drafts(engine, 1, "org_b", "Birch Community Hall")
    prefix = acorn[0].split("-")[0]
    start = f"{prefix.lower()}-00001"  # the start of a reference, in small letters
    wanted = [r for r in acorn + birch if r.startswith(f"{prefix}-00001")]
    page = text(cora.get(f"/commission/{PANEL}/cases?q={start}"))
    assert wanted and f"of {len(wanted)} case" in page and all(r in page for r in wanted)
    assert acorn[0] not in page
    # digits alone are a case's number: the first case, not every reference with a 1 in it
    number = str(int(acorn[0].split("-")[1]))
    page = text(cora.get(f"/commission/{PANEL}/cases?q={number}"))
    assert "Showing 1 to 1 of 1 case" in page and acorn[0] in page
    page = text(cora.get(f"/commission/{PANEL}/cases?q=rch+COMMUN"))
    assert "Showing 1 to 1 of 1 case" in page and birch[0] in page and acorn[0] not in page
    page = text(cora.get(f"/commission/{PANEL}/cases?q=zebra+crossing"))
    assert "No cases match your search and filters" in page and acorn[0] not in page


def test_the_state_filter_offers_labels_and_the_sort_orders_the_list(engine: Engine, cora: FlaskClient) -> None:  # fmt: skip
    draft = drafts(engine, 1)[0]
    submitted = submitted_case(engine, "org_c", "Cedar Club")
    html = cora.get(f"/commission/{PANEL}/cases").data.decode()
    assert '<option value="submitted" >Submitted</option>' in html.replace("  ", " ")
    page = text(cora.get(f"/commission/{PANEL}/cases?state=submitted"))
    assert submitted in page and draft not in page and "Showing 1 to 1 of 1 case" in page
    oldest = text(cora.get(f"/commission/{PANEL}/cases?sort=oldest"))
    assert oldest.index(draft) < oldest.index(submitted)
    newest = text(cora.get(f"/commission/{PANEL}/cases?sort=newest"))
    assert newest.index(submitted) < newest.index(draft)
    by_name = text(cora.get(f"/commission/{PANEL}/cases?sort=organisation"))
    assert by_name.index(draft) < by_name.index(submitted)  # Acorn before Cedar


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("page=abc", "Enter a page number as a whole number, like 2"),
        ("page=0", "Enter a page number as a whole number, like 2"),
        ("page=99", "There is no page 99: choose a page from 1 to 2"),
        ("state=no_such_state", "Choose a state from the list"),
        ("workflow=nothing", "Choose a kind of case from the list"),
        ("sort=sideways", "Choose an order from the “Sort by” list"),
        ("q=" + "x" * 101, "Search for 100 characters or fewer"),
    ],
)
def test_a_bad_address_is_explained_on_the_page_and_the_list_still_shown(
    engine: Engine, cora: FlaskClient, query: str, message: str
) -> None:
    drafts(engine, 30)
    r = cora.get(f"/commission/{PANEL}/cases?{query}")
    assert r.status_code == 200
    page = text(r)
    assert "There is a problem" in page and message in page and page.count(message) >= 1
    assert "<title>Error:" in r.data.decode()
    assert cards(r) == 25 and "Showing 1 to 25 of 30 cases" in page
    assert "no_such_state" not in page and "sideways" not in page  # what was typed is not echoed


def test_an_applicant_pages_and_searches_their_own_applications(app: Flask, engine: Engine) -> None:  # fmt: skip
    mine = drafts(engine, 27, "org_a", "Acorn Trust")
    theirs = drafts(engine, 1, "org_b", "Birch")
    ann = person(app, "ann@acorn.example", "applicant", "org_a")
    first = ann.get("/apply/applications")
    assert cards(first) == 25 and "Showing 1 to 25 of 27 applications" in text(first)
    assert theirs[0] not in text(first)
    second = text(ann.get("/apply/applications?page=2"))
    assert (
        mine[0] in second and mine[1] in second and "Showing 26 to 27 of 27 applications" in second
    )
    found = text(ann.get(f"/apply/applications?q={mine[3][-6:]}"))
    assert mine[3] in found and "Showing 1 to 1 of 1 application" in found
    assert "Tiny panel grants" in found and "Draft" in found


def test_an_assessor_searches_the_queue_and_pages_it(app: Flask, engine: Engine) -> None:
    waiting = [submitted_case(engine, f"org_{i}", f"Group {i}") for i in range(27)]
    asa = person(app, "asa@panel.example", "assessor")
    first = asa.get("/assess/")
    assert cards(first) == 25 and "27 waiting" in text(first)
    assert waiting[0] in text(first)  # the queue is oldest first
    assert waiting[26] in text(asa.get("/assess/?page=2"))
    found = text(asa.get("/assess/?q=group+13"))
    assert waiting[13] in found and waiting[12] not in found


def _bradford_copy(tmp_path: Path) -> Path:
    """A copy of Bradford's programme file, to change."""
    path = tmp_path / "copy" / "bradford.yaml"
    path.parent.mkdir(parents=True)
    path.write_text((ROOT / "programmes" / "bradford.yaml").read_text("utf-8"), "utf-8")
    return path


def test_a_caseworker_sees_each_persons_label_dates_and_worker_and_searches_by_label(
    app: Flask, tmp_path: Path, clock: Clock
) -> None:
    clock.set("2024-04-15T10:00")
    eng = Engine(app.config["DATABASE"], clock=clock)  # Bradford names its label question
    aisha = person(app, "aisha@horton.example", "caseworker", "horton_park")
    actor = Actor("caseworker", "aisha@horton.example", "horton_park")
    refs = []
    for label in ("Ward 7 Blue", "Ward 9 Green"):
        case = eng.start_case(BRADFORD, "referral", actor, subject="pseudonymous")
        eng.save_answers(case.id, "bradford_referral", {"local_reference": label}, actor)
        refs.append(case.reference)
    page = text(aisha.get("/casework/"))
    assert "Local label Ward 7 Blue" in page and "Local label Ward 9 Green" in page
    assert "Referred Monday 15 April 2024" in page
    assert "Worker Aisha" in page
    assert "Next due" in page and "T10:00" not in page  # dates in words, never ISO
    found = text(aisha.get("/casework/?q=ward+9+GREEN"))
    assert refs[1] in found and refs[0] not in found and "Showing 1 to 1 of 1 person" in found
    assert "Search A reference (or just its number, such as 42) or part of a local label" in found


def test_the_caseworker_list_pages_25_people_at_a_time(app: Flask, clock: Clock) -> None:
    clock.set("2024-04-15T10:00")
    eng = Engine(app.config["DATABASE"], clock=clock)
    aisha = person(app, "aisha@horton.example", "caseworker", "horton_park")
    actor = Actor("caseworker", "aisha@horton.example", "horton_park")
    refs = [eng.start_case(BRADFORD, "referral", actor, subject="pseudonymous").reference for _ in range(26)]  # fmt: skip
    first = aisha.get("/casework/")
    assert cards(first) == 25 and "Showing 1 to 25 of 26 people" in text(first)
    assert refs[0] in text(aisha.get("/casework/?page=2"))
    assert refs[0] in text(aisha.get("/casework/?sort=oldest")).split("Showing")[0]


def test_the_liverpool_round_still_lists_an_applicants_first_application(app: Flask) -> None:
    ann = person(app, "ann@small.example", "applicant", "small_org")
    r = ann.post(f"/apply/rounds/{LIVERPOOL}/start", data={})
    ref = r.headers["Location"].rsplit("/", 1)[-1]
    page = text(ann.get("/apply/applications"))
    assert ref in page and "Showing 1 to 1 of 1 application" in page


def test_a_label_question_must_be_asked_once_per_case_of_its_workflow(tmp_path: Path) -> None:
    from engine import ProgrammeInvalid, load_programme

    path = _bradford_copy(tmp_path)
    assert load_programme(path, ROOT / "forms").data["workflows"]["referral"]["label_question"]
    path.write_text(path.read_text("utf-8").replace("label_question: local_reference",
                                                    "label_question: local_refrence"), "utf-8")  # fmt: skip
    with pytest.raises(ProgrammeInvalid) as refused:
        load_programme(path, ROOT / "forms")
    said = str(refused.value)
    assert (
        'there is no question "local_refrence" asked once per case in workflow "referral"' in said
    )
    assert 'did you mean "local_reference"?' in said


def test_a_persons_label_is_found_as_last_saved_and_gone_once_their_data_is_erased(
    app: Flask, clock: Clock
) -> None:
    clock.set("2024-04-15T10:00")
    eng = Engine(app.config["DATABASE"], clock=clock)
    aisha = person(app, "aisha@horton.example", "caseworker", "horton_park")
    actor = Actor("caseworker", "aisha@horton.example", "horton_park")
    case = eng.start_case(BRADFORD, "referral", actor, subject="person-4417")
    eng.save_answers(case.id, "bradford_referral", {"local_reference": "Ward 7 Blue"}, actor)
    eng.save_answers(case.id, "bradford_referral", {"local_reference": "Ward 8 Red"}, actor)
    assert case.reference in text(aisha.get("/casework/?q=ward+8"))
    assert case.reference not in text(aisha.get("/casework/?q=ward+7"))  # the label it had before
    eng.erase_person("person-4417", Actor("admin", "admin@example.org"))
    page = text(aisha.get("/casework/"))
    assert (
        case.reference in page and "Ward 8 Red" not in page and "Local label None recorded" in page
    )
    assert case.reference not in text(aisha.get("/casework/?q=ward+8"))


def test_upgrading_fills_each_cases_label_from_its_answers(app: Flask, clock: Clock) -> None:
    from engine.store.migrations import postgres_migration, split_statements, sqlite_migration

    clock.set("2024-04-15T10:00")
    eng = Engine(app.config["DATABASE"], clock=clock)
    actor = Actor("caseworker", "aisha@horton.example", "horton_park")
    labelled = eng.start_case(BRADFORD, "referral", actor, subject="person-1")
    eng.save_answers(labelled.id, "bradford_referral", {"local_reference": " Ward 7 Blue "}, actor)
    numbered = eng.start_case(BRADFORD, "referral", actor, subject="person-2")
    eng.save_answers(numbered.id, "bradford_referral", {"local_reference": "4417"}, actor)
    unlabelled = eng.start_case(BRADFORD, "referral", actor, subject="person-3")
    store = eng.store
    kept = {r[0]: r[1] for r in store.execute("SELECT id, label FROM cases")}
    assert kept[labelled.id] == "Ward 7 Blue" and kept[numbered.id] == "4417"
    assert kept[unlabelled.id] is None
    # as a database made before the label was kept on the case: the column added by the upgrade
    with store.transaction():
        store.execute("ALTER TABLE cases DROP COLUMN label")
        text_25 = postgres_migration(25) if store.kind == "PostgreSQL" else sqlite_migration(25)
        for statement in split_statements(text_25):
            store.execute(statement)
    assert {r[0]: r[1] for r in store.execute("SELECT id, label FROM cases")} == kept
