"""`commission users …`: staff accounts from the command line, above all the first administrator
of a fresh deployment, who then invites everyone else from the staff pages."""

from __future__ import annotations

import os
import secrets

import click

from engine.cli.main import db_option, fail, frozen_clock, json_option, main, open_engine, show
from engine.errors import EngineError

OPERATOR = "operator"  # who the service log says made a change at the command line


@main.group()
def users() -> None:
    """Staff accounts: add the first administrator, list, invite, switch off and on."""


def _invite(db_path: str, email: str, inviter: str, role_words: str) -> str:
    """Email an invitation with a one-use link to choose a password; the link."""
    from engine.web import auth, create_app
    from engine.web.services import store

    # the app only builds the link (its token is random, kept hashed): it signs no session, so a
    # throwaway key will do where the deployment's own is not in this shell's environment
    app = create_app({"DATABASE": str(db_path), "CLOCK": frozen_clock(str(db_path)),
                      "SECRET_KEY": secrets.token_hex(32)})  # fmt: skip
    with app.test_request_context():  # links come from COMMISSION_BASE_URL, never a request
        user = store().user_by_email(email)
        assert user is not None
        return auth.send_reset_link(user, "You have been invited to work on this service",
                                    f"{inviter} has invited you to work on this service as {role_words}.")  # fmt: skip


def _add(db_path: str, email: str, name: str, role: str, programme: str | None,
         organisation: str | None) -> str:  # fmt: skip
    engine = open_engine(db_path)
    try:
        with engine.store.transaction():  # an account and its role, or neither
            user_id = engine.add_staff(email, name, OPERATOR)
            engine.grant(user_id, role, OPERATOR, programme_id=programme, organisation_id=organisation)  # fmt: skip
    except EngineError as exc:
        fail(exc)
    from engine.runtime.staff import ROLE_NAMES

    return _invite(db_path, email, "The service's operator", ROLE_NAMES[role].lower())


@users.command()
@click.argument("email")
@click.option("--name", required=True, help="Their full name, as colleagues see it.")
@click.option("--role", required=True, type=click.Choice(["admin", "commissioner", "assessor", "caseworker"]),
              help="Their first role; an administrator gives others on the staff pages.")  # fmt: skip
@click.option("--programme", default=None, help="The programme the role covers (every programme if left out).")  # fmt: skip
@click.option("--organisation", default=None, help="A caseworker's provider organisation.")
@click.option("--show-link", is_flag=True, help="Also print the invitation's link (before email is set up).")  # fmt: skip
@db_option
def add(email: str, name: str, role: str, programme: str | None, organisation: str | None,
        show_link: bool, db_path: str) -> None:  # fmt: skip
    """Add a member of staff with a role, and email them an invitation to choose a password."""
    link = _add(db_path, email, name, role, programme, organisation)
    click.echo(f"Added {email.strip().lower()} and emailed an invitation (the scheduler sends it).")
    if not os.environ.get("COMMISSION_BASE_URL"):
        click.echo("warning: COMMISSION_BASE_URL is not set, so the link points at http://127.0.0.1:5000", err=True)  # fmt: skip
    if show_link:
        click.echo(f"Invitation link (works once): {link}")


@users.command(name="list")
@db_option
@json_option
def list_staff(db_path: str, as_json: bool) -> None:
    """Every staff account, its roles and whether it is switched on."""
    engine = open_engine(db_path)
    people = engine.staff_list()
    names = {pid: engine.programme(pid).name for pid in engine.store.programme_ids()}
    lines = []
    for p in people:
        state = (
            "switched off" if p["disabled_at"] else "invited" if not p["confirmed_at"] else "active"
        )
        roles = [_role_words(engine, r, names) for r in p["roles"]] or ["no role yet"]
        lines.append(f"{p['name']} <{p['email']}> ({state}): {'; '.join(roles)}")
    data = [{"email": p["email"], "name": p["name"], "disabled": bool(p["disabled_at"]),
             "roles": [{k: r[k] for k in ("role", "programme_id", "organisation_id")} for r in p["roles"]]}
            for p in people]  # fmt: skip
    show(
        data,
        as_json,
        "\n".join(lines) or "No staff accounts yet: add one with `commission users add`.",
    )


def _role_words(engine: object, grant: dict, names: dict[str, str]) -> str:
    if grant["role"] == "admin":
        return "admin"
    where = names.get(grant["programme_id"], "") if grant["programme_id"] else "every programme"
    at = (
        engine.store.organisation_name(grant["organisation_id"])
        if grant["organisation_id"]
        else None
    )  # type: ignore[attr-defined]
    return f"{grant['role']} of {where}" + (f" at {at}" if at else "")


def _member(db_path: str, email: str) -> tuple[object, int]:
    engine = open_engine(db_path)
    user = engine.store.user_by_email(email)
    if user is None or user["role"] == "applicant":
        click.echo(
            f"error: there is no staff account for {email}: see `commission users list`", err=True
        )
        raise SystemExit(1)
    return engine, int(user["id"])


@users.command()
@click.argument("email")
@db_option
def disable(email: str, db_path: str) -> None:
    """Switch a staff account off: signed out everywhere, and it cannot sign in."""
    engine, user_id = _member(db_path, email)
    try:
        changed = engine.disable(user_id, OPERATOR)  # type: ignore[attr-defined]
    except EngineError as exc:
        fail(exc)
    click.echo(f"{email}: switched off" if changed else f"{email}: already switched off")


@users.command()
@click.argument("email")
@db_option
def enable(email: str, db_path: str) -> None:
    """Switch a staff account back on."""
    engine, user_id = _member(db_path, email)
    changed = engine.enable(user_id, OPERATOR)  # type: ignore[attr-defined]
    click.echo(f"{email}: switched on" if changed else f"{email}: already switched on")


@users.command()
@click.argument("email")
@click.option("--show-link", is_flag=True, help="Also print the link.")
@db_option
def invite(email: str, show_link: bool, db_path: str) -> None:
    """Email a staff member a new invitation (a fresh one-use link to choose a password)."""
    _member(db_path, email)
    link = _invite(db_path, email, "The service's operator", "a member of staff")
    click.echo(f"Emailed {email} a new invitation.")
    if show_link:
        click.echo(f"Invitation link (works once): {link}")
