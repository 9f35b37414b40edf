"""A programme's KPI figures kept between page views, a run of case ids at a time, and brought up
to date by working out again only the runs holding a case that changed.

Working out every KPI for every period reads every case and evaluates the KPIs' expressions over
each (with 100,000 cases, tens of seconds), and any change to any case of the programme made the
KPI and trend pages do it all again. A KPI's figure for a period is made of parts that add up
across cases (`kpi_parts`): how many items, their sum, how many a percentage's numerator holds
for, per group. So the cases are split into runs of consecutive ids (`size` of them); each run's
parts are kept with their sum over every run. After a change, the audit rows written since say
which cases changed (every change to a case writes one, in the same transaction); each run
holding one is worked out again, and the sums corrected by the difference.

What every run shares is worked out over them all: when each KPI's figures begin and end (the
periods a page shows) and "today" (a rehearsal's clock may be set before the data it shows).
A run's parts hold each KPI as at the moment it was worked out (a period's end, or now for a
period not over): a run nothing happened to reads the same at any later moment, except where a
KPI's expression reads the moment itself (`now`) in a period not over when it was worked out.
Those figures are worked out again from every run once a day (between, a run nothing happened to
keeps the figure of earlier that day, as a figure read from every case was kept before); a new
period (a new month) is worked out from every run when a page first shows it.

Kept per process, for a few pages at a time, each with the audit id it is up to date with (as
`memo`); a new version of the programme or of the engine's code, or another database at the same
address, reads everything again. One page's figures are brought up to date by one thread at a
time. They are also kept in the database (`kept_figures`, as `kpi_runs` turns them into bytes)
whenever figures were worked out from every run, or a tenth of the runs were worked out again
since: a web process that starts, on any host, brings those up to date by the runs changed
since rather than reading every case.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Hashable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from engine.errors import DatabaseError
from engine.model import Programme
from engine.reporting import kpi_runs
from engine.reporting.kpi_filters import Filter
from engine.reporting.kpi_groups import answer_of
from engine.reporting.kpi_parts import KpiValue, Parts, values
from engine.reporting.kpi_runs import Request, Run, Runs, Span, from_bytes, to_bytes
from engine.reporting.kpis import KpiCalculator, Period
from engine.reporting.memo import kept_body, unusable

if TYPE_CHECKING:  # only for annotations: a store is passed in by the caller
    from engine.store import StoreContract

KEPT = 6  # pages kept at once
HELD = 8  # runs worked out again whose calculators are held until `prepare` (more: read twice)
SIZE = 250  # case ids in a run: working one out again costs about 0.3 ms a case
NARROW = 125  # for a page of many periods (trends), each case counted in each of them
WIDE = 2000  # for a breakdown by organisation or lot, with a tally per group in every run

_kept: OrderedDict[tuple[Any, ...], Runs] = OrderedDict()
_locks: dict[tuple[Any, ...], threading.Lock] = {}
_lock = threading.Lock()


class KeptKpis:
    """A programme's KPIs as a page reads them (`span`, `today`, `value`), from kept parts: call
    `prepare` with every figure the page will show before reading them."""

    def __init__(self, store: StoreContract, programme: Programme, now: datetime,
                 kept: Runs, fresh: dict[int, KpiCalculator | None]) -> None:  # fmt: skip
        self.store, self.programme, self.now = store, programme, now
        self._kept = kept
        self._fresh = fresh  # the runs worked out again on this view (None: not held)
        self._spans: dict[str, Span] = {}
        self._todays: dict[str, datetime] = {}
        for kpi_id in (k["id"] for k in programme.data["kpis"]):
            found = [s for r in kept.runs.values() if (s := r.spans.get(kpi_id))]
            self._spans[kpi_id] = (
                (min(s[0] for s in found), max(s[1] for s in found)) if found else None
            )
            self._todays[kpi_id] = max(
                [now, *(r.todays[kpi_id] for r in kept.runs.values() if kpi_id in r.todays)]
            )
        for calc in fresh.values():  # every run is worked out for the same `today`
            if calc is not None:
                calc.agree_today(self._todays)

    @property
    def runs_read(self) -> int:
        """How many runs of cases were read again for this view."""
        return len(self._fresh)

    def span(self, kpi: dict[str, Any]) -> Span:
        """When the first and the last of the KPI's returns, records or cases came in."""
        return self._spans.get(kpi["id"])

    def today(self, kpi: dict[str, Any]) -> datetime:
        """Now, or the last moment the programme recorded anything if that is later."""
        return self._todays.get(kpi["id"], self.now)

    def _request(self, kpi: dict[str, Any], period: Period, by: str) -> Request | None:
        """The request for this figure (None: a period still to come, with no figure)."""
        if period.start <= self.now:
            return (kpi["id"], period.start, period.end, by, None)
        today = self.today(kpi)
        return None if period.start > today else (kpi["id"], period.start, period.end, by, today)

    def prepare(self, asked: list[tuple[dict[str, Any], Period, str]]) -> None:
        """Bring the parts of these figures up to date: the runs worked out again on this view
        for figures kept, every run for a figure not kept (any others are let go)."""
        kept = self._kept
        wanted: dict[Request, tuple[dict[str, Any], Period, str]] = {}
        for kpi, period, by in asked:
            if (request := self._request(kpi, period, by)) is not None:
                wanted[request] = (kpi, period, by)
        for request in [r for r in kept.totals if r not in wanted]:
            kept.forget(request)
        for number, held in self._fresh.items():
            run = kept.runs[number]
            calc = held or self._calculator(number)
            for request in [r for r in wanted if r in kept.totals]:
                old, new = run.take(request), calc.parts(*wanted[request])
                if old is not None:
                    kept.totals[request].add(old, -1)
                if new is not None:
                    kept.totals[request].add(new)
                    run.parts[request] = new
        new_requests = [r for r in wanted if r not in kept.totals]
        if not new_requests:
            return
        kept.grown = True  # worked out from every run: worth keeping for other processes
        for request in new_requests:
            kept.totals[request] = Parts(0)
        for number, run in kept.runs.items():
            calc = self._fresh.get(number) or self._calculator(number)
            for request in new_requests:
                if (parts := calc.parts(*wanted[request])) is not None:
                    run.parts[request] = parts
                    kept.totals[request].add(parts)

    def _calculator(self, number: int) -> KpiCalculator:
        return self._kept.calculator(self.store, self.programme, self.now, number, self._todays)

    def value(self, kpi: dict[str, Any], period: Period, by: str = "programme") -> list[KpiValue]:
        """The KPI for one period, for the programme or broken down (as `KpiCalculator.value`)."""
        request = self._request(kpi, period, by)
        if request is not None and request not in self._kept.totals:
            self.prepare([(kpi, period, by)])  # not asked for beforehand: every run is read
        question = answer_of(by)
        q = self.programme.questions().get(question) if question else None
        parts = None if request is None else self._kept.totals[request]
        return values(kpi, period.label, by, parts, q)


def _new_day(kept: Runs, programme: Programme, day: date, now: datetime) -> None:
    """Let go of the figures of KPIs that read the moment (`now`) in periods not over when they
    were last worked out from every run: the page works them out again from every run."""
    moment = {k["id"] for k in programme.data["kpis"]
              if any("now" in Filter(k[f]).names for f in ("where", "numerator", "value") if f in k)}  # fmt: skip
    for request in [r for r in kept.totals if r[0] in moment and r[2] > kept.since]:
        kept.forget(request)
    kept.day, kept.since = day, now


@contextmanager
def kept_kpis(
    store: StoreContract, programme: Programme, now: datetime, page: tuple[Hashable, ...],
    wide: bool = False, many: bool = False,
) -> Iterator[KeptKpis]:  # fmt: skip
    """One page's KPI figures, up to date with every case (`wide`: broken down by organisation
    or lot, kept in longer runs; `many`: many periods, in shorter ones); one thread at a time per
    page."""
    key = (store.revision()[0], programme.id, *page)
    with _lock:
        lock = _locks.setdefault(key, threading.Lock())
    with lock, ExitStack() as alone:
        # read under the lock: another thread may have brought the figures up to a newer row
        newest = store.revision()[1]
        with _lock:
            kept = _kept.pop(key, None)  # put back only once it is up to date again
        day = now.astimezone(ZoneInfo(programme.timezone)).date()
        size = WIDE if wide else NARROW if many else SIZE
        if kept is None:  # none in this process: those another process kept, if any
            kept = _stored(store, programme, page, size, newest)
        if unusable(kept, programme.version, newest):
            # every run to work out: one process at a time, until kept (up to a minute with
            # 100,000 cases); one that waited reads what the other kept
            alone.enter_context(store.one_at_a_time(_stored_key(programme, page)))
            newest = store.revision()[1]
            kept = _stored(store, programme, page, size, newest)
        if unusable(kept, programme.version, newest):
            kept = Runs(programme.version, day, size, newest, now)
            numbers = store.case_buckets(programme.id, kept.size)
        else:
            if kept.day != day:
                _new_day(kept, programme, day, now)
            changed = (store.programme_cases_changed(programme.id, kept.checked, newest)
                       if kept.checked < newest else set())  # fmt: skip
            numbers = sorted({case_id // kept.size for case_id in changed})
            kept.checked = newest
            kept.unsaved.update(numbers)
        fresh: dict[int, KpiCalculator | None] = {}
        for number in numbers:
            calc = kept.calculator(store, programme, now, number)
            kpis = programme.data["kpis"]
            run = kept.runs.setdefault(number, Run({}, {}))
            run.spans = {k["id"]: calc.span(k) for k in kpis}
            run.todays = {k["id"]: calc.today(k) for k in kpis}
            # a few are held for their parts; of many (every run, on a first view), each is read
            # again then, so that only one run's cases are in memory at a time
            fresh[number] = calc if len(numbers) <= HELD else None
        # a failure part way leaves nothing kept: the next view works everything out again
        yield KeptKpis(store, programme, now, kept, fresh)
        if kept.grown or len(kept.unsaved) > max(HELD, len(kept.runs) // 10):
            _keep(store, programme, page, kept)
        with _lock:
            _kept[key] = kept
            while len(_kept) > KEPT:
                gone, _ = _kept.popitem(last=False)
                _locks.pop(gone, None)


def _stored_key(programme: Programme, page: tuple[Hashable, ...]) -> str:
    """The key a page's figures are kept under in the database."""
    return "kpis:" + json.dumps([programme.id, *page], default=str, separators=(",", ":"))


def _stored(store: StoreContract, programme: Programme, page: tuple[Hashable, ...], size: int,
            newest: int) -> Runs | None:  # fmt: skip
    """The page's figures as a process kept them in the database (None: none to use)."""
    body = kept_body(store, _stored_key(programme, page), newest, kpi_runs.LIMIT)
    try:
        return None if body is None else from_bytes(body, programme.version, size)
    except (ValueError, KeyError, TypeError):  # not as kept: worked out again
        return None


def _keep(store: StoreContract, programme: Programme, page: tuple[Hashable, ...], kept: Runs) -> None:  # fmt: skip
    """Keep the page's figures in the database for every process (unless newer ones are kept)."""
    when = datetime.now(UTC).isoformat()  # the real time, whatever the clock pages are shown for
    try:
        store.keep_figures(
            programme.id, _stored_key(programme, page), kept.checked, to_bytes(kept), when
        )
    except DatabaseError:  # busy: the figures are right all the same; they are kept next time
        return
    kept.unsaved.clear()
    kept.grown = False
