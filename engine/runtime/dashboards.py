"""A commissioner's view of a whole programme: cases by state, money, what is overdue or flagged."""

from __future__ import annotations

from typing import Any

from engine.runtime import assessment
from engine.runtime.core import EngineCore
from engine.runtime.views import Actor


class DashboardService(EngineCore):
    """A programme's dashboard, for its commissioners."""

    def dashboard(self, programme_id: str, actor: Actor) -> dict[str, Any]:
        """A programme at a glance: cases by state, deadlines ahead, money, awards, what is overdue."""
        self._commissioner_only(actor, "a programme's dashboard")
        programme = self.programme(programme_id)
        by_state: dict[str, dict[str, int]] = {}
        flagged = []
        rows = self.store.programme_cases(programme_id)
        for row in rows:
            counts = by_state.setdefault(row["workflow"], {})
            counts[row["state"]] = counts.get(row["state"], 0) + 1
            raised = sorted(k for k, v in row["flags"].items() if v)
            if raised:
                flagged.append({"id": row["id"], "reference": row["reference"], "flags": raised,
                                "workflow": row["workflow"], "state": row["state"]})  # fmt: skip
        out = assessment.dashboard(
            programme, by_state, self.store.award_totals(programme_id), self.now()
        )
        assessment.add_payments(out, rows, self.store.awards(programme_id),
                                self.store.programme_payments(programme_id))  # fmt: skip
        out["overdue"] = self.store.overdue_reminders(programme_id, self._stamp())
        out["flagged"] = flagged
        out["not_delivered"] = self.store.not_delivered(programme_id)
        return out
