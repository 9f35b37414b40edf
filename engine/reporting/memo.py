"""Figures worked out from every case of a programme, remembered until one of its cases changes.

A page such as people reached reads every case of a programme; with 100,000 cases that takes
seconds. What it shows changes only when one of the programme's cases does, and every change to a
case writes an audit row in the same transaction, one writer at a time (on PostgreSQL too: the
writer lock), so audit ids grow in the order changes are committed. A figure is kept with the
newest audit id when it was worked out. On the next view, if newer audit rows exist, one indexed
read over just those rows says whether any is of this programme's cases: if none, the figure
stands (and is marked as checked up to the newest row); if any, it is worked out again. So an
action in one programme leaves another's figures alone, and nothing is ever stale. Kept per
process, for a few figures at a time.
"""

from __future__ import annotations

import hashlib
import json
import threading
import zlib
from collections import OrderedDict
from collections.abc import Callable, Hashable
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, cast

if TYPE_CHECKING:  # only for annotations: a store is passed in by the caller
    from engine.store import StoreContract

T = TypeVar("T")
KEPT = 32  # figures kept at once: each is small (counts, not cases)
# each key (database, programme, *what) → [newest audit id checked, figure]
_kept: OrderedDict[tuple[Any, ...], list[Any]] = OrderedDict()
_lock = threading.Lock()


def remembered(
    store: StoreContract, programme_id: str, key: tuple[Hashable, ...], work_out: Callable[[], T]
) -> T:
    """What `work_out()` gives, or gave for this key before if no case of the programme changed."""
    database, newest = store.revision()
    full = (database, programme_id, *key)
    with _lock:
        entry = _kept.get(full)
    if entry is not None and _unchanged(store, programme_id, entry[0], newest):
        with _lock:
            entry[0] = max(entry[0], newest)  # next time, only audit rows after these are read
            if full in _kept:
                _kept.move_to_end(full)
        return cast(T, entry[1])
    # the revision was read before the work: a change made meanwhile is seen on the next view
    value = work_out()
    with _lock:
        _kept[full] = [newest, value]
        _kept.move_to_end(full)
        while len(_kept) > KEPT:
            _kept.popitem(last=False)
    return value


def _unchanged(store: StoreContract, programme_id: str, checked: int, newest: int) -> bool:
    """Whether no case of the programme changed after audit row `checked` (up to `newest`)."""
    if checked == newest:
        return True
    # fewer rows than when the figure was kept: another database at the same address (a test's)
    return checked < newest and not store.programme_changed(programme_id, checked, newest)


@cache
def engine_digest() -> str:
    """A digest of the engine's code: figures kept in the database by other code (an earlier
    release, which may have worked a figure out differently) are worked out again."""
    digest = hashlib.sha256()
    root = Path(__file__).resolve().parent.parent
    for path in sorted(root.rglob("*.py")):
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def packed(body: dict[str, Any]) -> bytes:
    """Figures as kept in the database (`kept_figures`): compressed JSON, never pickle, marked
    with the engine's code (`engine_digest`)."""
    return zlib.compress(json.dumps({**body, "engine": engine_digest()}, separators=(",", ":")).encode(), 1)  # fmt: skip


def kept_body(store: StoreContract, key: str, newest: int, limit: int) -> dict[str, Any] | None:
    """What `packed` kept under a key; None if nothing is, or it is newer than audit row `newest`
    (another database at the same address), larger than `limit` bytes once decompressed,
    unreadable, or kept by other engine code."""
    found = store.kept_figures(key)
    if found is None or found[0] > newest:
        return None
    inflate = zlib.decompressobj()
    try:
        body = json.loads(inflate.decompress(found[1], limit))
    except (zlib.error, ValueError):
        return None
    if (
        inflate.unconsumed_tail
        or not isinstance(body, dict)
        or body.get("engine") != engine_digest()
    ):
        return None
    return body


class KeptCopy(Protocol):
    """Figures kept for one version of a programme, up to date with an audit row."""

    @property
    def version(self) -> str:
        """The programme version they were worked out for."""

    @property
    def checked(self) -> int:
        """The newest audit row they are up to date with."""


def unusable(kept: KeptCopy | None, version: str, newest: int) -> bool:
    """Whether figures kept (or none) must be worked out again from every case: none, of another
    version of the programme, or newer than audit row `newest` (another database at the same
    address)."""
    return kept is None or kept.version != version or kept.checked > newest
