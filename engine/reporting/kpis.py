"""KPIs as the programme defines them: counted, summed, averaged, as percentages or matched
pre/post change, over returns, case records or cases, per period and per organisation or lot,
with red/amber/green against the target (periods: see `periods`).
"""

from __future__ import annotations

import json
import statistics
from bisect import bisect_left
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from engine.dates import stored_moment
from engine.model import Programme
from engine.reporting.kpi_filters import Filter
from engine.reporting.kpi_groups import (
    OTHER,
    answer_date,
    answer_keys,
    answer_of,
    date_event,
    group_labels,
)
from engine.reporting.kpi_items import (
    Item,
    Records,
    Source,
    Stamps,
    answer_time,
    as_seen,
)
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
        self._convert = partial(as_seen, typed)
        self._forms = [e["form"] for e in programme.data["forms"]]
        self._repeatable = {e["form"] for e in programme.data["forms"] if e.get("repeatable")}
        self._sources: dict[tuple[Any, ...], Source] = {}
        self._filters: dict[str, Filter] = {}
        self._records: dict[int, tuple[Records, Stamps]] | None = None
        self._moves: dict[int, list[tuple[datetime, str]]] = {}  # read once, for cases that moved
        self._begun_cases: dict[str | None, list[tuple[datetime, str | None, str | None]]] = {}
        self._latest: datetime | None = None
        self._times: list[tuple[str, str | None, str, str | None, str | None]] | None = (
            None  # the last change to any case (see `today`)
        )
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

    def _source(self, kpi: dict[str, Any]) -> Source:
        if kpi["source"] == "cases":
            return self._cases(kpi.get("workflow"), tuple(kpi.get("states") or ()))
        key: tuple[Any, ...] = ("form", kpi["form"])
        if key not in self._sources:
            items = []
            for row in self.store.form_entries(self.programme.id, kpi["form"]):
                when = datetime.fromisoformat(row["submitted_at"])
                items.append(Item(row, when, None))
            # in the order sent, as the store gives them; only the periods asked for are read
            self._sources[key] = Source(items, self._convert)
        source = self._sources[key]
        if "states" in kpi:
            key = ("form", kpi["form"], tuple(kpi["states"]))
            if key not in self._sources:
                states = set(kpi["states"])
                chosen = [i for i in source.items if i.state in states]
                self._sources[key] = Source(chosen, source.read)
            source = self._sources[key]
        if any("case.records" in kpi.get(k, "") for k in ("where", "numerator", "value")):
            self._give_records(source.items)  # only filters that read other records pay for them
        return source

    def _cases(self, workflow: str | None, states: tuple[str, ...]) -> Source:
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
                self._sources[key] = Source([i for i in items if i.was_in(chosen)])
            else:
                self._sources[key] = self._read_cases(workflow, states)
        return self._sources[key]

    def _read_cases(self, workflow: str | None, states: tuple[str, ...]) -> Source:
        items = []
        rows = self.store.workflow_cases(self.programme.id, workflow, list(states) or None)
        for row in rows:
            answers = row.pop("answers")
            for a in answers:
                raw = a["data"]
                a["data"] = json.loads(raw) if isinstance(raw, str) else dict(raw)
            records, stamps = self._records_of(answers)
            when = datetime.fromisoformat(row["created_at"])
            items.append(Item(row, when, records, self._merge(records), stamps, derived=True))
        return Source(sorted(items, key=lambda i: i.when))

    def _merge(self, records: Records) -> dict[str, Any]:
        """A case's answers as expressions see them: its forms' answers over the latest of each
        repeatable form's records."""
        answers: dict[str, Any] = {}
        latest: dict[str, Any] = {}
        for form, rows in sorted(records.items()):  # as the store orders them: by form
            for r in rows:
                (latest if form in self._repeatable else answers).update(r)
        return {**latest, **answers}

    def _give_records(self, items: list[Item]) -> None:
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
            item.give_records(*(records.get(item.case_id) or self._records_of([])))

    def _records_of(self, answers: list[dict[str, Any]]) -> tuple[Records, Stamps]:
        """A case's records by form, and beside them when each came in."""
        records: Records = {f: [] for f in self._forms}
        stamps: Stamps = {f: [] for f in self._forms}
        for a in answers:
            records.setdefault(a["form"], []).append(self._convert(a["data"]))
            stamps.setdefault(a["form"], []).append(answer_time(a))
        return records, stamps

    def value(self, kpi: dict[str, Any], period: Period, by: str = "programme") -> list[KpiValue]:
        """The KPI for one period, for the programme or broken down by organisation, lot or the
        answer to a question (`by_answer`)."""
        source = self._source(kpi)  # in time order, so the period is a slice
        question = answer_of(by)
        at = min(period.end, self.now)
        if period.start > self.now:
            today = self.today(kpi)
            if period.start > today:  # a period still to come has no figure, not even a 0
                return (
                    []
                    if by in ("organisation", "lot") or question
                    else [self._not_yet(kpi, period)]
                )
            at = min(period.end, today)
        cases, states = kpi["source"] == "cases", set(kpi.get("states") or ())
        # what came in (for cases: any of the workflow, in any state), whatever the KPI then picks
        begun = self._begun(kpi.get("workflow")) if cases else None
        held = [] if begun is None else [
            (o, lot) for _w, o, lot in begun[: bisect_left(begun, period.end, key=lambda r: r[0])]]  # fmt: skip
        if "date" in kpi:  # each item once, in the period its own date falls in
            dated = self._dated(kpi)
            last = bisect_left(dated.whens, period.end)
            items = dated.slice(bisect_left(dated.whens, period.start), last)
            held += [(i.organisation, i.lot) for i in dated.items[:last]]
            if cases:  # a case put on after the period ended is judged as it was put on
                items = self._as_at(items, at, states, own=True)
            items = [i.seen_at(max(at, i.when), self._merge) for i in items]
        else:
            # cases are counted as they stood at the period's end; returns and records by when sent
            first = 0 if cases else bisect_left(source.whens, period.start)
            items = source.slice(first, bisect_left(source.whens, period.end))
            if not cases:
                held = [(i.organisation, i.lot) for i in items]
            else:
                items = self._as_at(items, at, states)
            # what the case had by the period's end: never a record sent after it
            items = [i.seen_at(at, self._merge) for i in items]
        if "where" in kpi:
            where = self._filter(kpi["where"])
            data = self.programme.data
            items = [i for i in items if where.holds(i, at, data)]
        groups: dict[str, list[Item]] = {}
        if question is not None:
            q = self.questions.get(question)
            if not held or q is None:
                return []
            labels = group_labels(q)
            groups = {k: [] for k in labels if k != OTHER}  # an answer no longer offered: if any
            for i in items:
                for key in answer_keys(q, set(labels), (i.data or {}).get(question)):
                    groups.setdefault(key, []).append(i)
            return [self._result(kpi, period, g, groups[g], at, True) for g in groups]
        if by in ("organisation", "lot"):  # a group whose items all fail the filter has 0
            groups = {((o if by == "organisation" else lot) or "(none)"): [] for o, lot in held}
            for i in items:
                key = (i.organisation if by == "organisation" else i.lot) or "(none)"
                groups.setdefault(key, []).append(i)
        elif held or by == "programme":
            groups["programme"] = items  # any other breakdown is the programme as a whole
        return [self._result(kpi, period, g, groups[g], at, bool(held)) for g in sorted(groups)]

    def _dated(self, kpi: dict[str, Any]) -> Source:
        """The KPI's items in the order of the date it names for them (those without one left
        out), the dates alongside."""
        spec = kpi["date"]
        key = ("dated", kpi["source"], kpi.get("form"), kpi.get("workflow"),
               tuple(kpi.get("states") or ()), json.dumps(spec, sort_keys=True))  # fmt: skip
        if key not in self._sources:
            source = self._source(kpi)
            items = source.slice(0, len(source.items))  # an answer's date needs every item read
            event = date_event(kpi)
            if event is None:
                found = [
                    (answer_date((i.data or {}).get(spec.get("answer")), self.tz), i) for i in items
                ]
            else:
                first = self.store.first_events(self.programme.id, event)
                state = event.get("entered")
                found = []
                for i in items:
                    # a case written before the audit log named its moves keeps `entered` only
                    text = first.get(i.case_id) or (i.entered.get(state) if state else None)
                    found.append((stored_moment(text) if text else None, i))
            pairs = sorted(((d, n, i) for n, (d, i) in enumerate(found) if d is not None),
                           key=lambda p: (p[0], p[1]))  # fmt: skip
            self._sources[key] = Source(
                [i for _d, _n, i in pairs], source.read, [d for d, _n, _i in pairs]
            )
        return self._sources[key]

    def today(self, kpi: dict[str, Any]) -> datetime:
        """Now, or the last moment the programme recorded anything if that is later: a rehearsal's
        clock can be set before the data it shows (periods after this have no figures)."""
        if self._latest is None:
            changed = [updated or created for created, updated, *_rest in self._case_times()]
            self._latest = max((stored_moment(c) for c in changed), default=self.now)
        whens = self._source(kpi).whens  # returns and records are sent without moving the case
        return max(self.now, self._latest, whens[-1] if whens else self.now)

    def _not_yet(self, kpi: dict[str, Any], period: Period) -> KpiValue:
        return KpiValue(kpi["id"], kpi["title"], period.label, "programme", None, 0,
                        kpi.get("target", {}).get("value"), None, reported=False)  # fmt: skip

    def _begun(self, workflow: str | None) -> list[tuple[datetime, str | None, str | None]]:
        """When each case of the workflow started, in order, with its organisation and lot."""
        if workflow not in self._begun_cases:
            self._begun_cases[workflow] = sorted(
                [(datetime.fromisoformat(created), org, lot)
                 for created, _changed, wf, org, lot in self._case_times() if workflow in (None, wf)],
                key=lambda r: r[0])  # fmt: skip
        return self._begun_cases[workflow]

    def _case_times(self) -> list[tuple[str, str | None, str, str | None, str | None]]:
        """Every case's times, workflow, organisation and lot: one read, shared."""
        if self._times is None:
            self._times = self.store.case_times(self.programme.id)
        return self._times

    def span(self, kpi: dict[str, Any]) -> tuple[datetime, datetime] | None:
        """When the first and the last of the KPI's returns, records or cases came in (None: none)."""
        begun = self._begun(kpi.get("workflow")) if kpi["source"] == "cases" else None
        whens = self._source(kpi).whens if begun is None else [b[0] for b in begun]
        if "date" in kpi:  # placed by its own dates, which may be long before it came in
            whens = self._dated(kpi).whens
        return (whens[0], whens[-1]) if whens else None

    def _as_at(
        self, items: list[Item], at: datetime, states: set[str], own: bool = False
    ) -> list[Item]:
        """The cases as they stood at `at` (with `own`, a case begun after `at` as it stood when
        it began): their state and when they entered each, from the audit log for a case that has
        moved since; only those then in `states`, if given."""
        since = at.astimezone(UTC).isoformat()

        def seen(item: Item) -> datetime:
            return max(at, item.when)

        def moved_since(item: Item) -> bool:
            u = item.updated
            if u is None:
                return False
            if own and item.when > at:
                return stored_moment(u) > item.when
            # stored in UTC as ISO text, which sorts as time does; anything else is parsed
            return u > since if u.endswith("+00:00") else stored_moment(u) > at

        moved = {i.case_id for i in items if moved_since(i)}
        wanted = [c for c in moved if c not in self._moves]
        if wanted:
            found = self.store.state_changes(wanted)
            for case_id in wanted:
                self._moves[case_id] = [
                    (stored_moment(when), state) for when, state in found.get(case_id, [])
                ]
        out = []
        for item in items:
            moves = self._moves.get(item.case_id) if item.case_id in moved else None
            if moves:  # a case begun late is seen once its first move is logged, not before
                item = item.as_at(max(seen(item), moves[0][0]) if own else at, moves)
                if item is None:  # not yet in any state then
                    continue
            if not states or item.state in states:
                out.append(item)
        return out

    def _result(
        self, kpi: dict[str, Any], period: Period, group: str, items: list[Item], at: datetime,
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


__all__ = ["KpiCalculator", "KpiValue", "Period", "period_of", "periods", "rag"]
