"""Lists of cases a page at a time: searched, filtered and sorted in the database, never in Python.

Every list a person pages through (a programme's cases, an organisation's applications, an
assessor's queue, a caseworker's people) asks `find_cases` for one page and the number that match.
Search is case-insensitive over the reference, the organisation's name and a label question's
answer; the page's extra facts (its label, next date due, who opened it) are read for its rows
alone, so a list of 100,000 cases costs one count and one page.

A search reads no case it cannot find: a reference is found by its index (`BHM-0012` is the start
of a reference, `42` the number of one), and a name in the organisations table first (thousands
of rows), whose cases are then read by their indexed organisation. Only a case's label (its label
question's answer, kept on the case: engine.runtime.labels) is compared case by case, and only in
the lists that show one (a caseworker's, within their organisation), without reading answers.
"""

from __future__ import annotations

import json
import re
from typing import Any

from engine.store.connection import Connection
from engine.store.organisations import name_key

_NEXT_DUE = (
    "(SELECT min(r.due_at) FROM reminders r WHERE r.case_id = c.id AND r.status = 'pending')"
)
# what a list may be sorted by: the terms of each ORDER BY, each descending or not (ties broken
# by id, so pages never overlap); a case with nothing due goes last: no ISO time sorts after 9999
_TERMS: dict[str, list[tuple[str, bool]]] = {
    "newest": [("c.id", True)],
    "oldest": [("c.id", False)],
    "reference": [("c.reference", False), ("c.id", False)],
    "changed": [("c.updated_at", True), ("c.id", True)],
    "organisation": [("(o.name IS NULL)", False), ("lower(o.name)", False), ("c.id", False)],
    "due": [(f"coalesce({_NEXT_DUE}, '9999')", False), ("c.id", False)],
}


def _order(sort: str, backwards: bool = False) -> str:
    """The ORDER BY of a sort, or of its exact reverse (every term turned round: the ties are
    broken by id, and each database puts NULLs at the other end when a term is turned)."""
    return ", ".join(f"{e} DESC" if desc != backwards else e for e, desc in _TERMS[sort])


SORTS = {sort: _order(sort) for sort in _TERMS}


def _like(term: str) -> str:
    """A LIKE pattern matching `term` anywhere, its own % and _ taken literally."""
    escaped = term.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


# a search that could be a reference: its letters (the programme's prefix, A to Z), then its digits
_REFERENCE = re.compile(r"([A-Za-z]*)[\s-]*(\d*)", re.ASCII)
_LONGEST_NUMBER = 15  # digits a case's number can have (SQLite's integers stop at 19)
_MOST_NAMED = 500  # organisations a search names by their ids; more are named by a subquery


def _after(start: str) -> str | None:
    """The first text after every reference beginning `start` (capitals, "-" and digits), or None.

    "BHM-0012" gives "BHM-0013", "BHM-0019" "BHM-002" and "BHM-" "BHN": a digit or a letter,
    never a punctuation mark, which a PostgreSQL collation such as en_GB sorts as if absent.
    """
    kept = start.rstrip("9Z-")  # "BHM-0019" goes on after "BHM-001", "ZZ-" after nothing
    return kept[:-1] + chr(ord(kept[-1]) + 1) if kept else None


def _reference_terms(term: str, params: dict[str, Any]) -> list[str]:
    """Conditions on a case's reference that a search names, each read by an index (none if none).

    Letters, with or without digits, are the start of a reference ("bhm 0012" is "BHM-0012…");
    digits alone are a case's number ("42" and "000042" are BHM-000042): a reference's number
    is its case's id (`insert_case`), so the id's index finds it and the reference confirms it.
    """
    match = _REFERENCE.fullmatch(term)
    if match is None:
        return []
    letters, digits = match.group(1).upper(), match.group(2)
    if letters:
        start = f"{letters}-{digits}"
        # LIKE confirms the start whatever the collation; the range is what the index reads
        params.update({"ref_from": start, "ref_start": f"{start}%"})
        bound = ""
        if (after := _after(start)) is not None:
            params["ref_to"] = after
            bound = " AND c.reference < :ref_to"
        return [f"(c.reference >= :ref_from{bound} AND c.reference LIKE :ref_start)"]
    if digits and len(digits) <= _LONGEST_NUMBER:
        number = int(digits)
        params.update({"ref_no": number, "ref_end": f"%-{number:06d}"})
        return ["(c.id = :ref_no AND c.reference LIKE :ref_end)"]
    return []


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
        labels: bool = False,
        not_conflicted: str | None = None,
        sort: str = "newest",
        limit: int = 25,
        offset: int = 0,
    ) -> tuple[int, list[dict[str, Any]]]:
        """How many cases match, and one page of them with their organisation, label, next due and opener."""
        params: dict[str, Any] = {}
        label_sql = "c.label" if labels else "NULL"  # the label question's answer, kept on the case
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
        if term := search.strip():
            found = [*_reference_terms(term, params), *self._organisation_terms(term, params)]
            if labels:
                found.append(f"lower({label_sql}) LIKE :q ESCAPE '\\'")
            where.append("(" + (" OR ".join(found) or "1 = 0") + ")")
        conditions = " AND ".join(where) or "1 = 1"
        # counted without the organisation: joined to every case counted, it doubled the count's cost
        total = int(self.execute(f"SELECT count(*) FROM cases c WHERE {conditions}", params).fetchone()[0])  # fmt: skip
        sort = sort if sort in _TERMS else "newest"
        # a page past the middle is read from the other end, so the database steps over fewer
        # rows: the last of 100,000 skipped 99,975 (about 0.2 s) and now skips none
        backwards = total // 2 < offset < total
        if backwards:
            offset, limit = max(total - offset - limit, 0), min(limit, total - offset)
        order = _order(sort, backwards)
        joined = (
            "LEFT JOIN organisations o ON o.id = c.organisation_id " if "o.name" in order else ""
        )
        ids = [
            r[0]
            for r in self.execute(
                f"SELECT c.id FROM cases c {joined}WHERE {conditions} "
                f"ORDER BY {order} LIMIT :limit OFFSET :offset",
                {**params, "limit": limit, "offset": offset},
            )
        ]
        return total, self._page(ids[::-1] if backwards else ids, label_sql)

    def _organisation_terms(self, term: str, params: dict[str, Any]) -> list[str]:
        """The condition of the cases of every organisation whose name has `term` in it, in any case.

        The names are read first, in the organisations table (thousands of rows, not every case),
        as written and by their key (`name_key`: "cafe" finds "Café", "st marys" "St. Mary's").
        Their ids are then given as values, so each database knows how many cases they hold and
        reads them by the organisation's index, or every case when they hold most of them.
        """
        asked = {"q": _like(term), "q_key": _like(name_key(term))}
        named = "lower(name) LIKE :q ESCAPE '\\'"
        if name_key(term):  # a key of nothing ("!") would find every name
            named += " OR name_key LIKE :q_key ESCAPE '\\'"
        params.update(asked)
        ids = [r[0] for r in self.execute(f"SELECT id FROM organisations WHERE {named}", asked)]
        if len(ids) > _MOST_NAMED:  # one statement's values are bounded: read the names again
            return [f"c.organisation_id IN (SELECT id FROM organisations WHERE {named})"]
        params.update({f"so{i}": org_id for i, org_id in enumerate(ids)})
        marks = ", ".join(f":so{i}" for i in range(len(ids)))
        return [f"c.organisation_id IN ({marks})"] if ids else []

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

    def _page(self, ids: list[int], label_sql: str) -> list[dict[str, Any]]:
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
            {f"id{i}": case_id for i, case_id in enumerate(ids)},
        )
        for row in rows:
            row["flags"] = json.loads(row["flags"])
        by_id = {row["id"]: row for row in rows}
        return [by_id[case_id] for case_id in ids if case_id in by_id]
