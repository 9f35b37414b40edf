"""JSON Schema validation whose errors read like a linter's: positioned, coded, plain words.

jsonschema's own messages ("Additional properties are not allowed ('lable' was unexpected)")
are turned into sentences with the line and column of the offending key or value, and a
"did you mean" where a name is close to an allowed one.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterator
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Any

import jsonschema_rs

from engine.definition.yaml_source import Path, Positions
from engine.errors import Problem

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError


@lru_cache(maxsize=4)
def load_schema(name: str) -> dict[str, Any]:
    """The packaged JSON Schema `name` (`programme` or `form`)."""
    text = (
        resources.files("engine.definition.schemas")
        .joinpath(f"{name}.schema.json")
        .read_text("utf-8")
    )
    return json.loads(text)


@lru_cache(maxsize=4)
def _validator(name: str) -> Draft202012Validator:
    # Imported here: only files with mistakes pay jsonschema's import and validation time.
    import jsonschema
    from jsonschema import Draft202012Validator

    schema = load_schema(name)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


@lru_cache(maxsize=4)
def _fast(name: str) -> Any:
    # jsonschema-rs answers "is it valid?" in microseconds; jsonschema explains the failures.
    return jsonschema_rs.validator_for(load_schema(name), validate_formats=True)


def did_you_mean(word: object, choices: list[str] | set[str]) -> str:
    """`; did you mean "x"?` when `word` is close to one of `choices`, else an empty string."""
    close = difflib.get_close_matches(str(word), sorted(choices), n=1, cutoff=0.6)
    return f'; did you mean "{close[0]}"?' if close else ""


def describe(path: Path, data: Any) -> str:
    """Name a place in the file for a person: `workflows › application › transition "submit"`."""
    parts: list[str] = []
    node = data
    for step in path:
        if isinstance(step, int):
            item = node[step] if isinstance(node, list) and step < len(node) else None
            name = None
            if isinstance(item, dict):
                for k in ("id", "trigger", "form", "value"):
                    if isinstance(item.get(k), str):
                        name = item[k]
                        break
            parts.append(f'"{name}"' if name else f"item {step + 1}")
        else:
            parts.append(str(step))
        try:
            node = node[step]
        except (KeyError, IndexError, TypeError):
            node = None
    return " › ".join(parts) if parts else "the file"


_TYPE_WORDS = {
    "object": "a mapping of keys to values",
    "array": "a list",
    "string": "text",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "null": "empty",
}


def _type_of(value: Any) -> str:
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int):
        return "a whole number"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    return "a mapping"


def _resolve(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    seen = 0
    while "$ref" in schema and seen < 10:
        ref = schema["$ref"]
        target = root
        for part in ref.lstrip("#/").split("/"):
            target = target[part]
        merged = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
        schema = merged
        seen += 1
    return schema


def schema_problems(kind: str, fname: str, data: Any, positions: Positions) -> list[Problem]:
    """Every way `data` breaks the `kind` schema, as positioned problems."""
    if _fast(kind).is_valid(data):
        return []
    root = load_schema(kind)
    out: list[Problem] = []
    for error in _validator(kind).iter_errors(data):
        out.extend(_explain(error, fname, data, positions, root))
    return out


def _explain(
    error: ValidationError, fname: str, data: Any, positions: Positions, root: dict[str, Any]
) -> Iterator[Problem]:
    path: Path = tuple(error.absolute_path)
    where = describe(path, data)
    last = path[-1] if path else None
    key = f'"{last}"' if isinstance(last, str) else where
    schema = _resolve(error.schema if isinstance(error.schema, dict) else {}, root)
    v = error.validator
    value = error.instance

    def at_value(code: str, message: str, p: Path = path) -> Problem:
        pos = positions.value(p)
        return Problem(pos.file or fname, pos.line, pos.col, code, message)

    def at_key(code: str, message: str, p: Path = path) -> Problem:
        pos = positions.key(p)
        return Problem(pos.file or fname, pos.line, pos.col, code, message)

    if v == "additionalProperties" and isinstance(value, dict):
        allowed = set(schema.get("properties", {}))
        for extra in value:
            if extra in allowed:
                continue
            hint = did_you_mean(extra, allowed)
            if not hint:
                hint = f"; allowed here: {', '.join(sorted(allowed))}" if allowed else ""
            inside = f"in {where}" if path else "at the top of the file"
            yield at_key("unknown-key", f'"{extra}" is not a key {inside}{hint}', (*path, extra))
    elif v == "required" and isinstance(value, dict):
        for need in error.validator_value:
            if need in value:
                continue
            what = schema.get("properties", {}).get(need, {}).get("description", "")
            what = f" ({what[0].lower()}{what[1:].rstrip('.')})" if what else ""
            inside = where if path else "the file"
            yield at_key("missing-key", f'{inside} needs "{need}"{what}')
    elif v == "type":
        want = error.validator_value
        wants = [want] if isinstance(want, str) else list(want)
        words = " or ".join(_TYPE_WORDS.get(w, w) for w in wants)
        yield at_value("wrong-type", f"{key} should be {words}, not {_type_of(value)}")
    elif v == "enum":
        options = [str(o) for o in error.validator_value]
        hint = did_you_mean(value, options)
        yield at_value(
            "bad-value",
            f'{key} cannot be "{value}"; choose one of: {", ".join(options)}{hint}',
        )
    elif v == "pattern":
        if schema.get("pattern") == "^[a-z][a-z0-9_]*$":
            yield at_value(
                "bad-id",
                f'"{value}" is not a valid short name for {key}: use lower case letters, '
                "digits and underscores, starting with a letter",
            )
        else:
            yield at_value(
                "bad-format",
                f'{key} "{value}" is not in the right form: {schema.get("description", "")}',
            )
    elif v == "propertyNames":
        bad = value if not isinstance(value, dict) else error.instance
        yield at_key(
            "bad-id",
            f'"{bad}" is not a valid short name: use lower case letters, digits and underscores, '
            "starting with a letter",
            (*path, bad) if isinstance(bad, str) else path,
        )
    elif v in ("minimum", "exclusiveMinimum"):
        bound = error.validator_value
        more = "more than" if v == "exclusiveMinimum" else "at least"
        yield at_value("out-of-range", f"{key} is {value}; it must be {more} {bound}")
    elif v in ("maximum", "exclusiveMaximum"):
        bound = error.validator_value
        less = "less than" if v == "exclusiveMaximum" else "at most"
        yield at_value("out-of-range", f"{key} is {value}; it must be {less} {bound}")
    elif v in ("minItems", "minProperties") or v == "minLength":
        yield at_value("empty", f"{key} must not be empty")
    elif v == "maxLength":
        yield at_value("too-long", f"{key} is longer than {error.validator_value} characters")
    elif v == "format":
        yield at_value("bad-format", f'{key} "{value}" is not a valid {error.validator_value}')
    elif v in ("anyOf", "oneOf"):
        what = schema.get("description", "")
        yield at_value(
            "bad-value", f"{key} is not valid: {what}" if what else f"{key} is not valid"
        )
    elif v == "const":
        yield at_value("bad-value", f'{key} must be "{error.validator_value}"')
    else:  # pragma: no cover - every keyword the schemas use is handled above
        yield at_value("schema", error.message)
