"""Every page type passes axe-core with no serious or critical violations, in real Chromium.

Each kind of user (nobody signed in, the demo applicants, commissioner, assessor, caseworker,
administrator) walks the site from its start pages, following links, and axe checks each page type
it reaches (each Flask endpoint, a few pages of each). Pages reached only by a form are checked on
purpose: errors shown after a form sent empty (on pages the walk found), the page after a reset
request, the reset link read from the outbox (and the same link once used), a 404, staff sign-in
refused (the site signs staff in through a local OpenID Connect provider), and the "Are you
sure?" pages before a moderated score is recorded or a role taken away. New blueprints are
covered as they come: their pages are found through the links, and none needs listing here.

The walk runs once; one test says what axe found, another that the walk reached what it must (so
a page type cannot drop out of the check unnoticed when the demo data or a link changes).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from ..conftest import ROOT
from .conftest import PASSWORD, Site, go, open_context, save_screenshot, sign_in

# the OpenID Connect provider calls an Authlib hook Authlib now marks deprecated: not our warning
pytestmark = pytest.mark.filterwarnings("ignore:get_jwt_config:DeprecationWarning")
BAD_IMPACTS = ("serious", "critical")
PER_ENDPOINT = 3  # pages of one type to check (a form's pages differ more: see MORE)
MORE = {"page": 12}  # endpoints named `<blueprint>.page`: every page of a long form
NEVER = {"assets", "govuk_static", "app_static"}  # files, not pages
MAX_PAGES = 60  # per person: the walk always ends
LIVERPOOL_EOI = "liverpool_expression_of_interest"
TAG_AS_TEXT = re.compile(r"</?(a|br|strong|p|span|div|ul|li|h[1-6]|table|td|tr)\b[^>]*>")
TEMPLATES = ROOT / "engine" / "web" / "templates"
# folders of templates whose every page (not the `_partials`) the walk must have checked
EVERY_TEMPLATE_IN = ("about", "admin", "assess", "auth", "casework")
NARROW = 375  # px: a small phone; no page may need sideways scrolling at this width


def shipped_ids() -> re.Pattern[str]:
    """The identifiers a person must never read: every id of a shipped or documented example
    programme and its forms (workflows, states, lots, forms, questions, roles, criteria) and of
    the demo's organisations. Only ids no sentence would contain are looked for: those with an
    underscore or a digit (`eoi_draft`, `lot_1`, `lodge_lane_trust`); `income` or `eligible` are
    also plain words."""
    import yaml

    ids: set[str] = set()

    def collect(node: Any) -> None:
        if isinstance(node, dict):
            for key in ("id", "trigger", "initial"):
                if isinstance(node.get(key), str):
                    ids.add(node[key])
            for value in node.values():
                collect(value)
        elif isinstance(node, list):
            for value in node:
                collect(value)

    for path in [*ROOT.glob("programmes/*.yaml"), *ROOT.glob("forms/*.yaml"), ROOT / "demo" / "seed.yaml",
                 *ROOT.glob("docs/example/*/*.yaml")]:  # fmt: skip
        collect(yaml.safe_load(path.read_text("utf-8")))
    odd = sorted((i for i in ids if "_" in i or re.search(r"\d", i)), key=len, reverse=True)
    return re.compile(r"(?<![\w/.@-])(" + "|".join(map(re.escape, odd)) + r")(?![\w/.@-])")


IDS = shipped_ids()


@dataclass
class Audit:
    """What axe found, page by page, and which page types (endpoints, templates) it checked."""

    site: Site
    seen: dict[str, list[str]] = field(default_factory=dict)  # endpoint -> URLs checked
    templates: dict[str, list[str]] = field(default_factory=dict)  # template -> URLs checked
    with_errors: set[str] = field(default_factory=set)  # endpoints checked showing an error summary
    problems: list[str] = field(default_factory=list)
    refused: set[str] = field(default_factory=set)  # pages answered with a 4xx on purpose

    def check(self, page: Any, label: str) -> None:
        """Run axe on the page as it is now; note serious and critical violations."""
        endpoint = self.site.endpoint(page.url) or "(no route)"
        template = self.site.template(page.url) or "(no template)"
        self.seen.setdefault(endpoint, []).append(page.url)
        self.templates.setdefault(template, []).append(page.url)
        if page.locator(".govuk-error-summary").count():
            self.with_errors.add(endpoint)
        results = page.evaluate(
            """async () => {
                const r = await axe.run(document, {resultTypes: ["violations"]});
                return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                    nodes: v.nodes.slice(0, 5).map(n => n.target.join(" ") + " — " + n.html.slice(0, 160))}));
            }"""
        )
        where = f"{label} {page.url} [{endpoint}, {template}]"
        found = []
        shown = page.locator("body").inner_text()
        if TAG_AS_TEXT.search(shown):  # HTML escaped twice: a person would read the tags
            found.append(f"{where}\n  HTML shown as text: {TAG_AS_TEXT.search(shown).group(0)!r}")
        ids = sorted(set(IDS.findall(shown)))
        if ids:
            found.append(f"{where}\n  internal ids shown: {', '.join(ids[:8])}")
        found.extend(f"{where}\n  {w}" for w in too_wide(page))
        for v in results:
            if v["impact"] in BAD_IMPACTS:
                nodes = "\n      ".join(v["nodes"])
                found.append(f"{where}\n  {v['impact']}: {v['id']} — {v['help']}\n      {nodes}")
        name = f"{endpoint}-{label.replace(' ', '_')}-{len(self.seen[endpoint])}"
        if found:
            shot = save_screenshot(page, name)
            self.problems.extend(f"{f}\n  screenshot: {shot}" for f in found)
        elif os.environ.get("E2E_SCREENSHOTS"):
            save_screenshot(page, name)

    def report(self) -> str:
        return (
            f"{len(self.problems)} problems: serious or critical ones axe found, HTML shown as text, "
            f"internal ids shown, or pages wider than a {NARROW} px screen:\n\n"
            + "\n\n".join(self.problems)
        )


def too_wide(page: Any) -> list[str]:
    """Whether the page, shown on a 375 px screen, needs sideways scrolling; it is put back after."""
    size = page.viewport_size
    page.set_viewport_size({"width": NARROW, "height": 800})
    try:
        width = page.evaluate("document.documentElement.scrollWidth")
        if width <= NARROW:
            return []
        widest = page.evaluate(
            """(narrow) => { let w = null; for (const e of document.querySelectorAll("main *")) {
                 const r = e.getBoundingClientRect(); if (r.right > narrow + 1 && (!w || r.width > w.width))
                 w = {tag: e.tagName.toLowerCase(), cls: e.className, width: Math.round(r.width)}; }
               return w; }""",
            NARROW,
        )
        return [f"{width} px wide on a {NARROW} px screen (widest: {widest})"]
    finally:
        page.set_viewport_size(size)


def limit(endpoint: str) -> int:
    return MORE.get(endpoint.rsplit(".", 1)[-1], PER_ENDPOINT)


def shape(url: str) -> str:
    """A link's shape: its path with the numbers taken out (LLR-000004 and LLR-000007 are alike)."""
    return re.sub(r"\d+", "0", url.split("#")[0].split("?")[0])


def walk(page: Any, audit: Audit, label: str, starts: list[str]) -> None:
    """Follow this site's links from the start pages, checking each new page of each type.

    Breadth first, but a link of a shape not yet followed goes before more of one already seen:
    of a long list of cases, a few of each programme are checked, not the first few of one.
    """
    site = audit.site
    queue = [site.url + s for s in starts]
    visited: set[str] = set()
    shapes: set[str] = set()
    counts: dict[str, int] = {}
    while queue and len(visited) < MAX_PAGES:
        first_new = next((i for i, u in enumerate(queue) if shape(u) not in shapes), 0)
        url = queue.pop(first_new).split("#")[0]
        endpoint = site.endpoint(url)
        if url in visited or endpoint is None or endpoint in NEVER:
            continue
        if counts.get(endpoint, 0) >= limit(endpoint) or len(audit.seen.get(endpoint, [])) >= 2 * limit(endpoint):  # fmt: skip
            continue  # enough of this type, for this person and in all
        visited.add(url)
        shapes.add(shape(url))
        head = page.request.head(url, max_redirects=0)
        if head.status != 200 or not head.headers.get("content-type", "").startswith("text/html"):
            continue  # a redirect (to sign in, say), a refusal, or a download (a file, a CSV)
        page.goto(url)
        counts[endpoint] = counts.get(endpoint, 0) + 1
        audit.check(page, label)
        hrefs = page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)")
        queue.extend(h for h in dict.fromkeys(hrefs) if h.startswith(site.url) and h.split("#")[0] not in visited)  # fmt: skip


def submit_empty(page: Any, audit: Audit, label: str, endpoint: str, button: str | re.Pattern[str],
                 within: str = "main", focuses: bool = True) -> None:  # fmt: skip
    """Send a form as it stands (nothing filled in) from the first page of a type the walk checked
    that has the button, and check the page that shows the errors; its first error's link must
    put the keyboard in the answer to correct (`focuses`), as GOV.UK's error summary does."""
    for url in dict.fromkeys(audit.seen.get(endpoint, [])):
        page.goto(url)
        found = page.locator(within).get_by_role("button", name=button, exact=True)
        if not found.count():
            continue
        go(page, found.first)
        summary = page.locator(".govuk-error-summary")
        assert summary.count(), f"{url} showed no errors"
        audit.refused.add(page.url)  # a form with errors may answer 400
        audit.check(page, label + " (errors)")
        if focuses:
            link = summary.locator("a").first
            link.click()
            focused = page.evaluate("document.activeElement.tagName")
            assert focused in ("INPUT", "TEXTAREA", "SELECT"), f"{url}: the error link to {link.get_attribute('href')} left the focus on a {focused}"  # fmt: skip
        return
    seen = ", ".join(dict.fromkeys(audit.seen.get(endpoint, []))) or "none"
    raise AssertionError(f"no {endpoint} page the walk checked has a {button!r} button (checked: {seen})")  # fmt: skip


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
    print("templates never checked:", sorted(_page_templates(None) - set(audit.templates)))
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
    }  # fmt: skip
    missing = expected - set(audit.seen)
    assert not missing, f"page types never reached: {sorted(missing)}"
    unchecked = _page_templates(EVERY_TEMPLATE_IN) - set(audit.templates)
    assert not unchecked, f"templates never checked: {sorted(unchecked)}"
    errors = {
        "auth.sign_in", "auth.register", "auth.reset_request", "auth.reset", "apply.page",
        "assess.case", "assess.sheet_page", "casework.sheet_page", "casework.sheet_check",
        "admin.invite", "admin.person", "admin.privacy",
    }  # fmt: skip
    missing = errors - audit.with_errors
    assert not missing, f"page types never checked showing errors: {sorted(missing)}"


def _page_templates(folders: tuple[str, ...] | None) -> set[str]:
    """The page templates (not `_partials`, nor the layouts pages extend) in these folders (None: all)."""
    paths = list(TEMPLATES.rglob("*.html"))
    extended = {m for p in paths for m in re.findall(r"{%-?\s*extends\s+[\"']([^\"']+)", p.read_text("utf-8"))}  # fmt: skip
    found = set()
    for path in paths:
        name = path.relative_to(TEMPLATES).as_posix()
        if path.name.startswith("_") or name in extended:
            continue
        if folders is None or name.split("/")[0] in folders:
            found.add(name)
    return found


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
