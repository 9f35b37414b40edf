"""Who may use each route: one `@allow(...)` per view, and the signed-in person on `g.user`.

`allow("public")` is open to anyone; `allow("signed_in")` to anyone signed in; otherwise the
person's role must be one of those named. A test walks `app.url_map` and fails for any view
without a declaration.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import (
    Flask,
    Response,
    abort,
    after_this_request,
    current_app,
    g,
    redirect,
    request,
    session,
    url_for,
)
from itsdangerous import BadSignature, URLSafeTimedSerializer

from engine.runtime import Actor
from engine.web.services import now, store

MARKER = "commission_signed_in"
KEEP_FOR = timedelta(days=1)  # how long answers typed after a session ran out are kept
AUDIENCES = ("public", "signed_in", "applicant", "assessor", "commissioner", "caseworker", "admin")
F = TypeVar("F", bound=Callable[..., Any])


def allow(*audiences: str) -> Callable[[F], F]:
    """Declare who may use a view: "public", "signed_in", or one or more roles."""
    unknown = set(audiences) - set(AUDIENCES)
    if not audiences or unknown:
        raise ValueError(f"allow() takes some of {', '.join(AUDIENCES)}; not {sorted(unknown)}")

    def decorate(view: F) -> F:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            if "public" not in audiences:
                user = g.get("user")
                if user is None:
                    from engine.web.kept import keep_posted  # kept builds on this module

                    return keep_posted() or redirect(
                        url_for("auth.sign_in", next=safe_next(request.full_path))
                    )
                held = g.roles
                acting = next((a for a in audiences if a in held), None)
                if acting is None and "signed_in" not in audiences:
                    abort(403)
                g.acting_as = acting or user["role"]
                # a programme named in the address must be one the role reaches: another
                # programme's pages, downloads and exports are "page not found", not "forbidden"
                named = kwargs.get("pid") or kwargs.get("programme_id")
                if named is not None and not covers(named):
                    abort(404)
            return view(*args, **kwargs)

        guarded.allowed = audiences  # type: ignore[attr-defined]
        return guarded  # type: ignore[return-value]

    return decorate


def safe_next(target: str | None) -> str | None:
    """A return address only if it is a path on this site (never another site's)."""
    # Browsers drop tabs and newlines from a URL and read a backslash as a slash, so
    # "/\t/evil.test" becomes "//evil.test": refuse any of them rather than try to clean them.
    if not target or "\\" in target or any(c <= " " or c == "\x7f" for c in target):
        return None
    parts = urlsplit(target)
    if (
        parts.scheme
        or parts.netloc
        or not parts.path.startswith("/")
        or parts.path.startswith("//")
    ):
        return None
    return target.rstrip("?") or None


def fingerprint(password_hash: str | None) -> str:
    """Changes when the password does, so a reset signs out every other session."""
    return hashlib.sha256((password_hash or "").encode()).hexdigest()[:16]


def sign_in(user: dict[str, Any]) -> None:
    """Start a fresh session for this person (a new session: no fixation), one the server can end."""
    kept = session.get("kept")  # answers typed before the session ran out stay this browser's
    session.clear()
    if kept:
        session["kept"] = kept
    sid = secrets.token_urlsafe(32)
    store().add_session(sid, user["id"], now().isoformat())
    session.permanent = True
    session["sid"] = sid
    session["user_id"] = user["id"]
    session["auth"] = fingerprint(user["password_hash"])
    mark_signed_in(sid)


def sign_out() -> None:
    """End this browser's session on the server too: a copy of its cookie signs nobody in."""
    sid = session.get("sid")
    if isinstance(sid, str):
        store().end_session(sid, now().isoformat())
    session.clear()

    @after_this_request
    def forget_marker(response: Response) -> Response:
        response.delete_cookie(MARKER)
        return response


def mark_signed_in(sid: str) -> None:
    """A second cookie, outliving the session by a day, naming the session it came from.

    When the session runs out mid-page, it shows the answers posted came from this browser's
    own signed-in session (`kept.keep_posted`). It is SameSite=Lax, so a cross-site POST never
    carries it: another site cannot make answers be kept for someone to adopt.
    """
    value = _marker_signer().dumps(sid)
    lifetime = current_app.permanent_session_lifetime + KEEP_FOR

    @after_this_request
    def set_marker(response: Response) -> Response:
        response.set_cookie(MARKER, value, max_age=int(lifetime.total_seconds()), httponly=True,
                            secure=current_app.config["SESSION_COOKIE_SECURE"], samesite="Lax")  # fmt: skip
        return response


def marked_user() -> dict[str, Any] | None:
    """The person whose signed-in session this browser had, if it had one and it was not ended."""
    value = request.cookies.get(MARKER)
    if not value:
        return None
    lifetime = current_app.permanent_session_lifetime + KEEP_FOR
    try:
        sid = _marker_signer().loads(value, max_age=int(lifetime.total_seconds()))
    except BadSignature:
        return None
    return store().session_user(sid) if isinstance(sid, str) else None


def _marker_signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="signed-in-marker")


def roles_held(user: dict[str, Any], grants: list[dict[str, Any]]) -> dict[str, frozenset[str] | None]:  # fmt: skip
    """Each role a person holds, with the programmes it covers (None: every programme), from
    their grants (`roles_of`).

    An applicant's one role is their account's. Staff hold only what an administrator granted:
    nobody has a role just by having an account.
    """
    if user["role"] == "applicant":
        return {"applicant": None}
    held: dict[str, set[str] | None] = {}
    for grant in grants:
        if grant["role"] == "caseworker" and grant["organisation_id"] != user["organisation_id"]:
            continue  # a caseworker works for the organisation their account belongs to
        programmes = held.setdefault(grant["role"], set())
        if grant["programme_id"] is None:
            held[grant["role"]] = None
        elif programmes is not None:
            programmes.add(grant["programme_id"])
    return {role: None if p is None else frozenset(p) for role, p in held.items()}


def current_actor() -> Actor:
    """The signed-in person as the engine's `Actor`, in the role the route let them in as."""
    user = g.user
    role = g.get("acting_as") or user["role"]
    return Actor(role, user["email"], user["organisation_id"], g.roles.get(role, frozenset()))


def reachable(programme_ids: list[str]) -> list[str]:
    """The programmes this request's role reaches, of those given (all of them on public pages)."""
    if g.get("user") is None or g.get("acting_as") is None:
        return programme_ids
    actor = current_actor()
    return [pid for pid in programme_ids if actor.covers(pid)]


def covers(programme_id: str) -> bool:
    """Whether the role this request acts in reaches the programme (for pages read from the store)."""
    return current_actor().covers(programme_id)


def init_app(app: Flask) -> None:
    """Load the signed-in person before each request."""

    @app.before_request
    def load_user() -> None:
        g.user, g.roles = None, {}
        user_id, sid = session.get("user_id"), session.get("sid")
        if user_id is None:
            return
        # the session must still be live on the server: signing out or a new password ends it
        user, grants = store().session_user_and_roles(sid) if isinstance(sid, str) else (None, [])
        if (
            user is None
            or user["id"] != user_id
            or session.get("auth") != fingerprint(user["password_hash"])
            or user["disabled_at"] is not None
        ):
            session.clear()
            return
        g.user = user
        g.roles = roles_held(user, grants)

    @app.context_processor
    def user_in_templates() -> dict[str, Any]:
        # the chrome's navigation is drawn per set of roles held: one person may hold several
        held = "+".join(sorted(g.get("roles") or ())) or ("signed_in" if g.get("user") else None)
        return {"user": g.get("user"), "roles_key": held}
