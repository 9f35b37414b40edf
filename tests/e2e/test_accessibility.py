"""Every page type passes axe-core with no serious or critical violations, in real Chromium.

Each kind of user (nobody signed in, the demo applicants, commissioner, assessor, caseworker,
administrator) walks the site from its start pages, following links, and axe checks each page type
it reaches (each Flask endpoint, a few pages of each). Pages reached only by a form are checked on
purpose: errors shown after a form sent empty (on pages the walk found), the page after a reset
request, the reset link read from the outbox (and the same link once used), a 404, staff sign-in
refused (the site signs staff in through a local OpenID Connect provider), and the "Are you
sure?" pages before a moderated score is recorded or a role taken away. Last, the commissioner
uses the programme studio (tests/e2e/studio_tour.py): a draft in the code editor (whose own YAML
is left out of the internal-id check, not the rest of the page), its previews, a mistake, what
publishing changes, throwing it away; a programme's dates; and moving a case to a newer version.
Then (tests/e2e/commission_tour.py) a published form's preview, a monitoring meeting's pack, and
one action on many cases: "Are you sure…?" and what happened to each case.
New blueprints are covered as they come: their pages are found through the links, and none
needs listing here. The checks themselves (axe, and the service's own) are in tests/e2e/audit.py.

The walk runs once; one test says what axe found, another that the walk reached what it must (so
a page type cannot drop out of the check unnoticed when the demo data or a link changes).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from .audit import NEVER, Audit, page_templates, submit_empty, walk
from .commission_tour import tour_commission
from .conftest import PASSWORD, Site, go, open_context, save_screenshot, sign_in
from .studio_tour import tour_studio

# the OpenID Connect provider calls an Authlib hook Authlib now marks deprecated: not our warning
pytestmark = pytest.mark.filterwarnings("ignore:get_jwt_config:DeprecationWarning")
LIVERPOOL_EOI = "liverpool_expression_of_interest"
# folders of templates whose every page (not the `_partials`) the walk must have checked
EVERY_TEMPLATE_IN = ("about", "admin", "assess", "auth", "casework", "studio")
# and these, each a page of its own (an "Are you sure…?" page is named by the address it is sent to)
EVERY_TEMPLATE = {
    "commission/dates.html", "commission/dates_pin.html", "commission/move.html",
    "commission/move_confirm.html", "commission/move_results.html", "commission/preview.html",
    "commission/meeting.html", "commission/bulk_confirm.html", "commission/bulk_results.html",
}  # fmt: skip


def tour(page: Any, audit: Audit) -> None:
    """Every demo person's walk, the pages after forms, and the reset link from the outbox."""
    site = audit.site

    # nobody signed in: the public pages, forms with errors, the error page
    walk(page, audit, "public", ["/", "/apply/", "/auth/sign-in", "/auth/register", "/auth/reset"])
    submit_empty(page, audit, "public", "auth.sign_in", "Sign in")
    submit_empty(page, audit, "public", "auth.register", "Create account")
    submit_empty(page, audit, "public", "auth.reset_request", "Send the link")
    page.goto(site.url + "/no-such-page")
    assert "Page not found" in page.locator("h1").inner_text()
    audit.refused.add(page.url)
    audit.check(page, "public (404)")

    # staff sign-in with an organisation's account, refused: cancelled at the provider, and an
    # address nobody invited (signed in at the provider as the person would, then sent back)
    page.goto(site.url + "/auth/staff/signed-in?error=access_denied")
    assert "You have not signed in" in page.locator("h1").inner_text()
    audit.refused.add(page.url)
    audit.check(page, "public (staff sign-in cancelled)")
    assert site.provider is not None
    site.provider.person("walker-1", email="stranger@council.example", email_verified=True)
    to_provider = page.request.get(site.url + "/auth/staff/sign-in", max_redirects=0)
    page.goto(site.provider.sign_in_as(to_provider.headers["location"], "walker-1"))
    assert "You do not have a staff account" in page.locator("h1").inner_text()
    audit.refused.add(page.url)
    audit.check(page, "public (staff sign-in refused)")

    # signing up: "check your email", then the confirmation link from the email signs them in;
    # for an organisation the service already knows, told to ask a colleague there instead
    for organisation, email, heading in (("Walk Testers", "walker@example.org", "Check your email"),
                                         ("Demo Community Trust", "walker.two@example.org", "already has an account")):  # fmt: skip
        page.goto(site.url + "/auth/register")
        page.get_by_label("Your full name").fill("Walk Tester")
        page.get_by_label("Your organisation's name").fill(organisation)
        page.get_by_label("Email address").fill(email)
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        page.get_by_label(re.compile("Confirm", re.I)).fill(PASSWORD)
        go(page, page.locator("main").get_by_role("button", name="Create account"))
        assert heading in page.locator("h1").inner_text()
        audit.check(page, f"public (signed up for {organisation})")
    page.goto(site.url + site.emailed_link("walker@example.org"))
    assert page.get_by_text("Signed in as Walk Tester").count(), page.content()
    go(page, page.get_by_role("button", name="Sign out"))

    # a forgotten password: ask for a link, follow it from the email, choose a password (the same
    # one: the other demo walks sign in with it), then the used link is refused
    page.goto(site.url + "/auth/reset")
    page.get_by_label("Email address").fill("applicant@example.org")
    go(page, page.locator("main").get_by_role("button", name="Send the link"))
    assert "Check your email" in page.locator("h1").inner_text()
    audit.check(page, "public (reset sent)")
    link = site.emailed_link("applicant@example.org")
    page.goto(site.url + link)  # as from the email: its links are the public pages' own
    assert "Choose a new password" in page.locator("h1").inner_text()
    audit.check(page, "public (reset link)")
    submit_empty(page, audit, "public (reset link)", "auth.reset", "Save password")
    page.goto(site.url + link)
    page.get_by_label("New password").fill(PASSWORD)
    page.get_by_label("Confirm password").fill(PASSWORD)
    go(page, page.locator("main").get_by_role("button", name="Save password"))
    assert page.get_by_text("Your password has been changed").count(), page.content()
    _sign_out(page)
    page.goto(site.url + link)
    assert "This link has expired" in page.locator("h1").inner_text()
    audit.refused.add(page.url)
    audit.check(page, "public (reset link used)")

    # the demo applicant with a half-done expression of interest: task list, pages, check answers
    sign_in(page, site, "applicant@example.org")
    walk(page, audit, "applicant", ["/", "/apply/applications", "/auth/organisation"])
    reference = _reference(page, site)
    base = f"/apply/cases/{reference}/forms/{LIVERPOOL_EOI}"
    page.goto(f"{site.url}{base}/pages/contact")
    page.locator("#contact_email").fill("not an email")
    go(page, page.get_by_role("button", name="Save and continue"))
    assert page.locator(".govuk-error-summary").count()
    audit.check(page, "applicant (question page with errors)")
    page.goto(f"{site.url}{base}/check")
    audit.check(page, "applicant")
    _sign_out(page)

    # another organisation's submitted expression of interest: the confirmation page
    sign_in(page, site, "riverside@example.org")
    walk(page, audit, "riverside", ["/", "/apply/applications"])
    reference = _reference(page, site)
    page.goto(f"{site.url}/apply/cases/{reference}/forms/{LIVERPOOL_EOI}/confirmation")
    audit.check(page, "riverside")
    _sign_out(page)

    # staff: whatever their home pages link to, then their forms sent empty
    completed = ""  # the application the assessor completes an assessment of
    for email in ("commissioner@example.org", "assessor@example.org", "caseworker@example.org"):
        sign_in(page, site, email)
        starts = ["/", page.url[len(site.url) :]]
        starts += [r for r in _staff_homes(site) if r not in starts]
        label = email.split("@")[0]
        walk(page, audit, label, starts)
        if label == "assessor":  # a score sheet, and a page of the panel's own form
            submit_empty(page, audit, label, "assess.case", "Save your assessment")
            submit_empty(page, audit, label, "assess.sheet_page", "Save and continue")
            completed = _complete_assessment(page, audit, label)
        if label == "caseworker":  # a page of a record, and recording it with answers missing
            _new_record(page, audit, label)
            submit_empty(page, audit, label, "casework.sheet_page", "Save and continue")
            record = re.compile(r"^Record ")  # its errors link to this button, not to answers
            submit_empty(
                page, audit, label, "casework.sheet_check", record, "#submit ~ form", False
            )
        _sign_out(page)

    # the commissioner moderates the assessment just completed: the page asking to confirm it
    sign_in(page, site, "commissioner@example.org")
    page.goto(f"{site.url}/commission/cases/{completed}/panel")
    audit.check(page, "commissioner (panel with a completed assessment)")
    page.get_by_label("Moderated weighted score, as a percentage").fill("72.5")
    page.get_by_label("Reason").fill("The panel agreed it when it met.")
    go(page, page.get_by_role("button", name="Record the moderated score"))
    assert f"Record a moderated score of 72.5% for {completed}?" in page.locator("h1").inner_text()
    audit.check(page, "commissioner (confirm)")
    _sign_out(page)

    # the administrator: the staff, a person, inviting someone (sent empty too), the question asked
    # before a role is taken away (not answered: the walk changes no one's roles)
    sign_in(page, site, "admin@example.org")
    walk(page, audit, "admin", ["/", page.url[len(site.url) :]])
    submit_empty(page, audit, "admin", "admin.invite", "Send invitation")
    submit_empty(page, audit, "admin", "admin.person", "Give role")
    go(page, page.locator("main").get_by_role("button", name=re.compile(r"^Remove")).first)
    assert "Are you sure you want to remove" in page.locator("h1").inner_text()
    audit.check(page, "admin (confirm)")
    # a personal data request: asked empty, found, and the question before erasing (not answered)
    submit_empty(page, audit, "admin", "admin.privacy", "Find their data")
    page.goto(f"{site.url}/admin/privacy?kind=person&who=P-0003")
    audit.check(page, "admin (personal data)")
    go(page, page.get_by_role("button", name="Erase their personal data"))
    audit.check(page, "admin (confirm erasing)")
    _sign_out(page)

    # then, as it changes a programme and moves a case: the programme studio, dates, moving cases
    tour_studio(page, audit)
    # then a form previewed, a meeting's pack, and one action on many cases (it changes a case)
    tour_commission(page, audit)


@dataclass
class Walked:
    audit: Audit
    errors: list[str]


@pytest.fixture(scope="module")
def walked(browser: Any, site: Site, axe_source: str) -> Iterator[Walked]:
    """The whole walk, once, in a fresh profile with axe-core in every page (as an init script:
    the CSP allows it). If the walk stops, the page it stopped on is saved."""
    ctx = open_context(browser)
    ctx.add_init_script(script=axe_source)
    audit = Audit(site)
    page = ctx.new_page()
    try:
        tour(page, audit)
    except Exception:
        print(f"the walk stopped at {page.url}: screenshot {save_screenshot(page, 'walk-stopped')}")
        raise
    print("page types checked:", json.dumps({k: len(v) for k, v in sorted(audit.seen.items())}))
    pages = {r.endpoint for r in site.app.url_map.iter_rules() if "GET" in r.methods} - NEVER
    print("page types no link led to:", sorted(pages - set(audit.seen)))
    print("templates never checked:", sorted(page_templates(None) - set(audit.templates)))
    try:
        yield Walked(audit, ctx.errors)
    finally:
        ctx.close()


def test_every_page_type_has_no_serious_or_critical_accessibility_problems(walked: Walked) -> None:
    audit = walked.audit
    assert not audit.problems, audit.report()
    # and no page had a JavaScript error, or a script or style the CSP refused (a page answered
    # with a 4xx on purpose — a 404, a form with errors — is logged as a resource that failed)
    refused = re.compile(r"Failed to load resource: the server responded with a status of 4\d\d")
    errors = [e for e in walked.errors if not (e.split(": ", 1)[0] in audit.refused and refused.search(e))]  # fmt: skip
    assert not errors, "\n".join(errors)


def test_the_walk_reaches_every_kind_of_page(walked: Walked) -> None:
    """Each person's start pages, cases, forms and records, the reset link, and errors shown."""
    audit = walked.audit
    expected = {
        "index", "apply.rounds", "apply.round_page", "auth.sign_in", "auth.register",
        "auth.reset_request", "auth.reset", "apply.applications", "apply.case", "apply.eligibility",
        "apply.task_list", "apply.page", "apply.check", "apply.confirmation", "auth.organisation",
        "apply.start", "(no route)",
        # the footer's pages: accessibility statement, privacy notice, cookies, contact
        "about.accessibility", "about.privacy", "about.cookies", "about.contact",
        # the staff's pages: each audience's start page and a case
        "commission.index", "commission.dashboard", "commission.case", "assess.queue",
        "casework.home", "casework.case", "casework.due",
        # the assessor's score sheet and the panel's form; the caseworker's records and record forms
        "assess.case", "assess.sheet_task_list", "assess.sheet_page", "assess.sheet_check",
        "casework.record", "casework.sheet_task_list", "casework.sheet_page", "casework.sheet_check",
        # the commissioner's assessment panel, and confirming a moderated score
        "commission.panel", "commission.case_panel", "commission.moderate",
        # the administrator's staff pages, and confirming a role taken away
        "admin.staff", "admin.invite", "admin.person", "admin.remove_role", "admin.privacy", "admin.erase",
        "auth.oidc_callback",  # staff sign-in with an organisation's account, refused
        # the programme studio: a draft in the editor, previewed, checked before publishing, thrown
        # away; the next round; a programme's versions
        "studio.index", "studio.edit", "studio.forms", "studio.preview", "studio.workflows",
        "studio.workflow", "studio.timeline", "studio.publish", "studio.discard",
        "studio.next_round", "studio.versions",
        # a programme's dates and pinning one; moving cases to a newer version, and the results
        "commission.dates", "commission.pin_date", "commission.move", "commission.move_cases",
        # a published form previewed, a meeting's pack, one action on many cases and its results
        "commission.preview", "commission.meeting", "commission.bulk_choose", "commission.bulk_act",
    }  # fmt: skip
    missing = expected - set(audit.seen)
    assert not missing, f"page types never reached: {sorted(missing)}"
    unchecked = (page_templates(EVERY_TEMPLATE_IN) | EVERY_TEMPLATE) - set(audit.templates)
    assert not unchecked, f"templates never checked: {sorted(unchecked)}"
    errors = {
        "auth.sign_in", "auth.register", "auth.reset_request", "auth.reset", "apply.page",
        "assess.case", "assess.sheet_page", "casework.sheet_page", "casework.sheet_check",
        "admin.invite", "admin.person", "admin.privacy", "studio.next_round", "commission.pin_date",
        "commission.move",
    }  # fmt: skip
    missing = errors - audit.with_errors
    assert not missing, f"page types never checked showing errors: {sorted(missing)}"


def _complete_assessment(page: Any, audit: Audit, label: str) -> str:
    """Score every criterion of the first score sheet the walk checked (its first choice each
    time), save it and complete it, and check the page after; the application's reference."""
    for url in dict.fromkeys(audit.seen.get("assess.case", [])):
        page.goto(url)
        sheet = page.locator("main form", has=page.get_by_role("button", name="Save your assessment"))  # fmt: skip
        if not sheet.count():
            continue
        for choices in sheet.locator(".govuk-radios").all():
            choices.locator("input[type=radio]").first.check()
        go(page, sheet.get_by_role("button", name="Save your assessment"))
        go(page, page.get_by_role("button", name="Complete your assessment"))
        reference = url.split("/")[-1]
        assert f"You completed your assessment of {reference}." in page.locator("main").inner_text()
        audit.check(page, label + " (assessment completed)")
        return reference
    raise AssertionError("no score sheet the walk checked can be saved")


def _new_record(page: Any, audit: Audit, label: str) -> None:
    """Start a new record from a case page, as its button does, and check its page and its
    "Check your answers" (a one-page record skips its task list, so no link leads there)."""
    for url in dict.fromkeys(audit.seen.get("casework.case", [])):
        page.goto(url)
        start = page.locator("main a", has_text=re.compile(r"^\s*Record a new "))
        if not start.count():
            continue
        go(page, start.first)
        audit.check(page, label + " (new record)")
        if "/pages/" in page.url:
            page.goto(page.url.split("/pages/")[0] + "/check")
            audit.check(page, label + " (new record)")
        return
    raise AssertionError("no case page the walk checked offers a new record")


def _reference(page: Any, site: Site) -> str:
    """The reference of the person's Liverpool application, from their applications page."""
    page.goto(site.url + "/apply/applications")
    return (
        page.locator("main a", has_text=re.compile(r"^\s*LIV-\d+\s*$")).first.inner_text().strip()
    )


def _sign_out(page: Any) -> None:
    go(page, page.get_by_role("button", name="Sign out"))


def _staff_homes(site: Site) -> list[str]:
    """Each blueprint's start page (`<blueprint>.home`, `.index` or `.dashboard`), if it has one."""
    homes = []
    for rule in site.app.url_map.iter_rules():
        name = rule.endpoint.rsplit(".", 1)[-1]
        if "." in rule.endpoint and name in ("home", "index", "dashboard", "queue") and not rule.arguments:  # fmt: skip
            homes.append(rule.rule)
    return sorted(homes)
