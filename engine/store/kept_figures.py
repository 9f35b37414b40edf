"""Figures worked out from every case of a programme, kept in the database between page views
(`kept_figures`): each under its key, with the newest audit row it is up to date with.

They are a cache: any of them may be thrown away (or never written) and worked out again. Every
web process and host reads the same ones; one kept by a process that had brought them further
up to date is never written over by one that had not.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from engine.store.connection import Connection

FORGET_AFTER = timedelta(days=30)  # a page nobody has opened since is worked out again if opened


class KeptFigureTables(Connection):
    """Reads and writes of `kept_figures`."""

    def kept_figures(self, key: str) -> tuple[int, bytes] | None:
        """The figures kept under a key and the audit row they are up to date with, if any."""
        row = self.execute(
            "SELECT checked, body FROM kept_figures WHERE key = ?", (key,)
        ).fetchone()
        return None if row is None else (int(row[0]), bytes(row[1]))

    def keep_figures(self, key: str, checked: int, body: bytes, now: str) -> bool:
        """Keep figures up to date with audit row `checked`, unless newer ones are kept; whether
        they were kept. Figures nobody has kept for FORGET_AFTER are let go."""
        cutoff = (datetime.fromisoformat(now) - FORGET_AFTER).isoformat()
        self.execute("DELETE FROM kept_figures WHERE kept_at < ?", (cutoff,))
        # one statement, so two processes keeping the same figures at once cannot interleave
        cur = self.execute(
            "INSERT INTO kept_figures (key, checked, kept_at, body) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (key) DO UPDATE SET checked = excluded.checked, kept_at = excluded.kept_at, "
            "body = excluded.body WHERE kept_figures.checked <= excluded.checked",
            (key, checked, now, body),
        )
        return cur.rowcount == 1
