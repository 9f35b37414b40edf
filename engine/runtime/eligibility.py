"""Eligibility: each criterion of a case's workflow checked against its answers, with why a
criterion is not met (in the criterion's own words when its message would quote an answer the
person may not see).
"""

from __future__ import annotations

import re
from typing import Any

from engine.forms.visibility import hidden_questions
from engine.model import Programme
from engine.runtime.core import EngineCore
from engine.runtime.views import Actor, CriterionResult


class EligibilityService(EngineCore):
    """Check a case against its eligibility criteria."""

    def eligibility(self, case_id: int | str, actor: Actor) -> list[CriterionResult]:
        """Each eligibility criterion for this case: met, not met (and why), or not yet answered."""
        row = self._row(case_id, actor)
        programme = self.programme(row["programme_id"], row["version"])
        return self._eligibility(row, programme, self._context(row, programme), actor.role)

    def _eligibility(
        self, row: dict[str, Any], programme: Programme, context: dict[str, Any],
        role: str | None = None,
    ) -> list[CriterionResult]:  # fmt: skip
        first = next(iter(programme.workflows))
        # a failure message that quotes an answer this role may not see gives the criterion's words
        hidden = (
            {q for f in programme.forms.values() for q in hidden_questions(programme, f, role)}
            if role
            else set()
        )
        out = []
        for c in programme.data["eligibility"]:
            if c.get("workflow", first) != row["workflow"]:
                continue
            if c.get("applies_to") and row["role"] not in c["applies_to"]:
                out.append(CriterionResult(c["id"], c["text"], "not_applicable"))
                continue
            if c.get("when"):
                applies, why = self._check(c["when"], context, programme)
                if applies is False:
                    out.append(CriterionResult(c["id"], c["text"], "not_applicable"))
                    continue
                if applies is None:
                    out.append(CriterionResult(c["id"], c["text"], "not_answered", why))
                    continue
            ok, why = self._check(c["rule"], context, programme)
            if ok:
                out.append(CriterionResult(c["id"], c["text"], "met"))
            elif ok is None:
                out.append(CriterionResult(c["id"], c["text"], "not_answered", why))
            else:
                out.append(
                    CriterionResult(
                        c["id"],
                        c["text"],
                        "not_met",
                        c["text"]
                        if hidden & _quoted(c.get("failure") or "")
                        else self._render(c.get("failure") or c["text"], context, programme),
                    )
                )
        return out


def _quoted(template: str) -> set[str]:
    """The names a message template reads inside its `{{ }}` and `{% %}` blocks."""
    return {
        name
        for block in re.findall(r"\{[{%](.*?)[}%]\}", template, re.S)
        for name in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", block)
    }
