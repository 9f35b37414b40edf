"""A few cases' reads made together: each case, its answers, the actions taken on it, its moves
and its audit log, read for all of them in a handful of queries, then served one case at a time
as the store would serve them.

A page that asks the engine about many cases one by one (the caseworker's due page asks where
each case's service levels stand) otherwise reads each case several times over: on PostgreSQL
every read is a round trip, and 200 cases took 600 of them.
"""

from __future__ import annotations

from typing import Any

from engine.store import StoreContract


class ReadAhead:
    """The store, with these cases' own reads answered from reads made for all of them at once
    (anything else, and any other case, read from the store as usual)."""

    def __init__(self, store: StoreContract, case_ids: list[int]) -> None:
        self._store = store
        self._ids = set(case_ids)
        ids = sorted(self._ids)
        self._cases = store.cases_of(ids)
        self._answers = store.answers_of(ids)
        self._fired = store.fired_of(ids)
        self._moves = store.state_changes(ids)
        self._histories: dict[int, list[dict[str, Any]]] | None = None  # read when first asked

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def case(self, case_id: int) -> dict[str, Any] | None:
        """One case row, as `store.case`."""
        return self._cases.get(case_id) if case_id in self._ids else self._store.case(case_id)

    def answers(self, case_id: int) -> list[dict[str, Any]]:
        """A case's answers and records, as `store.answers`."""
        if case_id not in self._ids:
            return self._store.answers(case_id)
        return list(self._answers.get(case_id, []))

    def fired_all(self, case_id: int) -> dict[str, str]:
        """When each action was last taken on a case, as `store.fired_all`."""
        if case_id not in self._ids:
            return self._store.fired_all(case_id)
        return dict(self._fired.get(case_id, {}))

    def state_changes(self, case_ids: list[int]) -> dict[int, list[tuple[str, str]]]:
        """Each case's moves, as `store.state_changes`."""
        if not set(case_ids) <= self._ids:
            return self._store.state_changes(case_ids)
        return {c: list(self._moves[c]) for c in case_ids if c in self._moves}

    def history(self, case_id: int) -> list[dict[str, Any]]:
        """A case's audit log, as `store.history` (read for every case the first time asked)."""
        if case_id not in self._ids:
            return self._store.history(case_id)
        if self._histories is None:
            self._histories = self._store.histories_of(sorted(self._ids))
        return list(self._histories.get(case_id, []))
