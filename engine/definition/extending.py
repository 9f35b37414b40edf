"""`extends:`: a programme or form file written as another file plus what changed.

The extending file is merged onto its base before anything is checked: mappings merge key by key
(a key set to nothing removes it); a list whose items all have an `id` (or, for a programme's
`forms`, a `form`) merges item by item: the same id changes that item, a new id is added, and
`{id: x, remove: true}` removes one; `insert_after`/`insert_before` place an item; any other list,
and every plain value, is replaced. Every merged value keeps the file, line and column where it
was written, so a mistake is reported in the file that holds it.

A base is named by its place beside the file, never from the top of the disk, and must lie in the
folder that holds the checked file's folder (the one with `programmes/` and `forms/`): a file,
perhaps sent by someone else, cannot make the engine read, and quote, a file elsewhere on the
server. Chains are at most `MAX_CHAIN` long and may not go round in a circle.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path as FilePath
from typing import Any

from engine.definition.schema_check import did_you_mean
from engine.definition.yaml_source import Path, Pos, Positions, read_yaml
from engine.errors import Problem

MAX_CHAIN = 5  # next year's round of last year's round of …: five is plenty, more is a mistake
IDENTITY_KEYS = ("id", "form")  # what names an item of a list that merges item by item
PLACING = ("insert_after", "insert_before")


@dataclass
class Extension:
    """What `extends:` brought in: the files built on, their bytes, and what this file changes."""

    base: str
    chain: list[str] = field(default_factory=list)
    raws: list[tuple[str, bytes]] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)


@dataclass
class Merged:
    """A file merged onto its bases: the data and positions the checks read, and any problems."""

    data: Any
    positions: Positions
    problems: list[Problem]
    extension: Extension | None


# Files checked in a temporary folder (a draft in the browser) are named from that folder, as
# `programmes/x.yaml`, never by where the server put them; per context, so threads do not mix.
_NAMES_FROM: ContextVar[FilePath | None] = ContextVar("names_from", default=None)


@contextmanager
def names_relative_to(root: FilePath) -> Iterator[None]:
    """Name every file checked inside this block from `root` rather than the working directory."""
    token = _NAMES_FROM.set(root)
    try:
        yield
    finally:
        _NAMES_FROM.reset(token)


def display_name(path: FilePath) -> str:
    """The path relative to the working directory (or the folder being checked) when inside it."""
    try:
        return os.path.relpath(path, _NAMES_FROM.get())
    except ValueError:  # pragma: no cover - another drive on Windows
        return str(path)


def resolve(
    path: FilePath, fname: str, data: dict[str, Any], positions: Positions, kind: str
) -> Merged:
    """Merge a file that has `extends:` onto its bases; problems are positioned where written."""
    root = path.resolve().parent.parent
    return _Resolver(root, kind).extend(path, fname, data, positions, (path.resolve(),))


class _Resolver:
    def __init__(self, root: FilePath, kind: str) -> None:
        self.root = root
        self.kind = kind

    def extend(
        self,
        path: FilePath,
        fname: str,
        data: dict[str, Any],
        positions: Positions,
        seen: tuple[FilePath, ...],
    ) -> Merged:
        pos = positions.value(("extends",))

        def refuse(code: str, message: str, more: list[Problem] | None = None) -> Merged:
            mine = Problem(fname, pos.line, pos.col, code, message)
            return Merged(None, positions, [mine, *(more or [])], None)

        target = data["extends"]
        if not isinstance(target, str) or not target.strip():
            return refuse(
                "wrong-type",
                "extends should name the file this one builds on, e.g. `last_year.yaml`",
            )
        if os.path.isabs(target) or target.startswith(("/", "\\", "~")) or ":" in target:
            return refuse(
                "extends-outside",
                f'extends names "{target}" from the top of the disk; name the file by its place '
                "beside this one, e.g. `last_year.yaml` or `../archive/last_year.yaml`",
            )
        base_path = (path.parent / target).resolve()
        if not base_path.is_relative_to(self.root):
            return refuse(
                "extends-outside",
                f'"{target}" is outside {display_name(self.root)}, the folder that holds this '
                "file's folder; a programme may build only on files kept beside it",
            )
        if base_path.suffix not in (".yaml", ".yml") or not base_path.is_file():
            near = (
                sorted(p.name for p in base_path.parent.glob("*.y*ml"))
                if base_path.parent.is_dir()
                else []
            )
            return refuse(
                "extends-missing",
                f'there is no file "{target}" beside this one to build on'
                f"{did_you_mean(base_path.name, near)}",
            )
        if base_path in seen:
            circle = " → ".join(display_name(p) for p in (*seen, base_path))
            return refuse(
                "extends-cycle",
                f"the files build on each other in a circle ({circle}); "
                "one of them must stand on its own",
            )
        if len(seen) > MAX_CHAIN:
            return refuse(
                "extends-too-deep",
                f"this is a chain of more than {MAX_CHAIN} files built on each other; build on "
                "a file nearer the start of the chain, or write one out in full",
            )
        base_name = display_name(base_path)
        raw = base_path.read_bytes()
        base_data, base_positions, base_problems = read_yaml(base_name, raw)
        if not isinstance(base_data, dict):
            return refuse(
                "extends-unreadable",
                f"{base_name} cannot be built on until its own mistakes are put right",
                base_problems,
            )
        chain: list[str] = []
        raws = [(base_name, raw)]
        if "extends" in base_data:
            inner = self.extend(base_path, base_name, base_data, base_positions, (*seen, base_path))
            base_problems += inner.problems
            if inner.data is None:
                return Merged(None, positions, base_problems, None)
            base_data, base_positions = inner.data, inner.positions
            if inner.extension is not None:
                chain, raws = inner.extension.chain, raws + inner.extension.raws
        _tag(base_positions, base_name, raw)
        own = {k: v for k, v in data.items() if k != "extends"}
        merger = _Merger(base_positions, positions, fname)
        out = merger.merge(base_data, (), own, (), ())
        merger.out.texts.update(base_positions.texts)
        problems = base_problems + merger.problems
        if self.kind == "programme" and out.get("id") == base_data.get("id"):
            where = positions.key(("id",)) if "id" in own else pos
            problems.append(
                Problem(
                    fname,
                    where.line,
                    where.col,
                    "extends-same-id",
                    f'this programme has the id "{out.get("id")}", like {base_name} that it '
                    "builds on; give it its own id, e.g. with next year in it",
                )
            )
        extension = Extension(base_name, [base_name, *chain], raws, changes(base_data, own))
        return Merged(out, merger.out, problems, extension)


def _tag(positions: Positions, fname: str, raw: bytes) -> None:
    """Mark every position read from `fname` (not already marked) as being in that file."""
    for table in (positions.values, positions.keys):
        for k, p in table.items():
            if p.file is None:
                table[k] = Pos(p.line, p.col, fname)
    positions.texts.setdefault(fname, raw.decode("utf-8", "replace"))


def identity_key(base: list[Any], over: list[Any]) -> str | None:
    """The key that names each item of both lists, when every item has it as text."""
    if not over:
        return None
    for key in IDENTITY_KEYS:
        if all(isinstance(i, dict) and isinstance(i.get(key), str) for i in (*base, *over)):
            return key
    return None


class _Merger:
    """Merges one override onto its base, writing where each merged value was written."""

    def __init__(self, base: Positions, over: Positions, fname: str) -> None:
        self.base = base
        self.over = over
        self.fname = fname
        self.out = Positions()
        self.out.texts.update(over.texts)
        self.out.values[()] = over.values.get((), Pos(1, 1))
        self.problems: list[Problem] = []
        self._after: dict[str, str] = {}

    def problem(self, path: Path, code: str, message: str) -> None:
        pos = self.over.value(path)
        self.problems.append(Problem(pos.file or self.fname, pos.line, pos.col, code, message))

    def copy(self, value: Any, src: Positions, old: Path, new: Path) -> Any:
        """`value` as it is, its positions (and its descendants') moved from `old` to `new`."""
        if old in src.values:
            self.out.values[new] = src.values[old]
        if old in src.keys:
            self.out.keys[new] = src.keys[old]
        if isinstance(value, dict):
            return {k: self.copy(v, src, (*old, k), (*new, k)) for k, v in value.items()}
        if isinstance(value, list):
            return [self.copy(v, src, (*old, i), (*new, i)) for i, v in enumerate(value)]
        return value

    def merge(self, base: Any, bpath: Path, over: Any, opath: Path, new: Path) -> Any:
        """`over` merged onto `base`: mappings by key, lists of named items by name."""
        if isinstance(base, dict) and isinstance(over, dict):
            self._mark(opath, new)
            out: dict[str, Any] = {}
            for k, bv in base.items():
                if k not in over:
                    out[k] = self.copy(bv, self.base, (*bpath, k), (*new, k))
                elif over[k] is not None:  # a key set to nothing removes it
                    out[k] = self.merge(bv, (*bpath, k), over[k], (*opath, k), (*new, k))
            for k, ov in over.items():
                if k not in base and ov is not None:
                    out[k] = self.copy(ov, self.over, (*opath, k), (*new, k))
            return out
        if isinstance(base, list) and isinstance(over, list):
            key = identity_key(base, over)
            if key is not None:
                self._mark(opath, new)
                return self._merge_items(base, bpath, over, opath, new, key)
        return self.copy(over, self.over, opath, new)

    def _mark(self, opath: Path, new: Path) -> None:
        # A merged mapping or list is placed where the extending file writes it: a problem with
        # the whole (two kinds of date on one milestone, say) is reported where it was changed.
        if opath in self.over.values:
            self.out.values[new] = self.over.values[opath]
        if opath in self.over.keys:
            self.out.keys[new] = self.over.keys[opath]

    def _merge_items(
        self, base: list[Any], bpath: Path, over: list[Any], opath: Path, new: Path, key: str
    ) -> list[Any]:
        # Each entry: (name, base index or None, override index or None).
        entries: list[tuple[str, int | None, int | None]] = []
        for i, item in enumerate(base):
            if not any(name == item[key] for name, _b, _o in entries):
                entries.append((item[key], i, None))
        names = [e[0] for e in entries]
        changed: dict[str, int] = {}
        placed: list[tuple[int, str, str]] = []
        for j, item in enumerate(over):
            name = item[key]
            if name in changed:
                first = self.over.value((*opath, changed[name], key)).line
                self.problem(
                    (*opath, j, key),
                    "duplicate-id",
                    f'"{name}" is changed twice in this list (first on line {first}); '
                    "write every change to it in one place",
                )
                continue
            changed[name] = j
            at = names.index(name) if name in names else None
            if "remove" in item:
                if item["remove"] is not True or set(item) - {key, "remove"}:
                    self.problem(
                        (*opath, j, "remove"),
                        "extends-remove",
                        f'to remove "{name}" write only `{key}: {name}` and `remove: true`',
                    )
                elif at is None:
                    self.problem(
                        (*opath, j, key),
                        "extends-remove",
                        f'there is no "{name}" here to remove{did_you_mean(name, names)}',
                    )
                else:
                    entries[at] = (name, None, None)
                continue
            if at is None:
                entries.append((name, None, j))
                names.append(name)
            else:
                entries[at] = (name, entries[at][1], j)
            for how in PLACING:
                if how in item:
                    placed.append((j, name, how))
        self._after = {}  # what was last put after each item of this list
        for j, name, how in placed:
            self._place(entries, names, over, opath, j, name, how)
        out: list[Any] = []
        for _name, b, o in entries:
            if b is None and o is None:
                continue
            path = (*new, len(out))
            if o is None:
                out.append(self.copy(base[b], self.base, (*bpath, b), path))
                continue
            item = {k: v for k, v in over[o].items() if k not in PLACING}
            if b is None:
                out.append(self.copy(item, self.over, (*opath, o), path))
            else:
                out.append(self.merge(base[b], (*bpath, b), item, (*opath, o), path))
        return out

    def _place(
        self,
        entries: list[tuple[str, int | None, int | None]],
        names: list[str],
        over: list[Any],
        opath: Path,
        j: int,
        name: str,
        how: str,
    ) -> None:
        """Move entry `name` next to the one its `insert_after`/`insert_before` names."""
        anchor = over[j][how]
        live = [e[0] for e in entries if e[1] is not None or e[2] is not None]
        if not isinstance(anchor, str) or anchor not in live or anchor == name:
            self.problem(
                (*opath, j, how),
                "extends-place",
                f'there is no "{anchor}" in this list to put "{name}" next to'
                f"{did_you_mean(anchor, [n for n in live if n != name])}",
            )
            return
        if how == "insert_after":  # two items after the same one keep the order they are written
            anchor = self._after.get(anchor, anchor)
            self._after[over[j][how]] = name
        at = names.index(name)
        entry = entries.pop(at)
        names.pop(at)
        target = names.index(anchor) + (1 if how == "insert_after" else 0)
        entries.insert(target, entry)
        names.insert(target, name)


def changes(base: dict[str, Any], over: dict[str, Any]) -> list[str]:
    """What an extending file changes, one line per top-level key, in words."""
    out: list[str] = []
    for k, ov in over.items():
        bv = base.get(k)
        if k not in base:
            out.append(f"{k} (added)")
        elif ov is None:
            out.append(f"{k} (removed)")
        elif isinstance(bv, dict) and isinstance(ov, dict):
            out.append(f"{k}: {', '.join(_keys_in_words(bv, ov))}")
        elif isinstance(bv, list) and isinstance(ov, list) and identity_key(bv, ov):
            out.append(f"{k}: {_items_in_words(bv, ov, identity_key(bv, ov) or 'id')}")
        else:
            out.append(k)
    return out


def _keys_in_words(base: dict[str, Any], over: dict[str, Any]) -> list[str]:
    words = []
    for k, v in over.items():
        if v is None:
            words.append(f"{k} removed")
        elif k not in base:
            words.append(f"{k} added")
        else:
            words.append(k)
    return words


def _items_in_words(base: list[Any], over: list[Any], key: str) -> str:
    known = {i[key] for i in base}
    groups: dict[str, list[str]] = {"changes": [], "adds": [], "removes": []}
    for item in over:
        name = item[key]
        if item.get("remove") is True:
            groups["removes"].append(name)
        elif name in known:
            groups["changes"].append(name)
        else:
            groups["adds"].append(name)
    return "; ".join(f"{verb} {', '.join(names)}" for verb, names in groups.items() if names)
