"""What callers may rely on in a store about people: accounts and sign-in (`AccountStore`),
and staff roles with the service log (`StaffStore`). Part of `engine.store.contract`.
"""

from __future__ import annotations

from typing import Any, Protocol


class AccountStore(Protocol):
    """People who sign in, password resets, sign-in failures, kept answers and uploads."""

    def create_user(
        self,
        email: str,
        password_hash: str | None,
        name: str,
        role: str,
        organisation_id: str | None,
        now: str,
        *,
        confirmed: bool = True,
    ) -> int:
        """Add a person who can sign in; raises EmailTaken if an account already uses the email."""

    def has_people(self) -> bool:
        """Whether anyone has an account yet (a demo goes only into an empty database)."""

    def confirm_user(self, user_id: int, now: str) -> None:
        """Note that the person has shown the email address is theirs."""

    def user_by_email(self, email: str) -> dict[str, Any] | None:
        """The person with this email address (any case), if any."""

    def user(self, user_id: int) -> dict[str, Any] | None:
        """One person by id."""

    def set_password(self, user_id: int, password_hash: str, now: str) -> None:
        """Replace a person's password hash."""

    def users_in_organisation(self, organisation_id: str) -> list[dict[str, Any]]:
        """The people who share an organisation's cases."""

    def addresses(self, role: str, organisation_id: str | None = None) -> list[str]:
        """The email addresses of the people who hold a role (in an organisation, if given)."""

    def add_password_reset(self, user_id: int, token_hash: str, expires_at: str, now: str) -> None:
        """Record a reset token (its hash only) that expires at `expires_at`."""

    def password_reset(self, token_hash: str) -> dict[str, Any] | None:
        """The reset with this token hash, used or not."""

    def use_password_reset(self, reset_id: int, now: str) -> bool:
        """Mark a reset used, once: False if it was already used."""

    def record_sign_in_failure(self, email: str, address: str, at: str) -> None:
        """Note a failed sign-in for this email address from this network address."""

    def sign_in_failures(
        self, since: str, *, email: str | None = None, address: str | None = None
    ) -> list[str]:
        """When sign-ins failed since a moment, oldest first: for an email, from an address, or both."""

    def clear_sign_in_failures(self, email: str) -> None:
        """Forget failed sign-ins once the person has signed in."""

    def keep_answers(
        self, token: str, path: str, data: str, at: str, forget_before: str, user_id: int
    ) -> None:
        """Keep a page's posted answers for one person under a token (and drop any kept too long)."""

    def kept_answers(self, token: str, path: str, since: str, user_id: int) -> str | None:
        """The answers this person's browser kept under this token for this page, if not too old."""

    def kept_count(self, user_id: int, since: str) -> int:
        """How many pages of answers were kept for a person since a moment."""

    def add_session(self, session_id: str, user_id: int, now: str) -> None:
        """Record a signed-in session, so the server can end it."""

    def session_user(self, session_id: str) -> dict[str, Any] | None:
        """The person a session belongs to, if the session has not been ended."""

    def session_user_and_roles(self, session_id: str) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:  # fmt: skip
        """As `session_user`, with the person's roles (as `roles_of`), in one round trip."""

    def end_session(self, session_id: str, now: str) -> None:
        """End one session (signing out): its cookie no longer signs anyone in."""

    def end_sessions(self, user_id: int, now: str) -> None:
        """End every session of a person (a new password, an account disabled)."""

    def forget_kept(self, token: str) -> None:
        """Drop kept answers once they are saved."""

    def add_upload(self, row: dict[str, Any], content: bytes) -> None:
        """Keep an uploaded file: its random id, case, question, name, size, kind, and its bytes."""

    def upload(self, upload_id: str) -> dict[str, Any] | None:
        """One uploaded file's record (without its bytes)."""

    def upload_content(self, upload_id: str) -> bytes | None:
        """An uploaded file's bytes (None if they were kept on disk by an older version)."""

    def uploads_on_disk(self) -> list[dict[str, Any]]:
        """The uploads whose bytes an older version kept on disk: id, name on disk, name, size."""

    def keep_upload_content(self, upload_id: str, content: bytes) -> bool:
        """Put a file kept on disk into the database (never over one already there); whether it was."""


class StaffStore(Protocol):
    """Staff roles scoped to programmes, accounts switched off, and the service log."""

    def grant_role(self, user_id: int, role: str, programme_id: str | None,
                   organisation_id: str | None, granted_by: str, now: str) -> bool:  # fmt: skip
        """Give a person a role (in one programme, or every programme when None); False if held."""

    def revoke_role(self, role_id: int) -> dict[str, Any] | None:
        """Take away one role a person holds; the role as it was, or None if there was none."""

    def roles_of(self, user_id: int) -> list[dict[str, Any]]:
        """Every role a person holds, with where it applies."""

    def staff(self) -> list[dict[str, Any]]:
        """Everyone who is not an applicant, by name: staff accounts, live or switched off."""

    def staff_roles(self) -> list[dict[str, Any]]:
        """Every staff role held, by person."""

    def role_addresses(self, role: str, programme_id: str | None,
                       organisation_id: str | None = None) -> list[str]:  # fmt: skip
        """The email addresses of live accounts holding a role in a programme (or an organisation)."""

    def set_user_role(self, user_id: int, role: str, now: str) -> None:
        """Set the account's main role: the home page it lands on after signing in."""

    def set_user_organisation(self, user_id: int, organisation_id: str, now: str) -> None:
        """Set the organisation a staff account works for (a caseworker's provider)."""

    def link_work_account(self, user_id: int, work_account: str | None, now: str) -> None:
        """Remember the work account a staff account signs in with (None: forget it)."""

    def disable_user(self, user_id: int, now: str) -> bool:
        """Switch an account off (it signs nobody in); False if it was already off."""

    def enable_user(self, user_id: int, now: str) -> bool:
        """Switch an account back on; False if it was not off."""

    def log_service(self, at: str, actor_role: str, actor_id: str | None, action: str, *,
                    programme_id: str | None = None, subject: str | None = None,
                    detail: dict[str, Any] | None = None) -> None:  # fmt: skip
        """Append one change that belongs to no single case to the service log."""

    def service_log(self, *, subject: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
        """The newest entries of the service log first, about one subject if given."""
