"""KPIs as the programme defines them: counted, summed, averaged, as percentages or matched
pre/post change, over returns, case records or cases, per period and per organisation or lot,
with red/amber/green against the target.

Periods follow the UK public-sector financial year: quarters start in April, July, October and
January; a year starts on 1 April.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from .answers import cel_value
from .model import Programme, Question
from .rules import compile_expression
from .store import Store


@dataclass(frozen=True)
class Period:
    """A reporting period: [start, end) in the programme's timezone."""

    kind: str
    start: datetime
    end: datetime

    @property
    def label(self) -> str:
        """How people name it: `April 2022`, `Q1 2022/23`, `2022/23`."""
        s = self.start
        if self.kind == "month":
            return f"{s:%B %Y}"
        fy = s.year if s.month >= 4 else s.year - 1
        if self.kind == "quarter":
            return f"Q{((s.month - 4) % 12) // 3 + 1} {fy}/{(fy + 1) % 100:02d}"
        if self.kind == "year":
            return f"{fy}/{(fy + 1) % 100:02d}"
        return "whole contract"


def period_of(kind: str, moment: datetime, tz: ZoneInfo) -> Period:
    """The period of `kind` that contains `moment`."""
    local = moment.astimezone(tz)
    if kind == "month":
        start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        months = 1
    elif kind == "quarter":  # financial quarters start in the same months as calendar ones
        start = local.replace(
            month=(local.month - 1) // 3 * 3 + 1, day=1, hour=0, minute=0, second=0, microsecond=0
        )
        months = 3
    elif kind == "year":
        year = local.year if local.month >= 4 else local.year - 1
        start = local.replace(year=year, month=4, day=1, hour=0, minute=0, second=0, microsecond=0)
        months = 12
    else:
        return Period("contract", datetime(1900, 1, 1, tzinfo=tz), datetime(9999, 1, 1, tzinfo=tz))
    month0 = start.month - 1 + months
    end = start.replace(year=start.year + month0 // 12, month=month0 % 12 + 1)
    return Period(kind, start, end)


def periods(kind: str, start: datetime, end: datetime, tz: ZoneInfo) -> list[Period]:
    """Every period of `kind` overlapping [start, end)."""
    if kind == "contract":
        return [period_of(kind, start, tz)]
    out: list[Period] = []
    p = period_of(kind, start, tz)
    while p.start < end:
        out.append(p)
        p = period_of(kind, p.end + timedelta(hours=1), tz)
    return out


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


def _questions(programme: Programme) -> dict[str, Question]:
    out: dict[str, Question] = {}
    for form in programme.forms.values():
        for q in form.questions().values():
            out.setdefault(q.id, q)
    return out


@dataclass
class _Item:
    variables: dict[str, Any]
    when: datetime
    organisation: str | None
    lot: str | None


class KpiCalculator:
    """Computes a programme's KPIs from one database, reading each case's data once."""

    def __init__(self, store: Store, programme: Programme, now: datetime) -> None:
        self.store = store
        self.programme = programme
        self.now = now
        self.tz = ZoneInfo(programme.timezone)
        self.questions = _questions(programme)
        self._cases: list[dict[str, Any]] | None = None

    def _load(self) -> list[dict[str, Any]]:
        """Every case of the programme with its answers and records, once."""
        if self._cases is None:
            cases = []
            repeatable = {
                (e["form"], e["workflow"])
                for e in self.programme.data["forms"]
                if e.get("repeatable")
            }
            for row in self.store.programme_cases(self.programme.id):
                answers: dict[str, Any] = {}
                latest: dict[str, Any] = {}
                records: dict[str, list[dict[str, Any]]] = {
                    e["form"]: [] for e in self.programme.data["forms"]
                }
                entries: list[tuple[str, dict[str, Any], str | None]] = []
                for a in self.store.answers(row["id"]):
                    converted = {
                        k: cel_value(self.questions.get(k), v) for k, v in a["data"].items()
                    }
                    records.setdefault(a["form"], []).append(converted)
                    entries.append((a["form"], converted, a["submitted_at"]))
                    if (a["form"], row["workflow"]) in repeatable:
                        latest.update(converted)
                    else:
                        answers.update(converted)
                entered = {k: datetime.fromisoformat(v) for k, v in row["entered"].items()}
                case = {"state": row["state"], "flags": row["flags"], "records": records, "entered": entered,
                        "reference": row["reference"], "lot": row["lot"] or "",
                        "organisation": row["organisation_id"] or ""}  # fmt: skip
                cases.append(
                    {
                        "row": row,
                        "answers": answers,
                        "latest": latest,
                        "case": case,
                        "entries": entries,
                    }
                )
            self._cases = cases
        return self._cases

    def _items(self, kpi: dict[str, Any], at: datetime) -> Iterator[_Item]:
        source = kpi["source"]
        for c in self._load():
            row = c["row"]
            if kpi.get("workflow") and row["workflow"] != kpi["workflow"]:
                continue
            if "states" in kpi and row["state"] not in kpi["states"]:
                continue
            base = {
                "case": c["case"],
                "now": at,
                "role": row["role"] or "",
                "programme": self.programme.data,
            }
            if source == "cases":
                variables = {**c["latest"], **c["answers"], **base, "answers": c["answers"]}
                created = datetime.fromisoformat(row["created_at"])
                yield _Item(variables, created, row["organisation_id"], row["lot"])
                continue
            for form, data, submitted in c["entries"]:
                if form != kpi["form"] or not submitted:
                    continue
                variables = {**c["answers"], **data, **base, "answers": {**c["answers"], **data}}
                yield _Item(
                    variables, datetime.fromisoformat(submitted), row["organisation_id"], row["lot"]
                )

    def value(self, kpi: dict[str, Any], period: Period, by: str = "programme") -> list[KpiValue]:
        """The KPI for one period, for the programme or broken down by organisation or lot."""
        at = min(period.end, self.now)
        groups: dict[str, list[_Item]] = defaultdict(list)
        for item in self._items(kpi, at):
            if kpi["source"] == "cases":
                if item.when >= period.end:
                    continue  # cases are counted as they stood at the end of the period
            elif not (period.start <= item.when < period.end):
                continue
            if "where" in kpi and not _holds(kpi["where"], item.variables):
                continue
            key = {"organisation": item.organisation, "lot": item.lot}.get(
                by, "programme"
            ) or "(none)"
            groups[key].append(item)
        if not groups and by == "programme":
            groups["programme"] = []
        return [self._result(kpi, period, group, items) for group, items in sorted(groups.items())]

    def _result(
        self, kpi: dict[str, Any], period: Period, group: str, items: list[_Item]
    ) -> KpiValue:
        measure = kpi["measure"]
        value: float | None
        if measure == "count":
            value = float(len(items))
        elif measure in ("sum", "average"):
            numbers = [
                n for n in (_number(i.variables.get(kpi["field"])) for i in items) if n is not None
            ]
            total = sum(numbers)
            value = (
                float(total) if measure == "sum" else (total / len(numbers) if numbers else None)
            )
        elif measure == "percentage":
            hits = sum(1 for i in items if _holds(kpi["numerator"], i.variables))
            value = 100.0 * hits / len(items) if items else None
        else:  # matched_change: only people with both measures count
            pairs = [
                (_number(i.variables.get(kpi["pre"])), _number(i.variables.get(kpi["post"])))
                for i in items
            ]
            changes = [post - pre for pre, post in pairs if pre is not None and post is not None]
            value = sum(changes) / len(changes) if changes else None
        target = kpi.get("target", {}).get("value")
        return KpiValue(
            kpi["id"], kpi["title"], period.label, group, value, len(items), target, rag(kpi, value)
        )

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
    """Red, amber or green from the KPI's thresholds (or its target alone); None without either."""
    if value is None:
        return None
    down = kpi.get("target", {}).get("direction") == "at_most"

    def meets(threshold: float) -> bool:
        return value <= threshold if down else value >= threshold

    if "rag" in kpi:
        if meets(kpi["rag"]["green"]):
            return "green"
        return "amber" if meets(kpi["rag"]["amber"]) else "red"
    if "target" in kpi:
        return "green" if meets(kpi["target"]["value"]) else "red"
    return None


def _number(x: Any) -> float | None:
    return float(x) if isinstance(x, int | float) and not isinstance(x, bool) else None


def _holds(source: str, variables: dict[str, Any]) -> bool:
    expr = compile_expression(source)
    if expr.names - set(variables):
        return False  # an item missing what the filter reads does not count
    try:
        return bool(expr.evaluate({n: variables[n] for n in expr.names}))
    except Exception:
        return False


def suppress(rows: Iterable[KpiValue], below: int) -> list[dict[str, Any]]:
    """Rows for an anonymised report: counts under the threshold are hidden, not shown as 0."""
    out = []
    for r in rows:
        hidden = 0 < r.count < below
        out.append({**r.__dict__, "value": None if hidden else r.value, "suppressed": hidden})
    return out
