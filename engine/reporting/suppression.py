"""Small numbers hidden in an anonymised programme's reports, so nobody can be recognised.

The threshold is the programme's `reporting.suppress_below` (`Programme.suppress_below`); a
value worked out from fewer cases or records than that is shown as "fewer than N", never 0.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from engine.model import Programme
from engine.reporting.kpis import KpiValue


def people_threshold(programme: Programme, kpi: dict[str, Any]) -> int:
    """Below how many items an anonymised programme's reports hide this KPI's value (0: never).

    Cases and records are people, so few of them could identify someone; a return is an
    organisation's own report of its figures, so a value from one return is shown.
    """
    if not programme.data.get("reporting", {}).get("anonymised") or kpi.get("source") == "returns":
        return 0
    return programme.suppress_below()


def anonymised(rows: Iterable[KpiValue], programme: Programme) -> list[dict[str, Any]]:
    """Rows as an anonymised programme's reports show them: small counts of people hidden."""
    kpis = {k["id"]: k for k in programme.data["kpis"]}
    return [suppress([r], people_threshold(programme, kpis[r.kpi]))[0] for r in rows]


def suppress(rows: Iterable[KpiValue], below: int) -> list[dict[str, Any]]:
    """Rows for an anonymised report: counts under the threshold are hidden, not shown as 0."""
    return [hidden(r, below).__dict__ for r in rows]


def hidden(row: KpiValue, below: int) -> KpiValue:
    """The row with its value hidden if it comes from fewer than `below` people (and its
    red/amber/green with it, which would tell which side of the target the value is)."""
    if not 0 < row.count < below:
        return row
    return replace(row, value=None, rag=None, suppressed=True)


def hidden_rows(rows: list[KpiValue], programme: Programme, kpi: dict[str, Any]) -> list[KpiValue]:
    """A KPI's rows as an anonymised programme's meeting pack shows them (as its KPI pages do)."""
    below = people_threshold(programme, kpi)
    return [hidden(r, below) for r in rows] if below else rows
