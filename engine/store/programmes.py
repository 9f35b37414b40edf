"""Programme versions: each the normalised document a case is pinned to."""

from __future__ import annotations

import json
from typing import Any

from engine.store.connection import Connection


class ProgrammeTables(Connection):
    """Reads and writes of `programme_versions`."""

    def save_programme_version(
        self, programme_id: str, version: str, data: dict[str, Any], source: str, now: str
    ) -> bool:
        """Register a version; False when it was already registered."""
        cur = self.execute(
            "INSERT INTO programme_versions (programme_id, version, data, source, published_at, seq) "
            "VALUES (?, ?, ?, ?, ?, (SELECT coalesce(max(seq), 0) + 1 FROM programme_versions)) "
            "ON CONFLICT DO NOTHING",
            (programme_id, version, json.dumps(data), source, now),
        )
        return cur.rowcount == 1

    def programme_data(self, programme_id: str, version: str) -> dict[str, Any] | None:
        """The normalised document of one version."""
        row = self.execute(
            "SELECT data FROM programme_versions WHERE programme_id = ? AND version = ?",
            (programme_id, version),
        ).fetchone()
        return json.loads(row[0]) if row else None

    def latest_version(self, programme_id: str) -> str | None:
        """The most recently published version of a programme (in the order published, whatever
        the clock said: a demo seeded at the real time and served on a frozen clock)."""
        row = self.execute(
            "SELECT version FROM programme_versions WHERE programme_id = ? ORDER BY seq DESC LIMIT 1",
            (programme_id,),
        ).fetchone()
        return row[0] if row else None

    def programme_ids(self) -> list[str]:
        """Every programme with at least one published version."""
        return [
            r[0]
            for r in self.execute("SELECT DISTINCT programme_id FROM programme_versions ORDER BY 1")
        ]

    def versions(self, programme_id: str) -> list[dict[str, Any]]:
        """Each version with when it was published and how many cases it has."""
        rows = self.execute(
            "SELECT v.version, v.published_at, v.source, v.published_by, "
            "(SELECT count(*) FROM cases c WHERE c.programme_id = v.programme_id AND c.version = v.version) "
            "FROM programme_versions v WHERE v.programme_id = ? ORDER BY v.seq",
            (programme_id,),
        ).fetchall()
        return [
            {
                "version": r[0],
                "published_at": r[1],
                "source": r[2],
                "published_by": r[3],
                "cases": r[4],
            }
            for r in rows
        ]
