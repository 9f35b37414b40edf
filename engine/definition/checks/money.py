"""The money: award bands, the pot, lots' budgets, fees and caps, and when payment follows.

Amounts must add up (no award over the pot, budgets and fees within their totals), and a payment
must follow a transition some workflow has.
"""

from __future__ import annotations

from engine.definition.checks.base import _d, _l, _num
from engine.definition.checks.index import ProgrammeIndex


class FundingChecks(ProgrammeIndex):
    """Award bands, budgets, fees and caps that add up."""

    def _funding(self) -> None:
        f = _d(_d(self.data).get("funding"))
        total = f.get("total")
        award = _d(f.get("award"))
        lo, hi = award.get("min"), award.get("max")
        if _num(lo) and _num(hi) and lo > hi:
            self.err(
                ("funding", "award", "min"),
                "award-range",
                f"the smallest award (£{lo:,}) is more than the largest (£{hi:,})",
            )
        if _num(total) and _num(hi) and hi > total:
            self.err(
                ("funding", "award", "max"),
                "award-over-pot",
                f"the largest award (£{hi:,}) is more than the whole pot (£{total:,})",
            )
        n = f.get("max_awards")
        if _num(total) and _num(lo) and _num(n) and n * lo > total:
            self.err(
                ("funding", "max_awards"),
                "pot-too-small",
                f"{n} awards of at least £{lo:,} need £{n * lo:,}, more than the pot of £{total:,}",
            )
        lots = _l(f.get("lots"))
        budgets = [_d(x).get("budget") for x in lots]
        budgets = [b for b in budgets if _num(b)]
        if _num(total) and budgets and sum(budgets) > total:
            self.err(
                ("funding", "lots"),
                "over-budget",
                f"the lots' budgets add up to £{sum(budgets):,}, more than the total of £{total:,}",
            )
        fees = [_d(x).get("percent") for x in _l(f.get("fees"))]
        fees = [p for p in fees if _num(p)]
        if sum(fees) > 100 and all(
            p <= 100 for p in fees
        ):  # one fee over 100 is the schema's to report
            self.err(
                ("funding", "fees"),
                "out-of-range",
                f"the fees add up to {sum(fees)}%, more than 100%",
            )
        caps: dict[tuple[str, str], list[float]] = {}
        for c in _l(f.get("caps")):
            c = _d(c)
            if _num(c.get("percent")) and isinstance(c.get("limit"), str):
                caps.setdefault((str(c.get("of", "award")), c["limit"]), []).append(c["percent"])
        for (of, limit), values in caps.items():
            if limit == "at_least" and sum(values) > 100:
                self.err(
                    ("funding", "caps"),
                    "out-of-range",
                    f"the floors on each {of} add up to {sum(values)}%, more than 100%",
                )
        payment = _d(f.get("payment"))
        after = payment.get("after")
        every = set().union(*self.triggers.values()) if self.triggers else set()
        self.ref(("funding", "payment", "after"), after, every, "unknown-trigger", "transition")
        self._instalments(payment, every)

    def _instalments(self, payment: dict, triggers: set[str]) -> None:
        """Instalments: each a percent or an amount, after a known action; percents add to 100."""
        parts = [_d(p) for p in _l(payment.get("instalments"))]
        if not parts:
            return
        base = ("funding", "payment", "instalments")
        if "schedule" in payment:
            self.err(("funding", "payment", "schedule"), "instalments-and-schedule",
                     "the payment has both `instalments` and a `schedule`; instalments say when "
                     "each part is paid, so remove the schedule", key=True)  # fmt: skip
        for i, p in enumerate(parts):
            if ("percent" in p) == ("amount" in p):
                self.err((*base, i), "bad-instalment",
                         f'instalment "{p.get("label")}" needs either a `percent` of the award or '
                         f"a fixed `amount`, not {'both' if 'percent' in p else 'neither'}")  # fmt: skip
            if "after" in p:
                self.ref((*base, i, "after"), p["after"], triggers, "unknown-trigger", "transition")
            if "from" in p:
                self._payable_from((*base, i, "from"), _d(p["from"]), triggers, p.get("label"))
        shares = [p["percent"] for p in parts if _num(p.get("percent")) and "amount" not in p]
        fixed = any("amount" in p for p in parts)
        if shares and (sum(shares) > 100 or (not fixed and sum(shares) != 100)):
            self.err(base, "instalments-total",
                     f"the instalments' percentages add up to {sum(shares):g}%; "
                     + ("they must come to 100% of the award" if not fixed else "they cannot pass 100%"))  # fmt: skip

    def _payable_from(self, path: tuple, a: dict, triggers: set[str], label: object) -> None:
        """An instalment's `from`: a milestone, or an action or state of the case it pays."""
        what = f'instalment "{label}"'
        ref = self.exactly_one(path, a, ("milestone", "entered", "trigger"), "bad-anchor", f"the time of {what}")  # fmt: skip
        if "paused_in" in a:  # instalments span workflows: no one case's states to pause in
            self.err((*path, "paused_in"), "bad-anchor",
                     f"the time of {what} cannot pause; remove `paused_in`", key=True)  # fmt: skip
        if ref == "milestone":
            self.milestone((*path, "milestone"), a["milestone"])
        elif ref == "trigger":
            self.ref((*path, "trigger"), a["trigger"], triggers, "unknown-trigger", "transition")
        elif ref == "entered":
            states = set().union(*self.states.values()) if self.states else set()
            self.ref((*path, "entered"), a["entered"], states, "unknown-state", "state")
