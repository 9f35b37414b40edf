"""Benchmark: the web app under gunicorn against bare Flask anchors, on SQLite and PostgreSQL.

Run with `make bench` (or `.venv/bin/python scripts/bench_web.py`). In one run, on 127.0.0.1 only,
it serves four apps with gunicorn, 2 sync workers each, and measures requests per second for:
- anchors (`bare_app()`, `hello_app()`):
  - a bare Flask "hello" route;
  - a bare form page: Flask-WTF's FlaskForm with 4 fields, rendered through GOV.UK Frontend's page
    template (header, footer) and the govuk_frontend_wtf widgets and a govukButton macro;
  - a bare POST that validates that form (CSRF token and all) and inserts one row, then
    redirects: one into an SQLite file (WAL, synchronous=NORMAL, BEGIN IMMEDIATE, as the engine's
    store), one into PostgreSQL through psycopg, so each database has its own anchor;
- ours (`web_app()`), on a database seeded as by `commission demo`, once on an SQLite file and once
  on a PostgreSQL schema:
  - a form page GET: the "Contact for this application" page of a Liverpool application, signed
    in as its applicant;
  - a draft save: that page POSTed with "Save and come back later" (CSRF token and all).
  Each is sent for APPLICANTS applicants in turn, each signed in and with an application of their
  own, as on a busy day (`--one-case`: the demo applicant's one application, every request; a
  PostgreSQL row saved thousands of times a minute is slower to read until vacuumed, which no
  application sees in use).
Targets: each form GET reaches at least 50% of the bare form page's rate; each draft save at
least 50% of the bare validate-and-insert rate on the same database. Each is judged by the median
over rounds of the ratio of the two rates measured one after the other in that round.

PostgreSQL: COMMISSION_BENCH_DB (default the test role's database) names the server; each run
makes its own schema there and drops it at the end. If the server cannot be reached, the
PostgreSQL rows are skipped with a printed line. With PostgreSQL the app needs a SECRET_KEY shared
by its workers; the script makes one per run.

Every loop is bounded (REQUESTS requests or SECONDS seconds, whichever comes first; ROUNDS short
rounds, the routes' order reversed every other round, so the machine's drift falls on all alike)
and the servers are stopped at the end. The load comes from CLIENTS threads of this process, on the
same 2-core machine as the workers, for every route alike; the load average is printed at the
start and the end, as other work on the machine moves the figures.

Shorter runs for a change being tried: `--rounds N --seconds S`, `--database sqlite` (or
`postgresql`), `--posts` (only the draft saves, their anchors and "hello") and `--one-case`.
`--help` lists them.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_common import (
    ROOT,
    add_applicants,
    build,
    cookie_of,
    csrf_of,
    free_port,
    load,
    postgres_schema,
    request,
    serve,
    stop,
)

NOW = "2022-01-20T10:00"  # the demo's date: Liverpool's expression of interest window is open
PASSWORD = "bench-password-1234"
APPLICANT = "applicant@example.org"
PROGRAMME = "liverpool_life_rooms_2022"
APPLICANTS = 100  # each starts an application; their draft saves are sent in turn
EOI = "liverpool_expression_of_interest"
CLIENTS = 4  # concurrent connections: enough to keep 2 workers busy
ROUNDS = 10  # every route in turn, ROUNDS short times, so drift hits all alike
REQUESTS = 1000  # at most, per route and round
SECONDS = 1.25  # at most, per route and round
WARM_UP = 30  # requests per route before the first round (and a check of their status)
TARGET = 0.50


def applicant(i: int) -> str:
    """The i-th benchmark applicant's email address."""
    return f"bench{i:03d}@example.org"


# ---- the apps gunicorn serves (`bench_web:hello_app()`, `bare_app()`, `web_app()`) ----


def hello_app():  # type: ignore[no-untyped-def]
    """A bare Flask app with one route: the floor of any request."""
    from flask import Flask

    app = Flask("hello")

    @app.get("/")
    def hello() -> str:
        return "Hello, World!"

    return app


BARE_PAGE = """\
{% extends "govuk_frontend_jinja/template.html" %}
{% from "govuk_frontend_jinja/components/back-link/macro.html" import govukBackLink %}
{% from "govuk_frontend_jinja/components/button/macro.html" import govukButton %}
{% from "govuk_frontend_jinja/components/error-summary/macro.html" import govukErrorSummary %}
{% from "govuk_frontend_jinja/components/header/macro.html" import govukHeader %}
{% from "govuk_frontend_jinja/components/phase-banner/macro.html" import govukPhaseBanner %}
{% block pageTitle %}{% if form.errors %}Error: {% endif %}Contact for this application – Bare service{% endblock %}
{% block head %}<link rel="stylesheet" href="/static/govuk-frontend.min.css">{% endblock %}
{% block header %}{{ govukHeader({"serviceName": "Bare service", "serviceUrl": "/"}) }}{% endblock %}
{% block beforeContent %}
  {{ govukPhaseBanner({"tag": {"text": "Beta"}, "html": 'This is a new service. <a class="govuk-link" href="/feedback">Give feedback</a>.'}) }}
  {{ govukBackLink({"href": "/", "text": "Back to expression of interest"}) }}
{% endblock %}
{% block content %}
<div class="govuk-grid-row"><div class="govuk-grid-column-two-thirds">
  {% if form.errors %}{{ govukErrorSummary(wtforms_errors(form)) }}{% endif %}
  <span class="govuk-caption-l">Expression of interest</span>
  <h1 class="govuk-heading-l">Contact for this application</h1>
  <form method="post" action="{{ action }}" novalidate>
    {{ form.csrf_token }}
    {{ form.contact_name(params={"label": {"classes": "govuk-label--s"}, "autocomplete": "name"}) }}
    {{ form.contact_role(params={"label": {"classes": "govuk-label--s"}}) }}
    {{ form.contact_email(params={"label": {"classes": "govuk-label--s"}, "type": "email", "spellcheck": false}) }}
    {{ form.contact_address(params={"label": {"classes": "govuk-label--s"}, "rows": 3}) }}
    {{ govukButton({"text": "Save and continue"}) }}
  </form>
</div></div>
{% endblock %}
{% block bodyEnd %}<script type="module" src="/static/govuk-frontend.min.js"></script>{% endblock %}
"""


def bare_app():  # type: ignore[no-untyped-def]
    """Flask + Flask-WTF + GOV.UK macros, nothing of ours: a form page and its validate-and-insert.

    GET /form renders the page; POST /form/sqlite and /form/postgres validate it (CSRF token
    included) and insert one row into BENCH_SQLITE or BENCH_POSTGRES, then redirect (302), as a
    draft save does. Each worker opens its database connection once (sync workers: one request
    at a time).
    """
    import sqlite3

    from flask import Flask, redirect, render_template
    from flask_wtf import FlaskForm
    from govuk_frontend_wtf.main import WTFormsHelpers
    from govuk_frontend_wtf.wtforms_widgets import GovTextArea, GovTextInput
    from jinja2 import ChoiceLoader, DictLoader, PackageLoader, PrefixLoader
    from wtforms import StringField, TextAreaField
    from wtforms.validators import DataRequired, Length, Regexp

    class ContactForm(FlaskForm):
        contact_name = StringField("Full name", widget=GovTextInput(),
                                   validators=[DataRequired("Enter your full name"), Length(max=200)])  # fmt: skip
        contact_role = StringField("Job title or role", widget=GovTextInput(),
                                   validators=[DataRequired("Enter your job title"), Length(max=200)])  # fmt: skip
        contact_email = StringField("Email address", widget=GovTextInput(),
                                    validators=[DataRequired("Enter your email address"),
                                                Regexp(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", message="Enter an email address like name@example.com")])  # fmt: skip
        contact_address = TextAreaField("Postal address", widget=GovTextArea(),
                                        validators=[DataRequired("Enter your address"), Length(max=2000)])  # fmt: skip

    app = Flask("bare")
    app.config["SECRET_KEY"] = os.environ["BENCH_SECRET"]
    app.jinja_loader = ChoiceLoader(  # as `create_app` sets it up, with the page from a string
        [
            DictLoader({"contact.html": BARE_PAGE}),
            PrefixLoader(
                {
                    "govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja"),
                    "govuk_frontend_wtf": PackageLoader("govuk_frontend_wtf"),
                }
            ),
        ]
    )
    WTFormsHelpers(app)
    connections: dict[str, object] = {}

    def sqlite_db() -> sqlite3.Connection:
        if "sqlite" not in connections:
            conn = sqlite3.connect(os.environ["BENCH_SQLITE"], isolation_level=None, timeout=5)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            connections["sqlite"] = conn
        return connections["sqlite"]  # type: ignore[return-value]

    def postgres_db():  # type: ignore[no-untyped-def]
        if "postgres" not in connections:
            import psycopg

            connections["postgres"] = psycopg.connect(os.environ["BENCH_POSTGRES"], autocommit=True)
        return connections["postgres"]

    def page(form: FlaskForm, action: str) -> str:
        return render_template("contact.html", form=form, action=action, govukRebrand=False)

    @app.get("/form")
    def form_page() -> str:
        return page(ContactForm(), "/form/sqlite")

    def values(form: ContactForm) -> tuple[str, ...]:
        return (form.contact_name.data, form.contact_role.data, form.contact_email.data,
                form.contact_address.data, datetime.now(UTC).isoformat())  # fmt: skip

    @app.post("/form/sqlite")
    def save_sqlite():  # type: ignore[no-untyped-def]
        form = ContactForm()
        if not form.validate_on_submit():
            return page(form, "/form/sqlite")
        conn = sqlite_db()
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO bare_rows (name, role, email, address, created_at) VALUES (?, ?, ?, ?, ?)", values(form))  # fmt: skip
        conn.execute("COMMIT")
        return redirect("/form")

    @app.post("/form/postgres")
    def save_postgres():  # type: ignore[no-untyped-def]
        form = ContactForm()
        if not form.validate_on_submit():
            return page(form, "/form/postgres")
        conn = postgres_db()
        with conn.transaction():
            conn.execute("INSERT INTO bare_rows (name, role, email, address, created_at) VALUES (%s, %s, %s, %s, %s)", values(form))  # fmt: skip
        return redirect("/form")

    return app


def web_app():  # type: ignore[no-untyped-def]
    """The real app on the seeded database (BENCH_DB), as if it were the demo's date."""
    from engine.web import create_app

    moment = datetime.fromisoformat(NOW).replace(tzinfo=UTC)
    return create_app(
        {
            "DATABASE": os.environ["BENCH_DB"],
            "CLOCK": lambda: moment,
            "SESSION_COOKIE_SECURE": False,  # plain http on 127.0.0.1, as `commission serve`
            "SECRET_KEY": os.environ["BENCH_SECRET"],  # PostgreSQL requires one, shared by workers
        }
    )


# ---- a small HTTP client: one connection per request (gunicorn's sync workers close it) ----


def warm(port: int, raws: list[bytes], expect: int, count: int = WARM_UP) -> None:
    """Each request once (at least `count` in all, in turn), one at a time; each must answer `expect`."""
    for n in range(max(count, len(raws))):
        status, response = request(port, raws[n % len(raws)])
        if status != expect:
            raise SystemExit(f"expected {expect}, got {status}:\n{response[:800].decode(errors='replace')}")  # fmt: skip


def measure(port: int, raws: list[bytes], expect: int) -> float:
    """Requests per second over CLIENTS connections at a time, the requests sent in turn, bounded
    in count and time."""
    lock = threading.Lock()
    done = [0]
    failed: list[int] = []
    stop = time.perf_counter() + SECONDS

    def client() -> None:
        while time.perf_counter() < stop:
            with lock:
                if done[0] >= REQUESTS:
                    return
                raw = raws[done[0] % len(raws)]
                done[0] += 1
            status, _ = request(port, raw)
            if status != expect:
                failed.append(status)

    start = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    if failed:
        raise SystemExit(f"{len(failed)} requests failed (statuses {sorted(set(failed))})")
    return done[0] / elapsed


def sign_in(port: int, email: str = APPLICANT, password: str = PASSWORD) -> str:
    """Sign a person in through the sign-in page; the session cookie."""
    status, page = request(port, build("GET", "/auth/sign-in"))
    assert status == 200, status
    cookie = cookie_of(page)
    body = urlencode({"csrf_token": csrf_of(page), "email": email, "password": password})
    status, response = request(port, build("POST", "/auth/sign-in", cookie, body.encode()))
    if status != 302:
        raise SystemExit(f"sign-in failed ({status})")
    return cookie_of(response)


def _cookie(response: bytes, before: str) -> str:
    """The session cookie the response sets, or the one sent if it set none."""
    return cookie_of(response) if b"Set-Cookie: commission_session=" in response else before


def _contact_page(port: int, email: str, start: bool) -> tuple[bytes, bytes]:
    """One applicant's contact page, after signing in (and starting an application, if `start`):
    its GET and its draft-save POST."""
    cookie = sign_in(port, email)
    if start:
        status, page = request(port, build("GET", f"/apply/rounds/{PROGRAMME}/start", cookie))
        cookie = _cookie(page, cookie)
        body = urlencode({"csrf_token": csrf_of(page)}).encode()
        status, page = request(port, build("POST", f"/apply/rounds/{PROGRAMME}/start", cookie, body))  # fmt: skip
        ref = re.search(rb"Location: [^\r\n]*/apply/cases/(LIV-\d+)\r\n", page)
    else:
        status, page = request(port, build("GET", "/apply/applications", cookie))
        ref = re.search(rb'href="/apply/cases/(LIV-\d+)"', page)
    if status not in (200, 302) or not ref:
        raise SystemExit(f"{email}'s Liverpool application was not found ({status})")
    path = f"/apply/cases/{ref.group(1).decode()}/forms/{EOI}/pages/contact"
    status, form = request(port, build("GET", path, cookie))
    cookie = _cookie(form, cookie)  # the session now holds the page's CSRF token
    body = urlencode({
        "csrf_token": csrf_of(form), "contact_name": "Ann Applicant", "contact_role": "Director",
        "contact_email": email, "contact_phone": "0151 123 4567", "_action": "save",
    }).encode()  # fmt: skip
    return build("GET", path, cookie), build("POST", path, cookie, body)


def our_routes(port: int, one_case: bool) -> tuple[list[bytes], list[bytes]]:
    """The contact page of each of APPLICANTS applicants' applications on our app (or only the
    demo applicant's, `one_case`): their GETs and their draft-save POSTs, sent in turn."""
    if one_case:
        get, post = _contact_page(port, APPLICANT, start=False)
        return [get], [post]
    with ThreadPoolExecutor(CLIENTS) as pool:  # signing in checks a password: slow on purpose
        pages = list(pool.map(lambda i: _contact_page(port, applicant(i), start=True), range(APPLICANTS)))  # fmt: skip
    return [get for get, _ in pages], [post for _, post in pages]


def bare_routes(port: int) -> tuple[bytes, bytes, bytes]:
    """The bare form page's GET, and its POST into SQLite and into PostgreSQL."""
    status, page = request(port, build("GET", "/form"))
    if status != 200:
        raise SystemExit(f"the bare form page answered {status}")
    cookie = cookie_of(page, "session")
    body = urlencode({
        "csrf_token": csrf_of(page), "contact_name": "Ann Applicant", "contact_role": "Director",
        "contact_email": APPLICANT, "contact_address": "1 Dale Street\nLiverpool\nL2 2DH",
    }).encode()  # fmt: skip
    return (build("GET", "/form", cookie), build("POST", "/form/sqlite", cookie, body),
            build("POST", "/form/postgres", cookie, body))  # fmt: skip


# what is measured: key, label, anchor key (None: an anchor), database
ROUTES = [
    ("hello", "bare Flask 'hello' route", None, ""),
    ("bare_get", "bare form page GET (WTForms + GOV.UK macros)", None, ""),
    ("get_sqlite", "our form page GET, SQLite", "bare_get", "SQLite"),
    ("get_pg", "our form page GET, PostgreSQL", "bare_get", "PostgreSQL"),
    ("bare_post_sqlite", "bare validate + insert POST, SQLite", None, "SQLite"),
    ("post_sqlite", "our draft save POST, SQLite", "bare_post_sqlite", "SQLite"),
    ("bare_post_pg", "bare validate + insert POST, PostgreSQL", None, "PostgreSQL"),
    ("post_pg", "our draft save POST, PostgreSQL", "bare_post_pg", "PostgreSQL"),
]


def options(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line: how many rounds, how long each, and which databases."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=ROUNDS, help=f"rounds of every route (default {ROUNDS})")  # fmt: skip
    parser.add_argument("--seconds", type=float, default=SECONDS, help=f"at most this long per route and round (default {SECONDS:g})")  # fmt: skip
    parser.add_argument("--database", choices=("both", "sqlite", "postgresql"), default="both",
                        help="measure our app and the bare insert on these databases (default both)")  # fmt: skip
    parser.add_argument("--posts", action="store_true", help="only the draft saves and their anchors (and 'hello')")  # fmt: skip
    parser.add_argument("--one-case", action="store_true",
                        help="every request to the demo applicant's one application, not each applicant's in turn")  # fmt: skip
    return parser.parse_args(argv)


def main() -> None:
    """Seed the demo on both databases, serve the four apps, measure the routes, print the figures."""
    import sqlite3

    import psycopg

    from engine.web.demo import seed

    global SECONDS  # read by `measure`
    args = options()
    SECONDS = args.seconds
    began, load_start = time.monotonic(), load()
    secret = secrets.token_hex(32)
    with (
        tempfile.TemporaryDirectory() as tmp,
        postgres_schema() if args.database != "sqlite" else nullcontext(None) as pg_url,
    ):
        db = Path(tmp) / "demo.db"
        seed(db, ROOT / "demo" / "seed.yaml", PASSWORD)
        add_applicants(str(db), APPLICANTS, PASSWORD, f"{NOW}:00+00:00", applicant)
        bare_db = str(Path(tmp) / "bare.db")
        with sqlite3.connect(bare_db) as conn:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("CREATE TABLE bare_rows (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT, role TEXT, email TEXT, address TEXT, created_at TEXT)")  # fmt: skip
        conn.close()
        if pg_url:  # the engine's tables first: it refuses a schema holding tables of others
            seed(pg_url, ROOT / "demo" / "seed.yaml", PASSWORD)  # type: ignore[arg-type]
            add_applicants(pg_url, APPLICANTS, PASSWORD, f"{NOW}:00+00:00", applicant)
            with psycopg.connect(pg_url, autocommit=True) as pg:
                pg.execute("CREATE TABLE bare_rows (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text, role text, email text, address text, created_at text)")  # fmt: skip
        seeded = time.monotonic() - began

        ports = {name: free_port() for name in ("hello", "bare", "sqlite", "pg")}
        env = {"BENCH_SECRET": secret, "BENCH_SQLITE": bare_db, "BENCH_POSTGRES": pg_url or ""}
        servers = [
            serve("hello_app()", ports["hello"], {}),
            serve("bare_app()", ports["bare"], env),
            serve("web_app()", ports["sqlite"], {**env, "BENCH_DB": str(db)}),
        ]
        try:
            if pg_url:
                servers.append(serve("web_app()", ports["pg"], {**env, "BENCH_DB": pg_url}))
            bare_get, bare_sqlite, bare_pg = bare_routes(ports["bare"])
            get_sqlite, post_sqlite = our_routes(ports["sqlite"], args.one_case)
            plan = {
                "hello": (ports["hello"], [build("GET", "/")], 200),
                "bare_get": (ports["bare"], [bare_get], 200),
                "bare_post_sqlite": (ports["bare"], [bare_sqlite], 302),
                "get_sqlite": (ports["sqlite"], get_sqlite, 200),
                "post_sqlite": (ports["sqlite"], post_sqlite, 302),
            }
            if pg_url:
                get_pg, post_pg = our_routes(ports["pg"], args.one_case)
                plan |= {
                    "bare_post_pg": (ports["bare"], [bare_pg], 302),
                    "get_pg": (ports["pg"], get_pg, 200),
                    "post_pg": (ports["pg"], post_pg, 302),
                }
            if args.database == "postgresql":
                plan = {
                    k: v for k, v in plan.items() if k in ("hello", "bare_get") or k.endswith("pg")
                }
            if args.posts:
                plan = {k: v for k, v in plan.items() if k == "hello" or "post" in k}
            order = [key for key, *_ in ROUTES if key in plan]
            for key in order:
                warm(*plan[key])
            rates: dict[str, list[float]] = {key: [] for key in order}
            # each of ours next to its anchor; reversed every other round
            for n in range(args.rounds):
                for key in order if n % 2 == 0 else reversed(order):
                    rates[key].append(measure(*plan[key]))
        finally:
            for server in servers:
                stop(server)

    took = time.monotonic() - began
    print(f"gunicorn, 2 sync workers per app; {CLIENTS} client connections on 127.0.0.1; median of "
          f"{args.rounds} rounds of at most {REQUESTS} requests or {SECONDS:g} s per route")  # fmt: skip
    print(f"load average at start: {load_start}; at the end: {load()}")
    print(f"  {'route':46} {'requests/s':>10}   against its anchor (median of rounds; range)")
    verdicts = []
    for key, label, anchor, database in ROUTES:
        if key not in rates:
            print(f"  {label:46} {'skipped':>10}")
            continue
        rate = statistics.median(rates[key])
        if anchor is None:
            hello = statistics.median(rates["hello"])
            note = "" if key == "hello" else f"({rate / hello:.0%} of 'hello')"
            print(f"  {label:46} {rate:10.0f}   {note}")
            continue
        if anchor not in rates:
            print(f"  {label:46} {rate:10.0f}")
            continue
        ratios = [ours / base for ours, base in zip(rates[key], rates[anchor], strict=True)]
        ratio = statistics.median(ratios)
        print(f"  {label:46} {rate:10.0f}   {ratio:4.0%} of {anchor} "
              f"({min(ratios):.0%}-{max(ratios):.0%})")  # fmt: skip
        what = "form GET" if key.startswith("get") else "draft save POST"
        base = "the bare form page" if key.startswith("get") else "the bare validate + insert"
        verdicts.append(f"{what}, {database}: {ratio:.0%} of {base}; target {TARGET:.0%} "
                        + ("met" if ratio >= TARGET else "NOT met"))  # fmt: skip
    for line in verdicts:
        print(line)
    print(f"took {took:.0f} s ({seeded:.0f} s seeding the demo databases)")


if __name__ == "__main__":
    main()
