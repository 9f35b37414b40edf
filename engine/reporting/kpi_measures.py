"""What a KPI's measure makes of the items it counts: a count, sum, average, median, percentage
or matched change; whether it reads their answers at all; and its red/amber/green against the
target."""

from __future__ import annotations

import statistics
from collections.abc import Callable
from datetime import datetime
from typing import Any

from engine.reporting.kpi_filters import Filter
from engine.reporting.kpi_groups import answer_breakdowns, answer_of
from engine.reporting.kpi_items import Item

_NUMBER = {int, float}


def measured(
    kpi: dict[str, Any], items: list[Item], at: datetime, filter_of: Callable[[str], Filter],
    data: dict[str, Any],
) -> float | None:  # fmt: skip
    """The KPI's value over these items as at `at` (None: nothing to compute it from)."""
    measure = kpi["measure"]
    if measure == "count":
        return float(len(items))
    if measure in ("sum", "average", "median"):
        if "value" in kpi:  # worked out per item, such as days_between(referral, contact)
            of = filter_of(kpi["value"])
            numbers = [x for i in items if (x := of.number(i, at, data)) is not None]
        else:  # answers come from JSON, so exact types: a bool (an int to isinstance) is not one
            numbers = [float(x) for i in items if type(x := i.data.get(kpi["field"])) in _NUMBER]
        total = sum(numbers)
        if measure == "median":
            return statistics.median(numbers) if numbers else None
        if measure == "sum":
            return float(total)
        return total / len(numbers) if numbers else None
    if measure == "percentage":
        numerator = filter_of(kpi["numerator"])
        hits = sum(1 for i in items if numerator.holds(i, at, data))
        return 100.0 * hits / len(items) if items else None
    # matched_change: only people with both measures count
    pairs = [(_number(i.data.get(kpi["pre"])), _number(i.data.get(kpi["post"]))) for i in items]
    changes = [post - pre for pre, post in pairs if pre is not None and post is not None]
    return sum(changes) / len(changes) if changes else None


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
