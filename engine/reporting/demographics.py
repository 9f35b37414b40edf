"""Who a programme reaches: people counted by each characteristic its `reporting.demographics`
names, beside the population's shares where the programme gives them.

A person is a case (of the workflows whose forms ask the question). Nothing that identifies
anyone leaves this module: dates of birth become age bands, postcodes their district (the part
before the space), and counts under the programme's `reporting.suppress_below` are hidden, with
a second count hidden where one alone could be worked out from the total.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from engine.model import Programme, Question
from engine.reporting.kpi_groups import options as _options
from engine.reporting.memo import remembered
from engine.vocabulary import BANDED, CHOICE, band_labels, postcode_district

if TYPE_CHECKING:  # only for annotations: a store is passed in by the caller
    from engine.store import StoreContract

NOT_RECORDED = "not_recorded"


@dataclass(frozen=True)
class Category:
    """One group of people in a breakdown (an option, a band, a district or a named group)."""

    key: str  # what `compare_with.shares` names it by
    label: str
    count: int | None  # None when hidden
    share: float | None  # percent of the people with an answer; None when hidden or not an answer
    population: float | None  # the population's share, where the programme gives one
    hidden: bool = False

    @property
    def gap(self) -> float | None:
        """Percentage points above (positive) or below (negative) the population's share."""
        if self.share is None or self.population is None:
            return None
        return self.share - self.population


@dataclass(frozen=True)
class Breakdown:
    """People counted by one characteristic."""

    question: str
    title: str
    people: int | None  # everyone counted; None when hidden
    answered: int | None  # those with an answer; None when hidden
    categories: tuple[Category, ...]  # "Not recorded" last
    multiple: bool = False  # a person may be in several categories (checkboxes)
    source: str | None = None  # where the population's shares come from
    hidden_below: int = 0
    description: str | None = None

    def missing(self) -> list[Category]:
        """The categories below the population's share, the biggest shortfall first."""
        short = [c for c in self.categories if c.gap is not None and c.gap < 0]
        return sorted(short, key=lambda c: c.gap or 0.0)


@dataclass(frozen=True)
class Person:
    """A case as a breakdown sees it: who holds it, when it started, and its answers."""

    organisation: str | None
    lot: str | None
    started: datetime
    answers: dict[str, Any] = field(default_factory=dict)


def band_of(value: float, bands: list[float]) -> str:
    """The label of the band `value` falls in."""
    labels = band_labels(bands)
    for i, lo in enumerate(bands):
        if value < lo:
            return labels[i]
    return labels[-1]


def age_on(born: date, on: date) -> int:
    """Age in whole years on a day."""
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def _natural(text: str) -> list[Any]:
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", text)]


def _keys(
    spec: dict[str, Any], q: Question, value: Any, started: datetime, tz: ZoneInfo
) -> list[str]:
    """The categories (before grouping) one answer puts a person in; [] when there is no answer."""
    if value is None or value == "" or value == []:
        return []
    if q.type == "yesno":
        return ["yes" if value else "no"] if isinstance(value, bool) else []
    if q.type == "checkboxes":
        return [str(v) for v in value] if isinstance(value, list) else [str(value)]
    if q.type in ("radios", "select"):
        return [str(value)]
    if q.type == "postcode":
        district = postcode_district(value)
        return [district] if district else []
    bands = spec.get("bands") or []
    if not bands:
        return []
    if q.type == "date":
        try:
            born = date.fromisoformat(str(value)[:10])
        except ValueError:
            return []
        return [band_of(age_on(born, started.astimezone(tz).date()), bands)]
    if isinstance(value, int | float) and not isinstance(value, bool):
        return [band_of(value, bands)]
    return []


def hidden_keys(counts: dict[str, int], below: int, *, secondary: bool = True) -> set[str]:
    """Which counts to hide: those under `below` (not zeros), and, where only one would be hidden
    and the total is shown, the next smallest too, so the first cannot be worked out."""
    hidden = {k for k, n in counts.items() if 0 < n < below}
    if secondary and len(hidden) == 1:
        others = sorted(
            (n, i, k) for i, (k, n) in enumerate(counts.items()) if n > 0 and k not in hidden
        )
        if others:
            hidden.add(others[0][2])
    return hidden


def breakdown(
    spec: dict[str, Any], q: Question, people: Iterable[Person], below: int, tz: ZoneInfo
) -> Breakdown:
    """Count people by one characteristic, hide small counts, and set the population's shares."""
    groups: dict[str, list[str]] = {
        str(g): [str(v) for v in vs] for g, vs in (spec.get("groups") or {}).items()
    }
    group_of = {v: g for g, vs in groups.items() for v in vs}
    labels: dict[str, str] = {}
    order: list[str] = []
    if q.type in CHOICE:
        for value, label in _options(q):
            key = group_of.get(value, value)
            if key not in labels:
                labels[key] = key if key in groups else label
                order.append(key)
    elif q.type in BANDED and spec.get("bands"):
        order = band_labels(spec["bands"])
        labels = {b: b for b in order}
    else:  # postcodes: the named groups first, then each district met
        order = list(groups)
        labels = {g: g for g in groups}
    counts: dict[str, int] = dict.fromkeys(order, 0)
    total = answered = 0
    not_recorded = 0
    for person in people:
        total += 1
        keys = list(
            dict.fromkeys(
                group_of.get(k, k)
                for k in _keys(spec, q, person.answers.get(q.id), person.started, tz)
            )
        )
        if not keys:
            not_recorded += 1
            continue
        answered += 1
        for key in keys:
            if key not in counts:  # a district, or an answer no longer among the options
                labels.setdefault(key, key)
                counts[key] = 0
            counts[key] += 1
    if q.type == "postcode":
        extra = sorted((k for k in counts if k not in groups), key=_natural)
        counts = {k: counts[k] for k in [*groups, *extra]}
    multiple = q.type == "checkboxes"
    everything = {**counts, NOT_RECORDED: not_recorded}
    hidden = hidden_keys(everything, below, secondary=not multiple)
    answered_hidden = 0 < answered < below
    shares = dict((spec.get("compare_with") or {}).get("shares") or {})
    categories = []
    for key, n in everything.items():
        hide = key in hidden
        share = (
            None
            if hide or answered_hidden or key == NOT_RECORDED or not answered
            else 100.0 * n / answered
        )
        categories.append(
            Category(
                key,
                "Not recorded" if key == NOT_RECORDED else labels.get(key, key),
                None if hide else n,
                share,
                None if key == NOT_RECORDED else _float(shares.get(key)),
                hide,
            )
        )
    return Breakdown(
        q.id,
        spec.get("title") or q.label,
        None if 0 < total < below else total,
        None if answered_hidden else answered,
        tuple(categories),
        multiple,
        (spec.get("compare_with") or {}).get("source"),
        below,
        spec.get("description"),
    )


def _float(x: Any) -> float | None:
    return float(x) if isinstance(x, int | float) and not isinstance(x, bool) else None


def workflows_asking(programme: Programme, question: str) -> list[str]:
    """The workflows whose forms ask a question (the cases whose people it describes)."""
    out: list[str] = []
    for entry in programme.data["forms"]:
        form = programme.forms.get(entry["form"])
        if form is not None and question in form.questions() and entry["workflow"] not in out:
            out.append(entry["workflow"])
    return out


def people(
    store: StoreContract,
    programme: Programme,
    workflows: list[str],
    states: list[str] | None = None,
    *,
    organisation: str | None = None,
    lot: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> list[Person]:
    """The cases of these workflows (started in [start, end), of one organisation or lot if asked)."""
    rows = [
        r
        for r in store.programme_cases(programme.id)
        if r["workflow"] in workflows
        and (not states or r["state"] in states)
        and (organisation is None or r["organisation_id"] == organisation)
        and (lot is None or r["lot"] == lot)
    ]
    answers = store.programme_answers(programme.id) if rows else {}
    out = []
    for r in rows:
        started = datetime.fromisoformat(r["created_at"])
        if (start is not None and started < start) or (end is not None and started >= end):
            continue
        merged: dict[str, Any] = {}
        for a in sorted(
            answers.get(r["id"], []), key=lambda a: (a["submitted_at"] or "", a["record"])
        ):
            merged.update({k: v for k, v in a["data"].items() if v not in (None, "", [])})
        out.append(Person(r["organisation_id"], r["lot"], started, merged))
    return out


def breakdowns(
    store: StoreContract,
    programme: Programme,
    *,
    organisation: str | None = None,
    lot: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> list[Breakdown]:
    """Every characteristic the programme's `reporting.demographics` names, counted (worked
    out again only once one of the programme's cases has changed)."""
    key = ("people", programme.version, organisation, lot, start, end)
    return remembered(
        store,
        programme.id,
        key,
        lambda: _breakdowns(store, programme, organisation, lot, start, end),
    )


def _breakdowns(
    store: StoreContract,
    programme: Programme,
    organisation: str | None,
    lot: str | None,
    start: datetime | None,
    end: datetime | None,
) -> list[Breakdown]:
    reporting = programme.data.get("reporting", {})
    below = programme.suppress_below()
    tz = ZoneInfo(programme.timezone)
    questions = programme.questions()
    cache: dict[tuple[Any, ...], list[Person]] = {}
    out = []
    for spec in reporting.get("demographics", []):
        q = questions.get(spec["question"])
        if q is None:  # the loader's checks make this impossible for a published programme
            continue
        workflows = (
            [spec["workflow"]] if spec.get("workflow") else workflows_asking(programme, q.id)
        )
        key = (tuple(workflows), tuple(spec.get("states") or ()))
        if key not in cache:
            cache[key] = people(store, programme, workflows, spec.get("states"), organisation=organisation,
                                lot=lot, start=start, end=end)  # fmt: skip
        out.append(breakdown(spec, q, cache[key], below, tz))
    return out
