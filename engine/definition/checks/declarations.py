"""A misspelt declaration: one problem where the name is declared, not one wherever it is used.

`- id: delivring` under a workflow's states, with `delivering` named in 30 places, would otherwise
be 30 problems, each at a place that is right. So when a name is declared but never used, and a
near miss of it is used but never declared, in two places or more, the uses are reported as one
problem at the declaration. One use is left where it is: then either may be the misspelt one, and
the use is the more likely (the declaration is checked by every other use of it).

The names are workflows, states, roles, transitions (by trigger), milestones and cadences: those
a programme declares itself, checked with `ref`.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

from engine.definition.checks.base import _d, _l
from engine.definition.checks.index import ProgrammeIndex
from engine.definition.yaml_source import Path
from engine.errors import Problem

#: (code, the names a reference was checked against) → name → where it is declared (path, key?)
Declared = dict[tuple[str, frozenset[str]], dict[str, tuple[Path, bool]]]


@dataclass
class _Use:
    code: str
    known: frozenset[str]
    name: str
    problem: Problem | None  # None when the name is known
    what: str
    owner: str


class DeclarationChecks(ProgrammeIndex):
    """Remembers every checked reference, and folds the uses of a misspelt declaration into one."""

    _uses: list[_Use] | None = None

    def ref(
        self,
        path: Path,
        name: Any,
        known: set[str] | dict[str, Any],
        code: str,
        what: str,
        owner: str = "",
    ) -> bool:
        """As `BaseChecker.ref`, remembering the use for `_misspelt_declarations`."""
        before = len(self.problems)
        ok = super().ref(path, name, known, code, what, owner)
        if isinstance(name, str) and (ok or len(self.problems) == before + 1):
            if self._uses is None:
                self._uses = []
            problem = None if ok else self.problems[-1]
            self._uses.append(_Use(code, frozenset(known), name, problem, what, owner))
        return ok

    def _misspelt_declarations(self) -> None:
        """Fold the uses of each misspelt declaration into one problem at the declaration."""
        declared = self._declared()
        used: set[tuple[str, Path]] = set()
        unknown: dict[tuple[str, str, Path, bool], dict[str, list[_Use]]] = {}
        for use in self._uses or []:
            names = declared.get((use.code, use.known))
            if names is None:
                continue
            if use.problem is None:
                if use.name in names:
                    used.add((use.code, names[use.name][0]))
                continue
            near = difflib.get_close_matches(use.name, sorted(names), n=1, cutoff=0.6)
            if near:
                where, key = names[near[0]]
                group = unknown.setdefault((use.code, near[0], where, key), {})
                group.setdefault(use.name, []).append(use)
        for (code, name, where, key), by_name in unknown.items():
            if (code, where) in used:
                continue  # the declaration is used as it is spelt: the uses are the mistakes
            meant, uses = max(by_name.items(), key=lambda item: len(item[1]))
            if len(uses) < 2:
                continue
            folded = {id(u.problem) for u in uses}
            self.problems = [p for p in self.problems if id(p) not in folded]
            first = min(u.problem.line for u in uses if u.problem is not None)
            what, owner = uses[0].what, f" {uses[0].owner}" if uses[0].owner else ""
            self.err(
                where,
                code,
                f'there is no {what} "{meant}"{owner}, though it is named {len(uses)} times '
                f'(first on line {first}), and {what} "{name}" here is named nowhere else; '
                f'did you mean "{meant}"?',
                key=key,
            )

    def _declared(self) -> Declared:
        """Where each name a reference may be checked against is declared, by code and name set."""
        d = _d(self.data)
        out: Declared = {}

        def add(code: str, names: dict[str, tuple[Path, bool]]) -> None:
            out.setdefault((code, frozenset(names)), names)

        add("unknown-workflow", {w: (("workflows", w), True) for w in self.workflows})
        add("unknown-milestone", _first(d.get("timeline"), ("timeline",), "id"))
        add("unknown-review", _first(d.get("reviews"), ("reviews",), "id"))
        every_role: dict[str, tuple[Path, bool]] = {}
        every_trigger: dict[str, tuple[Path, bool]] = {}
        for wid, wf in self.workflows.items():
            base: Path = ("workflows", wid)
            add("unknown-state", _first(wf.get("states"), (*base, "states"), "id"))
            roles = _first(wf.get("roles"), (*base, "roles"), "id")
            triggers = _first(wf.get("transitions"), (*base, "transitions"), "trigger")
            add("unknown-role", roles)
            add("unknown-trigger", triggers)
            every_role = {**roles, **every_role}
            every_trigger = {**triggers, **every_trigger}
        add("unknown-role", every_role)
        add("unknown-trigger", every_trigger)
        return out


def _first(items: Any, path: Path, key: str) -> dict[str, tuple[Path, bool]]:
    """Each name in a list of mappings, with where it is first declared."""
    out: dict[str, tuple[Path, bool]] = {}
    for i, item in enumerate(_l(items)):
        name = _d(item).get(key)
        if isinstance(name, str) and name not in out:
            out[name] = ((*path, i, key), False)
    return out
