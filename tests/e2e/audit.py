"""The accessibility walk's tools: `Audit` runs axe-core and the service's own checks on a page
(HTML shown as text, internal ids, ISO timestamps, sideways scrolling on a phone) and notes which
page types and templates it checked; `walk` follows links from start pages; `submit_empty` sends a
form empty to check the page showing its errors. tests/e2e/test_accessibility.py walks the site
with them.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Any

from ..conftest import ROOT
from .conftest import Site, go, save_screenshot

BAD_IMPACTS = ("serious", "critical")
PER_ENDPOINT = 3  # pages of one type to check (a form's pages differ more: see MORE)
MORE = {"page": 12}  # endpoints named `<blueprint>.page`: every page of a long form
NEVER = {"assets", "govuk_static", "app_static"}  # files, not pages
MAX_PAGES = 60  # per person: the walk always ends
TAG_AS_TEXT = re.compile(r"</?(a|br|strong|p|span|div|ul|li|h[1-6]|table|td|tr)\b[^>]*>")
# a moment as stored or printed by Python (2022-01-20T10:00, 2022-01-20 10:00:00): people read dates
# in words (engine/dates.py)
ISO_MOMENT = re.compile(r"(?<![\w-])\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")
TEMPLATES = ROOT / "engine" / "web" / "templates"
# pages that show a file being edited, and the region that shows it (the studio's code editor,
# which a walk waits for: the page's JavaScript makes it): ids and timestamps are the file's own
# words there, so they are looked for in the rest of the page only
EDITORS = {"studio.edit": ".cm-editor"}
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
        editor = EDITORS.get(endpoint)
        if editor:
            page.locator(editor).first.wait_for()
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
        read = "\n".join(
            [text_outside(page, editor) if editor else shown, *spoken_names(page, editor)]
        )
        ids = sorted(set(IDS.findall(read)))
        if ids:
            found.append(f"{where}\n  internal ids shown: {', '.join(ids[:8])}")
        if stamps := sorted(set(ISO_MOMENT.findall(read))):
            found.append(f"{where}\n  timestamps not in words: {', '.join(stamps[:4])}")
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
            f"internal ids or ISO timestamps shown, or pages wider than a {NARROW} px screen:\n\n"
            + "\n\n".join(self.problems)
        )


def text_outside(page: Any, selector: str) -> str:
    """The page's text as a person reads it, without the regions `selector` matches (which must
    be there, and be hidden by hiding them: either failing would leave nothing out, silently)."""
    text = page.evaluate(
        """(selector) => {
            const regions = [...document.querySelectorAll(selector)];
            if (!regions.length) return {missing: true};
            // "important": CodeMirror's own styles say `display: flex !important`, which a plain
            // inline `display: none` loses to (the editor's text was read as the page's)
            const was = regions.map(e => [e.style.getPropertyValue("display"), e.style.getPropertyPriority("display")]);
            regions.forEach(e => e.style.setProperty("display", "none", "important"));
            try {
                if (regions.some(e => e.getClientRects().length)) return {shown: true};
                return {text: document.body.innerText};
            } finally { regions.forEach((e, i) => e.style.setProperty("display", ...was[i])); }
        }""",
        selector,
    )
    assert not text.get("missing"), f"{page.url}: nothing matches {selector!r}, the region left out"
    assert not text.get("shown"), f"{page.url}: {selector!r} is still shown after hiding it"
    return str(text["text"])


def spoken_names(page: Any, outside: str | None = None) -> list[str]:
    """Words a screen reader says that the page's text does not hold: the page's title, and the
    labels, descriptions and image descriptions given as attributes of what is not hidden from
    it (outside the regions `outside` matches)."""
    return list(
        page.evaluate(
            """(outside) => [document.title, ...[...document.querySelectorAll(
                    "[aria-label], [aria-description], [aria-roledescription], [aria-valuetext], [title], [alt], [placeholder]")]
                .filter(e => !(outside && e.closest(outside)) && !e.closest("[aria-hidden=true]")
                             && (!e.checkVisibility || e.checkVisibility()))
                .flatMap(e => ["aria-label", "aria-description", "aria-roledescription", "aria-valuetext", "title", "alt", "placeholder"]
                    .map(a => e.getAttribute(a)).filter(Boolean))]""",
            outside,
        )
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


def page_templates(folders: tuple[str, ...] | None) -> set[str]:
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
