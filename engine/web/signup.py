"""Signing up: an applicant's account and organisation, used once the email address is confirmed.

The page says the same thing ("Check your email") whether or not the address already has an
account, so it never tells anyone who has one: a new account gets a link to confirm the address
(opening it signs them in), and an existing account's owner is told someone tried.

An organisation is known once. If the charity or company number given, or the organisation's
name however written (engine.store.organisations.name_key), is an organisation the service
knows, nothing is created: the page says the organisation already has an account and to ask a
colleague there to add them, and the organisation's people are told someone tried.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from typing import Any

from flask import flash, redirect, render_template, url_for
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovTextInput
from werkzeug.security import generate_password_hash
from wtforms import Field, StringField
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from engine.errors import EmailTaken
from engine.forms.organisation_numbers import format_message, read_number
from engine.store.contract import StoreContract
from engine.web.access import allow, sign_in
from engine.web.auth import bp, confirm_field, email_field, password_field, send_link
from engine.web.services import external_url, now, store

EITHER = "charity_or_company"


def _registration_number(_form: FlaskForm, field: Field) -> None:
    """A charity or Companies House number, if one is given."""
    if field.data and read_number(EITHER, field.data) is None:
        raise ValidationError(format_message(EITHER) + ", or leave this blank")


class RegisterForm(FlaskForm):
    """A new applicant and their organisation."""

    name = StringField("Your full name", validators=[InputRequired("Enter your full name"), Length(max=200)], widget=GovTextInput())  # fmt: skip
    organisation = StringField(
        "Your organisation's name",
        validators=[InputRequired("Enter your organisation's name"), Length(max=200)],
        description="Colleagues can join it later: you add them from your organisation's page.",
        widget=GovTextInput(),
    )
    number = StringField(
        "Charity or company registration number (if you have one)",
        validators=[Optional(), Length(max=20, message="Enter a registration number of 20 characters or fewer"),
                    _registration_number],
        description="For example, 1092345 for a charity or 01234567 for a company. Leave this blank "
        "if your organisation is not registered.",
        filters=[lambda value: value.strip() if isinstance(value, str) else value],
        widget=GovTextInput(),
    )  # fmt: skip
    email = email_field()
    password = password_field()
    confirm = confirm_field()


def _organisation_id(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")[:40] or "organisation"
    return f"{slug}_{secrets.token_hex(3)}"


def send_confirm_link(user: dict[str, Any]) -> None:
    """Send the link that confirms the address and signs the person in."""
    send_link(user, "auth.confirm", "Confirm your email address",
              "Confirm your email address to finish creating your account",
              "If you did not create an account, ignore this message.")  # fmt: skip


@bp.route("/register", methods=["GET", "POST"])
@allow("public")
def register() -> Any:
    """Create an applicant's account and their organisation; they confirm the address by email."""
    form = RegisterForm()
    if form.validate_on_submit():
        st = store()
        stamp = now().isoformat()
        name = form.organisation.data.strip()
        number = read_number(EITHER, form.number.data) if form.number.data else None
        org = _organisation_id(name)
        try:
            with st.transaction():
                existing = _known_organisation(st, name, number)
                if existing is None:
                    st.ensure_organisation(org, name, stamp)
                    if number:
                        st.set_organisation_number(org, *number)
                    user_id = st.create_user(form.email.data, generate_password_hash(form.password.data),
                                             form.name.data.strip(), "applicant", org, stamp, confirmed=False)  # fmt: skip
        except EmailTaken:
            owner = st.user_by_email(form.email.data)
            assert owner is not None
            with st.transaction():
                st.add_outbox_message(owner["email"], "Someone tried to create an account with your email address",
                                      "Someone tried to create an account on this service with this email address, "
                                      "which already has one. If it was you, sign in, or choose a new password "
                                      f"here: {external_url('auth.reset_request')}\n\nIf it was not you, ignore "
                                      "this message: nothing has changed.", stamp,
                                      to_role=owner["role"], organisation_id=owner["organisation_id"])  # fmt: skip
        else:
            if existing is not None:
                # the same page whether or not the email address has an account: it says nothing of it
                told = _tell_organisation(st, existing, stamp)
                return render_template("auth/already_registered.html", organisation=existing["name"],
                                       by_number=existing.get("by_number", False), told=told)  # fmt: skip
            user = st.user(user_id)
            assert user is not None
            send_confirm_link(user)
        return render_template("auth/check_email.html", email=form.email.data, again=False)
    return render_template("auth/register.html", form=form)


def _known_organisation(st: StoreContract, name: str, number: tuple[str, str] | None) -> dict[str, Any] | None:  # fmt: skip
    """The organisation the service already knows by this number or this name, if any."""
    if number and (holder := st.organisation_with_number(*number)):
        found = st.organisation(holder)
        return {**found, "by_number": True} if found else None
    for known in st.organisations_named(name):
        held = known[f"{number[0]}_number"] if number else None
        if held and held != number[1]:  # the same name, but another registered organisation
            continue
        return known
    return None


def _tell_organisation(st: StoreContract, organisation: dict[str, Any], stamp: str) -> bool:
    """Email the organisation's people that someone tried to register it again; whether anyone was told."""
    # who tried is left out: anyone can type anything into the form, and it would go in the email
    people = [p for p in st.users_in_organisation(organisation["id"]) if p["role"] == "applicant" and p["active"]]  # fmt: skip
    name = organisation["name"]
    with st.transaction():
        for person in people:
            st.add_outbox_message(person["email"], f"Someone tried to create an account for {name}",
                                  f"Someone tried to create a new account for {name} on this service. {name} "
                                  "already has an account, so we did not create another. If a colleague tells "
                                  "you it was them, add them from your organisation page: "
                                  f"{external_url('auth.organisation')}\n\nIf nobody does, ignore this "
                                  "message: nothing has changed.", stamp,
                                  to_role="applicant", organisation_id=organisation["id"])  # fmt: skip
    return bool(people)


@bp.get("/confirm/<token>")
@allow("public")
def confirm(token: str) -> Any:
    """Confirm the email address from the link, and sign the person in."""
    st = store()
    row = st.password_reset(hashlib.sha256(token.encode()).hexdigest())
    if row is None or row["expires_at"] < now().isoformat():
        return render_template("auth/reset_expired.html"), 400
    if row["used_at"]:  # opened before (a mail scanner, or a second click): the address is theirs
        flash("Your email address is confirmed. Sign in to carry on.")
        return redirect(url_for("auth.sign_in"))
    with st.transaction():
        st.use_password_reset(row["id"], now().isoformat())
        st.confirm_user(row["user_id"], now().isoformat())
    user = st.user(row["user_id"])
    assert user is not None
    sign_in(user)
    flash("Your email address is confirmed and your account is ready.")
    return redirect(url_for("apply.rounds"))
