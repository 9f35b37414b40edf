"""Benchmark: the web app under gunicorn (2 workers) on SQLite, against a bare Flask route.

Run with `make bench`. In one run, on 127.0.0.1 only, it serves two apps with gunicorn, 2 sync
workers each: a bare Flask "hello" route, and `create_app` on a database seeded as by
`commission demo`. It measures requests per second for:
- the bare "hello" route;
- a form page GET: the demo applicant's "Contact for this application" page, signed in;
- a form POST: saving that page as a draft ("Save and come back later", CSRF token and all).
Target: the form GET reaches at least 40% of the bare route's rate, judged by the median over
rounds of each round's GET rate against the hello rate measured just before it.

Every loop is bounded (REQUESTS requests or SECONDS seconds, whichever comes first; ROUNDS
short rounds, so the machine's drift falls on the routes alike) and the servers are stopped at the end. The load comes from CLIENTS threads of this process, on the
same 2-core machine as the 4 workers, for all three routes alike.
"""

from __future__ import annotations

import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

NOW = "2022-01-20T10:00"  # the demo's date: Liverpool's expression of interest window is open
PASSWORD = "bench-password-1234"
APPLICANT = "applicant@example.org"
EOI = "liverpool_expression_of_interest"
CLIENTS = 4  # concurrent connections: enough to keep 2 workers busy
ROUNDS = 12  # the three routes in turn, ROUNDS short times, so drift hits all alike
REQUESTS = 1000  # at most, per route and round
SECONDS = 1.5  # at most, per route and round
WARM_UP = 50
TARGET = 0.40


# ---- the two apps gunicorn serves (`bench_web:hello_app()`, `bench_web:web_app()`) ----


def hello_app():  # type: ignore[no-untyped-def]
    """A bare Flask app with one route: the yardstick."""
    from flask import Flask

    app = Flask("hello")

    @app.get("/")
    def hello() -> str:
        return "Hello, World!"

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
        }
    )


# ---- a small HTTP client: one connection per request (gunicorn's sync workers close it) ----


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request(port: int, raw: bytes) -> tuple[int, bytes]:
    """Send one request; the status and the whole response."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
        conn.sendall(raw)
        chunks = []
        while chunk := conn.recv(65536):
            chunks.append(chunk)
    response = b"".join(chunks)
    return int(response[9:12]), response


def build(method: str, path: str, cookie: str = "", body: bytes = b"") -> bytes:
    """The bytes of an HTTP/1.1 request."""
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
    if cookie:
        lines.append(f"Cookie: {cookie}")
    if method == "POST":
        lines += ["Content-Type: application/x-www-form-urlencoded", f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def cookie_of(response: bytes) -> str:
    """The session cookie a response sets ("name=value")."""
    found = re.search(rb"Set-Cookie: (commission_session=[^;]+)", response)
    if not found:
        raise SystemExit(f"no session cookie in:\n{response[:600].decode(errors='replace')}")
    return found.group(1).decode()


def csrf_of(response: bytes) -> str:
    found = re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"', response) or re.search(
        rb'name="csrf_token" value="([^"]+)"', response
    )
    if not found:
        raise SystemExit("no CSRF token on the page")
    return found.group(1).decode()


def measure(port: int, raw: bytes, expect: int) -> float:
    """Requests per second over CLIENTS connections at a time, bounded in count and time."""
    for _ in range(WARM_UP):
        status, response = request(port, raw)
        if status != expect:
            raise SystemExit(f"expected {expect}, got {status}:\n{response[:800].decode(errors='replace')}")  # fmt: skip
    lock = threading.Lock()
    done = [0]
    failed: list[int] = []
    stop = time.perf_counter() + SECONDS

    def client() -> None:
        while time.perf_counter() < stop:
            with lock:
                if done[0] >= REQUESTS:
                    return
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


def serve(factory: str, port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """gunicorn with 2 sync workers on 127.0.0.1; returns once it answers."""
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{port}",
         "--pythonpath", f"{ROOT / 'scripts'},{ROOT}", "--log-level", "warning", f"bench_web:{factory}"],
        env={**os.environ, **env},
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn ({factory}) stopped with code {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return process
        except OSError:
            time.sleep(0.1)
    process.terminate()
    raise SystemExit(f"gunicorn ({factory}) did not start in 30 s")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def sign_in(port: int) -> str:
    """Sign the demo applicant in through the sign-in page; the session cookie."""
    status, page = request(port, build("GET", "/auth/sign-in"))
    assert status == 200, status
    cookie = cookie_of(page)
    body = urlencode({"csrf_token": csrf_of(page), "email": APPLICANT, "password": PASSWORD})
    status, response = request(port, build("POST", "/auth/sign-in", cookie, body.encode()))
    if status != 302:
        raise SystemExit(f"sign-in failed ({status})")
    return cookie_of(response)


def main() -> None:
    """Seed a demo database, serve both apps, measure the three routes, print the figures."""
    from engine.web.demo import seed

    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "demo.db"
        seed(db, ROOT / "demo" / "seed.yaml", PASSWORD)
        hello_port, web_port = free_port(), free_port()
        servers = [serve("hello_app()", hello_port, {}), serve("web_app()", web_port, {"BENCH_DB": str(db)})]  # fmt: skip
        try:
            cookie = sign_in(web_port)
            status, page = request(web_port, build("GET", "/apply/applications", cookie))
            ref = re.search(rb'href="/apply/cases/(LIV-\d+)"', page)
            if status != 200 or not ref:
                raise SystemExit("the demo applicant's Liverpool application was not listed")
            path = f"/apply/cases/{ref.group(1).decode()}/forms/{EOI}/pages/contact"
            status, form = request(web_port, build("GET", path, cookie))
            cookie = cookie_of(form)  # the session now holds the page's CSRF token
            body = urlencode({
                "csrf_token": csrf_of(form), "contact_name": "Ann Applicant", "contact_role": "Director",
                "contact_email": APPLICANT, "contact_phone": "0151 123 4567", "_action": "save",
            }).encode()  # fmt: skip

            rates: dict[str, list[float]] = {"hello": [], "get": [], "post": []}
            for _ in range(ROUNDS):
                rates["hello"].append(measure(hello_port, build("GET", "/"), 200))
                rates["get"].append(measure(web_port, build("GET", path, cookie), 200))
                rates["post"].append(measure(web_port, build("POST", path, cookie, body), 302))
        finally:
            for server in servers:
                stop(server)

    hello, form_get, form_post = (statistics.median(rates[k]) for k in ("hello", "get", "post"))
    # each round's GET against the hello measured just before it: the machine's drift between
    # rounds (a third on this VM) falls on both alike
    ratios = [g / h for g, h in zip(rates["get"], rates["hello"], strict=True)]
    ratio = statistics.median(ratios)
    print(f"gunicorn, 2 sync workers, SQLite; {CLIENTS} client connections on 127.0.0.1; median of "
          f"{ROUNDS} rounds of at most {REQUESTS} requests or {SECONDS:g} s per route")  # fmt: skip
    print(f"  bare Flask 'hello' route: {hello:7.0f} requests/s")
    print(f"  form page GET:            {form_get:7.0f} requests/s ({ratio:.0%} of the bare route; "
          f"{min(ratios):.0%}-{max(ratios):.0%} by round)")  # fmt: skip
    print(f"  form POST (save a draft): {form_post:7.0f} requests/s ({form_post / hello:.0%})")
    met = ratio >= TARGET
    print(f"form GET at {ratio:.0%} of the bare route: target {TARGET:.0%}", "met" if met else "NOT met")  # fmt: skip


if __name__ == "__main__":
    main()
