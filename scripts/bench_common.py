"""What the web benchmarks share: gunicorn started and stopped, a small raw-socket HTTP client
(one connection per request, as gunicorn's sync workers close it), the session cookie and CSRF
token of a page, the machine's load, and a fresh PostgreSQL schema for a run.

PostgreSQL is the database COMMISSION_BENCH_DB names (default: the test server that
`scripts/test_postgres.sh` makes).
"""

from __future__ import annotations

import os
import re
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

POSTGRES = "postgresql://commission_test:commission_test@127.0.0.1:5432/commission_test"


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


def build(method: str, path: str, cookie: str = "", body: bytes = b"",
          content_type: str = "application/x-www-form-urlencoded") -> bytes:  # fmt: skip
    """The bytes of an HTTP/1.1 request."""
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
    if cookie:
        lines.append(f"Cookie: {cookie}")
    if method == "POST":
        lines += [f"Content-Type: {content_type}", f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def cookie_of(response: bytes, name: str = "commission_session") -> str:
    """The session cookie a response sets ("name=value")."""
    found = re.search(rb"Set-Cookie: (" + name.encode() + rb"=[^;]+)", response)
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


def serve(target: str, port: int, env: dict[str, str], workers: int = 2) -> subprocess.Popen[bytes]:
    """gunicorn with sync workers on 127.0.0.1 serving `module:factory()`; returns once it answers."""
    target = target if ":" in target else f"bench_web:{target}"
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--bind", f"127.0.0.1:{port}",
         "--pythonpath", f"{ROOT / 'scripts'},{ROOT}", "--log-level", "warning", target],
        env={**os.environ, **env},
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn ({target}) stopped with code {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return process
        except OSError:
            time.sleep(0.1)
    process.terminate()
    raise SystemExit(f"gunicorn ({target}) did not start in 30 s")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def load() -> str:
    """The machine's load averages (1, 5, 15 minutes), as /proc/loadavg has them."""
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def add_applicants(
    db: str, count: int, password: str, stamp: str, email: Callable[[int], str]
) -> None:
    """`count` applicant accounts on a published database, each with an organisation of its own
    (`email(i)` names the i-th; one password hash serves them all, as hashing is slow)."""
    from werkzeug.security import generate_password_hash

    from engine.runtime import Engine

    store = Engine(db).store
    hashed = generate_password_hash(password)
    with store.transaction():
        for i in range(count):
            org = f"{email(i).split('@')[0]}_org"
            store.ensure_organisation(org, f"Organisation {i:03d}", stamp)
            store.create_user(email(i), hashed, f"Applicant {i:03d}", "applicant", org, stamp)


@contextmanager
def postgres_schema() -> Iterator[str | None]:
    """A URL on a fresh schema of COMMISSION_BENCH_DB, dropped afterwards; None (and a printed
    line) if the server cannot be reached."""
    import psycopg

    from engine.store import shown

    base = os.environ.get("COMMISSION_BENCH_DB", POSTGRES)
    try:
        psycopg.connect(base, connect_timeout=5).close()
    except psycopg.Error as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        print(f"PostgreSQL skipped: cannot reach {shown(base)} ({first})")
        yield None
        return
    schema = f"bench_{secrets.token_hex(6)}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    joiner = "&" if "?" in base else "?"
    try:
        yield f"{base}{joiner}options={quote(f'-csearch_path={schema}')}"
    finally:
        from engine.store.postgres import close_pools

        close_pools()
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
