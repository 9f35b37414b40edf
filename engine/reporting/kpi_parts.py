"""A KPI's figures for one period as parts that add up: each group's tally, and how many returns
or cases had come in by the period's end. Parts worked out over separate sets of cases add up to
the parts over them all, so figures kept for a programme are brought up to date by working out
again only the cases that changed (see `kpi_kept`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from engine.model import Question
from engine.reporting.kpi_groups import OTHER, answer_of, group_labels
from engine.reporting.kpi_measures import Tally, rag, value_of
from engine.reporting.periods import Period


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


@dataclass
class Parts:
    """A KPI's tallies for one period, by group (an organisation's or a lot's `held` says how
    many of the returns or cases that had come in were its own)."""

    held: int  # returns or cases that had come in by the period's end: none, not reported
    groups: dict[str, Tally] = field(default_factory=dict)

    def add(self, other: Parts, sign: int = 1) -> None:
        """Add another set of cases' parts to these (sign -1: take them away)."""
        self.held += sign * other.held
        for key, tally in other.groups.items():
            mine = self.groups.get(key)
            if mine is None:
                mine = self.groups[key] = Tally()
            mine.add(tally, sign)
            if mine.empty:
                del self.groups[key]


def values(
    kpi: dict[str, Any], label: str, by: str, parts: Parts | None, question: Question | None
) -> list[KpiValue]:
    """The KPI's values for a period from its parts (None: a period still to come, which has no
    figure, not even a 0); `question` is the one a breakdown by an answer is by."""
    target = kpi.get("target", {}).get("value")
    if parts is None:
        if by in ("organisation", "lot") or answer_of(by):
            return []
        return [KpiValue(kpi["id"], kpi["title"], label, "programme", None, 0, target, None,
                         reported=False)]  # fmt: skip
    reported = parts.held > 0
    if answer_of(by) is not None:
        if not reported or question is None:
            return []
        # every option, then "Not answered", then answers no longer offered (if any)
        keys = [k for k in group_labels(question) if k != OTHER]
        keys += [k for k, t in parts.groups.items() if k not in keys and t.count]
    elif by in ("organisation", "lot"):  # a group whose items all fail the filter has 0
        keys = sorted(k for k, t in parts.groups.items() if t.held or t.count)
    else:  # any other breakdown is the programme as a whole
        keys = ["programme"] if reported or by == "programme" else []
    out = []
    for key in keys:
        tally = parts.groups.get(key) or Tally()
        value = value_of(kpi, tally) if reported else None
        out.append(KpiValue(kpi["id"], kpi["title"], label, key, value, tally.count, target,
                            rag(kpi, value), reported))  # fmt: skip
    return out


class Figures(Protocol):
    """What reads a programme's KPIs: a calculator, or the figures kept between page views."""

    def value(self, kpi: dict[str, Any], period: Period, by: str = "programme") -> list[KpiValue]:
        """The KPI for one period, for the programme or broken down."""
        ...

    def span(self, kpi: dict[str, Any]) -> tuple[datetime, datetime] | None:
        """When the first and the last of the KPI's returns, records or cases came in."""
        ...
