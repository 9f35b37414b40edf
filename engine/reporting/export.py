"""Open data and spreadsheets: awards as 360Giving JSON; applications, awards and returns as CSV.

Each export is for one role (a commissioner, unless the caller says otherwise) and holds only
the answers that role may see, by the same rule as the pages (`Question.visible_to_role`). An
anonymised export goes further: it leaves out every answer marked `personal` or
`special_category`, even one whose `visible_to` lets the role see it in the service, since a file
travels where the service's pages do not. The case's subject reference is never exported.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from engine.dates import moment_in_words
from engine.errors import EngineError
from engine.forms.answers import without_controls
from engine.forms.visibility import hidden_questions
from engine.model import Programme, Question
from engine.store import StoreContract

GIVING_VERSION = "1.4"


def _answers_by_case(store: StoreContract, case_ids: list[int]) -> dict[int, dict[str, Any]]:
    out: dict[int, dict[str, Any]] = {}
    for case_id in case_ids:
        merged: dict[str, Any] = {}
        for a in store.answers(case_id):
            merged.update(a["data"])
        out[case_id] = merged
    return out


def grants_360(store: StoreContract, programme: Programme) -> dict[str, Any]:
    """Every award of the programme as a 360Giving data package."""
    config = programme.data.get("open_data")
    if not config:
        raise EngineError(
            f'programme "{programme.id}" does not say how to publish open data: add `open_data` with its '
            "360Giving `prefix` and `funder` (see docs/programme-file.md)"
        )
    tz = ZoneInfo(programme.timezone)
    awards = store.awards(programme.id)
    answers = _answers_by_case(store, [a["case_id"] for a in awards])
    names = store.organisation_names()
    contract = programme.data.get("contract", {})
    grants = []
    for award in awards:
        case = store.case(award["case_id"])
        assert case is not None
        given = answers[award["case_id"]]
        org = case["organisation_id"] or "unknown"
        name = str(given.get(config.get("recipient_name", ""), "") or names.get(org, org))
        number = given.get(config.get("recipient_number", ""))
        recipient_id = (
            f"{config['recipient_scheme']}-{number}"
            if number and config.get("recipient_scheme")
            else f"{config['prefix']}-ORG-{org}"  # the funder's own identifier, under its prefix
        )
        awarded = datetime.fromisoformat(award["awarded_at"]).astimezone(tz)
        grant: dict[str, Any] = {
            "id": f"{config['prefix']}-{case['reference']}",
            "title": str(given.get(config.get("title", ""), "") or programme.name),
            "description": str(
                given.get(config.get("description", ""), "")
                or programme.data.get("summary", programme.name)
            ),
            "currency": programme.data["currency"],
            "amountAwarded": award["amount"],
            "awardDate": awarded.date().isoformat(),
            "recipientOrganization": [{"id": recipient_id, "name": name}],
            "fundingOrganization": [
                {"id": config["funder"]["id"], "name": config["funder"]["name"]}
            ],
            "grantProgramme": [{"code": programme.id, "title": programme.name}],
        }
        if contract.get("term"):
            months = _months(contract["term"])
            if months:
                grant["plannedDates"] = [
                    {"startDate": awarded.date().isoformat(), "duration": months}
                ]
        if config.get("beneficiary_location"):
            grant["beneficiaryLocation"] = [
                {"name": place} for place in config["beneficiary_location"]
            ]
        if award.get("lot"):
            lots = {lot["id"]: lot for lot in programme.data["funding"].get("lots", [])}
            if award["lot"] in lots and lots[award["lot"]].get("areas"):
                grant.setdefault("beneficiaryLocation", []).extend(
                    {"name": area} for area in lots[award["lot"]]["areas"]
                )
        grants.append(grant)
    if not grants:
        raise EngineError(
            f'programme "{programme.id}" has made no awards yet, so there is nothing to publish'
        )
    return {"grants": grants, "version": GIVING_VERSION}


def _months(term: str) -> int | None:
    from engine.dates import parse_duration

    d = parse_duration(term)
    return {"months": d.amount, "years": 12 * d.amount}.get(d.unit)


def _cell(value: Any) -> str:
    if isinstance(value, list):
        return "; ".join(_cell(v) for v in value)
    if isinstance(value, dict):
        return str(value.get("name", json.dumps(value, sort_keys=True)))
    if isinstance(value, bool):
        return "Yes" if value else "No"
    return "" if value is None else str(value)


def answer_text(q: Question, value: Any) -> str:
    """An answer as a spreadsheet shows it: options by their labels, dates as a plain day."""
    if isinstance(value, list) and not (q.type == "group" or q.questions):
        return "; ".join(answer_text(q, v) for v in value)
    if isinstance(value, str | int) and not isinstance(value, bool):
        labels = {o["value"]: o["label"] for o in q.spec.get("options", [])}
        if value in labels:
            return str(labels[value])
    if q.type == "date" and isinstance(value, str):
        try:
            day = date.fromisoformat(value)
        except ValueError:  # stored before answers were checked on input: shown as typed
            return value
        return f"{day.day} {day:%B %Y}"
    return _cell(value)


def when_text(stamp: str | None, tz: ZoneInfo) -> str:
    """A stored timestamp in words on the programme's clock (`10am on Monday 12 February 2024`)."""
    if not stamp:
        return ""
    moment = datetime.fromisoformat(stamp)
    return moment_in_words(moment if moment.tzinfo else moment.replace(tzinfo=UTC), tz)


def column_names(fixed: list[str], programme: Programme, questions: list[Question]) -> list[str]:
    """Headers people read: the fixed columns, then each question's label; a label that repeats
    another header is qualified by its form's title, then its page's, then numbered."""
    where: dict[str, tuple[str, str]] = {}  # question id → (form title, page title)
    for form in programme.forms.values():
        for _pid, page_title, qs in form.pages:
            for q in _flat(qs):
                where.setdefault(q.id, (form.title, page_title))
    labels = [" ".join(q.label.split()) or "Question" for q in questions]
    taken = Counter(h.lower() for h in [*fixed, *labels])
    out, used = list(fixed), {h.lower() for h in fixed}
    for q, label in zip(questions, labels, strict=True):
        name: str | None = label
        if taken[label.lower()] > 1:
            form_title, page_title = where.get(q.id, ("", ""))
            qualifiers = [form_title, page_title, f"{form_title}: {page_title}"]
            candidates = [f"{label} ({x})" for x in qualifiers if x.strip(": ")]
            name = next((c for c in candidates if c.lower() not in used | set(taken)), None)
        n = 2
        while name is None or name.lower() in used:
            name, n = f"{label} ({n})", n + 1
        used.add(name.lower())
        out.append(name)
    return out


def _flat(qs: tuple[Question, ...]) -> list[Question]:
    return [x for q in qs for x in (q, *_flat(q.questions))]


def _names(store: StoreContract, programme: Programme) -> tuple[dict[str, str], dict[str, str]]:
    """Organisations and lots by the names people know them by."""
    lots = programme.data.get("funding", {}).get("lots", [])
    return store.organisation_names(), {lot["id"]: lot.get("name", lot["id"]) for lot in lots}


def _worded(key: str | None) -> str:
    """What is left of a name the programme no longer holds (a state or lot of an older version)."""
    return (key or "").replace("_", " ").capitalize()


def safe_cell(text: str) -> str:
    """Spreadsheet formula injection: a cell starting =, +, - or @ is shown as text.

    Control characters and bidirectional overrides stored before answers were cleaned on input
    are dropped too, so a spreadsheet shows what was meant, not what hides.
    """
    text = without_controls(text)
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _hidden(programme: Programme, role: str, anonymised: bool) -> set[str]:
    """Question ids left out of `role`'s export in every form (answers are merged by id)."""
    hidden = {
        qid
        for form in programme.forms.values()
        for qid in hidden_questions(programme, form, role, anonymised=anonymised)
    }
    if anonymised:
        hidden |= {q.id for q in programme.questions().values() if q.holds_personal_data()}
    return hidden


BATCH = 500  # cases read at a time: a CSV of 100,000 starts at once and memory stays flat


def _batches(store: StoreContract, programme: Programme, workflow: str | None) -> Iterator[list[dict[str, Any]]]:  # fmt: skip
    """The programme's cases (of one workflow, if given) a batch at a time, each with its answers."""
    after = 0
    while rows := store.cases_after(programme.id, workflow, after, BATCH):
        answers = store.answers_of([r["id"] for r in rows])
        for r in rows:
            r["answers"] = answers.get(r["id"], [])
        yield rows
        after = rows[-1]["id"]


def _line(cells: list[Any]) -> str:
    out = io.StringIO()
    csv.writer(out).writerow(cells)
    return out.getvalue()


def _asked(programme: Programme, workflow: str | None) -> set[str]:
    """The questions of the forms a workflow's cases fill in (every workflow's, if None)."""
    return {
        qid
        for e in programme.data["forms"]
        if workflow in (None, e["workflow"]) and e["form"] in programme.forms
        for qid in programme.forms[e["form"]].questions()
    }


def cases_csv_lines(
    store: StoreContract,
    programme: Programme,
    workflow: str | None = None,
    *,
    anonymised: bool = False,
    role: str = "commissioner",
) -> Iterator[str]:
    """The lines of `cases_csv`, the header first, read and written a batch of cases at a time."""
    hidden = _hidden(programme, role, anonymised)
    asked = _asked(programme, workflow)
    used = [q for q in programme.questions().values()
            if q.type != "group" and q.id not in hidden and q.id in asked]  # fmt: skip
    tz = ZoneInfo(programme.timezone)
    organisations, lots = _names(store, programme)
    fixed = ["Reference", "Kind of case", "Status", "Organisation", "Lot", "Started"]
    yield _line(column_names(fixed, programme, used))
    for rows in _batches(store, programme, workflow):
        out = io.StringIO()
        writer = csv.writer(out)
        for r in rows:
            given: dict[str, Any] = {}
            for a in r["answers"]:
                given.update(a["data"])
            wf = programme.workflows.get(r["workflow"])
            states = {s.id: s.label for s in wf.states} if wf else {}
            org = r["organisation_id"]
            cells = [r["reference"], wf.title if wf else _worded(r["workflow"]),
                     states.get(r["state"]) or _worded(r["state"]), organisations.get(org, org) if org else "",
                     lots.get(r["lot"]) or _worded(r["lot"]), when_text(r["created_at"], tz),
                     *[answer_text(q, given.get(q.id)) for q in used]]  # fmt: skip
            writer.writerow([safe_cell(c) for c in cells])
        yield out.getvalue()


def cases_csv(
    store: StoreContract,
    programme: Programme,
    workflow: str | None = None,
    *,
    anonymised: bool = False,
    role: str = "commissioner",
) -> str:
    """One row per case with its state and every answer `role` may see (fewer when anonymised):
    a column for each question the workflow's forms ask."""
    return "".join(cases_csv_lines(store, programme, workflow, anonymised=anonymised, role=role))


def awards_csv(store: StoreContract, programme: Programme) -> str:
    """One row per award: the case, organisation, lot, amount and when it was awarded."""
    tz = ZoneInfo(programme.timezone)
    organisations, lots = _names(store, programme)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["Reference", "Organisation", "Lot", "Amount awarded", "Awarded"])
    for a in store.awards(programme.id):
        case = store.case(a["case_id"])
        org = case["organisation_id"] if case else None
        names = [case["reference"] if case else "", organisations.get(org, org) if org else "",
                 lots.get(a["lot"]) or _worded(a["lot"])]  # fmt: skip
        # the amount stays a number, so a spreadsheet can add the awards up
        writer.writerow([*map(safe_cell, names), a["amount"], when_text(a["awarded_at"], tz)])
    return out.getvalue()


def records_csv(
    store: StoreContract,
    programme: Programme,
    form_id: str,
    *,
    anonymised: bool = False,
    role: str = "commissioner",
) -> str:
    """One row per submitted return or record of a form, with the answers `role` may see."""
    if form_id not in programme.forms:
        raise EngineError(f'programme "{programme.id}" has no form "{form_id}"')
    form = programme.forms[form_id]
    hidden = _hidden(programme, role, anonymised)
    used = [q for q in form.questions().values() if q.type != "group" and q.id not in hidden]
    tz = ZoneInfo(programme.timezone)
    organisations, _lots = _names(store, programme)
    out = io.StringIO()
    writer = csv.writer(out)
    fixed = ["Reference", "Organisation", "Number", "Submitted"]
    writer.writerow(column_names(fixed, programme, used))
    for rows in _batches(store, programme, None):
        for r in rows:
            org = r["organisation_id"]
            for a in r["answers"]:
                if a["form"] != form_id or not a["submitted_at"]:
                    continue
                cells = [r["reference"], organisations.get(org, org) if org else "", _cell(a["record"]),
                         when_text(a["submitted_at"], tz), *[answer_text(q, a["data"].get(q.id)) for q in used]]  # fmt: skip
                writer.writerow([safe_cell(c) for c in cells])
    return out.getvalue()
