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
from engine.reporting.kpi_groups import answer_breakdowns, by_answer, group_labels
from engine.reporting.kpi_kept import KeptKpis, kept_kpis
from engine.reporting.kpi_parts import Figures
from engine.reporting.meetings import (
    group_names,
    held_on,
    meeting_occasions,
    meeting_pack,
    pack_csv,
)
from engine.reporting.memo import remembered
from engine.reporting.page_figures import kpi_page, kpi_periods, trend_page, trend_periods
from engine.reporting.suppression import anonymised, people_threshold
from engine.reporting.trends import trend
from engine.web.access import allow
from engine.web.commission import bp
from engine.web.services import engine, now, store

_TYPE_MONTH = "Enter the {} month as a year and month, like 2022-04"


def typed_months(tz: ZoneInfo) -> tuple[datetime | None, datetime | None, dict[str, str]]:
    """?from=YYYY-MM and ?to=YYYY-MM as typed (each optional), and what to say about any not read.

    The KPI and people-reached pages show what it says beside each field (see kpis.html).
    """
    from engine.dates import DateError, parse_when

    found: dict[str, datetime | None] = {"from": None, "to": None}
    problems: dict[str, str] = {}
    for key in found:
        if request.args.get(key):
            try:
                span = parse_when(request.args[key].strip(), tz, allow_time=False)
            except DateError:
                problems[key] = _TYPE_MONTH.format(key)
            else:
                found[key] = span.start if key == "from" else span.end
    start, end = found["from"], found["to"]
    if start and end and end < start:
        problems["to"] = "Enter a to month that is the same as or after the from month"
    return start, end, problems


def _window(tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The window from ?from and ?to, or the twelve months up to now; a page saying what to type
    when a month cannot be read (for pages without the fields to show it beside)."""
    start, end, problems = typed_months(tz)
    if problems:
        abort(400, "Enter the months as a year and month, like 2022-04, then try again.")
    end = end or now()
    return start or end - timedelta(days=365), end


def _names(programme: Programme, by: str) -> dict[str, str]:
    """What people call each group of a breakdown: organisations and lots by name."""
    if by == "organisation":
        return {
            "(none)": "No organisation",
            "(any)": "Any organisation",
            **store().organisation_names(),
        }
    if by == "lot":
        lots = programme.data.get("funding", {}).get("lots", [])
        return {
            "(none)": "No lot",
            "(any)": "Any lot",
            **{lot["id"]: lot.get("name", lot["id"]) for lot in lots},
        }
    return {"programme": programme.name}


def _gap(row: dict[str, Any], below: int) -> str:
    """What a chart says where a row has no value."""
    if not row.get("reported", True):
        return "not reported"
    return f"fewer than {below}" if row.get("suppressed") else ""


@bp.get("/<pid>/kpis")
@allow("commissioner")
def kpis(pid: str) -> tuple[str, int] | str:
    """Every KPI per period, for the programme or by organisation or lot, with a chart of each."""
    programme = engine().programme(pid)
    tz = ZoneInfo(programme.timezone)
    by = request.args.get("by", "programme")
    period = request.args.get("period", "quarter")
    if by not in ("programme", "organisation", "lot") or period not in ("month", "quarter", "year"):
        abort(
            400, "Choose what to show and the periods from the page's own options, then try again."
        )
    start, end, problems = typed_months(tz)
    page = {"programme": programme, "by": by, "period": period, "names": _names(programme, by)}
    if problems:  # the page again, saying what to type beside the month it could not read
        return render_template("commission/kpis.html", **page, problems=problems, blocks=[]), 400
    # worked out again only once a case of this programme changes (or a day passes): it reads
    # every case, and an action in another programme leaves it be
    key = (
        "kpis",
        programme.version,
        by,
        period,
        start,
        end,
        now().astimezone(tz).date(),
    )
    figures = remembered(
        store(), programme.id, key, lambda: _kpi_blocks(programme, by, period, start, end)
    )
    return render_template("commission/kpis.html", **page, **figures, problems={})


def _kpi_blocks(
    programme: Programme, by: str, period: str, start: datetime | None, end: datetime | None
) -> dict[str, Any]:
    """The KPI page's tables and charts for these periods (all its figures, from every case,
    kept between views and brought up to date by the cases changed since)."""
    wide = by in ("organisation", "lot")
    with kept_kpis(store(), programme, now(), kpi_page(by, period, start, end), wide) as calc:
        return _kpi_tables(calc, programme, by, period, start, end)


def _kpi_tables(
    calc: KeptKpis, programme: Programme, by: str, period: str, start: datetime | None,
    end: datetime | None,
) -> dict[str, Any]:  # fmt: skip
    shown, start, end, chosen = kpi_periods(calc, programme, by, period, (start, end), now())
    below = programme.suppress_below()
    blocks: list[dict[str, Any]] = []
    questions = programme.questions()
    for kpi in programme.data["kpis"]:
        rows = _rows(calc, programme, kpi, shown, by)
        # each answer the KPI is broken down by: a table of its own, options by their labels
        answers = [
            {"question": questions[q].label, "rows": _rows(calc, programme, kpi, shown, by_answer(q)),
             "names": {**group_labels(questions[q]), "(any)": "Any answer"}}
            for q in answer_breakdowns(kpi) if q in questions
        ]  # fmt: skip
        chart = None
        if by == "programme" and rows:
            target = kpi.get("target", {}).get("value")
            chart = Markup(bar_chart(kpi["title"], [Point(r["period"], r["value"], _gap(r, below)) for r in rows],
                                     target=target, unit=_unit(kpi), ident=f"kpi-{kpi['id']}",
                                     whole=True if kpi["measure"] == "count" else None))  # fmt: skip
        blocks.append({"kpi": kpi, "rows": rows, "chart": chart, "answers": answers})
    return {"blocks": blocks, "start": start, "end": end, "shown": shown, "chosen": chosen}


def _rows(
    calc: Figures, programme: Programme, kpi: dict[str, Any], shown: list[Any], by: str
) -> list[dict[str, Any]]:
    """A KPI's rows for a table: each period's groups, small numbers hidden where they must be."""
    rows: list[dict[str, Any]] = []
    for p in shown:
        values = calc.value(kpi, p, by)
        if not values:  # a breakdown with nobody reporting: the period still has its row
            rows.append({"period": p.label, "group": "(any)", "value": None, "count": 0,
                         "rag": None, "reported": False, "suppressed": False})  # fmt: skip
        rows.extend(
            anonymised(values, programme)
            if programme.data.get("reporting", {}).get("anonymised")
            else [v.__dict__ | {"suppressed": False} for v in values]
        )
    return rows


def _unit(kpi: dict[str, Any]) -> str:
    return "%" if kpi.get("unit") == "percent" or kpi["measure"] == "percentage" else ""


#: Organisations drawn side by side (the busiest), and listed to choose one from (the rest are
#: found by name), so a programme of 5,000 organisations has a page of a sensible size.
SIDE_BY_SIDE = 8
LISTED = 30


def _scopes(
    programme: Programme, held: list[tuple[str, int]], names: dict[str, str]
) -> list[tuple[str, str]]:
    """What a trend can be shown for: the programme, the busiest organisations or every lot side
    by side, or one of them (organisations listed only up to `LISTED`, the busiest)."""
    listed = sorted((o for o, _n in held[:LISTED]), key=lambda o: names.get(o, o).lower())
    lots = programme.data.get("funding", {}).get("lots", [])
    side = ("Every organisation, side by side" if len(held) <= SIDE_BY_SIDE
            else f"The {SIDE_BY_SIDE} organisations with the most cases, side by side")  # fmt: skip
    out = [("programme", "The whole programme"), ("organisations", side)]
    out += [(f"organisation:{o}", names.get(o, o)) for o in listed]
    if lots:
        out.append(("lots", "Every lot, side by side"))
        out += [(f"lot:{lot['id']}", lot.get("name", lot["id"])) for lot in lots]
    return out


def _found(held: list[tuple[str, int]], names: dict[str, str], text: str) -> list[tuple[str, str]]:
    """The organisations whose names contain `text` (any case), by name."""
    wanted = text.strip().lower()
    return sorted(((o, names.get(o, o)) for o, _n in held if wanted in names.get(o, o).lower()),
                  key=lambda p: p[1].lower())  # fmt: skip


@bp.get("/<pid>/trends")
@allow("commissioner")
def trends(pid: str) -> str:
    """Each KPI over the programme's periods, for the programme, by organisation or lot, or one."""
    programme = engine().programme(pid)
    tz = ZoneInfo(programme.timezone)
    held = store().organisation_case_counts(programme.id)
    organisations = store().organisation_names()
    scopes = _scopes(programme, held, organisations)
    show = request.args.get("show", "programme")
    period = request.args.get("period", "")
    chosen = request.args.get("kpi", "")
    kpis = programme.data["kpis"]
    find = request.args.get("find", "").strip()[:100]
    found = _found(held, organisations, find) if find else []
    if len(found) == 1:  # found by name: that organisation's trend
        show = f"organisation:{found[0][0]}"
    # any organisation may be shown, listed or not (found by name, or from a link)
    labels = {**{f"organisation:{o}": organisations.get(o, o) for o, _n in held}, **dict(scopes)}
    if (show not in labels or period not in ("", "month", "quarter", "year")
            or (chosen and chosen not in {k["id"] for k in kpis})):  # fmt: skip
        abort(404 if show.startswith(("organisation:", "lot:")) else 400)
    by, _, only = show.partition(":")
    by = {"organisations": "organisation", "lots": "lot"}.get(by, by)
    names = _names(programme, by)
    below = programme.suppress_below() if programme.reports_anonymised() else None
    side = [o for o, _n in held[:SIDE_BY_SIDE]] if by == "organisation" else [
        v.partition(":")[2] for v, _label in scopes if v.startswith(f"{by}:")]  # fmt: skip
    shown_kpis = [k for k in kpis if not chosen or k["id"] == chosen]
    # worked out again only once a case of this programme changes (or a day passes): it reads
    # every case, and an action in another programme leaves it be
    key = (
        "trends",
        programme.version,
        show,
        period,
        chosen,
        now().astimezone(tz).date(),
    )
    figures = remembered(store(), programme.id, key, lambda: _trend_blocks(
        programme, shown_kpis, by, only or None, period, side, names, labels[show], below))  # fmt: skip
    return render_template("commission/trends.html", programme=programme, scopes=scopes,
                           show=show, period=period, chosen=chosen, names=names, below=below,
                           find=find, found=found, listed=len(held) > LISTED, shown_label=labels[show],
                           **figures)  # fmt: skip


def _trend_blocks(
    programme: Programme, kpis: list[dict[str, Any]], by: str, only: str | None, period: str,
    side: list[str], names: dict[str, str], label: str, below: int | None,
) -> dict[str, Any]:  # fmt: skip
    """Each KPI's trend over its periods, with its chart: `side` are the groups side by side
    (its figures kept between views, as the KPI page's)."""
    tz = ZoneInfo(programme.timezone)
    typed = _window(tz) if request.args.get("from") or request.args.get("to") else None
    page = trend_page(by, period, kpis)
    with kept_kpis(
        store(), programme, now(), page, by in ("organisation", "lot"), many=True
    ) as calc:
        overs, start, end, from_figures = trend_periods(calc, programme, kpis, by, period, typed, now())  # fmt: skip
        trends = [trend(calc, kpi, over, by, only, None if below is None else
                        people_threshold(programme, kpi), side)
                  for kpi, over in zip(kpis, overs, strict=True)]  # fmt: skip
    blocks: list[dict[str, Any]] = []
    for kpi, t in zip(kpis, trends, strict=True):
        hide = None if below is None else people_threshold(programme, kpi)
        if by == "organisation" and not only:  # side by side: the busiest, not every one
            t.groups = [g for g in t.groups if g in side]
        lines = [Series(names.get(g, g), t.values(g), t.notes(g, hide)) for g in t.groups[:8]]
        chart = Markup(line_chart(f"{kpi['title']}: {label}", t.periods, lines,
                                  target=kpi.get("target", {}).get("value"), unit=_unit(kpi),
                                  ident=f"trend-{kpi['id']}",
                                  whole=True if kpi["measure"] == "count" else None)) if t.periods and lines else None  # fmt: skip
        blocks.append({"kpi": kpi, "trend": t, "chart": chart, "unit": _unit(kpi)})
    return {"blocks": blocks, "start": start, "end": end, "from_figures": from_figures}


def _meetings(programme: Any) -> list[dict[str, Any]]:
    """The programme's meeting cadences and their occasions so far."""
    until = now() + timedelta(days=400)
    out = []
    for review in programme.data["reviews"]:
        if review.get("kind") == "meeting":
            found = meeting_occasions(store(), programme, review, until)
            days = held_on(store(), programme, review, found)
            out.append({"review": review, "occasions": list(zip(found, days, strict=True))})
    return out


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
        return Response(pack_csv(pack, programme, store().organisation_names()), mimetype="text/csv",
                        headers={"Content-Disposition": f"attachment; filename={pid}-{rid}-{number}.csv"})  # fmt: skip
    form = programme.forms.get(pack.decision_form or "")
    return render_template(
        "commission/meeting.html", programme=programme, pack=pack, rid=rid, number=number,
        decision_questions=form.questions() if form else {}, names=group_names(store().organisation_names()),
    )  # fmt: skip
