"""`commission kpis` and `commission export`: performance and open data on the command line."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import click

from engine.cli.main import db_option, fail, json_option, main, open_engine
from engine.errors import EngineError


@main.command()
@click.argument("programme")
@click.option("--from", "start", required=True, help="Start of the reporting window, e.g. 2022-04.")
@click.option("--to", "end", required=True, help="End of the reporting window, e.g. 2023-03.")
@click.option(
    "--period",
    type=click.Choice(["month", "quarter", "year", "contract"]),
    help="Report every KPI for this period (default: each KPI's own).",
)
@click.option(
    "--by",
    type=click.Choice(["programme", "organisation", "lot", "answer"]),
    default="programme",
    show_default=True,
    help="`answer`: each KPI by the answers its `by` names (the programme as a whole if none).",
)
@db_option
@json_option
def kpis(
    programme: str, start: str, end: str, period: str | None, by: str, db_path: str, as_json: bool
) -> None:
    """The programme's KPIs from the database, per period, with red/amber/green against targets."""
    from engine.dates import DateError, parse_when
    from engine.reporting.kpis import KpiCalculator
    from engine.reporting.suppression import anonymised

    engine = open_engine(db_path)
    try:
        p = engine.programme(programme)
    except EngineError as exc:
        fail(exc)
    tz = ZoneInfo(p.timezone)
    try:
        window = (
            parse_when(start, tz, allow_time=False).start,
            parse_when(end, tz, allow_time=False).end,
        )
    except DateError as exc:
        raise click.BadParameter(str(exc)) from None
    calc = KpiCalculator(engine.store, p, engine.now())
    if by == "answer":
        rows, labels = _by_answers(calc, period, *window)
    else:
        rows, labels = calc.table(period, *window, by=by), {}
    reporting = p.data.get("reporting", {})
    data = anonymised(rows, p) if reporting.get("anonymised") else [r.__dict__ for r in rows]
    data = [dict(r) for r in data]  # copies: the labels below are for this output only
    for i, r in enumerate(data):
        if i in labels:  # an option by its label, never its short name
            names = labels[i]
            r["group"] = names.get(r["group"], r["group"])
            r["title"] = f"{r['title']}, by answer to “{names['programme']}”"
    if as_json:
        click.echo(json.dumps(data, indent=2, default=str))
        return
    for r in data:
        shown = (
            "suppressed"
            if r.get("suppressed")
            else ("-" if r["value"] is None else f"{r['value']:,.1f}")
        )
        flag = f" [{r['rag']}]" if r["rag"] else ""
        click.echo(f"{r['period']:<14} {r['group']:<20} {r['title'][:60]:<60} {shown:>12}{flag}")


def _by_answers(
    calc: Any, period: str | None, start: datetime, end: datetime
) -> tuple[list[Any], dict[int, dict[str, str]]]:
    """Each KPI per period by each answer it names (the programme if none), and for each row
    broken down by an answer, what its groups are called."""
    from engine.reporting.kpi_groups import answer_breakdowns, by_answer, group_labels
    from engine.reporting.kpis import periods

    rows: list[Any] = []
    labels: dict[int, dict[str, str]] = {}
    questions = calc.programme.questions()
    for kpi in calc.programme.data["kpis"]:
        asked = [q for q in answer_breakdowns(kpi) if q in questions] or [None]
        for p in periods(period or kpi.get("period", "quarter"), start, end, calc.tz):
            for q in asked:
                found = calc.value(kpi, p, by_answer(q) if q else "programme")
                if q:
                    names = {**group_labels(questions[q]), "programme": questions[q].label}
                    labels.update({len(rows) + i: names for i in range(len(found))})
                rows.extend(found)
    return rows, labels


@main.command()
@click.argument("programme")
@click.option("--format", "fmt", type=click.Choice(["360giving", "csv"]), required=True)
@click.option("--what", type=click.Choice(["applications", "awards", "returns"]), default="awards", show_default=True,
              help="For CSV: cases with their answers, awards, or the returns of --form.")  # fmt: skip
@click.option("--workflow", help="For applications: only cases of this workflow.")
@click.option("--form", "form_id", help="For returns: the form whose submissions are exported.")
@click.option(
    "--anonymised",
    is_flag=True,
    help="Leave out personal data (always on when the programme says reports are anonymised). "
    "Answers a commissioner may not see on a case are never exported.",
)
@db_option
def export(
    programme: str,
    fmt: str,
    what: str,
    workflow: str | None,
    form_id: str | None,
    anonymised: bool,
    db_path: str,
) -> None:
    """Export awards as 360Giving JSON, or applications, awards or returns as CSV."""
    from engine.reporting.export import awards_csv, cases_csv, grants_360, records_csv

    engine = open_engine(db_path)
    try:
        p = engine.programme(programme)
        anonymised = anonymised or p.reports_anonymised()
        if fmt == "360giving":
            click.echo(json.dumps(grants_360(engine.store, p), indent=2, ensure_ascii=False))
        elif what == "awards":
            sys.stdout.write(awards_csv(engine.store, p))
        elif what == "returns":
            if not form_id:
                raise click.UsageError("--what returns needs --form FORM_ID")
            sys.stdout.write(records_csv(engine.store, p, form_id, anonymised=anonymised))
        else:
            sys.stdout.write(cases_csv(engine.store, p, workflow, anonymised=anonymised))
    except EngineError as exc:
        fail(exc)


@main.command("meeting-pack")
@click.argument("programme")
@click.argument("meeting")
@click.argument("number", type=int)
@db_option
@click.option("--csv", "as_csv", is_flag=True, help="Print the pack as CSV.")
def meeting_pack_command(
    programme: str, meeting: str, number: int, db_path: str, as_csv: bool
) -> None:
    """The pack for meeting NUMBER (1 for the first) of a meeting cadence: returns in and missing,
    KPIs with red/amber/green, the KPIs to discuss, and spend against budget."""
    from engine.reporting.meetings import meeting_pack, pack_csv

    engine = open_engine(db_path)
    try:
        p = engine.programme(programme)
        pack = meeting_pack(engine.store, p, meeting, number - 1, engine.now())
    except EngineError as exc:
        fail(exc)
    if as_csv:
        sys.stdout.write(pack_csv(pack, p, engine.store.organisation_names()))
        return
    from engine.dates import moment_in_words

    # on the programme's clock, in words: a pin is stored in UTC
    when = moment_in_words(pack.when, ZoneInfo(p.timezone)) if pack.when else "date not pinned yet"
    click.echo(f"{pack.meeting} — {when}; reviewing {pack.period}")
    click.echo(
        f"Returns: {len(pack.returns) - len(pack.missing)} received, {len(pack.missing)} missing"
    )
    for r in pack.missing:
        click.echo(f"  missing: {r.reference} ({r.organisation}) {r.form}")
    click.echo("For discussion (KPIs off target):" if pack.agenda else "No KPI is off target.")
    for k in pack.agenda:
        click.echo(f"  [{k.rag}] {k.title} — {k.group}: {k.value}")
    for s in pack.spend:
        click.echo(
            f"  spend {s['reference']}: £{s['spent']:,.0f} of £{s['awarded']:,} (£{s['left']:,.0f} left)"
        )
