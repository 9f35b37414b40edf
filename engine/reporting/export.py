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
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from engine.errors import EngineError
from engine.forms.answers import without_controls
from engine.forms.visibility import hidden_questions
from engine.model import Programme
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
        return "yes" if value else "no"
    return "" if value is None else str(value)


def _safe(text: str) -> str:
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


def cases_csv(
    store: StoreContract,
    programme: Programme,
    workflow: str | None = None,
    *,
    anonymised: bool = False,
    role: str = "commissioner",
) -> str:
    """One row per case with its state and every answer `role` may see (fewer when anonymised)."""
    hidden = _hidden(programme, role, anonymised)
    keep = [q for q in programme.questions().values() if q.type != "group" and q.id not in hidden]
    rows = [r for r in store.programme_cases(programme.id) if workflow in (None, r["workflow"])]
    answers = _answers_by_case(store, [r["id"] for r in rows])
    used = [q for q in keep if any(q.id in answers[r["id"]] for r in rows)]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "reference",
            "workflow",
            "state",
            "organisation",
            "lot",
            "created_at",
            *[q.id for q in used],
        ]
    )
    for r in rows:
        given = answers[r["id"]]
        writer.writerow([r["reference"], r["workflow"], r["state"], r["organisation_id"] or "", r["lot"] or "",
                         r["created_at"], *[_safe(_cell(given.get(q.id))) for q in used]])  # fmt: skip
    return out.getvalue()


def awards_csv(store: StoreContract, programme: Programme) -> str:
    """One row per award: the case, organisation, lot, amount and date."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["reference", "organisation", "lot", "amount", "awarded_at"])
    for a in store.awards(programme.id):
        case = store.case(a["case_id"])
        writer.writerow([case["reference"] if case else "", case["organisation_id"] if case else "",
                         a["lot"] or "", a["amount"], a["awarded_at"]])  # fmt: skip
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
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["reference", "organisation", "record", "submitted_at", *[q.id for q in used]])
    for r in store.programme_cases(programme.id):
        for a in store.answers(r["id"]):
            if a["form"] != form_id or not a["submitted_at"]:
                continue
            writer.writerow([r["reference"], r["organisation_id"] or "", a["record"], a["submitted_at"],
                             *[_safe(_cell(a["data"].get(q.id))) for q in used]])  # fmt: skip
    return out.getvalue()
