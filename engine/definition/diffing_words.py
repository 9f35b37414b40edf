"""The small words the change sentences share: quoting, lists, money, keys and order."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

# Keys of the programme file as a sentence names them, where the key alone reads badly.
_KEY_WORDS = {
    "kpis": "KPIs",
    "show_if": "when it is asked",
    "word_limit": "word limit",
    "min": "lowest answer allowed",
    "max": "highest answer allowed",
    "min_selected": "fewest choices allowed",
    "max_selected": "most choices allowed",
    "options_from": "where its options come from",
    "guard": "condition",
    "guard_message": "message when the condition is not met",
    "not_before": "earliest time",
    "by": "who does it",
    "dest": "the state it leads to",
    "source": "the states it starts from",
    "service_levels": "service levels",
    "open_data": "open data",
    "bank_holidays": "bank holidays",
    "reference_prefix": "case reference prefix",
    "if": "the condition for sending it",
    "to": "who is told",
    "when": "when it is sent",
    "message": "its message",
}

ROLE_WORDS = {"applicant": "applicants", "assessor": "assessors", "commissioner": "commissioners",
              "caseworker": "caseworkers"}  # fmt: skip


def quoted(text: Any) -> str:
    """A label in double quotes, as the sentences name things."""
    return f'"{text}"'


def and_list(words: Iterable[str]) -> str:
    """`a`, `a and b`, `a, b and c`."""
    items = [w for w in words if w]
    if len(items) < 2:
        return "".join(items)
    return f"{', '.join(items[:-1])} and {items[-1]}"


def money(n: Any) -> str:
    """£700,000 (or the value as written, when it is not a number)."""
    return f"£{n:,.0f}" if isinstance(n, int | float) and not isinstance(n, bool) else str(n)


def key_words(key: str) -> str:
    """A file key as words: `word_limit` -> `word limit`."""
    return _KEY_WORDS.get(key, key.replace("_", " "))


_SINGULAR = {"priorities": "priority", "criteria": "assessment criterion", "kpis": "KPI",
             "service_levels": "service level", "retention": "retention rule",
             "guidance": "guidance", "eligibility": "eligibility criterion"}  # fmt: skip


def singular(key: str) -> str:
    """One item of a list the file holds by `key`: `priorities` -> `priority`."""
    return _SINGULAR.get(key, key_words(key).removesuffix("s"))


def roles_words(roles: Iterable[str]) -> str:
    """`applicants and caseworkers`."""
    return and_list(ROLE_WORDS.get(r, r.replace("_", " ")) for r in roles) or "nobody"


def item_title(item: dict[str, Any] | None) -> str:
    """What people call an item of a list: its title, label, name or text (its id if none)."""
    item = item or {}
    for key in ("title", "label", "name", "text"):
        if item.get(key):
            return str(item[key])
    subject = (
        (item.get("message") or {}).get("subject")
        if isinstance(item.get("message"), dict)
        else None
    )
    return str(subject or item.get("id", ""))


def merged_order(old: list[str], new: list[str]) -> list[str]:
    """The names of both lists in the new list's order, each one only in the old list placed
    just after the name it followed there (so a removed item is said where it was)."""
    out = list(dict.fromkeys(new))
    seen = set(out)
    for i, name in enumerate(old):
        if name in seen:
            continue
        after = next((old[j] for j in range(i - 1, -1, -1) if old[j] in out), None)
        out.insert(out.index(after) + 1 if after is not None else 0, name)
        seen.add(name)
    return out
