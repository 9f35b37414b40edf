"""A KPI's CEL filters over the items it counts: which parts of an item an expression reads, and
a memo of what it gave for values seen before (returns often answer alike)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from engine.rule_inputs import project as _project
from engine.rules import compile_expression


class Filter:
    """A KPI's expression, compiled once, knowing which parts of `answers` and `case` it reads."""

    def __init__(self, source: str) -> None:
        self.expr = compile_expression(source)
        # answers first: an item lacking one is ruled out before anything is built for it
        reserved = {"case", "answers", "now", "role", "programme"}
        self.names = tuple(sorted(self.expr.names, key=lambda n: (n in reserved, n)))
        # the parts of each it reads, as compiling worked them out (None: all, or not read)
        self.answers = self.expr.reads.get("answers")
        self.case = self.expr.reads.get("case")
        # what it gave for the values it read: returns often answer alike (a count, a choice)
        self.seen: dict[tuple[Any, ...], Any] | None = {}
        self.asked = self.found = 0

    @property
    def reads_answers(self) -> bool:
        """Whether it may read an item's answers or its case's records (not only the case's
        state, dates, flags and other facts, `now`, `role` or `programme`)."""
        others = set(self.names) - {"case", "now", "role", "programme"}
        return bool(others) or (
            "case" in self.names and (self.case is None or "records" in self.case)
        )

    def holds(self, item: Any, at: datetime, programme: dict[str, Any]) -> bool:
        """Whether the expression holds for the item (its `data`, `case` and `role`); an item lacking
        what it reads does not count."""
        return bool(self._gives(item, at, programme))

    def number(self, item: Any, at: datetime, programme: dict[str, Any]) -> float | None:
        """What the expression gives for the item, if it is a number (`value:` of a KPI), else None."""
        found = self._gives(item, at, programme)
        return float(found) if type(found) in (int, float) else None

    def _gives(self, item: Any, at: datetime, programme: dict[str, Any]) -> Any:
        """What the expression gives for the item: None when the item lacks what it reads or the
        expression cannot be worked out for it."""
        data = item.data
        scope: dict[str, Any] = {}
        for name in self.names:
            if name in data:
                scope[name] = data[name]
            elif name == "case":
                scope[name] = _project(item.case, self.case)
            elif name == "answers":
                scope[name] = _project(data, self.answers)
            elif name == "now":
                scope[name] = at
            elif name == "role":
                scope[name] = item.role
            elif name == "programme":
                scope[name] = programme
            else:
                return None
        seen = self.seen
        key = None if seen is None else _key(scope, programme)
        if seen is not None and key is not None:
            self.asked += 1
            if key in seen:
                self.found += 1
                return seen[key]
        try:
            result = self.expr.evaluate(scope)
        except Exception:
            result = None
        if seen is not None and key is not None:
            seen[key] = result
            if self.asked >= 256 and self.found * 4 < self.asked:
                self.seen = None  # what it reads seldom repeats (a case, a date): stop comparing
        return result


def _key(scope: dict[str, Any], programme: dict[str, Any]) -> tuple[Any, ...] | None:
    """The values an expression reads, as a key to what it gave; None if they cannot be one."""
    key: list[Any] = []
    for value in scope.values():
        kind = type(value)
        if kind is str or kind is int:
            key.append((kind, value))
        elif value is programme:
            key.append(_PROGRAMME)  # the same for every item
        else:
            try:
                key.append(_frozen(value))
            except TypeError:
                return None
    return tuple(key)


_PROGRAMME = object()


def _frozen(value: Any) -> Any:
    """A hashable stand-in for a value, equal to another's only where CEL sees the two alike.

    Types are kept apart (Python's 1 == 1.0 == True, CEL's are not) and floats go by their text
    (-0.0 and 0.0 print differently); anything else raises TypeError.
    """
    kind = type(value)
    if kind is float:
        return (kind, repr(value))
    if kind in (str, int, bool, datetime) or value is None:
        return (kind, value)
    if kind is list:
        return (kind, tuple(_frozen(v) for v in value))
    if isinstance(value, dict):  # keys are text (JSON's), so sorting never compares values
        return (dict, tuple(sorted((k, _frozen(v)) for k, v in value.items())))
    raise TypeError(kind.__name__)
