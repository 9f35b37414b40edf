"""One case as a commissioner sees it: answers, eligibility, assessments, decisions, history."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from engine.errors import ActionRefused, EngineError, StaleCase
from engine.forms.classes import visible_questions
from engine.forms.visibility import hidden_questions
from engine.model import Programme
from engine.runtime import ActionOption, CaseView
from engine.runtime.assessment import assessment_states
from engine.web import confirming, describe
from engine.web.access import allow, current_actor
from engine.web.casework import sheets
from engine.web.commission import bp
from engine.web.services import engine, store


def load(ref: str) -> tuple[CaseView, Programme]:
    """The case (a 404 when there is none)."""
    view = engine().case(ref, current_actor())
    return view, engine().programme(view.programme_id, view.version)


def answered_forms(view: CaseView, programme: Programme, role: str) -> list[dict[str, Any]]:
    """Each form with answers, page by page (only the questions asked), and each record.

    The engine's view already leaves out answers `role` may not see; their questions are left
    out here too, so not even a question's label says what was asked about the person.
    """
    out = []
    for form_id, saved in view.answers.items():
        form = programme.forms[form_id]
        hidden = hidden_questions(programme, form, role)
        pages = [(title, [q for q in visible_questions(form, pid, saved) if q.id not in hidden])
                 for pid, title, _qs in form.pages]  # fmt: skip
        out.append({"form": form, "pages": [p for p in pages if p[1]], "saved": saved,
                    "submitted": view.submitted.get(form_id), "records": None,
                    "withheld": form_id in view.withheld})  # fmt: skip
    for form_id, records in view.records.items():
        form = programme.forms[form_id]
        hidden = hidden_questions(programme, form, role)
        out.append({"form": form, "records": records, "withheld": form_id in view.withheld,
                    "questions": [q for q in form.questions().values() if q.id not in hidden]})  # fmt: skip
    return out


def action_fields(view: CaseView, programme: Programme, option: ActionOption,
                  funding: dict[str, Any] | None = None) -> dict[str, Any]:  # fmt: skip
    """What a commissioner is asked as they take an action: an amount, a lot, a reason."""
    wf = programme.workflows[view.workflow]
    effects = [
        eff
        for t in wf.transitions
        if t.trigger == option.trigger and view.state in t.sources
        for eff in t.spec.get("effects", [])
    ]
    money = [e for e in effects if e["do"] in ("record_award", "record_payment")]
    award = [e for e in effects if e["do"] == "record_award"]
    lots = programme.data["funding"].get("lots", [])
    asked = next((e["amount"] for e in money if e.get("amount")), None)
    hint = None
    if asked:
        question = programme.questions().get(asked)
        hint = f"Leave blank to use the answer to “{question.label if question else asked}”"
    instalments = (funding or {}).get("instalments") or []
    upcoming = next((i for i in instalments if i.paid_at is None), None)
    if any(e["do"] == "record_payment" for e in money) and upcoming is not None:
        hint = (f"Leave blank to pay instalment {upcoming.index + 1}, “{upcoming.label}”: "
                f"{describe.money(upcoming.amount)} ({upcoming.share})")  # fmt: skip
    return {
        "amount": bool(money),
        "amount_hint": hint,
        "lots": lots if award and lots and not view.lot and not any(e.get("lot") for e in award) else [],
        "reason": option.needs_reason,
        "reason_shared": any(
            t.spec.get("share_reason") for t in programme.workflows[view.workflow].transitions
            if t.trigger == option.trigger
        ),
    }  # fmt: skip


@bp.get("/cases/<ref>")
@allow("commissioner")
def case(ref: str) -> str:
    """The case's answers, eligibility, assessors' scores, the decisions open now, and its history."""
    view, programme = load(ref)
    eng, actor = engine(), current_actor()
    options = eng.actions(view.id, actor)
    criteria = eng.assessment_criteria(view.id, actor)
    parent, children = eng.related(view.id, actor)
    roles = programme.data["workflows"][view.workflow].get("roles", [])
    return render_template(
        "commission/case.html", view=view, programme=programme,
        workflow=programme.workflows[view.workflow], forms=answered_forms(view, programme, actor.role),
        eligibility=eng.eligibility(view.id, actor),
        actions=[(a, action_fields(view, programme, a, eng.funding_of(view.id, actor))) for a in options],
        criteria=criteria, moderation=eng.moderation(view.id, actor) if criteria else None,
        panel=eng.panel_status(view.id, actor)
        if criteria or view.state in assessment_states(programme.workflows[view.workflow]) else None,
        history=eng.history(view.id, actor), staff_forms=staff_forms(view, programme, "commissioner"),
        organisation=store().organisation_name(view.organisation) if view.organisation else None,
        lot_names={x["id"]: x.get("name", x["id"]) for x in programme.data["funding"].get("lots", [])},
        file_url=lambda value: url_for("commission.file", ref=view.reference, file_id=value.get("id", "-")),
        parent=parent, children=children,
        applies_as=next((r["label"] for r in roles if r["id"] == view.role), None),
        missed=describe.missed_promises(programme, view.flags),
        promises=describe.promises(programme, view, eng.service_levels(view.id, actor)),
    )  # fmt: skip


def _amount(text: str | None) -> int | None:
    """A whole number of pounds from what was typed ("£75,000" → 75000); None if blank."""
    cleaned = (text or "").strip().replace(",", "").replace("£", "").strip()
    if not cleaned:
        return None
    if (
        not (cleaned.isascii() and cleaned.isdigit()) or len(cleaned) > 15
    ):  # "²" is a digit to Python
        raise ActionRefused("Enter the amount as a whole number of pounds, like 75000")
    return int(cleaned)


@bp.post("/cases/<ref>/actions/<trigger>")
@allow("commissioner")
def act(ref: str, trigger: str) -> Response | str:
    """Take a decision; the engine refuses with its reasons, or because the case changed meanwhile."""
    view, programme = load(ref)
    if (page := confirming.ask_first(view, programme, trigger, "commission.act", "commission.case")) is not None:  # fmt: skip
        return page
    revision = request.form.get("revision", "")
    try:
        if not revision.isdigit():
            raise ActionRefused("Reload the case and decide again")
        done = engine().act(
            view.id, trigger, current_actor(), expected_revision=int(revision),
            amount=_amount(request.form.get("amount")), lot=request.form.get("lot") or None,
            reason=request.form.get("reason", "").strip() or None,
        )  # fmt: skip
        confirming.flash_done(programme, done, trigger)
    except StaleCase as exc:
        flash(f"Not done: {exc}", "error")
    except ActionRefused as exc:
        for line in [exc.message, *exc.reasons]:
            flash(line, "error")
    except EngineError as exc:
        flash(str(exc), "error")
    return redirect(url_for("commission.case", ref=view.reference))


# -- forms a commissioner fills in on a case (due diligence, meeting records, reviews…) ----------
FLOW = sheets.Flow("commission", "commissioner", "commission.case", "commission.file")


def staff_forms(view: CaseView, programme: Programme, role: str) -> list[dict[str, Any]]:
    """The forms of this case that `role` fills in and may fill in now, with how many records."""
    out = []
    for entry in sheets.entries(programme, view, role):
        if not sheets.editable(entry, programme, view, role):
            continue
        out.append({"form": programme.forms[entry["form"]], "repeatable": bool(entry.get("repeatable")),
                    "records": len(view.records.get(entry["form"], [])),
                    "started": entry["form"] in view.answers})  # fmt: skip
    return out


sheets.add_case_routes(bp, FLOW, load)
