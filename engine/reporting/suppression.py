"""Small numbers hidden in an anonymised programme's reports, so nobody can be recognised.

The threshold is the programme's `reporting.suppress_below` (`Programme.suppress_below`); a
value worked out from fewer cases or records than that is shown as "fewer than N", never 0.
"""

from __future__ import annotations

from collections.abc import Iterable
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
    out = []
    for r in rows:
        hidden = 0 < r.count < below
        out.append({**r.__dict__, "value": None if hidden else r.value, "suppressed": hidden})
    return out
