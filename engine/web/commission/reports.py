"""KPIs and meeting packs for commissioners: tables with red/amber/green, charts beside them."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import abort, render_template, request
from markupsafe import Markup
from werkzeug.wrappers import Response

from ...charts import Point, bar_chart
from ...errors import NotFound
from ...kpis import KpiCalculator, periods, suppress
from ...meetings import meeting_occasions, meeting_pack, pack_csv
from ..access import allow
from ..services import engine, now, store
from . import bp


def _window(tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The reporting window from ?from=YYYY-MM&to=YYYY-MM, or the twelve months up to now."""
    from ...dates import DateError, parse_when

    try:
        start = (
            parse_when(request.args["from"], tz, allow_time=False).start
            if request.args.get("from")
            else None
        )
        end = (
            parse_when(request.args["to"], tz, allow_time=False).end
            if request.args.get("to")
            else None
        )
    except DateError:
        abort(400)
    end = end or now()
    return start or end - timedelta(days=365), end


@bp.get("/<pid>/kpis")
@allow("commissioner")
def kpis(pid: str) -> str:
    """Every KPI per period, for the programme or by organisation or lot, with a chart of each."""
    programme = engine().programme(pid)
    tz = ZoneInfo(programme.timezone)
    by = request.args.get("by", "programme")
    period = request.args.get("period", "quarter")
    if by not in ("programme", "organisation", "lot") or period not in ("month", "quarter", "year"):
        abort(400)
    start, end = _window(tz)
    calc = KpiCalculator(store(), programme, now())
    reporting = programme.data.get("reporting", {})
    blocks: list[dict[str, Any]] = []
    for kpi in programme.data["kpis"]:
        rows: list[dict[str, Any]] = []
        for p in periods(period, start, end, tz):
            values = calc.value(kpi, p, by)
            rows.extend(
                suppress(values, reporting.get("suppress_below", 0))
                if reporting.get("anonymised")
                else [v.__dict__ | {"suppressed": False} for v in values]
            )
        chart = None
        if by == "programme" and rows:
            target = kpi.get("target", {}).get("value")
            unit = "%" if kpi.get("unit") == "percent" or kpi["measure"] == "percentage" else ""
            chart = Markup(
                bar_chart(
                    kpi["title"],
                    [Point(r["period"], r["value"]) for r in rows],
                    target=target,
                    unit=unit,
                )
            )
        blocks.append({"kpi": kpi, "rows": rows, "chart": chart})
    return render_template("commission/kpis.html", programme=programme, blocks=blocks, by=by, period=period,
                           start=start, end=end)  # fmt: skip


def _meetings(programme: Any) -> list[dict[str, Any]]:
    """The programme's meeting cadences and their occasions so far."""
    until = now() + timedelta(days=400)
    return [
        {"review": review, "occasions": meeting_occasions(store(), programme, review, until)}
        for review in programme.data["reviews"]
        if review.get("kind") == "meeting"
    ]


@bp.get("/<pid>/meetings")
@allow("commissioner")
def meetings(pid: str) -> str:
    """The monitoring meetings, each occasion linked to its pack."""
    programme = engine().programme(pid)
    return render_template(
        "commission/meetings.html", programme=programme, meetings=_meetings(programme)
    )


@bp.get("/<pid>/meetings/<rid>/<int:number>")
@allow("commissioner")
def meeting(pid: str, rid: str, number: int) -> str | Response:
    """A meeting's pack: returns in and missing, KPIs with RAG, the agenda, spend against budget."""
    programme = engine().programme(pid)
    if number < 1:
        abort(404)
    try:
        pack = meeting_pack(store(), programme, rid, number - 1, now())
    except NotFound:
        abort(404)
    if request.args.get("format") == "csv":
        return Response(pack_csv(pack), mimetype="text/csv",
                        headers={"Content-Disposition": f"attachment; filename={pid}-{rid}-{number}.csv"})  # fmt: skip
    return render_template(
        "commission/meeting.html", programme=programme, pack=pack, rid=rid, number=number
    )
