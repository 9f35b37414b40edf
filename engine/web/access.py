"""Who may use each route: one `@allow(...)` per view, and the signed-in person on `g.user`.

`allow("public")` is open to anyone; `allow("signed_in")` to anyone signed in; otherwise the
person's role must be one of those named. A test walks `app.url_map` and fails for any view
without a declaration.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import Flask, abort, g, redirect, request, session, url_for

from engine.runtime import Actor
from engine.web.kept import keep_posted
from engine.web.services import store

AUDIENCES = ("public", "signed_in", "applicant", "assessor", "commissioner", "caseworker")
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
                    return keep_posted() or redirect(
                        url_for("auth.sign_in", next=safe_next(request.full_path))
                    )
                if "signed_in" not in audiences and user["role"] not in audiences:
                    abort(403)
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
    """Start a fresh session for this person (a new session: no fixation)."""
    kept = session.get("kept")  # answers typed before the session ran out stay this browser's
    session.clear()
    if kept:
        session["kept"] = kept
    session.permanent = True
    session["user_id"] = user["id"]
    session["auth"] = fingerprint(user["password_hash"])


def current_actor() -> Actor:
    """The signed-in person as the engine's `Actor`."""
    user = g.user
    return Actor(user["role"], user["email"], user["organisation_id"])


def init_app(app: Flask) -> None:
    """Load the signed-in person before each request."""

    @app.before_request
    def load_user() -> None:
        g.user = None
        user_id = session.get("user_id")
        if user_id is None:
            return
        user = store().user(int(user_id))
        if user is None or session.get("auth") != fingerprint(user["password_hash"]):
            session.clear()
            return
        g.user = user

    @app.context_processor
    def user_in_templates() -> dict[str, Any]:
        return {"user": g.get("user")}
