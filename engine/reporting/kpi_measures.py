"""What a KPI's measure makes of the items it counts: a count, sum, average, median, percentage
or matched change; whether it reads their answers at all; and its red/amber/green against the
target."""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from engine.reporting.kpi_filters import Filter
from engine.reporting.kpi_groups import answer_breakdowns, answer_of
from engine.reporting.kpi_items import Item

_NUMBER = {int, float}


@dataclass(slots=True)
class Tally:
    """What a KPI's measure keeps of a group's items: enough to add the tallies of two sets of
    items (or take one away) and give the value of them all."""

    held: int = 0  # the group's own returns or cases that had come in (see KpiCalculator.parts)
    count: int = 0  # items counted
    total: float = 0.0  # a sum's, an average's or a matched change's
    n: int = 0  # numbers in `total`
    hits: int = 0  # items a percentage's numerator holds for
    numbers: Counter[float] | None = None  # a median's, each with how many times it came

    def add(self, other: Tally, sign: int = 1) -> None:
        """Add another tally to this one (sign -1: take it away)."""
        self.held += sign * other.held
        self.count += sign * other.count
        self.total += sign * other.total
        self.n += sign * other.n
        self.hits += sign * other.hits
        if other.numbers:
            mine = self.numbers if self.numbers is not None else Counter()
            for x, k in other.numbers.items():
                mine[x] += sign * k
                if not mine[x]:
                    del mine[x]
            self.numbers = mine

    @property
    def empty(self) -> bool:
        """Whether nothing is left in it."""
        return not (self.held or self.count or self.n or self.hits or self.numbers)


def tallied(
    kpi: dict[str, Any], items: list[Item], at: datetime, filter_of: Callable[[str], Filter],
    data: dict[str, Any],
) -> Tally:  # fmt: skip
    """What the KPI's measure keeps of these items as at `at`."""
    measure, out = kpi["measure"], Tally(count=len(items))
    if measure in ("sum", "average", "median"):
        if "value" in kpi:  # worked out per item, such as days_between(referral, contact)
            of = filter_of(kpi["value"])
            numbers = [x for i in items if (x := of.number(i, at, data)) is not None]
        else:  # answers come from JSON, so exact types: a bool (an int to isinstance) is not one
            numbers = [float(x) for i in items if type(x := i.data.get(kpi["field"])) in _NUMBER]
        out.total, out.n = float(sum(numbers)), len(numbers)
        if measure == "median":
            out.numbers = Counter(numbers)
    elif measure == "percentage":
        numerator = filter_of(kpi["numerator"])
        out.hits = sum(1 for i in items if numerator.holds(i, at, data))
    elif measure == "matched_change":  # only people with both measures count
        pairs = [(_number(i.data.get(kpi["pre"])), _number(i.data.get(kpi["post"])))
                 for i in items]  # fmt: skip
        changes = [post - pre for pre, post in pairs if pre is not None and post is not None]
        out.total, out.n = float(sum(changes)), len(changes)
    return out


def value_of(kpi: dict[str, Any], tally: Tally) -> float | None:
    """The KPI's value from what its measure kept (None: nothing to compute it from)."""
    measure = kpi["measure"]
    if measure == "count":
        return float(tally.count)
    # rounded: parts added and taken away leave traces of float rounding, which must not tip
    # a value that meets its target exactly to amber
    if measure == "sum":
        return round(tally.total, 9)
    if measure == "median":
        numbers = sorted((tally.numbers or Counter()).elements())
        return statistics.median(numbers) if numbers else None
    if measure == "percentage":
        return 100.0 * tally.hits / tally.count if tally.count else None
    return round(tally.total, 9) / tally.n if tally.n else None  # average, matched change


def reads_answers(kpi: dict[str, Any], by: str, filter_of: Callable[[str], Filter]) -> bool:
    """Whether the KPI (broken down `by`) reads its items' answers or records: a KPI that reads
    only its cases' states, dates and flags is worked out without reading any answers."""
    if answer_of(by) or answer_breakdowns(kpi) or "answer" in (kpi.get("date") or {}):
        return True
    if kpi["measure"] not in ("count", "percentage") or "field" in kpi:
        return True
    return any(filter_of(kpi[k]).reads_answers for k in ("where", "numerator", "value") if k in kpi)


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
