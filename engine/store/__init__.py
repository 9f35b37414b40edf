"""The only SQL: the database (SQLite or PostgreSQL), its migrations, and one set of reads and
writes per table family, written once for both.

Callers (runtime, reporting, scheduler) use `Store`, typed against `StoreContract` where they only
need what every store offers; nothing outside this package opens a connection or writes SQL. May
import only the base modules (errors): the store knows no model, no runtime and no web.
"""

from engine.store.contract import StoreContract
from engine.store.database import Store
from engine.store.dialect import is_postgres, shown
from engine.store.migrations import MIGRATIONS, SCHEMA_VERSION

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "Store", "StoreContract", "is_postgres", "shown"]
