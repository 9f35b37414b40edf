"""Staff roles and changes to them in words: programme and organisation names, never their ids."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from engine.errors import NotFound
from engine.runtime.staff import ROLE_NAMES
from engine.web import describe
from engine.web.services import engine, store

_ARTICLES = {"admin": "an administrator", "assessor": "an assessor (panel member)"}


def role_name(role: str) -> str:
    """A role after "is": "a commissioner", "an administrator"."""
    return _ARTICLES.get(role, f"a {ROLE_NAMES.get(role, role).lower()}")


def _programme_name(programme_id: str | None) -> str:
    if programme_id is None:
        return "every programme"
    try:
        return engine().programme(programme_id).name
    except NotFound:  # a programme since removed: say so rather than show its id
        return "a programme no longer published"


def sentence(words: str) -> str:
    """Words as the start of a sentence: the first letter a capital, names left as they are."""
    return words[:1].upper() + words[1:]


def role(grant: dict[str, Any]) -> str:
    """A role held, with where: "a commissioner of <programme>", "a caseworker at <organisation>, in <programme>"."""
    name = role_name(grant["role"])
    if grant["role"] == "admin":
        return name
    where = _programme_name(grant["programme_id"])
    if grant["role"] == "caseworker":
        org = store().organisation_name(grant["organisation_id"] or "") or "their organisation"
        return f"{name} at {org}, in {where}"
    return f"{name} of {where}"


def status(user: dict[str, Any]) -> str:
    """Switched off, invited (never signed in with a password or confirmed), or active."""
    if user["disabled_at"]:
        return "Switched off"
    if not user["confirmed_at"]:
        return "Invited"
    return "Active"


_ACTIONS = {
    "staff added": "invited {subject}",
    "role granted": "made {subject} {role}",
    "role taken away": "took away {subject}'s role as {role_bare}",
    "account switched off": "switched off {subject}'s account",
    "account switched on": "switched {subject}'s account back on",
    "work account linked": "first signed in with their work account",
    "work account forgotten": "forgot {subject}'s work account, so the next one they sign in with is kept",
}


def change(entry: dict[str, Any]) -> dict[str, str]:
    """One service log entry as a line: when, who, and what they did."""
    detail = entry["detail"]
    grant = {"role": detail.get("role", ""), "programme_id": entry["programme_id"],
             "organisation_id": detail.get("organisation_id")}  # fmt: skip
    text = _ACTIONS.get(entry["action"], entry["action"]).format(
        subject=entry["subject"] or "", role=role(grant) if grant["role"] else "",
        role_bare=role(grant).split(" ", 1)[1] if grant["role"] else "",
    )  # fmt: skip
    who = "The operator" if entry["actor_id"] in (None, "operator") else entry["actor_id"]
    when = sentence(describe.when(datetime.fromisoformat(entry["at"])))
    return {"when": when, "text": f"{who} {text}"}
