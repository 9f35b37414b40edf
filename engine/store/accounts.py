"""People who sign in: users, password resets, sign-in failures, answers kept over an expired
session, and uploaded files.
"""

from __future__ import annotations

from typing import Any

from engine.errors import EmailTaken
from engine.store.connection import Connection, dicts


class AccountTables(Connection):
    """Reads and writes of `users`, `password_resets`, `sign_in_failures`, `kept_answers` and `uploads`."""

    def create_user(self, email: str, password_hash: str | None, name: str, role: str,
                    organisation_id: str | None, now: str, *, confirmed: bool = True) -> int:  # fmt: skip
        """Add a person who can sign in; raises EmailTaken if an account already uses the email."""
        # ON CONFLICT rather than catching the clash: PostgreSQL would abandon the whole
        # transaction on the error, and callers must not need to know which database said no
        user_id = self._returning_id(
            "INSERT INTO users (email, password_hash, name, role, organisation_id, created_at, updated_at, "
            "confirmed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (email) DO NOTHING RETURNING id",
            (email.strip().lower(), password_hash, name, role, organisation_id, now, now,
             now if confirmed else None),
        )  # fmt: skip
        if user_id is None:
            raise EmailTaken("an account already uses this email address")
        return user_id

    def has_people(self) -> bool:
        """Whether anyone has an account yet (a demo goes only into an empty database)."""
        return self.execute("SELECT 1 FROM users LIMIT 1").fetchone() is not None

    def confirm_user(self, user_id: int, now: str) -> None:
        """Note that the person has shown the email address is theirs."""
        self.execute(
            "UPDATE users SET confirmed_at = ? WHERE id = ? AND confirmed_at IS NULL",
            (now, user_id),
        )

    def user_by_email(self, email: str) -> dict[str, Any] | None:
        """The person with this email address (any case), if any."""
        rows = self._rows("SELECT * FROM users WHERE email = ?", (email.strip().lower(),))
        return rows[0] if rows else None

    def user(self, user_id: int) -> dict[str, Any] | None:
        """One person by id."""
        rows = self._rows("SELECT * FROM users WHERE id = ?", (user_id,))
        return rows[0] if rows else None

    def set_password(self, user_id: int, password_hash: str, now: str) -> None:
        """Replace a person's password hash."""
        self.execute(
            "UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?",
            (password_hash, now, user_id),
        )

    def users_in_organisation(self, organisation_id: str) -> list[dict[str, Any]]:
        """The people who share an organisation's cases."""
        return self._rows(
            "SELECT id, email, name, role, password_hash IS NOT NULL AS active FROM users "
            "WHERE organisation_id = ? ORDER BY name",
            (organisation_id,),
        )

    def addresses(self, role: str, organisation_id: str | None = None) -> list[str]:
        """The email addresses of the people who hold a role (in an organisation, if given)."""
        sql = "SELECT email FROM users WHERE role = ?"
        params: tuple[str, ...] = (role,)
        if organisation_id is not None:
            sql += " AND organisation_id = ?"
            params = (role, organisation_id)
        return [str(r[0]) for r in self.execute(sql + " ORDER BY email", params).fetchall()]

    def add_password_reset(self, user_id: int, token_hash: str, expires_at: str, now: str) -> None:
        """Record a reset token (its hash only) that expires at `expires_at`."""
        self.execute(
            "INSERT INTO password_resets (user_id, token_hash, expires_at, created_at) VALUES (?, ?, ?, ?)",
            (user_id, token_hash, expires_at, now),
        )

    def password_reset(self, token_hash: str) -> dict[str, Any] | None:
        """The reset with this token hash, used or not."""
        rows = self._rows("SELECT * FROM password_resets WHERE token_hash = ?", (token_hash,))
        return rows[0] if rows else None

    def use_password_reset(self, reset_id: int, now: str) -> bool:
        """Mark a reset used, once: False if it was already used."""
        cur = self.execute(
            "UPDATE password_resets SET used_at = ? WHERE id = ? AND used_at IS NULL",
            (now, reset_id),
        )
        if cur.rowcount == 1:  # one link sets one password: the person's other links stop working
            self.execute(
                "UPDATE password_resets SET used_at = ? WHERE used_at IS NULL AND user_id = "
                "(SELECT user_id FROM password_resets WHERE id = ?)",
                (now, reset_id),
            )
        return cur.rowcount == 1

    def record_sign_in_failure(self, email: str, address: str, at: str) -> None:
        """Note a failed sign-in for this email address from this network address."""
        self.execute(
            "INSERT INTO sign_in_failures (email, address, at) VALUES (?, ?, ?)",
            (email.strip().lower(), address, at),
        )

    def sign_in_failures(
        self, since: str, *, email: str | None = None, address: str | None = None
    ) -> list[str]:
        """When sign-ins failed since a moment, oldest first: for an email, from an address, or both."""
        where, params = ["at >= ?"], [since]
        if email is not None:
            where.append("email = ?")
            params.append(email.strip().lower())
        if address is not None:
            where.append("address = ?")
            params.append(address)
        rows = self.execute(
            f"SELECT at FROM sign_in_failures WHERE {' AND '.join(where)} ORDER BY at",
            tuple(params),
        ).fetchall()
        return [str(r[0]) for r in rows]

    def clear_sign_in_failures(self, email: str) -> None:
        """Forget failed sign-ins once the person has signed in."""
        self.execute("DELETE FROM sign_in_failures WHERE email = ?", (email.strip().lower(),))

    def keep_answers(
        self, token: str, path: str, data: str, at: str, forget_before: str, user_id: int
    ) -> None:
        """Keep a page's posted answers for one person under a token (and drop any kept too long)."""
        with self.transaction():
            self.execute("DELETE FROM kept_answers WHERE created_at < ?", (forget_before,))
            self.execute(
                "INSERT INTO kept_answers (token, path, data, created_at, user_id) VALUES (?, ?, ?, ?, ?)",
                (token, path, data, at, user_id),
            )

    def kept_answers(self, token: str, path: str, since: str, user_id: int) -> str | None:
        """The answers this person's browser kept under this token for this page, if not too old."""
        row = self.execute(
            "SELECT data FROM kept_answers WHERE token = ? AND path = ? AND created_at >= ? AND user_id = ?",
            (token, path, since, user_id),
        ).fetchone()
        return row[0] if row else None

    def kept_count(self, user_id: int, since: str) -> int:
        """How many pages of answers were kept for a person since a moment."""
        row = self.execute(
            "SELECT count(*) FROM kept_answers WHERE user_id = ? AND created_at >= ?",
            (user_id, since),
        ).fetchone()
        return int(row[0])

    def add_session(self, session_id: str, user_id: int, now: str) -> None:
        """Record a signed-in session, so the server can end it."""
        self.execute(
            "INSERT INTO sessions (id, user_id, created_at) VALUES (?, ?, ?)",
            (session_id, user_id, now),
        )

    def session_user(self, session_id: str) -> dict[str, Any] | None:
        """The person a session belongs to, if the session has not been ended."""
        rows = self._rows(
            "SELECT u.* FROM sessions s JOIN users u ON u.id = s.user_id "
            "WHERE s.id = ? AND s.ended_at IS NULL",
            (session_id,),
        )
        return rows[0] if rows else None

    def session_user_and_roles(self, session_id: str) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:  # fmt: skip
        """As `session_user`, with the person's roles (as `roles_of`), in one round trip."""
        user, roles = self._read_together([
            ("SELECT u.* FROM sessions s JOIN users u ON u.id = s.user_id "
             "WHERE s.id = ? AND s.ended_at IS NULL", (session_id,)),
            ("SELECT r.* FROM sessions s JOIN staff_roles r ON r.user_id = s.user_id "
             "WHERE s.id = ? AND s.ended_at IS NULL ORDER BY r.role, r.programme_id, r.organisation_id",
             (session_id,)),
        ])  # fmt: skip
        users, grants = dicts(user), dicts(roles)
        return (users[0] if users else None), grants

    def end_session(self, session_id: str, now: str) -> None:
        """End one session (signing out): its cookie no longer signs anyone in."""
        self.execute(
            "UPDATE sessions SET ended_at = ? WHERE id = ? AND ended_at IS NULL", (now, session_id)
        )

    def end_sessions(self, user_id: int, now: str) -> None:
        """End every session of a person (a new password, an account disabled)."""
        self.execute(
            "UPDATE sessions SET ended_at = ? WHERE user_id = ? AND ended_at IS NULL",
            (now, user_id),
        )

    def forget_kept(self, token: str) -> None:
        """Drop kept answers once they are saved."""
        with self.transaction():
            self.execute("DELETE FROM kept_answers WHERE token = ?", (token,))

    def add_upload(self, row: dict[str, Any], content: bytes) -> None:
        """Keep an uploaded file: its random id, case, question, name, size, kind, and its bytes."""
        # in the database, not on one host's disk: every web host serves every file
        self.execute(
            "INSERT INTO uploads (id, case_id, form_id, question_id, name, size, kind, stored_as, uploaded_by, "
            "created_at, content) VALUES (:id, :case_id, :form_id, :question_id, :name, :size, :kind, "
            ":stored_as, :uploaded_by, :created_at, :content)",
            {**row, "content": content},
        )

    def upload(self, upload_id: str) -> dict[str, Any] | None:
        """One uploaded file's record (without its bytes)."""
        rows = self._rows(
            "SELECT id, case_id, form_id, question_id, name, size, kind, stored_as, uploaded_by, "
            "created_at FROM uploads WHERE id = ?",
            (upload_id,),
        )
        return rows[0] if rows else None

    def upload_content(self, upload_id: str) -> bytes | None:
        """An uploaded file's bytes (None if they were kept on disk by an older version)."""
        row = self.execute("SELECT content FROM uploads WHERE id = ?", (upload_id,)).fetchone()
        return bytes(row[0]) if row and row[0] is not None else None

    def uploads_on_disk(self) -> list[dict[str, Any]]:
        """The uploads whose bytes an older version kept on disk: id, name on disk, name, size."""
        return self._rows(
            "SELECT id, stored_as, name, size FROM uploads WHERE content IS NULL ORDER BY created_at, id"
        )

    def keep_upload_content(self, upload_id: str, content: bytes) -> bool:
        """Put a file kept on disk into the database (never over one already there); whether it was."""
        cur = self.execute(
            "UPDATE uploads SET content = ? WHERE id = ? AND content IS NULL", (content, upload_id)
        )
        return cur.rowcount == 1
