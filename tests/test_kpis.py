"""KPIs computed from the programmes' own definitions, checked against values worked by hand."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from engine.reporting.kpis import KpiCalculator, period_of, rag
from engine.reporting.suppression import suppress
from engine.runtime import Engine

from .conftest import ROOT
from .databases import database_in

LONDON = ZoneInfo("Europe/London")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=LONDON)


class Data:
    """Cases and answers written straight into a store: fixed data for fixed answers."""

    def __init__(self, tmp_path: Path, programme: str) -> None:
        self.engine = Engine(database_in(tmp_path, "kpi"), clock=lambda: at("2022-01-01T00:00"))
        self.programme, _ = self.engine.publish(ROOT / "programmes" / programme)

    def case(self, workflow: str, state: str, org: str, *, lot: str | None = None, created: str = "2022-04-01T09:00",
             entered: dict[str, str] | None = None, forms: dict[str, list[tuple[str, dict]]] | None = None) -> int:  # fmt: skip
        store = self.engine.store
        when = at(created).isoformat()
        with store.transaction():
            case_id = store.insert_case({
                "programme_id": self.programme.id, "version": self.programme.version, "workflow": workflow,
                "state": state, "organisation_id": org, "subject": None, "role": None, "lot": lot, "parent_id": None,
                "entered": {k: at(v).isoformat() for k, v in (entered or {}).items()}, "created_at": when,
            }, "T")  # fmt: skip
            for form, records in (forms or {}).items():
                for number, (submitted, data) in enumerate(records, 1):
                    store.save_answers(
                        case_id, form, number, data, at(submitted).isoformat(), submitted=True
                    )
        return case_id

    def kpis(self, now: str) -> KpiCalculator:
        return KpiCalculator(self.engine.store, self.programme, at(now))


def value(
    calc: KpiCalculator, kpi_id: str, period_start: str, by: str = "programme"
) -> dict[str, float | None]:
    kpi = next(k for k in calc.programme.data["kpis"] if k["id"] == kpi_id)
    period = period_of(kpi["period"], at(period_start), calc.tz)
    return {v.group: v.value for v in calc.value(kpi, period, by)}


RETURN = "liverpool_quarterly_monitoring_return"


def test_liverpool_returns_are_summed_and_averaged_per_quarter_and_organisation(
    tmp_path: Path,
) -> None:
    d = Data(tmp_path, "liverpool.yaml")
    d.case("contract", "delivering", "org_a", forms={RETURN: [
        ("2022-05-10T09:00", {"people_accessing": 120, "grassroots_partners_engaged": 3}),
        ("2022-08-09T09:00", {"people_accessing": 150, "grassroots_partners_engaged": 5})]})  # fmt: skip
    d.case("contract", "delivering", "org_b", forms={RETURN: [
        ("2022-05-11T09:00", {"people_accessing": 80, "grassroots_partners_engaged": 2})]})  # fmt: skip
    calc = d.kpis("2023-03-01T00:00")
    # Q1 2022/23 (April–June): 120 + 80; Q2 (July–September): 150
    assert value(calc, "people_accessing", "2022-05-01") == {"programme": 200.0}
    assert value(calc, "people_accessing", "2022-05-01", by="organisation") == {
        "org_a": 120.0,
        "org_b": 80.0,
    }
    assert value(calc, "people_accessing", "2022-08-01") == {"programme": 150.0}
    assert value(calc, "people_accessing", "2022-11-01") == {"programme": None}  # no returns
    assert value(calc, "grassroots_partners_engaged", "2022-05-01", by="organisation") == {
        "org_a": 3.0,
        "org_b": 2.0,
    }
    assert value(calc, "grassroots_partners_engaged", "2022-05-01") == {"programme": 2.5}
    assert value(calc, "quarterly_returns_received", "2022-05-01", by="organisation") == {
        "org_a": 2.0,
        "org_b": 1.0,
    }


def test_a_quarter_without_returns_is_not_reported_but_a_reported_zero_is_zero(
    tmp_path: Path,
) -> None:
    d = Data(tmp_path, "liverpool.yaml")
    d.case("contract", "delivering", "org_a", forms={RETURN: [
        ("2022-05-10T09:00", {"people_accessing": 0, "surveys_completed": 0})]})  # fmt: skip
    d.case("contract", "delivering", "org_b")  # sends nothing
    calc = d.kpis("2023-03-01T00:00")
    rows = {}
    for kpi_id, start in [("people_accessing", "2022-05-01"), ("people_accessing", "2022-08-01"),
                          ("quarterly_returns_received", "2022-08-01")]:  # fmt: skip
        kpi = next(k for k in calc.programme.data["kpis"] if k["id"] == kpi_id)
        [row] = calc.value(kpi, period_of("quarter", at(start), LONDON))
        rows[(kpi_id, start)] = (row.value, row.reported)
    assert rows == {
        ("people_accessing", "2022-05-01"): (0.0, True),  # org_a reported none: a real 0
        ("people_accessing", "2022-08-01"): (None, False),  # nobody sent a return
        ("quarterly_returns_received", "2022-08-01"): (None, False),  # a count too: not 0
    }
    kpi = next(k for k in calc.programme.data["kpis"] if k["id"] == "people_accessing")
    by_org = calc.value(kpi, period_of("quarter", at("2022-05-01"), LONDON), "organisation")
    assert {v.group: v.value for v in by_org} == {"org_a": 0.0}  # org_b is not a 0 either


def test_liverpool_projects_commissioned_against_its_maximum(tmp_path: Path) -> None:
    d = Data(tmp_path, "liverpool.yaml")
    for org in ("a", "b", "c"):
        d.case("application", "awarded", f"org_{org}")
    d.case("application", "rejected", "org_d")
    [row] = d.kpis("2022-06-01T00:00").table(
        "contract", at("2022-01-01T00:00"), at("2023-04-01T00:00")
    )[-1:]
    assert (row.kpi, row.value, row.target, row.rag) == ("projects_commissioned", 3.0, 14, "green")


def llr_person(d: Data, org: str, baseline: int, review: int | None, *, jointly: bool = True,
               assessed: str = "2022-05-02", reviewed: str = "2022-06-13") -> int:  # fmt: skip
    forms = {
        "llr_baseline_assessment": [
            (
                f"{assessed}T10:00",
                {
                    "assessment_date": assessed,
                    "completed_jointly": jointly,
                    "baseline_total": baseline,
                },
            )
        ]
    }
    if review is not None:
        forms["llr_outcome_review"] = [
            (
                f"{reviewed}T10:00",
                {"review_date": reviewed, "completed_jointly": jointly, "review_total": review},
            )
        ]
    return d.case("referral", "active", org, entered={"active": f"{assessed}T10:00"}, forms=forms)


def test_llr_outcome_measures_from_case_records(tmp_path: Path) -> None:
    d = Data(tmp_path, "llr_hubs.yaml")
    llr_person(d, "hub", 20, 28)  # progress +8
    llr_person(d, "hub", 25, 27)  # progress +2
    llr_person(d, "hub", 30, 30)  # no progress
    llr_person(d, "hub", 22, 18)  # went backwards
    llr_person(d, "hub", 24, None)  # not reviewed yet: not in the progress measures
    calc = d.kpis("2022-06-20T00:00")
    assert value(calc, "average_score_at_assessment", "2022-05-01") == {
        "programme": (20 + 25 + 30 + 22 + 24) / 5
    }
    assert value(calc, "positive_progress", "2022-05-01") == {
        "programme": 50.0
    }  # 2 of the 4 reviewed
    assert value(calc, "average_change_for_progressing", "2022-05-01") == {
        "programme": 5.0
    }  # (8 + 2) / 2


def test_llr_files_up_to_date_against_the_90_percent_target(tmp_path: Path) -> None:
    d = Data(tmp_path, "llr_hubs.yaml")
    for _ in range(9):
        llr_person(d, "hub", 20, 24)
    llr_person(d, "hub", 20, 24, jointly=False)  # not completed jointly
    calc = d.kpis("2022-06-20T00:00")
    kpi = next(k for k in calc.programme.data["kpis"] if k["id"] == "crs_files_up_to_date")
    [row] = calc.value(kpi, period_of("quarter", at("2022-05-01"), LONDON))
    assert (row.value, row.rag) == (90.0, "green")
    llr_person(
        d, "hub", 20, 24, jointly=False
    )  # 9 of 11 is under 90%: red (amber and green share 90)
    [row] = d.kpis("2022-06-20T00:00").value(kpi, period_of("quarter", at("2022-05-01"), LONDON))
    assert row.rag == "red" and row.value == pytest.approx(900 / 11)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(90, "green"), (89.9, "amber"), (80, "amber"), (79.9, "red"), (None, None)],
)
def test_rag_thresholds_at_their_edges(value: float | None, expected: str | None) -> None:
    kpi = {"target": {"value": 90, "direction": "at_least"}, "rag": {"green": 90, "amber": 80}}
    assert rag(kpi, value) == expected


@pytest.mark.parametrize(
    ("value", "expected"), [(5, "green"), (5.1, "amber"), (10, "amber"), (10.5, "red")]
)
def test_rag_for_a_target_to_stay_under(value: float, expected: str) -> None:
    kpi = {"target": {"value": 5, "direction": "at_most"}, "rag": {"green": 5, "amber": 10}}
    assert rag(kpi, value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(96, "green"), (95, "green"), (92, "amber"), (90, "amber"), (89.9, "red"), (None, None)],
)
def test_rag_is_green_at_the_target_amber_down_to_its_threshold_and_red_below(
    value: float | None, expected: str | None
) -> None:
    # the case: a 95% target with amber down to 90%, where 92% was shown green
    assert rag({"target": {"value": 95}, "rag": {"amber": 90}}, value) == expected


@pytest.mark.parametrize(
    ("value", "expected"), [(3, "green"), (5, "green"), (7, "amber"), (10, "amber"), (10.5, "red")]
)
def test_rag_bands_are_the_mirror_image_for_a_target_to_stay_under(
    value: float, expected: str
) -> None:
    assert (
        rag({"target": {"value": 5, "direction": "at_most"}, "rag": {"amber": 10}}, value)
        == expected
    )


def test_rag_with_a_target_alone_or_thresholds_alone() -> None:
    assert [rag({"target": {"value": 95}}, v) for v in (95, 94.9)] == ["green", "red"]
    no_target = {"rag": {"green": 50, "amber": 40}}
    assert [rag(no_target, v) for v in (50, 45, 39)] == ["green", "amber", "red"]
    assert rag({}, 12) is None


def test_a_period_after_today_has_no_figure_not_even_a_zero(tmp_path: Path) -> None:
    d = Data(tmp_path, "liverpool.yaml")
    d.case("contract", "delivering", "org_a", forms={RETURN: [
        ("2022-05-10T09:00", {"people_accessing": 120})]})  # fmt: skip
    delivering = {"id": "delivering", "title": "Contracts being delivered", "source": "cases",
                  "workflow": "contract", "states": ["delivering"], "measure": "count"}  # fmt: skip
    people = returns_kpi(measure="sum", field="people_accessing")

    def rows(calc: KpiCalculator, kpi: dict, start: str, by: str = "programme") -> list[tuple]:
        period = period_of("quarter", at(start), LONDON)
        return [(v.group, v.value, v.reported) for v in calc.value(kpi, period, by)]

    calc = d.kpis("2022-06-15T12:00")
    assert rows(calc, delivering, "2022-04-01") == [("programme", 1.0, True)]  # so far this quarter
    # next quarter has not begun: not 1 (the contract as it will stand), and not 0
    assert rows(calc, delivering, "2022-07-01") == [("programme", None, False)]
    assert rows(calc, people, "2022-07-01") == [("programme", None, False)]
    assert rows(calc, delivering, "2022-07-01", "organisation") == []
    # a rehearsal whose clock is set before its data shows that data, and nothing after it
    rehearsal = d.kpis("2022-01-20T10:00")
    assert rows(rehearsal, delivering, "2022-04-01") == [("programme", 1.0, True)]
    assert rows(rehearsal, people, "2022-04-01") == [("programme", 120.0, True)]
    assert rows(rehearsal, delivering, "2022-07-01") == [("programme", None, False)]


def test_small_counts_are_suppressed_in_anonymised_reports(tmp_path: Path) -> None:
    d = Data(tmp_path, "bradford.yaml")
    for n in range(3):
        d.case("referral", "supported", "horton_park", created=f"2024-05-0{n + 1}T09:00")
    for n in range(7):
        d.case("referral", "supported", "bingley_hub", created=f"2024-05-1{n}T09:00")
    calc = d.kpis("2024-06-01T00:00")
    kpi = next(k for k in calc.programme.data["kpis"] if k["id"] == "people_supported")
    rows = suppress(
        calc.value(kpi, period_of("month", at("2024-05-15"), LONDON), "organisation"), below=5
    )
    assert {r["group"]: (r["value"], r["suppressed"]) for r in rows} == {
        "bingley_hub": (7.0, False), "horton_park": (None, True)}  # fmt: skip


def returns_kpi(**spec: object) -> dict[str, object]:
    """A KPI over the monitoring returns, as a programme could define one."""
    return {"id": "k", "title": "K", "source": "returns", "form": RETURN, "measure": "count"} | spec


@pytest.mark.parametrize(
    "few_cases", [50, 0]
)  # each case's records read one by one, or all at once
def test_filters_see_exactly_what_each_return_and_case_holds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, few_cases: int
) -> None:
    monkeypatch.setattr("engine.reporting.kpis._FEW_CASES", few_cases)
    d = Data(tmp_path, "liverpool.yaml")
    upload = {"id": "u1", "name": "receipts.pdf"}
    d.case("contract", "delivering", "org_a", forms={RETURN: [
        ("2022-05-10T09:00", {"grassroots_partners_engaged": 1, "spend_evidence_upload": upload}),
        ("2022-05-20T09:00", {"grassroots_partners_engaged": 1.0})]})  # fmt: skip
    d.case("contract", "signed", "org_b", forms={RETURN: [
        ("2022-05-11T09:00", {"grassroots_partners_engaged": True})]})  # fmt: skip
    d.case("contract", "delivering", "org_c", forms={RETURN: [
        ("2022-05-12T09:00", {"grassroots_partners_engaged": 2, "spend_evidence_upload": upload})]})  # fmt: skip
    calc = d.kpis("2023-03-01T00:00")
    quarter = period_of("quarter", at("2022-05-01"), LONDON)

    def counts(by: str = "programme", **spec: object) -> dict[str, float | None]:
        return {v.group: v.value for v in calc.value(returns_kpi(**spec), quarter, by)}

    # 1, 1.0 and True are equal in Python but not to CEL, which adds only like to like
    assert counts(where="grassroots_partners_engaged + 1 == 2") == {"programme": 1.0}
    assert counts(where="grassroots_partners_engaged == 1") == {"programme": 2.0}  # 1 and 1.0
    # a filter reading one answer and the case's state
    assert counts(
        "organisation", where='has(answers.spend_evidence_upload) && case.state == "delivering"'
    ) == {"org_a": 1.0, "org_b": 0.0, "org_c": 1.0}  # org_b reported, and none of its returns count
    assert counts(where="size(answers) > 1") == {"programme": 2.0}  # reads every answer
    assert counts(where="case.flags.size() == 0 && size(case.entered) == 0") == {"programme": 4.0}
    # the case's other records: org_a has sent two returns, so both of its returns count
    records = f"size(case.records.{RETURN}) > 1"
    assert counts("organisation", where=records) == {"org_a": 2.0, "org_b": 0.0, "org_c": 0.0}
    assert counts(where=f'size(case.records["{RETURN}"]) == 1') == {"programme": 2.0}
    # a percentage: 3 of the 4 returns come from contracts being delivered
    assert counts(measure="percentage", numerator='case.state == "delivering"') == {
        "programme": 75.0
    }


def _moved(d: Data, case_id: int, moves: list[tuple[str, str | None, str]]) -> None:
    """Give a case its audit trail of moves (when, from, to) and its last change time."""
    store = d.engine.store
    with store.transaction():
        for when, before, after in moves:
            store.audit(case_id, at(when).isoformat(), "caseworker", None, "move", before, after,
                        d.programme.version, {})  # fmt: skip
        store.execute(
            "UPDATE cases SET updated_at = ? WHERE id = ?", (at(moves[-1][0]).isoformat(), case_id)
        )


def test_cases_are_counted_as_they_stood_at_the_end_of_each_period(tmp_path: Path) -> None:
    d = Data(tmp_path, "llr_hubs.yaml")
    baseline = {"llr_baseline_assessment": [("2022-06-01T10:00", {
        "assessment_date": "2022-06-01", "completed_jointly": True, "baseline_total": 20})]}  # fmt: skip
    # A: supported through the spring, discharged in August (so no longer "active" today)
    a = d.case("referral", "discharged", "hub", forms=baseline,
               entered={"active": "2022-04-01T09:00", "discharged": "2022-08-10T09:00"})  # fmt: skip
    _moved(
        d, a, [("2022-04-01T09:00", None, "active"), ("2022-08-10T09:00", "active", "discharged")]
    )
    # B: active all along
    b = d.case("referral", "active", "hub", forms=baseline, entered={"active": "2022-04-01T09:00"})
    _moved(d, b, [("2022-04-01T09:00", None, "active")])
    # C: discharged in May, back in September: active today, but not at the end of June
    c = d.case("referral", "active", "hub",
               entered={"active": "2022-09-01T09:00", "discharged": "2022-05-15T09:00"})  # fmt: skip
    _moved(d, c, [("2022-04-01T09:00", None, "active"), ("2022-05-15T09:00", "active", "discharged"),
                  ("2022-09-01T09:00", "discharged", "active")])  # fmt: skip
    calc = d.kpis("2022-09-20T00:00")
    kpi = next(k for k in calc.programme.data["kpis"] if k["id"] == "crs_files_up_to_date")
    [spring] = calc.value(kpi, period_of("quarter", at("2022-05-01"), LONDON))
    assert (spring.count, spring.value) == (2, 100.0)  # A and B, both assessed jointly in June
    [summer] = calc.value(kpi, period_of("quarter", at("2022-08-01"), LONDON))
    assert (summer.count, summer.value) == (2, 0.0)  # B and C; June's assessments are too old
    # "people accessing": active, or discharged within the last 92 days, as at each period's end
    assert value(calc, "crs_people_accessing", "2022-05-01") == {"programme": 3.0}
    assert value(calc, "crs_people_accessing", "2022-08-01") == {"programme": 3.0}


def test_a_median_is_the_middle_answer_not_pulled_by_one_long_wait(tmp_path: Path) -> None:
    d = Data(tmp_path, "liverpool.yaml")
    for org, people in (("org_a", 10), ("org_b", 12), ("org_c", 398)):
        d.case("contract", "delivering", org,
               forms={RETURN: [("2022-05-10T09:00", {"people_accessing": people})]})  # fmt: skip
    calc = d.kpis("2023-03-01T00:00")
    quarter = period_of("quarter", at("2022-05-01"), LONDON)

    def figure(measure: str) -> float | None:
        kpi = returns_kpi(measure=measure, field="people_accessing", period="quarter")
        return calc.value(kpi, quarter, "programme")[0].value

    assert figure("median") == 12.0 and figure("average") == 140.0
    d.case("contract", "delivering", "org_d",
           forms={RETURN: [("2022-05-11T09:00", {"people_accessing": 20})]})  # fmt: skip
    calc = d.kpis("2023-03-01T00:00")
    assert figure("median") == 16.0  # an even number of answers: the mean of the middle two


def test_a_kpi_may_work_out_each_items_number_with_an_expression(tmp_path: Path) -> None:
    d = Data(tmp_path, "bradford.yaml")
    for born in ("1990-06-01", "2000-06-01", "1950-06-01", None):
        answers = {"referral_date": "2024-05-01"} | ({"date_of_birth": born} if born else {})
        d.case("referral", "referred", "horton_park",
               forms={"bradford_referral": [("2024-05-01T09:00", answers)]})  # fmt: skip
    calc = d.kpis("2024-12-01T00:00")
    kpi = {"id": "k", "title": "Median age", "source": "cases", "workflow": "referral",
           "measure": "median", "value": "age(date_of_birth, referral_date)", "period": "quarter"}  # fmt: skip
    [figure] = calc.value(kpi, period_of("quarter", at("2024-05-01"), LONDON), "programme")
    assert figure.value == 33.0  # 73, 33 and 23; the person with no date of birth is not counted
