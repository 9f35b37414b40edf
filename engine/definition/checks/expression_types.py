"""The types of an expression's parts, checked against the questions' types before anyone answers.

Why: CEL never converts one kind of value into another, so `income < "250000"` compiles, passes
every name check, and then fails for every applicant ("No such overload"). This module reads the
CEL the engine uses into types, in one recursive-descent pass over `rules`' tokens: an answer has
its question's type, a literal its own, an operation the type CEL's runtime gives. It reports only
what the runtime certainly refuses: both sides known, and no overload of the operation takes them
(each rule below was checked against `engine.rules.compile_expression`). Anything not known for
certain (`case`, `programme`, a function's result, a name two forms ask differently) is `dyn`, and
passes. Equality (`==`, `!=`) never fails at run time, so it is never reported here.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

# the tokenizer the bounds check uses: one reading of strings and comments for both checks
from engine.rules import _NAMESPACES, _tokens


@dataclass(frozen=True)
class Type:
    """A CEL type: its kind, a list's items or a map's values, and a group item's known fields."""

    kind: str  # int uint double string bytes bool timestamp duration null list map dyn
    item: Type | None = None
    fields: tuple[tuple[str, Type], ...] = ()

    def field(self, name: str) -> Type:
        """The type of `x.name` for a map `x`: the field's when known, else the values'."""
        return dict(self.fields).get(name, self.item or DYN)


DYN, INT, UINT, DOUBLE = Type("dyn"), Type("int"), Type("uint"), Type("double")
STRING, BYTES, BOOL, NULL = Type("string"), Type("bytes"), Type("bool"), Type("null")
TIMESTAMP, DURATION = Type("timestamp"), Type("duration")

# What each question type's answer is when an expression reads it: `forms.answers.check_value`
# then `cel_value` (which this layer may not import; tests/test_expression_types.py compares them).
ANSWER_TYPES: dict[str, Type] = {
    **dict.fromkeys(("text", "textarea", "email", "phone", "postcode", "radios", "select"), STRING),
    **dict.fromkeys(("number", "money", "scale"), INT),
    **dict.fromkeys(("decimal", "percent"), DOUBLE),
    "date": TIMESTAMP,
    "yesno": BOOL,
    "checkboxes": Type("list", STRING),
    "file": Type("map", DYN),
}
#: Question types whose answers are numbers, so a KPI can add them up.
NUMERIC_QUESTIONS = frozenset(k for k, t in ANSWER_TYPES.items() if t in (INT, DOUBLE))

Answer = tuple[str, Type]  # a question's type as written (`money`) and its answer's CEL type


def question_type(q: Any) -> Type:
    """The CEL type of a question's answer; a group is a list of items with its questions' fields."""
    q = q if isinstance(q, dict) else {}
    if q.get("type") == "group":
        subs = [s for s in q.get("questions") or [] if isinstance(s, dict)]
        fields = {str(s["id"]): question_type(s) for s in subs if isinstance(s.get("id"), str)}
        return Type("list", Type("map", DYN, tuple(sorted(fields.items()))))
    return ANSWER_TYPES.get(str(q.get("type")), DYN)


def answer_types(questions: Iterable[Any]) -> dict[str, Answer]:
    """Question id → its answer's type; an id asked as two different types is `dyn`."""
    out: dict[str, Answer] = {}
    for q in questions:
        if isinstance(q, dict) and isinstance(q.get("id"), str):
            mine = (str(q.get("type")), question_type(q))
            out[q["id"]] = mine if out.get(q["id"], mine) == mine else ("", DYN)
    return out


NUMERIC = {"int", "uint", "double"}
ORDERED = {"string", "bytes", "bool", "timestamp", "duration"}  # each ordered against itself
_RELATIONS = {"<", "<=", ">", ">=", "==", "!=", "in"}
_TWO = {"==", "!=", "<=", ">=", "&&", "||"}  # operators the tokenizer reads as two characters
_MACROS = {"all", "exists", "exists_one", "map", "filter"}
_VERB = {"+": "added", "-": "subtracted", "*": "multiplied", "/": "divided", "%": "divided"}
_WORDS = {
    "int": "a whole number", "uint": "a whole number", "double": "a decimal number",
    "string": "text", "bytes": "bytes", "bool": "true or false", "timestamp": "a date",
    "duration": "a length of time", "null": "null", "list": "a list", "map": "a set of named values",
}  # fmt: skip
# Functions whose result type is known, the kinds of value they are called on (None: any; the
# runtime has no overload for any other) and those kinds in words.
_ON_TEXT = ({"string"}, "text")
_ON_DATE = ({"timestamp"}, "a date")
_ON_TIME = ({"timestamp", "duration"}, "a date or a length of time")
_ANY: tuple[None, str] = (None, "")
_FUNCTIONS: dict[str, tuple[Type, tuple[set[str] | None, str]]] = {
    "size": (INT, ({"string", "bytes", "list", "map"}, "a text or a list")),
    **dict.fromkeys(("startsWith", "endsWith", "matches"), (BOOL, _ON_TEXT)),
    "contains": (BOOL, ({"string", "list", "map"}, "a text or a list")),
    **dict.fromkeys(("getFullYear", "getMonth", "getDate", "getDayOfMonth", "getDayOfWeek",
                     "getDayOfYear"), (INT, _ON_DATE)),
    **dict.fromkeys(("getHours", "getMinutes", "getSeconds", "getMilliseconds"), (INT, _ON_TIME)),
    "int": (INT, _ANY), "uint": (UINT, _ANY), "double": (DOUBLE, _ANY), "string": (STRING, _ANY),
    "bool": (BOOL, _ANY), "bytes": (BYTES, _ANY), "timestamp": (TIMESTAMP, _ANY),
    "duration": (DURATION, _ANY), "date": (TIMESTAMP, _ANY), "words": (INT, _ANY),
    "days_between": (INT, _ANY), "working_days_between": (INT, _ANY), "age": (INT, _ANY),
}  # fmt: skip


class _Unsure(Exception):
    """Syntax this reader does not follow: it then claims nothing about the expression."""


@dataclass(frozen=True)
class _Val:
    """A part of the expression: its type, where it is, and whether it is a literal or an answer."""

    type: Type
    start: int
    end: int
    origin: str = ""  # "literal", a question type such as "money", or "" for anything else


def _ordered(a: str, b: str) -> bool:
    """Whether `<` takes values of kinds `a` and `b`: numbers of any kind, or two of one kind."""
    return "dyn" in (a, b) or (a in NUMERIC and b in NUMERIC) or (a == b and a in ORDERED)


def _arith(op: str, a: str, b: str) -> str | None:
    """The kind `a op b` gives at run time, or None when no overload takes it."""
    if op == "+" and a == b and a in NUMERIC | {"string", "bytes", "list", "duration"}:
        return a
    if op == "-" and a == b and a in NUMERIC | {"duration"}:
        return a
    if a == b and a in (NUMERIC if op in "*/" else {"int", "uint"} if op == "%" else ()):
        return a
    if op in "+-" and a == "timestamp" and b == "duration":
        return "timestamp"
    return "duration" if op == "-" and a == b == "timestamp" else None


class _Reader:
    """Reads one expression, inferring types as it goes and noting each certain mismatch."""

    def __init__(self, source: str, names: dict[str, Answer], reserved: dict[str, Answer]) -> None:
        self.src = source
        self.toks = _joined(_tokens(source))
        self.k = 0
        self.names = names
        self.reserved = reserved  # `case` and `programme` are in neither: they have no fixed shape
        self.bound: list[tuple[str, Type]] = []  # comprehension variables, innermost last
        self.found: list[tuple[int, str]] = []

    # -- tokens ------------------------------------------------------------------------------
    def peek(self, ahead: int = 0) -> str:
        k = self.k + ahead
        return self.toks[k][1] if k < len(self.toks) else ""

    def take(self, text: str | None = None) -> tuple[str, str, int]:
        if self.k >= len(self.toks) or (text is not None and self.toks[self.k][1] != text):
            raise _Unsure
        self.k += 1
        return self.toks[self.k - 1]

    def end(self) -> int:
        _kind, text, at = self.toks[self.k - 1]
        return at + len(text)

    def flag(self, at: int, message: str, start: int | None = None) -> _Val:
        """Note a mismatch at `at`; the part it spoils (from `start`) is then `dyn`."""
        self.found.append((at, message))
        return _Val(DYN, at if start is None else start, self.end())

    # -- grammar, loosest first ---------------------------------------------------------------
    def expr(self) -> _Val:
        c = self.logic("||")
        if self.peek() != "?":
            return c
        self.take()
        a = self.expr()
        self.take(":")
        b = self.expr()
        self.need_bool(c, "a condition before ?")
        return _Val(a.type if a.type == b.type else DYN, c.start, b.end)

    def logic(self, op: str) -> _Val:
        v = self.logic("&&") if op == "||" else self.relation()
        while self.peek() == op:
            self.take()
            w = self.logic("&&") if op == "||" else self.relation()
            self.need_bool(v, f"each side of {op}")
            self.need_bool(w, f"each side of {op}")
            v = _Val(BOOL, v.start, w.end)
        return v

    def relation(self) -> _Val:
        v = self.binary(0)
        while self.peek() in _RELATIONS:
            op, at = self.peek(), self.take()[2]
            w = self.binary(0)
            a, b = v.type.kind, w.type.kind
            if op == "in" and b not in ("list", "map", "dyn"):
                inside = f'; to look inside a text, write {self.text(w)}.contains(…)' if b == "string" else ""  # fmt: skip
                self.flag(at, f'`in` looks for an item in a list, and {self.says(w)} is not one: write e.g. x in ["a", "b"]{inside}')  # fmt: skip
            elif op not in ("==", "!=", "in") and not _ordered(a, b):
                self.flag(at, f"{self.says(v)} cannot be compared with {self.says(w)}, so it cannot be worked out: {self.hint(op, v, w)}")  # fmt: skip
            v = _Val(BOOL, v.start, w.end)
        return v

    def binary(self, level: int) -> _Val:
        ops = ("+-", "*/%")[level]
        v = self.binary(1) if level == 0 else self.unary()
        while self.peek() and self.peek() in ops and self.toks[self.k][0] == "punct":
            op, at = self.peek(), self.take()[2]
            w = self.binary(1) if level == 0 else self.unary()
            a, b = v.type.kind, w.type.kind
            kind = "dyn" if "dyn" in (a, b) else _arith(op, a, b)
            if kind is None:
                self.flag(at, f"{self.says(v)} and {self.says(w)} cannot be {_VERB[op]}, so it cannot be worked out: {self.hint(op, v, w)}")  # fmt: skip
                kind = "dyn"
            same = v.type.item if v.type.item == w.type.item else DYN
            v = _Val(Type(kind, same) if kind == "list" else Type(kind), v.start, w.end)
        return v

    def unary(self) -> _Val:
        if self.peek() == "!":
            at = self.take()[2]
            v = self.unary()
            self.need_bool(v, "what follows !")
            return _Val(BOOL, at, v.end)
        if self.peek() == "-":
            at = self.take()[2]
            v = self.unary()
            if v.type.kind not in ("int", "double", "bool", "dyn"):
                return self.flag(
                    at, f"{self.says(v)} cannot be made negative: only a number can", at
                )
            return _Val(v.type, at, v.end, v.origin if v.origin == "literal" else "")
        return self.member()

    def member(self) -> _Val:
        v = self.primary()
        while self.peek() in (".", "["):
            if self.take()[1] == "[":
                i = self.expr()
                self.take("]")
                v = self.index(v, i)
                continue
            kind, name, at = self.take()
            if kind != "name":
                raise _Unsure
            if self.peek() == "(":
                v = self.call(name, at, v)
            elif v.type.kind in ("map", "dyn"):
                v = _Val(v.type.field(name), v.start, self.end())
            else:
                v = self.flag(at, f"{self.says(v)} has no fields, so .{name} cannot be read: only a group's item, an uploaded file, `answers` and `case` have fields", v.start)  # fmt: skip
        return v

    def primary(self) -> _Val:
        kind, text, at = self.take()
        if text == "(":
            v = self.expr()
            self.take(")")
            return _Val(v.type, at, self.end(), v.origin)
        if text in ("[", "{"):
            return self.literal_collection(text, at)
        if kind == "number":
            double = "." in text or ("e" in text.lower() and not text.lower().startswith("0x"))
            t = DOUBLE if double else UINT if text[-1] in "uU" else INT
            return _Val(t, at, self.end(), "literal")
        if kind == "string":
            prefix = text[: len(text) - len(text.lstrip("rRbB"))].lower()
            return _Val(BYTES if "b" in prefix else STRING, at, self.end(), "literal")
        if text == "." and self.k < len(self.toks) and self.toks[self.k][0] == "number":
            self.take()  # `.5`, a decimal without its leading 0
            return _Val(DOUBLE, at, self.end(), "literal")
        if kind != "name":
            if text == ".":  # a name from the root (`.income`): read it as the name
                return self.primary()
            raise _Unsure
        if text in ("true", "false", "null"):
            return _Val(NULL if text == "null" else BOOL, at, self.end(), "literal")
        if text in _NAMESPACES and self.peek() == "." and self.peek(2) == "(":
            self.take()
            return self.call(f"{text}.{self.take()[1]}", at, None)
        if self.peek() == "(":
            return self.call(text, at, None)
        if self.peek() == "{":
            raise _Unsure  # a message literal (`Type{field: …}`): none is used here
        for name, t in reversed(self.bound):
            if name == text:
                return _Val(t, at, self.end())
        if text in ("case", "programme"):
            return _Val(DYN, at, self.end())
        origin, t = self.reserved.get(text) or self.names.get(text, ("", DYN))
        return _Val(t, at, self.end(), origin)

    def literal_collection(self, bracket: str, at: int) -> _Val:
        close, items = "]" if bracket == "[" else "}", []
        while self.peek() != close:
            items.append(self.expr())
            if bracket == "{":
                self.take(":")
                self.expr()
            if self.peek() != close:
                self.take(",")
        self.take(close)
        if bracket == "{":
            return _Val(Type("map", DYN), at, self.end(), "literal")
        same = items[0].type if items and all(i.type == items[0].type for i in items) else DYN
        return _Val(Type("list", same), at, self.end(), "literal")

    # -- calls, indexes and comprehensions --------------------------------------------------------
    def call(self, name: str, at: int, target: _Val | None) -> _Val:
        self.take("(")
        if target is not None and name in _MACROS and self.peek(1) == "," and self.toks[self.k][0] == "name":  # fmt: skip
            return self.comprehension(name, at, target)
        args = [] if target is None else [target]
        while self.peek() != ")":
            args.append(self.expr())
            if self.peek() != ")":
                self.take(",")
        self.take(")")
        start = args[0].start if target is not None else at
        if name == "has":
            return _Val(BOOL, start, self.end())
        result, (on, words) = _FUNCTIONS.get(name, (DYN, _ANY))
        first = args[0].type.kind if args else "dyn"
        if on is not None and first not in on | {"dyn"}:
            fix = f"; compare the number itself, e.g. {self.text(args[0])} > 0" if name == "size" and first in NUMERIC else ""  # fmt: skip
            return self.flag(at, f"{name}() works on {words}, and {self.says(args[0])} is not{fix}", start)  # fmt: skip
        text_arg = name in ("startsWith", "endsWith", "matches") or (name, first) == ("contains", "string")  # fmt: skip
        if text_arg and len(args) == 2 and args[1].type.kind not in ("string", "dyn"):
            return self.flag(args[1].start, f"{name}() looks for a text, and {self.says(args[1])} is not one: write it in quotes")  # fmt: skip
        if name in ("sum", "min", "max", "first", "last") and args and args[0].type.kind == "list":
            result = args[0].type.item or DYN
        return _Val(result, start, self.end())

    def comprehension(self, name: str, at: int, target: _Val) -> _Val:
        var = self.take()[1]
        self.take(",")
        kind = target.type.kind
        if kind not in ("list", "map", "dyn"):
            self.flag(at, f"{name}() looks through a list, and {self.says(target)} is not one: use it on a checkboxes or group answer, or a list such as [\"a\", \"b\"]")  # fmt: skip
        item = STRING if kind == "map" else (target.type.item or DYN)  # a map's keys are text
        self.bound.append((var, item))
        body = self.expr()
        if name == "map" and self.peek() == ",":  # map(x, condition, value): only items meeting it
            self.take()
            self.need_bool(body, "the condition of map()")
            body = self.expr()
        self.bound.pop()
        self.take(")")
        if name == "map":
            return _Val(Type("list", body.type), target.start, self.end())
        self.need_bool(body, f"the condition of {name}()")
        t = Type("list", item) if name == "filter" else BOOL
        return _Val(t, target.start, self.end())

    def index(self, v: _Val, i: _Val) -> _Val:
        kind, end = v.type.kind, self.end()
        if kind == "list" and i.type.kind not in ("int", "uint", "dyn"):
            return self.flag(i.start, f"a list's items are numbered from 0, so {self.says(i)} cannot pick one: write e.g. x[0]")  # fmt: skip
        if kind in ("list", "map"):
            return _Val(v.type.item or DYN, v.start, end)
        if kind != "dyn":
            return self.flag(i.start, f"[…] picks an item from a list or a named value from a set of them, and {self.says(v)} is neither")  # fmt: skip
        return _Val(DYN, v.start, end)

    # -- what to say ----------------------------------------------------------------------------
    def need_bool(self, v: _Val, where: str) -> None:
        kind, t = v.type.kind, self.text(v)
        if kind not in ("bool", "dyn"):
            example = {"string": f'{t} == "…"', "list": f"size({t}) > 0", "map": f"size({t}) > 0",
                       "timestamp": f"{t} <= now"}.get(kind, f"{t} > 0")  # fmt: skip
            self.flag(v.start, f"{where} must be true or false, and {self.says(v)} is not: write a comparison, e.g. {example}")  # fmt: skip

    def text(self, v: _Val) -> str:
        t = " ".join(self.src[v.start : v.end].split())
        return t if len(t) <= 40 else t[:39] + "…"

    def says(self, v: _Val) -> str:
        words = _WORDS.get(v.type.kind, "a value")
        if v.origin and v.origin != "literal":
            return f"{self.text(v)} (a {v.origin} answer: {words})"
        return f"{self.text(v)} ({words})"

    def hint(self, op: str, a: _Val, b: _Val) -> str:
        for x, y in ((a, b), (b, a)):
            lit = _string_literal(self.text(x)) if x.origin == "literal" else None
            if lit is not None and y.type.kind in NUMERIC and re.fullmatch(r"-?\d+(\.\d+)?", lit):
                return f"write {lit} without quotes"
            if lit is not None and y.type.kind == "timestamp":
                return f'write a date as date("{lit}")' if re.fullmatch(r"\d{4}-\d\d-\d\d", lit) else 'write a date as date("2020-09-01")'  # fmt: skip
            if x.type.kind == "timestamp" and y.type.kind in NUMERIC and op in _VERB:
                return f'add a length of time to a date, e.g. {self.text(x)} + duration("24h")'
            if x.type.kind == "timestamp" and y.type.kind in NUMERIC:
                return f'compare a date with a date, e.g. date("2020-09-01"), or a part of it with a number, e.g. {self.text(x)}.getFullYear() >= 2020'  # fmt: skip
            if x.type.kind == "bool" and op in _VERB:
                return f"a yes/no answer is true or false, not a number: count it as ({self.text(x)} ? 1 : 0)"  # fmt: skip
            if x.type.kind == "string" and y.type.kind in NUMERIC and op == "+":
                return f"to join a number to a text, turn it into text with string({self.text(y)})"
        kinds = {a.type.kind, b.type.kind}
        if op == "%" and kinds <= NUMERIC:
            return "a remainder (%) is worked out only between whole numbers: convert with int(…)"
        if kinds == {"int", "double"} and op in _VERB:
            whole = a if a.type == INT else b
            fix = f"{self.text(whole)}.0" if whole.origin == "literal" and self.text(whole).isdigit() else f"double({self.text(whole)})"  # fmt: skip
            return f"CEL does not mix whole and decimal numbers in arithmetic: write {fix} for {self.text(whole)}"
        if "string" in kinds and op in _VERB:
            return "text can only be joined to text, with +"
        return "CEL never turns one kind of value into another: compare and combine like with like"


def _joined(tokens: list[tuple[str, str, int]]) -> list[tuple[str, str, int]]:
    """The tokens with two-character operators (`==`, `&&`…) as one, as CEL reads them."""
    out: list[tuple[str, str, int]] = []
    for kind, text, at in tokens:
        if out and kind == "punct" and out[-1][0] == "punct" and out[-1][2] + 1 == at:
            pair = out[-1][1] + text
            if pair in _TWO:
                out[-1] = ("punct", pair, out[-1][2])
                continue
        out.append((kind, text, at))
    return out


def _string_literal(text: str) -> str | None:
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return None
    return value if isinstance(value, str) else None


def type_problems(
    source: str, names: dict[str, Answer], value: Any = None
) -> list[tuple[int, str]]:
    """Each certain type mismatch in an expression, as (offset in the source, sentence)."""
    # the names the engine supplies come before answers, as they do when rules are worked out
    reserved: dict[str, Answer] = {"now": ("", TIMESTAMP), "role": ("", STRING), "value": ("", DYN)}
    if "answers" in source:  # built only when read: sorting every answer costs more than a rule
        reserved["answers"] = ("", Type("map", DYN, tuple(sorted((n, t) for n, (_k, t) in names.items()))))  # fmt: skip
    if isinstance(value, dict):  # inside a question's own validate rule
        reserved["value"] = (str(value.get("type")), question_type(value))
    reader = _Reader(source, names, reserved)
    try:
        reader.expr()
        if reader.k != len(reader.toks):
            raise _Unsure
    except (_Unsure, RecursionError):
        return []  # syntax not followed here: better to say nothing than something wrong
    return reader.found


def place(lines: list[str], line: int, col: int, source: str, offset: int) -> tuple[int, int]:
    """Where `source[offset]` is in the file, the value starting at line:col (both 1-based).

    Walks the file from the value's start matching the expression's non-space characters in
    order, so it works for plain, quoted (escapes and quotes are stepped over) and block scalars.
    """
    wanted = [c for c in source if not c.isspace()]
    target = len([c for c in source[:offset] if not c.isspace()])
    j = 0
    for li in range(line - 1, min(len(lines), line + source.count("\n") + 200)):
        for ci in range(col - 1 if li == line - 1 else 0, len(lines[li])):
            c = lines[li][ci]
            if c.isspace() or j >= len(wanted) or c != wanted[j]:
                continue  # a space, or a quote, escape or block indicator YAML adds
            if j == target:
                return li + 1, ci + 1
            j += 1
    return line, col
