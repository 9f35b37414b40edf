"""Open rounds in plain words, starting an application, and the organisation's applications."""

from __future__ import annotations

from typing import Any

from flask import abort, g, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovRadioInput
from wtforms import RadioField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Optional

from engine.errors import ActionRefused, EngineError
from engine.model import Programme
from engine.runtime import lot_questions
from engine.web import describe, listing
from engine.web.access import allow, current_actor
from engine.web.apply import bp
from engine.web.apply.outcome import started_already
from engine.web.services import engine, now, store


def round_summary(programme: Programme) -> dict[str, Any]:
    """What an applicant reads about a round before starting."""
    eng = engine()
    data = programme.data
    workflows = describe.applicant_workflows(eng, programme)
    first = next(iter(programme.workflows))
    starting = {wf.id for wf in workflows}
    criteria = [c for c in data["eligibility"] if c.get("workflow", first) in starting]
    return {
        "programme": programme,
        "summary": data.get("summary", ""),
        "funding": data.get("funding", {}),
        "priorities": data.get("priorities", []),
        "criteria": criteria,
        "milestones": sorted(programme.milestones.values(), key=lambda m: m.span.start),
        "workflows": workflows,
        **describe.round_window(programme, workflows, now()),
    }


@bp.get("/")
@allow("public")
def rounds() -> str:
    """Every published programme an applicant can apply to, open ones first."""
    eng = engine()
    found = [round_summary(eng.programme(pid)) for pid in eng.store.programme_ids()]
    found = [r for r in found if r["workflows"]]
    order = {"open": 0, "opening": 1, "closed": 2}
    found.sort(key=lambda r: (order[r["status"]], r["programme"].name))
    return render_template("apply/rounds.html", rounds=found)


@bp.get("/rounds/<programme_id>")
@allow("public")
def round_page(programme_id: str) -> str:
    """One round: priorities, funding, dates and who can apply."""
    return render_template("apply/round.html", r=round_summary(engine().programme(programme_id)))


def _start_form(programme: Programme) -> type[FlaskForm]:
    workflows = describe.applicant_workflows(engine(), programme)
    fields: dict[str, Any] = {}
    if len(workflows) > 1:
        fields["workflow"] = RadioField("What do you want to start?", choices=[SelectChoice(w.id, w.title) for w in workflows],
                                        validators=[InputRequired("Select what you want to start")], widget=GovRadioInput())  # fmt: skip
    roles = sorted({r for w in workflows for r in w.roles})
    if roles:
        fields["role"] = RadioField("Which role are you applying for?", choices=[SelectChoice(r, r.replace("_", " ").capitalize()) for r in roles],
                                    validators=[InputRequired("Select the role you are applying for")], widget=GovRadioInput())  # fmt: skip
    lots = programme.data["funding"].get("lots", [])
    starting = {wf.id for wf in workflows}
    asked_in_a_form = any(
        lot_questions(programme.forms[e["form"]])
        for e in programme.data["forms"]
        if e["workflow"] in starting and e["form"] in programme.forms
    )
    if lots and not asked_in_a_form:  # a form asks it: the answer is the case's lot, asked once
        fields["lot"] = RadioField(
            "Which lot are you applying for? (optional)",
            choices=[SelectChoice(x["id"], x["name"]) for x in lots],
            description="Leave this if you have not decided yet.",
            validators=[Optional()],
            widget=GovRadioInput(),
        )
    return type("StartForm", (FlaskForm,), fields)


@bp.route("/rounds/<programme_id>/start", methods=["GET", "POST"])
@allow("applicant")
def start(programme_id: str) -> Any:
    """Start an application for the signed-in person's organisation."""
    programme = engine().programme(programme_id)
    workflows = describe.applicant_workflows(engine(), programme)
    if not workflows:
        abort(404)
    summary = round_summary(programme)
    if not summary["open"]:  # the round's page says when it opens or that it has closed
        return redirect(url_for("apply.round_page", programme_id=programme.id))
    if request.method == "GET" and (existing := started_already(programme, workflows)):
        return render_template("apply/already_started.html", r=summary, existing=existing)
    form = _start_form(programme)()
    if request.form.get("another") == "yes" and any(f.name != "csrf_token" for f in form):
        # "Start another anyway" from the warning: ask the start questions, none answered yet
        form = _start_form(programme)(formdata=None)
        return render_template("apply/start.html", r=summary, form=form, problems=[])
    problems: list[str] = []
    if form.validate_on_submit():
        wf_id = form.workflow.data if "workflow" in form else workflows[0].id
        try:
            view = engine().start_case(
                programme.id,
                wf_id,
                current_actor(),
                organisation_name=store().organisation_name(g.user["organisation_id"]),
                role=form.role.data if "role" in form else None,
                lot=(form.lot.data or None) if "lot" in form else None,
            )
        except ActionRefused as exc:
            problems = [exc.message, *exc.reasons]
        except EngineError as exc:
            problems = [str(exc)]
        else:
            return redirect(url_for("apply.case", ref=view.reference))
    return render_template("apply/start.html", r=summary, form=form, problems=problems)


@bp.get("/applications")
@allow("applicant")
def applications() -> str:
    """The organisation's applications (and contracts), searched, filtered and paged, newest first."""
    found = listing.programmes()
    # a referral is about someone the organisation supports: its caseworkers' business, never listed here
    scope = sorted(listing.workflows_about(found, person=False))
    page = listing.list_page(
        noun="application", organisation_id=g.user["organisation_id"],
        scope=[(pid, wf, None) for pid, wf in scope],
        states=listing.state_choices(found, set(scope)),
        sorts=("newest", "oldest", "reference", "changed"),
    )  # fmt: skip
    listing.describe_rows(page.rows)
    return render_template("apply/applications.html", listing=page)
