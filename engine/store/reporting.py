"""Reads across many cases for lists, dashboards, KPIs, meeting packs and exports; never writes.

Each reads in a few queries what a report would otherwise read case by case.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from engine.store.connection import Connection
from engine.store.reminders import MOVED

CHUNK = 500  # ids in one `IN (…)`: within SQLite's limit on parameters


def _chunks(ids: list[int]) -> Iterator[tuple[str, tuple[int, ...]]]:
    """`ids` a chunk at a time, each with its `?, ?, …` placeholders."""
    for start in range(0, len(ids), CHUNK):
        chunk = tuple(ids[start : start + CHUNK])
        yield ",".join("?" * len(chunk)), chunk


def _decoded(cur: Any) -> list[dict[str, Any]]:
    """Case rows as dicts, their JSON columns (flags, entered) decoded."""
    names = [c[0] for c in cur.description]
    out = []
    for r in cur.fetchall():
        row = dict(zip(names, r, strict=True))
        row["flags"] = json.loads(row["flags"])
        row["entered"] = json.loads(row["entered"])
        out.append(row)
    return out


def _within(cases: tuple[int, int] | None, *columns: str) -> tuple[str, tuple[int, ...]]:
    """The condition keeping case ids (in each of these columns) from `cases[0]` up to (not
    including) `cases[1]`, if given."""
    if cases is None:
        return "", ()
    low, high = int(cases[0]), int(cases[1])
    return "".join(f" AND {c} >= ? AND {c} < ?" for c in columns), (low, high) * len(columns)


def _of_programme(cases: tuple[int, int] | None, column: str) -> str:
    """The condition keeping a programme's cases: with a run of ids, written so that no index on
    the programme is used (it would read every case of the programme, not the run's)."""
    return f"{column} = ?" if cases is None else f"({column} || '') = ?"


def _event_clause(event: dict[str, Any]) -> tuple[str, str] | None:
    """The audit condition for a case event (`trigger` or `entered`), and its value."""
    if "trigger" in event:
        return "a.action = ?", event["trigger"]
    if "entered" in event:
        return "a.to_state = ?", event["entered"]
    return None


class ReportingReads(Connection):
    """Read-only queries over many cases, their answers, audit log and reminders."""

    def programme_cases(self, programme_id: str) -> list[dict[str, Any]]:
        """Every case of a programme, JSON columns decoded (for KPIs and exports)."""
        return _decoded(
            self.execute("SELECT * FROM cases WHERE programme_id = ? ORDER BY id", (programme_id,))
        )

    def cases_by_state(self, programme_id: str, workflow: str | None = None) -> dict[str, int]:
        """How many cases are in each state."""
        sql = "SELECT state, count(*) FROM cases WHERE programme_id = ?"
        params: tuple = (programme_id,)
        if workflow:
            sql += " AND workflow = ?"
            params += (workflow,)
        return dict(self.execute(sql + " GROUP BY state", params).fetchall())

    def revision(self) -> tuple[str, int]:
        """The database and its newest audit row's id: every change to a case writes one."""
        newest = self.execute("SELECT coalesce(max(id), 0) FROM audit").fetchone()[0]
        return self.path, int(newest)

    def programme_changed(self, programme_id: str, after: int, upto: int) -> bool:
        """Whether any audit row after `after`, up to `upto`, is of a case of the programme."""
        # read from the audit rows in that range (few: those since a figure was last checked),
        # never from the programme's cases, which may be 100,000
        row = self.execute(
            "SELECT 1 FROM audit a WHERE a.id > ? AND a.id <= ? AND EXISTS "
            "(SELECT 1 FROM cases c WHERE c.id = a.case_id AND c.programme_id = ?) LIMIT 1",
            (after, upto, programme_id),
        ).fetchone()
        return row is not None

    def programme_cases_changed(self, programme_id: str, after: int, upto: int) -> set[int]:
        """The programme's cases with an audit row after `after`, up to `upto` (read from those
        rows, never from the programme's cases)."""
        return {
            r[0]
            for r in self.execute(
                "SELECT DISTINCT a.case_id FROM audit a JOIN cases c ON c.id = a.case_id "
                "WHERE a.id > ? AND a.id <= ? AND c.programme_id = ?",
                (after, upto, programme_id),
            )
        }

    def programme_cases_of(self, programme_id: str, case_ids: list[int]) -> list[dict[str, Any]]:
        """These cases of the programme, as `programme_cases` gives them (the others left out)."""
        out: list[dict[str, Any]] = []
        for marks, chunk in _chunks(sorted(case_ids)):
            out += _decoded(self.execute(
                f"SELECT * FROM cases WHERE programme_id = ? AND id IN ({marks}) ORDER BY id",
                (programme_id, *chunk),
            ))  # fmt: skip
        return out

    def case_organisations(self, programme_id: str, workflows: list[str]) -> list[str]:
        """The organisations holding any case of these workflows of a programme."""
        marks = ",".join("?" * len(workflows)) or "NULL"
        return [r[0] for r in self.execute(
            f"SELECT DISTINCT organisation_id FROM cases WHERE programme_id = ? AND workflow IN ({marks}) "
            "AND organisation_id IS NOT NULL", (programme_id, *workflows),
        ).fetchall()]  # fmt: skip

    def cases_after(
        self, programme_id: str, workflow: str | None, after: int, limit: int
    ) -> list[dict[str, Any]]:
        """The next `limit` cases of a programme (of one workflow, if given) after case `after`, by id."""
        sql = "SELECT id, reference, workflow, state, organisation_id, lot, created_at FROM cases WHERE programme_id = ? AND id > ?"
        params: tuple[Any, ...] = (programme_id, after)
        if workflow is not None:
            sql, params = sql + " AND workflow = ?", (*params, workflow)
        return self._rows(sql + f" ORDER BY id LIMIT {int(limit)}", params)

    def answers_of(self, case_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
        """Every answer and record of these cases, by case, in the order they were made."""
        out: dict[int, list[dict[str, Any]]] = {}
        for marks, chunk in _chunks(case_ids):
            out.update(self._answers_by_case(f"WHERE a.case_id IN ({marks})", chunk))
        return out

    def _answers_by_case(
        self, where: str, params: tuple[Any, ...], *, decode: bool = True
    ) -> dict[int, list[dict[str, Any]]]:
        """Answer rows by case, oldest form and record first (`data` left as JSON text unless decoded)."""
        out: dict[int, list[dict[str, Any]]] = {}
        for case_id, form, record, data, submitted, updated, created in self.execute(
            "SELECT a.case_id, a.form_id, a.record_no, a.data, a.submitted_at, a.updated_at, a.created_at "
            f"FROM answers a {where} ORDER BY a.case_id, a.form_id, a.record_no",
            params,
        ).fetchall():
            out.setdefault(case_id, []).append({
                "form": form, "record": record, "data": json.loads(data) if decode else data,
                "submitted_at": submitted, "updated_at": updated, "created_at": created,
            })  # fmt: skip
        return out

    def case_times(
        self, programme_id: str, cases: tuple[int, int] | None = None
    ) -> list[tuple[str, str | None, str, str | None, str | None]]:
        """Each case of a programme (ids in `cases`, if given) as (created, changed, workflow, organisation, lot)."""
        within, more = _within(cases, "id")
        return [tuple(r) for r in self.execute(  # type: ignore[misc]
            "SELECT created_at, updated_at, workflow, organisation_id, lot FROM cases "
            f"WHERE {_of_programme(cases, 'programme_id')}{within} ORDER BY id", (programme_id, *more),
        ).fetchall()]  # fmt: skip

    def case_buckets(self, programme_id: str, size: int) -> list[int]:
        """Which runs of `size` case ids hold any case of the programme (id // size), in order."""
        return [int(r[0]) for r in self.execute(
            f"SELECT DISTINCT id / {int(size)} FROM cases WHERE programme_id = ? ORDER BY 1",
            (programme_id,),
        ).fetchall()]  # fmt: skip

    def organisation_case_counts(self, programme_id: str) -> list[tuple[str, int]]:
        """How many cases each organisation holds in a programme, most first."""
        return [(r[0], int(r[1])) for r in self.execute(
            "SELECT organisation_id, count(*) FROM cases WHERE programme_id = ? AND organisation_id IS NOT NULL "
            "GROUP BY organisation_id ORDER BY count(*) DESC, organisation_id", (programme_id,),
        ).fetchall()]  # fmt: skip

    def state_counts(self, programme_id: str) -> dict[str, dict[str, int]]:
        """How many of a programme's cases of each workflow are in each state (one indexed query)."""
        out: dict[str, dict[str, int]] = {}
        for workflow, state, n in self.execute(
            "SELECT workflow, state, count(*) FROM cases WHERE programme_id = ? GROUP BY workflow, state",
            (programme_id,),
        ).fetchall():
            out.setdefault(workflow, {})[state] = n
        return out

    def flagged_cases(self, programme_id: str, limit: int) -> tuple[int, list[dict[str, Any]]]:
        """How many of a programme's cases have a flag raised, and the first `limit` of them."""
        # flags are written as JSON with `": "` between a name (a programme's id) and its value,
        # so `: true` is a raised flag and a cleared one (false) is not counted; both read from
        # the index of the few cases with any flag
        flagged = "programme_id = ? AND flags <> '{}' AND flags LIKE '%: true%'"
        count = self.execute(f"SELECT count(*) FROM cases WHERE {flagged}", (programme_id,))
        found = self.execute(
            f"SELECT id, reference, workflow, state, flags FROM cases WHERE {flagged} "
            "ORDER BY id LIMIT ?",
            (programme_id, limit),
        ).fetchall()
        rows = [{"id": case_id, "reference": reference, "workflow": workflow, "state": state,
                 "flags": sorted(k for k, v in json.loads(flags).items() if v is True)}
                for case_id, reference, workflow, state, flags in found]  # fmt: skip
        return int(count.fetchone()[0]), rows

    def case_links(self, case_ids: list[int]) -> dict[int, tuple[int | None, str | None]]:
        """Each case's parent (the case it was started from) and lot."""
        out: dict[int, tuple[int | None, str | None]] = {}
        for marks, chunk in _chunks(case_ids):
            for case_id, parent, lot in self.execute(
                f"SELECT id, parent_id, lot FROM cases WHERE id IN ({marks})", chunk
            ).fetchall():
                out[case_id] = (parent, lot)
        return out

    def list_cases(self, programme_id: str, *, workflow: str | None = None, state: str | None = None,
                   organisation_id: str | None = None, limit: int = 100, offset: int = 0) -> list[dict[str, Any]]:  # fmt: skip
        """Cases of a programme, newest first, filtered as asked."""
        sql = "SELECT id, reference, workflow, state, organisation_id, role, lot, updated_at FROM cases WHERE programme_id = ? "
        sql += "AND removed_at IS NULL"  # a case retention removed leaves every list
        params: list[Any] = [programme_id]
        for column, value in (
            ("workflow", workflow),
            ("state", state),
            ("organisation_id", organisation_id),
        ):
            if value is not None:
                sql += f" AND {column} = ?"
                params.append(value)
        sql += " ORDER BY id DESC LIMIT ? OFFSET ?"
        cur = self.execute(sql, (*params, limit, offset))
        names = [c[0] for c in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]

    def last_actions(self, case_ids: list[int], actions: list[str]) -> dict[int, dict[str, str]]:
        """When each of these actions was last taken on each of these cases, by case."""
        out: dict[int, dict[str, str]] = {}
        if not actions:
            return out
        marks = ",".join("?" * len(actions))
        for i in range(0, len(case_ids), 500):  # a bounded number of parameters a query
            chunk = case_ids[i : i + 500]
            for case_id, action, at in self.execute(
                f"SELECT case_id, action, max(at) FROM audit WHERE case_id IN ({','.join('?' * len(chunk))}) "
                f"AND action IN ({marks}) GROUP BY case_id, action",
                (*chunk, *actions),
            ).fetchall():
                out.setdefault(int(case_id), {})[action] = at
        return out

    def cases_in_states(self, programme_id: str | None, workflow: str | None,
                        states: list[str]) -> list[dict[str, Any]]:  # fmt: skip
        """Cases (of one programme and workflow, or all) in any of these states, oldest first."""
        if not states:
            return []
        sql = (
            "SELECT id, reference, programme_id, version, workflow, state, organisation_id, role, lot, "
            f"updated_at FROM cases WHERE state IN ({','.join('?' * len(states))})"
        )
        params: list[Any] = list(states)
        for column, value in (("programme_id", programme_id), ("workflow", workflow)):
            if value is not None:
                sql += f" AND {column} = ?"
                params.append(value)
        return self._rows(sql + " ORDER BY id", tuple(params))

    def workflow_cases(
        self, programme_id: str, workflow: str | None, states: list[str] | None,
        answers: bool = True, cases: tuple[int, int] | None = None,
    ) -> list[dict[str, Any]]:  # fmt: skip
        """Cases of a workflow (with ids in `cases`, if given) that are or were in some states,
        with their answers, for KPIs.

        A case that has left one of the states is read too (it may have been in it at the end of
        an earlier period): the audit log names every state a case has entered. Without
        `answers`, each case's `answers` is empty (KPIs that read none of them).
        """
        within, more = _within(cases, "id")
        where = _of_programme(cases, "programme_id") + (" AND workflow = ?" if workflow else "")
        where += within
        base: list[Any] = [programme_id, *([workflow] if workflow else []), *more]
        if states:
            marks = ",".join("?" * len(states))
            audited, also = _within(cases, "case_id")
            # two indexed reads, rather than one scan of every case of the workflow
            ids = (
                f"SELECT id FROM cases WHERE {where} AND state IN ({marks}) UNION "
                f"SELECT id FROM cases WHERE {where} AND id IN "
                f"(SELECT case_id FROM audit WHERE to_state IN ({marks}){audited})"
            )
            params = tuple([*base, *states, *base, *states, *also])
            sql = f"SELECT * FROM cases WHERE id IN ({ids})"
        else:
            ids, params = f"SELECT id FROM cases WHERE {where}", tuple(base)
            sql = f"SELECT * FROM cases WHERE {where}"
        cur = self.execute(sql + " ORDER BY id", params)
        names = [c[0] for c in cur.description]
        rows = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
        if rows and not answers:
            for row in rows:
                row["answers"] = []
        elif rows:
            by_case = self._answers_by_case(
                f"JOIN ({ids}) c ON c.id = a.case_id", params, decode=False
            )
            for row in rows:
                row["answers"] = by_case.get(row["id"], [])
        return rows

    def programme_answers(
        self, programme_id: str, cases: tuple[int, int] | None = None
    ) -> dict[int, list[dict[str, Any]]]:
        """Every answer and record of every case of a programme (with ids in `cases`, if given),
        by case, in one query."""
        within, more = _within(cases, "a.case_id", "c.id")
        return self._answers_by_case(
            f"JOIN cases c ON c.id = a.case_id WHERE {_of_programme(cases, 'c.programme_id')}{within}",
            (programme_id, *more),
        )

    def form_entries(
        self, programme_id: str, form_id: str, cases: tuple[int, int] | None = None
    ) -> list[dict[str, Any]]:
        """Every submitted answer set of one form (of cases with ids in `cases`, if given), with
        its case's facts (for KPIs over returns)."""
        within, more = _within(cases, "a.case_id", "c.id")
        cur = self.execute(
            "SELECT c.id, c.workflow, c.state, c.flags, c.entered, c.organisation_id, c.lot, c.role, c.reference, "
            "a.data, a.submitted_at FROM answers a JOIN cases c ON c.id = a.case_id "
            f"WHERE {_of_programme(cases, 'c.programme_id')} AND a.form_id = ? AND a.submitted_at IS NOT NULL{within} "
            "ORDER BY a.submitted_at",
            (programme_id, form_id, *more),
        )
        names = ["case_id", "workflow", "state", "flags", "entered", "organisation_id", "lot", "role", "reference",
                 "data", "submitted_at"]  # fmt: skip
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]

    def state_changes(self, case_ids: list[int]) -> dict[int, list[tuple[str, str]]]:
        """Each case's moves from the audit log, oldest first: (when, the state it moved to)."""
        out: dict[int, list[tuple[str, str]]] = {}
        for marks, chunk in _chunks(case_ids):
            rows = self.execute(
                f"SELECT case_id, at, to_state FROM audit WHERE case_id IN ({marks}) AND {MOVED} "
                "ORDER BY case_id, id",
                chunk,
            ).fetchall()
            for case_id, at, state in rows:
                out.setdefault(case_id, []).append((at, state))
        return out

    def first_event(self, programme_id: str, anchor: dict[str, Any]) -> str | None:
        """When any case of the programme first took an action or entered a state (an anchor)."""
        if (clause := _event_clause(anchor)) is None:
            return None
        sql, value = clause
        row = self.execute(
            f"SELECT min(a.at) FROM audit a JOIN cases c ON c.id = a.case_id WHERE c.programme_id = ? AND {sql}",
            (programme_id, value),
        ).fetchone()
        return row[0] if row else None

    def first_events(
        self, programme_id: str, event: dict[str, Any], cases: tuple[int, int] | None = None
    ) -> dict[int, str]:
        """When each case of a programme (with ids in `cases`, if given) first took an action
        (`trigger`) or entered a state (`entered`), from the audit log, in one query (for KPIs
        dated by a case event)."""
        if (clause := _event_clause(event)) is None:
            return {}
        sql, value = clause
        within, more = _within(cases, "a.case_id", "c.id")
        rows = self.execute(
            f"SELECT a.case_id, min(a.at) FROM audit a JOIN cases c ON c.id = a.case_id "
            f"WHERE {_of_programme(cases, 'c.programme_id')} AND {sql}{within} GROUP BY a.case_id",
            (programme_id, value, *more),
        ).fetchall()
        return {case_id: at for case_id, at in rows}

    def overdue_reminders(
        self, programme_id: str, now: str, limit: int | None = None
    ) -> list[dict[str, Any]]:
        """Pending reminder rows of a programme whose time has passed, oldest first (up to `limit`)."""
        rows = self._rows(
            "SELECT r.id, r.kind, r.rule, r.case_id, r.due_at, r.payload, c.reference FROM reminders r "
            "LEFT JOIN cases c ON c.id = r.case_id WHERE r.programme_id = ? AND r.status = 'pending' "
            "AND r.due_at < ? ORDER BY r.due_at, r.id"
            + ("" if limit is None else f" LIMIT {int(limit)}"),
            (programme_id, now),
        )
        for row in rows:
            row["payload"] = json.loads(row["payload"])
        return rows

    def overdue_count(self, programme_id: str, now: str) -> int:
        """How many of a programme's pending reminder rows are past their time."""
        return int(self.execute(
            "SELECT count(*) FROM reminders WHERE programme_id = ? AND status = 'pending' AND due_at < ?",
            (programme_id, now),
        ).fetchone()[0])  # fmt: skip
