"""Checks inside one form file, and the index of its questions that programme checks read."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from engine.definition.checks.base import BaseChecker, _d, _l, _s
from engine.definition.checks.expression_types import answer_types
from engine.definition.yaml_source import Path, Positions
from engine.errors import Problem
from engine.rules import ExpressionError, compile_expression


@dataclass
class FormInfo:
    """What the checks need to know of a form file: its questions and where it is."""

    id: str
    fname: str
    data: Any
    positions: Positions
    questions: dict[str, dict[str, Any]] = field(default_factory=dict)


def walk_questions(
    questions: list[Any], path: Path
) -> Iterator[tuple[Path, dict[str, Any], list[str]]]:
    """Every question (groups' inner questions too) with its path and enclosing group ids."""

    def rec(
        qs: list[Any], p: Path, groups: list[str]
    ) -> Iterator[tuple[Path, dict[str, Any], list[str]]]:
        for i, q in enumerate(_l(qs)):
            if not isinstance(q, dict):
                continue
            yield (*p, i), q, groups
            if q.get("type") == "group":
                yield from rec(
                    _l(q.get("questions")), (*p, i, "questions"), [*groups, str(q.get("id"))]
                )

    yield from rec(questions, path, [])


def form_info(fid: str, fname: str, data: Any, positions: Positions) -> FormInfo:
    """Index a form's questions by id (top-level and group questions alike)."""
    info = FormInfo(fid, fname, data, positions)
    for pi, page in enumerate(_l(_d(data).get("pages"))):
        for _p, q, _g in walk_questions(_l(_d(page).get("questions")), ("pages", pi, "questions")):
            qid = _s(q.get("id"))
            if qid and qid not in info.questions:
                info.questions[qid] = q
    return info


class FormChecker(BaseChecker):
    """Checks inside one form file."""

    def __init__(
        self, info: FormInfo, expected_id: str | None, source_text: str | None = None
    ) -> None:
        super().__init__(info.fname, info.data, info.positions)
        self.info = info
        self.expected_id = expected_id
        self.source_text = source_text
        self.answer_types = answer_types(info.questions.values())

    def run(self) -> list[Problem]:
        """Run every form check; return the problems found."""
        data = _d(self.data)
        fid = _s(data.get("id"))
        if self.expected_id and fid and fid != self.expected_id:
            self.err(
                ("id",),
                "form-id-mismatch",
                f'the form\'s id is "{fid}" but its file is named "{self.expected_id}.yaml"; '
                "make them the same",
            )
        self.unique_ids(data.get("pages"), ("pages",), what="page")
        all_ids: dict[str, Path] = {}
        top_names = {q for q in self.info.questions}
        for pi, page in enumerate(_l(data.get("pages"))):
            ppath: Path = ("pages", pi)
            self._computed_only(ppath, _d(page))
            self.check_expression(
                (*ppath, "show_if"), _d(page).get("show_if"), top_names, "the page's show_if"
            )
            for qpath, q, groups in walk_questions(
                _l(_d(page).get("questions")), (*ppath, "questions")
            ):
                qpath_full = qpath
                qid = _s(q.get("id"))
                if qid:
                    if qid in all_ids:
                        first = self.line_of((*all_ids[qid], "id"), (*qpath_full, "id"))
                        self.err(
                            (*qpath_full, "id"),
                            "duplicate-id",
                            f'question "{qid}" is asked twice (first on {first}); '
                            "each question needs its own id",
                        )
                    else:
                        all_ids[qid] = qpath_full
                self._question(qpath_full, q, top_names, groups)
        for ri, rule in enumerate(_l(data.get("rules"))):
            self.check_expression(
                ("rules", ri, "rule"), _d(rule).get("rule"), top_names, "the rule"
            )
            qref = _d(rule).get("question")
            self.ref(("rules", ri, "question"), qref, top_names, "unknown-question", "question")
        return self.problems

    def _question(self, path: Path, q: dict[str, Any], names: set[str], groups: list[str]) -> None:
        kind = q.get("type")
        label = f'question "{q.get("id")}"'
        visible = set(names)
        if groups:  # inside a group, the sibling answers of the same item are readable too
            for sub in _l(q.get("questions")) if kind == "group" else []:
                visible.add(str(_d(sub).get("id")))
        self.check_expression(
            (*path, "show_if"), q.get("show_if"), visible, f"the show_if of {label}"
        )
        for vi, v in enumerate(_l(q.get("validate"))):
            self.check_expression(
                (*path, "validate", vi, "rule"),
                _d(v).get("rule"),
                visible | {"value"},
                f"a validate rule of {label}",
                own=q,
            )
        choice = kind in ("radios", "checkboxes", "select")
        if choice and not q.get("options") and not q.get("options_from"):
            self.err(
                path,
                "missing-options",
                f"{label} is a {kind} question but has no options or options_from",
            )
        if choice and q.get("options") and q.get("options_from"):
            self.err(
                (*path, "options_from"),
                "conflicting-keys",
                f"{label} has both options and options_from; keep one",
            )
        if choice:
            self.unique_ids(q.get("options"), (*path, "options"), key="value", what="option")
        if q.get("special_category") is True and q.get("personal") is False:
            self.err(
                (*path, "personal"),
                "conflicting-keys",
                f"{label} is special_category, and special-category data is personal data; "
                "remove personal: false",
            )
        if kind == "group" and not q.get("questions"):
            self.err(path, "missing-key", f'{label} is a group but has no "questions"')
        type_keys = {
            "options": ("radios", "checkboxes", "select"),
            "options_from": ("radios", "checkboxes", "select"),
            "min_selected": ("checkboxes",),
            "max_selected": ("checkboxes",),
            "word_limit": ("textarea",),
            "max_length": ("text", "textarea"),
            "accept": ("file",),
            "max_size_mb": ("file",),
            "questions": ("group",),
            "min_items": ("group",),
            "max_items": ("group",),
            "item_label": ("group",),
            "labels": ("scale",),
            "min": ("number", "decimal", "money", "percent", "scale"),
            "max": ("number", "decimal", "money", "percent", "scale"),
            "compute": ("number", "decimal", "money", "percent"),
            "organisation_number": ("text",),
        }
        for k, kinds in type_keys.items():
            if k in q and isinstance(kind, str) and kind not in kinds:
                self.err(
                    (*path, k),
                    "key-not-for-type",
                    f'{label} is a {kind} question, so "{k}" does nothing; it is for '
                    f"{', '.join(kinds)} questions",
                    key=True,
                )
        if q.get("organisation_number") and groups:
            self.err(
                (*path, "organisation_number"),
                "organisation-number-in-group",
                f"{label} is inside a group, and each item's answer cannot name the one "
                "organisation; ask it outside the group",
            )
        if q.get("organisation_number") and q.get("keep_characters"):
            self.err(
                (*path, "keep_characters"),
                "conflicting-keys",
                f"{label} names the organisation by its whole number, so it cannot keep only "
                "the start of it; remove keep_characters",
            )
        lo, hi = q.get("min"), q.get("max")
        if isinstance(lo, int | float) and isinstance(hi, int | float) and lo > hi:
            self.err((*path, "min"), "bad-range", f"{label} has min {lo} above max {hi}")
        lo, hi = q.get("min_items"), q.get("max_items")
        if isinstance(lo, int) and isinstance(hi, int) and lo > hi:
            self.err(
                (*path, "min_items"),
                "bad-range",
                f"{label} has min_items {lo} above max_items {hi}",
            )
        lo, hi = q.get("min_selected"), q.get("max_selected")
        if isinstance(lo, int) and isinstance(hi, int) and lo > hi:
            self.err(
                (*path, "min_selected"),
                "bad-range",
                f"{label} has min_selected {lo} above max_selected {hi}",
            )
        if kind == "scale" and ("min" not in q or "max" not in q):
            self.err(path, "missing-key", f'{label} is a scale and needs "min" and "max"')
        if "compute" in q:
            self._computed(path, q, names, groups)

    def _computed(self, path: Path, q: dict[str, Any], names: set[str], groups: list[str]) -> None:
        """A computed question: what it reads, and nothing that only a typed answer needs."""
        label = f'question "{q.get("id")}"'
        if groups:
            self.err(
                (*path, "compute"),
                "compute-in-group",
                f"{label} is inside a group, and only a form's own questions can be computed; "
                "move it out of the group",
                key=True,
            )
            return
        self.check_expression(
            (*path, "compute"), q.get("compute"), names, f"the compute of {label}"
        )
        try:
            read = compile_expression(str(q.get("compute"))).names
        except ExpressionError:
            read = frozenset()  # reported by check_expression already
        for name in sorted(read & self._computed_ids()):
            self.err(
                (*path, "compute"),
                "compute-reads-computed",
                f'the compute of {label} reads "{name}", which is itself computed; write out what '
                f'"{name}" is worked out from instead',
            )
        for key in ("required", "validate", "min", "max"):
            if key in q:
                self.err(
                    (*path, key),
                    "key-not-for-type",
                    f'{label} is computed, never typed, so "{key}" does nothing; remove it',
                    key=True,
                )

    def _computed_ids(self) -> set[str]:
        return {qid for qid, q in self.info.questions.items() if "compute" in q}

    def _computed_only(self, path: Path, page: dict[str, Any]) -> None:
        """A page of computed questions only would ask nothing: its answers belong on another."""
        qs = [_d(q) for q in _l(page.get("questions"))]
        if qs and all("compute" in q for q in qs):
            self.err(
                (*path, "questions"),
                "nothing-asked",
                f'page "{page.get("id")}" has only computed questions, so it asks nothing; move '
                "them onto the page whose answers they are worked out from",
            )
