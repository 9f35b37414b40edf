"""The one test clock: a moment the test moves, read by the engine or app on every call."""

from __future__ import annotations

from datetime import UTC, datetime


class Clock:
    """A clock the test moves (ISO times, UTC)."""

    def __init__(self, at: str) -> None:
        self.set(at)

    def set(self, at: str) -> None:
        """Move to an ISO time (UTC)."""
        self.moment = datetime.fromisoformat(at).replace(tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.moment
