"""The typed interface of organisations in the store (see `engine.store.organisations`)."""

from __future__ import annotations

from typing import Any, Protocol


class OrganisationStore(Protocol):
    """Organisations, known once by their charity or company number and by their name."""

    def ensure_organisation(self, org_id: str, name: str, now: str) -> None:
        """Record an organisation the first time it is seen."""

    def organisation_name(self, organisation_id: str) -> str | None:
        """An organisation's name."""

    def organisation_names(self) -> dict[str, str]:
        """Organisation id → name."""

    def organisation(self, organisation_id: str) -> dict[str, Any] | None:
        """One organisation: its id, name, charity and company numbers (None when not known)."""

    def organisations_named(self, name: str) -> list[dict[str, Any]]:
        """The organisations whose name is this one, written however (`name_key`), oldest first."""

    def organisation_with_number(self, register: str, number: str) -> str | None:
        """The organisation holding this charity or company number (`register`), if any."""

    def set_organisation_number(self, organisation_id: str, register: str, number: str) -> str | None:  # fmt: skip
        """Record an organisation's charity or company number, unless another holds it: then its id."""
