"""Lists of cases a page at a time: searched, filtered and sorted in the database, never in Python.

Every list a person pages through (a programme's cases, an organisation's applications, an
assessor's queue, a caseworker's people) asks `find_cases` for one page and the number that match.
Search is case-insensitive over the reference, the organisation's name and a label question's
answer; the page's extra facts (its label, next date due, who opened it) are read for its rows
alone, so a list of 100,000 cases costs one count and one page.
"""

from __future__ import annotations

import json
from typing import Any

from engine.store.connection import Connection

# what a list may be sorted by: the ORDER BY of each (ties broken by id, so pages never overlap)
SORTS = {
    "newest": "c.id DESC",
    "oldest": "c.id",
    "reference": "c.reference, c.id",
    "changed": "c.updated_at DESC, c.id DESC",
    "organisation": "(o.name IS NULL), lower(o.name), c.id",
}
_NEXT_DUE = (
    "(SELECT min(r.due_at) FROM reminders r WHERE r.case_id = c.id AND r.status = 'pending')"
)
# a case with nothing due goes last: no ISO time sorts after this
SORTS["due"] = f"coalesce({_NEXT_DUE}, '9999'), c.id"


def _like(term: str) -> str:
    """A LIKE pattern matching `term` anywhere, its own % and _ taken literally."""
    escaped = term.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class CaseListing(Connection):
    """One page of a list of cases, with how many match; the SQL both databases take."""

    def find_cases(
        self,
        *,
        scope: list[tuple[str, str | None, str | None]] | None = None,
        organisation_id: str | None = None,
        about_people: bool | None = None,
        workflow: str | None = None,
        state: str | None = None,
        search: str = "",
        labels: list[tuple[str, str, str, str]] | None = None,
        not_conflicted: str | None = None,
        sort: str = "newest",
        limit: int = 25,
        offset: int = 0,
    ) -> tuple[int, list[dict[str, Any]]]:
        """How many cases match, and one page of them with their organisation, label, next due and opener."""
        params: dict[str, Any] = {}
        label_sql, label_params = self._label_sql(labels or [])
        where = self._where(scope, organisation_id, about_people, workflow, state, params)
        if not_conflicted is not None:
            where.append(
                "NOT EXISTS (SELECT 1 FROM assessments a WHERE a.case_id = c.id "
                "AND a.assessor = :assessor AND a.conflict IS NOT NULL)"
            )
            # once a programme's cases are assigned, an assessor sees only those assigned to them
            where.append(
                "(NOT EXISTS (SELECT 1 FROM assignments s WHERE s.programme_id = c.programme_id) "
                "OR EXISTS (SELECT 1 FROM assignments s WHERE s.case_id = c.id "
                "AND s.assessor = :assessor AND s.released_at IS NULL))"
            )
            params["assessor"] = not_conflicted
        if search.strip():
            params["q"] = _like(search.strip())
            found = ["lower(c.reference) LIKE :q ESCAPE '\\'", "lower(o.name) LIKE :q ESCAPE '\\'"]
            if label_params:
                found.append(f"lower({label_sql}) LIKE :q ESCAPE '\\'")
                params.update(label_params)
            where.append("(" + " OR ".join(found) + ")")
        body = "FROM cases c LEFT JOIN organisations o ON o.id = c.organisation_id WHERE " + (
            " AND ".join(where) or "1 = 1"
        )
        total = int(self.execute(f"SELECT count(*) {body}", params).fetchone()[0])
        order = SORTS.get(sort, SORTS["newest"])
        ids = [
            r[0]
            for r in self.execute(
                f"SELECT c.id {body} ORDER BY {order} LIMIT :limit OFFSET :offset",
                {**params, "limit": limit, "offset": offset},
            )
        ]
        return total, self._page(ids, label_sql, label_params)

    def _where(self, scope: list[tuple[str, str | None, str | None]] | None, organisation_id: str | None,
               about_people: bool | None, workflow: str | None, state: str | None,
               params: dict[str, Any]) -> list[str]:  # fmt: skip
        """The filters every list shares, as SQL conditions (their values put in `params`)."""
        where: list[str] = ["c.removed_at IS NULL"]  # content removed by retention: gone from lists
        if scope is not None:
            ors = []
            for i, (programme_id, wf, st) in enumerate(scope):
                parts = [f"c.programme_id = :sp{i}"]
                params[f"sp{i}"] = programme_id
                for column, value, key in (("workflow", wf, "sw"), ("state", st, "ss")):
                    if value is not None:
                        parts.append(f"c.{column} = :{key}{i}")
                        params[f"{key}{i}"] = value
                ors.append("(" + " AND ".join(parts) + ")")
            where.append("(" + (" OR ".join(ors) or "1 = 0") + ")")
        for column, value in (
            ("organisation_id", organisation_id),
            ("workflow", workflow),
            ("state", state),
        ):
            if value is not None:
                where.append(f"c.{column} = :f_{column}")
                params[f"f_{column}"] = value
        if about_people is not None:
            where.append("c.subject IS NOT NULL" if about_people else "c.subject IS NULL")
        return where

    def _label_sql(self, labels: list[tuple[str, str, str, str]]) -> tuple[str, dict[str, Any]]:
        """The answer that labels a case in a list, by its programme and workflow (NULL if none)."""
        params: dict[str, Any] = {}
        if not labels:
            return "NULL", params
        whens = []
        for i, (programme_id, wf, form_id, question) in enumerate(labels):
            params.update(
                {f"lp{i}": programme_id, f"lw{i}": wf, f"lf{i}": form_id, f"lq{i}": question}
            )
            text = self.json_text.format(data="a.data", key=f":lq{i}")
            whens.append(
                f"WHEN c.programme_id = :lp{i} AND c.workflow = :lw{i} THEN (SELECT {text} FROM answers a "
                f"WHERE a.case_id = c.id AND a.form_id = :lf{i} AND a.record_no = 0)"
            )
        return "(CASE " + " ".join(whens) + " END)", params

    def _page(
        self, ids: list[int], label_sql: str, label_params: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """The rows of one page, in the page's order, with the facts a list shows beside each."""
        if not ids:
            return []
        marks = ", ".join(f":id{i}" for i in range(len(ids)))
        rows = self._rows(
            "SELECT c.id, c.reference, c.programme_id, c.version, c.workflow, c.state, c.organisation_id, "
            "c.subject, c.role, c.lot, c.flags, c.created_at, c.updated_at, o.name AS organisation_name, "
            f"{label_sql} AS label, {_NEXT_DUE} AS next_due, "
            "(SELECT u.name FROM audit e JOIN users u ON u.email = e.actor_id WHERE e.case_id = c.id "
            "ORDER BY e.id LIMIT 1) AS opened_by "
            f"FROM cases c LEFT JOIN organisations o ON o.id = c.organisation_id WHERE c.id IN ({marks})",
            {**label_params, **{f"id{i}": case_id for i, case_id in enumerate(ids)}},
        )
        for row in rows:
            row["flags"] = json.loads(row["flags"])
        by_id = {row["id"]: row for row in rows}
        return [by_id[case_id] for case_id in ids if case_id in by_id]
