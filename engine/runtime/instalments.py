"""An award paid in parts: each instalment's amount, whether it is paid, and when it may be.

Pure functions over the programme's `funding.payment.instalments`, the award and the payments
made (no SQL). Payments are matched to instalments in order: the first payment is the first
instalment, and each payment recorded must be exactly the next one, so the instalment a payment
pays never depends on an amount someone typed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Instalment:
    """One part of an award, worked out from it."""

    index: int
    label: str
    amount: int
    share: str  # how it is worked out, in words: "60% of the award", "a fixed £5,000"
    after: str | None  # the action it waits for
    paid_at: str | None  # ISO time it was paid, if it has been


def _money(n: int) -> str:
    return f"£{n:,.0f}"


def amounts(specs: list[dict[str, Any]], award: int) -> list[int]:
    """Each instalment's amount in whole pounds: fixed amounts as given, percentages of the award.

    Percentages round down; when they make up the rest of the award, the last of them takes
    what rounding left, so the instalments add up to the award exactly.
    """
    fixed = sum(s.get("amount", 0) for s in specs)
    out = [s["amount"] if "amount" in s else award * s["percent"] // 100 for s in specs]
    shares = [i for i, s in enumerate(specs) if "amount" not in s]
    if shares and sum(specs[i]["percent"] for i in shares) == 100 and not fixed:
        out[shares[-1]] += award - sum(out)
    return out


def plan(
    specs: list[dict[str, Any]], award: int, payments: list[dict[str, Any]]
) -> list[Instalment]:
    """The instalments of an award, with the payments made so far matched to them in order."""
    out = []
    for i, (spec, amount) in enumerate(zip(specs, amounts(specs, award), strict=True)):
        share = (
            f"a fixed {_money(amount)}"
            if "amount" in spec
            else f"{spec['percent']:g}% of the award"
        )
        paid = payments[i]["paid_at"] if i < len(payments) else None
        out.append(Instalment(i, spec["label"], amount, share, spec.get("after"), paid))
    return out


def award_mismatch(specs: list[dict[str, Any]], award: int) -> str | None:
    """Why an award cannot be paid by these instalments (they come to another total), or None."""
    total = sum(amounts(specs, award))
    if total == award:
        return None
    return (
        f"the payment instalments come to {_money(total)}, but {_money(award)} is being awarded; "
        f"award {_money(total)}, or change the instalments"
    )


def next_problems(
    instalment: Instalment | None,
    typed: int | None,
    waiting_for: str | None,
    payable_from: datetime | None,
    now: datetime,
    in_words: str,
) -> list[str]:
    """Why the next instalment cannot be paid now, or why `typed` is not its amount."""
    if instalment is None:
        return ["every instalment of the award has been paid"]
    problems = []
    name = f'instalment {instalment.index + 1}, "{instalment.label}"'
    if waiting_for:
        problems.append(f'{name} can be paid only after "{waiting_for}"')
    if payable_from is not None and now < payable_from:
        problems.append(f"{name} can be paid only from {in_words}")
    if typed is not None and typed != instalment.amount:
        problems.append(
            f"{name} is {_money(instalment.amount)} ({instalment.share}), not {_money(typed)}; "
            "leave the amount blank to pay it"
        )
    return problems
