"""Open data and spreadsheets: 360Giving JSON that validates, CSV without personal data."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import jsonschema
import pytest
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from engine.definition.loader import load_programme
from engine.errors import EngineError
from engine.model import Form, Programme, Question
from engine.reporting.export import awards_csv, cases_csv, column_names, grants_360, records_csv

from .conftest import ROOT
from .test_kpis import Data, at

SCHEMAS = ROOT.parent / "shared" / "data" / "360giving"
if (
    not SCHEMAS.is_dir()
):  # the schemas ship with the tests too, in case shared/ is not beside the repo
    SCHEMAS = ROOT / "tests" / "data" / "360giving"


def validator() -> jsonschema.Draft202012Validator:
    package = json.loads((SCHEMAS / "360-giving-package-schema.json").read_text())
    grant = json.loads((SCHEMAS / "360-giving-schema.json").read_text())
    resource = DRAFT202012.create_resource(grant)
    ref = package["properties"]["grants"]["items"]["$ref"]
    registry = Registry().with_resources([(grant["$id"], resource), (ref, resource)])
    return jsonschema.Draft202012Validator(
        package, registry=registry, format_checker=jsonschema.FormatChecker()
    )


def liverpool_awards(tmp_path: Path) -> Data:
    d = Data(tmp_path, "liverpool.yaml")
    for n, (name, amount) in enumerate([("Dingle Family Hub", 100000), ("Anfield Walkers", 60000)]):
        case = d.case("application", "awarded", f"org_{n}", forms={
            "liverpool_expression_of_interest": [("2022-01-25T10:00", {"organisation_name": name})],
            "liverpool_full_proposal": [("2022-02-20T10:00", {"project_title": f"{name} wellbeing project",
                                                              "project_summary": "Weekly groups for isolated parents."})],
        })  # fmt: skip
        with d.engine.store.transaction():
            d.engine.store.insert_award(
                case, d.programme.id, None, amount, at("2022-03-01T12:00").isoformat()
            )
    return d


def test_liverpool_awards_as_360giving_validate_against_the_published_schema(
    tmp_path: Path,
) -> None:
    d = liverpool_awards(tmp_path)
    package = grants_360(d.engine.store, d.programme)
    errors = sorted(validator().iter_errors(package), key=str)
    assert not errors, [e.message for e in errors]
    first = package["grants"][0]
    for key in ("id", "title", "description", "currency", "amountAwarded", "awardDate",
                "recipientOrganization", "fundingOrganization"):  # fmt: skip
        assert first[key]
    assert first["id"].startswith("360G-") and first["amountAwarded"] == 100000
    assert first["recipientOrganization"][0]["name"] == "Dingle Family Hub"
    assert first["title"] == "Dingle Family Hub wellbeing project"
    assert first["awardDate"] == "2022-03-01"
    assert first["beneficiaryLocation"] == [{"name": "Liverpool"}]
    assert first["plannedDates"] == [{"startDate": "2022-03-01", "duration": 12}]


def test_a_programme_without_open_data_settings_says_what_to_add() -> None:
    from engine.store import Store

    llr = load_programme(ROOT / "programmes" / "llr_hubs.yaml")
    with pytest.raises(EngineError, match="add `open_data`"):
        grants_360(Store(":memory:"), llr)


def test_anonymised_csv_leaves_out_personal_data(tmp_path: Path) -> None:
    d = Data(tmp_path, "bradford.yaml")
    d.case("referral", "supported", "horton_park", forms={"bradford_referral": [("2024-05-01T10:00", {
        "referral_date": "2024-05-01", "date_of_birth": "1980-02-03", "postcode": "BD5", "referral_source": "mdt"})]})  # fmt: skip
    full = list(csv.DictReader(io.StringIO(cases_csv(d.engine.store, d.programme, "referral"))))
    anonymous = list(
        csv.DictReader(
            io.StringIO(cases_csv(d.engine.store, d.programme, "referral", anonymised=True))
        )
    )
    assert full[0]["What is the person's date of birth?"] == "3 February 1980"
    assert "What is the person's date of birth?" not in anonymous[0]
    assert "What is the person's postcode?" not in anonymous[0]
    assert anonymous[0]["Who referred the person?"] == "Multi-Disciplinary Team (MDT)"
    records = list(
        csv.DictReader(
            io.StringIO(
                records_csv(d.engine.store, d.programme, "bradford_referral", anonymised=True)
            )
        )
    )
    assert records[0]["Who referred the person?"] == "Multi-Disciplinary Team (MDT)"
    assert "What is the person's date of birth?" not in records[0]


def test_a_formula_typed_as_an_answer_is_exported_as_text(tmp_path: Path) -> None:
    d = Data(tmp_path, "liverpool.yaml")
    d.case("application", "eoi_submitted", "org_x", forms={
        "liverpool_expression_of_interest": [("2022-01-25T10:00", {"organisation_name": "=HYPERLINK(\"http://x\")"})]})  # fmt: skip
    rows = list(csv.DictReader(io.StringIO(cases_csv(d.engine.store, d.programme, "application"))))
    assert rows[0]["What is your organisation's name?"].startswith("'=")


def test_control_characters_stored_before_input_was_cleaned_never_reach_a_spreadsheet(
    tmp_path: Path,
) -> None:
    d = Data(tmp_path, "liverpool.yaml")
    d.case("application", "eoi_submitted", "org_x", forms={
        "liverpool_expression_of_interest": [("2022-01-25T10:00", {"organisation_name": "Good\u202e Org\x1b[2J\x00"})]})  # fmt: skip
    rows = list(csv.DictReader(io.StringIO(cases_csv(d.engine.store, d.programme, "application"))))
    assert rows[0]["What is your organisation's name?"] == "Good Org[2J"


def test_a_spreadsheet_of_cases_reads_in_words_not_in_the_programme_files_ids(
    tmp_path: Path,
) -> None:
    d = Data(tmp_path, "bradford.yaml")
    with d.engine.store.transaction():
        d.engine.store.ensure_organisation("riverside", "Riverside Wellbeing CIO", "2024-01-01")
    d.case("application", "submitted", "riverside", lot="lot_1", created="2024-02-19T11:00", forms={
        "bradford_lead_eoi": [("2024-02-20T10:00", {"lot": "lot_1", "organisation_type": "cio"})]})  # fmt: skip
    d.case("referral", "supported", "riverside", created="2024-05-01T09:00", forms={"bradford_referral": [
        ("2024-05-01T10:00", {"referral_date": "2024-05-01", "referral_source": "mdt"})]})  # fmt: skip
    reader = csv.DictReader(io.StringIO(cases_csv(d.engine.store, d.programme)))
    header = reader.fieldnames or []
    application, referral = list(reader)
    assert header[:6] == ["Reference", "Kind of case", "Status", "Organisation", "Lot", "Started"]
    assert len(set(header)) == len(header)  # a spreadsheet or a DictReader keeps one of two alike
    assert not [h for h in header if "_" in h or h.islower()]  # no question or column ids
    assert application["Kind of case"] == "Expression of interest"
    assert application["Status"] == "Expression of interest submitted"
    assert application["Organisation"] == "Riverside Wellbeing CIO"
    assert application["Lot"] == "Lot 1 — PCN 4, PCN 5, PCN 6"
    assert application["Which lot do you want to be the Lead Service Provider for?"] == (
        "Lot 1 — PCN 4, PCN 5, PCN 6"
    )
    assert (
        application["What type of organisation is it?"]
        == "Charitable incorporated organisation (CIO)"
    )
    assert application["Started"] == "11am on Monday 19 February 2024"
    assert referral["On what date was the person referred?"] == "1 May 2024"
    assert referral["Who referred the person?"] == "Multi-Disciplinary Team (MDT)"


def test_columns_whose_names_would_repeat_are_told_apart_by_their_form() -> None:
    def q(qid: str, label: str) -> Question:
        return Question(qid, "text", label, False, {})

    forms = {
        "eoi": Form("eoi", "Expression of interest", (("about", "About the bid", (q("lot", "Lot"), q("a", "Amount"))),), {}),
        "ret": Form("ret", "Quarterly return", (("money", "Money", (q("b", "Amount"), q("c", "Amount"))),), {}),
    }  # fmt: skip
    programme = Programme("p", "P", "Europe/London", "v", "p.yaml", {}, forms, {}, {})
    questions = [q for form in forms.values() for q in form.questions().values()]
    assert column_names(["Reference", "Lot"], programme, questions) == [
        "Reference", "Lot", "Lot (Expression of interest)", "Amount (Expression of interest)",
        "Amount (Quarterly return)", "Amount (Money)"]  # fmt: skip


def test_awards_download_with_organisation_names_amounts_and_dates_in_words(
    tmp_path: Path,
) -> None:
    d = liverpool_awards(tmp_path)
    with d.engine.store.transaction():
        d.engine.store.ensure_organisation("org_0", "Dingle Family Hub", "2022-01-01")
    rows = list(csv.DictReader(io.StringIO(awards_csv(d.engine.store, d.programme))))
    assert rows[0] == {"Reference": rows[0]["Reference"], "Organisation": "Dingle Family Hub", "Lot": "",
                       "Amount awarded": "100000", "Awarded": "midday on Tuesday 1 March 2022"}  # fmt: skip


def test_a_spreadsheet_of_cases_is_written_a_batch_at_a_time_header_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from engine.reporting import export

    d = Data(tmp_path, "bradford.yaml")
    for n in range(5):
        d.case("referral", "supported", "horton_park", forms={"bradford_referral": [
            ("2024-05-01T10:00", {"referral_date": f"2024-05-0{n + 1}", "referral_source": "mdt"})]})  # fmt: skip
    monkeypatch.setattr(export, "BATCH", 2)
    asked: list[int] = []
    read = d.engine.store.cases_after
    monkeypatch.setattr(d.engine.store, "cases_after",
                        lambda *a: asked.append(len(rows := read(*a))) or rows)  # fmt: skip
    lines = export.cases_csv_lines(d.engine.store, d.programme, "referral")
    assert next(lines).startswith("Reference,Kind of case,Status")  # before any case is read
    assert asked == []
    chunks = list(lines)
    assert asked == [2, 2, 1, 0] and len(chunks) == 3  # never more than a batch in hand
    rows = list(csv.reader(io.StringIO("".join(chunks))))
    assert [r[0] for r in rows] == sorted(r[0] for r in rows) and len(rows) == 5
