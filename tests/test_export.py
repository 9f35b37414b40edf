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
from engine.reporting.export import cases_csv, grants_360, records_csv

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
    assert full[0]["date_of_birth"] == "1980-02-03"
    assert "date_of_birth" not in anonymous[0] and "postcode" not in anonymous[0]
    assert anonymous[0]["referral_source"] == "mdt"
    records = list(
        csv.DictReader(
            io.StringIO(
                records_csv(d.engine.store, d.programme, "bradford_referral", anonymised=True)
            )
        )
    )
    assert "date_of_birth" not in records[0]


def test_a_formula_typed_as_an_answer_is_exported_as_text(tmp_path: Path) -> None:
    d = Data(tmp_path, "liverpool.yaml")
    d.case("application", "eoi_submitted", "org_x", forms={
        "liverpool_expression_of_interest": [("2022-01-25T10:00", {"organisation_name": "=HYPERLINK(\"http://x\")"})]})  # fmt: skip
    rows = list(csv.DictReader(io.StringIO(cases_csv(d.engine.store, d.programme, "application"))))
    assert rows[0]["organisation_name"].startswith("'=")


def test_control_characters_stored_before_input_was_cleaned_never_reach_a_spreadsheet(
    tmp_path: Path,
) -> None:
    d = Data(tmp_path, "liverpool.yaml")
    d.case("application", "eoi_submitted", "org_x", forms={
        "liverpool_expression_of_interest": [("2022-01-25T10:00", {"organisation_name": "Good\u202e Org\x1b[2J\x00"})]})  # fmt: skip
    rows = list(csv.DictReader(io.StringIO(cases_csv(d.engine.store, d.programme, "application"))))
    assert rows[0]["organisation_name"] == "Good Org[2J"
