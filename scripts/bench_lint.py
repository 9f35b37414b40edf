"""Benchmark (issue 18): the programme editor's live lint, as the browser's editor asks for it.

Run with `.venv/bin/python scripts/bench_lint.py [--runs N]`. It seeds a temporary SQLite database
as `commission demo` does (the demo programmes published, the demo people), serves the web app with
gunicorn (one sync worker: one person typing sends one request at a time) on 127.0.0.1, signs in
the demo commissioner through the sign-in page, opens a draft of programmes/bradford.yaml (1,773
lines) from the studio's page, and times N round trips (default 30) of the editor's request:
`POST /studio/drafts/<id>/lint` with the whole file as JSON and the page's CSRF token, each with
one character changed so nothing can be cached. The anchor, timed in the same run and in turn
with ours, is a bare Flask app under the same gunicorn that takes the same request body and
answers a small JSON. Prints the median, the 95th percentile (nearest rank), the fastest and the
slowest of each; target: a median under 300 ms. Exits 0 whether the target is met or not.
"""

from __future__ import annotations

import argparse
import html
import json
import math
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_common import ROOT, build, cookie_of, csrf_of, free_port, load, request, serve, stop

PASSWORD = "bench-lint-password-18"
COMMISSIONER = "commissioner@example.org"  # demo/seed.yaml: commissions every demo programme
PROGRAMME_FILE = "programmes/bradford.yaml"
NOW = "2022-01-20T10:00"  # the demo's date
TARGET_MS = 300
WARM_UP = 3


# ---- the apps gunicorn serves (`bench_lint:lint_app()`, `bench_lint:anchor_app()`) ----


def lint_app():  # type: ignore[no-untyped-def]
    """The real app on the seeded database (BENCH_DB), at the demo's date."""
    import os
    from datetime import UTC, datetime

    from engine.web import create_app

    moment = datetime.fromisoformat(NOW).replace(tzinfo=UTC)
    return create_app(
        {
            "DATABASE": os.environ["BENCH_DB"],
            "CLOCK": lambda: moment,
            "SESSION_COOKIE_SECURE": False,  # plain http on 127.0.0.1, as `commission serve`
            "SECRET_KEY": "bench-lint",
        }
    )


def anchor_app():  # type: ignore[no-untyped-def]
    """A bare Flask app: one POST route that reads a JSON body and answers a small JSON."""
    from flask import Flask, jsonify, request

    app = Flask("anchor")

    @app.post("/lint")
    def lint():  # type: ignore[no-untyped-def]
        body = request.get_json()
        return jsonify({"problems": [], "summary": f"{len(body['text'])} characters"})

    return app


# ---- the requests ----


def post_json(path: str, cookie: str, token: str, payload: dict[str, str]) -> bytes:
    """The bytes of the editor's request: JSON, the session cookie and the CSRF header."""
    body = json.dumps(payload).encode()
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close",
             f"Cookie: {cookie}", "Content-Type: application/json", "Accept: application/json",
             f"X-CSRFToken: {token}", f"Content-Length: {len(body)}"]  # fmt: skip
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def sign_in(port: int) -> str:
    """Sign the demo commissioner in through the sign-in page; the session cookie."""
    status, page = request(port, build("GET", "/auth/sign-in"))
    if status != 200:
        raise SystemExit(f"the sign-in page answered {status}")
    body = urlencode({"csrf_token": csrf_of(page), "email": COMMISSIONER, "password": PASSWORD})
    status, response = request(port, build("POST", "/auth/sign-in", cookie_of(page), body.encode()))
    if status != 302:
        raise SystemExit(f"the commissioner could not sign in ({status})")
    return cookie_of(response)


def open_draft(port: int, cookie: str) -> tuple[str, str, str, str]:
    """Open a draft of the programme with the studio's Edit button; the lint address, the session
    cookie, the page's CSRF token and the file's text as the editor has it."""
    import yaml

    pid = yaml.safe_load((ROOT / PROGRAMME_FILE).read_text("utf-8"))["id"]
    status, page = request(port, build("GET", "/studio/", cookie))
    action = f'action="/studio/{pid}/drafts"'.encode()
    if status != 200 or action not in page:
        raise SystemExit(f"the studio's page answered {status} with no Edit button for {pid}")
    cookie = cookie_of(page) if b"Set-Cookie: commission_session" in page else cookie
    body = urlencode({"csrf_token": csrf_of(page)}).encode()
    status, response = request(port, build("POST", f"/studio/{pid}/drafts", cookie, body))
    where = re.search(rb"Location: (?:http://[^/]+)?(/studio/drafts/\d+)\r\n", response)
    if status != 302 or not where:
        raise SystemExit(f"opening a draft answered {status}")
    status, editor = request(port, build("GET", where.group(1).decode(), cookie))
    text = re.search(rb'<textarea[^>]*id="text"[^>]*>(.*?)</textarea>', editor, re.S)
    lint = re.search(rb'data-lint-url="([^"]+)"', editor)
    if status != 200 or not text or not lint:
        raise SystemExit(f"the editor page answered {status} with no text box to lint")
    cookie = cookie_of(editor) if b"Set-Cookie: commission_session" in editor else cookie
    return (html.unescape(lint.group(1).decode()), cookie, csrf_of(editor),
            html.unescape(text.group(1).decode()))  # fmt: skip


def edited(text: str, n: int) -> str:
    """The text with one letter of its first comment changed: a new text for every request."""
    at = text.index("#") + 2
    return text[:at] + "abcdefghijklmnopqrstuvwxyz"[n % 26] + text[at + 1 :]


def timed(port: int, raw: bytes) -> tuple[float, bytes]:
    """One round trip in milliseconds, and the response; anything but 200 ends the run."""
    start = time.perf_counter()
    status, response = request(port, raw)
    ms = (time.perf_counter() - start) * 1000
    if status != 200:
        raise SystemExit(f"expected 200, got {status}:\n{response[:600].decode(errors='replace')}")
    return ms, response


def figures(times: list[float]) -> str:
    """Median, 95th percentile (nearest rank), fastest and slowest, in milliseconds."""
    ordered = sorted(times)
    p95 = ordered[math.ceil(0.95 * len(ordered)) - 1]
    return (f"median {statistics.median(ordered):6.1f} ms   p95 {p95:6.1f} ms   "
            f"fastest {ordered[0]:6.1f} ms   slowest {ordered[-1]:6.1f} ms")  # fmt: skip


def main() -> None:
    """Seed the demo, serve the app and the anchor, time the lint round trips, print the figures."""
    from engine.web.demo import seed

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30, help="round trips timed (default 30)")
    runs = parser.parse_args().runs
    began, load_start = time.monotonic(), load()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "demo.db"
        seed(db, ROOT / "demo" / "seed.yaml", PASSWORD)
        ports = {"ours": free_port(), "anchor": free_port()}
        servers = [serve("bench_lint:lint_app()", ports["ours"], {"BENCH_DB": str(db)}, workers=1),
                   serve("bench_lint:anchor_app()", ports["anchor"], {}, workers=1)]  # fmt: skip
        try:
            cookie = sign_in(ports["ours"])
            path, cookie, token, text = open_draft(ports["ours"], cookie)
            problems = None
            times: dict[str, list[float]] = {"ours": [], "anchor": []}
            for n in range(WARM_UP + runs):
                payload = {"file": PROGRAMME_FILE, "text": edited(text, n)}
                # ours and the anchor in turn, the order swapped every other time: drift hits both
                order = ("ours", "anchor") if n % 2 == 0 else ("anchor", "ours")
                for key in order:
                    path_of = path if key == "ours" else "/lint"
                    ms, response = timed(ports[key], post_json(path_of, cookie, token, payload))
                    if key == "ours":
                        answer = json.loads(response.split(b"\r\n\r\n", 1)[1])
                        problems = len(answer["problems"])
                    if n >= WARM_UP:
                        times[key].append(ms)
        finally:
            for server in servers:
                stop(server)

    lines = len(text.splitlines())
    median = statistics.median(times["ours"])
    print(f"gunicorn, 1 sync worker per app, on 127.0.0.1; {runs} round trips each after "
          f"{WARM_UP} warm-up, one character changed in each")  # fmt: skip
    print(f"load average at start: {load_start}; at the end: {load()}")
    print(f"the file: {PROGRAMME_FILE}, {lines:,} lines, {len(text.encode()):,} bytes; "
          f"the linter found {problems} problems in the draft")  # fmt: skip
    print(f"  lint round trip (POST {path}):  {figures(times['ours'])}")
    print(f"  anchor (bare Flask, same body, small JSON back): {figures(times['anchor'])}")
    print(
        f"median {median:.0f} ms; target under {TARGET_MS} ms: "
        + ("met" if median < TARGET_MS else "NOT met")
    )
    print(f"took {time.monotonic() - began:.0f} s")


if __name__ == "__main__":
    main()
