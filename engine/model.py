"""The validated programme as frozen dataclasses; nothing here knows files exist."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engine.dates import Span


@dataclass(frozen=True)
class Question:
    """One question of a form (a group's inner questions in `questions`)."""

    id: str
    type: str
    label: str
    required: bool
    spec: dict[str, Any]
    questions: tuple[Question, ...] = ()


@dataclass(frozen=True)
class Form:
    """A form: pages of questions, and its cross-answer rules."""

    id: str
    title: str
    pages: tuple[tuple[str, str, tuple[Question, ...]], ...]
    spec: dict[str, Any]

    def questions(self) -> dict[str, Question]:
        """Every question by id, groups' inner questions included (callers must not change it)."""
        known = self.__dict__.get("_questions")
        if known is not None:  # a form never changes once loaded: index it once
            return known
        out: dict[str, Question] = {}

        def add(qs: tuple[Question, ...]) -> None:
            for q in qs:
                out[q.id] = q
                add(q.questions)

        for _pid, _title, qs in self.pages:
            add(qs)
        self.__dict__["_questions"] = out  # frozen: set past the dataclass's guard
        return out


@dataclass(frozen=True)
class State:
    """A state a case can be in."""

    id: str
    label: str
    final: bool


@dataclass(frozen=True)
class Transition:
    """A way a case moves from one or more states to another."""

    trigger: str
    sources: tuple[str, ...]
    dest: str
    by: tuple[str, ...]
    spec: dict[str, Any]


@dataclass(frozen=True)
class Workflow:
    """A kind of case and the states it moves through."""

    id: str
    title: str
    initial: str
    states: tuple[State, ...]
    transitions: tuple[Transition, ...]
    roles: tuple[str, ...]


@dataclass(frozen=True)
class Milestone:
    """A dated point or stretch on the programme's timeline."""

    id: str
    label: str
    span: Span
    kind: str | None = None


@dataclass(frozen=True)
class Programme:
    """A validated, normalised programme with its forms resolved."""

    id: str
    name: str
    timezone: str
    version: str  # content hash of the programme file and its forms
    source: str  # where it was read from, for messages
    workflows: dict[str, Workflow]
    forms: dict[str, Form]
    milestones: dict[str, Milestone]
    data: dict[str, Any] = field(repr=False)  # the normalised document, as `inspect --json` shows

    def questions(self) -> dict[str, Question]:
        """Every question of every form by id (the first form's, where two forms share an id)."""
        key = (self.id, self.version)
        if key not in _QUESTIONS:
            out: dict[str, Question] = {}
            for form in self.forms.values():
                for q in form.questions().values():
                    out.setdefault(q.id, q)
            _QUESTIONS[key] = out
        return _QUESTIONS[key]

    def suppress_below(self) -> int:
        """Counts under this are hidden in reports: the file's `reporting.suppress_below`, or,
        for an anonymised programme that sets none, the ONS-style 5."""
        reporting = self.data.get("reporting", {})
        if "suppress_below" in reporting:
            return int(reporting["suppress_below"])
        # anonymised with no threshold would still show "16-17: 1", which names a person
        return ANONYMISED_SUPPRESS_BELOW if reporting.get("anonymised") else 0


ANONYMISED_SUPPRESS_BELOW = 5

# Programme is frozen but holds dicts, so it cannot be hashed for lru_cache: a version is immutable,
# so its question index is kept here by (programme id, version).
_QUESTIONS: dict[tuple[str, str], dict[str, Question]] = {}
