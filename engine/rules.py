"""The one expression language: CEL, compiled once at load, never `eval`'d.

Expressions read answers by question id as top-level names (`income > 750000`), plus a few
reserved names the engine supplies. The loader uses `names_read` to reject an expression that
reads a question no form of the programme asks.
"""

from __future__ import annotations

import re
import sys
import types
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache

# The `cel` package imports its interactive command line (typer, rich, prompt_toolkit) on
# import, a quarter of a second we never use; a placeholder keeps `commission validate` quick.
sys.modules.setdefault("cel.cli", types.ModuleType("cel.cli"))
import cel  # noqa: E402
from cel import stdlib  # noqa: E402

#: Names the engine supplies to every expression, besides the answers themselves.
RESERVED_NAMES: dict[str, str] = {
    "answers": "every answer given so far, keyed by question id (use `has(answers.x)`)",
    "case": "the case: `case.state`, `case.flags`, `case.records`, `case.entered`",
    "role": "the role the applicant applies in, e.g. `lead` or `partner`",
    "now": "the current time",
    "programme": "the programme's own data, e.g. `programme.funding.total`",
    "value": "inside a question's own `validate` rule: that question's answer",
}

# Functions CEL itself provides (the Rust runtime) and the ones this engine adds below.
_NATIVE = {
    "size", "int", "uint", "double", "string", "bytes", "bool", "timestamp", "duration",
    "matches", "contains", "startsWith", "endsWith", "dyn", "type", "has",
    "getFullYear", "getMonth", "getDate", "getDayOfMonth", "getDayOfWeek", "getDayOfYear",
    "getHours", "getMinutes", "getSeconds", "getMilliseconds",
}  # fmt: skip
_NAMESPACES = {"math", "sets", "lists", "base64", "strings"}
_BOUND = re.compile(r"\.\s*(?:all|exists|exists_one|map|filter)\s*\(\s*([A-Za-z_]\w*)\s*,")
_POSITION = re.compile(r"<input>:(\d+):(\d+): (.*?)(?:\n|$)")


def _utc(value: object) -> object:
    """CEL takes only UTC timestamps: convert any other timezone, however deep."""
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo not in (None, UTC) else value
    if isinstance(value, dict):
        return {k: _utc(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_utc(v) for v in value]
    return value


def _date(text: str) -> datetime:
    """`date("2020-09-01")`: midnight UTC on that day, comparable with date answers."""
    d = date.fromisoformat(text)
    return datetime(d.year, d.month, d.day, tzinfo=UTC)


def _words(text: str) -> int:
    """`words(answer)`: how many words a text answer has, as word limits count them."""
    return len(str(text).split())


CUSTOM_FUNCTIONS = {"date": _date, "words": _words}
_EXTRAS: dict[str, object] = {**stdlib.STDLIB_FUNCTIONS, **CUSTOM_FUNCTIONS}
# Namespaced extras (`math.abs`) are known only under their full name.
KNOWN_FUNCTIONS = _NATIVE | set(CUSTOM_FUNCTIONS) | set(stdlib.STDLIB_FUNCTIONS)


class ExpressionError(ValueError):
    """An expression that does not parse; `offset_line`/`offset_col` point inside it (1-based)."""

    def __init__(self, message: str, line: int = 1, col: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.offset_line = line
        self.offset_col = col


@dataclass(frozen=True)
class Expression:
    """A compiled CEL expression and the names and functions it reads."""

    source: str
    program: cel.Program
    names: frozenset[str]
    functions: frozenset[str]

    def evaluate(self, variables: dict[str, object]) -> object:
        """Run the expression with plain data; raises on a missing name or a type mismatch."""
        # only the extra functions this expression calls: registering all ~50 each time cost more
        # than evaluating
        ctx = cel.Context(variables={k: _utc(v) for k, v in variables.items()})
        for name, function in self.extras.items():
            ctx.add_function(name, function)  # add_function also knows namespaced names (math.abs)
        return self.program.execute(ctx)

    @property
    def extras(self) -> dict[str, object]:
        """The engine's own and the standard-library extensions this expression calls."""
        return {name: _EXTRAS[name] for name in self.functions if name in _EXTRAS}


def _plain(detail: str) -> str:
    """Turn the parser's token lists into a sentence a commissioner can act on."""
    detail = detail.replace("Syntax error: ", "")
    if "<EOF>" in detail:
        return "it ends before it is complete"
    m = re.search(r"(?:mismatched|extraneous) input '(.*?)'", detail)
    if m:
        return f'"{m.group(1)}" is not expected here'
    m = re.search(r"token recognition error at: '(.*?)'", detail)
    if m:
        return f'"{m.group(1)}" is not part of the expression language'
    return re.sub(r"\s*expecting \{.*?\}", "", detail)


@lru_cache(maxsize=8192)  # the same rule is read for every case: parse it once
def compile_expression(source: str) -> Expression:
    """Parse a CEL expression, or raise ExpressionError saying where and what is wrong."""
    try:
        program = cel.compile(source)
    except Exception as exc:  # the binding raises ValueError; keep any parse failure positioned
        text = str(exc)
        m = _POSITION.search(text)
        if m:
            raise ExpressionError(
                f"the expression does not parse: {_plain(m.group(3))}",
                int(m.group(1)),
                int(m.group(2)),  # the parser's columns are already 1-based
            ) from None
        raise ExpressionError(f"the expression does not parse: {text.splitlines()[0]}") from None
    bound = set(_BOUND.findall(source))
    names = {n for n in program.variables() if n not in bound}
    names -= {ns for ns in _NAMESPACES if re.search(rf"\b{ns}\.\w+\s*\(", source)}
    functions = set()
    for f in program.functions():
        if not f[:1].isalpha():
            continue  # operators such as _&&_ and @in
        ns = re.search(rf"\b([A-Za-z_]\w*)\.{re.escape(f)}\s*\(", source)
        functions.add(f"{ns.group(1)}.{f}" if ns and ns.group(1) in _NAMESPACES else f)
    return Expression(source, program, frozenset(names), frozenset(functions))
