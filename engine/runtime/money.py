"""Every money rule: whether an award may be recorded (limits, the pot, lots and their budgets)
and whether a payment may be made (after what, on what condition, within the award).

The checks only say what is wrong; the actions' effects write the award and payment rows.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from engine.dates import moment_in_words
from engine.model import Programme
from engine.runtime import instalments
from engine.runtime.core import EngineCore


def _money(n: int | float) -> str:
    return f"£{n:,.0f}"


class MoneyService(EngineCore):
    """The award and payment checks an action with a money effect must pass."""

    def _award_problems(self, row: dict[str, Any], programme: Programme, eff: dict[str, Any],
                        context: dict[str, Any], amount: int | None, lot: str | None) -> tuple[dict[str, Any], list[str]]:  # fmt: skip
        funding = programme.data["funding"]
        if amount is None and eff.get("amount"):
            amount = context.get(eff["amount"])
        answered_lot = context.get(eff["lot"]) if eff.get("lot") else None
        if row["lot"] and answered_lot and answered_lot != row["lot"]:
            return {}, [
                f"the case is for {row['lot']} but its answers say {answered_lot}; correct one of them first"
            ]
        if lot is None:
            lot = answered_lot or row["lot"]
        if amount is None:
            return {}, ["give the amount to award"]
        if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
            return {}, [
                f"the amount to award must be a whole number of pounds above £0, not {amount!r}"
            ]
        problems: list[str] = []
        award = funding.get("award", {})
        if "min" in award and amount < award["min"]:
            problems.append(
                f"an award must be at least {_money(award['min'])}; {_money(amount)} is {_money(award['min'] - amount)} too little"
            )
        if "max" in award and amount > award["max"]:
            problems.append(
                f"an award can be at most {_money(award['max'])}; {_money(amount)} is {_money(amount - award['max'])} too much"
            )
        totals = self.store.award_totals(programme.id)
        if "max_awards" in funding and totals["count"] >= funding["max_awards"]:
            problems.append(
                f"the programme makes at most {funding['max_awards']} awards and has made {totals['count']}"
            )
        if "total" in funding and totals["amount"] + amount > funding["total"]:
            left = funding["total"] - totals["amount"]
            problems.append(
                f"{_money(amount)} would take the total awarded to {_money(totals['amount'] + amount)}, "
                f"{_money(totals['amount'] + amount - funding['total'])} over the {_money(funding['total'])} pot "
                f"({_money(left)} is left)"
            )
        lots = {x["id"]: x for x in funding.get("lots", [])}
        if lots:
            if lot not in lots:
                problems.append(
                    "say which lot the award is in" + (f' ("{lot}" is not a lot)' if lot else "")
                )
            else:
                spent = totals["lots"].get(lot, {"amount": 0, "count": 0})
                info = lots[lot]
                if "budget" in info and spent["amount"] + amount > info["budget"]:
                    problems.append(
                        f"{_money(amount)} would take {info['name']} to {_money(spent['amount'] + amount)}, "
                        f"{_money(spent['amount'] + amount - info['budget'])} over its {_money(info['budget'])} budget"
                    )
                if "lead_providers" in info and spent["count"] >= info["lead_providers"]:
                    problems.append(
                        f"{info['name']} already has its {info['lead_providers']} lead provider{'s' if info['lead_providers'] > 1 else ''}"
                    )
        specs = funding.get("payment", {}).get("instalments")
        if specs and (why := instalments.award_mismatch(specs, amount)):
            problems.append(why)
        return {"amount": amount, "lot": lot}, problems

    def _payment_problems(self, row: dict[str, Any], programme: Programme, eff: dict[str, Any],
                          context: dict[str, Any], amount: int | None) -> tuple[dict[str, Any], list[str]]:  # fmt: skip
        payment = programme.data["funding"].get("payment", {})
        problems: list[str] = []
        after = payment.get("after")
        if after and self.store.fired(row["id"], after) is None:
            label = self._action_label(programme, after)
            problems.append(f'no payment can be made before "{label}"')
        if payment.get("condition"):
            ok, why = self._check(payment["condition"], context, programme)
            if ok is False:
                problems.append(
                    payment.get("terms")
                    or f"the payment condition is not met: {payment['condition']}"
                )
            elif ok is None:
                problems.append(why)
        made = self.store.payments(row["id"])
        if payment.get("instalments"):
            due, more = self._instalment_problems(
                row, programme, payment["instalments"], made, amount
            )
            return {"amount": due}, problems + more
        if payment.get("schedule") == "single" and made:
            paid = datetime.fromisoformat(made[0]["paid_at"]).astimezone(
                ZoneInfo(programme.timezone)
            )
            problems.append(f"the award is paid in one amount, and it was paid on {paid:%-d %B %Y}")
        if amount is None and eff.get("amount"):
            amount = context.get(eff["amount"])
        if amount is None:
            award = self.store.award_for(self._lineage(row))
            if award and payment.get("schedule") == "single":
                amount = award["amount"]
        if amount is None:
            problems.append("give the amount to pay")
        else:
            award = self.store.award_for(self._lineage(row))
            paid = sum(p["amount"] for p in made)
            if award and paid + amount > award["amount"]:
                problems.append(
                    f"{_money(amount)} would take payments to {_money(paid + amount)}, more than the "
                    f"{_money(award['amount'])} awarded ({_money(award['amount'] - paid)} is left to pay)"
                )
        return {"amount": amount}, problems

    def _instalment_problems(self, row: dict[str, Any], programme: Programme, specs: list[dict[str, Any]],
                             made: list[dict[str, Any]], typed: int | None) -> tuple[int | None, list[str]]:  # fmt: skip
        """The next instalment's amount, and why it cannot be paid now (or not as typed)."""
        lineage = self._lineage(row)
        award = self.store.award_for(lineage)
        if award is None:
            return None, ["no award has been recorded, so there is no instalment to pay"]
        planned = instalments.plan(specs, award["amount"], made)
        following = next((i for i in planned if i.paid_at is None), None)
        if following is None:
            return None, instalments.next_problems(None, typed, None, None, self.now(), "")
        spec = specs[following.index]
        waiting = None
        if spec.get("after") and not any(self.store.fired(c, spec["after"]) for c in lineage):
            waiting = self._action_label(programme, spec["after"])
        payable_from = self._due(row, programme, spec["from"]) if "from" in spec else None  # type: ignore[attr-defined]
        if "from" in spec and payable_from is None:  # counts from an action not yet taken
            ref = spec["from"].get("trigger") or spec["from"].get("entered") or ""
            waiting = waiting or self._action_label(programme, ref)
        words = moment_in_words(payable_from, ZoneInfo(programme.timezone)) if payable_from else ""
        return following.amount, instalments.next_problems(
            following, typed, waiting, payable_from, self.now(), words
        )

    @staticmethod
    def _action_label(programme: Programme, trigger: str) -> str:
        """An action's label as people see it (its trigger only if it has none)."""
        return next(
            (t.spec.get("label", trigger) for w in programme.workflows.values()
             for t in w.transitions if t.trigger == trigger),
            trigger,
        )  # fmt: skip

    def funding_of(self, case_id: int | str, actor: Any) -> dict[str, Any] | None:
        """The award on this case (or the case it came from) and what has been paid, or None."""
        row = self._row(case_id, actor)
        award = self.store.award_for(self._lineage(row))
        if award is None:
            return None
        paid = sum(p["amount"] for p in self.store.payments(row["id"]))
        programme = self.programme(row["programme_id"], row["version"])
        lots = {x["id"]: x.get("name", x["id"]) for x in programme.data["funding"].get("lots", [])}
        specs = programme.data["funding"].get("payment", {}).get("instalments", [])
        made = self.store.payments(row["id"])
        return {
            "instalments": instalments.plan(specs, award["amount"], made) if specs else [],
            "amount": award["amount"],
            "lot": lots.get(award["lot"]) if award["lot"] else None,
            "awarded_at": datetime.fromisoformat(award["awarded_at"]),
            "paid": paid,
            "left": award["amount"] - paid,
        }

    def _lineage(self, row: dict[str, Any]) -> list[int]:
        """This case and the cases it was started from (a contract's application)."""
        out = [row["id"]]
        parent = row["parent_id"]
        while parent is not None and len(out) < 10:
            out.append(parent)
            prow = self.store.case(parent)
            parent = prow["parent_id"] if prow else None
        return out
