"""Figures worked out from every case, remembered until the next change to any case.

A page such as people reached reads every case of a programme; with 100,000 cases that takes
seconds. What it shows changes only when a case does, and every change to a case writes an audit
row in the same transaction, one writer at a time, so the newest audit row names the database's
revision. A figure is kept under that revision and worked out again once it moves: never stale,
and cheap to check (one indexed read). Kept per process, for a few figures at a time.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:  # only for annotations: a store is passed in by the caller
    from engine.store import StoreContract

T = TypeVar("T")
KEPT = 32  # figures kept at once: each is small (counts, not cases)
_kept: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
_lock = threading.Lock()


def remembered(store: StoreContract, key: tuple[Hashable, ...], work_out: Callable[[], T]) -> T:
    """What `work_out()` gives, or gave before for the same key at the database's revision."""
    full = (store.revision(), *key)
    with _lock:
        if full in _kept:
            _kept.move_to_end(full)
            return _kept[full]  # type: ignore[no-any-return]
    value = work_out()
    with _lock:
        _kept[full] = value
        while len(_kept) > KEPT:
            _kept.popitem(last=False)
    return value
