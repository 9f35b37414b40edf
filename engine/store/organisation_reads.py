"""Reads of one organisation's cases across programmes: its page, its people's cases, their flags
and what is due on them; never writes.
"""

from __future__ import annotations

import json
from typing import Any

from engine.store.connection import Connection


class OrganisationReads(Connection):
    """An organisation's cases (about it or about the people it supports), flags and reminders."""

    def cases_for_organisation(self, organisation_id: str) -> list[dict[str, Any]]:
        """Every case of an organisation, across programmes, newest first."""
        return self._rows(
            "SELECT id, reference, programme_id, workflow, state, role, lot, updated_at FROM cases "
            "WHERE organisation_id = ? AND removed_at IS NULL ORDER BY id DESC",
            (organisation_id,),
        )

    def organisation_cases(self, organisation_id: str) -> list[dict[str, Any]]:
        """An organisation's cases with their subject and flags decoded, newest first."""
        rows = self._rows(
            "SELECT id, reference, programme_id, version, workflow, state, subject, flags, created_at, "
            "updated_at FROM cases WHERE organisation_id = ? AND removed_at IS NULL ORDER BY id DESC",
            (organisation_id,),
        )
        for row in rows:
            row["flags"] = json.loads(row["flags"])
        return rows

    def organisation_case_kinds(self, organisation_id: str) -> list[tuple[str, str, str]]:
        """The (programme, version, workflow) of an organisation's cases about people."""
        return [
            (pid, str(version), workflow)
            for pid, version, workflow in self.execute(
                "SELECT DISTINCT programme_id, version, workflow FROM cases WHERE organisation_id = ? "
                "AND subject IS NOT NULL AND removed_at IS NULL ORDER BY 1, 2, 3",
                (organisation_id,),
            ).fetchall()
        ]

    def organisation_cases_in(
        self, organisation_id: str, scope: list[tuple[str, str, str, list[str]]]
    ) -> list[dict[str, Any]]:
        """An organisation's cases about people of these (programme, version, workflow, states),
        newest first, with the states they entered decoded."""
        terms, params = [], [organisation_id]
        for pid, version, workflow, states in scope:
            if states:
                terms.append(f"(programme_id = ? AND version = ? AND workflow = ? AND state IN ({','.join('?' * len(states))}))")  # fmt: skip
                params += [pid, version, workflow, *states]
        if not terms:
            return []
        rows = self._rows(
            "SELECT id, reference, programme_id, version, workflow, state, entered FROM cases "
            "WHERE organisation_id = ? AND subject IS NOT NULL AND removed_at IS NULL "
            f"AND ({' OR '.join(terms)}) ORDER BY id DESC",
            tuple(params),
        )
        for row in rows:
            row["entered"] = json.loads(row["entered"])
        return rows

    def organisation_flagged(
        self, organisation_id: str, programme_ids: list[str] | None
    ) -> list[dict[str, Any]]:
        """An organisation's cases about people with any flag set (raised or cleared), newest first,
        flags decoded; only of these programmes unless None."""
        sql = (
            "SELECT id, reference, programme_id, version, flags FROM cases WHERE organisation_id = ? "
            # the literal matches the partial index cases_flagged_by_organisation (migration 22)
            "AND flags <> '{}' AND subject IS NOT NULL AND removed_at IS NULL"
        )
        params: list[Any] = [organisation_id]
        if programme_ids is not None:
            if not programme_ids:
                return []
            sql += f" AND programme_id IN ({','.join('?' * len(programme_ids))})"
            params += programme_ids
        rows = self._rows(sql + " ORDER BY id DESC", tuple(params))
        for row in rows:
            row["flags"] = json.loads(row["flags"])
        return rows

    def pending_for_organisation(self, organisation_id: str, until: str) -> list[dict[str, Any]]:
        """Pending reminder rows and checks on an organisation's cases due by `until`, soonest first."""
        rows = self._rows(
            "SELECT r.id, r.kind, r.rule, r.case_id, r.due_at, r.payload, c.reference, c.programme_id, "
            "c.version, c.workflow, c.state, c.subject FROM reminders r JOIN cases c ON c.id = r.case_id "
            "WHERE c.organisation_id = ? AND r.status = 'pending' AND r.due_at <= ? "
            "ORDER BY r.due_at, r.id",
            (organisation_id, until),
        )
        for row in rows:
            row["payload"] = json.loads(row["payload"])
        return rows
