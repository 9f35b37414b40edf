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
from yaml.events import (
    AliasEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
)
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.scanner import Scanner

from engine.errors import Problem


class _PyLoader(Reader, Scanner, Parser):
    """PyYAML's pure-Python parser, for machines whose PyYAML has no libyaml."""

    def __init__(self, stream: str) -> None:
        Reader.__init__(self, stream)
        Scanner.__init__(self)
        Parser.__init__(self)


try:  # libyaml's parser is much faster; the values are built by our code either way
    from yaml._yaml import CParser as _Loader
except ImportError:  # pragma: no cover - PyYAML without libyaml
    _Loader = _PyLoader  # type: ignore[misc, assignment]


MAX_BYTES = 2 * 1024 * 1024  # a programme file is tens of kilobytes; refuse before parsing
MAX_DEPTH = 50  # deeper nesting is a mistake or an attack, never a programme
MAX_NODES = 200_000

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class Pos:
    """A 1-based line and column in a file; `file` is set when it is another file (`extends:`)."""

    line: int
    col: int
    file: str | None = None


@dataclass
class Positions:
    """Where each value (and each mapping key) stands in the file, by its path from the root."""

    values: dict[Path, Pos] = field(default_factory=dict)
    keys: dict[Path, Pos] = field(default_factory=dict)
    #: The text of each other file a `Pos.file` names, for placing a mistake inside a value.
    texts: dict[str, str] = field(default_factory=dict)

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


_INT = re.compile(r"^[-+]?(0|[1-9][0-9]*)$")
_FLOAT = re.compile(r"^[-+]?(0|[1-9][0-9]*)\.[0-9]+$")


def _scalar(event: ScalarEvent) -> Any:
    """JSON-like typing: plain true/false/null and decimal numbers; everything else is text."""
    if event.style in ("'", '"', "|", ">"):  # quoted or block scalars are always text
        return event.value
    v = event.value
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


class _Builder:
    """Turns parser events straight into plain data, noting where every value stands.

    Building from events (rather than composing nodes first) means an alias is never
    followed, so a YAML bomb costs nothing, and every value is touched once.
    """

    def __init__(
        self, loader: Any, fname: str, positions: Positions, lines: list[str] | None = None
    ) -> None:
        self.lines = lines or []
        self.loader = loader
        self.fname = fname
        self.positions = positions
        self.problems: list[Problem] = []
        self.count = 0

    def problem(self, mark: Any, code: str, message: str) -> None:
        p = _pos(mark)
        self.problems.append(Problem(self.fname, p.line, p.col, code, message))

    def _comment_in_text(self, event: ScalarEvent) -> None:
        """Inside `>` or `|` text a `# note` line is text, not a comment: a common slip."""
        indent = None
        for number in range(
            event.start_mark.line + 1, min(event.end_mark.line + 1, len(self.lines))
        ):
            line = self.lines[number]
            stripped = line.lstrip()
            if not stripped:
                continue
            depth = len(line) - len(stripped)
            if indent is None:
                indent = depth
            if depth < indent:
                break  # the text ended; what follows is the file's own comments and keys
            if stripped.startswith("#") and stripped in event.value:
                self.problems.append(
                    Problem(
                        self.fname,
                        number + 1,
                        depth + 1,
                        "comment-in-text",
                        "this line is inside the text above it, so it would be shown to people; "
                        "move the comment above the key, or remove the #",
                    )
                )

    def document(self) -> Any:
        """The single document's value; None for an empty stream."""
        loader = self.loader
        loader.get_event()  # StreamStart
        if loader.check_event(StreamEndEvent):
            return None
        start = loader.get_event()
        assert isinstance(start, DocumentStartEvent)
        value = self.value((), 0)
        loader.get_event()  # DocumentEnd
        if not loader.check_event(StreamEndEvent):
            extra = loader.peek_event()
            self.problem(
                extra.start_mark,
                "yaml-multiple-documents",
                "the file holds more than one YAML document (a second `---`); keep one",
            )
            raise _Stop  # which document was meant is anyone's guess: check neither
        return value

    def value(self, path: Path, depth: int) -> Any:
        event = self.loader.get_event()
        self.positions.values[path] = _pos(event.start_mark)
        self.count += 1
        if self.count > MAX_NODES:
            self.problem(event.start_mark, "too-large", "the file has too many values")
            raise _Stop
        if depth > MAX_DEPTH:
            self.problem(
                event.start_mark, "too-deep", f"values are nested more than {MAX_DEPTH} deep"
            )
            raise _Stop
        if isinstance(event, AliasEvent):
            self.problem(
                event.start_mark,
                "yaml-alias",
                f"aliases (*{event.anchor}) are not allowed; write the value out in full",
            )
            return None
        tag = getattr(event, "tag", None)
        if tag not in (None, "!"):
            shown = tag.replace("tag:yaml.org,2002:", "!!")
            self.problem(
                event.start_mark,
                "yaml-tag",
                f"the tag {shown!r} is not allowed; programme files hold plain text, numbers, "
                "lists and mappings only",
            )
        if isinstance(event, ScalarEvent):
            if event.style in ("|", ">"):
                self._comment_in_text(event)
            return _scalar(event)
        if isinstance(event, SequenceStartEvent):
            items: list[Any] = []
            while not self.loader.check_event(SequenceEndEvent):
                items.append(self.value((*path, len(items)), depth + 1))
            self.loader.get_event()
            return items
        assert isinstance(event, MappingStartEvent)
        out: dict[str, Any] = {}
        first_line: dict[str, int] = {}
        while not self.loader.check_event(MappingEndEvent):
            key_event = self.loader.peek_event()
            if not isinstance(key_event, ScalarEvent):
                self.problem(
                    key_event.start_mark,
                    "bad-key",
                    "a key must be plain text, not a list, mapping or alias",
                )
                self.value(("\0key",), depth + 1)  # read and drop the key
                self.value(("\0key",), depth + 1)  # and its value
                continue
            self.loader.get_event()
            key = str(_scalar(key_event)) if key_event.style not in ("'", '"') else key_event.value
            kpos = _pos(key_event.start_mark)
            if key in first_line:
                self.problem(
                    key_event.start_mark,
                    "duplicate-key",
                    f'"{key}" appears twice in the same mapping, on line {first_line[key]} '
                    f"and line {kpos.line}; keep one",
                )
                self.value(("\0dup",), depth + 1)
                continue
            first_line[key] = kpos.line
            self.positions.keys[(*path, key)] = kpos
            out[key] = self.value((*path, key), depth + 1)
        self.loader.get_event()
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

    loader = None
    builder = None
    try:
        loader = _Loader(text)  # libyaml may already read, and fail, here
        builder = _Builder(loader, fname, positions, text.splitlines())
        value = builder.document()
    except _Stop:
        value = None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        pos = _pos(mark) if mark is not None else Pos(1, 1)
        raw = f"{exc.problem or ''}".strip()
        if "nesting depth" in raw or "nesting depth" in f"{exc.context or ''}":
            # newer libyaml builds refuse deep nesting themselves, before our builder reaches
            # MAX_DEPTH; it is the same mistake, so it gets the same code.
            return fail(pos, "too-deep", f"values are nested more than {MAX_DEPTH} deep")
        if "'\\t'" in raw or "\\t" in raw or (mark is not None and _char_at(text, pos) == "\t"):
            return fail(pos, "yaml-tab", "a tab character is used for indentation; use spaces")
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
    except RecursionError:  # pragma: no cover - MAX_DEPTH stops long before this
        return fail(Pos(1, 1), "too-deep", f"values are nested more than {MAX_DEPTH} deep")
    finally:
        if loader is not None:
            with contextlib.suppress(Exception):  # nothing to release after a failed parse
                loader.dispose()
    problems = builder.problems if builder is not None else []
    for key in [k for k in positions.values if k and k[0] in ("\0key", "\0dup")]:
        del positions.values[key]
    if value is None and not problems:
        problems.append(Problem(fname, 1, 1, "empty-file", "the file is empty"))
    return value, positions, problems


def _char_at(text: str, pos: Pos) -> str:
    lines = text.splitlines()
    if 0 < pos.line <= len(lines):
        line = lines[pos.line - 1]
        if 0 < pos.col <= len(line):
            return line[pos.col - 1]
    return ""
