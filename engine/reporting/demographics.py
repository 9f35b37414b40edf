"""Who a programme reaches: people counted by each characteristic its `reporting.demographics`
names, beside the population's shares where the programme gives them.

A person is a case (of the workflows whose forms ask the question). Nothing that identifies
anyone leaves this module: dates of birth become age bands, postcodes their district (the part
before the space), and counts under the programme's `reporting.suppress_below` are hidden, with
a second count hidden where one alone could be worked out from the total.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from engine.model import Programme, Question
from engine.reporting.kpi_groups import options as _options
from engine.reporting.memo import remembered
from engine.reporting.people_kept import Counted, counted_cases
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


def grouping(spec: dict[str, Any]) -> dict[str, str]:
    """Each answer a named group gathers, to its group (`groups:` of a characteristic)."""
    groups = {str(g): [str(v) for v in vs] for g, vs in (spec.get("groups") or {}).items()}
    return {v: g for g, vs in groups.items() for v in vs}


def categories_of(
    spec: dict[str, Any], q: Question, person: Person, tz: ZoneInfo, group_of: dict[str, str]
) -> tuple[str, ...]:
    """The categories one person is counted in (their named groups once each); () if none."""
    keys = _keys(spec, q, person.answers.get(q.id), person.started, tz)
    return tuple(dict.fromkeys(group_of.get(k, k) for k in keys))


def breakdown(
    spec: dict[str, Any], q: Question, people: Iterable[Person], below: int, tz: ZoneInfo
) -> Breakdown:
    """Count people by one characteristic, hide small counts, and set the population's shares."""
    group_of = grouping(spec)
    return tallied(spec, q, Counter(categories_of(spec, q, p, tz, group_of) for p in people), below)


def tallied(
    spec: dict[str, Any], q: Question, counted: Counter[tuple[str, ...]], below: int
) -> Breakdown:
    """The breakdown of people already put in their categories (how many people are in each
    set of categories, () for those with no answer): small counts hidden, shares set."""
    groups = [str(g) for g in (spec.get("groups") or {})]
    labels: dict[str, str] = {}
    order: list[str] = []
    if q.type in CHOICE:
        group_of = grouping(spec)
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
    total = sum(counted.values())
    not_recorded = counted[()]
    answered = total - not_recorded
    # a district, or an answer no longer among the options, is counted where it is first met
    for keys, n in counted.items():
        for key in keys:
            labels.setdefault(key, key)
            counts[key] = counts.get(key, 0) + n
    # the rest in a fixed order, however the people were read: districts after the named groups
    extra = sorted((k for k in counts if k not in order), key=_natural)
    counts = {k: counts[k] for k in [*order, *extra]}
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


def person_of(row: dict[str, Any], answers: list[dict[str, Any]]) -> Person:
    """A case as a breakdown sees it: its answers merged, the latest sent last (a repeatable
    form's newest record over older ones)."""
    merged: dict[str, Any] = {}
    for a in sorted(answers, key=lambda a: (a["submitted_at"] or "", a["record"])):
        merged.update({k: v for k, v in a["data"].items() if v not in (None, "", [])})
    return Person(
        row["organisation_id"], row["lot"], datetime.fromisoformat(row["created_at"]), merged
    )


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
    specs = [(spec, q) for spec in reporting.get("demographics", [])
             if (q := questions.get(spec["question"])) is not None]  # the loader makes sure  # fmt: skip
    if not specs:
        return []
    groupings = [grouping(spec) for spec, _q in specs]

    def count(row: dict[str, Any], answers: list[dict[str, Any]]) -> Counted:
        person = person_of(row, answers)
        return Counted(row["workflow"], row["state"], person.organisation, person.lot, person.started,
                       tuple(categories_of(spec, q, person, tz, g)
                             for (spec, q), g in zip(specs, groupings, strict=True)))  # fmt: skip

    kept = counted_cases(store, programme, count)
    everyone = organisation is None and lot is None and start is None and end is None
    cases = [] if everyone else [
        c for c in kept.cases
        if (organisation is None or c.organisation == organisation) and (lot is None or c.lot == lot)
        and (start is None or c.started >= start) and (end is None or c.started < end)]  # fmt: skip
    out = []
    for i, (spec, q) in enumerate(specs):
        workflows = set([spec["workflow"]] if spec.get("workflow") else workflows_asking(programme, q.id))  # fmt: skip
        states = set(spec.get("states") or ())
        counted: Counter[tuple[str, ...]] = Counter()
        if everyone:  # the tallies kept by workflow and state: no case read one by one
            for (wf, state), tallies in kept.tallies.items():
                if wf in workflows and (not states or state in states):
                    counted.update(tallies[i])
        else:
            counted.update(c.categories[i] for c in cases
                           if c.workflow in workflows and (not states or c.state in states))  # fmt: skip
        out.append(tallied(spec, q, counted, below))
    return out
