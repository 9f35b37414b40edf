"""Charity Commission and Companies House numbers: checked and written one way, so the same
organisation's number is the same text however it was typed.

A question marked `organisation_number` (`charity`, `company` or `charity_or_company`) names the
case's organisation by its answer; registration asks for one too. Spaces go and letters are
capitals. A Companies House number has 8 characters: digits with leading zeros (`1234567` is
`01234567`), or two letters and six digits (`SC123456`). A charity number has 6 to 8 digits,
with a linked charity's suffix (`1092345-1`), or a Scottish (`SC012345`) or Northern Irish
(`NIC100001`) register's letters. Where either may be meant, 8 characters (or letters and
digits) are a company's number and 6 or 7 digits a charity's: Companies House always gives 8,
the register in England and Wales 6 or 7 (never starting with 0: `0123456` is a company's).
"""

from __future__ import annotations

import re

from engine.model import Question

KINDS = ("charity", "company", "charity_or_company")
_COMPANY_DIGITS = re.compile(r"^\d{1,8}$")
_COMPANY_LETTERS = re.compile(r"^([A-Z][A-Z0-9])(\d{1,6})$")
_CHARITY = re.compile(r"^(?:\d{6,8}(?:-\d{1,3})?|SC\d{6}|NIC\d{6})$")
_EITHER_CHARITY = re.compile(r"^[1-9]\d{5,6}(?:-\d{1,3})?$")  # no charity number starts with 0
_FORMAT = {
    "charity": "Enter a charity number, like 1092345",
    "company": "Enter a Companies House number of 8 characters, like 01234567 or SC123456",
    "charity_or_company": "Enter a charity number, like 1092345, or a Companies House number of "
    "8 characters, like 01234567 or SC123456",
}


def _company(compact: str) -> str | None:
    """A Companies House number of 8 characters, or None."""
    if _COMPANY_DIGITS.match(compact):
        return compact.zfill(8)
    if letters := _COMPANY_LETTERS.match(compact):
        return letters.group(1) + letters.group(2).zfill(6)
    return None


def read_number(kind: str, text: str) -> tuple[str, str] | None:
    """The register (`charity` or `company`) and the number as kept; None if not of this `kind`."""
    compact = "".join(text.split()).upper()
    if kind == "company":
        number = _company(compact)
        return ("company", number) if number else None
    if kind == "charity":
        return ("charity", compact) if _CHARITY.match(compact) else None
    if _EITHER_CHARITY.match(compact):
        return "charity", compact
    if (len(compact) == 8 or compact[:1] == "0" or compact[:1].isalpha()) and (
        number := _company(compact)
    ):
        return "company", number
    return None


def format_message(kind: str) -> str:
    """What to tell someone whose answer is not a number of this kind."""
    return _FORMAT[kind]


def check_number(q: Question, value: str) -> tuple[str, list[str]]:
    """A question's answer as the number kept, and what is wrong with it (its `errors.format`, if any)."""
    kind = q.spec["organisation_number"]
    read = read_number(kind, value)
    if read is None:
        own = q.spec.get("errors") or {}
        return value, [own.get("format") or format_message(kind)]
    return read[1], []


def numbers_answered(questions: list[Question], answers: dict[str, object]) -> list[tuple[str, str, str]]:  # fmt: skip
    """(question id, register, number) for each organisation number answered among `answers`."""
    found = []
    for q in questions:
        kind = q.spec.get("organisation_number")
        value = answers.get(q.id)
        read = read_number(kind, value) if kind in KINDS and isinstance(value, str) else None
        if read:
            found.append((q.id, *read))
    return found
