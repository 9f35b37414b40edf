"""What publishing a programme file would change, and the open cases each change touches.

A case keeps the version it was started on, so publishing changes nothing for it at once; but
these are the cases whose people will notice the difference (a moved deadline, a removed state)
when the programme moves on. Counts come from one indexed count per programme; the references
listed are capped, read a state at a time, newest first.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from engine.definition.diffing import Change, changes
from engine.definition.loader import load_programme
from engine.model import Programme
from engine.runtime.core import EngineCore

SHOWN_CASES = 20  # references listed for one change; the rest are counted ("and 12 more")


class PublishingService(EngineCore):
    """Comparing a programme file with its newest published version, before publishing it."""

    def what_publishing_changes(
        self, path: str | Path, forms_dir: str | Path | None = None
    ) -> list[dict[str, Any]]:
        """Each difference between the file and the newest published version, in words, with
        the open cases it touches: `{sentence, kind, cases, count, more}` (none when the file
        is the published version or no version is published yet)."""
        return self.changes_from_published(load_programme(path, forms_dir)) or []

    def changes_from_published(self, programme: Programme) -> list[dict[str, Any]] | None:
        """As `what_publishing_changes`, for a programme already loaded; None when no version of
        it is published yet."""
        version = self.store.latest_version(programme.id)
        if version is None:
            return None
        return self.changes_between(self.programme(programme.id, version), programme)

    def changes_between(self, published: Programme, programme: Programme) -> list[dict[str, Any]]:
        """Each difference from a published programme (its own older version, or the round a
        next round builds on), with the open cases of `programme` it touches."""
        counts = self.store.state_counts(programme.id)
        return [self._touching(programme.id, c, counts) for c in changes(published, programme)]

    def _touching(
        self, programme_id: str, change: Change, counts: dict[str, dict[str, int]]
    ) -> dict[str, Any]:
        """A change with how many open cases it touches and the first few of their references."""
        in_workflow = counts.get(change.workflow or "", {})
        count = sum(in_workflow.get(s, 0) for s in change.states)
        references: list[str] = []
        for state in change.states:
            if len(references) >= SHOWN_CASES or not in_workflow.get(state):
                continue
            rows = self.store.list_cases(
                programme_id, workflow=change.workflow, state=state,
                limit=SHOWN_CASES - len(references),
            )  # fmt: skip
            references.extend(r["reference"] for r in rows)
        return {
            **change.as_dict(),
            "cases": references,
            "count": count,
            "more": max(0, count - len(references)),
        }
