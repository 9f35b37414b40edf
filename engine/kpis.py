"""KPIs as the programme defines them: counted, summed, averaged, as percentages or matched
pre/post change, over returns, case records or cases, per period and per organisation or lot,
with red/amber/green against the target.

Periods follow the UK public-sector financial year: quarters start in April, July, October and
January; a year starts on 1 April.
"""

from __future__ import annotations

import json
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from .answers import cel_value
from .model import Programme
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


@dataclass
class _Item:
    """One thing a KPI counts (a return, a record or a case), with what expressions may read."""

    data: dict[str, Any]  # the answers, as expressions see them
    case: dict[str, Any]  # `case` as expressions see it
    when: datetime
    organisation: str | None
    lot: str | None
    role: str

    def scope(
        self, names: frozenset[str], now: datetime, programme: dict[str, Any]
    ) -> dict[str, Any] | None:
        """The variables an expression reads, or None if it reads something this item lacks."""
        out: dict[str, Any] = {}
        for name in names:
            if name in self.data:
                out[name] = self.data[name]
            elif name == "case":
                out[name] = self.case
            elif name == "answers":
                out[name] = self.data
            elif name == "now":
                out[name] = now
            elif name == "role":
                out[name] = self.role
            elif name == "programme":
                out[name] = programme
            else:
                return None
        return out


class KpiCalculator:
    """Computes a programme's KPIs from one database, reading only what each KPI needs, once."""

    def __init__(self, store: Store, programme: Programme, now: datetime) -> None:
        self.store = store
        self.programme = programme
        self.now = now
        self.tz = ZoneInfo(programme.timezone)
        self.questions = programme.questions()
        self._cache: dict[tuple[Any, ...], list[_Item]] = {}
        self._repeatable = {e["form"] for e in programme.data["forms"] if e.get("repeatable")}

    def _convert(self, data: str | dict[str, Any]) -> dict[str, Any]:
        raw = json.loads(data) if isinstance(data, str) else data
        return {k: cel_value(self.questions.get(k), v) for k, v in raw.items()}

    def _case(
        self, row: dict[str, Any], records: dict[str, list[dict[str, Any]]] | None
    ) -> dict[str, Any]:
        flags = json.loads(row["flags"]) if isinstance(row["flags"], str) else row["flags"]
        entered = json.loads(row["entered"]) if isinstance(row["entered"], str) else row["entered"]
        return {
            "id": row.get("id", row.get("case_id")), "state": row["state"], "flags": flags,
            "reference": row["reference"], "lot": row["lot"] or "", "organisation": row["organisation_id"] or "",
            "entered": {k: datetime.fromisoformat(v) for k, v in entered.items()},
            "records": records if records is not None else _NoRecords(),
        }  # fmt: skip

    def _items(self, kpi: dict[str, Any]) -> list[_Item]:
        if kpi["source"] == "cases":
            key: tuple[Any, ...] = ("cases", kpi.get("workflow"), tuple(kpi.get("states", ())))
            if key not in self._cache:
                items = []
                for row in self.store.workflow_cases(
                    self.programme.id, kpi.get("workflow"), kpi.get("states")
                ):
                    answers: dict[str, Any] = {}
                    latest: dict[str, Any] = {}
                    records: dict[str, list[dict[str, Any]]] = {
                        e["form"]: [] for e in self.programme.data["forms"]
                    }
                    for a in row["answers"]:
                        converted = self._convert(a["data"])
                        records.setdefault(a["form"], []).append(converted)
                        (latest if a["form"] in self._repeatable else answers).update(converted)
                    items.append(_Item({**latest, **answers}, self._case(row, records),
                                       datetime.fromisoformat(row["created_at"]), row["organisation_id"],
                                       row["lot"], row["role"] or ""))  # fmt: skip
                self._cache[key] = sorted(items, key=lambda i: i.when)
            return self._cache[key]
        key = ("form", kpi["form"])
        if key not in self._cache:
            self._cache[key] = [
                _Item(
                    self._convert(row["data"]),
                    self._case(row, None),
                    datetime.fromisoformat(row["submitted_at"]),
                    row["organisation_id"],
                    row["lot"],
                    row["role"] or "",
                )
                for row in self.store.form_entries(self.programme.id, kpi["form"])
            ]
        items = self._cache[key]
        if "states" in kpi:
            items = [i for i in items if i.case["state"] in kpi["states"]]
        if any("case.records" in kpi.get(k, "") for k in ("where", "numerator")):
            for item in items:  # only filters that read a case's other records pay to load them
                if isinstance(item.case["records"], _NoRecords):
                    item.case["records"] = self._records_of(item.case["id"])
        return items

    def _records_of(self, case_id: int) -> dict[str, list[dict[str, Any]]]:
        records: dict[str, list[dict[str, Any]]] = {
            e["form"]: [] for e in self.programme.data["forms"]
        }
        for a in self.store.answers(case_id):
            records.setdefault(a["form"], []).append(self._convert(a["data"]))
        return records

    def value(self, kpi: dict[str, Any], period: Period, by: str = "programme") -> list[KpiValue]:
        """The KPI for one period, for the programme or broken down by organisation or lot."""
        at = min(period.end, self.now)
        where = compile_expression(kpi["where"]) if "where" in kpi else None
        groups: dict[str, list[_Item]] = defaultdict(list)
        items = self._items(kpi)  # in time order, so the period is a slice
        whens = [i.when for i in items]
        # cases are counted as they stood at the end of the period; returns and records by when sent
        first = 0 if kpi["source"] == "cases" else bisect_left(whens, period.start)
        for item in items[first : bisect_left(whens, period.end)]:
            if where is not None and not self._holds(where, item, at):
                continue
            key = {"organisation": item.organisation, "lot": item.lot}.get(
                by, "programme"
            ) or "(none)"
            groups[key].append(item)
        if not groups and by == "programme":
            groups["programme"] = []
        return [
            self._result(kpi, period, group, items, at) for group, items in sorted(groups.items())
        ]

    def _holds(self, expr: Any, item: _Item, at: datetime) -> bool:
        scope = item.scope(expr.names, at, self.programme.data)
        if scope is None:
            return False  # an item missing what the filter reads does not count
        try:
            return bool(expr.evaluate(scope))
        except Exception:
            return False

    def _result(
        self, kpi: dict[str, Any], period: Period, group: str, items: list[_Item], at: datetime
    ) -> KpiValue:
        measure = kpi["measure"]
        value: float | None
        if measure == "count":
            value = float(len(items))
        elif measure in ("sum", "average"):
            numbers = [
                n for n in (_number(i.data.get(kpi["field"])) for i in items) if n is not None
            ]
            total = sum(numbers)
            value = (
                float(total) if measure == "sum" else (total / len(numbers) if numbers else None)
            )
        elif measure == "percentage":
            numerator = compile_expression(kpi["numerator"])
            hits = sum(1 for i in items if self._holds(numerator, i, at))
            value = 100.0 * hits / len(items) if items else None
        else:  # matched_change: only people with both measures count
            pairs = [
                (_number(i.data.get(kpi["pre"])), _number(i.data.get(kpi["post"]))) for i in items
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


class _NoRecords(dict):  # type: ignore[type-arg]
    """Stands for a case's records where no expression asked for them."""


def suppress(rows: Iterable[KpiValue], below: int) -> list[dict[str, Any]]:
    """Rows for an anonymised report: counts under the threshold are hidden, not shown as 0."""
    out = []
    for r in rows:
        hidden = 0 < r.count < below
        out.append({**r.__dict__, "value": None if hidden else r.value, "suppressed": hidden})
    return out
