"""The store pages through cases in the database, the same on SQLite and PostgreSQL: one count and
one page, searched in any case of letters, filtered, sorted, with each row's label and next due."""

from __future__ import annotations

import pytest

from engine.store import Store, listing

NOW = "2024-01-01T09:00:00+00:00"


@pytest.fixture
def store(database: str) -> Store:
    """A store with 30 cases of two organisations in two workflows, one labelled by an answer."""
    s = Store(database)
    with s.transaction():
        s.ensure_organisation("acorn", "Acorn Trust", NOW)
        s.ensure_organisation("birch", "BIRCH 100% Hall", NOW)
        s.create_user("aisha@horton.example", None, "Aisha Khan", "caseworker", "acorn", NOW)
        for i in range(30):
            org = "acorn" if i % 3 else "birch"
            case_id = s.insert_case(
                {"programme_id": "p", "version": "1", "workflow": "referral" if i < 20 else "contract",
                 "state": "open" if i % 2 else "closed", "organisation_id": org,
                 "subject": "pseudonymous" if i < 20 else None, "role": None, "lot": None,
                 "parent_id": None, "created_at": f"2024-01-{i + 1:02d}T09:00:00+00:00"},
                "CASE",
            )  # fmt: skip
            s.audit(
                case_id, NOW, "caseworker", "aisha@horton.example", "start", None, "open", "1", {}
            )
            s.save_answers(case_id, "referral_form", 0, {"local_ref": f"Ward-{i:02d}x"}, NOW, False)
            if i < 20:  # the referrals' label question: kept on the case, as the engine keeps it
                s.set_case_label(case_id, f"Ward-{i:02d}x")
        s.plan_rows([{"key": "r1", "programme_id": "p", "version": "1", "kind": "reminder", "rule": "call",
                      "case_id": 6, "due_at": "2024-02-01T09:00:00+00:00", "anchor_at": None,
                      "payload": {}, "created_at": NOW}])  # fmt: skip
    return s


def test_one_page_and_the_count_of_every_match(store: Store) -> None:
    total, rows = store.find_cases(scope=[("p", None, None)], limit=25, offset=0)
    assert total == 30 and len(rows) == 25
    assert [r["reference"] for r in rows[:2]] == ["CASE-000030", "CASE-000029"]  # newest first
    total, rows = store.find_cases(scope=[("p", None, None)], limit=25, offset=25)
    assert total == 30 and [r["id"] for r in rows] == [5, 4, 3, 2, 1]


def test_search_is_case_insensitive_and_takes_wildcards_literally(store: Store) -> None:
    assert store.find_cases(search="birch 100%")[0] == 10
    assert store.find_cases(search="100%")[0] == 10
    assert store.find_cases(search="1_0")[0] == 0  # "_" is a character, not any one character
    assert store.find_cases(search="case-00001")[0] == 10  # CASE-000010 to CASE-000019
    total, rows = store.find_cases(search="WARD-07X", labels=True)
    assert total == 1 and rows[0]["label"] == "Ward-07x" and rows[0]["id"] == 8
    assert store.find_cases(search="ward-07x")[0] == 0  # a list that shows no label: not searched


def test_a_reference_is_found_by_its_start_or_by_its_number(store: Store) -> None:
    found = store.find_cases(search="case-00002", limit=30)
    assert found[0] == 10 and {r["reference"] for r in found[1]} == {
        f"CASE-{i:06d}" for i in range(20, 30)
    }
    assert store.find_cases(search="Case 00003")[0] == 1  # CASE-000030: no hyphen needed
    assert store.find_cases(search="CASE")[0] == 30  # the prefix alone: every case
    assert store.find_cases(search="cas")[0] == 0  # part of a prefix is no reference's start
    # digits alone are a case's number, not every reference with those digits somewhere
    for number in ("7", "07", "000007"):
        total, rows = store.find_cases(search=number)
        assert total == 1 and rows[0]["reference"] == "CASE-000007"
    assert store.find_cases(search="2")[0] == 1  # not CASE-000012 and CASE-000020 to 29 too
    assert store.find_cases(search="31")[0] == 0
    assert store.find_cases(scope=[("another", None, None)], search="7")[0] == 0


def test_an_organisation_is_found_by_part_of_its_name_in_any_case(store: Store) -> None:
    assert store.find_cases(search="aCORN tr")[0] == 20
    assert store.find_cases(search="rch 100")[0] == 10
    with store.transaction():
        store.ensure_organisation("cafe", "Baildon Wellbeing Café & Co.", NOW)
        store.insert_case({"programme_id": "p", "version": "1", "workflow": "contract", "state": "open",
                           "organisation_id": "cafe", "subject": None, "role": None, "lot": None,
                           "parent_id": None, "created_at": NOW}, "CASE")  # fmt: skip
    # accents, "&" and punctuation as the organisation's name key compares them, on both databases
    for search in ("WELLBEING CAFÉ", "wellbeing cafe", "cafe and co", "Café & Co."):
        total, rows = store.find_cases(search=search)
        assert total == 1 and rows[0]["organisation_name"] == "Baildon Wellbeing Café & Co."


def test_a_name_shared_by_more_organisations_than_a_statement_names_finds_them_all(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert store.find_cases(search="R")[0] == 30  # acoRn tRust and biRch
    monkeypatch.setattr(listing, "_MOST_NAMED", 1)  # as if thousands of names had an "r"
    assert store.find_cases(search="R")[0] == 30
    assert store.find_cases(search="birch")[0] == 10


def test_a_search_that_matches_nothing_finds_no_case(store: Store) -> None:
    for search in ("zebra crossing", "ZZ-000001", "-", "99999999999999999999"):
        assert store.find_cases(search=search, scope=[("p", None, None)]) == (0, [])
    total, rows = store.find_cases(search="nothing", sort="organisation")
    assert (total, rows) == (0, [])


def test_filters_sort_and_the_facts_beside_each_row(store: Store) -> None:
    total, rows = store.find_cases(organisation_id="acorn", about_people=True, state="open",
                                   sort="due", labels=True)  # fmt: skip
    assert total == len([i for i in range(20) if i % 3 and i % 2])
    first = rows[0]
    assert first["id"] == 6 and first["next_due"] == "2024-02-01T09:00:00+00:00"
    assert first["opened_by"] == "Aisha Khan" and first["organisation_name"] == "Acorn Trust"
    assert first["label"] == "Ward-05x" and first["flags"] == {}
    assert all(r["next_due"] is None for r in rows[1:])
    total, rows = store.find_cases(scope=[("p", "contract", "closed")], sort="reference")
    assert total == 5 and [r["reference"] for r in rows] == sorted(r["reference"] for r in rows)
    total, _ = store.find_cases(scope=[("p", "referral", None)], workflow="contract")
    assert total == 0
    total, rows = store.find_cases(sort="organisation", limit=30)
    assert (
        rows[0]["organisation_name"] == "Acorn Trust"
        and rows[-1]["organisation_name"] == "BIRCH 100% Hall"
    )


def test_an_assessors_declared_conflicts_are_left_out(store: Store) -> None:
    store.save_assessment({"case_id": 1, "assessor": "asa@panel.example", "scores": {}, "notes": {},
                           "comment": None, "recommendation": None, "conflict": "My cousin runs it",
                           "version": "1", "now": NOW})  # fmt: skip
    assert store.find_cases(not_conflicted="asa@panel.example")[0] == 29
    assert store.find_cases(not_conflicted="bo@panel.example")[0] == 30


@pytest.mark.parametrize("sort", sorted(listing.SORTS))
def test_every_page_in_every_order_is_the_list_read_in_one_go(store: Store, sort: str) -> None:
    # pages past the middle are read from the other end: the same rows, in the same order
    with store.transaction():
        for _ in range(3):  # cases of no organisation: NULLs, which each database sorts its own way
            store.insert_case({"programme_id": "p", "version": "1", "workflow": "contract",
                               "state": "open", "organisation_id": None, "subject": None, "role": None,
                               "lot": None, "parent_id": None, "created_at": NOW}, "CASE")  # fmt: skip
    total, whole = store.find_cases(sort=sort, limit=100)
    assert total == 33
    for size in (7, 25):
        pages = [
            store.find_cases(sort=sort, limit=size, offset=o)[1] for o in range(0, total, size)
        ]
        assert [r["id"] for page in pages for r in page] == [r["id"] for r in whole]
