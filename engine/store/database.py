"""`Store`: one database with every table family, the store callers are given.

`Store(target)` opens an SQLite file for a path and PostgreSQL for a `postgresql://` URL (as
pathlib's `Path` gives the flavour of the machine): `SqliteStore` and `PostgresStore` compose
the same table families over their own connection. All SQL lives in this package, one module
per table family, written once for both. What callers may rely on is written down in
`engine.store.contract`. Every user action runs inside one `transaction()`: state, answers,
audit event and money rows commit together or not at all. The audit table refuses updates and
deletes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from engine.store.accounts import AccountTables
from engine.store.assessments import AssessmentTables
from engine.store.cases import CaseTables
from engine.store.dialect import is_postgres
from engine.store.drafts import DraftTables
from engine.store.kept_figures import KeptFigureTables
from engine.store.listing import CaseListing
from engine.store.migrations import MIGRATIONS, SCHEMA_VERSION
from engine.store.money import MoneyTables
from engine.store.organisation_reads import OrganisationReads
from engine.store.organisations import OrganisationTables
from engine.store.panels import PanelTables
from engine.store.privacy import PrivacyTables
from engine.store.programmes import ProgrammeTables
from engine.store.reminders import ReminderTables
from engine.store.reporting import ReportingReads
from engine.store.sqlite import SqliteConnection
from engine.store.staff import StaffTables

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "SqliteStore", "Store"]


class Store(
    ProgrammeTables,
    OrganisationTables,
    CaseTables,
    MoneyTables,
    ReminderTables,
    AccountTables,
    StaffTables,
    PrivacyTables,
    AssessmentTables,
    PanelTables,
    DraftTables,
    ReportingReads,
    KeptFigureTables,
    OrganisationReads,
    CaseListing,
):
    """`Store(target, *, check=True, timeout=5.0)`: the database a path or URL names, opened."""

    def __new__(cls, target: str | Path, *args: Any, **kwargs: Any) -> Store:
        if cls is Store:
            if is_postgres(target):
                # psycopg loads only when a URL asks for it: SQLite starts as fast as ever
                from engine.store.postgres import PostgresStore as cls
            else:
                cls = SqliteStore
        return super().__new__(cls)

    @property
    def kind(self) -> str:
        """Which database this is, in words: "SQLite" or "PostgreSQL"."""
        return "SQLite" if isinstance(self, SqliteStore) else "PostgreSQL"


class SqliteStore(Store, SqliteConnection):
    """One SQLite file (the embedded default: nothing to install or run)."""
