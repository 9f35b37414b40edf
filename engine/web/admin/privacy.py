"""Data-protection requests an administrator answers in the browser: everything held about one
person or one account (a readable page and JSON to send them), and erasing it, asking first.
The engine gathers and erases (engine.runtime.privacy, subject_access); this only asks and shows.
"""

from __future__ import annotations

import json
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from engine.errors import EngineError
from engine.runtime.subject_access import subject_access_html
from engine.web.access import allow, current_actor
from engine.web.admin import bp
from engine.web.services import engine

KINDS = {"person": "A person the service supports", "account": "An account"}
LONGEST = 254  # an email address's longest; identifiers are shorter


def _asked() -> tuple[str, str, str | None]:
    """Whose data was asked for (kind, who) and, if the question is not whole, what to do."""
    kind = request.values.get("kind", "")
    who = request.values.get("who", "").strip()
    if kind not in KINDS:
        return kind, who, "Choose whether the request is about a person or an account"
    if not who:
        return kind, who, ("Enter the identifier their cases are about" if kind == "person"
                           else "Enter the account's email address")  # fmt: skip
    if len(who) > LONGEST:
        return kind, who, f"Enter {LONGEST} characters or fewer"
    return kind, who, None


def _held(kind: str, who: str) -> dict[str, Any]:
    args = {"person": who} if kind == "person" else {"account": who}
    return engine().subject_access(current_actor(), **args)


@bp.get("/privacy")
@allow("admin")
def privacy() -> Any:
    """Find what is held about a person or an account, to send it to them or to erase it."""
    if "kind" not in request.args:
        return render_template("admin/privacy.html", kinds=KINDS, kind="", who="", error=None, held=None)  # fmt: skip
    kind, who, error = _asked()
    held = None
    if error is None:
        try:
            held = _held(kind, who)
        except EngineError as exc:
            error = getattr(exc, "message", str(exc))
            error = error[:1].upper() + error[1:]
    return render_template("admin/privacy.html", kinds=KINDS, kind=kind, who=who, error=error,
                           held=held), 400 if error else 200  # fmt: skip


@bp.get("/privacy/export.<fmt>")
@allow("admin")
def export(fmt: str) -> Response:
    """Everything held, as a readable page or as JSON, downloaded to send to the person."""
    kind, who, error = _asked()
    if error is not None or fmt not in ("html", "json"):
        abort(404)
    try:
        held = _held(kind, who)
    except EngineError:
        abort(404)
    body = subject_access_html(held) if fmt == "html" else json.dumps(held, indent=2, ensure_ascii=False)  # fmt: skip
    kind_type = "text/html" if fmt == "html" else "application/json"
    return Response(body, mimetype=kind_type,
                    headers={"Content-Disposition": f'attachment; filename="personal-data.{fmt}"'})  # fmt: skip


@bp.post("/privacy/erase")
@allow("admin")
def erase() -> Any:
    """Erase one person's or one account's personal data, once the administrator has confirmed."""
    kind, who, error = _asked()
    if error is not None:
        flash(error, "error")
        return redirect(url_for("admin.privacy"))
    if request.form.get("confirmed") != "yes":
        try:
            held = _held(kind, who)
        except EngineError as exc:
            flash(getattr(exc, "message", str(exc)), "error")
            return redirect(url_for("admin.privacy"))
        return render_template("admin/erase_confirm.html", kind=kind, who=who, held=held)
    eng, actor = engine(), current_actor()
    done = eng.erase_person(who, actor) if kind == "person" else eng.erase_account(who, actor)
    if done["already"]:
        flash("This was already erased: there was nothing more to erase.")
    else:
        count = len(done["cases"])
        flash(f"Erased: their personal data is gone from {count} case{'s' if count != 1 else ''}. "
              "Counts in reports are unchanged.")  # fmt: skip
    return redirect(url_for("admin.privacy"))
