"""The pages every public service links from its footer: accessibility, privacy, cookies, contact.

Each is drawn from the deployment's settings (`identity`) and, for the privacy notice, from the
published programmes' questions marked `personal` or `special_category`.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Blueprint, current_app, render_template

from engine.model import Programme
from engine.web.access import KEEP_FOR, MARKER, allow
from engine.web.identity import identity
from engine.web.services import engine, store

bp = Blueprint("about", __name__)
# the footer's links, in the order GOV.UK services show them: (link text, endpoint)
FOOTER_LINKS = (
    ("Accessibility statement", "about.accessibility"),
    ("Privacy notice", "about.privacy"),
    ("Cookies", "about.cookies"),
    ("Contact", "about.contact"),
)


@bp.get("/accessibility")
@allow("public")
def accessibility() -> str:
    """The accessibility statement."""
    return render_template("about/accessibility.html", who=identity())


@bp.get("/privacy")
@allow("public")
def privacy() -> str:
    """The privacy notice: who controls the data, and what each programme's forms ask for."""
    programmes = [engine().programme(pid) for pid in store().programme_ids()]
    collected = [entry for entry in map(_personal_questions, programmes) if entry["personal"] or entry["special"]]  # fmt: skip
    return render_template("about/privacy.html", who=identity(), programmes=collected)


@bp.get("/cookies")
@allow("public")
def cookies() -> str:
    """The cookies page: only the two essential cookies this service sets."""
    session_for = current_app.permanent_session_lifetime
    return render_template(
        "about/cookies.html",
        who=identity(),
        session_cookie=current_app.config["SESSION_COOKIE_NAME"],
        marker_cookie=MARKER,
        session_for=_duration(session_for),
        marker_for=_duration(session_for + KEEP_FOR),
    )


@bp.get("/contact")
@allow("public")
def contact() -> str:
    """How to contact the team running the service."""
    return render_template("about/contact.html", who=identity())


def _personal_questions(programme: Programme) -> dict[str, Any]:
    """A programme's name and the labels of its personal and special category questions."""
    personal: dict[str, None] = {}  # dicts: each label once, in the forms' order
    special: dict[str, None] = {}
    for form in programme.forms.values():
        for question in form.questions().values():
            if question.spec.get("special_category"):
                special[question.label] = None
            elif question.spec.get("personal"):
                personal[question.label] = None
    return {"name": programme.name, "personal": list(personal), "special": list(special)}


def _duration(span: timedelta) -> str:
    """A lifetime in GOV.UK style: "8 hours", "1 day and 8 hours"."""
    days, hours = span.days, span.seconds // 3600
    parts = [f"{n} {unit}{'' if n == 1 else 's'}" for n, unit in ((days, "day"), (hours, "hour")) if n]  # fmt: skip
    return " and ".join(parts) or "less than an hour"
