"""Organisations in the store, the same on SQLite and PostgreSQL: a charity or company number is
held by one organisation at most, and a name is found however it is written."""

from __future__ import annotations

import pytest

from engine.errors import DatabaseError
from engine.store import Store

NOW = "2024-01-01T09:00:00+00:00"


@pytest.fixture
def store(database: str) -> Store:
    """Two organisations, neither with a number yet."""
    s = Store(database)
    with s.transaction():
        s.ensure_organisation("acorn", "Acorn Trust", NOW)
        s.ensure_organisation("birch", "Birch Hall CIO", NOW)
    return s


def test_a_number_is_recorded_once_and_another_organisation_is_refused_it(store: Store) -> None:
    assert store.set_organisation_number("acorn", "charity", "1092345") is None
    assert store.set_organisation_number("acorn", "charity", "1092345") is None  # saved again
    assert store.set_organisation_number("birch", "charity", "1092345") == "acorn"
    assert store.organisation("birch")["charity_number"] is None
    assert store.organisation_with_number("charity", "1092345") == "acorn"
    # a company number of the same digits is another register's, held apart
    assert store.set_organisation_number("birch", "company", "01092345") is None
    assert store.organisation("birch")["company_number"] == "01092345"
    # a new answer replaces the organisation's own number, freeing the old one
    assert store.set_organisation_number("acorn", "charity", "1187654") is None
    assert store.organisation_with_number("charity", "1092345") is None
    assert store.organisation("acorn")["charity_number"] == "1187654"


def test_the_database_itself_refuses_a_second_holder(store: Store) -> None:
    store.set_organisation_number("acorn", "company", "SC012345")
    with pytest.raises(DatabaseError), store.transaction():  # a write that skipped the check
        store.execute("UPDATE organisations SET company_number = 'SC012345' WHERE id = 'birch'")
    assert store.organisation("birch")["company_number"] is None


def test_only_the_two_registers_are_columns(store: Store) -> None:
    with pytest.raises(ValueError, match="there is no register"):
        store.set_organisation_number("acorn", "name", "x")


def test_names_are_found_however_they_are_written(store: Store) -> None:
    assert [o["id"] for o in store.organisations_named("  acorn trust ltd.")] == ["acorn"]
    assert [o["id"] for o in store.organisations_named("BIRCH HALL")] == ["birch"]
    assert store.organisations_named("Acorn Trust North") == []


def test_organisations_from_before_names_had_keys_are_found(store: Store) -> None:
    with store.transaction():  # as an organisation recorded before the upgrade stands
        store.execute("UPDATE organisations SET name_key = NULL")
    assert [o["id"] for o in store.organisations_named("Acorn Trust Limited")] == ["acorn"]
