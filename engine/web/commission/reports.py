"""KPIs, their trends and meeting packs for commissioners: tables with red/amber/green, charts
beside them."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import abort, render_template, request
from markupsafe import Markup
from werkzeug.wrappers import Response

from engine.errors import NotFound
from engine.model import Programme
from engine.reporting.charts import Point, Series, bar_chart, line_chart
from engine.reporting.kpis import KpiCalculator, periods
from engine.reporting.meetings import meeting_occasions, meeting_pack, pack_csv
from engine.reporting.suppression import anonymised, people_threshold
from engine.reporting.trends import trend, window_periods
from engine.web.access import allow
from engine.web.commission import bp
from engine.web.services import engine, now, store


def _window(tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The reporting window from ?from=YYYY-MM&to=YYYY-MM, or the twelve months up to now."""
    from engine.dates import DateError, parse_when

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
        abort(400, "Enter the months as a year and month, like 2022-04, then try again.")
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
        abort(
            400, "Choose what to show and the periods from the page's own options, then try again."
        )
    start, end = _window(tz)
    calc = KpiCalculator(store(), programme, now())
    reporting = programme.data.get("reporting", {})
    blocks: list[dict[str, Any]] = []
    for kpi in programme.data["kpis"]:
        rows: list[dict[str, Any]] = []
        for p in periods(period, start, end, tz):
            values = calc.value(kpi, p, by)
            rows.extend(
                anonymised(values, programme)
                if reporting.get("anonymised")
                else [v.__dict__ | {"suppressed": False} for v in values]
            )
        chart = None
        if by == "programme" and rows:
            target = kpi.get("target", {}).get("value")
            unit = _unit(kpi)
            chart = Markup(
                bar_chart(
                    kpi["title"],
                    [Point(r["period"], r["value"]) for r in rows],
                    target=target,
                    unit=unit,
                    ident=f"kpi-{kpi['id']}",
                )
            )
        blocks.append({"kpi": kpi, "rows": rows, "chart": chart})
    return render_template("commission/kpis.html", programme=programme, blocks=blocks, by=by, period=period,
                           start=start, end=end)  # fmt: skip


def _unit(kpi: dict[str, Any]) -> str:
    return "%" if kpi.get("unit") == "percent" or kpi["measure"] == "percentage" else ""


def _trend_window(programme: Programme, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """?from and ?to, or from the contract's start (two years back without one) up to now."""
    from engine.dates import DateError, parse_when

    if request.args.get("from") or request.args.get("to"):
        return _window(tz)
    starts = programme.data.get("contract", {}).get("starts")
    try:  # the loader gives the start as a span; a date as written is read the same way
        start = (datetime.fromisoformat(starts["start"]) if isinstance(starts, dict)
                 else parse_when(starts, tz, allow_time=False).start if starts else None)  # fmt: skip
    except (DateError, KeyError, ValueError):
        start = None
    end = now()
    return start or end - timedelta(days=730), end


def _scopes(programme: Programme) -> list[tuple[str, str]]:
    """What a trend can be shown for: the programme, every organisation or lot, or one of them."""
    names = store().organisation_names()
    orgs = sorted({r["organisation_id"] for r in store().programme_cases(programme.id) if r["organisation_id"]},
                  key=lambda o: names.get(o, o).lower())  # fmt: skip
    lots = programme.data.get("funding", {}).get("lots", [])
    out = [
        ("programme", "The whole programme"),
        ("organisations", "Every organisation, side by side"),
    ]
    out += [(f"organisation:{o}", names.get(o, o)) for o in orgs]
    if lots:
        out.append(("lots", "Every lot, side by side"))
        out += [(f"lot:{lot['id']}", lot.get("name", lot["id"])) for lot in lots]
    return out


@bp.get("/<pid>/trends")
@allow("commissioner")
def trends(pid: str) -> str:
    """Each KPI over the programme's periods, for the programme, by organisation or lot, or one."""
    programme = engine().programme(pid)
    tz = ZoneInfo(programme.timezone)
    scopes = _scopes(programme)
    show = request.args.get("show", "programme")
    period = request.args.get("period", "")
    chosen = request.args.get("kpi", "")
    kpis = programme.data["kpis"]
    if (show not in dict(scopes) or period not in ("", "month", "quarter", "year")
            or (chosen and chosen not in {k["id"] for k in kpis})):  # fmt: skip
        abort(404 if show.startswith(("organisation:", "lot:")) else 400)
    by, _, only = show.partition(":")
    by = {"organisations": "organisation", "lots": "lot"}.get(by, by)
    start, end = _trend_window(programme, tz)
    calc = KpiCalculator(store(), programme, now())
    reporting = programme.data.get("reporting", {})
    below = programme.suppress_below() if reporting.get("anonymised") else None
    lots = programme.data.get("funding", {}).get("lots", [])
    names = {"programme": {"programme": programme.name}, "organisation": store().organisation_names(),
             "lot": {lot["id"]: lot.get("name", lot["id"]) for lot in lots}}[by]  # fmt: skip
    blocks: list[dict[str, Any]] = []
    for kpi in kpis:
        if chosen and kpi["id"] != chosen:
            continue
        over = window_periods(period or kpi.get("period", "quarter"), start, end, now(), tz)
        everyone = [v.partition(":")[2] for v, _label in scopes if v.startswith(f"{by}:")]
        hide = None if below is None else people_threshold(programme, kpi)
        t = trend(calc, kpi, over, by, only or None, hide, everyone)
        lines = [Series(names.get(g, g), t.values(g)) for g in t.groups[:8]]
        chart = Markup(line_chart(f"{kpi['title']}: {dict(scopes)[show]}", t.periods, lines,
                                  target=kpi.get("target", {}).get("value"), unit=_unit(kpi),
                                  ident=f"trend-{kpi['id']}")) if t.periods and lines else None  # fmt: skip
        blocks.append({"kpi": kpi, "trend": t, "chart": chart, "unit": _unit(kpi)})
    return render_template("commission/trends.html", programme=programme, blocks=blocks, scopes=scopes,
                           show=show, period=period, chosen=chosen, start=start, end=end, names=names,
                           below=below)  # fmt: skip


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
        pack = meeting_pack(store(), programme, rid, number - 1, now(), role="commissioner")
    except NotFound:
        abort(404)
    if request.args.get("format") == "csv":
        return Response(pack_csv(pack), mimetype="text/csv",
                        headers={"Content-Disposition": f"attachment; filename={pid}-{rid}-{number}.csv"})  # fmt: skip
    form = programme.forms.get(pack.decision_form or "")
    return render_template(
        "commission/meeting.html", programme=programme, pack=pack, rid=rid, number=number,
        decision_questions=form.questions() if form else {}, names=store().organisation_names(),
    )  # fmt: skip
