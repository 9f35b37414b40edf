"""Programmes edited in the browser: drafts (files being edited, with who saved them and when)
and the files each published version was built from.
"""

from __future__ import annotations

import json
from typing import Any

from engine.store.connection import Connection

_LISTED = (
    "id, programme_id, purpose, main_file, base_version, revision, created_by, created_at, "
    "saved_by, saved_at, published_version, published_at, closed_at"
)


class DraftTables(Connection):
    """Reads and writes of `programme_drafts` and `programme_versions.files`."""

    def create_draft(self, programme_id: str, purpose: str, main_file: str, files: dict[str, str],
                     base_version: str | None, by: str, now: str) -> int:  # fmt: skip
        """Start a draft of a programme's files; its id."""
        new = self._returning_id(
            "INSERT INTO programme_drafts (programme_id, purpose, main_file, files, base_version, "
            "revision, created_by, created_at, saved_by, saved_at) "
            "VALUES (?, ?, ?, ?, ?, 1, ?, ?, ?, ?) RETURNING id",
            (programme_id, purpose, main_file, json.dumps(files), base_version, by, now, by, now),
        )
        assert new is not None  # an insert without a conflict clause inserts or raises
        return new

    def draft(self, draft_id: int) -> dict[str, Any] | None:
        """One draft with its files."""
        rows = self._rows(
            f"SELECT {_LISTED}, files FROM programme_drafts WHERE id = ?", (draft_id,)
        )
        if not rows:
            return None
        row = rows[0]
        row["files"] = json.loads(row["files"])
        return row

    def drafts(self, programme_ids: list[str] | None, *, open_only: bool = True) -> list[dict[str, Any]]:  # fmt: skip
        """Drafts of the given programmes (every programme when None), newest saved first, without
        their files; only those neither published nor discarded when `open_only`."""
        where, params = [], []
        if programme_ids is not None:
            if not programme_ids:
                return []
            where.append(f"programme_id IN ({', '.join('?' * len(programme_ids))})")
            params.extend(programme_ids)
        if open_only:
            where.append("published_version IS NULL AND closed_at IS NULL")
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        return self._rows(
            f"SELECT {_LISTED} FROM programme_drafts{clause} ORDER BY saved_at DESC, id DESC",
            tuple(params),
        )

    def save_draft(self, draft_id: int, files: dict[str, str], main_file: str, revision: int,
                   by: str, now: str) -> bool:  # fmt: skip
        """Save a draft's files over `revision`; False when someone saved it since, or it is
        published or discarded (nothing is written then)."""
        cur = self.execute(
            "UPDATE programme_drafts SET files = ?, main_file = ?, revision = revision + 1, "
            "saved_by = ?, saved_at = ? WHERE id = ? AND revision = ? "
            "AND published_version IS NULL AND closed_at IS NULL",
            (json.dumps(files), main_file, by, now, draft_id, revision),
        )
        return cur.rowcount == 1

    def close_draft(self, draft_id: int, revision: int, now: str,
                    published_version: str | None = None) -> bool:  # fmt: skip
        """Mark a draft published (with the version it made) or discarded; False when it was
        saved since `revision` or is closed already."""
        cur = self.execute(
            "UPDATE programme_drafts SET published_version = ?, published_at = ?, closed_at = ? "
            "WHERE id = ? AND revision = ? AND published_version IS NULL AND closed_at IS NULL",
            (published_version, now if published_version else None, now, draft_id, revision),
        )
        return cur.rowcount == 1

    def keep_version_files(self, programme_id: str, version: str, files: dict[str, str],
                           by: str | None) -> None:  # fmt: skip
        """Keep the files a published version was built from, and who published it, if not kept."""
        self.execute(
            "UPDATE programme_versions SET files = ?, published_by = coalesce(published_by, ?) "
            "WHERE programme_id = ? AND version = ? AND files IS NULL",
            (json.dumps(files), by, programme_id, version),
        )

    def version_files(self, programme_id: str, version: str) -> dict[str, str] | None:
        """The files a published version was built from (None when they were not kept)."""
        row = self.execute(
            "SELECT files FROM programme_versions WHERE programme_id = ? AND version = ?",
            (programme_id, version),
        ).fetchone()
        return json.loads(row[0]) if row and row[0] else None
