"""Safe, literal YAML with a line and column for every key and value.

Why not `yaml.safe_load`: it turns `17:00` into 1020 (base 60), `2022-01-31` into a date, `no`
into False, silently keeps the last of two duplicate keys, and expands aliases (a YAML bomb).
Here only JSON-like scalars are resolved, dates stay strings, duplicate keys, aliases and tags
are errors, and every problem is reported with its position instead of raising.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.events import (
    AliasEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceStartEvent,
)
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from .errors import Problem

try:  # libyaml's parser is much faster; the composer below stays ours either way
    from yaml._yaml import CParser as _Parser
except ImportError:  # pragma: no cover - PyYAML without libyaml
    from yaml.parser import Parser as _Parser  # type: ignore[assignment]
    from yaml.reader import Reader as _Reader
    from yaml.scanner import Scanner as _Scanner
else:
    _Reader = _Scanner = None  # type: ignore[assignment,misc]

MAX_BYTES = 2 * 1024 * 1024  # a programme file is tens of kilobytes; refuse before parsing
MAX_DEPTH = 50  # deeper nesting is a mistake or an attack, never a programme
MAX_NODES = 200_000

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class Pos:
    """A 1-based line and column in a file."""

    line: int
    col: int


@dataclass
class Positions:
    """Where each value (and each mapping key) stands in the file, by its path from the root."""

    values: dict[Path, Pos] = field(default_factory=dict)
    keys: dict[Path, Pos] = field(default_factory=dict)

    def value(self, path: Path) -> Pos:
        """The position of the value at `path`, or of its nearest ancestor that has one."""
        p = tuple(path)
        while p:
            if p in self.values:
                return self.values[p]
            p = p[:-1]
        return self.values.get((), Pos(1, 1))

    def key(self, path: Path) -> Pos:
        """The position of the key that holds `path` (falls back to its value)."""
        p = tuple(path)
        while p:
            if p in self.keys:
                return self.keys[p]
            if p in self.values:
                return self.values[p]
            p = p[:-1]
        return self.values.get((), Pos(1, 1))


class _Stop(Exception):
    """Raised inside the composer to abandon a document that cannot be read safely."""


class _Composer(Composer):
    """Builds nodes, refusing aliases, explicit tags and runaway nesting as it goes."""

    def __init__(self) -> None:
        super().__init__()
        self.problems: list[tuple[Any, str, str]] = []
        self._depth = 0
        self._count = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node:
        event = self.peek_event()
        if isinstance(event, AliasEvent):
            self.get_event()
            self.problems.append(
                (
                    event.start_mark,
                    "yaml-alias",
                    f"aliases (*{event.anchor}) are not allowed; write the value out in full",
                )
            )
            return ScalarNode("tag:yaml.org,2002:null", "", event.start_mark, event.end_mark)
        tag = getattr(event, "tag", None)
        if isinstance(event, ScalarEvent | SequenceStartEvent | MappingStartEvent) and tag not in (
            None,
            "!",
        ):
            self.problems.append(
                (
                    event.start_mark,
                    "yaml-tag",
                    f"the tag {tag.replace('tag:yaml.org,2002:', '!!')!r} is not allowed; programme files hold plain text, "
                    "numbers, lists and mappings only",
                )
            )
            event.tag = None
        self._count += 1
        if self._count > MAX_NODES:
            self.problems.append((event.start_mark, "too-large", "the file has too many values"))
            raise _Stop
        self._depth += 1
        if self._depth > MAX_DEPTH:
            self.problems.append(
                (event.start_mark, "too-deep", f"values are nested more than {MAX_DEPTH} deep")
            )
            raise _Stop
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def compose_scalar_node(self, anchor: Any) -> Node:
        # Anchors are harmless alone but only exist to be aliased; keep nothing in the table.
        node = super().compose_scalar_node(None)
        return node

    def compose_sequence_node(self, anchor: Any) -> Node:
        return super().compose_sequence_node(None)

    def compose_mapping_node(self, anchor: Any) -> Node:
        return super().compose_mapping_node(None)


class _NoResolver:
    """Tags every node by its kind only; scalars are typed by `_scalar` below."""

    def descend_resolver(self, *args: Any) -> None:
        pass

    def ascend_resolver(self, *args: Any) -> None:
        pass

    def resolve(self, kind: type, value: Any, implicit: Any) -> str:
        if kind is ScalarNode:
            return "tag:yaml.org,2002:str"
        if kind is SequenceNode:
            return "tag:yaml.org,2002:seq"
        return "tag:yaml.org,2002:map"


if _Reader is None:

    class _Loader(_Composer, _Parser, _NoResolver):  # type: ignore[misc,valid-type]
        # Our composer first in the MRO: libyaml supplies only the events.
        def __init__(self, stream: str) -> None:
            _Parser.__init__(self, stream)
            _Composer.__init__(self)

else:  # pragma: no cover

    class _Loader(_Reader, _Scanner, _Parser, _Composer, _NoResolver):  # type: ignore[no-redef,misc]
        def __init__(self, stream: str) -> None:
            _Reader.__init__(self, stream)
            _Scanner.__init__(self)
            _Parser.__init__(self)
            _Composer.__init__(self)


_INT = re.compile(r"^[-+]?(0|[1-9][0-9]*)$")
_FLOAT = re.compile(r"^[-+]?(0|[1-9][0-9]*)\.[0-9]+$")


def _scalar(node: ScalarNode) -> Any:
    """JSON-like typing: plain true/false/null and decimal numbers; everything else is text."""
    if node.style in ("'", "\"", "|", ">"):  # quoted or block scalars are always text
        return node.value
    v = node.value
    if v in ("", "~", "null", "Null", "NULL"):
        return None
    if v in ("true", "True", "TRUE"):
        return True
    if v in ("false", "False", "FALSE"):
        return False
    if _INT.match(v):
        return int(v)
    if _FLOAT.match(v):
        return float(v)
    return v


def _pos(mark: Any) -> Pos:
    return Pos(mark.line + 1, mark.column + 1)


def _build(
    node: Node, path: Path, positions: Positions, problems: list[Problem], fname: str
) -> Any:
    positions.values[path] = _pos(node.start_mark)
    if isinstance(node, ScalarNode):
        return _scalar(node)
    if isinstance(node, SequenceNode):
        return [
            _build(child, (*path, i), positions, problems, fname)
            for i, child in enumerate(node.value)
        ]
    assert isinstance(node, MappingNode)
    out: dict[str, Any] = {}
    first_line: dict[str, int] = {}
    for knode, vnode in node.value:
        if not isinstance(knode, ScalarNode):
            p = _pos(knode.start_mark)
            problems.append(
                Problem(
                    fname,
                    p.line,
                    p.col,
                    "bad-key",
                    "a key must be plain text, not a list or mapping",
                )
            )
            continue
        key = knode.value
        kpos = _pos(knode.start_mark)
        if key in first_line:
            problems.append(
                Problem(
                    fname,
                    kpos.line,
                    kpos.col,
                    "duplicate-key",
                    f'"{key}" appears twice in the same mapping, on line {first_line[key]} '
                    f"and line {kpos.line}; keep one",
                )
            )
            continue
        first_line[key] = kpos.line
        positions.keys[(*path, key)] = kpos
        out[key] = _build(vnode, (*path, key), positions, problems, fname)
    return out


def _line_col_of_offset(data: bytes, offset: int) -> Pos:
    line = data.count(b"\n", 0, offset) + 1
    start = data.rfind(b"\n", 0, offset) + 1
    return Pos(line, offset - start + 1)


def read_yaml(fname: str, data: bytes) -> tuple[Any, Positions, list[Problem]]:
    """Parse one YAML document safely; return its data, positions and every problem found."""
    positions = Positions()
    positions.values[()] = Pos(1, 1)

    def fail(pos: Pos, code: str, message: str) -> tuple[Any, Positions, list[Problem]]:
        return None, positions, [Problem(fname, pos.line, pos.col, code, message)]

    if len(data) > MAX_BYTES:
        return fail(
            Pos(1, 1),
            "too-large",
            f"the file is {len(data) / 1_048_576:.1f} MB; a programme or form file may be at most "
            f"{MAX_BYTES // 1_048_576} MB",
        )
    if data.startswith(b"\xef\xbb\xbf") or data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return fail(
            Pos(1, 1),
            "byte-order-mark",
            "the file starts with a byte order mark; save it as UTF-8 without a BOM",
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return fail(
            _line_col_of_offset(data, exc.start),
            "not-utf8",
            f"byte 0x{data[exc.start]:02x} is not UTF-8 text; save the file as UTF-8",
        )
    if "\x00" in text:
        return fail(
            _line_col_of_offset(data, data.index(b"\x00")),
            "not-text",
            "the file contains a NUL byte",
        )
    if not text.strip() or all(
        not line.strip() or line.lstrip().startswith("#") for line in text.splitlines()
    ):
        return fail(Pos(1, 1), "empty-file", "the file is empty")

    problems: list[Problem] = []
    loader = None
    try:
        loader = _Loader(text)  # libyaml may already read, and fail, here
        node = loader.get_single_node()
    except _Stop:
        node = None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        pos = _pos(mark) if mark is not None else Pos(1, 1)
        raw = f"{exc.problem or ''}".strip()
        if "'\\t'" in raw or "\\t" in raw or (mark is not None and _char_at(text, pos) == "\t"):
            return fail(pos, "yaml-tab", "a tab character is used for indentation; use spaces")
        if "but found another document" in (exc.context or "") + raw:
            return fail(
                pos,
                "yaml-multiple-documents",
                "the file holds more than one YAML document (a second `---`); keep one",
            )
        context = f" {exc.context}" if exc.context else ""
        return fail(pos, "yaml-syntax", f"this is not valid YAML:{context} {raw}".rstrip())
    except yaml.reader.ReaderError as exc:
        offset = len(text[: exc.position].encode("utf-8")) if isinstance(exc.position, int) else 0
        return fail(
            _line_col_of_offset(data, offset),
            "not-text",
            f"the file contains a control character (U+{exc.character:04X}) that YAML does not allow; delete it",
        )
    except yaml.YAMLError as exc:
        return fail(Pos(1, 1), "yaml-syntax", f"this is not valid YAML: {exc}")
    except RecursionError:
        return fail(Pos(1, 1), "too-deep", f"values are nested more than {MAX_DEPTH} deep")
    finally:
        if loader is not None:
            with contextlib.suppress(Exception):  # nothing to release after a failed parse
                loader.dispose()

    assert loader is not None
    for mark, code, message in loader.problems:
        p = _pos(mark)
        problems.append(Problem(fname, p.line, p.col, code, message))
    if node is None:
        if not problems:
            problems.append(Problem(fname, 1, 1, "empty-file", "the file is empty"))
        return None, positions, problems
    value = _build(node, (), positions, problems, fname)
    return value, positions, problems


def _char_at(text: str, pos: Pos) -> str:
    lines = text.splitlines()
    if 0 < pos.line <= len(lines):
        line = lines[pos.line - 1]
        if 0 < pos.col <= len(line):
            return line[pos.col - 1]
    return ""
