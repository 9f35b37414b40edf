"""The SQLite store keeps the contract a second database implements, and the contract keeps up.

Every method of every family protocol in engine.store.contract is on `Store` with the same
parameters (names, kinds, defaults and types) and return type; every public method of `Store` is
in the contract, so a method added to the store without the contract fails here, not on the day
PostgreSQL is wired in.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

import pytest

from engine.store import Store, StoreContract, shown
from engine.store.database import SqliteStore
from engine.store.postgres import PostgresStore

from .databases import database_in

# Raw SQL and its cursor are what the contract keeps callers away from; SQLite's online backup
# is the `commission db backup` command's own (PostgreSQL's is pg_dump).
NOT_CONTRACT = {"execute", "execute_many", "write", "write_many", "backup"}
STORES = [SqliteStore, PostgresStore]

FAMILIES: list[type] = [base for base in StoreContract.__bases__ if base is not Protocol]


def methods_of(protocol: type) -> dict[str, Callable[..., Any]]:
    """The methods a protocol declares itself (not those of `Protocol`)."""
    return {
        name: value
        for name, value in vars(protocol).items()
        if not name.startswith("_") and inspect.isfunction(value)
    }


def returns(function: Callable[..., Any]) -> Any:
    """A method's return type as callers see it: a `@contextmanager` generator gives a context manager."""
    annotation = inspect.signature(function).return_annotation
    wrapped = getattr(function, "__wrapped__", None)
    if wrapped is not None and inspect.isgeneratorfunction(wrapped):
        annotation = annotation.replace("Iterator[", "AbstractContextManager[", 1)
    return annotation


def mismatches(store: type, protocol: type) -> list[str]:
    """How `store` falls short of one family protocol: missing methods, differing signatures."""
    problems = []
    for name, declared in methods_of(protocol).items():
        actual = getattr(store, name, None)
        if not callable(actual):
            problems.append(f"{protocol.__name__}.{name} is missing")
            continue
        want, have = inspect.signature(declared), inspect.signature(actual)
        shape = [(p.name, p.kind, p.default, p.annotation) for p in want.parameters.values()]
        if shape != [(p.name, p.kind, p.default, p.annotation) for p in have.parameters.values()]:
            problems.append(f"{protocol.__name__}.{name}{want} but the store has {name}{have}")
        if returns(declared) != returns(actual):
            problems.append(
                f"{protocol.__name__}.{name} returns {returns(declared)} but the store's returns {returns(actual)}"
            )
    return problems


def uncovered(store: type) -> set[str]:
    """Public methods of `store` that no family of the contract declares."""
    declared = {name for family in FAMILIES for name in methods_of(family)}
    public = {
        name for name in dir(store) if not name.startswith("_") and callable(getattr(store, name))
    }
    return public - declared - NOT_CONTRACT


@pytest.mark.parametrize("store", STORES, ids=lambda store: store.__name__)
@pytest.mark.parametrize("family", FAMILIES, ids=lambda family: family.__name__)
def test_both_stores_implement_every_method_of_each_family(store: type, family: type) -> None:
    assert methods_of(family), f"{family.__name__} declares no methods"
    assert mismatches(store, family) == []


@pytest.mark.parametrize("store", STORES, ids=lambda store: store.__name__)
def test_every_public_method_of_either_store_is_in_the_contract(store: type) -> None:
    assert uncovered(store) == set()


def test_each_method_belongs_to_one_family_and_says_what_it_does() -> None:
    seen: dict[str, str] = {}
    for family in FAMILIES:
        for name, method in methods_of(family).items():
            assert name not in seen, f"{name} is in both {seen[name]} and {family.__name__}"
            seen[name] = family.__name__
            doc = inspect.getdoc(method) or ""
            assert doc and "\n" not in doc, f"{family.__name__}.{name} needs a one-line docstring"
    assert methods_of(StoreContract) == {}, "StoreContract only combines the families"


def test_the_store_has_the_attributes_the_contract_names(tmp_path: Path) -> None:
    store = Store(database_in(tmp_path, "contract"))
    for family in FAMILIES:
        for name in inspect.get_annotations(family):
            assert hasattr(store, name), f"{family.__name__}.{name} is missing"
    assert store.path == shown(database_in(tmp_path, "contract"))  # a URL's password hidden
    with store.transaction():  # the context manager the contract promises
        store.ensure_organisation("org", "Org", "2024-01-01T00:00:00+00:00")
    assert store.organisation_name("org") == "Org"


def test_a_store_that_drifts_from_the_contract_is_caught() -> None:
    class Drifted(Store):
        def pins(self, programme_id: str, *, include_past: bool = False) -> dict[str, str]:
            """A parameter the contract does not have."""
            return {}

        def case(self, case_id: str) -> dict[str, Any] | None:
            """A parameter of another type."""
            return None

        def award_totals(self, programme_id: str) -> dict[str, int]:
            """Another return type."""
            return {}

        def archive_case(self, case_id: int) -> None:
            """A public method the contract does not name."""

        @contextmanager
        def transaction(self, *, immediate: bool = True) -> Any:
            """A transaction that takes a parameter."""
            yield

    problems = [p for family in FAMILIES for p in mismatches(Drifted, family)]
    for name in ("ScheduleStore.pins", "CaseStore.case", "MoneyStore.award_totals"):
        assert any(p.startswith(name) for p in problems), (name, problems)
    assert any(p.startswith("TransactionStore.transaction") for p in problems)
    assert uncovered(Drifted) == {"archive_case"}


def test_a_method_missing_from_the_store_is_caught() -> None:
    class Reminders(Protocol):
        def snooze_reminder(self, reminder_id: int, until: str) -> None:
            """A method the store does not have."""

    assert mismatches(Store, Reminders) == ["Reminders.snooze_reminder is missing"]
