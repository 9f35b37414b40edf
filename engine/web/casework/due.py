"""Who is due a contact or a review this week: reminders and service-level checks ahead, and
cases already flagged for a missed service level, for the caseworker's organisation only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from flask import g, render_template

from engine.model import Programme
from engine.timeline.occasions import occasions
from engine.timeline.planner import events_of, pins_of
from engine.web import describe
from engine.web.access import allow, current_actor
from engine.web.casework import bp
from engine.web.services import engine, now

WEEK = timedelta(days=7)
CHECKS = ("service_level", "service_level_warn")


def describe_row(programme: Programme, row: dict[str, Any]) -> str:
    """What a pending row is about, in the programme's own words."""
    if row["kind"] in CHECKS:
        sl = next((s for s in programme.data.get("service_levels", []) if s["id"] == row["rule"]), None)  # fmt: skip
        title = sl["title"] if sl else row["rule"].replace("_", " ")
        if row["kind"] == "service_level_warn":
            return f"{title}: at risk from this date if not yet kept"
        return f"{title}: checked on this date"
    spec = next((r for r in programme.data.get("reminders", []) if r["id"] == row["rule"]), None)
    if spec and spec.get("message", {}).get("subject"):
        return str(spec["message"]["subject"])
    return row["rule"].replace("_", " ").capitalize()


def for_caseworkers(row: dict[str, Any]) -> bool:
    """On a person's case: checks on a promise, and reminders that go to caseworkers."""
    if row["subject"] is None:  # an organisation's own case (a contract) is not casework
        return False
    return row["kind"] in CHECKS or "caseworker" in row["payload"].get("to", [])


def still_due(row: dict[str, Any], programme: Programme, kept: dict[int, set[str]]) -> bool:
    """Whether a pending row still asks something: not a promise the engine finds already kept.

    `kept` holds, per case, the service levels already kept (asked of the engine once per case).
    """
    eng = engine()
    if row["kind"] in CHECKS:
        if row["case_id"] not in kept:
            results = eng.service_levels(row["case_id"], current_actor())
            kept[row["case_id"]] = {r.id for r in results if r.status == "kept"}
        return row["rule"] not in kept[row["case_id"]]
    spec = next((r for r in programme.data.get("reminders", []) if r["id"] == row["rule"]), None)
    case = eng.store.case(row["case_id"])
    if spec is None or "if" not in spec or case is None:
        return True
    holds, _why = eng.rule_holds(spec["if"], case, programme)
    return bool(holds)  # as the sweeper judges it: a reminder whose condition fails is not sent


def reviews_between(row: dict[str, Any], programme: Programme, start: datetime, end: datetime) -> list[dict[str, Any]]:  # fmt: skip
    """The occasions of the programme's reviews of a person's case that fall between two moments."""
    store = engine().store
    wf = programme.workflows[row["workflow"]]
    if row["state"] in {s.id for s in wf.states if s.final}:
        return []
    events = events_of(store, programme, row, store.fired_all(row["id"]))
    pins = pins_of(store, programme.id)
    out = []
    for review in programme.data.get("reviews", []):
        if review.get("workflow") != row["workflow"] or row["state"] in review.get("until", []):
            continue
        for o in occasions(programme, review, events, pins, end):
            if o.at is not None and start <= o.at <= end:
                out.append({"at": o.at, "what": f"{o.label}: due"})
    return out


@bp.get("/due")
@allow("caseworker")
def due() -> str:
    """Reminders and checks due in the next 7 days, less promises already kept; flagged cases."""
    eng, actor = engine(), current_actor()
    org = g.user["organisation_id"]
    moment = now()
    until = (moment + WEEK).astimezone(UTC).isoformat()
    items = []
    kept: dict[int, set[str]] = {}
    for row in eng.store.pending_for_organisation(org, until):
        if not for_caseworkers(row) or not actor.covers(row["programme_id"]):
            continue
        programme = eng.programme(row["programme_id"], row["version"])
        if not still_due(row, programme, kept):
            continue
        at = datetime.fromisoformat(row["due_at"])
        items.append({"row": row, "programme": programme, "at": at, "overdue": at < moment,
                      "what": describe_row(programme, row)})  # fmt: skip
    flagged = []
    for row in eng.store.organisation_cases(org):
        if row["subject"] is None or not actor.covers(row["programme_id"]):
            continue  # only the people of the programmes this caseworker works in
        programme = eng.programme(row["programme_id"], row["version"])
        full = eng.store.case(row["id"])
        for r in reviews_between(full or {}, programme, moment, moment + WEEK) if full else []:
            items.append({"row": row, "programme": programme, "at": r["at"], "overdue": False, "what": r["what"]})  # fmt: skip
        titles = describe.missed_promises(programme, row["flags"])
        if titles:
            flagged.append({"row": row, "programme": programme, "missed": titles})
    items.sort(key=lambda i: i["at"])
    return render_template("casework/due.html", items=items, flagged=flagged, until=moment + WEEK)
