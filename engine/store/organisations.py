"""Organisations, each known once: by its Charity Commission or Companies House number (two
organisations cannot hold the same one) and by its name as people write it (`name_key`).

Numbers arrive already checked and written the one way (engine.forms.organisation_numbers);
the store keeps them unique. A name is matched by its key, so "Demo Community Trust Ltd." and
"demo community trust" are the same name; two organisations may still share a name (existing
data, or two towns' "Community Centre"), so the key is looked up, never made unique.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from engine.store.connection import Connection

REGISTERS = ("charity", "company")  # the columns `charity_number` and `company_number`
# Words of a legal form at the end of a name, dropped as Companies House's "same as" rule drops
# them: "Demo Community Trust Ltd." is the organisation "Demo Community Trust" writing its form.
_LEGAL_FORMS = (
    "limited",
    "ltd",
    "plc",
    "llp",
    "cic",
    "cio",
    "scio",
    "inc",
    "incorporated",
    "community interest company",
    "charitable incorporated organisation",
)
_ENDING = re.compile(r"(?:\s+(?:" + "|".join(re.escape(w) for w in _LEGAL_FORMS) + r"))+$")


def name_key(name: str) -> str:
    """An organisation's name as compared: no case, accents, punctuation, "The" or "Ltd" (`_LEGAL_FORMS`)."""
    text = unicodedata.normalize("NFKD", name).casefold()
    text = "".join(c for c in text if not unicodedata.combining(c)).replace("&", " and ")
    words = " ".join(re.sub(r"[\W_]+", " ", text).split())
    words = words.removeprefix("the ") if words != "the" else words
    # a name that is nothing but a legal form ("Limited") keeps its words
    return _ENDING.sub("", " " + words).strip() or words


class OrganisationTables(Connection):
    """Reads and writes of `organisations`."""

    def ensure_organisation(self, org_id: str, name: str, now: str) -> None:
        """Record an organisation the first time it is seen."""
        self.write(
            "INSERT INTO organisations (id, name, created_at, name_key) VALUES (?, ?, ?, ?) "
            "ON CONFLICT DO NOTHING",
            (org_id, name, now, name_key(name)),
        )

    def organisation_name(self, organisation_id: str) -> str | None:
        """An organisation's name."""
        row = self.execute(
            "SELECT name FROM organisations WHERE id = ?", (organisation_id,)
        ).fetchone()
        return row[0] if row else None

    def organisation_names(self) -> dict[str, str]:
        """Organisation id → name."""
        return dict(self.execute("SELECT id, name FROM organisations").fetchall())

    def organisation(self, organisation_id: str) -> dict[str, Any] | None:
        """One organisation: its id, name, charity and company numbers (None when not known)."""
        rows = self._rows(
            "SELECT id, name, charity_number, company_number, created_at FROM organisations "
            "WHERE id = ?",
            (organisation_id,),
        )
        return rows[0] if rows else None

    def organisations_named(self, name: str) -> list[dict[str, Any]]:
        """The organisations whose name is this one, written however (`name_key`), oldest first."""
        with self.transaction():
            # organisations recorded before names had keys get theirs the first time one is asked
            for org_id, old in self.execute(
                "SELECT id, name FROM organisations WHERE name_key IS NULL"
            ).fetchall():
                self.execute(
                    "UPDATE organisations SET name_key = ? WHERE id = ?", (name_key(old), org_id)
                )
            return self._rows(
                "SELECT id, name, charity_number, company_number, created_at FROM organisations "
                "WHERE name_key = ? ORDER BY created_at, id",
                (name_key(name),),
            )

    def organisation_with_number(self, register: str, number: str) -> str | None:
        """The organisation holding this charity or company number (`register`), if any."""
        column = _column(register)
        row = self.execute(f"SELECT id FROM organisations WHERE {column} = ?", (number,)).fetchone()
        return row[0] if row else None

    def set_organisation_number(self, organisation_id: str, register: str, number: str) -> str | None:  # fmt: skip
        """Record an organisation's charity or company number, unless another holds it: then its id."""
        column = _column(register)
        with self.transaction():
            # asked first, in the one writer's transaction: a clash is an answer to refuse, and
            # PostgreSQL would abandon the whole transaction on the unique index's error
            holder = self.organisation_with_number(register, number)
            if holder is not None and holder != organisation_id:
                return holder
            self.execute(
                f"UPDATE organisations SET {column} = ? WHERE id = ?", (number, organisation_id)
            )
        return None


def _column(register: str) -> str:
    """The column a register's numbers are kept in (only ever one of two fixed names)."""
    if register not in REGISTERS:
        raise ValueError(f'there is no register "{register}": it is one of {", ".join(REGISTERS)}')
    return f"{register}_number"
