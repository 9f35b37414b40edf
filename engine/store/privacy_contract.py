"""What callers may rely on in a store about data-protection duties: retention, erasure and
subject access reads (`PrivacyStore`). Part of `engine.store.contract`.
"""

from __future__ import annotations

from typing import Any, Protocol


class PrivacyStore(Protocol):
    """Cases retention reaches, content removed or erased, erasures noted, one person's rows read."""

    def retention_cases(
        self,
        programme_id: str,
        workflow: str,
        states: list[str] | None,
        never_submitted: bool,
        then: str,
    ) -> list[dict[str, Any]]:
        """Cases a retention rule may reach: of the workflow, in the states, not yet dealt with."""

    def remove_case_content(self, case_id: int, now: str) -> dict[str, int]:
        """Delete a case's answers, uploads, record drafts and pending reminders; rows removed."""

    def erase_case_answers(
        self,
        case_id: int,
        kept: dict[tuple[str, int], dict[str, Any]],
        upload_questions: list[str],
        now: str,
    ) -> dict[str, int]:
        """Write anonymised answers over a case's, delete those uploads, mark it erased; rows changed."""

    def cases_about(self, subject: str) -> list[dict[str, Any]]:
        """Every case about one person (their subject identifier), oldest first."""

    def cases_acted_on_by(self, actor_id: str) -> list[dict[str, Any]]:
        """Every case someone took any action on (their id in its audit log), oldest first."""

    def uploads_of(self, case_id: int) -> list[dict[str, Any]]:
        """A case's uploaded files: their names, sizes and questions (never their content)."""

    def messages_to(self, address: str) -> list[dict[str, Any]]:
        """Every message queued for one address, oldest first, with its case if it had one."""

    def erase_account(self, user_id: int, email: str, now: str) -> dict[str, int]:
        """Switch an account off under a made-up address and forget what names it; rows changed."""

    def record_erasure(self, kind: str, digest: str, at: str, cases: int) -> None:
        """Note that a person or an account (known only by a digest) was erased."""

    def erasure(self, digest: str) -> dict[str, Any] | None:
        """The first erasure of whoever this digest names, if any."""

    def erased_digests(self) -> set[str]:
        """The digest of every erased account's address (history hides those actors)."""
