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
