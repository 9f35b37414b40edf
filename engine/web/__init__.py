"""The web app: `create_app()` builds it on one database; one blueprint per audience.

Only this package imports Flask. Every page calls the same `Engine` the CLI and the scheduler
use; every route says who may use it (`access.allow`), and a test proves none forgets.
May import runtime, reporting, store, forms, timeline and the base modules; never the CLI or the
scheduler process (`make layers` checks).
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from flask import Flask, Response, abort, render_template, request, send_from_directory
from flask.templating import Environment
from flask_wtf.csrf import CSRFError, CSRFProtect
from govuk_frontend_wtf.main import WTFormsHelpers
from jinja2 import ChoiceLoader, PackageLoader, PrefixLoader
from werkzeug.exceptions import BadRequest, SecurityError
from werkzeug.middleware.proxy_fix import ProxyFix

from engine.errors import ConfigError, NotFound, NotPermitted
from engine.rules import ExpressionError
from engine.runtime.assessment import RECOMMENDATIONS, describe_scale
from engine.store import is_postgres
from engine.web import (
    access,
    describe,
    headers,
    history,
    identity,
    logs,
    markup,
    offers,
    oidc,
    services,
    sessions,
    static_files,
    widgets,
)
from engine.web.access import allow
from engine.web.demo import upload_folder
from engine.web.headers import SecurityHeaders
from engine.web.kept import keep_posted

ROOT = Path(__file__).resolve().parents[2]
csrf = CSRFProtect()


def _assets_dir() -> Path:
    """Where govuk-frontend's built CSS, JavaScript, fonts and images are (`npm ci` puts them)."""
    configured = os.environ.get("COMMISSION_ASSETS")
    if configured:
        return Path(configured)
    for base in (Path.cwd(), ROOT):
        candidate = base / "node_modules" / "govuk-frontend" / "dist" / "govuk"
        if candidate.is_dir():
            return candidate
    return ROOT / "node_modules" / "govuk-frontend" / "dist" / "govuk"


def _secret_key(db_path: str) -> str:
    """A key kept beside the database, so sessions survive a restart (made once, owner-only)."""
    if is_postgres(db_path):
        raise ConfigError(
            "set COMMISSION_SECRET_KEY: with PostgreSQL the web app may run on several hosts, "
            "and every one must sign sessions with the same key (`commission doctor` checks it)"
        )
    if db_path == ":memory:":
        return secrets.token_hex(32)
    path = Path(db_path).with_name(Path(db_path).name + ".secret")
    if not path.exists():
        # written whole under another name, then linked into place: two workers starting at
        # once on a new file both read the one key that won, never an empty or half-written one
        path.parent.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f"{path.name}.{secrets.token_hex(4)}")
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
        with contextlib.suppress(FileExistsError):
            os.link(draft, path)
        draft.unlink()
    return path.read_text().strip()


class _App(Flask):
    """Flask, remembering which views and hooks are plain functions.

    Flask asks `inspect` whether each view, hook and context processor is a coroutine on every
    request (a dozen a page); the answer for a function never changes.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._plain: dict[Callable[..., Any], Callable[..., Any]] = {}

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        """The function as Flask would run it (an `async def` one wrapped), worked out once."""
        known = self._plain.get(func)
        if known is None:
            if len(self._plain) > 10_000:  # a bound on memory; views and hooks are a few hundred
                self._plain.clear()
            known = self._plain[func] = super().ensure_sync(func)
        return known


class _Templates(Environment):
    """Flask's Jinja environment with each template's globals in one flat dict.

    Jinja chains a template's globals over the environment's and copies that chain into every
    render's context key by key, a fifth of the time of a small page. Every global here is
    registered while `create_app` runs, before any template loads, as Jinja asks.
    """

    def make_globals(self, d: dict[str, Any] | None) -> dict[str, Any]:  # type: ignore[override]
        """The environment's globals with this template's own over them, flattened once."""
        return {**self.globals, **(d or {})}


def _listed(text: str | None) -> list[str] | None:
    """A comma-separated setting as a list (None when unset)."""
    names = [n.strip() for n in (text or "").split(",") if n.strip()]
    return names or None


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app. Settings: DATABASE, CLOCK (a callable returning now), UPLOAD_FOLDER, SECRET_KEY…"""
    app = _App(__name__, static_folder=None, instance_relative_config=True)
    app.jinja_environment = _Templates
    app.config.from_mapping(
        DATABASE=os.environ.get("COMMISSION_DB", "var/commission.db"),
        CLOCK=None,
        UPLOAD_FOLDER=None,
        MAX_CONTENT_LENGTH=60 * 1024 * 1024,  # the largest form a question allows is 50 MB
        # typed answers in a page with a file (multipart): Werkzeug's 500 KB default refused a long
        # answer with 413 and lost the page; an answer may be 100,000 characters (up to 400 KB),
        # so a page's text is allowed 8 MB and one too long is refused on its field, page kept
        MAX_FORM_MEMORY_SIZE=8 * 1024 * 1024,
        SESSION_COOKIE_SECURE=True,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_NAME="commission_session",
        # a session lasts 8 hours from signing in, not from the last click (so the cookie is not
        # re-signed on every page); answers typed after it ends are kept (see kept.py)
        SESSION_REFRESH_EACH_REQUEST=False,
        PERMANENT_SESSION_LIFETIME=8 * 60 * 60,
        WTF_CSRF_TIME_LIMIT=8 * 60 * 60,  # as long as a session: a long answer is not lost to it
        WTF_CSRF_CHECK_DEFAULT=False,  # checked by `_check_csrf`, method first
        ASSETS=str(_assets_dir()),
        RESET_LINK_HOURS=2,
        # Links in emails start with this, never with the request's Host (docs: README, deploy).
        BASE_URL=os.environ.get("COMMISSION_BASE_URL", "http://127.0.0.1:5000"),
        # Host names this deployment answers to; any other Host header gets 400 (none: any).
        TRUSTED_HOSTS=_listed(os.environ.get("COMMISSION_TRUSTED_HOSTS")),
        # How many proxies in front set X-Forwarded-For/-Proto/-Host; 0 trusts no such header.
        PROXIES=int(os.environ.get("COMMISSION_PROXIES", "0") or 0),
        # Whose service this is (name, operator, phase, contact, feedback link, brand colour):
        # unset ones take the demo's defaults in `identity.read_settings` (docs: README).
        **{key: os.environ.get(key) for key in identity.DEFAULTS},
        # Staff sign-in by OpenID Connect (issuer, client id, secret, button words): docs/deploy.md.
        **{key: os.environ.get(key) for key in oidc.SETTINGS},
    )
    if test_config is not None:
        app.config.from_mapping(test_config)
    if app.config["PROXIES"]:
        n = int(app.config["PROXIES"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore[method-assign]
    db_path = str(app.config["DATABASE"])
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = os.environ.get("COMMISSION_SECRET_KEY") or _secret_key(db_path)
    if not app.config[
        "UPLOAD_FOLDER"
    ]:  # files kept on disk by versions before the database kept them
        on_disk = db_path != ":memory:" and not is_postgres(db_path)
        app.config["UPLOAD_FOLDER"] = str(
            upload_folder(db_path) if on_disk else Path(app.instance_path) / "uploads"
        )

    app.jinja_loader = ChoiceLoader(
        [
            PackageLoader("engine.web"),
            PrefixLoader(
                {
                    "govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja"),
                    "govuk_frontend_wtf": PackageLoader("govuk_frontend_wtf"),
                }
            ),
        ]
    )
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    identity.init_app(app)
    _template_globals(app)
    app.session_interface = sessions.CookieSessions()
    csrf.init_app(app)
    _check_csrf(app)
    WTFormsHelpers(app)
    services.init_app(app)
    access.init_app(app)
    _security(app)
    _assets(app)
    _errors(app)
    logs.redact_access_logs()

    from engine.web import auth, signup  # noqa: F401 - signup's routes join auth's blueprint

    oidc.init_app(app)  # its routes join auth's blueprint too
    from engine.web.apply import bp as apply_bp

    app.register_blueprint(auth.bp)
    app.register_blueprint(apply_bp)
    from engine.web.assess import bp as assess_bp
    from engine.web.commission import bp as commission_bp

    app.register_blueprint(commission_bp)
    app.register_blueprint(assess_bp)
    from engine.web.casework import bp as casework_bp

    app.register_blueprint(casework_bp)
    from engine.web import about
    from engine.web.admin import bp as admin_bp

    app.register_blueprint(about.bp)
    app.register_blueprint(admin_bp)
    from engine.web.studio import bp as studio_bp

    app.register_blueprint(studio_bp)

    @app.get("/")
    @allow("public")
    def index() -> str:
        """The start page."""
        return render_template("index.html")

    return app


def _template_globals(app: Flask) -> None:
    """What every audience's templates call: page chrome, answer fields, answers shown back."""
    app.jinja_env.globals.update(
        govukRebrand=False,  # the GOV.UK template asks; the classic look for now
        page_chrome=markup.page_chrome,
        identity=identity.identity,
        flashed_messages=markup.flashed_messages,
        params_for=widgets.params_for,
        answer_fields=widgets.answer_fields,
        answer_errors=widgets.answer_errors,
        show_answer=describe.show_answer,
        money=describe.money,
        when=describe.when,
        span_words=describe.span_words,
        timeline=history.timeline,
        who=history.who,
        action_words=describe.action_words,
        due_words=describe.due_words,
        flag_words=describe.flag_words,
        reasons_in_words=offers.reasons_in_words,
        describe_scale=describe_scale,
        recommendations=RECOMMENDATIONS,
    )
    # labels inside sentences keep acronyms and proper nouns ("VCSE partners"), unlike `lower`
    app.jinja_env.filters["mid_sentence"] = describe.mid_sentence


def _check_csrf(app: Flask) -> None:
    """Every POST, PUT, PATCH or DELETE must carry the session's CSRF token (Flask-WTF checks it).

    Flask-WTF's own hook (off: WTF_CSRF_CHECK_DEFAULT) looks up the view's exemptions before
    the method, on every page read; reads need no token, so this looks at the method first.
    """

    @app.before_request
    def check_csrf() -> None:
        if request.method in app.config["WTF_CSRF_METHODS"] and app.config["WTF_CSRF_ENABLED"]:
            csrf.protect(apply_exemptions=True)  # a view marked `csrf.exempt` stays exempt


def _security(app: Flask) -> None:
    """Security headers on every response (`headers`); the nonce and CSRF token in templates."""
    app.wsgi_app = SecurityHeaders(app.wsgi_app)  # type: ignore[method-assign]

    @app.context_processor
    def nonce_and_token() -> dict[str, Any]:
        return {"cspNonce": headers.nonce(), "csrf_token": sessions.csrf_token}


def _assets(app: Flask) -> None:
    """GOV.UK Frontend from node_modules (installed by `make setup`), and this app's own files;
    the links templates make to them carry each file's version (`static_files`)."""
    dist = Path(app.config["ASSETS"])
    own = Path(__file__).parent / "static"
    static_files.register(app, "govuk_static", dist)
    static_files.register(app, "app_static", own)
    static_files.init_app(app)

    @app.get("/assets/<path:filename>")
    @allow("public")
    def assets(filename: str) -> Response:
        """Fonts and images, at the path govuk-frontend's CSS expects."""
        headers.cacheable()
        return send_from_directory(dist / "assets", filename, max_age=86400)

    @app.get("/static/govuk/<path:filename>")
    @allow("public")
    def govuk_static(filename: str) -> Response:
        """govuk-frontend's CSS and JavaScript."""
        if not filename.startswith("govuk-frontend.min."):
            abort(404)
        return static_files.send(dist, filename, max_age=86400)

    @app.get("/static/app/<path:filename>")
    @allow("public")
    def app_static(filename: str) -> Response:
        """This app's own small files."""
        return static_files.send(own, filename, max_age=3600)


def _errors(app: Flask) -> None:
    """Friendly pages; the engine's NotFound (a case of another organisation) is a 404."""

    def page(status: int, title: str, text: str) -> tuple[str, int]:
        return render_template("error.html", title=title, text=text), status

    @app.errorhandler(NotFound)
    @app.errorhandler(404)
    def not_found(_exc: Exception) -> tuple[str, int]:
        return page(404, "Page not found", "If you typed the web address, check it is correct.")

    @app.errorhandler(400)
    def bad_request(exc: Exception) -> tuple[str, int]:
        if isinstance(
            exc, SecurityError
        ):  # a Host this deployment does not serve: no links to build
            return (
                "This service is not available at this address: check the web address you used.",
                400,
            )
        # our own aborts say what to correct; anything else gets words a person can act on
        said = getattr(exc, "description", None)
        text = said if said and said != BadRequest.description else (
            "Something in the web address or the form was not understood. Go back, use the "
            "page's own links and forms, and try again.")  # fmt: skip
        return page(400, "There is a problem with the page you asked for", text)

    @app.errorhandler(NotPermitted)
    @app.errorhandler(403)
    def forbidden(_exc: Exception) -> tuple[str, int]:
        return page(403, "You cannot see this page", "Your account does not give you access to it. "
                    "If you work on this service and need it, ask your administrator to give you the role.")  # fmt: skip

    @app.errorhandler(CSRFError)
    def csrf_failed(_exc: Exception) -> Any:
        kept = keep_posted()  # a page of answers whose session ran out: keep what was typed
        if kept is not None:
            return kept
        return page(
            400,
            "Your page timed out",
            "For your security the form was not saved. Go back, reload the page and try again.",
        )

    @app.errorhandler(ExpressionError)
    def rule_refused(_exc: Exception) -> tuple[str, int]:
        # a programme published before today's bounds on rules, with one now refused
        return page(500, "This page cannot be shown",
                    "A rule in this programme is too costly to work out. Contact the programme team: "
                    "they need to correct the programme file and publish it again.")  # fmt: skip

    @app.errorhandler(413)
    def too_large(_exc: Exception) -> tuple[str, int]:
        return page(413, "What you sent is too large",
                    "A file can be at most 50 MB and an answer at most 100,000 characters. Go back, "
                    "choose a smaller file or shorten the longest answer, and send the page again.")  # fmt: skip


def clock_from(now: datetime | None) -> Callable[[], datetime] | None:
    """A frozen clock for rehearsals and tests (None: the real time)."""
    return None if now is None else (lambda: now)
