"""Eligibility and assessment criteria: whom each applies to, at which stage, and how it is scored.

A scored criterion needs a scale that runs upwards, and the criteria's weights may not pass 100%.
"""

from __future__ import annotations

from engine.definition.checks.base import _d, _l, _num
from engine.definition.checks.index import ProgrammeIndex
from engine.definition.yaml_source import Path


class CriteriaChecks(ProgrammeIndex):
    """Eligibility criteria, assessment criteria, their scales and weights."""

    def _eligibility_and_criteria(self) -> None:
        d = _d(self.data)
        for i, c in enumerate(_l(d.get("eligibility"))):
            c = _d(c)
            wid = c.get("workflow", next(iter(self.workflows), None))
            if "workflow" in c:
                self.workflow_ref(("eligibility", i, "workflow"), c["workflow"])
            self.role_refs(("eligibility", i, "applies_to"), c.get("applies_to"), wid)
        for i, c in enumerate(_l(d.get("criteria"))):
            c = _d(c)
            path: Path = ("criteria", i)
            self.role_refs((*path, "applies_to"), c.get("applies_to"), None)
            if "stage" in c:
                self.form_ref((*path, "stage"), c["stage"])
            if c.get("kind") == "scored" and "scale" not in c:
                self.err(
                    path,
                    "missing-key",
                    f'criterion "{c.get("id")}" is scored, so it needs a "scale"',
                )
            scale = _d(c.get("scale"))
            if _num(scale.get("min")) and _num(scale.get("max")) and scale["min"] >= scale["max"]:
                self.err(
                    (*path, "scale"),
                    "bad-range",
                    f'the scale of criterion "{c.get("id")}" runs from {scale["min"]} to {scale["max"]}; min must be below max',
                )
        self._pass_mark(d)
        self._panel(d)
        weights = [_d(c).get("weight") for c in _l(d.get("criteria"))]
        weights = [w for w in weights if _num(w)]
        if weights and sum(weights) > 100:
            self.err(
                ("criteria",),
                "out-of-range",
                f"the criteria's weights add up to {sum(weights)}%, more than 100%",
            )

    def _panel(self, d: dict) -> None:
        """Moderating a spread of scores needs a criterion that is scored."""
        limit = _d(d.get("assessment")).get("moderate_when_spread_over")
        scored = [c for c in _l(d.get("criteria")) if _d(c).get("kind") == "scored"]
        if _num(limit) and not scored:
            self.err(("assessment", "moderate_when_spread_over"), "bad-moderation", "a spread of weighted scores needs at least one scored criterion, but none is scored; score a criterion, or remove this setting")  # fmt: skip

    def _pass_mark(self, d: dict) -> None:
        """A pass mark is on the criteria's one shared scale, within it."""
        mark = _d(d.get("assessment")).get("pass_mark")
        if not _num(mark):
            return
        scored = [_d(c) for c in _l(d.get("criteria")) if _d(c).get("kind") == "scored"]
        scales = {(_d(c.get("scale")).get("min"), _d(c.get("scale")).get("max")) for c in scored}
        path: Path = ("assessment", "pass_mark")
        if len(scales) != 1:
            why = (
                "no criterion is scored"
                if not scales
                else "the criteria are scored on different scales"
            )
            self.err(path, "bad-pass-mark", f"a pass mark is a weighted mean score on the criteria's scale, but {why}; score every criterion on one scale, or remove the pass mark")  # fmt: skip
            return
        [(low, high)] = scales
        if _num(low) and _num(high) and not low <= mark <= high:
            self.err(path, "bad-pass-mark", f"the pass mark {mark:g} is outside the criteria's scale of {low} to {high}; give a mark within it")  # fmt: skip
