"""KPIs as the programme defines them: counted, summed, averaged, as percentages or matched
pre/post change, over returns, case records or cases, per period and per organisation or lot,
with red/amber/green against the target (periods: see `periods`).
"""

from __future__ import annotations

import json
import statistics
from bisect import bisect_left
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from engine.forms.answers import cel_value
from engine.model import Programme, Question
from engine.reporting.kpi_filters import Filter
from engine.reporting.periods import Period, period_of, periods
from engine.store import StoreContract


@dataclass(frozen=True)
class KpiValue:
    """One KPI's value for one period and one group (an organisation, a lot, the programme)."""

    kpi: str
    title: str
    period: str
    group: str
    value: float | None  # None: nothing to compute it from
    count: int  # how many items it is computed from
    target: float | None
    rag: str | None  # green, amber, red, or None without a target
    reported: bool = True  # False: nothing came in for the period (not reported, never 0)
    suppressed: bool = False  # True: hidden in an anonymised report as from too few people


def _moment(text: str) -> datetime:
    """A stored timestamp (UTC if it names no zone)."""
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class _Item:
    """One thing a KPI counts (a return, a record or a case), with what expressions may read."""

    __slots__ = (
        "_case",
        "_records",
        "_row",
        "data",
        "lot",
        "organisation",
        "role",
        "state",
        "updated",
        "when",
    )

    def __init__(
        self,
        row: dict[str, Any],
        when: datetime,
        records: dict[str, list[dict[str, Any]]] | None,
        data: dict[str, Any] | None = None,
    ) -> None:
        # the answers as expressions see them; None until a KPI reads a period holding this item
        self.data = data
        self.when = when
        self.organisation: str | None = row["organisation_id"]
        self.lot: str | None = row["lot"]
        self.role: str = row["role"] or ""
        self.state: str = row["state"]
        # a case cannot have moved since this (as stored; read only for cases, and as text)
        self.updated: str | None = row.get("updated_at")
        self._row = row
        self._records = records
        self._case: dict[str, Any] | None = None

    @property
    def case(self) -> dict[str, Any]:
        """`case` as expressions see it, built only when an expression first reads it."""
        if self._case is None:
            row = self._row
            flags, entered = row["flags"], row["entered"]
            flags = json.loads(flags) if isinstance(flags, str) else flags
            entered = json.loads(entered) if isinstance(entered, str) else entered
            self._case = {
                "id": row.get("id", row.get("case_id")), "state": row["state"], "flags": flags,
                "reference": row["reference"], "lot": row["lot"] or "", "organisation": row["organisation_id"] or "",
                "entered": {k: datetime.fromisoformat(v) for k, v in entered.items()},
                "records": self._records if self._records is not None else _NoRecords(),
            }  # fmt: skip
        return self._case

    def was_in(self, states: set[str]) -> bool:
        """Whether the case is, or has ever been, in one of these states."""
        if self.state in states:
            return True
        entered = self._row["entered"]
        return any(
            s in states for s in (json.loads(entered) if isinstance(entered, str) else entered)
        )

    def as_at(self, at: datetime, moves: list[tuple[datetime, str]]) -> _Item | None:
        """This case as it stood at `at`, from its moves (None if it had not started by then)."""
        state, entered = None, {}
        for when, to in moves:
            if when > at:
                break
            state, entered[to] = to, when.isoformat()
        if state is None:
            return None
        row = {**self._row, "state": state, "entered": entered}
        item = _Item(row, self.when, self._records, self.data)
        item.updated = None  # as it stood then: no later moves
        return item

    @property
    def case_id(self) -> int:
        """The id of the case this item belongs to."""
        return int(self._row.get("id", self._row.get("case_id")))

    def json(self) -> str:
        """The answers as stored, given up once read."""
        return str(self._row.pop("data"))

    @property
    def has_records(self) -> bool:
        """Whether `case.records` can read the case's records yet."""
        return self._records is not None

    def give_records(self, records: dict[str, list[dict[str, Any]]]) -> None:
        """Let `case.records` read the case's records from now on."""
        self._records = records
        if self._case is not None:
            self._case["records"] = records


class _Source:
    """The items one KPI reads, in time order, with their times alongside for slicing by period."""

    def __init__(
        self, items: list[_Item], read: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    ) -> None:
        self.items = items
        self.whens = [i.when for i in items]
        self.read = read  # turns an item's JSON into its data, for items read only when needed

    def slice(self, first: int, last: int) -> list[_Item]:
        """The items from first to last, each with its data read."""
        items = self.items[first:last]
        unread = [i for i in items if i.data is None] if self.read is not None else []
        if unread:
            texts = [i.json() for i in unread]
            try:  # one parse for them all: a call per return cost a third as much again
                parsed = json.loads(f"[{','.join(texts)}]")
            except ValueError:
                parsed = None
            if parsed is None or len(parsed) != len(texts):  # a damaged one: say which
                parsed = [json.loads(t) for t in texts]
            for item, raw in zip(unread, parsed, strict=True):
                item.data = self.read(raw)
        return items


def _as_seen(typed: dict[str, Question], raw: dict[str, Any]) -> dict[str, Any]:
    """Answers as expressions see them, changed in place (each caller's copy is its own)."""
    for k in typed.keys() & raw.keys():
        raw[k] = cel_value(typed[k], raw[k])
    return raw


_NUMBER = {int, float}
# Below this many cases, reading each one's records costs less than reading the programme's.
_FEW_CASES = 50


class KpiCalculator:
    """Computes a programme's KPIs from one database, reading only what each KPI needs, once."""

    def __init__(self, store: StoreContract, programme: Programme, now: datetime) -> None:
        self.store = store
        self.programme = programme
        self.now = now
        self.tz = ZoneInfo(programme.timezone)
        self.questions = programme.questions()
        # only date and group answers look different to expressions (see cel_value)
        typed = {k: q for k, q in self.questions.items() if q.type in ("date", "group")}
        # not a bound method: sources keep it, and a calculator they pointed back to would wait
        # for the cycle collector to be freed, with every item it read
        self._convert = partial(_as_seen, typed)
        self._forms = [e["form"] for e in programme.data["forms"]]
        self._repeatable = {e["form"] for e in programme.data["forms"] if e.get("repeatable")}
        self._sources: dict[tuple[Any, ...], _Source] = {}
        self._filters: dict[str, Filter] = {}
        self._records: dict[int, dict[str, list[dict[str, Any]]]] | None = None
        self._moves: dict[int, list[tuple[datetime, str]]] = {}  # read once, for cases that moved
        self._begun_cases: dict[str | None, list[tuple[datetime, str | None, str | None]]] = {}
        self._latest: datetime | None = None  # the last change to any case (see `today`)
        # the states each workflow's cases are read in by any KPI (empty: every state), so
        # KPIs over the same cases share one read
        self._case_states: dict[str | None, set[str]] = {}
        for kpi in programme.data["kpis"]:
            if kpi["source"] != "cases":
                continue
            workflow, states = kpi.get("workflow"), set(kpi.get("states") or ())
            if workflow not in self._case_states:
                self._case_states[workflow] = states
            elif self._case_states[workflow] and states:
                self._case_states[workflow] |= states
            else:
                self._case_states[workflow] = set()

    def _filter(self, source: str) -> Filter:
        if source not in self._filters:
            self._filters[source] = Filter(source)
        return self._filters[source]

    def _source(self, kpi: dict[str, Any]) -> _Source:
        if kpi["source"] == "cases":
            return self._cases(kpi.get("workflow"), tuple(kpi.get("states") or ()))
        key: tuple[Any, ...] = ("form", kpi["form"])
        if key not in self._sources:
            items = []
            for row in self.store.form_entries(self.programme.id, kpi["form"]):
                when = datetime.fromisoformat(row["submitted_at"])
                items.append(_Item(row, when, None))
            # in the order sent, as the store gives them; only the periods asked for are read
            self._sources[key] = _Source(items, self._convert)
        source = self._sources[key]
        if "states" in kpi:
            key = ("form", kpi["form"], tuple(kpi["states"]))
            if key not in self._sources:
                states = set(kpi["states"])
                chosen = [i for i in source.items if i.state in states]
                self._sources[key] = _Source(chosen, source.read)
            source = self._sources[key]
        if any("case.records" in kpi.get(k, "") for k in ("where", "numerator")):
            self._give_records(source.items)  # only filters that read other records pay for them
        return source

    def _cases(self, workflow: str | None, states: tuple[str, ...]) -> _Source:
        key = ("cases", workflow, states)
        if key not in self._sources:
            wide = self._case_states.get(workflow)
            shared = None if wide is None else tuple(sorted(wide))  # (): every state
            if (
                states
                and shared is not None
                and states != shared
                and set(states) <= (wide or {*states})
            ):
                # another KPI reads these cases in more states: filter its read (cases that
                # are or were in these states; `_as_at` keeps those in them at a period's end)
                chosen = set(states)
                items = self._cases(workflow, shared).items
                self._sources[key] = _Source([i for i in items if i.was_in(chosen)])
            else:
                self._sources[key] = self._read_cases(workflow, states)
        return self._sources[key]

    def _read_cases(self, workflow: str | None, states: tuple[str, ...]) -> _Source:
        items = []
        rows = self.store.workflow_cases(self.programme.id, workflow, list(states) or None)
        for row in rows:
            answers: dict[str, Any] = {}
            latest: dict[str, Any] = {}
            records: dict[str, list[dict[str, Any]]] = {f: [] for f in self._forms}
            for a in row.pop("answers"):
                raw = a["data"]
                converted = self._convert(json.loads(raw) if isinstance(raw, str) else dict(raw))
                records.setdefault(a["form"], []).append(converted)
                (latest if a["form"] in self._repeatable else answers).update(converted)
            when = datetime.fromisoformat(row["created_at"])
            items.append(_Item(row, when, records, data={**latest, **answers}))
        return _Source(sorted(items, key=lambda i: i.when))

    def _give_records(self, items: list[_Item]) -> None:
        wanting = [i for i in items if not i.has_records]
        if not wanting:
            return
        case_ids = {i.case_id for i in wanting}
        if self._records is None and len(case_ids) < _FEW_CASES:
            records = {c: self._records_of(self.store.answers(c)) for c in case_ids}
        else:
            if self._records is None:  # one read for the whole programme, shared by every KPI
                answers = self.store.programme_answers(self.programme.id)
                self._records = {c: self._records_of(a) for c, a in answers.items()}
            records = self._records
        for item in wanting:
            item.give_records(records.get(item.case_id) or self._records_of([]))

    def _records_of(self, answers: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
        records: dict[str, list[dict[str, Any]]] = {f: [] for f in self._forms}
        for a in answers:
            records.setdefault(a["form"], []).append(self._convert(a["data"]))
        return records

    def value(self, kpi: dict[str, Any], period: Period, by: str = "programme") -> list[KpiValue]:
        """The KPI for one period, for the programme or broken down by organisation or lot."""
        source = self._source(kpi)  # in time order, so the period is a slice
        at = min(period.end, self.now)
        if period.start > self.now:
            today = self.today(kpi)
            if period.start > today:  # a period still to come has no figure, not even a 0
                return [] if by in ("organisation", "lot") else [self._not_yet(kpi, period)]
            at = min(period.end, today)
        # cases are counted as they stood at the end of the period; returns and records by when sent
        first = 0 if kpi["source"] == "cases" else bisect_left(source.whens, period.start)
        items = source.slice(first, bisect_left(source.whens, period.end))
        # what came in (for cases: any of the workflow, in any state), whatever the KPI then picks
        begun = self._begun(kpi.get("workflow")) if kpi["source"] == "cases" else None
        held = [(i.organisation, i.lot) for i in items] if begun is None else [
            (o, lot) for _w, o, lot in begun[: bisect_left(begun, period.end, key=lambda r: r[0])]]  # fmt: skip
        if kpi["source"] == "cases":
            items = self._as_at(items, at, set(kpi.get("states") or ()))
        if "where" in kpi:
            where = self._filter(kpi["where"])
            data = self.programme.data
            items = [i for i in items if where.holds(i, at, data)]
        groups: dict[str, list[_Item]] = {}
        if by in ("organisation", "lot"):  # a group whose items all fail the filter has 0
            groups = {((o if by == "organisation" else lot) or "(none)"): [] for o, lot in held}
            for i in items:
                key = (i.organisation if by == "organisation" else i.lot) or "(none)"
                groups.setdefault(key, []).append(i)
        elif held or by == "programme":
            groups["programme"] = items  # any other breakdown is the programme as a whole
        return [self._result(kpi, period, g, groups[g], at, bool(held)) for g in sorted(groups)]

    def today(self, kpi: dict[str, Any]) -> datetime:
        """Now, or the last moment the programme recorded anything if that is later: a rehearsal's
        clock can be set before the data it shows (periods after this have no figures)."""
        if self._latest is None:
            changed = [r.get("updated_at") or r["created_at"]
                       for r in self.store.programme_cases(self.programme.id)]  # fmt: skip
            self._latest = max((_moment(c) for c in changed), default=self.now)
        whens = self._source(kpi).whens  # returns and records are sent without moving the case
        return max(self.now, self._latest, whens[-1] if whens else self.now)

    def _not_yet(self, kpi: dict[str, Any], period: Period) -> KpiValue:
        return KpiValue(kpi["id"], kpi["title"], period.label, "programme", None, 0,
                        kpi.get("target", {}).get("value"), None, reported=False)  # fmt: skip

    def _begun(self, workflow: str | None) -> list[tuple[datetime, str | None, str | None]]:
        """When each case of the workflow started, in order, with its organisation and lot."""
        if workflow not in self._begun_cases:
            rows = self.store.programme_cases(self.programme.id)
            self._begun_cases[workflow] = sorted(
                [(datetime.fromisoformat(r["created_at"]), r["organisation_id"], r["lot"])
                 for r in rows if workflow in (None, r["workflow"])], key=lambda r: r[0])  # fmt: skip
        return self._begun_cases[workflow]

    def span(self, kpi: dict[str, Any]) -> tuple[datetime, datetime] | None:
        """When the first and the last of the KPI's returns, records or cases came in (None: none)."""
        begun = self._begun(kpi.get("workflow")) if kpi["source"] == "cases" else None
        whens = self._source(kpi).whens if begun is None else [b[0] for b in begun]
        return (whens[0], whens[-1]) if whens else None

    def _as_at(self, items: list[_Item], at: datetime, states: set[str]) -> list[_Item]:
        """The cases as they stood at `at`: their state and when they entered each, from the audit
        log for a case that has moved since; only those then in `states`, if given."""
        since = at.astimezone(UTC).isoformat()

        def moved_since(item: _Item) -> bool:
            u = item.updated
            if u is None:
                return False
            # stored in UTC as ISO text, which sorts as time does; anything else is parsed
            return u > since if u.endswith("+00:00") else _moment(u) > at

        moved = {i.case_id for i in items if moved_since(i)}
        wanted = [c for c in moved if c not in self._moves]
        if wanted:
            found = self.store.state_changes(wanted)
            for case_id in wanted:
                self._moves[case_id] = [
                    (_moment(when), state) for when, state in found.get(case_id, [])
                ]
        out = []
        for item in items:
            if item.case_id in moved and self._moves[item.case_id]:
                item = item.as_at(at, self._moves[item.case_id])
                if item is None:  # not yet in any state then
                    continue
            if not states or item.state in states:
                out.append(item)
        return out

    def _result(
        self, kpi: dict[str, Any], period: Period, group: str, items: list[_Item], at: datetime,
        reported: bool,
    ) -> KpiValue:  # fmt: skip
        measure = kpi["measure"]
        value: float | None
        if not reported:
            value = None
        elif measure == "count":
            value = float(len(items))
        elif measure in ("sum", "average", "median"):
            if "value" in kpi:  # worked out per item, such as days_between(referral, contact)
                of = self._filter(kpi["value"])
                data = self.programme.data
                numbers = [x for i in items if (x := of.number(i, at, data)) is not None]
            else:  # answers come from JSON, so exact types: a bool (an int to isinstance) is not one
                numbers = [
                    float(x) for i in items if type(x := i.data.get(kpi["field"])) in _NUMBER
                ]
            total = sum(numbers)
            if measure == "median":
                value = statistics.median(numbers) if numbers else None
            else:
                value = (
                    float(total)
                    if measure == "sum"
                    else (total / len(numbers) if numbers else None)
                )
        elif measure == "percentage":
            numerator = self._filter(kpi["numerator"])
            data = self.programme.data
            hits = sum(1 for i in items if numerator.holds(i, at, data))
            value = 100.0 * hits / len(items) if items else None
        else:  # matched_change: only people with both measures count
            pairs = [
                (_number(i.data.get(kpi["pre"])), _number(i.data.get(kpi["post"]))) for i in items
            ]
            changes = [post - pre for pre, post in pairs if pre is not None and post is not None]
            value = sum(changes) / len(changes) if changes else None
        target = kpi.get("target", {}).get("value")
        return KpiValue(kpi["id"], kpi["title"], period.label, group, value, len(items), target,
                        rag(kpi, value), reported)  # fmt: skip

    def table(
        self, period_kind: str | None, start: datetime, end: datetime, by: str = "programme"
    ) -> list[KpiValue]:
        """Every KPI for every period between start and end (each KPI's own period unless given)."""
        out: list[KpiValue] = []
        for kpi in self.programme.data["kpis"]:
            for p in periods(period_kind or kpi.get("period", "quarter"), start, end, self.tz):
                out.extend(self.value(kpi, p, by))
        return out


def rag(kpi: dict[str, Any], value: float | None) -> str | None:
    """Green at or beyond the target, amber short of it down to the `rag.amber` threshold, red
    beyond that (a KPI without a target uses `rag.green` for it); None without either."""
    if value is None:
        return None
    target, bands = kpi.get("target") or {}, kpi.get("rag") or {}
    green = target.get("value", bands.get("green"))
    if green is None:
        return None
    down = target.get("direction") == "at_most"

    def meets(threshold: float) -> bool:
        return value <= threshold if down else value >= threshold

    if meets(green):
        return "green"
    return "amber" if "amber" in bands and meets(bands["amber"]) else "red"


def _number(x: Any) -> float | None:
    return float(x) if isinstance(x, int | float) and not isinstance(x, bool) else None


class _NoRecords(dict):  # type: ignore[type-arg]
    """Stands for a case's records where no expression asked for them."""


__all__ = ["KpiCalculator", "KpiValue", "Period", "period_of", "periods", "rag"]
