"""The typed interface of programme drafts and versions' files in the store (see `engine.store.drafts`)."""

from __future__ import annotations

from typing import Any, Protocol


class DraftStore(Protocol):
    """Drafts of programmes edited in the browser, and the files each published version was built from."""

    def create_draft(self, programme_id: str, purpose: str, main_file: str, files: dict[str, str],
                     base_version: str | None, by: str, now: str) -> int:  # fmt: skip
        """Start a draft of a programme's files; its id."""

    def draft(self, draft_id: int) -> dict[str, Any] | None:
        """One draft with its files."""

    def drafts(self, programme_ids: list[str] | None, *, open_only: bool = True) -> list[dict[str, Any]]:  # fmt: skip
        """Drafts of the given programmes (every programme when None), newest saved first."""

    def save_draft(self, draft_id: int, files: dict[str, str], main_file: str, revision: int,
                   by: str, now: str) -> bool:  # fmt: skip
        """Save a draft's files over `revision`; False when someone saved it since, or it is closed."""

    def close_draft(self, draft_id: int, revision: int, now: str,
                    published_version: str | None = None) -> bool:  # fmt: skip
        """Mark a draft published or discarded; False when saved since `revision` or closed already."""

    def keep_version_files(self, programme_id: str, version: str, files: dict[str, str],
                           by: str | None) -> None:  # fmt: skip
        """Keep the files a published version was built from, and who published it, if not kept."""

    def version_files(self, programme_id: str, version: str) -> dict[str, str] | None:
        """The files a published version was built from (None when they were not kept)."""
