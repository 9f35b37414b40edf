"""Browser tests: the app on a demo database, served on a free localhost port, in real Chromium.

Chromium is Debian's (`apt-get install chromium`, which `.ci/run` does); Playwright for Python
drives it, and never downloads a browser of its own. axe-core comes from `npm ci`. If either is
missing the tests fail and say how to install it: they never skip silently.

On a failure the page is saved as a PNG in a temporary folder (its path is printed; the
accessibility walk saves each page with a problem, and the page where it stopped);
E2E_SCREENSHOTS=DIR saves every page the accessibility check visits there too.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, has_request_context, request, template_rendered

from engine.runtime import Engine
from engine.web import create_app

from ..clock import Clock
from ..conftest import ROOT, account
from ..databases import database_in
from ..oidc_provider import Provider, running_provider

PASSWORD = "demo-browser-tests"
NOW = "2022-01-20T10:00"  # as `commission up`: Liverpool's expression of interest window is open
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
INSTALL_CHROMIUM = (
    "The browser tests need Debian's Chromium, and found none at {path}. Install it with\n"
    "    sudo apt-get update && sudo apt-get install -y chromium\n"
    "(CI's .ci/run does this), or point CHROMIUM at another Chromium or Chrome binary."
)


def chromium_path() -> str:
    """The system Chromium (CHROMIUM overrides), or a failure saying how to install it."""
    path = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).is_file():
        pytest.fail(INSTALL_CHROMIUM.format(path=path), pytrace=False)
    return path


@dataclass
class Site:
    """The app under test: where it listens, and the Flask app (for its url_map)."""

    url: str
    app: Flask
    folder: Path
    templates: dict[str, str] = field(default_factory=dict)  # path -> the template it last showed
    provider: Provider | None = None  # the OpenID Connect provider staff sign in with, if any

    def template(self, url: str) -> str | None:
        """The template of the page last shown at this URL's path (a GET or POST; HEAD is no page)."""
        return self.templates.get(url[len(self.url) :].split("#")[0].split("?")[0] or "/")

    def emailed_link(self, email: str) -> str:
        """The path of the link in the newest message to this address, from the outbox delivered as
        files (as `commission up` does, to var/outbox/): the way a person finds a reset link."""
        from engine.scheduler.delivery import FileBackend, deliver
        from engine.web.services import store

        outbox = self.folder / "outbox"
        with self.app.app_context():
            deliver(store(), FileBackend(outbox, echo=False))
        for message in sorted(outbox.glob("*.txt"), reverse=True):
            text = message.read_text("utf-8")
            found = re.search(re.escape(self.url) + r"(/\S+)", text)
            if text.startswith(f"To: {email}\n") and found:
                return found.group(1)
        raise AssertionError(f"no message with a link to {email} in {outbox}")

    def endpoint(self, url: str) -> str | None:
        """The Flask endpoint a URL of this site goes to (None: not this site's, or no route); a
        page only a form's POST shows (a confirmation) is named by that POST's endpoint."""
        if not url.startswith(self.url):
            return None
        path = url[len(self.url) :].split("#")[0].split("?")[0] or "/"
        for method in ("GET", "POST"):
            try:
                endpoint, _ = self.app.url_map.bind("localhost").match(path, method=method)
            except Exception:
                continue
            return str(endpoint)
        return None


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """A demo database (as `commission demo`), served with a frozen clock on a free port, with
    staff sign-in through a real OpenID Connect provider on this machine (started once)."""
    from engine.web.demo import seed

    folder = tmp_path_factory.mktemp("e2e")
    db = database_in(folder, "demo")
    seed(db, ROOT / "demo" / "seed.yaml", PASSWORD)
    moment = datetime.fromisoformat(NOW).replace(tzinfo=UTC)
    with running_provider() as provider:
        app = create_app(
            {
                "DATABASE": str(db),
                "CLOCK": lambda: moment,
                "SECRET_KEY": "browser-tests",
                "SESSION_COOKIE_SECURE": False,  # plain http on 127.0.0.1, as `commission serve`
                "COMMISSION_OIDC_ISSUER": provider.issuer,
                "COMMISSION_OIDC_CLIENT_ID": "commission-app",
                "COMMISSION_OIDC_CLIENT_SECRET": "not-a-real-secret",
            }
        )  # CSRF stays on: the browser sends the tokens the pages carry
        with serving(app, folder) as site:
            site.provider = provider
            yield site


@contextmanager
def serving(app: Flask, folder: Path) -> Iterator[Site]:
    """Serve `app` on a free localhost port until the block ends (the `site` fixture serves so too)."""
    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # not a line per request
    server = make_server("127.0.0.1", 0, app, threaded=True)
    site = Site(f"http://127.0.0.1:{server.server_port}", app, folder)
    app.config["BASE_URL"] = site.url  # as a deployment sets COMMISSION_BASE_URL: links in emails

    def shown(sender: Flask, template: Any, context: dict[str, Any], **extra: Any) -> None:
        if has_request_context() and request.method != "HEAD" and template.name:
            site.templates[request.path] = template.name

    template_rendered.connect(shown, app, weak=False)
    thread = threading.Thread(target=server.serve_forever, name="e2e-server", daemon=True)
    thread.start()
    try:
        yield site
    finally:
        server.shutdown()
        thread.join(timeout=10)


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[[Path, Clock], Site]]:
    """Serves an app on a fresh database with one programme file published (its forms found as
    `commission publish` finds them), at a clock the test moves; the servers stop after the test."""
    with ExitStack() as stack:

        def start(programme: Path, clock: Clock) -> Site:
            folder = Path(tempfile.mkdtemp(prefix="site", dir=tmp_path))
            db = database_in(folder, "e2e")
            Engine(db, clock=clock).publish(programme)
            app = create_app(
                {"DATABASE": db, "CLOCK": clock, "SECRET_KEY": "browser-tests",
                 "SESSION_COOKIE_SECURE": False}
            )  # fmt: skip
            return stack.enter_context(serving(app, folder))

        yield start


def add_person(
    site: Site, email: str, name: str, role: str, organisation: str | None = None
) -> None:
    """An account that signs in with PASSWORD, made as an operator would (not through the pages);
    an applicant's organisation (its name) is made the first time it is named."""
    from werkzeug.security import generate_password_hash

    engine = Engine(site.app.config["DATABASE"], clock=site.app.config["CLOCK"])
    org_id = re.sub(r"\W+", "_", organisation.lower()).strip("_") if organisation else None
    at = engine.now().isoformat()
    with engine.store.transaction():
        if organisation:
            engine.store.ensure_organisation(org_id, organisation, at)
        account(
            engine.store,
            email,
            name,
            role,
            org_id,
            at,
            password_hash=generate_password_hash(PASSWORD),
        )


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Headless Chromium, started once for all the browser tests."""
    path = chromium_path()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail(
            "Playwright for Python is missing: `make setup` installs the dev extras "
            "(pip install -e '.[dev]')",
            pytrace=False,
        )
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="session")
def axe_source() -> str:
    """axe-core's script, from node_modules (`npm ci` installs it, from package.json)."""
    if not AXE.is_file():
        pytest.fail(f"axe-core is missing ({AXE}): run `make setup` (npm ci)", pytrace=False)
    return AXE.read_text("utf-8")


def screenshot_folder() -> Path:
    """Where failure screenshots go (E2E_SCREENSHOTS, or a folder in the system's temp)."""
    folder = Path(
        os.environ.get("E2E_SCREENSHOTS") or Path(tempfile.gettempdir()) / "commission-e2e"
    )
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Remember each phase's report on the test, so a fixture knows whether its test failed."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


def open_context(browser: Any) -> Any:
    """A fresh browser profile (no cookies) that notes JavaScript and console errors in `.errors`."""
    ctx = browser.new_context(viewport={"width": 1100, "height": 900})
    ctx.set_default_timeout(20_000)  # generous: a busy 2-core machine is slow, not broken
    errors: list[str] = []
    ctx.on("weberror", lambda e: errors.append(f"{e.page.url if e.page else ''}: {e.error}"))
    ctx.on(  # a script or style the Content-Security-Policy refused, a file that failed to load…
        "console",
        lambda m: (
            errors.append(f"{m.page.url if m.page else ''}: {m.text}")
            if m.type == "error"
            else None
        ),
    )
    ctx.errors = errors
    return ctx


def save_screenshot(page: Any, name: str) -> Path | None:
    """Save the whole page as a PNG in the screenshot folder (None if the page could not be)."""
    path = screenshot_folder() / (re.sub(r"[^\w.-]+", "_", name) + ".png")
    try:
        page.screenshot(path=str(path), full_page=True)
    except Exception as exc:  # a crashed page must not hide the failure that matters
        print(f"no screenshot of {page.url}: {exc}")
        return None
    return path


@pytest.fixture
def context(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh browser profile (no cookies); every page it opened is saved if the test failed."""
    ctx = open_context(browser)
    try:
        yield ctx
    finally:
        report = getattr(request.node, "report_call", None)
        if report is not None and report.failed:
            name = re.sub(r"[^\w.-]+", "_", request.node.name)
            for i, page in enumerate(ctx.pages):
                path = save_screenshot(page, f"{name}-{i}")
                if path:
                    print(f"screenshot of {page.url}: {path}")
        ctx.close()


@pytest.fixture
def page(context: Any) -> Any:
    """A tab in a fresh profile."""
    return context.new_page()


def go(page: Any, locator: Any) -> None:
    """Click a link or button and wait for the page it leads to."""
    with page.expect_navigation():
        locator.click()


def sign_in(page: Any, site: Site, email: str, password: str = PASSWORD) -> None:
    """Sign in through the sign-in page, as a person would."""
    page.goto(f"{site.url}/auth/sign-in")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    # exactly: the staff sign-in button ("Sign in with your organisation's account") is another
    go(page, page.locator("main").get_by_role("button", name="Sign in", exact=True))
    assert page.get_by_text("Signed in as").count(), page.content()
