"""Who is due a contact or a review this week: reminders and service-level checks ahead, and
cases already flagged for a missed service level, for the caseworker's organisation only.

Read from indexed data, never every case of the organisation: pending reminder rows due by the
week's end, the cases a scheduled review can fall on, and the cases with a flag set.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from flask import g, render_template, request

from engine.model import Programme
from engine.timeline.occasions import occasions, scheduled
from engine.timeline.planner import events_of, pins_of
from engine.web import describe
from engine.web.access import allow, current_actor
from engine.web.casework import bp
from engine.web.listing import PER_PAGE, ListPage
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

    `kept` holds, per case, the service levels already kept (see `kept_promises`); a check on a
    case not in it (one the caseworker may not see) is not shown.
    """
    eng = engine()
    if row["kind"] in CHECKS:
        return row["case_id"] in kept and row["rule"] not in kept[row["case_id"]]
    spec = next((r for r in programme.data.get("reminders", []) if r["id"] == row["rule"]), None)
    case = eng.store.case(row["case_id"])
    if spec is None or "if" not in spec or case is None:
        return True
    holds, _why = eng.rule_holds(spec["if"], case, programme)
    return bool(holds)  # as the sweeper judges it: a reminder whose condition fails is not sent


def kept_promises(rows: list[dict[str, Any]]) -> dict[int, set[str]]:
    """The service levels already kept on the cases these checks are about, by case: asked of
    the engine for every case at once (one by one, 200 cases took 600 reads)."""
    cases = sorted({r["case_id"] for r in rows if r["kind"] in CHECKS})
    found = engine().service_levels_of(cases, current_actor())
    return {c: {r.id for r in results if r.status == "kept"} for c, results in found.items()}


def review_states(programme: Programme, workflow: str) -> set[str]:
    """The states in which a case of the workflow can have a review due (open and not past one)."""
    wf = programme.workflows[workflow]
    open_states = {s.id for s in wf.states if not s.final}
    out: set[str] = set()
    for review in programme.data.get("reviews", []):
        if review.get("workflow") == workflow and scheduled(review):
            out |= open_states - set(review.get("until", []))
    return out


def _anchor_event(review: dict[str, Any]) -> str | None:
    """The case event a review's occasions count from (None: from the programme's own dates)."""
    anchor = review.get("at") or review.get("start") or {}
    for kind in ("entered", "trigger", "answer"):
        if kind in anchor:
            return f"{kind}:{anchor[kind]}"
    return None


def review_items(org: str, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """The reviews of the organisation's people that fall due between two moments.

    Only cases that can have one are read: of a workflow with a scheduled review, in a state it
    is held in; each case's events are read for all of them at once, and occasions that do not
    depend on the case (fixed dates) are worked out once.
    """
    eng, actor = engine(), current_actor()
    store = eng.store
    found: dict[tuple[str, str], Programme] = {}
    scope = []
    for pid, version, workflow in store.organisation_case_kinds(org):
        if not actor.covers(pid):
            continue  # only the people of the programmes this caseworker works in
        programme = found.get((pid, version)) or eng.programme(pid, version)
        states = review_states(programme, workflow)
        if states:
            found[(pid, version)] = programme
            scope.append((pid, version, workflow, sorted(states)))
    if not scope:
        return []
    rows = store.organisation_cases_in(org, scope)
    actions = sorted({review[k]["trigger"] for p in found.values() for review in p.data.get("reviews", [])
                      for k in ("at", "start") if "trigger" in review.get(k, {})})  # fmt: skip
    fired = store.last_actions([r["id"] for r in rows], actions)
    pins: dict[str, dict[str, datetime]] = {}
    memo: dict[tuple[Any, ...], list[Any]] = {}
    out = []
    for row in rows:
        programme = found[(row["programme_id"], row["version"])]
        events = events_of(store, programme, row, fired.get(row["id"], {}))
        if programme.id not in pins:
            pins[programme.id] = pins_of(store, programme.id)
        for review in programme.data.get("reviews", []):
            if review.get("workflow") != row["workflow"] or row["state"] in review.get("until", []):
                continue
            event = _anchor_event(review)
            key = (programme.id, programme.version, review["id"], events.get(event) if event else None)  # fmt: skip
            if key not in memo:
                memo[key] = occasions(programme, review, events, pins[programme.id], end)
            for o in memo[key]:
                if o.at is not None and start <= o.at <= end:
                    out.append({"row": row, "programme": programme, "at": o.at, "overdue": False,
                                "what": f"{o.label}: due"})  # fmt: skip
    return out


def flagged_page(org: str) -> ListPage:
    """One page of the organisation's people flagged for a missed promise, newest first."""
    eng, actor = engine(), current_actor()
    covered = None if actor.programmes is None else sorted(actor.programmes)
    flagged = []
    for row in eng.store.organisation_flagged(org, covered):
        programme = eng.programme(row["programme_id"], row["version"])
        titles = describe.missed_promises(programme, row["flags"])
        if titles:
            flagged.append({"row": row, "programme": programme, "missed": titles})
    errors: list[dict[str, str]] = []
    pages = max(1, -(-len(flagged) // PER_PAGE))
    page, asked = 1, request.args.get("page", "1").strip()
    if not (asked.isascii() and asked.isdigit() and 0 < int(asked) < 10**9):
        errors.append({"text": "Enter a page number as a whole number, like 2", "href": "#flagged"})
    elif int(asked) > pages:
        errors.append({"text": f"There is no page {int(asked):,}: choose a page from 1 to {pages:,}",
                       "href": "#flagged"})  # fmt: skip
    else:
        page = int(asked)
    rows = flagged[(page - 1) * PER_PAGE : page * PER_PAGE]
    return ListPage(rows=rows, total=len(flagged), page=page, pages=pages, search="", state=None,
                    workflow=None, sort="", states=[], workflows=[], sorts=[], noun="case",
                    errors=errors)  # fmt: skip


@bp.get("/due")
@allow("caseworker")
def due() -> str:
    """Reminders, checks and reviews due in the next 7 days, less promises already kept; and a
    page of the cases flagged for a missed promise."""
    eng, actor = engine(), current_actor()
    org = g.user["organisation_id"]
    moment = now()
    until = (moment + WEEK).astimezone(UTC).isoformat()
    items = []
    rows = [row for row in eng.store.pending_for_organisation(org, until)
            if for_caseworkers(row) and actor.covers(row["programme_id"])]  # fmt: skip
    kept = kept_promises(rows)
    for row in rows:
        programme = eng.programme(row["programme_id"], row["version"])
        if not still_due(row, programme, kept):
            continue
        at = datetime.fromisoformat(row["due_at"])
        items.append({"row": row, "programme": programme, "at": at, "overdue": at < moment,
                      "what": describe_row(programme, row)})  # fmt: skip
    items += review_items(org, moment, moment + WEEK)
    items.sort(key=lambda i: i["at"])
    flagged = flagged_page(org)
    return render_template("casework/due.html", items=items, flagged=flagged.rows,
                           listing=flagged, until=moment + WEEK)  # fmt: skip
