"""In real Chromium, issue 17's first run: a fresh deployment on an empty database, with no demo
data, runs end to end. The operator upgrades the database, publishes the rolling fund and adds
the first administrator at the command line; everything after that is done in the pages. The
administrator invites a commissioner for the fund and two assessors; two organisations register
and apply; staff sign in with their organisation's account at a real OpenID Connect provider on
this machine; the commissioner shares the applications among the assessors, one declares a
conflict of interest, the commissioner reassigns that work, the panel completes, and one bulk
decision funds the application that passed and says in words why the other was not funded.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from playwright.sync_api import expect

from engine.cli import main as commission_cli
from engine.runtime import Engine
from engine.web import create_app

from ..conftest import EXAMPLE
from ..databases import database_in
from ..oidc_provider import Provider, running_provider
from .conftest import Clock, Site, go, serving
from .test_accessibility import Audit
from .test_rolling_fund import card, confirm, heading, nav, save_and_continue, sign_out, success

# the provider calls an Authlib server hook Authlib now marks deprecated: its warning, not ours
pytestmark = pytest.mark.filterwarnings("ignore:get_jwt_config:DeprecationWarning")

FUND = "Neighbourhood Rolling Fund"
PID = "neighbourhood_rolling_fund"
NOW = "2025-05-06T10:00"  # UTC: the fund has been open since 1 April
ADMIN = ("ada@council.example", "Ada Admin")
COMMISSIONER = ("cleo@council.example", "Cleo Commissioner", "cleo-sub")
ASSESSORS = {"a": ("asha@council.example", "Asha Assessor", "asha-sub"),
             "b": ("ben@council.example", "Ben Assessor", "ben-sub")}  # fmt: skip
NEW_PASSWORD = "three random words"
APPLICANTS = {  # organisation -> (person, email, amount asked for, scores the assessor gives)
    "Larkhill Lunch Club": ("Pat Okafor", "pat@larkhill.example", "7777", (4, 4, 4)),
    "Moorside Walking Group": ("Sam Reid", "sam@moorside.example", "5000", (2, 2, 2)),
}
CRITERIA = ("Evidence of local need", "Ability to deliver", "Value for money")


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    """An OpenID Connect provider on this machine for the staff to sign in with."""
    with running_provider() as running:
        yield running


def commission(args: list[str], db: str, site_url: str = "") -> str:
    """Run `commission …` as an operator would on the server; what it printed."""
    env = {"COMMISSION_DB": db, "COMMISSION_NOW": NOW + "+00:00"}
    if site_url:
        env["COMMISSION_BASE_URL"] = site_url
    result = CliRunner().invoke(commission_cli, args, env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def programme_file(folder: Path) -> Path:
    """A copy of the documentation's rolling fund whose panel needs one completed assessment."""
    data = yaml.safe_load((EXAMPLE / "programmes" / "rolling_fund.yaml").read_text("utf-8"))
    data["assessment"] = {"pass_mark": 3, "minimum_assessments": 1, "assessments_needed": 1}
    (folder / "programmes").mkdir()
    shutil.copytree(EXAMPLE / "forms", folder / "forms")
    path = folder / "programmes" / "rolling_fund.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), "utf-8")
    return path


def staff_sign_in(page: Any, site: Site, provider: Provider, sub: str) -> None:
    """Sign in with the organisation's account: the staff button, the provider's page, and back."""
    page.goto(f"{site.url}/auth/sign-in")
    go(page, page.get_by_role("button", name="Sign in with your organisation's account"))
    assert page.url.startswith(provider.issuer), page.url  # at the provider's own page
    page.locator("input[name=sub]").fill(sub)
    go(page, page.get_by_role("button", name="Authorize"))
    assert page.url.startswith(site.url), page.url
    expect(page.get_by_text("Signed in as")).to_be_visible()


def invite(page: Any, name: str, email: str, role: str, held: str) -> None:
    """Invite a member of staff for the fund only, through the Staff pages (`held`: the role in words)."""
    nav(page, "Staff")
    go(page, page.get_by_role("button", name="Invite someone"))
    expect(heading(page)).to_have_text("Invite someone")
    page.get_by_label("Full name").fill(name)
    page.get_by_label("Email address").fill(email)
    page.get_by_role("group", name="Role").get_by_label(role, exact=True).check()
    page.get_by_label("Programme").select_option(label=FUND)
    go(page, page.get_by_role("button", name="Send invitation"))
    expect(success(page)).to_contain_text(f"We have emailed {email} an invitation.")
    expect(heading(page)).to_have_text(name)
    expect(page.locator("main")).to_contain_text(f"{held} of {FUND}")


def register_and_apply(page: Any, site: Site, group: str) -> str:
    """An applicant creates an account for their organisation, confirms it and applies; the reference."""
    person, email, amount, _scores = APPLICANTS[group]
    page.goto(f"{site.url}/auth/register")
    expect(heading(page)).to_have_text("Create an account for your organisation")
    page.get_by_label("Your full name").fill(person)
    page.get_by_label("Your organisation's name").fill(group)
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Confirm password").fill(NEW_PASSWORD)
    go(page, page.get_by_role("button", name="Create account"))
    expect(heading(page)).to_have_text("Check your email")
    page.goto(site.url + site.emailed_link(email))
    expect(success(page)).to_contain_text("Your email address is confirmed")
    expect(page.get_by_text(f"Signed in as {person}")).to_be_visible()

    go(page, page.get_by_role("link", name=FUND))
    go(page, page.get_by_role("button", name="Start an application"))
    go(page, page.get_by_role("button", name="Start", exact=True))
    expect(heading(page)).to_have_text(re.compile(r"^Application NRF-\d+$"))
    reference = re.search(r"NRF-\d+", heading(page).inner_text()).group(0)
    go(page, page.locator("main").get_by_role("link", name="Application", exact=True))
    go(page, page.locator("main").get_by_role("link", name="Your group", exact=True))
    page.get_by_label("What is your group's name?").fill(group)
    page.get_by_label("What was your group's income in its last financial year?").fill("48,500")
    borough = page.get_by_role("group", name="Does your group work in the borough?")
    borough.get_by_label("Yes", exact=True).check()
    save_and_continue(page)
    page.get_by_label("Describe your project").fill(f"{group}: weekly sessions for people alone.")
    page.get_by_label("How much are you asking for?").fill(amount)
    save_and_continue(page)
    expect(heading(page)).to_have_text("Check your answers")
    go(page, page.get_by_role("button", name="Submit application"))
    expect(heading(page)).to_have_text("Application submitted")
    expect(page.locator(".govuk-panel strong")).to_have_text(reference)
    sign_out(page)
    return reference


def score(page: Any, scores: tuple[int, ...]) -> None:
    """Fill in the score sheet and save it."""
    for criterion, value in zip(CRITERIA, scores, strict=True):
        sheet = page.get_by_role("group", name=re.compile(criterion))
        sheet.get_by_label(str(value), exact=True).check()
    recommendation = "Recommend" if min(scores) >= 3 else "Do not recommend"
    page.get_by_role("group", name="Your recommendation").get_by_label(
        recommendation, exact=True
    ).check()
    go(page, page.get_by_role("button", name="Save your assessment"))


def test_a_fresh_deployment_runs_from_the_first_administrator_to_a_bulk_decision(
    context: Any, axe_source: str, provider: Provider, tmp_path: Path
) -> None:
    # 1. an empty database, set up at the command line
    clock = Clock(NOW)
    db = database_in(tmp_path, "first-run")
    assert "upgraded through schema" in commission(["db", "upgrade"], db)
    published = commission(["publish", str(programme_file(tmp_path))], db)
    assert f"{PID}: version" in published
    engine = Engine(db, clock=clock)
    assert engine.staff_list() == []  # no demo people, no demo organisations, no cases
    assert engine.store.organisation_names() == {}
    app = create_app(
        {
            "DATABASE": db,
            "CLOCK": clock,
            "SECRET_KEY": "browser-tests",
            "SESSION_COOKIE_SECURE": False,  # plain http on 127.0.0.1, as `commission serve`
            "COMMISSION_OIDC_ISSUER": provider.issuer,
            "COMMISSION_OIDC_CLIENT_ID": "commission-app",
            "COMMISSION_OIDC_CLIENT_SECRET": "not-a-real-secret",
        }
    )  # CSRF stays on: the browser sends the tokens the pages carry
    with serving(app, tmp_path) as site:
        site.provider = provider
        added = commission(["users", "add", ADMIN[0], "--name", ADMIN[1], "--role", "admin",
                            "--show-link"], db, site.url)  # fmt: skip
        link = re.search(r"Invitation link \(works once\): (\S+)", added).group(1)
        assert link.startswith(site.url + "/auth/reset/"), added
        assert [p["email"] for p in engine.staff_list()] == [ADMIN[0]]
        context.add_init_script(script=axe_source)  # axe-core in every page, for the checks
        page = context.new_page()
        audit = Audit(site)
        journey(page, site, provider, link, audit)
        assert not audit.problems, audit.report()
    # no page had a JavaScript error or a console error (a script the CSP refused, say), but for
    # the provider's own page (its style sheet is on the internet) and the refusal asked for
    refusal = f"{site.url}/admin/staff: Failed to load resource: the server responded with a status of 403"  # fmt: skip
    errors = [e for e in context.errors if not e.startswith((provider.issuer, refusal))]
    assert not errors, errors


def journey(page: Any, site: Site, provider: Provider, link: str, audit: Audit) -> None:
    """Everything people do in the pages, from the administrator's link to the bulk decision."""
    # 2. the administrator chooses a password and invites the staff
    page.goto(link)
    expect(heading(page)).to_have_text("Choose a new password")
    audit.check(page, "admin (choose a password)")
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Confirm password").fill(NEW_PASSWORD)
    go(page, page.get_by_role("button", name="Save password"))
    expect(heading(page)).to_have_text("Staff")
    expect(page.get_by_text(f"Signed in as {ADMIN[1]}")).to_be_visible()
    audit.check(page, "admin (staff)")
    go(page, page.get_by_role("button", name="Invite someone"))
    audit.check(page, "admin (invite)")
    page.goto(f"{site.url}/admin/staff")
    invite(page, COMMISSIONER[1], COMMISSIONER[0], "Commissioner", "A commissioner")
    audit.check(page, "admin (person)")
    for email, name, _sub in ASSESSORS.values():
        invite(page, name, email, "Assessor (panel member)", "An assessor (panel member)")
    nav(page, "Staff")
    staff = page.get_by_role("table", name="Everyone with a staff account")
    expect(staff.locator("tbody tr")).to_have_count(4)
    for email in (COMMISSIONER[0], *(email for email, *_rest in ASSESSORS.values())):
        row = staff.get_by_role("row", name=re.compile(re.escape(email)))
        expect(row.get_by_role("cell").last).to_have_text("Invited")
        assert site.emailed_link(email).startswith("/auth/reset/")  # their invitation's link
    sign_out(page)

    # 3. two organisations register, confirm their address, and apply
    references = {group: register_and_apply(page, site, group) for group in APPLICANTS}
    passed, failed = references.values()

    # 4. the commissioner signs in with the organisation's account and shares out the work
    email, name, sub = COMMISSIONER
    provider.person(sub, email=email, email_verified=True, name=name)
    staff_sign_in(page, site, provider, sub)
    refused = page.goto(f"{site.url}/admin/staff")  # a commissioner for the fund only
    assert refused is not None and refused.status == 403
    expect(heading(page)).to_have_text("You cannot see this page")
    expect(page.get_by_role("link", name="Staff", exact=True)).to_have_count(0)  # nor offered it
    audit.check(page, "commissioner (staff refused)")
    page.goto(f"{site.url}/commission/")
    go(page, page.get_by_role("link", name=FUND))
    go(page, page.get_by_role("link", name="Assessment panel", exact=True))
    expect(heading(page)).to_have_text("Assessment panel")
    waiting = page.locator("#waiting + div table tbody tr")
    expect(waiting).to_have_count(2)
    expect(waiting).to_contain_text(["Nobody assigned", "Nobody assigned"])
    audit.check(page, "commissioner (panel)")
    expect(page.get_by_label("How many assessors each application needs")).to_have_value("1")
    go(page, page.get_by_role("button", name="Assign applications"))
    shared = {}  # application -> the assessor it was given to
    given = success(page)
    for ref in references.values():
        expect(given).to_contain_text(re.compile(f"{ref}: given to [^.]+ \\(\\S+\\)\\."))
        told = re.search(f"{ref}: given to [^.]+ \\((\\S+)\\)\\.", given.inner_text()).group(1)
        shared[ref] = next(k for k, (e, *_r) in ASSESSORS.items() if e == told)
    assert sorted(shared.values()) == ["a", "b"], shared  # an even share: one each
    assessors = page.get_by_role("table", name="Applications waiting for assessment, by assessor")
    for _email, assessor_name, _sub in ASSESSORS.values():
        row = assessors.get_by_role("row", name=re.compile(assessor_name))
        expect(row.get_by_role("cell")).to_have_text(["1", "0", "0"])
    sign_out(page)

    # 5. assessor A declares a conflict; the commissioner gives that work to assessor B
    conflicted = next(ref for ref, who in shared.items() if who == "a")
    email, name, sub = ASSESSORS["a"]
    provider.person(sub, email=email, email_verified=True, name=name)
    staff_sign_in(page, site, provider, sub)
    nav(page, "Applications to assess")
    expect(page.locator(".govuk-summary-card")).to_have_count(1)  # only the one assigned
    go(page, card(page, conflicted).get_by_role("link", name=conflicted))
    audit.check(page, "assessor (score sheet)")
    page.get_by_text("Declare a conflict of interest").click()
    page.get_by_label("What is your interest?").fill("I am a trustee of this group.")
    go(page, page.get_by_role("button", name="Declare a conflict and leave this application"))
    expect(success(page)).to_contain_text(
        f"You declared a conflict of interest: {conflicted} has left your queue."
    )
    expect(card(page, conflicted)).to_have_count(0)
    sign_out(page)

    email, name, sub = COMMISSIONER
    staff_sign_in(page, site, provider, sub)
    page.goto(f"{site.url}/commission/{PID}/panel")
    row = page.locator("#waiting + div table tbody tr", has_text=conflicted)
    expect(row).to_contain_text("It needs another assessor")
    go(page, row.get_by_role("link", name=re.compile(conflicted)))
    expect(heading(page)).to_have_text(f"Assessment panel for {conflicted}")
    asha, ben = (f"{name} ({email})" for email, name, _sub in ASSESSORS.values())
    people = page.locator("#assessors + .govuk-summary-list")
    expect(people.locator(".govuk-summary-list__row", has_text=asha)).to_contain_text(
        "Declared a conflict of interest"
    )
    audit.check(page, "commissioner (case panel)")
    # the conflict gave the work back, so there is no one's work to take: the other assessor is
    # given it, and the one who declared the conflict is not offered
    expect(page.get_by_label("Take the work from")).to_have_count(0)
    assign = page.get_by_role("group", name=f"Who should assess {conflicted}?")
    expect(assign.get_by_role("checkbox")).to_have_count(1)
    assign.get_by_label(ben).check()
    go(page, page.get_by_role("button", name="Assign", exact=True))
    expect(success(page)).to_contain_text(f"{ben} is now assessing {conflicted}.")
    expect(people.locator(".govuk-summary-list__row", has_text=ben)).to_contain_text("Not started")
    expect(page.locator(".govuk-inset-text")).to_contain_text(  # no longer "needs another assessor"
        "The assessment cannot end yet: the assessment this application needs is not complete yet"
    )
    sign_out(page)

    # 6. assessor B scores both, completes each assessment and the panel's assessment
    email, name, sub = ASSESSORS["b"]
    provider.person(sub, email=email, email_verified=True, name=name)
    staff_sign_in(page, site, provider, sub)
    for group, ref in references.items():
        nav(page, "Applications to assess")
        expect(page.locator(".govuk-summary-card")).to_have_count(2 if ref == passed else 1)
        go(page, card(page, ref).get_by_role("link", name=ref))
        expect(heading(page)).to_have_text(f"Assess {ref}: {group}")
        score(page, APPLICANTS[group][3])
        expect(success(page)).to_contain_text(f"Your assessment of {ref} is saved.")
        go(page, page.get_by_role("button", name="Complete your assessment"))
        expect(success(page)).to_contain_text(f"You completed your assessment of {ref}.")
        expect(page.get_by_text("You have completed your assessment")).to_be_visible()
        if ref == passed:
            audit.check(page, "assessor (completed)")
        go(page, page.get_by_role("button", name="Complete the panel's assessment"))
        confirm(page, "complete the panel's assessment")
        expect(success(page)).to_contain_text(f"The status of {ref} is now: Assessed by the panel.")
    expect(page.get_by_text("No application is waiting for you to assess it.")).to_be_visible()
    sign_out(page)

    # 7. the commissioner funds both at once: one is funded, the other is refused and says why
    email, name, sub = COMMISSIONER
    staff_sign_in(page, site, provider, sub)
    page.goto(f"{site.url}/commission/{PID}/cases")
    page.get_by_label("Kind of case").select_option(label="Application")
    page.get_by_label("State").select_option(label="Assessed by the panel")
    go(page, page.get_by_role("button", name=re.compile("^Show ")))
    expect(page.locator(".govuk-summary-card")).to_have_count(2)
    audit.check(page, "commissioner (cases, filtered)")
    page.get_by_label("Select all 2 matching cases").check()
    page.get_by_role("group", name="What do you want to do?").get_by_label(
        "Fund the project", exact=True
    ).check()
    go(page, page.get_by_role("button", name="Continue"))
    expect(heading(page)).to_have_text("Are you sure you want to fund the project for 2 cases?")
    audit.check(page, "commissioner (bulk confirm)")
    go(page, page.get_by_role("button", name="Yes, fund the project for 2 cases"))
    expect(heading(page)).to_have_text("1 done, 1 not done")
    results = page.get_by_role("table", name="What happened to each case")
    funded = results.get_by_role("row", name=re.compile(passed))
    expect(funded.get_by_role("cell")).to_have_text(["Done", "Funded", ""])
    refused = results.get_by_role("row", name=re.compile(failed))
    expect(refused.get_by_role("cell")).to_have_text([
        "Not done", "Assessed by the panel",
        "The assessors' weighted mean score is 2 out of 5, below the pass mark of 3.",
    ])  # fmt: skip
    expect(results.locator("tbody th")).to_have_text([failed, passed])  # the one not done first
    audit.check(page, "commissioner (bulk results)")
