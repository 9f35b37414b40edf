"""Staff and what they may do: roles scoped to programmes (and a caseworker's to a provider
organisation), accounts switched off, and the service log of changes that belong to no one
case (staff, retention, publishing).
"""

from __future__ import annotations

import json
from typing import Any

from engine.store.connection import Connection


class StaffTables(Connection):
    """Reads and writes of `staff_roles`, `users.disabled_at` and `service_log`."""

    def grant_role(self, user_id: int, role: str, programme_id: str | None,
                   organisation_id: str | None, granted_by: str, now: str) -> bool:  # fmt: skip
        """Give a person a role (in one programme, or every programme when None); False if held."""
        # ON CONFLICT rather than catching the clash: PostgreSQL abandons a transaction on error
        cur = self.execute(
            "INSERT INTO staff_roles (user_id, role, programme_id, organisation_id, granted_by, "
            "granted_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (user_id, role, programme_id, organisation_id, granted_by, now),
        )
        return cur.rowcount == 1

    def revoke_role(self, role_id: int) -> dict[str, Any] | None:
        """Take away one role a person holds; the role as it was, or None if there was none."""
        rows = self._rows("SELECT * FROM staff_roles WHERE id = ?", (role_id,))
        if rows:
            self.execute("DELETE FROM staff_roles WHERE id = ?", (role_id,))
        return rows[0] if rows else None

    def roles_of(self, user_id: int) -> list[dict[str, Any]]:
        """Every role a person holds, with where it applies."""
        return self._rows(
            "SELECT * FROM staff_roles WHERE user_id = ? ORDER BY role, programme_id, organisation_id",
            (user_id,),
        )

    def staff(self) -> list[dict[str, Any]]:
        """Everyone who is not an applicant, by name: staff accounts, live or switched off."""
        return self._rows(
            "SELECT id, email, name, role, organisation_id, disabled_at, confirmed_at, "
            "password_hash IS NOT NULL AS has_password, created_at FROM users "
            "WHERE role <> 'applicant' ORDER BY lower(name), id"
        )

    def staff_roles(self) -> list[dict[str, Any]]:
        """Every staff role held, by person."""
        return self._rows("SELECT * FROM staff_roles ORDER BY user_id, role, programme_id")

    def role_addresses(self, role: str, programme_id: str | None,
                       organisation_id: str | None = None) -> list[str]:  # fmt: skip
        """The email addresses of live accounts holding a role in a programme (or an organisation)."""
        sql = (
            "SELECT DISTINCT u.email FROM staff_roles r JOIN users u ON u.id = r.user_id "
            "WHERE r.role = ? AND u.disabled_at IS NULL"
        )
        params: list[Any] = [role]
        if programme_id is not None:
            sql += " AND (r.programme_id = ? OR r.programme_id IS NULL)"
            params.append(programme_id)
        if organisation_id is not None:
            sql += " AND r.organisation_id = ?"
            params.append(organisation_id)
        return [
            str(r[0]) for r in self.execute(sql + " ORDER BY u.email", tuple(params)).fetchall()
        ]

    def set_user_role(self, user_id: int, role: str, now: str) -> None:
        """Set the account's main role: the home page it lands on after signing in."""
        self.execute("UPDATE users SET role = ?, updated_at = ? WHERE id = ?", (role, now, user_id))

    def set_user_organisation(self, user_id: int, organisation_id: str, now: str) -> None:
        """Set the organisation a staff account works for (a caseworker's provider)."""
        self.execute(
            "UPDATE users SET organisation_id = ?, updated_at = ? WHERE id = ?",
            (organisation_id, now, user_id),
        )

    def link_work_account(self, user_id: int, work_account: str | None, now: str) -> None:
        """Remember the work account a staff account signs in with (None: forget it)."""
        self.execute(
            "UPDATE users SET work_account = ?, updated_at = ? WHERE id = ?",
            (work_account, now, user_id),
        )

    def disable_user(self, user_id: int, now: str) -> bool:
        """Switch an account off (it signs nobody in); False if it was already off."""
        cur = self.execute(
            "UPDATE users SET disabled_at = ?, updated_at = ? WHERE id = ? AND disabled_at IS NULL",
            (now, now, user_id),
        )
        return cur.rowcount == 1

    def enable_user(self, user_id: int, now: str) -> bool:
        """Switch an account back on; False if it was not off."""
        cur = self.execute(
            "UPDATE users SET disabled_at = NULL, updated_at = ? WHERE id = ? AND disabled_at IS NOT NULL",
            (now, user_id),
        )
        return cur.rowcount == 1

    def log_service(self, at: str, actor_role: str, actor_id: str | None, action: str, *,
                    programme_id: str | None = None, subject: str | None = None,
                    detail: dict[str, Any] | None = None) -> None:  # fmt: skip
        """Append one change that belongs to no single case to the service log."""
        self.execute(
            "INSERT INTO service_log (at, actor_role, actor_id, action, programme_id, subject, detail) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (at, actor_role, actor_id, action, programme_id, subject,
             json.dumps(detail or {}, sort_keys=True)),
        )  # fmt: skip

    def service_log(self, *, subject: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
        """The newest entries of the service log first, about one subject if given."""
        sql, params = "SELECT * FROM service_log", []
        if subject is not None:
            sql += " WHERE subject = ?"
            params.append(subject)
        rows = self._rows(sql + " ORDER BY id DESC LIMIT ?", (*params, limit))
        return [{**r, "detail": json.loads(r["detail"])} for r in rows]
