"""`Store`: one SQLite database file with every table family, the store callers are given.

All SQL lives in this package, one module per table family over the `SqliteConnection` base;
`Store` only composes them. What callers may rely on is written down in `engine.store.contract`,
which a PostgreSQL store implements too. Every user action runs inside one `transaction()`:
state, answers, audit event and money rows commit together or not at all. The audit table
refuses updates and deletes.
"""

from __future__ import annotations

from engine.store.accounts import AccountTables
from engine.store.assessments import AssessmentTables
from engine.store.cases import CaseTables
from engine.store.migrations import MIGRATIONS, SCHEMA_VERSION
from engine.store.money import MoneyTables
from engine.store.programmes import ProgrammeTables
from engine.store.reminders import ReminderTables
from engine.store.reporting import ReportingReads

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "Store"]


class Store(
    ProgrammeTables,
    CaseTables,
    MoneyTables,
    ReminderTables,
    AccountTables,
    AssessmentTables,
    ReportingReads,
):
    """One SQLite database file: `Store(path, *, check=True, timeout=5.0)` opens (or creates) it."""
