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
# the audit rows of erasing or removing a case's personal data (engine.runtime.privacy)
ERASING = "a.action = 'personal_data_erased' OR a.action LIKE 'retention_%'"


class KeptFigureTables(Connection):
    """Reads and writes of `kept_figures`."""

    def kept_figures(self, key: str) -> tuple[int, bytes] | None:
        """The figures kept under a key and the audit row they are up to date with, if any."""
        row = self.execute(
            "SELECT checked, body FROM kept_figures WHERE key = ?", (key,)
        ).fetchone()
        return None if row is None else (int(row[0]), bytes(row[1]))

    def keep_figures(self, programme_id: str, key: str, checked: int, body: bytes, now: str) -> bool:  # fmt: skip
        """Keep a programme's figures as of audit row `checked`, unless newer ones are kept or a case was erased since; whether kept."""
        # figures nobody has kept for FORGET_AFTER go (pages asked once, for dates since changed)
        cutoff = (datetime.fromisoformat(now) - FORGET_AFTER).isoformat()
        self.execute("DELETE FROM kept_figures WHERE kept_at < ?", (cutoff,))
        # one statement, so two processes keeping the same figures at once cannot interleave,
        # and figures worked out before an erasure (which let them go) cannot come back after it
        cur = self.execute(
            "INSERT INTO kept_figures (key, checked, kept_at, body) SELECT ?, ?, ?, ? WHERE NOT EXISTS "
            "(SELECT 1 FROM audit a JOIN cases c ON c.id = a.case_id WHERE a.id > ? "
            f"AND c.programme_id = ? AND ({ERASING})) "
            "ON CONFLICT (key) DO UPDATE SET checked = excluded.checked, kept_at = excluded.kept_at, "
            "body = excluded.body WHERE kept_figures.checked <= excluded.checked",
            (key, checked, now, body, checked, programme_id),
        )
        return cur.rowcount == 1


def forget_programme_figures(store: Connection, case_id: int) -> None:
    """Let go of every figure kept for a case's programme (its personal data is being erased or
    removed: what was worked out from it must not outlive it)."""
    programme = store.execute("SELECT programme_id FROM cases WHERE id = ?", (case_id,)).fetchone()
    if programme is not None:
        store.execute(
            "DELETE FROM kept_figures WHERE key = ? OR key LIKE ?",
            (f"people:{programme[0]}", f'kpis:["{programme[0]}",%'),
        )
