"""Administrators: staff accounts, the roles they hold in each programme, and switching accounts
off. Every change goes through `Engine` (engine.runtime.staff), which writes it to the service log.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovRadioInput, GovSelect, GovTextInput
from werkzeug.wrappers import Response
from wtforms import RadioField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length

from engine.errors import ActionRefused, EmailTaken, NotFound
from engine.runtime.staff import ROLE_NAMES, STAFF_ROLES
from engine.web import auth
from engine.web.access import allow
from engine.web.admin import words
from engine.web.services import engine, store

bp = Blueprint("admin", __name__, url_prefix="/admin")
EVERY = "every"  # the programme choice meaning every programme
NONE = "none"  # the organisation choice for roles that belong to no organisation


class RoleForm(FlaskForm):
    """A role, and where it applies."""

    role = RadioField("Role", choices=[SelectChoice(r, ROLE_NAMES[r]) for r in STAFF_ROLES],
                      validators=[InputRequired("Choose a role")], widget=GovRadioInput())  # fmt: skip
    programme = SelectField("Programme", widget=GovSelect(), validate_choice=True)
    organisation = SelectField("Organisation (caseworkers only)", widget=GovSelect(), validate_choice=True)  # fmt: skip

    def offer(self) -> RoleForm:
        """Fill the choices from the programmes and organisations there are now."""
        eng = engine()
        programmes = [SelectChoice(pid, eng.programme(pid).name) for pid in store().programme_ids()]
        self.programme.choices = [SelectChoice(EVERY, "Every programme"), *programmes]
        names = sorted(store().organisation_names().items(), key=lambda item: item[1].lower())
        self.organisation.choices = [SelectChoice(NONE, "Not a caseworker"),
                                     *(SelectChoice(i, n) for i, n in names)]  # fmt: skip
        return self


class InviteForm(RoleForm):
    """A new member of staff and their first role."""

    name = StringField("Full name", validators=[InputRequired("Enter their full name"), Length(max=200)],
                       widget=GovTextInput())  # fmt: skip
    email = auth.email_field()


def _grant(user_id: int, form: RoleForm) -> bool:
    """Give the role the form chose; a refusal becomes the form's error."""
    programme = None if form.programme.data == EVERY else form.programme.data
    organisation = None if form.organisation.data == NONE else form.organisation.data
    return engine().grant(user_id, form.role.data, g.user["email"], programme_id=programme,
                          organisation_id=organisation)  # fmt: skip


@bp.get("/staff")
@allow("admin")
def staff() -> str:
    """Every staff account, with the roles it holds and whether it is switched on."""
    people = engine().staff_list()
    for person in people:
        person["role_words"] = [words.sentence(words.role(r)) for r in person["roles"]]
        person["status"] = words.status(person)
    return render_template("admin/staff.html", people=people)


@bp.route("/staff/invite", methods=["GET", "POST"])
@allow("admin")
def invite() -> Any:
    """Invite a member of staff by email, with their first role."""
    form = InviteForm().offer()
    if form.validate_on_submit():
        eng = engine()
        try:
            with eng.store.transaction():  # the account and its role, or neither
                user_id = eng.add_staff(form.email.data, form.name.data, g.user["email"])
                _grant(user_id, form)
        except EmailTaken:
            form.email.errors = ["Someone already has an account with this email address: "
                                 "find them in the list of staff, or enter another address"]  # fmt: skip
            return render_template("admin/invite.html", form=form), 400
        except (ActionRefused, NotFound) as exc:
            form.role.errors = [exc.message]
            return render_template("admin/invite.html", form=form), 400
        user = store().user(user_id)
        assert user is not None
        auth.send_reset_link(user, "You have been invited to work on this service",
                             f"{g.user['name']} has invited you to work on this service as {words.role_name(form.role.data)}.")  # fmt: skip
        flash(f"We have emailed {form.email.data} an invitation.")
        return redirect(url_for("admin.person", user_id=user_id))
    return render_template("admin/invite.html", form=form), 400 if form.errors else 200


@bp.route("/staff/<int:user_id>", methods=["GET", "POST"])
@allow("admin")
def person(user_id: int) -> Any:
    """One member of staff: their roles, another role to give, switching off, and what changed."""
    try:
        member = engine().staff_member(user_id)
    except NotFound:
        abort(404)
    form = RoleForm().offer()
    if form.validate_on_submit():
        try:
            added = _grant(user_id, form)
        except (ActionRefused, NotFound) as exc:
            form.role.errors = [exc.message]
        else:
            flash(f"{member['name']} is now {words.role_name(form.role.data)}." if added
                  else f"{member['name']} already holds that role.")  # fmt: skip
            return redirect(url_for("admin.person", user_id=user_id))
    member["role_words"] = [(r["id"], words.sentence(words.role(r))) for r in member["roles"]]
    member["status"] = words.status(member)
    changes = [words.change(c) for c in member["changes"]]
    return render_template("admin/person.html", member=member, form=form, changes=changes), (
        400 if form.errors else 200
    )


@bp.post("/staff/<int:user_id>/roles/<int:role_id>/remove")
@allow("admin")
def remove_role(user_id: int, role_id: int) -> Any:
    """Take a role away, once the administrator has confirmed."""
    eng = engine()
    try:
        member = eng.staff_member(user_id)
    except NotFound:
        abort(404)
    held = next((r for r in member["roles"] if r["id"] == role_id), None)
    if held is None:
        abort(404)
    if request.form.get("confirmed") != "yes":
        return render_template("admin/confirm.html", member=member,
                               question=f"Are you sure you want to remove {member['name']}'s role?",
                               detail=f"They will no longer be {words.role(held)}.",
                               button="Yes, remove the role",
                               action=url_for("admin.remove_role", user_id=user_id, role_id=role_id))  # fmt: skip
    try:
        eng.revoke(user_id, role_id, g.user["email"])
    except ActionRefused as exc:
        flash(exc.message, "error")
    else:
        flash(f"{member['name']} is no longer {words.role(held)}.")
    return redirect(url_for("admin.person", user_id=user_id))


@bp.post("/staff/<int:user_id>/switch-off")
@allow("admin")
def switch_off(user_id: int) -> Any:
    """Switch an account off (and sign it out everywhere), once confirmed."""
    eng = engine()
    try:
        member = eng.staff_member(user_id)
    except NotFound:
        abort(404)
    if request.form.get("confirmed") != "yes":
        return render_template("admin/confirm.html", member=member,
                               question=f"Are you sure you want to switch off {member['name']}'s account?",
                               detail="They will be signed out everywhere and cannot sign in until an "
                                      "administrator switches the account back on. Their roles are kept.",
                               button="Yes, switch off the account",
                               action=url_for("admin.switch_off", user_id=user_id))  # fmt: skip
    try:
        eng.disable(user_id, g.user["email"])
    except ActionRefused as exc:
        flash(exc.message, "error")
    else:
        flash(f"{member['name']}'s account is switched off.")
    return redirect(url_for("admin.person", user_id=user_id))


@bp.post("/staff/<int:user_id>/forget-work-account")
@allow("admin")
def forget_work_account(user_id: int) -> Response:
    """Forget the work account someone signs in with (theirs changed): the next one is kept."""
    eng = engine()
    try:
        member = eng.staff_member(user_id)
    except NotFound:
        abort(404)
    eng.forget_work_account(user_id, g.user["email"])
    flash(f"The next work account {member['name']} signs in with will be theirs.")
    return redirect(url_for("admin.person", user_id=user_id))


@bp.post("/staff/<int:user_id>/switch-on")
@allow("admin")
def switch_on(user_id: int) -> Response:
    """Switch an account back on (it can be undone, so no confirmation)."""
    eng = engine()
    try:
        member = eng.staff_member(user_id)
    except NotFound:
        abort(404)
    eng.enable(user_id, g.user["email"])
    flash(f"{member['name']}'s account is switched on again.")
    return redirect(url_for("admin.person", user_id=user_id))


from engine.web.admin import privacy  # noqa: E402, F401 - its views register on bp too
