"""The signed-cookie session, and the CSRF token it carries signed for each page's forms."""

from __future__ import annotations

import time
from typing import Any

from flask import Flask, Response, current_app, g, session
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from flask_wtf.csrf import generate_csrf
from itsdangerous import BadSignature, URLSafeTimedSerializer

_PLAIN = (str, int, float, bool, type(None))


class CookieSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, with the signer built once per key rather than twice a request,
    and each cookie's signature checked once: a signed-in visitor sends the same cookie with every
    request (the session is not refreshed on each one), and checking it is a tenth of a page's time.
    """

    def _made(self, app: Flask) -> tuple[Any, URLSafeTimedSerializer | None, dict[str, Any]]:
        keys = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        made = app.extensions.get("session_serializer")
        if made is None or made[0] != keys:  # new keys: a new signer, and nothing checked yet
            made = (keys, super().get_signing_serializer(app), {})
            app.extensions["session_serializer"] = made
        return made

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        """The serializer for the app's current keys (rebuilt only if they change)."""
        return self._made(app)[1]

    def open_session(self, app: Flask, request: Any) -> SecureCookieSession | None:
        """The session in the request's cookie, if its signature is good and not too old."""
        _, signer, checked = self._made(app)
        if signer is None:
            return None
        val = request.cookies.get(self.get_cookie_name(app))
        if not val:
            return self.session_class()
        max_age = int(app.permanent_session_lifetime.total_seconds())
        known = checked.get(val)
        if known is None:
            try:
                data, signed_at = signer.loads(val, max_age=max_age, return_timestamp=True)
            except BadSignature:
                return self.session_class()
            if len(checked) > 10_000:  # one entry per recently active visitor; a bound on memory
                checked.clear()
            # Each request gets its own copy of the data to change: the session copies the dict,
            # which is enough when every value is a plain one (a signed-in session); anything
            # else is decoded afresh from the text each time.
            flat = all(type(v) in _PLAIN for v in data.values())
            known = checked[val] = (
                int(signed_at.timestamp()),
                data if flat else self.serializer.dumps(data),
            )
        age = int(time.time()) - known[0]
        if age > max_age or age < 0:  # as itsdangerous: expired, or signed in the future
            return self.session_class()
        stored = known[1]
        return self.session_class(
            stored if isinstance(stored, dict) else self.serializer.loads(stored)
        )

    def save_session(self, app: Flask, session: Any, response: Response) -> None:
        """Set the cookie only when the session changed (sessions are not refreshed on each request)."""
        if not self.should_set_cookie(app, session):
            if session.accessed:
                response.vary.add("Cookie")
            return
        super().save_session(app, session, response)


_SIGNED: dict[tuple[str, str], tuple[int, str]] = {}


def _sign_csrf_token() -> None:
    """This session's signed CSRF token, signed at most once a second per session.

    Flask-WTF signs the session's token afresh on every page (a new serializer and key
    derivation each time); the signature covers only the token and the current second, so
    the one made earlier in the same second is the very same string. Flask-WTF uses what is
    in `g` and still checks every posted token itself.
    """
    raw = session.get("csrf_token")
    if not isinstance(raw, str):
        return  # no token yet: Flask-WTF makes one when a page first needs it
    secret = current_app.config.get("WTF_CSRF_SECRET_KEY") or current_app.secret_key
    second = int(time.time())
    key = (str(secret), raw)
    made = _SIGNED.get(key)
    if made is None or made[0] != second:
        if len(_SIGNED) > 10_000:  # one entry per recently active session; a bound on memory
            _SIGNED.clear()
        token = URLSafeTimedSerializer(secret, salt="wtf-csrf-token").dumps(raw)
        made = _SIGNED[key] = (second, token)
    g.csrf_token = made[1]


def csrf_token() -> str:
    """The signed CSRF token for a page's form (templates call it as `csrf_token()`)."""
    if "csrf_token" not in g:
        _sign_csrf_token()
    token = g.get("csrf_token")
    return token if token is not None else generate_csrf()
