"""The daily retention job: each programme's `retention` rules applied through the engine, on
the engine's clock, so a test with a frozen clock sees exactly what a day's run removes."""

from __future__ import annotations

from typing import Any

from engine.runtime import SCHEDULER, Engine

DAILY_SECONDS = 24 * 60 * 60


def run_retention(engine: Engine) -> list[dict[str, Any]]:
    """Apply retention once as the scheduler (idempotent: a second run finds nothing more)."""
    return engine.apply_retention(SCHEDULER)


def retention_summary(results: list[dict[str, Any]]) -> str:
    """One line for the scheduler's console: how many cases each rule reached."""
    if not results:
        return "retention: nothing due"
    parts = [f"{r['rule']} ({r['programme']}): {len(r['cases'])} cases" for r in results]
    return "retention: " + "; ".join(parts)
