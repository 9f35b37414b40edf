"""Who a programme reaches: the people its cases describe, counted by each characteristic the
programme's `reporting.demographics` names, for the programme, one organisation or one lot."""

from __future__ import annotations

from collections import Counter
from typing import Any
from zoneinfo import ZoneInfo

from flask import abort, render_template, request
from markupsafe import Markup

from engine.model import Programme
from engine.reporting.charts import Share, share_chart
from engine.reporting.demographics import NOT_RECORDED, breakdowns, workflows_asking
from engine.web.access import allow
from engine.web.commission import bp
from engine.web.commission.reports import typed_months
from engine.web.services import engine, store


def _organisations(programme: Programme) -> list[tuple[str, str]]:
    """The organisations holding cases whose people the programme counts, by name."""
    workflows = {
        wf
        for spec in programme.data.get("reporting", {}).get("demographics", [])
        for wf in ([spec["workflow"]] if spec.get("workflow") else workflows_asking(programme, spec["question"]))
    }  # fmt: skip
    names = store().organisation_names()
    ids = store().case_organisations(programme.id, sorted(workflows))
    return sorted(((o, names.get(o, o)) for o in ids), key=lambda p: p[1].lower())


@bp.get("/<pid>/people")
@allow("commissioner")
def people(pid: str) -> tuple[str, int] | str:
    """People reached by each characteristic, as charts and tables, small counts hidden."""
    programme = engine().programme(pid)
    tz = ZoneInfo(programme.timezone)
    organisations = _organisations(programme)
    lots = [(lot["id"], lot.get("name", lot["id"])) for lot in programme.data.get("funding", {}).get("lots", [])]  # fmt: skip
    organisation = request.args.get("organisation") or None
    lot = request.args.get("lot") or None
    if (organisation and organisation not in dict(organisations)) or (
        lot and lot not in dict(lots)
    ):
        abort(404)
    start, end, problems = typed_months(tz)
    page = {"programme": programme, "organisations": organisations, "lots": lots,
            "organisation": organisation, "lot": lot, "below": programme.suppress_below()}  # fmt: skip
    if problems:  # the page again, saying what to type beside the month it could not read
        return render_template("commission/people.html", **page, blocks=[], problems=problems), 400
    found = breakdowns(store(), programme, organisation=organisation, lot=lot, start=start, end=end)
    blocks: list[dict[str, Any]] = []
    asked = Counter(b.question for b in found)  # a question counted twice needs two chart ids
    for i, b in enumerate(found):
        hidden = f"fewer than {b.hidden_below}"
        rows = [Share(c.label, c.share, c.population, hidden if c.hidden else "")
                for c in b.categories if c.key != NOT_RECORDED]  # fmt: skip
        ident = f"people-{b.question}" if asked[b.question] == 1 else f"people-{b.question}-{i}"
        chart = Markup(share_chart(b.title, rows, compare_label="population", ident=ident))
        blocks.append({"b": b, "chart": chart if b.answered else None})
    return render_template("commission/people.html", **page, blocks=blocks, problems={})
