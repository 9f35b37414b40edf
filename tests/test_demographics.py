"""People reached, counted by characteristic: hand-counted on fixed data, small counts hidden."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from engine.model import Question
from engine.reporting.demographics import (
    Breakdown,
    Person,
    age_on,
    band_labels,
    band_of,
    breakdown,
    breakdowns,
    hidden_keys,
    postcode_district,
)
from engine.runtime import Engine

from .conftest import EXAMPLE
from .databases import database_in

TZ = ZoneInfo("Europe/London")
WHEN = datetime(2022, 6, 1, 10, tzinfo=UTC)
SEX = Question("sex", "radios", "What is the person's sex?", True, {"options": [
    {"value": "female", "label": "Female"}, {"value": "male", "label": "Male"},
    {"value": "prefer_not_to_say", "label": "Prefer not to say"}]})  # fmt: skip
ETHNICITY = Question("ethnicity", "select", "Ethnic group", True, {"options": [
    {"value": "white_british", "label": "White British"}, {"value": "asian_indian", "label": "Indian"},
    {"value": "asian_pakistani", "label": "Pakistani"}, {"value": "white_irish", "label": "Irish"},
    {"value": "other", "label": "Any other"}]})  # fmt: skip
GROUPS = Question("groups", "checkboxes", "Groups", True, {"options": [
    {"value": "carer", "label": "A carer"}, {"value": "homeless", "label": "Homeless"}]})  # fmt: skip


def people(question: str, values: list[object], started: datetime = WHEN) -> list[Person]:
    """One person per value (None: not answered)."""
    return [Person("org", None, started, {} if v is None else {question: v}) for v in values]


def test_bands_are_named_from_where_each_starts() -> None:
    assert band_labels([18, 25, 65]) == ["under 18", "18 to 24", "25 to 64", "65 and over"]
    assert band_labels([16, 17, 18]) == ["under 16", "16", "17", "18 and over"]
    assert [band_of(v, [18, 25, 65]) for v in (17, 18, 24, 25, 64.5, 65, 90)] == [
        "under 18", "18 to 24", "18 to 24", "25 to 64", "25 to 64", "65 and over", "65 and over",
    ]  # fmt: skip


def test_age_counts_whole_years_to_the_birthday() -> None:
    assert age_on(date(2000, 6, 2), date(2022, 6, 1)) == 21
    assert age_on(date(2000, 6, 1), date(2022, 6, 1)) == 22
    assert age_on(date(2004, 2, 29), date(2022, 2, 28)) == 17


@pytest.mark.parametrize(
    ("value", "district"),
    [("LE11 3AB", "LE11"), ("le11 3ab", "LE11"), ("LE113AB", "LE11"), ("BD18", "BD18"),
     ("BD1 ", "BD1"), ("L2 2DH", "L2"), ("L22DH", "L2"), ("SW1A 1AA", "SW1A"), ("nonsense", None),
     ("", None), (None, None), (42, None)],
)  # fmt: skip
def test_a_postcode_is_only_ever_shown_as_its_district(value: object, district: str | None) -> None:
    assert postcode_district(value) == district


def test_people_are_counted_with_shares_of_those_who_answered_and_the_population_gap() -> None:
    spec = {"question": "sex", "title": "Sex",
            "compare_with": {"source": "Census", "shares": {"female": 51.0, "male": 49.0}}}  # fmt: skip
    b = breakdown(spec, SEX, people("sex", ["female"] * 6 + ["male"] * 3 + ["prefer_not_to_say", None]), 0, TZ)  # fmt: skip
    assert (b.title, b.people, b.answered, b.source) == ("Sex", 11, 10, "Census")
    rows = {c.label: (c.count, c.share, c.population) for c in b.categories}
    assert rows == {
        "Female": (6, 60.0, 51.0),
        "Male": (3, 30.0, 49.0),
        "Prefer not to say": (1, 10.0, None),
        "Not recorded": (1, None, None),
    }
    assert [c.label for c in b.categories][-1] == "Not recorded"
    assert [(c.label, round(c.gap or 0, 1)) for c in b.missing()] == [("Male", -19.0)]


def test_named_groups_count_their_options_together_and_others_on_their_own() -> None:
    spec = {"question": "ethnicity", "groups": {"White": ["white_british", "white_irish"],
                                                "Asian": ["asian_indian", "asian_pakistani"]}}  # fmt: skip
    answers = ["white_british", "white_irish", "white_british", "asian_pakistani", "other", "gone"]
    b = breakdown(spec, ETHNICITY, people("ethnicity", answers), 0, TZ)
    assert [(c.label, c.count) for c in b.categories] == [
        ("White", 3), ("Asian", 1), ("Any other", 1), ("gone", 1), ("Not recorded", 0),
    ]  # fmt: skip
    assert b.title == "Ethnic group"  # the question's label without a title


def test_a_date_of_birth_is_counted_as_the_age_band_when_the_case_started() -> None:
    dob = Question("date_of_birth", "date", "Date of birth", True, {})
    spec = {"question": "date_of_birth", "bands": [16, 18, 25]}
    started = datetime(2024, 7, 1, 9, tzinfo=UTC)
    # 16 on the day, 15 (16 tomorrow), 18, 24 (25 tomorrow), 25, and not a date
    born = ["2008-07-01", "2008-07-02", "2006-07-01", "1999-07-02", "1999-07-01", "not a date"]
    b = breakdown(spec, dob, people("date_of_birth", born, started), 0, TZ)
    assert [(c.label, c.count) for c in b.categories] == [
        ("under 16", 1), ("16 to 17", 1), ("18 to 24", 2), ("25 and over", 1), ("Not recorded", 1),
    ]  # fmt: skip
    assert all("2008" not in c.label for c in b.categories)


def test_postcodes_are_counted_by_district_in_natural_order() -> None:
    pc = Question("postcode", "postcode", "Postcode", True, {})
    b = breakdown({"question": "postcode"}, pc, people("postcode", ["LE11 3AB", "LE2", "LE11", "le2 1aa", "x"]), 0, TZ)  # fmt: skip
    assert [(c.label, c.count) for c in b.categories] == [("LE2", 2), ("LE11", 2), ("Not recorded", 1)]  # fmt: skip


def test_checkboxes_count_a_person_in_each_group_they_ticked() -> None:
    b = breakdown({"question": "groups"}, GROUPS, people("groups", [["carer", "homeless"], ["carer"], []]), 0, TZ)  # fmt: skip
    assert b.multiple and b.answered == 2
    assert [(c.label, c.count, c.share) for c in b.categories] == [
        ("A carer", 2, 100.0), ("Homeless", 1, 50.0), ("Not recorded", 1, None),
    ]  # fmt: skip


def test_counts_under_the_threshold_are_hidden_but_zero_and_the_threshold_itself_are_not() -> None:
    assert hidden_keys({"a": 5, "b": 4, "c": 0, "d": 1}, 5) == {"b", "d"}
    assert hidden_keys({"a": 5, "b": 5}, 5) == set()
    assert hidden_keys({"a": 1, "b": 2}, 0) == set()
    assert hidden_keys({"a": 1, "b": 2}, 1) == set()


def test_one_hidden_count_hides_the_next_smallest_so_it_cannot_be_worked_out() -> None:
    assert hidden_keys({"a": 20, "b": 7, "c": 2, "d": 0}, 5) == {"b", "c"}
    assert hidden_keys({"a": 20, "b": 7, "c": 7, "d": 2}, 5) == {"b", "d"}  # the first of a tie
    assert hidden_keys({"a": 20, "b": 2, "c": 3}, 5) == {"b", "c"}  # two already: nothing more
    assert hidden_keys({"a": 20, "b": 7, "c": 2}, 5, secondary=False) == {"c"}


def test_a_breakdown_hides_small_counts_and_their_shares() -> None:
    values = ["female"] * 8 + ["male"] * 6 + ["prefer_not_to_say"] * 2  # nobody unrecorded
    b = breakdown({"question": "sex"}, SEX, people("sex", values), 5, TZ)
    rows = {c.label: (c.count, c.share, c.hidden) for c in b.categories}
    assert rows["Female"] == (8, 50.0, False)
    assert rows["Prefer not to say"] == (None, None, True)
    assert rows["Male"] == (None, None, True)  # secondary: else 16 - 8 - 0 would give it away
    assert rows["Not recorded"] == (0, None, False)
    assert (b.people, b.answered, b.hidden_below) == (16, 16, 5)


def test_a_small_total_is_hidden_with_every_count() -> None:
    b = breakdown({"question": "sex"}, SEX, people("sex", ["female", "female", "male"]), 5, TZ)
    assert b.people is None and b.answered is None
    assert [c.count for c in b.categories] == [None, None, 0, 0]


def test_checkbox_counts_hide_alone_since_they_do_not_add_up_to_the_total() -> None:
    values = [["carer"]] * 6 + [["homeless"]] * 2
    b = breakdown({"question": "groups"}, GROUPS, people("groups", values), 3, TZ)
    assert [(c.label, c.count) for c in b.categories] == [("A carer", 6), ("Homeless", None), ("Not recorded", 0)]  # fmt: skip


PROGRAMME = """
reporting:
  anonymised: true
  suppress_below: 2
  demographics:
    - question: org_type
      title: Kind of organisation
      compare_with:
        source: The register
        shares: {charity: 70, cic: 30}
    - question: directors
      bands: [3, 5]
"""


def publish(tmp_path: Path, reporting: str = PROGRAMME) -> Engine:
    """The worked example with demographics, published to a fresh database."""
    text = (EXAMPLE / "programmes" / "tiny.yaml").read_text("utf-8") + reporting
    path = tmp_path / "programmes" / "tiny.yaml"
    path.parent.mkdir(parents=True)
    path.write_text(text, "utf-8")
    engine = Engine(database_in(tmp_path, "t"))
    engine.publish(path, EXAMPLE / "forms")
    return engine


def add_case(engine: Engine, org: str, when: str, answers: dict[str, object]) -> None:
    """An application of `org` started at `when` with these answers."""
    store = engine.store
    programme = engine.programme("tiny_grants")
    with store.transaction():
        case = store.insert_case({
            "programme_id": "tiny_grants", "version": programme.version, "workflow": "application",
            "state": "submitted", "organisation_id": org, "subject": None, "role": None, "lot": None,
            "parent_id": None, "entered": {}, "created_at": when}, "TG")  # fmt: skip
        store.save_answers(case, "tiny_eoi", 1, answers, when, submitted=True)


def test_breakdowns_read_the_cases_and_filter_by_organisation_and_date(tmp_path: Path) -> None:
    engine = publish(tmp_path)
    add_case(engine, "a", "2022-01-05T10:00:00+00:00", {"org_type": "charity", "directors": 2})
    add_case(engine, "a", "2022-02-05T10:00:00+00:00", {"org_type": "charity", "directors": 4})
    add_case(engine, "b", "2022-02-06T10:00:00+00:00", {"org_type": "cic", "directors": 6})
    add_case(engine, "b", "2022-03-06T10:00:00+00:00", {"org_type": "charity"})
    add_case(engine, "c", "2022-03-07T10:00:00+00:00", {"org_name": "C"})
    programme = engine.programme("tiny_grants")
    kind, directors = breakdowns(engine.store, programme)
    # 3 charities, 1 CIC and 1 not recorded: both ones are under 2, so hidden; two are hidden
    # already, so neither can be worked out from the total of 5
    assert (kind.people, kind.answered) == (5, 4)
    assert [(c.key, c.count, c.share, c.population) for c in kind.categories] == [
        ("charity", 3, 75.0, 70.0), ("cic", None, None, 30.0), ("not_recorded", None, None, None),
    ]  # fmt: skip
    assert [(c.label, c.count) for c in directors.categories] == [
        ("under 3", None), ("3 to 4", None), ("5 and over", None), ("Not recorded", 2),
    ]  # fmt: skip
    only_b = breakdowns(engine.store, programme, organisation="b")[0]
    assert (only_b.people, only_b.answered) == (2, 2)
    february = breakdowns(engine.store, programme, start=datetime(2022, 2, 1, tzinfo=TZ),
                          end=datetime(2022, 3, 1, tzinfo=TZ))[0]  # fmt: skip
    assert february.people == 2


def test_an_anonymised_programme_with_no_threshold_still_hides_counts_under_five(
    tmp_path: Path,
) -> None:
    engine = publish(tmp_path, PROGRAMME.replace("  suppress_below: 2\n", ""))
    for i in range(6):
        add_case(engine, f"o{i}", "2022-01-05T10:00:00+00:00", {"org_type": "charity"})
    add_case(engine, "z", "2022-01-05T10:00:00+00:00", {"org_type": "cic"})
    programme = engine.programme("tiny_grants")
    assert programme.suppress_below() == 5
    kind = breakdowns(engine.store, programme)[0]
    counts = {c.key: c.count for c in kind.categories}
    assert counts["cic"] is None  # one organisation: never shown as "1"
    assert counts["charity"] is None  # …nor worked out as the total less the rest


def test_people_kept_between_views_are_counted_as_afresh_after_each_change(tmp_path: Path) -> None:
    from engine.reporting import memo, people_kept
    from engine.runtime import Actor

    from .clock import Clock

    engine = publish(tmp_path)
    engine._clock = Clock("2022-01-10T10:00")  # type: ignore[attr-defined]  # the round is open
    programme = engine.programme("tiny_grants")

    def afresh(**filters: object) -> list[Breakdown]:
        people_kept._kept.clear()
        memo._kept.clear()
        engine.store.execute("DELETE FROM kept_figures")  # nor kept for other processes
        return breakdowns(engine.store, programme, **filters)  # type: ignore[arg-type]

    def apply(org: str, **answers: object) -> int:
        actor = Actor("applicant", f"{org}@example.org", org)
        case = engine.start_case("tiny_grants", "application", actor, organisation_name=org.title())
        engine.save_answers(case.id, "tiny_eoi", answers, actor)
        return case.id

    first = [apply(f"o{i}", org_type="charity", directors=2 + i) for i in range(4)]
    seen = breakdowns(engine.store, programme)
    assert seen == afresh() and seen[0].people == 4
    breakdowns(engine.store, programme)  # kept: the next view reads only what changed
    steps = [
        lambda: engine.save_answers(first[0], "tiny_eoi", {"org_type": "cic"},
                                    Actor("applicant", "o0@example.org", "o0")),  # an answer changed
        lambda: apply("late", org_type="cic", directors=9),  # a new case
        lambda: engine.save_answers(first[1], "tiny_eoi", {"directors": None},
                                    Actor("applicant", "o1@example.org", "o1")),  # an answer cleared
    ]  # fmt: skip
    for step in steps:
        step()
        kept = breakdowns(engine.store, programme)
        only_o0 = breakdowns(engine.store, programme, organisation="o0")
        assert kept == afresh() and only_o0 == afresh(organisation="o0")
    kind, directors = breakdowns(engine.store, programme)
    assert (kind.people, kind.answered, directors.people) == (5, 5, 5)
    assert {c.key: c.count for c in kind.categories}["cic"] == 2


def test_a_process_starting_counts_again_only_the_cases_changed_since_they_were_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """People reached counted by one web process are kept in the database: another (or the same
    after a restart) reads them and counts again only the cases changed since."""
    from engine.reporting import memo, people_kept
    from engine.runtime import Actor

    from .clock import Clock

    engine = publish(tmp_path)
    engine._clock = Clock("2022-01-10T10:00")  # type: ignore[attr-defined]  # the round is open
    programme = engine.programme("tiny_grants")
    actors = [Actor("applicant", f"o{i}@example.org", f"o{i}") for i in range(4)]
    cases = [engine.start_case("tiny_grants", "application", a, organisation_name=a.organisation).id
             for a in actors]  # fmt: skip
    for i, (case, actor) in enumerate(zip(cases, actors, strict=True)):
        engine.save_answers(case, "tiny_eoi", {"org_type": "charity", "directors": 2 + i}, actor)
    before = breakdowns(engine.store, programme)
    engine.save_answers(cases[0], "tiny_eoi", {"org_type": "cic"}, actors[0])
    people_kept._kept.clear()  # a process that has counted nothing itself
    memo._kept.clear()
    read: list[object] = []
    monkeypatch.setattr(engine.store, "programme_cases", lambda *a: read.append(a) or [])
    kind, _directors = breakdowns(engine.store, programme)
    # one organisation's: the cases themselves, made from the copy kept only now they are asked for
    only = breakdowns(engine.store, programme, organisation="o1")
    assert read == []  # every case was not read again: only the one changed
    monkeypatch.undo()
    people_kept._kept.clear()
    memo._kept.clear()
    engine.store.execute("DELETE FROM kept_figures")
    afresh = breakdowns(engine.store, programme)
    assert kind == afresh[0] and afresh != before  # the change counted
    assert only == breakdowns(engine.store, programme, organisation="o1") != afresh


def test_removing_a_cases_personal_data_lets_go_of_the_figures_kept_from_it(tmp_path: Path) -> None:
    """People reached keeps each case's categories in the database: when a case's personal data
    is removed (or erased), every figure kept for its programme goes in the same transaction,
    and a process that worked them out before cannot keep them again afterwards."""
    from engine.reporting import memo, people_kept

    engine = publish(tmp_path)
    for i in range(3):
        add_case(engine, f"o{i}", "2022-01-05T10:00:00+00:00", {"org_type": "charity"})
    programme = engine.programme("tiny_grants")
    store = engine.store
    breakdowns(store, programme)
    assert store.kept_figures("people:tiny_grants") is not None
    before = store.revision()[1]
    case = store.programme_cases("tiny_grants")[0]
    with store.transaction():
        store.remove_case_content(case["id"], "2022-06-01T00:00:00+00:00")
        store.audit(case["id"], "2022-06-01T00:00:00+00:00", "system", "retention", "retention_delete",
                    case["state"], case["state"], case["version"], {})  # fmt: skip
    assert store.kept_figures("people:tiny_grants") is None
    # worked out before the removal, kept after it: refused
    assert not store.keep_figures("tiny_grants", "people:tiny_grants", before, b"stale", "2022-06-01T00:00:01+00:00")  # fmt: skip
    assert store.kept_figures("people:tiny_grants") is None
    people_kept._kept.clear()
    memo._kept.clear()
    kind = breakdowns(store, programme)[0]
    assert (kind.people, kind.answered) == (3, 2)  # counted again: the removed answers are not
    assert store.kept_figures("people:tiny_grants") is not None  # and kept again
