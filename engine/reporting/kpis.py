"""KPIs as the programme defines them: counted, summed, averaged, as percentages or matched
pre/post change, over returns, case records or cases, per period and per organisation or lot,
with red/amber/green against the target (periods: see `periods`).
"""

from __future__ import annotations

import json
from bisect import bisect_left
from collections import Counter
from datetime import datetime
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from engine.dates import stored_moment
from engine.model import Programme
from engine.reporting.kpi_filters import Filter
from engine.reporting.kpi_groups import (
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
    as_at,
    as_seen,
)
from engine.reporting.kpi_measures import Tally, rag, reads_answers, tallied
from engine.reporting.kpi_parts import KpiValue, Parts, values
from engine.reporting.periods import Period, period_of, periods
from engine.store import StoreContract

# Below this many cases, reading each one's records costs less than reading the programme's.
_FEW_CASES = 50


class KpiCalculator:
    """Computes a programme's KPIs from one database, reading only what each KPI needs, once."""

    def __init__(
        self, store: StoreContract, programme: Programme, now: datetime,
        cases: tuple[int, int] | None = None, today: dict[str, datetime] | None = None,
    ) -> None:  # fmt: skip
        """`cases`: only the cases with ids from the first up to (not including) the second, and
        their returns; `today`: each KPI's `today` as worked out over every case (see `kpi_kept`)."""
        self.store = store
        self.programme = programme
        self.now = now
        self.cases = cases
        self._today = today or {}
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
        self._begun_held: dict[tuple[Any, ...], list[tuple[str | None, str | None]]] = {}
        self._keys: dict[tuple[int, str], Counter[str]] = {}  # the groups each of those holds
        # cases as they stood at a moment, read once for every KPI and breakdown over the same
        # cases and period (see `_cases_at`); and the cases each narrower read keeps
        self._at: dict[tuple[Any, ...], list[Item]] = {}
        self._within: dict[tuple[Any, ...], tuple[tuple[Any, ...], set[int]]] = {}
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
        # whether any KPI over a workflow's cases reads their answers or records: when none does,
        # the cases are read without them (most of what reading every case costs)
        self._answered: dict[str | None, bool] = {}
        for kpi in programme.data["kpis"]:
            if kpi["source"] == "cases":
                wf = kpi.get("workflow")
                self._answered[wf] = self._answered.get(wf, False) or reads_answers(
                    kpi, "programme", self._filter
                )

    def _with_answers(self, workflow: str | None) -> None:
        """Read the workflow's cases again with their answers, for a KPI that reads them."""
        self._answered[workflow] = True
        for key in [k for k in self._sources if "cases" in k[:2]]:
            del self._sources[key]
        self._at.clear()
        self._within.clear()

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
            for row in self.store.form_entries(self.programme.id, kpi["form"], self.cases):
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
                kept = {i.case_id for i in self._sources[key].items}
                self._within[key] = (("cases", workflow, shared), kept)
            else:
                self._sources[key] = self._read_cases(workflow, states)
        return self._sources[key]

    def _read_cases(self, workflow: str | None, states: tuple[str, ...]) -> Source:
        items = []
        rows = self.store.workflow_cases(self.programme.id, workflow, list(states) or None,
                                         answers=self._answered.get(workflow, True),
                                         cases=self.cases)  # fmt: skip
        texts = []
        for a in (a for row in rows for a in row["answers"]):
            if isinstance(a["data"], str):
                texts.append(a)
            else:  # already decoded (PostgreSQL): a copy of its own, changed in place later
                a["data"] = dict(a["data"])
        if texts:  # one parse for every case's answers: a call per answer set cost half again
            try:
                parsed = json.loads(f"[{','.join(a['data'] for a in texts)}]")
            except ValueError:
                parsed = None
            if parsed is None or len(parsed) != len(texts):  # a damaged one: say which
                parsed = [json.loads(a["data"]) for a in texts]
            for a, data in zip(texts, parsed, strict=True):
                a["data"] = data
        empty = self._records_of([])  # shared by cases without answers: never changed in place
        for row in rows:
            answers = row.pop("answers")
            records, stamps = self._records_of(answers) if answers else empty
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
                answers = self.store.programme_answers(self.programme.id, self.cases)
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
        question = answer_of(by)
        q = self.questions.get(question) if question else None
        return values(kpi, period.label, by, self.parts(kpi, period, by), q)

    def parts(self, kpi: dict[str, Any], period: Period, by: str = "programme") -> Parts | None:
        """The KPI's tallies for one period by group (see `value`): None for a period still to
        come, which has no figure, not even a 0."""
        wf = kpi.get("workflow")
        if (
            kpi["source"] == "cases"
            and not self._answered.get(wf, True)
            and reads_answers(kpi, by, self._filter)
        ):
            self._with_answers(wf)
        source = self._source(kpi)  # in time order, so the period is a slice
        question = answer_of(by)
        at = min(period.end, self.now)
        if period.start > self.now:
            today = self.today(kpi)
            if period.start > today:
                return None
            at = min(period.end, today)
        cases, states = kpi["source"] == "cases", set(kpi.get("states") or ())
        # what came in (for cases: any of the workflow, in any state), whatever the KPI then picks
        held = self._held(kpi.get("workflow"), period.end) if cases else []
        if "date" in kpi:  # each item once, in the period its own date falls in
            dated = self._dated(kpi)
            last = bisect_left(dated.whens, period.end)
            items = dated.slice(bisect_left(dated.whens, period.start), last)
            held = held + [(i.organisation, i.lot) for i in dated.items[:last]]
            if cases:  # a case put on after the period ended is judged as it was put on
                items = self._as_at(items, at, states, own=True)
            items = [i.seen_at(max(at, i.when), self._merge) for i in items]
        else:
            # cases are counted as they stood at the period's end; returns and records by when sent
            first = 0 if cases else bisect_left(source.whens, period.start)
            items = source.slice(first, bisect_left(source.whens, period.end))
            if not cases:
                held = [(i.organisation, i.lot) for i in items]
                # what it had by the period's end: never a record sent after it
                items = [i.seen_at(at, self._merge) for i in items]
            else:
                items = self._cases_at(kpi, period.end, at, states)
        if "where" in kpi:
            where = self._filter(kpi["where"])
            data = self.programme.data
            items = [i for i in items if where.holds(i, at, data)]
        out = Parts(len(held))
        groups: dict[str, list[Item]] = {}
        if question is not None:
            q = self.questions.get(question)
            if not held or q is None:
                return out
            known = set(group_labels(q))
            for i in items:
                for key in answer_keys(q, known, (i.data or {}).get(question)):
                    groups.setdefault(key, []).append(i)
        elif by in ("organisation", "lot"):
            shared = held is self._begun_held.get(("held", kpi.get("workflow"), period.end))
            for key, n in self._group_counts(held, by, shared).items():
                out.groups[key] = Tally(held=n)
            for i in items:
                key = (i.organisation if by == "organisation" else i.lot) or "(none)"
                groups.setdefault(key, []).append(i)
        elif held or by == "programme":
            groups["programme"] = items
        for key, chosen in groups.items():
            tally = tallied(kpi, chosen, at, self._filter, self.programme.data)
            if key in out.groups:
                tally.held = out.groups[key].held
            out.groups[key] = tally
        return out

    def _cases_at(
        self, kpi: dict[str, Any], end: datetime, at: datetime, states: set[str]
    ) -> list[Item]:
        """The KPI's cases begun before `end` as they stood at `at`, with only what they had by
        then (never a record sent after it): worked out once for every KPI over the same cases."""
        key = ("cases", kpi.get("workflow"), tuple(kpi.get("states") or ()))
        self._cases(*key[1:])
        base, kept = self._within.get(key, (key, None))
        found = self._at.get((base, end, at))
        if found is None:
            source = self._sources[base]
            items = self._as_at(source.slice(0, bisect_left(source.whens, end)), at, set())
            found = self._at[(base, end, at)] = [i.seen_at(at, self._merge) for i in items]
        if kept is None and not states:
            return found
        return [i for i in found if (not states or i.state in states)
                and (kept is None or i.case_id in kept)]  # fmt: skip

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
                first = self.store.first_events(self.programme.id, event, self.cases)
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

    def agree_today(self, today: dict[str, datetime]) -> None:
        """Work out every figure from now on for each KPI's `today` as given (over every case)."""
        self._today = today

    def today(self, kpi: dict[str, Any]) -> datetime:
        """Now, or the last moment the programme recorded anything if that is later: a rehearsal's
        clock can be set before the data it shows (periods after this have no figures)."""
        if kpi["id"] in self._today:
            return self._today[kpi["id"]]
        if self._latest is None:
            changed = [updated or created for created, updated, *_rest in self._case_times()]
            self._latest = max((stored_moment(c) for c in changed), default=self.now)
        # returns and records are sent without moving the case; a case begins no later than
        # the latest change to any case, so its own source need not be read for this
        whens = [] if kpi["source"] == "cases" else self._source(kpi).whens
        return max(self.now, self._latest, whens[-1] if whens else self.now)

    def _begun(self, workflow: str | None) -> list[tuple[datetime, str | None, str | None]]:
        """When each case of the workflow started, in order, with its organisation and lot."""
        if workflow not in self._begun_cases:
            self._begun_cases[workflow] = sorted(
                [(datetime.fromisoformat(created), org, lot)
                 for created, _changed, wf, org, lot in self._case_times() if workflow in (None, wf)],
                key=lambda r: r[0])  # fmt: skip
        return self._begun_cases[workflow]

    def _held(self, workflow: str | None, end: datetime) -> list[tuple[str | None, str | None]]:
        """The organisation and lot of each case of the workflow begun before `end` (kept: every
        KPI over the workflow's cases asks the same for each period)."""
        key = ("held", workflow, end)
        if key not in self._begun_held:
            begun = self._begun(workflow)
            self._begun_held[key] = [(o, lot) for _w, o, lot in
                                     begun[: bisect_left(begun, end, key=lambda r: r[0])]]  # fmt: skip
        return self._begun_held[key]

    def _group_counts(
        self, held: list[tuple[str | None, str | None]], by: str, shared: bool
    ) -> Counter[str]:
        """How many of these items each organisation or lot holds (kept when `held` is shared)."""
        key = (id(held), by)
        if shared and key in self._keys:
            return self._keys[key]
        found = Counter(((o if by == "organisation" else lot) or "(none)") for o, lot in held)
        if shared:  # `held` is kept too, so its id stays its own
            self._keys[key] = found
        return found

    def _case_times(self) -> list[tuple[str, str | None, str, str | None, str | None]]:
        """Every case's times, workflow, organisation and lot: one read, shared."""
        if self._times is None:
            self._times = self.store.case_times(self.programme.id, self.cases)
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
        """The cases as they stood at `at` (see `kpi_items.as_at`), their moves read once."""
        return as_at(items, at, states, self._moves, self.store.state_changes, own)

    def table(
        self, period_kind: str | None, start: datetime, end: datetime, by: str = "programme"
    ) -> list[KpiValue]:
        """Every KPI for every period between start and end (each KPI's own period unless given)."""
        out: list[KpiValue] = []
        for kpi in self.programme.data["kpis"]:
            for p in periods(period_kind or kpi.get("period", "quarter"), start, end, self.tz):
                out.extend(self.value(kpi, p, by))
        return out


__all__ = ["KpiCalculator", "KpiValue", "Parts", "Period", "period_of", "periods", "rag"]
