"""Which parts of an expression's inputs it reads, and only those parts of a value.

Converting a value for the expression language costs by its size: a case with its records and
answers took ~470 µs to hand to a rule that reads one date, ~27 µs pruned to that date. Both the
engine's rules (engine.rules) and the KPI filters (engine.reporting.kpi_filters) prune with these.
"""

from __future__ import annotations

import re
from typing import Any

_STEP = re.compile(r"\s*\.\s*([A-Za-z_]\w*)(\s*\()?")

# What is pruned, and how deep: a case's facts are two levels (`case.entered.referred`,
# `case.records.sessions`), answers one (`answers.income`).
PRUNED = {"case": 2, "answers": 1}


def projection(source: str, name: str, depth: int) -> dict[str, Any] | None:
    """The fields of `name` an expression reads, `depth` levels deep; None if it may read all.

    A field path ends where a method is called on it (`case.state.startsWith(…)`) or the depth
    runs out; any other use of the name (`size(answers)`, `case["state"]`) needs all of it.
    """
    tree: dict[str, Any] = {}
    # a field of that name on something else (`r.case`), or the name in a text, is counted too:
    # reading more is harmless; reading less never happens
    for m in re.finditer(rf"(?<!\w){name}\b", source):
        path: list[str] = []
        pos = m.end()
        while len(path) < depth and (step := _STEP.match(source, pos)) and not step.group(2):
            path.append(step.group(1))
            pos = step.end()
        if not path:
            return None
        node = tree
        for key in path[:-1]:
            if key in node and node[key] is None:
                break  # already read whole
            node = node.setdefault(key, {})
        else:
            node[path[-1]] = None
    return tree


def project(value: Any, tree: dict[str, Any] | None) -> Any:
    """Only the parts of `value` named in `tree` (all of it for None or a value not a mapping)."""
    if tree is None or not isinstance(value, dict):
        return value
    return {k: project(value[k], sub) for k, sub in tree.items() if k in value}
