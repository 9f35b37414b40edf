"""A page's KPI figures as runs of case ids (`Runs`), and the bytes they are kept in the database
as, so that every web process and host starts from the same figures (see `kpi_kept`).

The bytes are JSON, compressed: never pickled, so what the database holds is only ever read as
data. Figures kept by other engine code, or for another version of the programme, are not used.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from engine.model import Programme
from engine.reporting.kpi_measures import Tally
from engine.reporting.kpi_parts import Parts
from engine.reporting.kpis import KpiCalculator
from engine.reporting.memo import packed

if TYPE_CHECKING:  # only for annotations: a store is passed in by the caller
    from engine.store import StoreContract

FORMAT = 2  # the shape of the bytes: figures kept in another are worked out again
LIMIT = 1 << 29  # bytes a page's kept figures may take once decompressed (read no further)

# a KPI, a period (start and end), a breakdown, and for a period begun after now the `today` it
# was worked out for (None otherwise)
Request = tuple[str, datetime, datetime, str, datetime | None]
Span = tuple[datetime, datetime] | None


@dataclass
class Run:
    """What one run of case ids gives: each KPI's span and today, and each request's parts (as
    read from the database, still in their kept form until this run is worked out again)."""

    spans: dict[str, Span]
    todays: dict[str, datetime]
    held: dict[Request, Parts | list[Any]] = field(default_factory=dict)
    # the parts as read from the database, with the requests they number: put in `parts` only
    # when something asks for them (a page opened in a new process needs only the sums)
    read: tuple[list[Any], list[Request]] | None = None

    @property
    def parts(self) -> dict[Request, Parts | list[Any]]:
        """Each request's parts (`Parts`, or a list in their kept form)."""
        if self.read is not None:
            entries, requests = self.read
            self.read = None
            for i, held, groups in entries:
                self.held[requests[i]] = [held, groups]
        return self.held

    def take(self, request: Request) -> Parts | None:
        """Let go of a request's parts, and give them (to take them away from the sum)."""
        got = self.parts.pop(request, None)
        return _unparts(got) if isinstance(got, list) else got


@dataclass
class Runs:
    """One page's runs and their sums, up to date with audit row `checked`."""

    version: str
    day: date
    size: int
    checked: int
    since: datetime  # when figures that read `now` were last worked out from every run
    runs: dict[int, Run] = field(default_factory=dict)
    totals: dict[Request, Parts] = field(default_factory=dict)
    unsaved: set[int] = field(default_factory=set)  # runs worked out again since last kept
    grown: bool = True  # figures worked out from every run since last kept

    def forget(self, request: Request) -> None:
        """Let go of a figure's parts and their sum (worked out from every run when next asked)."""
        del self.totals[request]
        for run in self.runs.values():
            run.parts.pop(request, None)

    def calculator(self, store: StoreContract, programme: Programme, now: datetime, number: int,
                   today: dict[str, datetime] | None = None) -> KpiCalculator:  # fmt: skip
        """A calculator over run `number`'s cases."""
        low = number * self.size
        return KpiCalculator(store, programme, now, cases=(low, low + self.size), today=today)


def to_bytes(kept: Runs) -> bytes:
    """The figures as kept in the database."""
    requests = list(kept.totals)
    index = {r: i for i, r in enumerate(requests)}
    body = {
        "format": FORMAT, "version": kept.version, "day": kept.day.isoformat(), "size": kept.size,
        "checked": kept.checked, "since": kept.since.isoformat(),
        "requests": [[k, a.isoformat(), b.isoformat(), by, t and t.isoformat()] for k, a, b, by, t in requests],
        "runs": [[number, {k: s and [s[0].isoformat(), s[1].isoformat()] for k, s in run.spans.items()},
                  {k: t.isoformat() for k, t in run.todays.items()},
                  [[index[r], *(p if isinstance(p, list) else _parts(p))]
                   for r, p in run.parts.items() if r in index]]
                 for number, run in kept.runs.items()],
        "totals": [_parts(kept.totals[r]) for r in requests],
    }  # fmt: skip
    return packed(body)


def from_bytes(body: dict[str, Any], version: str, size: int) -> Runs | None:
    """The figures kept as `body` (as `memo.kept_body` reads them); None if they are of another
    programme version, run size or format."""
    if body.get("format") != FORMAT or body["version"] != version or body["size"] != size:
        return None
    at = datetime.fromisoformat
    requests: list[Request] = [(k, at(a), at(b), by, t and at(t)) for k, a, b, by, t in body["requests"]]  # fmt: skip
    totals = {r: _unparts(t) for r, t in zip(requests, body["totals"], strict=True)}
    kept = Runs(version, date.fromisoformat(body["day"]), size, body["checked"], at(body["since"]),
                totals=totals, grown=False)  # fmt: skip
    for number, spans, todays, parts in body["runs"]:
        kept.runs[number] = Run(
            {k: s and (at(s[0]), at(s[1])) for k, s in spans.items()},
            {k: at(t) for k, t in todays.items()},
            read=(parts, requests),  # as Parts only if the run is worked out again
        )
    return kept


def _parts(p: Parts) -> list[Any]:
    return [p.held, {g: _tally(t) for g, t in p.groups.items()}]


def _unparts(v: list[Any]) -> Parts:
    held, groups = v
    return Parts(held, {g: _untally(t) for g, t in groups.items()})


def _tally(t: Tally) -> list[Any]:
    numbers = None if t.numbers is None else list(t.numbers.items())
    return [t.held, t.count, t.total, t.n, t.hits, numbers]


def _untally(v: list[Any]) -> Tally:
    held, count, total, n, hits, numbers = v
    return Tally(held, count, total, n, hits, None if numbers is None else Counter(dict(numbers)))
