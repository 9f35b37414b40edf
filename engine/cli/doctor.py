"""`commission doctor`: a deployment's settings checked, and what is wrong said in words.

It reads the same environment the web app and the scheduler read (README, docs/deploy.md),
opens the database, and says for each setting whether it is right and, if not, what to do.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import click

from engine.cli.main import DEFAULT_DB, main

LOCAL = ("localhost", "127.0.0.1", "::1")
NOTIFY_KEY_LENGTH = 74  # a GOV.UK Notify key ends with the service id and the secret, 36 each


@dataclass
class Finding:
    """One thing checked: whether it is right, what it is, and what to do if it is not."""

    ok: bool
    what: str
    todo: str = ""


def _database(env: dict[str, str]) -> Iterator[Finding]:
    from engine.errors import EngineError
    from engine.store import SCHEMA_VERSION, Store, is_postgres

    target = env.get("COMMISSION_DB") or DEFAULT_DB
    if not env.get("COMMISSION_DB"):
        yield Finding(
            False,
            f"COMMISSION_DB is not set, so the database is {DEFAULT_DB}",
            "set COMMISSION_DB to the SQLite file or postgresql:// URL to use",
        )
    if not is_postgres(target) and target != ":memory:" and not os.path.exists(target):
        yield Finding(
            False,
            f"there is no database at {target}",
            "check COMMISSION_DB, or run `commission db upgrade` to make one",
        )
        return
    try:
        store = Store(target, check=False)
        version = store.schema_version()
    except EngineError as exc:
        yield Finding(
            False, f"the database cannot be opened: {exc}", "fix COMMISSION_DB or the server"
        )
        return
    yield Finding(True, f"the database is reachable: {store.kind} at {store.path}")
    if version < SCHEMA_VERSION:
        yield Finding(
            False,
            f"the database is at schema {version}; this engine needs {SCHEMA_VERSION}",
            "run `commission db upgrade` before starting the web app and scheduler",
        )
    elif version > SCHEMA_VERSION:
        yield Finding(
            False,
            f"the database is at schema {version}, newer than this engine's {SCHEMA_VERSION}",
            "run the newer version of the engine that wrote it",
        )
    else:
        yield Finding(True, f"the database's migrations are current (schema {version})")
        yield _writable(store)


class _Probe(Exception):
    """Raised inside a transaction to roll back a trial write."""


def _writable(store: object) -> Finding:
    """A trial write, rolled back: answers and uploaded files are kept in the database."""
    from engine.errors import EngineError

    try:
        with store.transaction():  # type: ignore[attr-defined]
            store.record_sign_in_failure("doctor@localhost", "doctor", "")  # type: ignore[attr-defined]
            raise _Probe
    except _Probe:
        return Finding(
            True, "the database accepts writes, so answers and uploaded files can be kept"
        )
    except EngineError as exc:
        return Finding(
            False,
            f"the database refuses writes: {exc}",
            "give the database user INSERT, UPDATE and DELETE on the engine's tables",
        )


def _secret(env: dict[str, str]) -> Iterator[Finding]:
    from engine.store import is_postgres

    key = env.get("COMMISSION_SECRET_KEY", "")
    make = "python3 -c 'import secrets; print(secrets.token_hex(32))'"
    if not key:
        if is_postgres(env.get("COMMISSION_DB", "")):
            yield Finding(
                False,
                "COMMISSION_SECRET_KEY is not set",
                f"set it to the same long random value on every host (make one with {make})",
            )
        else:
            yield Finding(
                True,
                "COMMISSION_SECRET_KEY is not set: a key kept beside the SQLite file signs sessions",
            )
    elif len(key) < 32:
        yield Finding(
            False,
            "COMMISSION_SECRET_KEY is too short to be safe (under 32 characters)",
            f"make a new one with {make}",
        )
    else:
        yield Finding(True, "COMMISSION_SECRET_KEY is set")


def _addresses(env: dict[str, str]) -> Iterator[Finding]:
    base = env.get("COMMISSION_BASE_URL", "")
    if not base:
        yield Finding(
            False,
            "COMMISSION_BASE_URL is not set, so links in emails point at http://127.0.0.1:5000",
            "set it to the service's own address, e.g. https://funding.example.gov.uk",
        )
        return
    parts = urlsplit(base)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        yield Finding(
            False,
            f"COMMISSION_BASE_URL ({base}) is not a web address",
            "set it to the service's address, starting https://",
        )
        return
    if parts.scheme != "https" and parts.hostname not in LOCAL:
        yield Finding(
            False,
            f"COMMISSION_BASE_URL ({base}) is not https",
            "serve the service over TLS at the proxy and give its https:// address",
        )
    else:
        yield Finding(True, f"links in emails start with {base}")
    hosts = [h.strip() for h in env.get("COMMISSION_TRUSTED_HOSTS", "").split(",") if h.strip()]
    if not hosts:
        yield Finding(
            False,
            "COMMISSION_TRUSTED_HOSTS is not set, so the app answers a request for any host",
            f"set it to {parts.hostname} (and any other names the service answers to)",
        )
    elif parts.hostname not in hosts:
        yield Finding(
            False,
            f"COMMISSION_TRUSTED_HOSTS ({', '.join(hosts)}) leaves out {parts.hostname}",
            f"add {parts.hostname}, the host of COMMISSION_BASE_URL",
        )
    else:
        yield Finding(True, f"the app answers only for {', '.join(hosts)}")
    proxies = env.get("COMMISSION_PROXIES", "0") or "0"
    if not proxies.isdigit():
        yield Finding(
            False,
            f"COMMISSION_PROXIES ({proxies}) is not a number",
            "set it to how many proxies stand in front of the app, usually 1",
        )


def _notifications(env: dict[str, str]) -> Iterator[Finding]:
    kind = env.get("COMMISSION_NOTIFY", "file")
    if kind == "file":
        yield Finding(
            False,
            "COMMISSION_NOTIFY is file: messages are written to a folder and reach nobody",
            "set COMMISSION_NOTIFY=smtp (with SMTP_HOST and SMTP_SENDER) or notify (with NOTIFY_API_KEY and NOTIFY_TEMPLATE_ID)",
        )
    elif kind == "smtp":
        missing = [name for name in ("SMTP_HOST", "SMTP_SENDER") if not env.get(name)]
        if missing:
            yield Finding(
                False, f"email by SMTP needs {' and '.join(missing)}", f"set {', '.join(missing)}"
            )
        elif bool(env.get("SMTP_USERNAME")) != bool(env.get("SMTP_PASSWORD")):
            yield Finding(
                False,
                "SMTP_USERNAME and SMTP_PASSWORD must be set together",
                "set both, or neither",
            )
        else:
            yield Finding(
                True, f"email goes by SMTP through {env['SMTP_HOST']} from {env['SMTP_SENDER']}"
            )
    elif kind == "notify":
        key, template = env.get("NOTIFY_API_KEY", ""), env.get("NOTIFY_TEMPLATE_ID", "")
        if not key or not template:
            yield Finding(
                False,
                "GOV.UK Notify needs NOTIFY_API_KEY and NOTIFY_TEMPLATE_ID",
                "copy the API key and the template's id from GOV.UK Notify's settings",
            )
        elif len(key) < NOTIFY_KEY_LENGTH:
            yield Finding(
                False,
                "NOTIFY_API_KEY is shorter than a GOV.UK Notify key",
                "copy the whole key from GOV.UK Notify's API integration page",
            )
        else:
            yield Finding(True, "email goes by GOV.UK Notify")
    else:
        yield Finding(
            False,
            f"COMMISSION_NOTIFY is {kind}, which this engine does not know",
            "set it to smtp, notify or file",
        )


def _administrators(env: dict[str, str]) -> Iterator[Finding]:
    from engine.errors import EngineError
    from engine.store import SCHEMA_VERSION, Store

    try:
        store = Store(env.get("COMMISSION_DB") or DEFAULT_DB, check=False)
        if store.schema_version() != SCHEMA_VERSION:
            return  # said above: the database comes first
        live = {u["id"] for u in store.staff() if u["disabled_at"] is None}
        admins = {r["user_id"] for r in store.staff_roles() if r["role"] == "admin"} & live
    except EngineError:
        return  # said above
    if admins:
        yield Finding(True, f"{len(admins)} administrator(s) can invite staff and give them roles")
    else:
        yield Finding(False, "nobody can administer the service, so nobody can invite staff",
                      "add the first administrator with `commission users add EMAIL --name NAME --role admin`")  # fmt: skip


def _identity(env: dict[str, str]) -> Iterator[Finding]:
    # the demo's words on a live service would name the wrong council and a mailbox nobody reads
    for name, what in (("COMMISSION_OPERATOR", "the organisation running the service, shown on every page"),
                       ("COMMISSION_CONTACT_EMAIL", "the address people write to, on the contact and privacy pages")):  # fmt: skip
        if env.get(name, "").strip():
            yield Finding(True, f"{name} is set ({env[name].strip()})")
        else:
            yield Finding(
                False, f"{name} is not set, so the pages show the demo's", f"set it to {what}"
            )


def _staff_sign_in(env: dict[str, str]) -> Iterator[Finding]:
    names = ("COMMISSION_OIDC_ISSUER", "COMMISSION_OIDC_CLIENT_ID", "COMMISSION_OIDC_CLIENT_SECRET")
    missing = [n for n in names if not env.get(n)]
    if len(missing) == len(names):
        yield Finding(True, "staff sign in with a password (COMMISSION_OIDC_ISSUER is not set)")
        return
    if missing:
        yield Finding(False, f"staff sign-in with an organisation's account needs {' and '.join(missing)}",
                      "set all three COMMISSION_OIDC_ settings, or none")  # fmt: skip
        return
    issuer = env["COMMISSION_OIDC_ISSUER"].rstrip("/")
    parts = urlsplit(issuer)
    if parts.scheme != "https" and parts.hostname not in LOCAL:
        yield Finding(False, f"COMMISSION_OIDC_ISSUER ({issuer}) is not https",
                      "use the provider's https:// issuer address")  # fmt: skip
        return
    import requests

    try:
        answer = requests.get(f"{issuer}/.well-known/openid-configuration", timeout=10)
    except requests.RequestException as exc:
        yield Finding(False, f"the sign-in provider at {issuer} cannot be reached ({type(exc).__name__})",
                      "check COMMISSION_OIDC_ISSUER and that this host can reach the provider")  # fmt: skip
        return
    if answer.status_code != 200 or "authorization_endpoint" not in answer.text:
        yield Finding(False, f"{issuer} answers, but is not an OpenID Connect issuer (no discovery document)",
                      "set COMMISSION_OIDC_ISSUER to the issuer address the provider gives, e.g. "
                      "https://login.microsoftonline.com/<tenant id>/v2.0")  # fmt: skip
        return
    yield Finding(True, f"staff sign in with their organisation's account through {issuer}")


CHECKS: list[Callable[[dict[str, str]], Iterator[Finding]]] = [
    _database,
    _administrators,
    _secret,
    _addresses,
    _notifications,
    _identity,
    _staff_sign_in,
]


def examine(env: dict[str, str]) -> list[Finding]:
    """Every finding about a deployment whose settings are `env`."""
    return [finding for check in CHECKS for finding in check(env)]


@main.command()
def doctor() -> None:
    """Check this deployment's settings and database, and say what is wrong and what to do."""
    findings = examine(dict(os.environ))
    for f in findings:
        click.echo(f"  ok   {f.what}" if f.ok else f"  FIX  {f.what}: {f.todo}")
    problems = sum(not f.ok for f in findings)
    if problems:
        click.echo(f"{problems} thing(s) to fix before this deployment runs for real.")
        raise SystemExit(1)
    click.echo("Everything checked is ready.")
