"""Commissioners' KPI tables and charts, and meeting packs in the browser."""

from __future__ import annotations

import re
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

from engine.runtime import Actor, Engine

from ..conftest import EXAMPLE, ROOT
from ..test_demographics import PROGRAMME, add_case
from ..test_meetings import DELIVERING
from .conftest import LIVERPOOL, Clock
from .conftest import text as page_text
from .panel import person

RETURN = "liverpool_quarterly_monitoring_return"


def seed_returns(app: Flask, clock: Clock) -> None:
    """Two Liverpool contracts with awards; one sends its May return, one does not."""
    engine = Engine(app.config["DATABASE"], clock=clock)
    store = engine.store
    programme = engine.programme(LIVERPOOL)
    with store.transaction():
        for n, org in enumerate(("org_a", "org_b")):
            case = store.insert_case({
                "programme_id": LIVERPOOL, "version": programme.version, "workflow": "contract", "state": "delivering",
                "organisation_id": org, "subject": None, "role": None, "lot": None, "parent_id": None,
                "entered": {}, "created_at": "2022-03-01T09:00:00+00:00"}, "LIV")  # fmt: skip
            store.insert_award(
                case, LIVERPOOL, None, 100000 - 40000 * n, "2022-03-01T12:00:00+00:00"
            )
            if org == "org_a":
                store.save_answers(case, RETURN, 1, {"people_accessing": 120, "spend_this_quarter": 30000},
                                   "2022-05-10T09:00:00+00:00", submitted=True)  # fmt: skip
        store.pin(
            LIVERPOOL,
            "review:quarterly_monitoring_meeting:0",
            "2022-05-18T09:00:00+00:00",
            "t",
            "t",
        )


def test_the_kpi_page_shows_each_kpi_with_a_chart_and_its_numbers(app: Flask, clock: Clock) -> None:
    clock.set("2022-09-01T09:00")
    seed_returns(app, clock)
    cora = person(app, "cora@council.example", "commissioner")
    r = cora.get(f"/commission/{LIVERPOOL}/kpis?from=2022-04&to=2022-06")
    assert r.status_code == 200
    page = r.data.decode()
    assert page.count("<svg") >= 10 and 'role="img"' in page  # a picture per KPI
    words = page_text(r)
    assert "Numbers accessing" in words and "Q1 2022/23" in words and "120" in words
    by_org = page_text(
        cora.get(f"/commission/{LIVERPOOL}/kpis?from=2022-04&to=2022-06&by=organisation")
    )
    assert "org_a" in by_org
    assert cora.get(f"/commission/{LIVERPOOL}/kpis?by=everyone").status_code == 400


def test_a_meeting_pack_lists_missing_returns_and_spend_and_downloads(
    app: Flask, clock: Clock
) -> None:
    clock.set("2022-05-19T09:00")
    seed_returns(app, clock)
    cora = person(app, "cora@council.example", "commissioner")
    listing = page_text(cora.get(f"/commission/{LIVERPOOL}/meetings"))
    assert "May 2022" in listing and "date not pinned yet" in listing  # August onwards
    r = cora.get(f"/commission/{LIVERPOOL}/meetings/quarterly_monitoring_meeting/1")
    assert r.status_code == 200
    words = page_text(r)
    assert "1 received, 1 missing" in words and "Missing" in words
    assert "£30,000" in words and "£70,000" in words  # org_a spent £30,000 of £100,000
    csv = cora.get(f"/commission/{LIVERPOOL}/meetings/quarterly_monitoring_meeting/1?format=csv")
    assert csv.mimetype == "text/csv" and ",Missing" in csv.data.decode()
    assert (
        "Organisation,Due,Received" in csv.data.decode()
        and "Wednesday 11 May 2022" in csv.data.decode()
    )
    assert (
        cora.get(f"/commission/{LIVERPOOL}/meetings/quarterly_monitoring_meeting/9").status_code
        == 404
    )


def test_applicants_cannot_see_kpis_or_meeting_packs(
    app: Flask, clock: Clock, tmp_path: Path
) -> None:
    ann = person(app, "ann@small.example", "applicant", "small_org")
    for url in (f"/commission/{LIVERPOOL}/kpis", f"/commission/{LIVERPOOL}/meetings",
                f"/commission/{LIVERPOOL}/meetings/quarterly_monitoring_meeting/1"):  # fmt: skip
        assert ann.get(url).status_code in (403, 404)


def table_rows(html: str, caption: str) -> list[list[str]]:
    """The cells of each body row of the table with this caption, as text."""
    start = html.index(caption)
    body = html[html.index("<tbody", start) : html.index("</tbody>", start)]
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", body, flags=re.S)
    return [
        [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", c)).strip() for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", r, flags=re.S)]
        for r in rows
    ]  # fmt: skip


def test_a_kpi_trend_shows_each_quarter_for_every_organisation_or_one(
    app: Flask, clock: Clock
) -> None:
    clock.set("2022-09-01T09:00")
    seed_returns(app, clock)
    cora = person(app, "cora@council.example", "commissioner")
    r = cora.get(f"/commission/{LIVERPOOL}/trends?kpi=people_accessing&show=organisations")
    assert r.status_code == 200
    html = r.data.decode()
    assert (
        html.count('class="app-chart"') == 1 and "<polyline" not in html
    )  # one point: markers only
    assert 'aria-labelledby="trend-people_accessing-title trend-people_accessing-desc"' in html
    rows = table_rows(html, "Numbers accessing: the numbers")
    # from the first figures (May's return) up to now: not two years of empty quarters
    assert [r[0] for r in rows] == ["Q1 2022/23", "Q2 2022/23"]
    assert "Each period from Sunday 1 May 2022, when the first figures came in" in page_text(r)
    assert ["Q1 2022/23", "120", "Not reported"] in rows  # org_a sent its May return, org_b did not
    one = cora.get(
        f"/commission/{LIVERPOOL}/trends?kpi=people_accessing&show=organisation:org_a&period=month"
    )
    months = table_rows(one.data.decode(), "Numbers accessing: the numbers")
    assert ["May 2022", "120", "1", ""] in months and [
        "June 2022",
        "Not reported",
        "",
        "",
    ] in months
    chart = one.data.decode()
    assert "June 2022: not reported" in chart and "June 2022: 0" not in chart
    asked = cora.get(f"/commission/{LIVERPOOL}/trends?kpi=people_accessing&from=2022-02&to=2022-06")
    assert [r[0] for r in table_rows(asked.data.decode(), "Numbers accessing: the numbers")] == [
        "Q4 2021/22", "Q1 2022/23"]  # fmt: skip
    assert "KPI trends" in page_text(one) and "People reached" in page_text(one)  # the nav
    assert cora.get(f"/commission/{LIVERPOOL}/trends?show=organisation:nobody").status_code == 404
    assert cora.get(f"/commission/{LIVERPOOL}/trends?period=fortnight").status_code == 400
    assert cora.get(f"/commission/{LIVERPOOL}/trends?kpi=nothing").status_code == 400
    everything = cora.get(f"/commission/{LIVERPOOL}/trends")
    assert everything.status_code == 200 and everything.data.decode().count('role="img"') >= 10


LLR = "llr_resilience_recovery_hubs"


def add_referral(app: Flask, org: str, when: str, answers: dict[str, object]) -> None:
    """An LLR referral recorded by `org` at `when`, with these answers."""
    engine = Engine(app.config["DATABASE"])
    programme = engine.programme(LLR)
    with engine.store.transaction():
        case = engine.store.insert_case({
            "programme_id": LLR, "version": programme.version, "workflow": "referral", "state": "referred",
            "organisation_id": org, "subject": None, "role": None, "lot": None, "parent_id": None,
            "entered": {}, "created_at": when}, "LLR")  # fmt: skip
        engine.store.save_answers(case, "llr_referral", 1, answers, when, submitted=True)


def test_people_reached_are_counted_without_names_or_full_postcodes(
    app: Flask, clock: Clock
) -> None:
    people = [("hub_a", 34, "male", "white_british", "LE11 3AB"), ("hub_a", 19, "female", "asian_indian", "LE11"),
              ("hub_a", 52, "female", "white_irish", "LE2 7QQ"), ("hub_b", 70, "female", "black_african", "LE2")]  # fmt: skip
    for n, (org, age, sex, ethnicity, postcode) in enumerate(people):
        add_referral(app, org, f"2021-0{n + 5}-01T10:00:00+00:00", {
            "full_name": f"Zed Secretname{n}", "age": age, "sex": sex, "ethnicity": ethnicity,
            "postcode": postcode})  # fmt: skip
    cora = person(app, "cora@council.example", "commissioner")
    r = cora.get(f"/commission/{LLR}/people")
    assert r.status_code == 200
    html = r.data.decode()
    assert "Secretname" not in html and "3AB" not in html and "7QQ" not in html
    assert table_rows(html, "Age: the numbers") == [
        ["under 18", "0", "0.0%"], ["18 to 24", "1", "25.0%"], ["25 to 34", "1", "25.0%"],
        ["35 to 49", "0", "0.0%"], ["50 to 64", "1", "25.0%"], ["65 and over", "1", "25.0%"],
        ["Not recorded", "0", ""],
    ]  # fmt: skip
    sex = table_rows(html, "Sex: the numbers")
    assert sex[0] == ["Female", "3", "75.0%", "51.0%", "+24.0 points"]
    assert sex[1] == ["Male", "1", "25.0%", "49.0%", "-24.0 points"]
    assert "Below the population's share: Male (25% against 49%)" in page_text(r)
    assert ["White", "2", "50.0%"] in table_rows(html, "Ethnic group: the numbers")
    assert table_rows(html, "Postcode district: the numbers") == [
        ["LE2", "2", "50.0%"], ["LE11", "2", "50.0%"], ["Not recorded", "0", ""]]  # fmt: skip
    assert 'aria-labelledby="people-sex-title people-sex-desc"' in html
    hub_b = cora.get(f"/commission/{LLR}/people?organisation=hub_b").data.decode()
    assert ["Female", "1", "100.0%", "51.0%", "+49.0 points"] in table_rows(
        hub_b, "Sex: the numbers"
    )
    june = cora.get(f"/commission/{LLR}/people?from=2021-06&to=2021-07").data.decode()
    assert table_rows(june, "Sex: the numbers")[0][:2] == ["Female", "2"]
    assert cora.get(f"/commission/{LLR}/people?organisation=nobody").status_code == 404
    assert cora.get(f"/commission/{LLR}/people?from=soon").status_code == 400
    ann = person(app, "ann@small.example", "applicant", "small_org")
    assert ann.get(f"/commission/{LLR}/people").status_code in (403, 404)


def test_small_counts_of_people_are_hidden_by_the_programmes_threshold(
    app: Flask, clock: Clock, tmp_path: Path
) -> None:
    text = (EXAMPLE / "programmes" / "tiny.yaml").read_text("utf-8") + PROGRAMME
    path = tmp_path / "tiny" / "tiny.yaml"
    path.parent.mkdir()
    path.write_text(text.replace("suppress_below: 2", "suppress_below: 3"), "utf-8")
    engine = Engine(app.config["DATABASE"], clock=clock)
    engine.publish(path, EXAMPLE / "forms")
    for org_type in ["charity"] * 4 + ["cic"] * 2:
        add_case(engine, "a", "2022-01-05T10:00:00+00:00", {"org_type": org_type})
    cora = person(app, "cora@council.example", "commissioner")
    r = cora.get("/commission/tiny_grants/people")
    rows = table_rows(r.data.decode(), "Kind of organisation: the numbers")
    # cic's 2 is under 3; alone it would be 6 - 4 - 0, so charity's 4 is hidden too
    assert rows[0][:3] == ["Registered charity", "fewer than 3", ""]
    assert rows[1][:3] == ["Community interest company", "fewer than 3", ""]
    assert rows[2][:2] == ["Not recorded", "0"]
    assert 'Counts under 3 are shown as "fewer than 3"' in page_text(r)


def test_the_dashboard_shows_what_is_paid_per_lot(app: Flask, clock: Clock) -> None:
    engine = Engine(app.config["DATABASE"], clock=clock)
    store = engine.store
    programme = engine.programme("bradford_healthy_minds_wave2")
    with store.transaction():
        row = {"programme_id": programme.id, "version": programme.version, "state": "delivering",
               "organisation_id": "lead", "subject": None, "role": "lead", "entered": {},
               "created_at": "2024-03-01T09:00:00+00:00"}  # fmt: skip
        application = store.insert_case({**row, "workflow": "application", "lot": None, "parent_id": None}, "BHM")  # fmt: skip
        store.insert_award(application, programme.id, "lot_2", 300000, "2024-03-20T09:00:00+00:00")
        contract = store.insert_case({**row, "workflow": "contract", "lot": None, "parent_id": application}, "BHM")  # fmt: skip
        store.insert_payment(contract, 75000, "2024-04-01T09:00:00+00:00")
        store.insert_payment(contract, 75000, "2024-07-01T09:00:00+00:00")
    cora = person(app, "cora@council.example", "commissioner")
    html = cora.get(f"/commission/{programme.id}").data.decode()
    lots = table_rows(html, "By lot")  # budget, awarded, remaining, awards, paid
    assert lots[1][1:] == ["£300,000", "£300,000", "£0", "1", "£150,000"]
    assert lots[0][2:] == ["£0", "£275,000", "0", "£0"]
    assert "Paid so far £150,000" in page_text(cora.get(f"/commission/{programme.id}"))


def test_a_month_the_kpi_and_people_pages_cannot_read_gets_a_page_saying_what_to_type(
    app: Flask,
) -> None:
    cora = person(app, "cora@council.example", "commissioner")
    r = cora.get(f"/commission/{LIVERPOOL}/kpis?from=April&to=2022-06")
    assert r.status_code == 400
    words = page_text(r)
    # the KPI page itself, saying what to type beside the field, keeping what was typed
    assert "There is a problem" in words and "Key performance indicators" in words
    assert "Error: Enter the from month as a year and month, like 2022-04" in words
    assert 'href="#from"' in r.data.decode() and 'value="April"' in r.data.decode()
    assert "Bad Request" not in words and "could not understand" not in words
    backwards = page_text(cora.get(f"/commission/{LIVERPOOL}/kpis?from=2022-06&to=2022-04"))
    assert "Enter a to month that is the same as or after the from month" in backwards
    r = cora.get(f"/commission/{LLR}/people?from=April&to=2022-06")
    assert r.status_code == 400
    words = page_text(r)
    # the people-reached page itself, the same way
    assert "There is a problem" in words and "People reached" in words
    assert "Error: Enter the from month as a year and month, like 2022-04" in words
    assert 'href="#from"' in r.data.decode() and 'value="April"' in r.data.decode()
    assert 'value="2022-06"' in r.data.decode()
    assert "Bad Request" not in words and "could not understand" not in words
    backwards = cora.get(f"/commission/{LLR}/people?from=2022-06&to=2022-04")
    assert backwards.status_code == 400
    assert "Enter a to month that is the same as or after the from month" in page_text(backwards)
    r = cora.get(f"/commission/{LIVERPOOL}/kpis?by=everything")
    assert "Choose what to show and the periods from the page's own options" in page_text(r)


def test_the_kpi_page_opens_on_the_quarters_with_figures_and_says_not_reported(
    app: Flask, clock: Clock
) -> None:
    clock.set("2022-09-01T09:00")
    seed_returns(app, clock)
    engine = Engine(app.config["DATABASE"], clock=clock)
    with engine.store.transaction():
        engine.store.ensure_organisation("org_a", "Alder Trust", "2022-01-01")
    cora = person(app, "cora@council.example", "commissioner")
    r = cora.get(f"/commission/{LIVERPOOL}/kpis")
    assert "Showing Q1 2022/23: the quarters that have figures." in page_text(r)
    assert table_rows(r.data.decode(), "Numbers accessing: the numbers") == [
        ["Q1 2022/23", "120", "1", ""]]  # fmt: skip
    months = cora.get(f"/commission/{LIVERPOOL}/kpis?period=month&from=2022-04&to=2022-06")
    html = months.data.decode()
    assert "Showing April 2022 to June 2022" in page_text(months)
    assert table_rows(html, "Numbers accessing: the numbers") == [
        ["April 2022", "Not reported", "", ""], ["May 2022", "120", "1", ""],
        ["June 2022", "Not reported", "", ""]]  # fmt: skip
    assert "April 2022: not reported; May 2022: 120; June 2022: not reported" in html
    by_org = cora.get(
        f"/commission/{LIVERPOOL}/kpis?period=month&from=2022-04&to=2022-05&by=organisation"
    )
    assert table_rows(by_org.data.decode(), "Numbers accessing: the numbers") == [
        ["April 2022", "Any organisation", "Not reported", "", ""],
        ["May 2022", "Alder Trust", "120", "1", ""]]  # fmt: skip
    assert "org_a" not in page_text(by_org)


def test_a_meeting_pack_shows_the_day_its_record_gives_and_its_decisions(
    app: Flask, clock: Clock
) -> None:
    clock.set("2022-09-01T09:00")
    seed_returns(app, clock)
    engine = Engine(app.config["DATABASE"], clock=clock)
    store = engine.store
    [case] = [c for c in store.programme_cases(LIVERPOOL) if c["organisation_id"] == "org_a"]
    with store.transaction():
        store.save_answers(case["id"], "liverpool_monitoring_meeting_record", 1,
                           {"meeting_date": "2022-05-16", "kpis_met": False},
                           "2022-05-16T13:00:00+00:00", submitted=True)  # fmt: skip
        store.execute("DELETE FROM pins")  # the May meeting's date was never pinned
    cora = person(app, "cora@council.example", "commissioner")
    listing = page_text(cora.get(f"/commission/{LIVERPOOL}/meetings"))
    assert "May 2022 (held on Monday 16 May 2022, as its record says)" in listing
    words = page_text(cora.get(f"/commission/{LIVERPOOL}/meetings/quarterly_monitoring_meeting/1"))
    assert "Held on Monday 16 May 2022, as its record says." in words
    assert "Monday 9 May 2022" in words  # the return was due a week before
    assert "10am on Tuesday 10 May 2022" in words and "2022-05-10" not in words
    assert "None of these KPIs has a target" in words and "No KPI is off target" not in words
    assert "Were the KPIs met? No" in words
    august = page_text(cora.get(f"/commission/{LIVERPOOL}/meetings/quarterly_monitoring_meeting/2"))
    assert "Nothing has been recorded for this meeting yet." in august


def test_kpis_have_no_figures_for_quarters_still_to_come(app: Flask, clock: Clock) -> None:
    clock.set("2022-05-19T09:00")
    engine = Engine(app.config["DATABASE"], clock=clock)
    store = engine.store
    programme = engine.programme(LIVERPOOL)
    with store.transaction():
        for org in ("org_a", "org_b", "org_c", "org_d", "org_e"):
            store.insert_case({
                "programme_id": LIVERPOOL, "version": programme.version, "workflow": "application",
                "state": "awarded", "organisation_id": org, "subject": None, "role": None, "lot": None,
                "parent_id": None, "entered": {}, "created_at": "2022-04-01T09:00:00+00:00"}, "LIV")  # fmt: skip
    cora = person(app, "cora@council.example", "commissioner")
    html = cora.get(f"/commission/{LIVERPOOL}/kpis?from=2022-04&to=2022-12").data.decode()
    assert table_rows(html, "Projects commissioned (up to 14): the numbers") == [
        ["Q1 2022/23", "5", "5", "On target"],
        ["Q2 2022/23", "Not reported", "", ""],  # not 5, as the awards will stand in September
        ["Q3 2022/23", "Not reported", "", ""]]  # fmt: skip


def test_a_meeting_pack_gives_the_pinned_time_on_the_programmes_clock(
    app: Flask, clock: Clock
) -> None:
    clock.set("2022-05-19T09:00")
    seed_returns(app, clock)  # the May meeting is pinned at 09:00 UTC: 10am in London (BST)
    cora = person(app, "cora@council.example", "commissioner")
    url = f"/commission/{LIVERPOOL}/meetings/quarterly_monitoring_meeting/1"
    words = page_text(cora.get(url))
    assert "10am on Wednesday 18 May 2022." in words and "9am" not in words
    csv = cora.get(f"{url}?format=csv").data.decode()
    assert csv.splitlines()[0].endswith(
        ",10am on Wednesday 18 May 2022,Reviewing 18 February 2022 to 18 May 2022"
    )
    assert "9am" not in csv and "09:00" not in csv


def test_an_anonymised_meeting_pack_hides_small_counts_of_people(
    app: Flask, clock: Clock, tmp_path: Path
) -> None:
    clock.set("2022-05-19T09:00")
    text = (ROOT / "programmes" / "liverpool.yaml").read_text("utf-8")
    path = tmp_path / "liverpool.yaml"  # anonymised, with no threshold of its own: 5
    path.write_text(text.replace("\nkpis:\n", f"\nkpis:\n{DELIVERING}", 1), "utf-8")
    Engine(app.config["DATABASE"], clock=clock).publish(path, ROOT / "forms")
    seed_returns(app, clock)  # one contract each for two organisations
    store = Engine(app.config["DATABASE"], clock=clock).store
    with store.transaction():
        store.ensure_organisation("org_a", "Alder Trust", "2022-01-01")
        store.ensure_organisation("org_b", "Birch Collective", "2022-01-01")
    cora = person(app, "cora@council.example", "commissioner")
    url = f"/commission/{LIVERPOOL}/meetings/quarterly_monitoring_meeting/1"
    r = cora.get(url)
    html = r.data.decode()
    assert table_rows(html, "KPI</th>")[:2] == [
        ["Contracts being delivered", "Alder Trust", "fewer than 5", ""],
        ["Contracts being delivered", "Birch Collective", "fewer than 5", ""]]  # fmt: skip
    assert 'a figure from fewer than 5 people is shown as "fewer than 5"' in page_text(r)
    assert (
        "Contracts being delivered,Alder Trust,Fewer than 5,"
        in cora.get(f"{url}?format=csv").data.decode()
    )


def test_people_reached_change_with_the_next_answer_saved(app: Flask, clock: Clock) -> None:
    add_referral(app, "hub_a", "2021-05-01T10:00:00+00:00", {"sex": "male", "age": 30})
    cora = person(app, "cora@council.example", "commissioner")
    before = table_rows(cora.get(f"/commission/{LLR}/people").data.decode(), "Sex: the numbers")
    assert ["Male", "1"] in [r[:2] for r in before] and ["Female", "0"] in [r[:2] for r in before]
    engine = Engine(app.config["DATABASE"], clock=clock)  # as a caseworker's page would
    worker = Actor("caseworker", "kim@hub.example", "hub_a")
    case = engine.start_case(LLR, "referral", worker, organisation="hub_a")
    engine.save_answers(case.id, "llr_referral", {"sex": "female"}, worker)
    after = table_rows(cora.get(f"/commission/{LLR}/people").data.decode(), "Sex: the numbers")
    assert ["Male", "1"] in [r[:2] for r in after] and ["Female", "1"] in [r[:2] for r in after]


def test_trends_of_many_organisations_draw_the_busiest_and_find_the_rest_by_name(
    app: Flask, clock: Clock
) -> None:
    engine = Engine(app.config["DATABASE"], clock=clock)
    programme = engine.programme(LLR)
    with engine.store.transaction():
        for n in range(40):  # hub 0 holds 40 cases, hub 39 holds one
            engine.store.ensure_organisation(f"hub_{n}", f"Hub number {n}", "2021-01-01")
            for _ in range(40 - n):
                engine.store.insert_case({
                    "programme_id": LLR, "version": programme.version, "workflow": "referral",
                    "state": "referred", "organisation_id": f"hub_{n}", "subject": None, "role": None,
                    "lot": None, "parent_id": None, "entered": {}, "created_at": "2021-05-01T10:00:00+00:00"}, "LLR")  # fmt: skip
    cora = person(app, "cora@council.example", "commissioner")
    html = cora.get(
        f"/commission/{LLR}/trends?show=organisations&kpi=crs_people_accessing"
    ).data.decode()
    choices = re.findall(r'<option value="organisation:[^"]+"', html)
    assert len(choices) == 30  # the busiest 30 to choose from, not all 40
    assert "The 8 organisations with the most cases, side by side" in html
    header = re.search(r"<thead.*?</thead>", html, flags=re.S).group(0)
    assert "Hub number 7<" in header and "Hub number 8<" not in header  # eight columns
    assert "Or find an organisation by name" in html
    several = page_text(cora.get(f"/commission/{LLR}/trends?find=number 3"))
    assert "Organisations whose names contain “number 3”" in several
    assert "Hub number 3 " in several and "Hub number 35" in several
    one = cora.get(
        f"/commission/{LLR}/trends?find=number 39&kpi=crs_people_accessing"
    ).data.decode()
    assert '<option value="organisation:hub_39" selected>Hub number 39</option>' in one
    none = page_text(cora.get(f"/commission/{LLR}/trends?find=Zebra"))
    assert (
        "No organisation's name contains “Zebra”. Check the spelling, or type less of the name"
        in none
    )
    linked = cora.get(f"/commission/{LLR}/trends?show=organisation:hub_38")
    assert linked.status_code == 200  # not in the list, but any organisation may be shown


def test_kpi_figures_change_with_the_next_referral_recorded(app: Flask, clock: Clock) -> None:
    clock.set("2024-06-12T09:00")
    engine = Engine(app.config["DATABASE"], clock=clock)
    programme, _ = engine.publish(EXAMPLE / "programmes" / "link_service.yaml")
    lee = Actor("caseworker", "lee@trust.example", "example_trust")

    def refer(day: str) -> None:
        case = engine.start_case(programme.id, "referral", lee, organisation="example_trust")
        engine.save_answers(case.id, "link_referral", {"referral_date": day, "referral_source": "gp"}, lee)  # fmt: skip

    def may(browser: FlaskClient) -> list[str]:
        url = f"/commission/{programme.id}/kpis?period=month&from=2024-05&to=2024-06"
        rows = table_rows(browser.get(url).data.decode(), "Referrals received: the numbers")
        return next(r for r in rows if r[0] == "May 2024")

    for day in range(20, 25):  # five: fewer would be hidden, as the programme is anonymised
        refer(f"2024-05-{day}")
    cora = person(app, "cora@council.example", "commissioner")
    assert may(cora)[1] == "5"
    assert may(cora)[1] == "5"  # the second view is the remembered one
    refer("2024-05-28")
    assert may(cora)[1] == "6"  # the next page view counts it
