"""Staff sign in with their organisation's account: OpenID Connect through Authlib.

Any OpenID Connect provider is configured by its issuer URL, a client id and a secret (Microsoft
Entra ID for NHS and council staff is one such issuer). Authlib reads the provider's discovery
document and does the protocol: state, nonce, PKCE and the ID token's signature, issuer, audience
and expiry. This module decides only who may come in: a verified email address matched to an
account someone invited. Signing in never gives anyone a role, and an applicant's account keeps
signing in with its password.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.common.security import is_secure_transport
from authlib.integrations.base_client import MismatchingStateError
from authlib.integrations.flask_client import OAuth
from flask import Flask, abort, current_app, redirect, render_template, request, session, url_for
from joserfc.errors import JoseError

from engine.errors import ConfigError
from engine.web.access import allow, safe_next, sign_in
from engine.web.auth import bp, home_of
from engine.web.services import engine, external_url, now, store

log = logging.getLogger(__name__)

# Read from the app config, which `create_app` fills from the environment of the same names.
ISSUER, CLIENT_ID, CLIENT_SECRET, BUTTON = (
    "COMMISSION_OIDC_ISSUER",
    "COMMISSION_OIDC_CLIENT_ID",
    "COMMISSION_OIDC_CLIENT_SECRET",
    "COMMISSION_OIDC_BUTTON",
)
SETTINGS = (ISSUER, CLIENT_ID, CLIENT_SECRET, BUTTON)
DEFAULT_BUTTON = "Sign in with your organisation's account"
_EXTENSION = "commission_oidc"
_NEXT = "staff_next"  # where to go after signing in, kept in the session over the round trip
_TIMEOUT = 10  # seconds for each call to the provider: a page waits on it
# Everything the round trip to the provider can raise: its network, its answers, its tokens.
_PROVIDER_FAILED = (
    AuthlibBaseError,
    JoseError,
    requests.RequestException,
    RuntimeError,
    ValueError,
)


def init_app(app: Flask) -> None:
    """Register the provider when all three settings are there; refuse to start on only some."""
    values = {key: str(app.config.get(key) or "").strip() for key in SETTINGS}
    needed = (ISSUER, CLIENT_ID, CLIENT_SECRET)
    missing = [key for key in needed if not values[key]]
    app.extensions[_EXTENSION] = None
    app.jinja_env.globals["staff_sign_in"] = button_label
    if len(missing) == len(needed):
        return  # not configured: everyone signs in with a password
    if missing:
        raise ConfigError(
            f"set {' and '.join(missing)} as well, or unset the other COMMISSION_OIDC_ settings: "
            "staff sign-in needs the issuer URL, the client id and the client secret"
        )
    if not is_secure_transport(values[ISSUER]):  # tokens over plain http could be read or forged
        raise ConfigError(
            f"{ISSUER} must start with https:// (only a provider on this machine may use http)"
        )
    oauth = OAuth(app)
    app.extensions[_EXTENSION] = oauth.register(
        name="staff",
        client_id=values[CLIENT_ID],
        client_secret=values[CLIENT_SECRET],
        server_metadata_url=values[ISSUER].rstrip("/") + "/.well-known/openid-configuration",
        client_kwargs={
            "scope": "openid email profile",
            "code_challenge_method": "S256",
            "default_timeout": _TIMEOUT,
        },
    )
    app.extensions[_EXTENSION + ".button"] = values[BUTTON] or DEFAULT_BUTTON


def button_label() -> str | None:
    """The words on the sign-in page's staff button, or None when staff sign-in is not configured."""
    if current_app.extensions.get(_EXTENSION) is None:
        return None
    label: str = current_app.extensions[_EXTENSION + ".button"]
    return label


def _client() -> Any:
    """The registered provider (404 when staff sign-in is not configured)."""
    client = current_app.extensions.get(_EXTENSION)
    if client is None:
        abort(404)
    return client


@bp.get("/staff/sign-in", endpoint="oidc_start")
@allow("public")
def start() -> Any:
    """Send the person to their organisation's sign-in page, with state, nonce and PKCE."""
    client = _client()
    target = safe_next(request.args.get("next"))
    if target:
        session[_NEXT] = target
    else:
        session.pop(_NEXT, None)
    try:
        # the provider sends people back to the configured address, never the request's Host
        return client.authorize_redirect(external_url("auth.oidc_callback"))
    except _PROVIDER_FAILED as exc:
        return _refused("provider_unreachable", detail=type(exc).__name__)


@bp.get("/staff/signed-in", endpoint="oidc_callback")
@allow("public")
def callback() -> Any:
    """Back from the provider: check who it says this is, and sign in an invited staff account."""
    client = _client()
    if request.args.get("error"):  # cancelled, or refused by the organisation's own rules
        said = re.sub(r"[^a-z_]", "", request.args.get("error", ""))[:40]  # a log line, not a page
        return _refused("provider_said_no", detail=said)
    try:
        token = client.authorize_access_token()
    except MismatchingStateError:
        return _refused("bad_state")
    except _PROVIDER_FAILED as exc:
        return _refused("provider_failed", detail=type(exc).__name__)
    claims = dict(token.get("userinfo") or {})
    if not claims:  # an answer without an ID token is not OpenID Connect
        return _refused("provider_failed", detail="no ID token")
    if not claims.get("email"):  # some providers put the address only in userinfo
        try:
            extra = dict(client.userinfo(token=token))
        except _PROVIDER_FAILED as exc:
            return _refused("provider_failed", detail=type(exc).__name__)
        if extra.get("sub") == claims.get("sub"):
            claims.update({k: extra[k] for k in ("email", "email_verified") if k in extra})
    email = str(claims.get("email") or "").strip().lower()
    if not email:
        return _refused("no_email")
    if not _verified(claims):
        return _refused("email_not_verified", email=email)
    user = store().user_by_email(email)
    if user is None:
        return _refused("no_account", email=email)
    if user["role"] == "applicant":
        return _refused("applicant_account", email=email, user_id=user["id"])
    if user.get("disabled_at"):
        return _refused("account_switched_off", email=email, user_id=user["id"])
    # the first work account to sign in keeps the staff account: if the provider later gives
    # this address to someone else, they are a different subject and sign nobody in
    work_account = f"{claims.get('iss') or ''} {claims.get('sub') or ''}"
    if not claims.get("sub") or not engine().link_work_account(user["id"], work_account):
        return _refused("another_work_account", email=email, user_id=user["id"])
    st = store()
    with st.transaction():
        st.confirm_user(user["id"], now().isoformat())  # the provider vouched for the address
    target = session.pop(_NEXT, None)  # signing in starts a fresh session
    sign_in(user)
    log.info("staff sign-in by account %s", user["id"])
    return redirect(safe_next(target) or url_for(home_of(user["role"])))


def _verified(claims: dict[str, Any]) -> bool:
    """Whether the provider says the email address is the person's own.

    `email_verified` is the standard claim (some providers send it as the text "true");
    Microsoft Entra ID sends none, but with the optional claim `xms_edov` it says the address's
    domain belongs to the tenant that signed the person in.
    """
    said = claims.get("email_verified")
    return said is True or str(said).lower() == "true" or claims.get("xms_edov") is True


# What each refusal says, and its status: every one says what to do next.
_PAGES: dict[str, tuple[int, str, list[str]]] = {
    "no_account": (403, "You do not have a staff account on this service", [
        "Your organisation's account is {email}, and no one has invited that address to work on "
        "this service.",
        "Ask your administrator to invite you, then sign in again.",
    ]),
    "applicant_account": (403, "This is not a staff account", [
        "{email} is the email address of an account for applying to programmes.",
        "To work on your applications, sign in with your email address and password. If you work "
        "on this service, ask your administrator to invite you with your work email address.",
    ]),
    "account_switched_off": (403, "Your account has been switched off", [
        "The account for {email} cannot sign in at the moment.",
        "If you still need to use this service, ask your administrator to switch it back on.",
    ]),
    "another_work_account": (403, "This is not the work account you sign in with", [
        "The staff account for {email} signs in with a different work account.",
        "If your work account has changed, ask your administrator to forget the old one, then "
        "sign in again.",
    ]),
    "email_not_verified": (403, "We could not check your email address", [
        "Your organisation's account did not confirm that {email} is your own email address.",
        "Ask your administrator or IT team to check your account has a confirmed email address, "
        "then try again.",
    ]),
    "no_email": (403, "We could not check your email address", [
        "Your organisation's account did not tell us your email address.",
        "Ask your administrator or IT team to let this service see your email address, then try "
        "again.",
    ]),
    "provider_said_no": (403, "You have not signed in", [
        "Signing in with your organisation's account was cancelled or was not allowed.",
        "Try again. If it happens again, ask your administrator or IT team for help.",
    ]),
    "bad_state": (400, "Your sign-in timed out", [
        "For your security we could not finish signing you in.",
        "Go back to the sign-in page and try again.",
    ]),
    "provider_failed": (502, "Sign-in with your organisation's account is not working", [
        "We could not finish signing you in with your organisation's account.",
        "Try again in a few minutes. If it keeps happening, tell your administrator.",
    ]),
    "provider_unreachable": (502, "Sign-in with your organisation's account is not working", [
        "We could not reach your organisation's sign-in service.",
        "Try again in a few minutes. If it keeps happening, tell your administrator.",
    ]),
}  # fmt: skip


def _refused(reason: str, *, email: str = "", user_id: int | None = None,
             detail: str = "") -> tuple[str, int]:  # fmt: skip
    """Log why a staff sign-in failed (never a code or token) and show the person what to do."""
    domain = email.rpartition("@")[2]
    # the reason, the account and the address's domain: enough to help, without the address
    log.warning("staff sign-in refused: %s%s%s%s from %s", reason,
                f" ({detail})" if detail else "", f" for account {user_id}" if user_id else "",
                f" (an address at {domain})" if domain else "", request.remote_addr)  # fmt: skip
    status, title, paragraphs = _PAGES[reason]
    text = [p.format(email=email) for p in paragraphs]
    return render_template("auth/staff_refused.html", title=title, paragraphs=text), status
