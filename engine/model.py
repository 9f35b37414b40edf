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

    def holds_personal_data(self) -> bool:
        """Whether the answer is personal data: marked `personal` or `special_category`."""
        return bool(self.spec.get("personal") or self.spec.get("special_category"))

    def visible_to_role(self, role: str, programme_anonymised: bool) -> bool:
        """Whether people of `role` may see this answer on a case they can see (the one rule)."""
        named = self.spec.get("visible_to")
        if named is not None:  # the file says exactly who: it overrides every default
            return role in named
        if programme_anonymised and self.holds_personal_data():
            # the people who gave it and who support the person; reports go to the others
            return role in PERSONAL_DATA_ROLES
        return True


# Who sees personal answers in a programme whose reports are anonymised, unless `visible_to` says.
PERSONAL_DATA_ROLES = ("applicant", "caseworker")


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

    def has_money(self) -> bool:
        """Whether the programme records money: it says anything under `funding` (a total, awards,
        lots, fees), beyond the default that money is counted per programme."""
        return any(k != "per" for k in self.data.get("funding", {}))

    def retention_rules(self) -> tuple[RetentionRule, ...]:
        """The file's `retention` rules: how long each workflow's cases are kept, and then what."""
        return tuple(
            RetentionRule(
                id=r["id"],
                workflow=r["workflow"],
                states=tuple(r.get("states", ())),
                never_submitted=bool(r.get("never_submitted")),
                counts_from=dict(r["from"]),
                after=r["after"],
                then=r["then"],
            )
            for r in self.data.get("retention", [])
        )

    def reports_anonymised(self) -> bool:
        """Whether the programme's reports are anonymised (`reporting: {anonymised: true}`)."""
        return bool(self.data.get("reporting", {}).get("anonymised"))

    def suppress_below(self) -> int:
        """Counts under this are hidden in reports: the file's `reporting.suppress_below`, or,
        for an anonymised programme that sets none, the ONS-style 5."""
        reporting = self.data.get("reporting", {})
        if "suppress_below" in reporting:
            return int(reporting["suppress_below"])
        # anonymised with no threshold would still show "16-17: 1", which names a person
        return ANONYMISED_SUPPRESS_BELOW if reporting.get("anonymised") else 0


ANONYMISED_SUPPRESS_BELOW = 5


@dataclass(frozen=True)
class RetentionRule:
    """How long a workflow's cases are kept (`after`, counted `counts_from`), and then what:
    `delete` their content or `erase_personal_data`."""

    id: str
    workflow: str
    states: tuple[str, ...]
    never_submitted: bool
    counts_from: dict[str, str]  # one of milestone, entered or trigger → its name
    after: str
    then: str


# Programme is frozen but holds dicts, so it cannot be hashed for lru_cache: a version is immutable,
# so its question index is kept here by (programme id, version).
_QUESTIONS: dict[tuple[str, str], dict[str, Question]] = {}
