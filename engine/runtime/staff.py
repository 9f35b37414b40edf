"""Staff and their roles: who may commission, assess or do casework, in which programmes, and
who administers the service. Every change is written to the service log: who, when, what.

Nobody gets a role by having an account or by signing in: only an administrator (or the
operator at the command line) grants one.
"""

from __future__ import annotations

from typing import Any

from engine.definition.schema_check import did_you_mean
from engine.errors import ActionRefused, NotFound
from engine.runtime.core import EngineCore

# the roles an administrator grants, in the order pages offer them
STAFF_ROLES = ("admin", "commissioner", "assessor", "caseworker")
ROLE_NAMES = {
    "admin": "Administrator",
    "commissioner": "Commissioner",
    "assessor": "Assessor (panel member)",
    "caseworker": "Caseworker",
}


class StaffService(EngineCore):
    """Add staff, grant and take away roles scoped to programmes, switch accounts off and on."""

    def add_staff(self, email: str, name: str, by: str, *, password_hash: str | None = None) -> int:
        """Create a staff account with no role yet (an invitation); the new account's id."""
        email = email.strip().lower()
        if "@" not in email or email.startswith("@") or email.endswith("@"):
            raise ActionRefused(f"{email or 'that'} is not an email address: enter one like name@council.gov.uk")  # fmt: skip
        if not name.strip():
            raise ActionRefused("Enter the person's name")
        stamp = self.now().isoformat()
        with self.store.transaction():
            # users.role is the account's main audience: staff until a role is granted
            # unconfirmed until they first choose a password or sign in: "invited" till then
            user_id = self.store.create_user(email, password_hash, name.strip(), "staff", None, stamp,
                                             confirmed=False)  # fmt: skip
            self.store.log_service(stamp, "admin", by, "staff added", subject=email,
                                   detail={"name": name.strip()})  # fmt: skip
        return user_id

    def grant(self, user_id: int, role: str, by: str, *, programme_id: str | None = None,
              organisation_id: str | None = None) -> bool:  # fmt: skip
        """Give a person a role in one programme (or every programme); False if they held it."""
        user = self._staff_member(user_id)
        if role not in STAFF_ROLES:
            raise ActionRefused(f'"{role}" is not a staff role{did_you_mean(role, set(STAFF_ROLES))}: '
                                f"choose {', '.join(STAFF_ROLES)}")  # fmt: skip
        if role == "admin":
            programme_id = organisation_id = None  # administering is service-wide
        if programme_id is not None and programme_id not in self.store.programme_ids():
            raise NotFound(f'there is no programme "{programme_id}"'
                           f"{did_you_mean(programme_id, set(self.store.programme_ids()))}")  # fmt: skip
        if role == "caseworker":
            organisation_id = organisation_id or user["organisation_id"]
            if organisation_id is None:
                raise ActionRefused("Choose the provider organisation the caseworker works for")
            if user["organisation_id"] not in (None, organisation_id):
                raise ActionRefused(f"{user['name']} already works for another organisation: "
                                    "a caseworker works for one organisation")  # fmt: skip
            if self.store.organisation_name(organisation_id) is None:
                raise NotFound(f'there is no organisation "{organisation_id}"')
        elif organisation_id is not None:
            raise ActionRefused("Only a caseworker's role belongs to an organisation")
        stamp = self.now().isoformat()
        with self.store.transaction():
            if role == "caseworker" and user["organisation_id"] is None:
                self.store.set_user_organisation(user_id, organisation_id, stamp)
            added = self.store.grant_role(user_id, role, programme_id, organisation_id, by, stamp)
            if user["role"] == "staff":
                self.store.set_user_role(user_id, role, stamp)  # their first role is their home
            if added:
                self.store.log_service(stamp, "admin", by, "role granted", programme_id=programme_id,
                                       subject=user["email"],
                                       detail={"role": role, "organisation_id": organisation_id})  # fmt: skip
        return added

    def revoke(self, user_id: int, role_id: int, by: str) -> dict[str, Any]:
        """Take away one of a person's roles; the last administrator's cannot be."""
        user = self._staff_member(user_id)
        held = next((r for r in self.store.roles_of(user_id) if r["id"] == role_id), None)
        if held is None:
            raise NotFound(f"{user['name']} does not hold that role")
        if held["role"] == "admin" and len(self._admins()) == 1:
            raise ActionRefused("This is the only administrator: make someone else an administrator first")  # fmt: skip
        stamp = self.now().isoformat()
        with self.store.transaction():
            self.store.revoke_role(role_id)
            self.store.log_service(stamp, "admin", by, "role taken away",
                                   programme_id=held["programme_id"], subject=user["email"],
                                   detail={"role": held["role"], "organisation_id": held["organisation_id"]})  # fmt: skip
        return held

    def disable(self, user_id: int, by: str) -> bool:
        """Switch an account off and end its sessions; False if it was already off."""
        user = self._staff_member(user_id)
        if user["email"] == by:
            raise ActionRefused("You cannot switch off your own account: ask another administrator")
        if user["id"] in self._admins() and len(self._admins()) == 1:
            raise ActionRefused("This is the only administrator: make someone else an administrator first")  # fmt: skip
        stamp = self.now().isoformat()
        with self.store.transaction():
            changed = self.store.disable_user(user_id, stamp)
            self.store.end_sessions(user_id, stamp)
            if changed:
                self.store.log_service(stamp, "admin", by, "account switched off", subject=user["email"])  # fmt: skip
        return changed

    def enable(self, user_id: int, by: str) -> bool:
        """Switch an account back on; False if it was on."""
        user = self._staff_member(user_id)
        stamp = self.now().isoformat()
        with self.store.transaction():
            changed = self.store.enable_user(user_id, stamp)
            if changed:
                self.store.log_service(stamp, "admin", by, "account switched on", subject=user["email"])  # fmt: skip
        return changed

    def link_work_account(self, user_id: int, work_account: str) -> bool:
        """Tie a staff account to the work account it first signs in with; False if tied to another."""
        user = self._staff_member(user_id)
        if user["work_account"] == work_account:
            return True
        if user["work_account"] is not None:
            return False
        stamp = self.now().isoformat()
        with self.store.transaction():
            self.store.link_work_account(user_id, work_account, stamp)
            self.store.log_service(stamp, "staff", user["email"], "work account linked", subject=user["email"])  # fmt: skip
        return True

    def forget_work_account(self, user_id: int, by: str) -> bool:
        """Untie a staff account from its work account, so the next one it signs in with is kept."""
        user = self._staff_member(user_id)
        if user["work_account"] is None:
            return False
        stamp = self.now().isoformat()
        with self.store.transaction():
            self.store.link_work_account(user_id, None, stamp)
            self.store.end_sessions(user_id, stamp)
            self.store.log_service(stamp, "admin", by, "work account forgotten", subject=user["email"])  # fmt: skip
        return True

    def staff_list(self) -> list[dict[str, Any]]:
        """Every staff account with the roles it holds, by name."""
        roles: dict[int, list[dict[str, Any]]] = {}
        for grant in self.store.staff_roles():
            roles.setdefault(grant["user_id"], []).append(grant)
        return [{**u, "roles": roles.get(u["id"], [])} for u in self.store.staff()]

    def staff_member(self, user_id: int) -> dict[str, Any]:
        """One staff account, its roles, and what was changed about it, newest first."""
        user = self._staff_member(user_id)
        return {**user, "roles": self.store.roles_of(user_id),
                "changes": self.store.service_log(subject=user["email"], limit=50)}  # fmt: skip

    def _staff_member(self, user_id: int) -> dict[str, Any]:
        user = self.store.user(user_id)
        if user is None or user["role"] == "applicant":
            raise NotFound(f"there is no staff account {user_id}")
        return user

    def _admins(self) -> set[int]:
        """Live accounts that can administer the service."""
        live = {u["id"] for u in self.store.staff() if u["disabled_at"] is None}
        return {r["user_id"] for r in self.store.staff_roles() if r["role"] == "admin"} & live
