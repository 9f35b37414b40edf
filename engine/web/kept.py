"""Answers typed on a page when the session had run out: kept, and shown again after signing in.

A page of answers posted without a live session (its CSRF token gone with it) would otherwise be
refused and everything typed lost. Instead the posted fields are kept server-side under a random
token that is also put in the browser's session (so only that browser gets them back), the person
signs in again and returns to the page with the answers filled in, not yet saved, and a banner
saying so. Files cannot be kept: a browser never sends them again; the banner says to choose
them again. Kept answers are dropped once saved, or after a day.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from typing import Any, TypeVar

from flask import current_app, g, redirect, request, session, url_for
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from engine.web.access import KEEP_FOR, marked_user
from engine.web.services import now, store

MAX_KEPT = 256 * 1024  # characters of one page's answers: more is not a page a person typed
MAX_KEPT_A_DAY = 50  # pages kept for one person in a day
F = TypeVar("F", bound=Callable[..., Any])


def keeps_answers(view: F) -> F:
    """Mark a view whose POST is a page of answers worth keeping over an expired session."""
    view.keeps_answers = True  # type: ignore[attr-defined]
    return view


def keep_posted() -> Response | None:
    """Keep this POST's answers and send the person to sign in (or back to the page), if it is a page of answers."""
    view = current_app.view_functions.get(request.endpoint or "")
    if request.method != "POST" or not getattr(view, "keeps_answers", False):
        return None
    # only for the person whose own session ran out in this browser (see access.mark_signed_in):
    # a POST from nowhere, or from another site, keeps nothing and stores nothing
    person = g.get("user") or marked_user()
    if person is None:
        return None
    pairs = [
        (k, v)
        for k, v in request.form.items(multi=True)
        if k not in ("csrf_token", "_add", "_remove")
    ]
    data = json.dumps(pairs)
    moment = now()
    since = (moment - KEEP_FOR).isoformat()
    if len(data) > MAX_KEPT or store().kept_count(person["id"], since) >= MAX_KEPT_A_DAY:
        return None
    token = secrets.token_urlsafe(24)
    store().keep_answers(token, request.path, data, moment.isoformat(), since, person["id"])
    session["kept"] = token
    back = f"{request.path}?kept={token}"
    # (a failed CSRF check comes before the person is loaded: the session says if they are signed in;
    # if that sign-in is no longer good, the page itself sends them to sign in, `kept` and all)
    if g.get("user") is None and "user_id" not in session:
        return redirect(url_for("auth.sign_in", next=back))
    return redirect(back)  # signed in but the form's token had expired: straight back


def kept_formdata() -> MultiDict[str, Any] | None:
    """The answers kept for this page and this browser, if the address asks for them."""
    token = request.args.get("kept")
    user = g.get("user")
    if not token or session.get("kept") != token or user is None:
        return None
    data = store().kept_answers(token, request.path, (now() - KEEP_FOR).isoformat(), user["id"])
    return MultiDict(json.loads(data)) if data else None


def forget_kept() -> None:
    """Once the page is saved, its kept answers go."""
    token = request.args.get("kept")
    if token and session.get("kept") == token:
        store().forget_kept(token)
        session.pop("kept", None)
