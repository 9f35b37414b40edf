"""A migration that has shipped never changes, and new ones go at the end.

A fresh database takes the migrations in whatever order the list has them, so the schema tests
cannot see a new migration put before an old one, or an old one edited: a deployment upgrading
from the previous version would then skip a step or run one twice. tests/data/migrations_shipped.txt
holds a digest of each migration as shipped.
"""

from __future__ import annotations

import hashlib

from engine.store.migrations import MIGRATIONS, postgres_migration, sqlite_migration

from .conftest import ROOT

SHIPPED = ROOT / "tests" / "data" / "migrations_shipped.txt"


def digest(number: int) -> str:
    """A short digest of one migration's texts for both databases."""
    text = sqlite_migration(number) + "\0" + postgres_migration(number)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def test_no_shipped_migration_changed_and_new_ones_are_at_the_end() -> None:
    recorded = dict(
        line.split() for line in SHIPPED.read_text("utf-8").splitlines() if line and line[0] != "#"
    )
    for number, was in sorted(recorded.items(), key=lambda kv: int(kv[0])):
        assert int(number) <= len(MIGRATIONS), f"migration {number} has shipped: it cannot be taken out"  # fmt: skip
        assert digest(int(number)) == was, (
            f"migration {number} has shipped and has changed (or a new one was put before it): "
            "put the change in a new migration at the end of MIGRATIONS"
        )
    new = [f"{n} {digest(n)}" for n in range(len(recorded) + 1, len(MIGRATIONS) + 1)]
    assert not new, f"append these lines to {SHIPPED.name}: " + "; ".join(new)
