"""What a KPI counts: returns, records or cases as items, each seen as it stood at a moment.

An item keeps the time each of its case's records was sent beside it, so a period's figure reads
only what had been sent by the period's end (an August figure never sees a review done in
October).
"""

from __future__ import annotations

import json
from bisect import bisect_right
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from engine.dates import stored_moment
from engine.forms.answers import cel_value
from engine.model import Question

Records = dict[str, list[dict[str, Any]]]
Stamps = dict[str, list[datetime]]  # beside each form's records: when each was sent
_EVER = datetime.min.replace(tzinfo=UTC)


def answer_time(answer: dict[str, Any]) -> datetime:
    """When answers came in: a record of a repeatable form when it was first sent; a once-only
    form's answers when the form was first saved (later saves write over them in place, so a
    form begun by then counts with the answers it has now)."""
    if not answer.get("record"):
        text = answer.get("created_at")
        return stored_moment(text) if text else _EVER
    text = answer.get("submitted_at") or answer.get("updated_at")
    return stored_moment(text) if text else _EVER


class Item:
    """One thing a KPI counts (a return, a record or a case), with what expressions may read."""

    __slots__ = (
        "_case",
        "_records",
        "_row",
        "_views",
        "data",
        "derived",
        "latest",
        "lot",
        "organisation",
        "role",
        "stamps",
        "state",
        "updated",
        "when",
    )

    def __init__(
        self,
        row: dict[str, Any],
        when: datetime,
        records: Records | None,
        data: dict[str, Any] | None = None,
        stamps: Stamps | None = None,
        derived: bool = False,
        views: Views | None = None,
        latest: datetime | None = None,
    ) -> None:
        # the answers as expressions see them; None until a KPI reads a period holding this item
        self.data = data
        self.when = when
        self.organisation: str | None = row["organisation_id"]
        self.lot: str | None = row["lot"]
        self.role: str = row["role"] or ""
        self.state: str = row["state"]
        # a case cannot have moved since this (as stored; read only for cases, and as text)
        self.updated: str | None = row.get("updated_at")
        self._row = row
        self._records = records
        self._case: dict[str, Any] | None = None
        # a case's answers are made from its records, so they too are read as at a moment
        self.derived = derived
        self.stamps = stamps
        self.latest = _latest(stamps) if latest is None else latest
        # what the records looked like at each moment asked about, shared by every copy of this
        # item seen as at a moment: every KPI and period reading it builds each view once
        self._views: Views | None = views  # made when first asked for

    @property
    def case(self) -> dict[str, Any]:
        """`case` as expressions see it, built only when an expression first reads it."""
        if self._case is None:
            row = self._row
            flags, entered = row["flags"], row["entered"]
            # kept decoded: every copy of this case seen as at a period's end shares the row
            if isinstance(flags, str):
                flags = row["flags"] = json.loads(flags)
            if isinstance(entered, str):
                entered = row["entered"] = json.loads(entered)
            self._case = {
                "id": row.get("id", row.get("case_id")), "state": row["state"], "flags": flags,
                "reference": row["reference"], "lot": row["lot"] or "", "organisation": row["organisation_id"] or "",
                "entered": {k: datetime.fromisoformat(v) for k, v in entered.items()},
                "records": self._records if self._records is not None else _NoRecords(),
            }  # fmt: skip
        return self._case

    @property
    def entered(self) -> dict[str, Any]:
        """When the case (as stored) entered each state, as ISO text."""
        entered = self._row["entered"]
        return json.loads(entered) if isinstance(entered, str) else entered

    def was_in(self, states: set[str]) -> bool:
        """Whether the case is, or has ever been, in one of these states."""
        return self.state in states or any(s in states for s in self.entered)

    def as_at(self, at: datetime, moves: list[tuple[datetime, str]]) -> Item | None:
        """This case as it stood at `at`, from its moves (None if it had not started by then)."""
        state, entered = None, {}
        for when, to in moves:
            if when > at:
                break
            state, entered[to] = to, when.isoformat()
        if state is None:
            return None
        row = {**self._row, "state": state, "entered": entered}
        item = Item(row, self.when, self._records, self.data, self.stamps, self.derived,
                    self._views)  # fmt: skip
        item.updated = None  # it has not moved since `at`
        return item

    def seen_at(self, at: datetime, merge: Callable[[Records], dict[str, Any]]) -> Item:
        """This item with only the records sent by `at` (and for a case, the answers made from
        them by `merge`); itself when nothing came later."""
        if self.latest is None or self.latest <= at or self._records is None or not self.stamps:
            return self
        views = self._views
        if views is None:
            views = self._views = Views()
        if views.order is None:  # every time a record came in, in order: a view per place in it
            views.order = sorted(t for ts in self.stamps.values() for t in ts)
        place = bisect_right(views.order, at)
        view = views.seen.get(place)
        if view is None:
            records: Records = {}
            stamps: Stamps = {}
            for form, rows in self._records.items():
                times = self.stamps.get(form, [])
                kept = [i for i, t in enumerate(times) if t <= at]
                records[form] = [rows[i] for i in kept]
                stamps[form] = [times[i] for i in kept]
            view = views.seen[place] = (records, stamps, merge(records) if self.derived else None)
        records, stamps, merged = view
        data = merged if self.derived else self.data
        # the latest of them came in at or before `at`, so no later than that
        item = Item(self._row, self.when, records, data, stamps, self.derived, latest=at)
        item.state, item.updated = self.state, self.updated
        return item

    @property
    def case_id(self) -> int:
        """The id of the case this item belongs to."""
        return int(self._row.get("id", self._row.get("case_id")))

    def json(self) -> str:
        """The answers as stored, given up once read."""
        return str(self._row.pop("data"))

    @property
    def has_records(self) -> bool:
        """Whether `case.records` can read the case's records yet."""
        return self._records is not None

    def give_records(self, records: Records, stamps: Stamps | None = None) -> None:
        """Let `case.records` read the case's records from now on."""
        self._records = records
        self.stamps = stamps
        self.latest = _latest(stamps)
        self._views = None
        if self._case is not None:
            self._case["records"] = records


class Views:
    """A case's records as they stood at moments asked about, by how many had come in then."""

    __slots__ = ("order", "seen")

    def __init__(self) -> None:
        self.order: list[datetime] | None = None
        self.seen: dict[int, tuple[Records, Stamps, dict[str, Any] | None]] = {}


def _latest(stamps: Stamps | None) -> datetime | None:
    return max((t for ts in stamps.values() for t in ts), default=None) if stamps else None


class Source:
    """The items one KPI reads, in time order, with their times alongside for slicing by period."""

    def __init__(
        self,
        items: list[Item],
        read: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
        whens: list[datetime] | None = None,
    ) -> None:
        self.items = items
        # each item's own time, or the date a KPI names for it (see `KpiCalculator._dated`)
        self.whens = [i.when for i in items] if whens is None else whens
        self.read = read  # turns an item's JSON into its data, for items read only when needed

    def slice(self, first: int, last: int) -> list[Item]:
        """The items from first to last, each with its data read."""
        items = self.items[first:last]
        unread = [i for i in items if i.data is None] if self.read is not None else []
        if unread:
            texts = [i.json() for i in unread]
            try:  # one parse for them all: a call per return cost a third as much again
                parsed = json.loads(f"[{','.join(texts)}]")
            except ValueError:
                parsed = None
            if parsed is None or len(parsed) != len(texts):  # a damaged one: say which
                parsed = [json.loads(t) for t in texts]
            for item, raw in zip(unread, parsed, strict=True):
                item.data = self.read(raw)
        return items


def as_seen(typed: dict[str, Question], raw: dict[str, Any]) -> dict[str, Any]:
    """Answers as expressions see them, changed in place (each caller's copy is its own)."""
    for k in typed.keys() & raw.keys():
        raw[k] = cel_value(typed[k], raw[k])
    return raw


class _NoRecords(dict):  # type: ignore[type-arg]
    """Stands for a case's records where no expression asked for them."""


def as_at(items: list[Item], at: datetime, states: set[str], moves_read: dict[int, list[tuple[datetime, str]]],
          state_changes: Callable[[list[int]], dict[int, list[tuple[str, str]]]], own: bool = False) -> list[Item]:  # fmt: skip
    """The cases as they stood at `at` (with `own`, a case begun after `at` as it stood when
    it began): their state and when they entered each, from the audit log for a case that has
    moved since (read with `state_changes`, kept in `moves_read`); only those then in `states`,
    if given."""
    since = at.astimezone(UTC).isoformat()

    def seen(item: Item) -> datetime:
        return max(at, item.when)

    def moved_since(item: Item) -> bool:
        u = item.updated
        if u is None:
            return False
        if own and item.when > at:
            return stored_moment(u) > item.when
        # stored in UTC as ISO text, which sorts as time does; anything else is parsed
        return u > since if u.endswith("+00:00") else stored_moment(u) > at

    moved = {i.case_id for i in items if moved_since(i)}
    wanted = [c for c in moved if c not in moves_read]
    if wanted:
        found = state_changes(wanted)
        for case_id in wanted:
            moves_read[case_id] = [
                (stored_moment(when), state) for when, state in found.get(case_id, [])
            ]
    out = []
    for item in items:
        moves = moves_read.get(item.case_id) if item.case_id in moved else None
        if moves:  # a case begun late is seen once its first move is logged, not before
            item = item.as_at(max(seen(item), moves[0][0]) if own else at, moves)
            if item is None:  # not yet in any state then
                continue
        if not states or item.state in states:
            out.append(item)
    return out
