"""Each case of a programme as people reached counts it, kept between page views and brought up
to date case by case, with the tallies the page adds up.

Counting who a programme reaches reads every case and all its answers: with 100,000 referrals
that took about 20 seconds, and it was done again after any change to any of the programme's
cases. What a case counts as (its workflow, state, holder, start, and the categories of each
characteristic) changes only when that case does, and every change to a case writes an audit row
in the same transaction. So the programme's cases are read once; after that, the audit rows
written since say which cases changed, only those are read again, and the tallies by workflow and
state are corrected by what each changed case counted as before and counts as now.

Kept per process, for a few programmes, each with the audit id it is up to date with (as
`memo`), and in the database (`kept_figures`) once they are counted from every case and again
after SAVE_AFTER (or a twentieth of the cases) are counted again: a process that starts reads
them from there and counts again only the cases changed since, not every case. A new version of
the programme or of the engine's code, or another database at the same address, reads
everything again.
"""

from __future__ import annotations

import threading
from collections import Counter, OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

from engine.errors import DatabaseError
from engine.model import Programme
from engine.reporting.memo import kept_body, packed, unusable

if TYPE_CHECKING:  # only for annotations: a store is passed in by the caller
    from engine.store import StoreContract

KEPT = 4  # programmes kept at once: each holds a small record a case
SAVE_AFTER = 100  # cases counted again before they are all kept in the database again
LIMIT = 1 << 29  # bytes the counted cases kept in the database may take once decompressed

Categories = tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Counted:
    """A case as people reached counts it: the categories it is in for each characteristic (in
    the order the programme names them; () without an answer), and what pages filter it by."""

    workflow: str
    state: str
    organisation: str | None
    lot: str | None
    started: datetime
    categories: tuple[Categories, ...]


@dataclass(frozen=True)
class Kept:
    """A programme's cases as counted, by id, and how many cases of each workflow and state are
    in each set of categories, per characteristic (never changed: a newer one replaces it)."""

    version: str
    checked: int  # the newest audit row applied
    read: Callable[[], dict[int, Counted]]  # the cases by id (see `by_id`)
    tallies: dict[tuple[str, str], tuple[Counter[Categories], ...]]
    unsaved: int = 0  # cases counted again since these were kept in the database

    @cached_property
    def by_id(self) -> dict[int, Counted]:
        """The cases as counted, by id: made from a copy read from the database only when first
        asked for (the page for every case adds up the tallies alone)."""
        return self.read()

    @property
    def cases(self) -> list[Counted]:
        """Every case, in the order of their ids."""
        return [self.by_id[case_id] for case_id in sorted(self.by_id)]


# what a case counts as, from its row and its answers (as the store reads them)
Count = Callable[[dict[str, Any], list[dict[str, Any]]], Counted]

_kept: OrderedDict[tuple[str, str], Kept] = OrderedDict()  # by (database, programme)
_lock = threading.Lock()


def counted_cases(store: StoreContract, programme: Programme, count: Count) -> Kept:
    """Every case of the programme as `count` makes it, and their tallies, up to date."""
    database, newest = store.revision()
    key = (database, programme.id)
    with _lock:
        kept = _kept.get(key)
    if kept is None:  # none in this process: those another process kept, if any
        kept = _stored(store, programme, newest)
    if unusable(kept, programme.version, newest):
        # every case to count: one process at a time; one that waited reads what the other kept
        with store.one_at_a_time(f"people:{programme.id}"):
            newest = store.revision()[1]
            kept = _stored(store, programme, newest)
            if unusable(kept, programme.version, newest):
                kept = _count_all(store, programme, newest, count)
    assert kept is not None  # read, or counted just now
    if kept.checked < newest:
        changed = store.programme_cases_changed(programme.id, kept.checked, newest)
        kept = _with_changes(store, programme, kept, newest, sorted(changed), count)
        if kept.unsaved > max(SAVE_AFTER, len(kept.by_id) // 20):
            kept = _keep(store, programme, kept)
    with _lock:
        # the revision was read before the cases: a change made meanwhile is read next time
        _kept[key] = kept
        _kept.move_to_end(key)
        while len(_kept) > KEPT:
            _kept.popitem(last=False)
    return kept


def _count_all(store: StoreContract, programme: Programme, newest: int, count: Count) -> Kept:
    """Every case of the programme counted, and kept in the database for other processes."""
    answers = store.programme_answers(programme.id)
    seen: dict[Any, Any] = {}
    by_id = {r["id"]: _compact(count(r, answers.get(r["id"], [])), seen)
             for r in store.programme_cases(programme.id)}  # fmt: skip
    tallies: dict[tuple[str, str], tuple[Counter[Categories], ...]] = {}
    for c in by_id.values():
        _add(tallies, c, 1)
    return _keep(store, programme, Kept(programme.version, newest, lambda: by_id, tallies))


def _compact(c: Counted, seen: dict[Any, Any]) -> Counted:
    """The case with the texts and tuples it shares with others held once (100,000 cases of a
    few workflows, states and categories: a fifth of the memory, about 30 MB)."""

    def one(value: Any) -> Any:
        return seen.setdefault(value, value)

    categories = one(tuple(one(t) for t in c.categories))
    return Counted(one(c.workflow), one(c.state), one(c.organisation), one(c.lot), c.started,
                   categories)  # fmt: skip


def _add(
    tallies: dict[tuple[str, str], tuple[Counter[Categories], ...]], c: Counted, n: int
) -> None:
    """Count a case in (n=1) or out (n=-1) of its workflow and state's tallies."""
    group = tallies.get((c.workflow, c.state))
    if group is None:
        group = tallies[(c.workflow, c.state)] = tuple(Counter() for _ in c.categories)
    for tally, categories in zip(group, c.categories, strict=True):
        tally[categories] += n
        if not tally[categories]:
            del tally[categories]


def _with_changes(store: StoreContract, programme: Programme, kept: Kept, newest: int,
                  changed: list[int], count: Count) -> Kept:  # fmt: skip
    """A new Kept with the changed cases read again (another thread may be reading the old one)."""
    if not changed:
        return Kept(kept.version, newest, kept.read, kept.tallies, kept.unsaved)
    answers = store.answers_of(changed)
    fresh = {r["id"]: count(r, answers.get(r["id"], []))
             for r in store.programme_cases_of(programme.id, changed)}  # fmt: skip
    by_id = dict(kept.by_id)
    before = [by_id.pop(case_id) for case_id in changed if case_id in by_id]
    by_id.update(fresh)
    # only the tallies of the workflows and states these cases were or are in are copied
    touched = {(c.workflow, c.state) for c in (*before, *fresh.values())}
    tallies = {k: tuple(Counter(t) for t in v) if k in touched else v
               for k, v in kept.tallies.items()}  # fmt: skip
    for c in before:
        _add(tallies, c, -1)
    for c in fresh.values():
        _add(tallies, c, 1)
    return Kept(kept.version, newest, lambda: by_id, tallies, kept.unsaved + len(changed))


def _stored(store: StoreContract, programme: Programme, newest: int) -> Kept | None:
    """The programme's cases as a process kept them counted in the database (None: none to use)."""
    body = kept_body(store, f"people:{programme.id}", newest, LIMIT)
    if body is None or body.get("version") != programme.version:
        return None
    try:
        kinds = body["kinds"]
        tallies = {(wf, state): tuple(Counter({tuple(c): n for c, n in t}) for t in each)
                   for wf, state, each in body["tallies"]}  # fmt: skip
        texts = {t: t for t in body["texts"]}
        cases = body["cases"]
        # checked here, made only when asked for: a bad copy is counted again, never an error
        for _case_id, wf, state, org, lot, _started, kind in cases:
            texts[wf], texts[state], org and texts[org], lot and texts[lot], kinds[kind]
    except (ValueError, KeyError, TypeError, IndexError):  # not as kept: counted again
        return None

    def read() -> dict[int, Counted]:
        # each set of categories once (100,000 cases have a few thousand), as `_compact` holds them
        made = [tuple(tuple(c) for c in k) for k in kinds]
        return {case_id: Counted(texts[wf], texts[state], org and texts[org], lot and texts[lot],
                                 datetime.fromisoformat(started), made[kind])
                for case_id, wf, state, org, lot, started, kind in cases}  # fmt: skip

    return Kept(body["version"], body["checked"], read, tallies)


def _keep(store: StoreContract, programme: Programme, kept: Kept) -> Kept:
    """Keep the counted cases in the database for every process (unless newer ones are kept)."""
    kinds: dict[tuple[Categories, ...], int] = {}
    cases = [[i, c.workflow, c.state, c.organisation, c.lot, c.started.isoformat(),
              kinds.setdefault(c.categories, len(kinds))] for i, c in kept.by_id.items()]  # fmt: skip
    texts = sorted({t for c in kept.by_id.values() for t in (c.workflow, c.state, c.organisation, c.lot) if t})  # fmt: skip
    tallies = [[wf, state, [[[list(c), n] for c, n in each.items()] for each in group]]
               for (wf, state), group in kept.tallies.items()]  # fmt: skip
    data = packed({"version": kept.version, "checked": kept.checked, "kinds": list(kinds),
                   "texts": texts, "cases": cases, "tallies": tallies})  # fmt: skip
    try:
        when = datetime.now(UTC).isoformat()
        store.keep_figures(programme.id, f"people:{programme.id}", kept.checked, data, when)
    except DatabaseError:  # busy: the figures are right all the same; they are kept next time
        return kept
    return Kept(kept.version, kept.checked, kept.read, kept.tallies)
