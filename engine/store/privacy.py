"""Data-protection duties in the database: what retention and erasure remove, and what a subject
access export reads about one person or one account.

The audit log and the service log are append-only, so nothing here deletes or changes a row of
either: a case whose content goes keeps its row (its state and dates still count) with
`removed_at` or `erased_at` set, and an erased account keeps its row under a made-up address.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from engine.store.connection import Connection
from engine.store.kept_figures import forget_programme_figures

# What an erased case's subject becomes: still a case about a person (lists and access rules
# tell those apart by a subject being there), no longer naming one
ERASED_SUBJECT = "erased"
_ERASED_MESSAGE = "This message was removed when personal data was erased."
ERASED_REASON = "(removed when personal data was erased)"


def identity_digest(identifier: str) -> str:
    """What an erasure keeps of the identifier or address it erased: its SHA-256, never the text."""
    return hashlib.sha256(identifier.strip().lower().encode()).hexdigest()


class PrivacyTables(Connection):
    """Reads and writes of `erasures`, `cases.removed_at` and `cases.erased_at`, across families."""

    def retention_cases(self, programme_id: str, workflow: str, states: list[str] | None,
                        never_submitted: bool, then: str) -> list[dict[str, Any]]:  # fmt: skip
        """Cases a retention rule may reach: of the workflow, in the states, not yet dealt with."""
        done = "removed_at" if then == "delete" else "erased_at"
        sql = (
            "SELECT id, reference, programme_id, version, workflow, state, entered, subject, created_at "
            "FROM cases c "
            f"WHERE programme_id = ? AND workflow = ? AND {done} IS NULL"
        )
        params: list[Any] = [programme_id, workflow]
        if states:
            sql += f" AND state IN ({', '.join('?' * len(states))})"
            params += states
        if never_submitted:
            sql += (
                " AND NOT EXISTS (SELECT 1 FROM answers a WHERE a.case_id = c.id "
                "AND a.submitted_at IS NOT NULL)"
            )
        rows = self._rows(sql + " ORDER BY id", tuple(params))
        return [{**r, "entered": json.loads(r["entered"])} for r in rows]

    def remove_case_content(self, case_id: int, now: str) -> dict[str, int]:
        """Delete a case's answers, uploads, record drafts and pending reminders, and mark it
        removed and erased; how many rows of each went."""
        counts = {
            "answers": self.execute("DELETE FROM answers WHERE case_id = ?", (case_id,)).rowcount,
            "uploads": self.execute("DELETE FROM uploads WHERE case_id = ?", (case_id,)).rowcount,
            "record_drafts": self.execute(
                "DELETE FROM record_drafts WHERE case_id = ?", (case_id,)
            ).rowcount,
        }
        counts.update(self._erase_case_fields(case_id, now))
        self.execute("UPDATE cases SET removed_at = ? WHERE id = ?", (now, case_id))
        return counts

    def erase_case_answers(self, case_id: int, kept: dict[tuple[str, int], dict[str, Any]],
                           upload_questions: list[str], now: str) -> dict[str, int]:  # fmt: skip
        """Write each answer set's anonymised data over it (`kept`: (form, record) → data), delete
        uploads to those questions and the record drafts, and mark the case erased; rows changed."""
        changed = 0
        for (form_id, record_no), data in kept.items():
            changed += self.execute(
                "UPDATE answers SET data = ? WHERE case_id = ? AND form_id = ? AND record_no = ?",
                (json.dumps(data), case_id, form_id, record_no),
            ).rowcount
        uploads = 0
        if upload_questions:
            marks = ", ".join("?" * len(upload_questions))
            uploads = self.execute(
                f"DELETE FROM uploads WHERE case_id = ? AND question_id IN ({marks})",
                (case_id, *upload_questions),
            ).rowcount
        drafts = self.execute("DELETE FROM record_drafts WHERE case_id = ?", (case_id,)).rowcount
        return {
            "answers": changed,
            "uploads": uploads,
            "record_drafts": drafts,
            **self._erase_case_fields(case_id, now),
        }

    def _erase_case_fields(self, case_id: int, now: str) -> dict[str, int]:
        """The case's subject, its pending reminders and the messages about it: gone; and the
        figures kept for its programme, worked out from its answers as they were."""
        forget_programme_figures(self, case_id)
        self.execute(
            # the label in lists is the person's (anonymising drops its answer too)
            "UPDATE cases SET subject = CASE WHEN subject IS NULL THEN NULL ELSE ? END, label = NULL, "
            "erased_at = coalesce(erased_at, ?) WHERE id = ?",
            (ERASED_SUBJECT, now, case_id),
        )
        reminders = self.execute(
            "UPDATE reminders SET status = 'cancelled', note = 'personal data erased', done_at = ? "
            "WHERE case_id = ? AND status = 'pending'",
            (now, case_id),
        ).rowcount
        messages = self.execute(
            "UPDATE outbox SET subject = ?, body = ?, "
            "failed_at = CASE WHEN delivered_at IS NULL THEN coalesce(failed_at, ?) ELSE failed_at END, "
            "error = CASE WHEN delivered_at IS NULL THEN coalesce(error, 'personal data erased') "
            "ELSE error END WHERE case_id = ? AND body <> ?",
            (_ERASED_MESSAGE, _ERASED_MESSAGE, now, case_id, _ERASED_MESSAGE),
        ).rowcount
        return {"reminders": reminders, "messages": messages}

    def cases_about(self, subject: str) -> list[dict[str, Any]]:
        """Every case about one person (their subject identifier), oldest first."""
        return self._rows("SELECT * FROM cases WHERE subject = ? ORDER BY id", (subject,))

    def cases_acted_on_by(self, actor_id: str) -> list[dict[str, Any]]:
        """Every case someone took any action on (their id in its audit log), oldest first."""
        return self._rows(
            "SELECT * FROM cases WHERE id IN (SELECT DISTINCT case_id FROM audit WHERE "
            "lower(actor_id) = lower(?)) ORDER BY id",
            (actor_id,),
        )

    def uploads_of(self, case_id: int) -> list[dict[str, Any]]:
        """A case's uploaded files: their names, sizes and questions (never their content)."""
        return self._rows(
            "SELECT form_id, question_id, name, size, kind, uploaded_by, created_at FROM uploads "
            "WHERE case_id = ? ORDER BY created_at, id",
            (case_id,),
        )

    def messages_to(self, address: str) -> list[dict[str, Any]]:
        """Every message queued for one address, oldest first, with its case if it had one."""
        return self._rows(
            "SELECT o.subject, o.body, o.created_at, o.delivered_at, c.reference FROM outbox o "
            "LEFT JOIN cases c ON c.id = o.case_id WHERE lower(o.to_address) = lower(?) ORDER BY o.id",
            (address,),
        )

    def erase_account(self, user_id: int, email: str, now: str) -> dict[str, int]:
        """Switch an account off under a made-up address and name, end its sessions and forget its
        resets, kept answers, failed sign-ins and the messages sent to it; rows changed."""
        placeholder = f"erased-{user_id}@erased.invalid"
        self.execute(
            "UPDATE users SET email = ?, name = 'Erased account', password_hash = NULL, "
            "disabled_at = coalesce(disabled_at, ?), updated_at = ? WHERE id = ?",
            (placeholder, now, now, user_id),
        )
        counts = {
            "sessions": self.execute(
                "UPDATE sessions SET ended_at = ? WHERE user_id = ? AND ended_at IS NULL",
                (now, user_id),
            ).rowcount,
            "password_resets": self.execute(
                "DELETE FROM password_resets WHERE user_id = ?", (user_id,)
            ).rowcount,
            "kept_answers": self.execute(
                "DELETE FROM kept_answers WHERE user_id = ?", (user_id,)
            ).rowcount,
            "sign_in_failures": self.execute(
                "DELETE FROM sign_in_failures WHERE lower(email) = lower(?)", (email,)
            ).rowcount,
            "messages": self.execute(
                "UPDATE outbox SET to_address = ?, subject = ?, body = ? "
                "WHERE lower(to_address) = lower(?)",
                (placeholder, _ERASED_MESSAGE, _ERASED_MESSAGE, email),
            ).rowcount,
        }
        return counts

    def record_erasure(self, kind: str, digest: str, at: str, cases: int) -> None:
        """Note that a person or an account (known only by the digest of what named it) was erased."""
        self.execute(
            "INSERT INTO erasures (at, kind, digest, cases) VALUES (?, ?, ?, ?)",
            (at, kind, digest, cases),
        )

    def erasure(self, digest: str) -> dict[str, Any] | None:
        """The first erasure of whoever this digest names, if any."""
        rows = self._rows("SELECT * FROM erasures WHERE digest = ? ORDER BY id LIMIT 1", (digest,))
        return rows[0] if rows else None

    def erased_digests(self) -> set[str]:
        """The digest of every erased account's address (history hides those actors)."""
        return {
            str(r[0])
            for r in self.execute("SELECT digest FROM erasures WHERE kind = 'account'").fetchall()
        }
