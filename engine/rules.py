"""The one expression language: CEL, compiled once at load, never `eval`'d.

Expressions read answers by question id as top-level names (`income > 750000`), plus a few
reserved names the engine supplies. The loader uses `names_read` to reject an expression that
reads a question no form of the programme asks.

Every expression is bounded twice. At load, `check_bounds` reads the text before the compiler (a
Rust library) does and refuses one too long, too deep or too costly to run, with a sentence and a
position. At run time `Expression.evaluate` refuses inputs over the bounds and charges every
reading of a name and every function call to a budget; see `_Guard` for why that is enough.
"""

from __future__ import annotations

import re
import sys
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import lru_cache

# The `cel` package imports its interactive command line (typer, rich, prompt_toolkit) on
# import, a quarter of a second we never use; a placeholder keeps `commission validate` quick.
sys.modules.setdefault("cel.cli", types.ModuleType("cel.cli"))
import cel  # noqa: E402
from cel import stdlib  # noqa: E402

from engine.dates import age, days_between, working_days_between  # noqa: E402
from engine.errors import EngineError  # noqa: E402
from engine.rule_inputs import PRUNED, project, projection  # noqa: E402

#: Names the engine supplies to every expression, besides the answers themselves.
RESERVED_NAMES: dict[str, str] = {
    "answers": "every answer given so far, keyed by question id (use `has(answers.x)`)",
    "assessment": "the assessors' verdict: `assessment.count`, `assessment.mean`, `assessment.scores`, `assessment.pass_mark`, `assessment.passed`, `assessment.recommendations.do_not_recommend`",
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

# The bounds. Each refusal says which one and what to do instead.
MAX_LENGTH = 2_000  # characters of one expression; the longest shipped rule has about 500
MAX_DEPTH = 32  # (), [] and {} inside one another; very deep ones make the compiler panic
MAX_ELEMENTS = 200  # list and map literal elements, all literals of one expression together
MAX_COMPREHENSIONS = 8  # all, exists, exists_one, map and filter calls in one expression
MAX_GROWTH_CALLS = 3  # calls of functions whose result can outgrow their input (replace, join…)
MAX_RANGE = 1_000  # lists.range(n); map and filter copy their result per item: cost is n²
MAX_ITEMS = 1_000  # items in any list (or entries in any map) a rule reads or a function builds
MAX_TEXT = 100_000  # characters in any text a rule reads or a function builds (as answers allow)
MAX_CALL = 1_000_000  # characters and items handed to one function call
MAX_FUEL = 100_000_000  # characters and items one evaluation may read (per reading) and build

# What each load-time refusal says: which bound, and what to do instead.
_SAYS = {
    "length": "the expression is {n:,} characters long; it can be at most {bound:,}: split it into several rules",
    "depth": "the expression has brackets inside brackets more than {bound} deep: write it more simply, or split it into several rules",
    "elements": "the expression's lists have more than {bound} items in all: ask a question with those options, or put the list in the programme's data",
    "nested": "this expression nests comprehensions ({inner} inside {outer}): a rule can look through one list at a time; check the inner list in a rule of its own",
    "many": "the expression looks through lists more than {bound} times (all, exists, exists_one, map, filter): split it into several rules",
    "range": "lists.range({n}) builds more than {bound:,} items: a rule can look through at most {bound:,}",
    "growth": "the expression calls replace, join or quote more than {bound} times, and each call can multiply the length of a text: ask a question whose answer is the text you need, or split the rule",
    "plus": "this expression joins lists with + and then looks through the result: look through each list on its own, e.g. a.exists(x, …) || b.exists(x, …)",
}
_MACROS = {"all", "exists", "exists_one", "map", "filter"}
_GROWTH = {"replace", "join", "quote"}
# An expression's tokens: a string literal is matched by its opening quote and read by hand.
_TOKEN = re.compile(
    r"(?P<space>\s+|//[^\n]*)"
    r"|(?P<quote>[rRbB]{0,2}(?:'''|\"\"\"|'|\"))"
    r"|(?P<number>0[xX][0-9a-fA-F]+[uU]?|\d+(?:\.\d+)?(?:[eE][+-]?\d+)?[uU]?)"
    r"|(?P<name>[A-Za-z_]\w*)"
    r"|(?P<punct>.)",
    re.S,
)


def _date(text: str) -> datetime:
    """`date("2020-09-01")`: midnight UTC on that day, comparable with date answers."""
    d = date.fromisoformat(text)
    return datetime(d.year, d.month, d.day, tzinfo=UTC)


def _words(text: str) -> int:
    """`words(answer)`: how many words a text answer has, as word limits count them."""
    return len(str(text).split())


CUSTOM_FUNCTIONS = {
    "date": _date, "words": _words,
    "days_between": days_between, "working_days_between": working_days_between, "age": age,
}  # fmt: skip
_EXTRAS: dict[str, Callable[..., object]] = {**stdlib.STDLIB_FUNCTIONS, **CUSTOM_FUNCTIONS}
# Namespaced extras (`math.abs`) are known only under their full name.
KNOWN_FUNCTIONS = _NATIVE | set(CUSTOM_FUNCTIONS) | set(stdlib.STDLIB_FUNCTIONS)


class ExpressionError(ValueError):
    """An expression that does not parse; `offset_line`/`offset_col` point inside it (1-based)."""

    code = "bad-expression"  # the problem code the definition checks report it with

    def __init__(self, message: str, line: int = 1, col: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.offset_line = line
        self.offset_col = col


class ExpressionTooCostly(ExpressionError):
    """An expression over a bound that keeps every rule quick to work out."""

    code = "expression-too-costly"


class EvaluationError(EngineError):
    """An expression that could not be worked out for these values; the message says why."""

    def __init__(self, why: str) -> None:
        super().__init__(f"this rule could not be worked out: {why}")


class _Refused(Exception):
    """A value or a function call over a run-time bound (inside `_Guard` only)."""


# What a name or a function gives once the budget is spent: most operations on it fail at once,
# the rest are cheap, and the evaluation is refused whatever it returns.
_POISON = cel.OptionalValue.none()


def _admit(value: object) -> tuple[object, int]:
    """The value with every time in UTC (CEL takes no other), and its size in characters and items."""
    if isinstance(value, str | bytes):
        if len(value) > MAX_TEXT:
            raise _Refused(
                f"it reads a text of {len(value):,} characters; a rule can read at most {MAX_TEXT:,}"
            )
        return value, len(value) + 1
    if isinstance(value, datetime):
        return (value.astimezone(UTC) if value.tzinfo not in (None, UTC) else value), 1
    if isinstance(value, dict | list | tuple):
        if len(value) > MAX_ITEMS:
            raise _Refused(
                f"it reads a list of {len(value):,} items; a rule can look through at most {MAX_ITEMS:,}"
            )
        pairs = [_admit(v) for v in (value.values() if isinstance(value, dict) else value)]
        weight = 1 + sum(w for _v, w in pairs) + (len(value) if isinstance(value, dict) else 0)
        if isinstance(value, dict):
            return dict(zip(value, (v for v, _w in pairs), strict=True)), weight
        return [v for v, _w in pairs], weight
    return value, 1


def _range_first(n: object, *_rest: object) -> None:
    if isinstance(n, int) and n > MAX_RANGE:
        raise _Refused(f"lists.range({n:,}) would build more than {MAX_RANGE:,} items")


def _replace_first(s: object, old: object, new: object, limit: object = -1) -> None:
    # str.replace can multiply a text's length: work out the result's length before building it
    if isinstance(s, str) and isinstance(old, str) and isinstance(new, str):
        count = s.count(old)
        if isinstance(limit, int) and limit >= 0:
            count = min(count, limit)
        if len(s) + count * (len(new) - len(old)) > MAX_TEXT:
            raise _Refused(f"replace would build a text longer than {MAX_TEXT:,} characters")


_FIRST: dict[str, Callable[..., None]] = {"lists.range": _range_first, "replace": _replace_first}


class _Guard:
    """One evaluation's budget: what it has read and built, and why it stopped, if it did.

    Why evaluation cost is bounded (the Rust runtime has no cost limit or timeout, and holds the
    GIL, so no thread or signal can stop it): `check_bounds` keeps comprehensions unnested, at most
    MAX_COMPREHENSIONS of them, never over a list built with `+`; so each walks a list read from
    the inputs, a literal, a function's result or another comprehension's, none longer than
    MAX_ITEMS (map and filter cost the square of that: ~40 ms at 1,000 items) and runs its body,
    at most MAX_LENGTH characters, once per item. Every reading of a name is charged the size of
    its value and every function call its arguments and result; past MAX_FUEL names read as
    nothing and functions return nothing, so the evaluation ends quickly, and is refused.
    """

    def __init__(self) -> None:
        self.fuel = 0
        self.weights: dict[str, int] = {}
        self.refusal = ""

    def admit(self, variables: dict[str, object]) -> dict[str, object]:
        """The variables ready for CEL, each measured; raises EvaluationError for one too large."""
        ready = {}
        for name, value in variables.items():
            try:
                ready[name], self.weights[name] = _admit(value)
            except _Refused as exc:
                raise EvaluationError(f'"{name}" is too large: {exc}') from None
        return ready

    def spend(self, amount: int) -> None:
        """Charge the budget; past it, the evaluation is to be refused."""
        self.fuel += amount
        if self.fuel > MAX_FUEL and not self.refusal:
            self.refusal = f"it reads or builds more than {MAX_FUEL:,} characters and items"

    def resolve(self, name: str) -> object:
        """Charge a reading of a name; None lets CEL read the value it was given."""
        if not self.refusal:
            self.spend(self.weights.get(name, 0))
        return _POISON if self.refusal else None

    def bounded(self, name: str, function: Callable[..., object]) -> Callable[..., object]:
        """The function, charged to the budget and refusing arguments or a result over the bounds."""

        def call(*args: object) -> object:
            if self.refusal:
                return _POISON
            try:
                _, given = _admit(list(args))
                if given > MAX_CALL:
                    raise _Refused(f"{name} was given more than {MAX_CALL:,} characters and items")
                if name in _FIRST:
                    _FIRST[name](*args)
                result = function(*args)
                _, built = _admit(result)
            except _Refused as exc:
                # returning, not raising: an exception here is printed by the binding
                self.refusal = str(exc)
                return _POISON
            self.spend(given + built)
            return result

        return call


@dataclass(frozen=True)
class Expression:
    """A compiled CEL expression and the names and functions it reads."""

    source: str
    program: cel.Program
    names: frozenset[str]
    functions: frozenset[str]
    reads: dict[str, dict[str, object]] = field(default_factory=dict)  # name: the parts it reads

    def evaluate(self, variables: dict[str, object]) -> object:
        """Run the expression with plain data; raises on a missing name or a type mismatch.

        Raises EvaluationError (an EngineError) when the values or the work are over the bounds
        or the Rust runtime fails (a panic is a BaseException, which callers' handlers miss).
        """
        guard = _Guard()
        # only the parts it reads: converting a value for CEL costs by its size
        variables = {k: project(v, self.reads[k]) if k in self.reads else v for k, v in variables.items()}  # fmt: skip
        ctx = cel.Context(variables=guard.admit(variables))
        ctx.set_variable_resolver(guard.resolve)
        # only the extra functions this expression calls: registering all ~50 each time cost more
        # than evaluating
        for name, function in self.extras.items():
            ctx.add_function(name, guard.bounded(name, function))  # knows namespaced names too
        try:
            result = self.program.execute(ctx)
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:
            if guard.refusal:
                raise EvaluationError(guard.refusal) from None
            if isinstance(exc, Exception):
                raise  # a type mismatch or a missing field: callers say what is wrong
            raise EvaluationError(f"the expression language failed ({_first_line(exc)})") from None
        if guard.refusal:
            raise EvaluationError(guard.refusal)
        return result

    @property
    def extras(self) -> dict[str, Callable[..., object]]:
        """The engine's own and the standard-library extensions this expression calls."""
        return {name: _EXTRAS[name] for name in self.functions if name in _EXTRAS}


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().split("\n", 1)[0][:200] or type(exc).__name__


def _tokens(source: str) -> list[tuple[str, str, int]]:
    """The expression's tokens as (kind, text, offset), a string literal as one token."""
    out = []
    i, end = 0, len(source)
    while i < end:
        m = _TOKEN.match(source, i)
        assert m is not None  # `punct` matches any character
        kind, i = m.lastgroup, m.end()
        if kind == "quote":
            quote = m.group().lstrip("rRbB")
            raw = "r" in m.group()[: -len(quote)].lower()
            while i < end and not source.startswith(quote, i):
                if len(quote) == 1 and source[i] == "\n":
                    break  # a one-quote string ends at the line's end, as the parser reads it
                i += 2 if source[i] == "\\" and not raw else 1
            i = min(i + len(quote), end)
            out.append(("string", source[m.start() : i], m.start()))
        elif kind != "space":
            out.append((str(kind), m.group(), m.start()))
    return out


def _at(source: str, offset: int, says: str, **values: object) -> ExpressionTooCostly:
    """A refusal pointing at `offset` in the expression, saying `_SAYS[says]`."""
    line = source.count("\n", 0, offset) + 1
    col = offset - source.rfind("\n", 0, offset)
    return ExpressionTooCostly(_SAYS[says].format(**values), line, col)


def _receiver(tokens: list[tuple[str, str, int]], end: int, match: dict[int, int]) -> int:
    """Where the chain ending at token `end` starts: `a.b[0]`, `f(x)`, `(a + b)`, `"text"`."""
    j = start = end
    while j >= 0:
        kind = tokens[j][0]
        if kind == "punct" and j in match:  # a closing bracket: the group, then what it follows
            start = j = match[j]
            j -= 1
            continue
        if kind in ("name", "number", "string"):
            start, j = j, j - 1
            if j >= 0 and tokens[j][1] == ".":
                j -= 1
                continue
        break
    return start


def check_bounds(source: str) -> None:
    """Refuse an expression too long, too deep or too costly to run, before the compiler reads it."""
    if len(source) > MAX_LENGTH:
        raise _at(source, 0, "length", n=len(source), bound=MAX_LENGTH)
    tokens = _tokens(source)
    match: dict[int, int] = {}  # closing bracket's token → its opening bracket's
    stack: list[int] = []
    commas: dict[int, int] = {}
    elements = 0
    for k, (kind, text, at) in enumerate(tokens):
        if kind != "punct":
            continue
        if text in "([{":
            stack.append(k)
            if len(stack) > MAX_DEPTH:
                raise _at(source, at, "depth", bound=MAX_DEPTH)
        elif text == "," and stack:
            commas[stack[-1]] = commas.get(stack[-1], 0) + 1
        elif text in ")]}" and stack:
            k0 = match[k] = stack.pop()
            before = tokens[k0 - 1] if k0 else ("punct", "", 0)
            index = before[1] in (")", "]") or (
                before[0] in ("name", "string") and before[1] != "in"
            )
            if tokens[k0][1] in "[{" and not index and k > k0 + 1:
                elements += commas.get(k0, 0) + 1
                if elements > MAX_ELEMENTS:
                    raise _at(source, tokens[k0][2], "elements", bound=MAX_ELEMENTS)
    _check_calls(source, tokens, match)


def _check_calls(source: str, tokens: list[tuple[str, str, int]], match: dict[int, int]) -> None:
    """Refuse nested or too many comprehensions, a large lists.range and too many growth calls."""
    opens = {o: c for c, o in match.items()}
    macros = {
        k
        for k in range(2, len(tokens))
        if tokens[k][1] == "(" and tokens[k - 1][1] in _MACROS and tokens[k - 2][1] == "."
    }
    inside: list[int] = []  # the comprehensions whose brackets are open
    seen = growth = 0
    for k, (kind, text, at) in enumerate(tokens):
        while inside and k > opens.get(inside[-1], len(tokens)):
            inside.pop()
        if k in macros:
            name, seen = tokens[k - 1], seen + 1
            if inside:
                outer = tokens[inside[-1] - 1][1]
                raise _at(source, name[2], "nested", inner=name[1], outer=outer)
            if seen > MAX_COMPREHENSIONS:
                raise _at(source, name[2], "many", bound=MAX_COMPREHENSIONS)
            _check_receiver(source, tokens, k - 3, match, macros)
            inside.append(k)
        if kind != "name" or k + 1 >= len(tokens) or tokens[k + 1][1] != "(":
            continue
        if text == "range" and k >= 2 and tokens[k - 2][1] == "lists" and k + 3 < len(tokens):
            n, close = tokens[k + 2], tokens[k + 3][1]
            if n[0] == "number" and close == ")" and _int(n[1]) > MAX_RANGE:
                raise _at(source, n[2], "range", n=n[1], bound=MAX_RANGE)
        if text in _GROWTH:
            growth += 1
            if growth > MAX_GROWTH_CALLS:
                raise _at(source, at, "growth", bound=MAX_GROWTH_CALLS)


def _check_receiver(
    source: str,
    tokens: list[tuple[str, str, int]],
    end: int,
    match: dict[int, int],
    macros: set[int],
) -> None:
    """Refuse a comprehension over a list built with `+`: that list can be any length."""
    if end < 0 or match.get(end) in macros:
        return  # a comprehension over another's result: that one's list was checked
    start = _receiver(tokens, end, match)
    for kind, text, at in tokens[start : end + 1]:
        if kind == "punct" and text == "+":
            raise _at(source, at, "plus")


def _int(text: str) -> int:
    try:
        return int(text.rstrip("uU"), 16 if text[:2] in ("0x", "0X") else 10)
    except ValueError:
        return 0  # a double: the run-time bound refuses it if it is too large


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
    check_bounds(source)
    try:
        program = cel.compile(source)
        variables, called = program.variables(), program.functions()
    except (KeyboardInterrupt, SystemExit):
        raise
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
    except BaseException as exc:  # a Rust panic (pyo3's PanicException is no Exception)
        raise ExpressionError(
            f"the expression could not be read ({_first_line(exc)}): write it more simply"
        ) from None
    bound = set(_BOUND.findall(source))
    names = {n for n in variables if n not in bound}
    names -= {ns for ns in _NAMESPACES if re.search(rf"\b{ns}\.\w+\s*\(", source)}
    functions = set()
    for f in called:
        if not f[:1].isalpha():
            continue  # operators such as _&&_ and @in
        ns = re.search(rf"\b([A-Za-z_]\w*)\.{re.escape(f)}\s*\(", source)
        functions.add(f"{ns.group(1)}.{f}" if ns and ns.group(1) in _NAMESPACES else f)
    reads = {n: tree for n, depth in PRUNED.items() if n in names and (tree := projection(source, n, depth)) is not None}  # fmt: skip
    return Expression(source, program, frozenset(names), frozenset(functions), reads)


def names_of(source: str) -> set[str]:
    """The names an expression reads; none if it is refused (a programme stored before a bound)."""
    try:
        return set(compile_expression(source).names)
    except ExpressionError:
        return set()


_ANSWER_READ = re.compile(r"(?<![\w.])answers\s*\.\s*([A-Za-z_]\w*)")
_ANSWER_ASKED = re.compile(r"\bhas\s*\(\s*answers\s*\.\s*([A-Za-z_]\w*)\s*\)")


def answers_read(source: str) -> set[str]:
    """The questions an expression reads as `answers.x` without asking `has(answers.x)`."""
    # such a rule over a question not answered yet (one a newer version added) cannot be worked
    # out: the caller says which question to answer rather than reading it as false
    return set(_ANSWER_READ.findall(source)) - set(_ANSWER_ASKED.findall(source))
