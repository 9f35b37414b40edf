"""The scheduler's second job: each programme's report pages worked out ahead of the people who
open them (`engine.reporting.page_figures.warm_pages`), at start and for each version published.

It runs in its own thread on an engine of its own (a store holds one transaction at a time), so
working out 100,000 cases' figures for a minute never holds a reminder back.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from engine.reporting.page_figures import warm_pages
from engine.runtime import Engine


def warming(engine: Engine) -> Callable[[], None]:
    """The job: each programme's pages, once for each version this process has not yet seen."""
    seen: dict[str, str] = {}

    def work() -> None:
        for programme_id in engine.store.programme_ids():
            programme = engine.programme(programme_id)
            if seen.get(programme_id) == programme.version:
                continue
            seen[programme_id] = programme.version  # once a version, whatever happens
            began = time.monotonic()
            try:
                warm_pages(engine.store, programme, engine.now())
            except Exception as exc:  # the pages work them out when opened, as without this job
                print(f"[scheduler] the report figures of {programme.name} could not be worked "
                      f"out ahead (they will be when opened): {exc}", flush=True)  # fmt: skip
                continue
            print(f"[scheduler] the report figures of {programme.name} are ready "
                  f"({time.monotonic() - began:.1f} s)", flush=True)  # fmt: skip

    return work
