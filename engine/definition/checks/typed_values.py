"""Strings the schema types as durations, dates, date-times or expressions, wherever they are.

`typed_values` walks data beside its schema (the loader uses it too, to normalise those values);
`TypedValueChecks` parses each one, and checks that an expression compiles and reads only the
questions of the programme's forms.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from engine.dates import DateError, parse_duration, parse_when
from engine.definition.checks.expression_types import answer_types
from engine.definition.checks.index import ProgrammeIndex
from engine.definition.schema_check import load_schema
from engine.definition.yaml_source import Path


def typed_values(
    data: Any, schema: dict[str, Any], root: dict[str, Any], path: Path = ()
) -> Iterator[tuple[Path, str, Any]]:
    """Walk data beside its schema, yielding (path, $defs name, value) for typed strings."""
    seen_ref = None
    while "$ref" in schema:
        seen_ref = schema["$ref"].rsplit("/", 1)[-1]
        target = root
        for part in schema["$ref"].lstrip("#/").split("/"):
            target = target[part]
        schema = target
        if seen_ref in ("duration", "date", "datetime", "expression"):
            yield path, seen_ref, data
            return
    if isinstance(data, dict):
        props = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        for k, v in data.items():
            sub = props.get(k) if k in props else (extra if isinstance(extra, dict) else None)
            if sub is not None:
                yield from typed_values(v, sub, root, (*path, k))
    elif isinstance(data, list) and isinstance(schema.get("items"), dict):
        for i, v in enumerate(data):
            yield from typed_values(v, schema["items"], root, (*path, i))


class TypedValueChecks(ProgrammeIndex):
    """Durations, dates and expressions, wherever the schema says they are."""

    def _typed_values(self) -> None:
        root = load_schema("programme")
        names = self.question_names
        self.answer_types = answer_types(
            q for f in self.forms.values() for q in f.questions.values()
        )
        for path, kind, value in typed_values(self.data, root, root):
            if not isinstance(value, str):
                continue
            try:
                if kind == "duration":
                    parse_duration(value)
                elif kind == "date":
                    parse_when(value, self.tz, allow_time=False)
                elif kind == "datetime":
                    parse_when(value, self.tz)
            except DateError as exc:
                code = "bad-duration" if kind == "duration" else "bad-date"
                self.err(path, code, str(exc))
            if kind == "expression":
                self.check_expression(path, value, names, "the expression")
