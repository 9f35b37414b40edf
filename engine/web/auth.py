"""Accounts: register, sign in and out, reset a password by a link sent through the outbox, and
add colleagues who share the organisation's cases."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovPasswordInput, GovTextInput
from werkzeug.security import check_password_hash, generate_password_hash
from werkzeug.wrappers import Response
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import EqualTo, InputRequired, Length, Regexp

from engine.errors import EmailTaken
from engine.web import access
from engine.web.access import allow, safe_next, sign_in
from engine.web.services import external_url, now, store

bp = Blueprint("auth", __name__, url_prefix="/auth")
MIN_PASSWORD = 10
_EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"  # the same test as the engine's email questions
# compared against when no account has the email, so a wrong email takes as long as a wrong password
_DUMMY_HASH = generate_password_hash(secrets.token_hex(16))


def email_field() -> EmailField:
    """An email address field, normalised as it comes in."""
    return EmailField(
        "Email address",
        validators=[
            InputRequired("Enter your email address"),
            Regexp(
                _EMAIL,
                message="Enter an email address in the correct format, like name@example.org",
            ),
            Length(max=254, message="Enter an email address of 254 characters or fewer"),
        ],
        # a pasted address often brings a space or a line break: it is the same address
        filters=[_normalise_email],
        widget=GovTextInput(),
    )


def _normalise_email(value: object) -> object:
    """An email address without surrounding space, in lower case (addresses are matched so)."""
    return value.strip().lower() if isinstance(value, str) else value


def password_field(label: str = "Password") -> PasswordField:
    """A password field with the service's rules."""
    return PasswordField(
        label,
        validators=[
            InputRequired("Enter a password"),
            Length(
                min=MIN_PASSWORD,
                max=200,
                message=f"Your password must be at least {MIN_PASSWORD} characters long",
            ),
        ],
        description=f"At least {MIN_PASSWORD} characters. A few random words make a good password.",
        widget=GovPasswordInput(),
    )


def confirm_field() -> PasswordField:
    """The password typed again, which must match."""
    return PasswordField(
        "Confirm password",
        validators=[
            InputRequired("Enter your password again"),
            EqualTo("password", "The passwords do not match"),
        ],
        widget=GovPasswordInput(),
    )


class SignInForm(FlaskForm):
    """Email and password."""

    email = email_field()
    password = PasswordField("Password", validators=[InputRequired("Enter your password")], widget=GovPasswordInput())  # fmt: skip


class ResetRequestForm(FlaskForm):
    """Ask for a reset link."""

    email = email_field()


class NewPasswordForm(FlaskForm):
    """Choose a new password."""

    password = password_field("New password")
    confirm = confirm_field()


class ColleagueForm(FlaskForm):
    """Add someone to the organisation."""

    name = StringField("Their full name", validators=[InputRequired("Enter their full name"), Length(max=200)], widget=GovTextInput())  # fmt: skip
    email = email_field()


# Failed sign-ins cost time, not the account: past a few, each further try waits twice as long
# as the last (from 30 seconds to 15 minutes), so guessing is slow and the owner, who knows the
# password, is kept out for minutes at most. One address guessing at many accounts waits too.
ACCOUNT_FREE_TRIES = 5
ADDRESS_FREE_TRIES = 20
FIRST_PAUSE = timedelta(seconds=30)
LONGEST_PAUSE = timedelta(minutes=15)


def _wait(failures: list[str], free: int, moment: datetime) -> timedelta:
    """How long until another try is allowed after these failures (oldest first)."""
    over = len(failures) - free
    if over < 0:
        return timedelta(0)
    pause = min(FIRST_PAUSE * 2**over, LONGEST_PAUSE)
    return max(datetime.fromisoformat(failures[-1]) + pause - moment, timedelta(0))


def _in_words(wait: timedelta) -> str:
    """`30 seconds`, `1 minute`, `4 minutes`: a wait rounded up, as a person reads it."""
    seconds = max(int(wait.total_seconds() + 0.999), 1)
    if seconds < 60:
        return f"{seconds} seconds" if seconds > 1 else "1 second"
    minutes = -(-seconds // 60)
    return f"{minutes} minutes" if minutes > 1 else "1 minute"


# Where each kind of person lands after signing in: their own work, not the start page.
HOMES = {
    "applicant": "apply.applications",
    "assessor": "assess.queue",
    "commissioner": "commission.index",
    "caseworker": "casework.home",
    "admin": "admin.staff",
}


def home_of(role: str) -> str:
    """The endpoint a person of this role starts from."""
    return HOMES.get(role, "index")


@bp.route("/sign-in", methods=["GET", "POST"], endpoint="sign_in")
@allow("public")
def sign_in_page() -> Any:
    """Sign in with an email address and password."""
    form = SignInForm()
    if form.validate_on_submit():
        st = store()
        email = form.email.data.strip().lower()  # "Ann@X.org\n" is the same account and counter
        address = request.remote_addr or "unknown"  # the proxy's client when COMMISSION_PROXIES
        moment = now()
        since = (moment - LONGEST_PAUSE * 2).isoformat()
        wait = max(
            _wait(st.sign_in_failures(since, email=email), ACCOUNT_FREE_TRIES, moment),
            _wait(st.sign_in_failures(since, address=address), ADDRESS_FREE_TRIES, moment),
        )
        if wait:
            form.email.errors = [
                f"Too many attempts to sign in: wait {_in_words(wait)} and try again, or reset "
                "your password"
            ]
            return render_template("auth/sign_in.html", form=form), 429
        user = st.user_by_email(email)
        hashed = user["password_hash"] if user and user["password_hash"] else _DUMMY_HASH
        if check_password_hash(hashed, form.password.data) and user and user["password_hash"]:
            with st.transaction():
                st.clear_sign_in_failures(email)
            if user["disabled_at"] is not None:  # told only once the password is right
                form.email.errors = ["This account has been switched off: ask your administrator "
                                     "to switch it back on"]  # fmt: skip
                return render_template("auth/sign_in.html", form=form), 403
            if not user["confirmed_at"]:  # signed up but never opened the link: send another
                from engine.web.signup import send_confirm_link  # signup builds on this module

                send_confirm_link(user)
                return render_template("auth/check_email.html", email=email, again=True)
            sign_in(user)
            return redirect(safe_next(request.args.get("next")) or url_for(home_of(user["role"])))
        with st.transaction():
            st.record_sign_in_failure(email, address, moment.isoformat())
        form.email.errors = ["Enter the email address and password of your account"]
    return render_template("auth/sign_in.html", form=form)


@bp.post("/sign-out")
@allow("signed_in")
def sign_out() -> Response:
    """End the session."""
    access.sign_out()
    flash("You have signed out.")
    return redirect(url_for("index"))


def send_reset_link(user: dict[str, Any], subject: str, opening: str) -> str:
    """Write a one-use, expiring link to choose a password to the outbox for this person; the link."""
    return send_link(user, "auth.reset", subject, opening + "\n\nChoose your password here",
                     "If you did not ask for this, ignore this message: your password has not changed.")  # fmt: skip


def send_link(user: dict[str, Any], endpoint: str, subject: str, before: str, after: str) -> str:
    """Write a one-use, expiring link to `endpoint` to the outbox for this person; the link."""
    token = secrets.token_urlsafe(32)
    st = store()
    moment = now()
    hours = current_app.config["RESET_LINK_HOURS"]
    link = external_url(endpoint, token=token)
    body = f"{before} (the link works once, for {hours} hours):\n{link}\n\n{after}"
    with st.transaction():
        st.add_password_reset(user["id"], hashlib.sha256(token.encode()).hexdigest(),
                              (moment + timedelta(hours=hours)).isoformat(), moment.isoformat())  # fmt: skip
        st.add_outbox_message(user["email"], subject, body, moment.isoformat(),
                              to_role=user["role"], organisation_id=user["organisation_id"])  # fmt: skip
    return link


@bp.route("/reset", methods=["GET", "POST"])
@allow("public")
def reset_request() -> Any:
    """Ask for a password reset link (the answer never says whether the account exists)."""
    form = ResetRequestForm()
    if form.validate_on_submit():
        user = store().user_by_email(form.email.data)
        if user is not None:
            send_reset_link(user, "Reset your password", "Someone asked to reset the password of your account.")  # fmt: skip
        return render_template("auth/reset_sent.html", email=form.email.data)
    return render_template("auth/reset_request.html", form=form)


@bp.route("/reset/<token>", methods=["GET", "POST"])
@allow("public")
def reset(token: str) -> Any:
    """Choose a new password with a link from the outbox."""
    st = store()
    row = st.password_reset(hashlib.sha256(token.encode()).hexdigest())
    if row is None or row["used_at"] or row["expires_at"] < now().isoformat():
        return render_template("auth/reset_expired.html"), 400
    form = NewPasswordForm()
    if form.validate_on_submit():
        with st.transaction():
            if not st.use_password_reset(row["id"], now().isoformat()):
                return render_template("auth/reset_expired.html"), 400
            st.set_password(row["user_id"], generate_password_hash(form.password.data), now().isoformat())  # fmt: skip
            st.end_sessions(row["user_id"], now().isoformat())  # every other browser signed out
            st.confirm_user(row["user_id"], now().isoformat())  # the link proved the address theirs
        user = st.user(row["user_id"])
        assert user is not None
        sign_in(user)
        flash("Your password has been changed.")
        return redirect(url_for(home_of(user["role"])))
    return render_template("auth/reset.html", form=form)


@bp.route("/organisation", methods=["GET", "POST"])
@allow("applicant")
def organisation() -> Any:
    """The people who share the organisation's applications; add a colleague."""
    st = store()
    org = g.user["organisation_id"]
    form = ColleagueForm()
    if form.validate_on_submit():
        name = st.organisation_name(org) or org
        try:
            with st.transaction():
                user_id = st.create_user(form.email.data, None, form.name.data.strip(), "applicant", org, now().isoformat())  # fmt: skip
        except EmailTaken:
            # the page says the same either way, so it never tells anyone who has an account;
            # the email tells the owner instead
            existing = st.user_by_email(form.email.data)
            assert existing is not None
            with st.transaction():
                st.add_outbox_message(existing["email"], f"Someone tried to add you to {name}",
                                      f"{g.user['name']} tried to add you to {name} on this service, but you already "
                                      "have an account, so nothing has changed. If you should work on their "
                                      "applications, ask them to contact the programme team.", now().isoformat(),
                                      to_role=existing["role"], organisation_id=existing["organisation_id"])  # fmt: skip
        else:
            colleague = st.user(user_id)
            assert colleague is not None
            send_reset_link(colleague, f"You have been added to {name}",
                            f"{g.user['name']} has added you to {name}, so you can work on its applications.")  # fmt: skip
        flash(f"We have emailed {form.email.data} about joining {name}.")
        return redirect(url_for("auth.organisation"))
    return render_template("auth/organisation.html", form=form, people=st.users_in_organisation(org),
                           organisation_name=st.organisation_name(org))  # fmt: skip
