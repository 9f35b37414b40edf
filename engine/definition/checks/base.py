"""What every checker shares: reporting a problem where it is, and checking names and expressions.

Each check reads the (possibly schema-invalid) data defensively, so a file with ten mistakes
gets ten messages rather than one message and a crash. Names are checked against what the file
declares, with a "did you mean" for near misses.
"""

from __future__ import annotations

from typing import Any

from engine.definition.checks.expression_types import Answer, place, type_problems
from engine.definition.schema_check import did_you_mean
from engine.definition.yaml_source import Path, Positions
from engine.errors import Problem
from engine.rules import KNOWN_FUNCTIONS, RESERVED_NAMES, ExpressionError, compile_expression


def _d(x: Any) -> dict[str, Any]:
    return x if isinstance(x, dict) else {}


def _l(x: Any) -> list[Any]:
    return x if isinstance(x, list) else []


def _s(x: Any) -> str | None:
    return x if isinstance(x, str) else None


def _num(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


class BaseChecker:
    """Collects the problems found in one file, each at the position of the value at fault."""

    def __init__(self, fname: str, data: Any, positions: Positions) -> None:
        self.fname = fname
        self.data = data
        self.positions = positions
        self.problems: list[Problem] = []

    def err(self, path: Path, code: str, message: str, *, key: bool = False) -> None:
        """Report a problem at the value (or, with `key`, the key) at `path`."""
        pos = self.positions.key(path) if key else self.positions.value(path)
        self.problems.append(Problem(pos.file or self.fname, pos.line, pos.col, code, message))

    #: Question id → its answer's type, for the type check of expressions (None: no type check).
    answer_types: dict[str, Answer] | None = None

    def check_expression(
        self, path: Path, source: Any, names: set[str], what: str, *, own: Any = None
    ) -> None:
        """Parse an expression and check every name and function it reads, and their types.

        `own` is the question whose `validate` rule this is: `value` has its type.
        """
        if not isinstance(source, str) or not source.strip():
            return
        try:
            expr = compile_expression(source)
        except ExpressionError as exc:
            pos = self.positions.value(path)
            line, col = pos.line, pos.col
            raw_line = self._line_text(pos.line, pos.file)
            # A one-line plain or quoted scalar: point inside it at the exact character.
            if exc.offset_line == 1 and raw_line is not None and "\n" not in source:
                start = raw_line.find(source, pos.col - 1)
                if start >= 0:
                    col = start + exc.offset_col
            self.problems.append(Problem(pos.file or self.fname, line, col, exc.code, exc.message))
            return
        for name in sorted(expr.names - names - set(RESERVED_NAMES)):
            self.err(
                path,
                "unknown-question",
                f'{what} reads "{name}", which is not a question of any form it can see'
                f"{did_you_mean(name, names | set(RESERVED_NAMES))}",
            )
        for fn in sorted(expr.functions - KNOWN_FUNCTIONS):
            self.err(
                path,
                "unknown-function",
                f'{what} calls "{fn}", which the expression language does not have'
                f"{did_you_mean(fn, KNOWN_FUNCTIONS)}",
            )
        if self.answer_types is not None:
            pos = self.positions.value(path)
            text = self._text(pos.file)
            lines = text.splitlines() if text is not None else []
            for offset, message in type_problems(source, self.answer_types, own):
                line, col = place(lines, pos.line, pos.col, source, offset)
                self.problems.append(
                    Problem(pos.file or self.fname, line, col, "expression-type", message)
                )

    _lines: list[str] | None = None
    source_text: str | None = None

    def _text(self, file: str | None) -> str | None:
        # A value written in the file this one `extends:` is placed within that file's text.
        return self.positions.texts.get(file) if file else self.source_text

    def _line_text(self, line: int, file: str | None = None) -> str | None:
        if file:
            other = (self._text(file) or "").splitlines()
            return other[line - 1] if 0 < line <= len(other) else None
        if self.source_text is None:
            return None
        if self._lines is None:
            self._lines = self.source_text.splitlines()
        return self._lines[line - 1] if 0 < line <= len(self._lines) else None

    def line_of(self, path: Path, here: Path) -> str:
        """`line N` of the value at `path`, naming its file when it is not the file of `here`."""
        pos, at = self.positions.value(path), self.positions.value(here)
        return f"line {pos.line}" + (f" of {pos.file or self.fname}" if pos.file != at.file else "")

    def exactly_one(
        self, path: Path, item: dict[str, Any], keys: tuple[str, ...], code: str, what: str
    ) -> str | None:
        """The one key of `keys` that `item` has; reports none or several and returns None."""
        given = [k for k in keys if k in item]
        if len(given) == 1:
            return given[0]
        which = "none of them" if not given else " and ".join(given)
        self.err(
            path,
            code,
            f"{what} needs exactly one of {', '.join(keys[:-1])} or {keys[-1]}; it has {which}",
        )
        return None

    def unique_ids(
        self, items: Any, path: Path, key: str = "id", what: str = "id"
    ) -> dict[str, int]:
        """Report repeated ids in a list of mappings; return id → index of the first."""
        seen: dict[str, int] = {}
        for i, item in enumerate(_l(items)):
            ident = _s(_d(item).get(key))
            if ident is None:
                continue
            if ident in seen:
                first = self.line_of((*path, seen[ident], key), (*path, i, key))
                self.err(
                    (*path, i, key),
                    "duplicate-id",
                    f'{what} "{ident}" is used twice (first on {first}); each must be different',
                )
            else:
                seen[ident] = i
        return seen

    def ref(
        self,
        path: Path,
        name: Any,
        known: set[str] | dict[str, Any],
        code: str,
        what: str,
        owner: str = "",
    ) -> bool:
        """Check that `name` is one of `known`; report it with a suggestion if not."""
        if not isinstance(name, str):
            return False  # not a name at all: the schema check has said so already
        if name in known:
            return True
        owner = f" {owner}" if owner else ""
        listing = (
            "" if len(known) > 12 or not known else f" (there are: {', '.join(sorted(known))})"
        )
        hint = did_you_mean(name, set(known)) or listing
        self.err(path, code, f'there is no {what} "{name}"{owner}{hint}')
        return False
