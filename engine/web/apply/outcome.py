"""Where an application stands once others have acted on it, and whom to ask: the decision,
answers the funder shares with applicants, and the programme's contacts."""

from __future__ import annotations

from typing import Any

from flask import g

from engine.errors import NotFound
from engine.model import Programme, Workflow
from engine.runtime import CaseView
from engine.web.access import current_actor
from engine.web.apply import bp
from engine.web.history import event_words
from engine.web.identity import identity
from engine.web.services import engine, store


@bp.app_template_global()
def programme_contacts(programme: Programme) -> list[dict[str, str]]:
    """Whom an applicant may write to about this programme: its commissioners' contact addresses,
    else the service's own contact."""
    found = [
        {"name": c["name"], "email": c["contact"]}
        for c in programme.data.get("commissioners", [])
        if c.get("contact")
    ]
    return found or [{"name": identity().operator, "email": identity().contact_email}]


def state_description(programme: Programme, workflow: str, state: str) -> str:
    """The words the programme file gives a state (empty when it gives none)."""
    for s in programme.data["workflows"].get(workflow, {}).get("states", []):
        if s["id"] == state:
            return " ".join(str(s.get("description", "")).split())
    return ""


def withdrawn_states(wf: Workflow) -> set[str]:
    """Final states the applicant's own action leads to: the applicant withdrew, nobody decided."""
    final = {s.id for s in wf.states if s.final}
    return {t.dest for t in wf.transitions if "applicant" in t.by and t.dest in final}


def decision(view: CaseView, programme: Programme) -> dict[str, str] | None:
    """The decision on a case that has reached a final state someone else decided, in words."""
    wf = programme.workflows[view.workflow]
    final = {s.id for s in wf.states if s.final}
    if view.state not in final or view.state in withdrawn_states(wf):
        return None
    return {"label": view.state_label, "description": state_description(programme, wf.id, view.state)}  # fmt: skip


def shared_reasons(programme: Programme, workflow: str, history: list[dict[str, Any]]) -> list[dict[str, Any]]:  # fmt: skip
    """The reasons staff gave for actions whose reason the programme shares with applicants
    (`share_reason`), newest first, each with what it was given for."""
    wf = programme.workflows.get(workflow)
    shared = {t.trigger for t in wf.transitions if t.spec.get("share_reason")} if wf else set()
    out = [
        {"at": e["at"], "reason": (e.get("detail") or {})["reason"],
         "event": event_words(programme, workflow, e)}
        for e in history
        if e["action"] in shared and (e.get("detail") or {}).get("reason")
    ]  # fmt: skip
    return out[::-1]


def shared_answers(view: CaseView, programme: Programme) -> list[dict[str, Any]]:
    """Answers the funder's own forms share with applicants: questions whose `visible_to` names
    the applicant explicitly (an answer everyone may see by default is the funder's working note)."""
    out = []
    for entry in programme.data["forms"]:
        by = entry.get("by") or ["applicant", "commissioner"]
        form = programme.forms.get(entry["form"])
        if entry["workflow"] != view.workflow or "applicant" in by or form is None:
            continue
        saved = view.answers.get(form.id, {})
        shown = [
            q
            for _pid, _t, qs in form.pages
            for q in qs
            if "applicant" in q.spec.get("visible_to", []) and saved.get(q.id) not in (None, "", [])
        ]
        if shown:
            out.append({"form": form, "questions": shown, "saved": saved})
    return out


def started_already(programme: Programme, workflows: list[Workflow]) -> list[dict[str, Any]]:
    """The organisation's cases of these kinds in this programme, in any state but withdrawn."""
    eng = engine()
    actor = current_actor()
    kinds = {wf.id for wf in workflows}
    found = []
    for row in store().cases_for_organisation(g.user["organisation_id"]):
        if row["programme_id"] != programme.id or row["workflow"] not in kinds:
            continue
        try:
            view = eng.case(row["id"], actor)
        except NotFound:  # a referral about a person: not the applicant's to see
            continue
        wf = eng.programme(view.programme_id, view.version).workflows[view.workflow]
        if view.state not in withdrawn_states(wf):
            found.append({"view": view, "workflow": wf})
    return found
