"""A commissioner's view of a whole programme: cases by state, money, what is overdue or flagged."""

from __future__ import annotations

from typing import Any

from engine.runtime import assessment
from engine.runtime.core import EngineCore
from engine.runtime.views import Actor

SHOWN = 25  # overdue reminders and flagged cases listed on the dashboard; the rest are counted


class DashboardService(EngineCore):
    """A programme's dashboard, for its commissioners."""

    def dashboard(self, programme_id: str, actor: Actor) -> dict[str, Any]:
        """A programme at a glance: cases by state, deadlines ahead, money, awards, what is overdue."""
        self._commissioner_only(actor, "a programme's dashboard")
        self._reach(programme_id, actor)
        programme = self.programme(programme_id)
        # counts and the first few flagged or overdue, from indexed queries: the page reads no
        # more rows with 100,000 cases than with 100
        out = assessment.dashboard(
            programme, self.store.state_counts(programme_id),
            self.store.award_totals(programme_id), self.now(),
        )  # fmt: skip
        payments = self.store.programme_payments(programme_id)
        assessment.add_payments(out, self._links({p["case_id"] for p in payments}),
                                self.store.awards(programme_id), payments)  # fmt: skip
        stamp = self._stamp()
        out["overdue"] = self.store.overdue_reminders(programme_id, stamp, limit=SHOWN)
        out["overdue_count"] = self.store.overdue_count(programme_id, stamp)
        out["flagged_count"], out["flagged"] = self.store.flagged_cases(programme_id, SHOWN)
        out["not_delivered"] = self.store.not_delivered(programme_id)
        return out

    def _links(self, case_ids: set[int]) -> dict[int, tuple[int | None, str | None]]:
        """The parent and lot of each case paid and of the cases they were started from."""
        links: dict[int, tuple[int | None, str | None]] = {}
        wanted = sorted(case_ids)
        for _ in range(10):  # a chain of cases started from cases is short; stop if it loops
            if not wanted:
                break
            links.update(self.store.case_links(wanted))
            wanted = sorted({p for p, _lot in links.values() if p is not None} - links.keys())
        return links
