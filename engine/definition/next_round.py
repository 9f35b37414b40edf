"""`commission new-round`: next year's round as a small file that `extends:` this year's.

The new file names its base, its own id, the name with the next year (when the name has a
year), and every date the base gives moved on a year, written as changes by id. Nothing else
is copied: what is not written is as the base has it.
"""

from __future__ import annotations

import copy
import json
import os
import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from engine.definition.checks import typed_values
from engine.definition.extending import identity_key
from engine.definition.schema_check import load_schema

_YEAR = re.compile(r"\b((?:19|20)\d\d)(?:([/–-])(\d\d))?\b")
_DAY = re.compile(r"^(\d{4})-(\d\d)-(\d\d)(T.*)?$")
_MONTH = re.compile(r"^(\d{4})(-\d\d)?$")
_PLAIN = re.compile(r"^[A-Za-z0-9_.][A-Za-z0-9_ .:/()£'–-]*$")
_NOT_TEXT = re.compile(r"^([-+]?\d+(\.\d+)?|true|false|null|~|yes|no|on|off)$", re.I)


def next_year_name(name: str) -> str:
    """`Grants 2022` → `Grants 2023`, `Fund 2022/23` → `Fund 2023/24`; no year, no change."""

    def bump(m: re.Match[str]) -> str:
        year = str(int(m.group(1)) + 1)
        if m.group(3) is None:
            return year
        return f"{year}{m.group(2)}{(int(m.group(3)) + 1) % 100:02d}"

    return _YEAR.sub(bump, name)


def a_year_on(value: Any, *, week: bool = False) -> Any:
    """A date, day, month or year written as text, a year later (a week's Monday stays a Monday)."""
    if not isinstance(value, str):
        return value
    if m := _DAY.match(value):
        y, mo, d = int(m.group(1)), int(m.group(2)), int(m.group(3))
        try:
            day = date(y, mo, d)
        except ValueError:
            return value  # not a real day: the checks say so; leave it as written
        if week:
            moved = day + timedelta(weeks=52)
        else:
            moved = date(y + 1, mo, min(d, 28) if (mo, d) == (2, 29) else d)
        return moved.isoformat() + (m.group(4) or "")
    if m := _MONTH.match(value):
        return f"{int(m.group(1)) + 1}{m.group(2) or ''}"
    return value


def moved_a_year(data: dict[str, Any]) -> dict[str, Any]:
    """A copy of a programme with every date the schema knows, and each milestone's, a year on."""
    out = copy.deepcopy(data)
    root = load_schema("programme")
    for path, kind, value in list(typed_values(out, root, root)):
        if kind in ("date", "datetime"):
            _set(out, path, a_year_on(value))
    for m in out.get("timeline") or []:
        if isinstance(m, dict):
            for key in ("month", "week_of"):
                if key in m:
                    m[key] = a_year_on(m[key], week=key == "week_of")
    return out


def _set(data: Any, path: tuple[str | int, ...], value: Any) -> None:
    for step in path[:-1]:
        data = data[step]
    data[path[-1]] = value


def changes_between(base: Any, new: Any) -> Any:
    """What an extending file must say to turn `base` into `new` (None when nothing changes)."""
    if base == new:
        return None
    if isinstance(base, dict) and isinstance(new, dict) and set(base) == set(new):
        out = {}
        for k, v in new.items():
            change = changes_between(base[k], v)
            if change is not None:
                out[k] = change
        return out
    if isinstance(base, list) and isinstance(new, list) and len(base) == len(new):
        key = identity_key(base, new)
        if key and all(b[key] == n[key] for b, n in zip(base, new, strict=True)):
            items = []
            for b, n in zip(base, new, strict=True):
                change = changes_between(b, n)
                if change is not None:
                    items.append({key: n[key], **change})
            return items
    return new


def round_file(base_path: Path, out: Path, base: dict[str, Any], new_id: str) -> str:
    """The text of the new round's file: a comment on what to change, then the changes."""
    target = os.path.relpath(base_path.resolve(), out.resolve().parent).replace(os.sep, "/")
    name = str(base.get("name", ""))
    doc: dict[str, Any] = {"extends": target, "id": new_id}
    if next_year_name(name) != name:
        doc["name"] = next_year_name(name)
    moved = changes_between(base, moved_a_year(base)) or {}
    doc.update(moved)
    header = [
        f"# The next round of {name or base.get('id')}.",
        f"# It builds on {target}: anything not written here is as it is there.",
        "# Every date below is the base's, a year on: check each one (the day of the week moves),",
        "# and dates written in text or rules, which are not moved. Write only what changes (the",
        "# budget, a question added…); docs/next-round.md shows how. Then run:",
        f"#   commission validate {out.as_posix()}",
    ]
    return "\n".join([*header, *_emit(doc, 0)]) + "\n"


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "~"
    if isinstance(value, int | float):
        return str(value)
    text = str(value)
    if _PLAIN.match(text) and not _NOT_TEXT.match(text) and ": " not in text:
        return text
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a YAML double-quoted one


def _flow(value: Any) -> str | None:
    """The value on one line, when it is simple enough to read there."""
    if isinstance(value, dict):
        parts = [f"{k}: {_flow(v)}" for k, v in value.items()]
        if any(_flow(v) is None or isinstance(v, dict) for v in value.values()):
            return None
        return "{" + ", ".join(parts) + "}"
    if isinstance(value, list):
        if any(isinstance(v, dict | list) for v in value):
            return None
        return "[" + ", ".join(_flow_item(v) for v in value) + "]"
    return _flow_item(value)


def _flow_item(value: Any) -> str:
    text = _scalar(value)
    if text[0] != '"' and any(c in text for c in ",[]{}"):
        return json.dumps(text, ensure_ascii=False)
    return text


def _emit(value: dict[str, Any], indent: int) -> list[str]:
    pad = " " * indent
    lines: list[str] = []
    for k, v in value.items():
        if isinstance(v, dict):
            lines.append(f"{pad}{k}:")
            lines.extend(_emit(v, indent + 2))
        elif isinstance(v, list) and any(isinstance(i, dict) for i in v):
            lines.append(f"{pad}{k}:")
            for item in v:
                flow = _flow(item)
                if flow is not None and len(flow) + indent < 96:
                    lines.append(f"{pad}  - {flow}")
                else:
                    inner = _emit(item, indent + 4)
                    lines.append(f"{pad}  - {inner[0].lstrip()}")
                    lines.extend(inner[1:])
        elif isinstance(v, list):
            lines.append(f"{pad}{k}: {_flow(v)}")
        else:
            lines.append(f"{pad}{k}: {_scalar(v)}")
    return lines
