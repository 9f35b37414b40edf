"""Every page type passes axe-core with no serious or critical violations, in real Chromium.

Each kind of user (nobody signed in, the demo applicants, commissioner, assessor, caseworker)
walks the site from its start pages, following links, and axe checks each page type it reaches
(each Flask endpoint, a few pages of each). Pages reached only by a form — errors shown, the page
after a reset request, a 404 — are checked on purpose. New blueprints are covered as they come:
their pages are found through the links, and none needs listing here.
"""

from __future__ import annotations

import json
import os
import re
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import pytest

from .conftest import Site, go, screenshot_folder, sign_in

BAD_IMPACTS = ("serious", "critical")
PER_ENDPOINT = 3  # pages of one type to check (a form's pages differ more: see MORE)
MORE = {"page": 12}  # endpoints named `<blueprint>.page`: every page of a long form
NEVER = {"assets", "govuk_static", "app_static"}  # files, not pages
MAX_PAGES = 60  # per person: the walk always ends
LIVERPOOL_EOI = "liverpool_expression_of_interest"
TAG_AS_TEXT = re.compile(r"</?(a|br|strong|p|span|div|ul|li|h[1-6]|table|td|tr)\b[^>]*>")


@dataclass
class Audit:
    """What axe found, page by page."""

    site: Site
    seen: dict[str, list[str]] = field(default_factory=dict)  # endpoint -> URLs checked
    problems: list[str] = field(default_factory=list)

    def check(self, page: Any, label: str) -> None:
        """Run axe on the page as it is now; note serious and critical violations."""
        endpoint = self.site.endpoint(page.url) or "(no route)"
        self.seen.setdefault(endpoint, []).append(page.url)
        results = page.evaluate(
            """async () => {
                const r = await axe.run(document, {resultTypes: ["violations"]});
                return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                    nodes: v.nodes.slice(0, 5).map(n => n.target.join(" ") + " — " + n.html.slice(0, 160))}));
            }"""
        )
        shown = page.locator("body").inner_text()
        if TAG_AS_TEXT.search(shown):  # HTML escaped twice: a person would read the tags
            self.problems.append(f"{label} {page.url} [{endpoint}]\n  HTML shown as text: "
                                 f"{TAG_AS_TEXT.search(shown).group(0)!r}")  # fmt: skip
        shots = os.environ.get("E2E_SCREENSHOTS")
        if shots:
            name = label.replace(" ", "_").replace("/", "_") + f"-{len(self.seen[endpoint])}"
            page.screenshot(
                path=str(screenshot_folder() / f"{endpoint}-{name}.png"), full_page=True
            )
        for v in results:
            if v["impact"] in BAD_IMPACTS:
                nodes = "\n      ".join(v["nodes"])
                self.problems.append(
                    f"{label} {page.url} [{endpoint}]\n  {v['impact']}: {v['id']} — {v['help']}\n      {nodes}"
                )

    def report(self) -> str:
        return (
            f"{len(self.problems)} serious or critical accessibility problems (axe) or HTML shown as text:\n\n"
            + "\n\n".join(self.problems)
        )


def limit(endpoint: str) -> int:
    return MORE.get(endpoint.rsplit(".", 1)[-1], PER_ENDPOINT)


def walk(page: Any, audit: Audit, label: str, starts: list[str]) -> None:
    """Follow this site's links from the start pages, checking each new page of each type."""
    site = audit.site
    queue = deque(site.url + s for s in starts)
    visited: set[str] = set()
    counts: dict[str, int] = {}
    while queue and len(visited) < MAX_PAGES:
        url = queue.popleft().split("#")[0]
        endpoint = site.endpoint(url)
        if url in visited or endpoint is None or endpoint in NEVER:
            continue
        if counts.get(endpoint, 0) >= limit(endpoint) or len(audit.seen.get(endpoint, [])) >= 2 * limit(endpoint):  # fmt: skip
            continue  # enough of this type, for this person and in all
        visited.add(url)
        head = page.request.head(url, max_redirects=0)
        if head.status != 200 or not head.headers.get("content-type", "").startswith("text/html"):
            continue  # a redirect (to sign in, say), a refusal, or a download (a file, a CSV)
        page.goto(url)
        counts[endpoint] = counts.get(endpoint, 0) + 1
        audit.check(page, label)
        hrefs = page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)")
        queue.extend(h for h in hrefs if h.startswith(site.url))


def submit_empty(page: Any, audit: Audit, label: str, path: str, button: str) -> None:
    """Send a form with nothing filled in, and check the page that shows the errors."""
    page.goto(audit.site.url + path)
    go(page, page.locator("main").get_by_role("button", name=button, exact=True))
    assert page.locator(".govuk-error-summary").count(), f"{path} showed no errors"
    audit.check(page, label + " (errors)")


@pytest.fixture
def audit(context: Any, site: Site, axe_source: str) -> Audit:
    """axe-core in every page this browser profile opens (as an init script: the CSP allows it)."""
    context.add_init_script(script=axe_source)
    return Audit(site)


def test_every_page_type_has_no_serious_or_critical_accessibility_problems(
    context: Any, audit: Audit, site: Site
) -> None:
    page = context.new_page()

    # nobody signed in: the public pages, forms with errors, the error page
    walk(page, audit, "public", ["/", "/apply/", "/auth/sign-in", "/auth/register", "/auth/reset"])
    submit_empty(page, audit, "public", "/auth/sign-in", "Sign in")
    submit_empty(page, audit, "public", "/auth/register", "Create account")
    page.goto(site.url + "/auth/reset")
    page.get_by_label("Email address").fill("applicant@example.org")
    go(page, page.locator("main").get_by_role("button").first)
    audit.check(page, "public (reset sent)")
    page.goto(site.url + "/no-such-page")
    assert "Page not found" in page.locator("h1").inner_text()
    audit.check(page, "public (404)")

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

    # staff: whatever their home pages link to
    for email in ("commissioner@example.org", "assessor@example.org", "caseworker@example.org"):
        sign_in(page, site, email)
        starts = ["/", page.url[len(site.url) :]]
        starts += [r for r in _staff_homes(site) if r not in starts]
        walk(page, audit, email.split("@")[0], starts)
        _sign_out(page)

    print("page types checked:", json.dumps({k: len(v) for k, v in sorted(audit.seen.items())}))
    pages = {r.endpoint for r in site.app.url_map.iter_rules() if "GET" in r.methods} - NEVER
    print("page types no link led to:", sorted(pages - set(audit.seen)))
    expected = {
        "index", "apply.rounds", "apply.round_page", "auth.sign_in", "auth.register",
        "auth.reset_request", "apply.applications", "apply.case", "apply.eligibility",
        "apply.task_list", "apply.page", "apply.check", "apply.confirmation", "auth.organisation",
        "apply.start", "(no route)",
        # the staff's pages: each audience's start page and a case
        "commission.index", "commission.dashboard", "commission.case", "assess.queue",
        "casework.home", "casework.case",
    }  # fmt: skip
    missing = expected - set(audit.seen)
    assert not missing, f"page types never reached: {sorted(missing)}"
    assert not audit.problems, audit.report()
    # and no page had a JavaScript error, or a script or style the CSP refused
    errors = [e for e in context.errors if "/no-such-page" not in e]
    assert not errors, "\n".join(errors)


def _reference(page: Any, site: Site) -> str:
    """The reference of the person's Liverpool application, from their applications page."""
    page.goto(site.url + "/apply/applications")
    row = page.locator("main tr", has_text="The Life Rooms")
    return row.locator("a").first.inner_text().strip()


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
