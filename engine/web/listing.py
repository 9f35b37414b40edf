"""Every list of cases a person pages through: search, filters, sort and pages, read from the address.

The four lists (a programme's cases, an organisation's applications, an assessor's queue, a
caseworker's people) each say what they may show and how it may be filtered and sorted; this
module reads `?q=…&state=…&workflow=…&sort=…&page=…`, checks every value (a bad one is named on
the page, with what to do, and left out, never a 400 page), asks the store for one page of 25 and
the number that match, and builds GOV.UK's pagination. The templates are `_list_controls.html`
and `_pagination.html`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import request, url_for

from engine.model import Programme
from engine.runtime.labels import label_question
from engine.web.access import reachable
from engine.web.services import engine, store

PER_PAGE = 25
LONGEST_SEARCH = 100
SORT_WORDS = {
    "newest": "Newest first",
    "oldest": "Oldest first",
    "reference": "Reference",
    "changed": "Last changed",
    "organisation": "Organisation name",
    "due": "Next due first",
}


@dataclass(frozen=True)
class Choice:
    """One option of a filter: the value the address carries and the words people read."""

    value: str
    label: str


@dataclass
class ListPage:
    """One page of a list, and everything its controls and pagination show."""

    rows: list[dict[str, Any]]
    total: int
    page: int
    pages: int
    search: str
    state: str | None
    workflow: str | None
    sort: str
    states: list[tuple[str | None, list[Choice]]]
    workflows: list[Choice]
    sorts: list[Choice]
    noun: str
    errors: list[dict[str, str]] = field(default_factory=list)

    @property
    def first(self) -> int:
        """The position of the page's first row in the whole list (1-based)."""
        return (self.page - 1) * PER_PAGE + 1 if self.total else 0

    @property
    def last(self) -> int:
        """The position of the page's last row in the whole list."""
        return min(self.page * PER_PAGE, self.total)

    @property
    def plural(self) -> str:
        """The list's noun for many ("cases", "people")."""
        return plural(self.noun)

    @property
    def filtered(self) -> bool:
        """Whether a search or filter narrows the list (so "no cases" means "none match")."""
        return bool(self.search or self.state or self.workflow)

    def nouns(self, count: int) -> str:
        """The list's noun for a count: "1 case", "1,234 cases"."""
        return f"{count:,} {self.noun if count == 1 else plural(self.noun)}"

    def pagination(self) -> dict[str, Any] | None:
        """The parameters of GOV.UK's pagination component, or None when there is one page."""
        if self.pages <= 1:
            return None
        items: list[dict[str, Any]] = []
        for number in page_numbers(self.page, self.pages):
            if number is None:
                items.append({"ellipsis": True})
            else:
                items.append({"number": str(number), "href": self.url(number),
                              "current": number == self.page})  # fmt: skip
        out: dict[str, Any] = {"items": items, "landmarkLabel": f"Pages of {plural(self.noun)}"}
        if self.page > 1:
            out["previous"] = {"href": self.url(self.page - 1)}
        if self.page < self.pages:
            out["next"] = {"href": self.url(self.page + 1)}
        return out

    def url(self, page: int) -> str:
        """This list's address at another page, keeping its search, filters and sort."""
        args = {"q": self.search or None, "workflow": self.workflow, "state": self.state,
                "sort": self.sort, "page": page}  # fmt: skip
        kept = {k: v for k, v in args.items() if v not in (None, "")}
        return url_for(request.endpoint or "", **(request.view_args or {}), **kept)


def plural(noun: str) -> str:
    """The plural of a list's noun ("person" → "people", "case" → "cases")."""
    return "people" if noun == "person" else f"{noun}s"


def page_numbers(page: int, pages: int) -> list[int | None]:
    """The numbers GOV.UK's pagination shows: the first, the last, the current and its neighbours."""
    wanted = sorted({1, pages, page - 1, page, page + 1} & set(range(1, pages + 1)))
    out: list[int | None] = []
    previous = 0
    for number in wanted:
        if previous and number - previous > 1:
            out.append(None)  # an ellipsis for the numbers left out
        out.append(number)
        previous = number
    return out


def state_choices(programmes: list[Programme], workflows: set[tuple[str, str]] | None = None,
                  grouped: bool = False) -> list[tuple[str | None, list[Choice]]]:  # fmt: skip
    """The states people may filter by, by their labels (grouped by kind of case if asked)."""
    groups: list[tuple[str | None, list[Choice]]] = []
    seen: dict[str, Choice] = {}
    for programme in programmes:
        for wf in programme.workflows.values():
            if workflows is not None and (programme.id, wf.id) not in workflows:
                continue
            choices = [Choice(s.id, s.label) for s in wf.states]
            if grouped:
                groups.append((wf.title, choices))
                continue
            for choice in choices:  # one state shared by several kinds of case is offered once
                seen.setdefault(choice.value, choice)
    return groups if grouped else [(None, sorted(seen.values(), key=lambda c: c.label.lower()))]


def list_page(*, noun: str, states: list[tuple[str | None, list[Choice]]],
              sorts: tuple[str, ...], workflows: list[Choice] | None = None,
              **query: Any) -> ListPage:  # fmt: skip
    """Read the address's search, filters, sort and page; check them; and fetch that page."""
    args = request.args
    errors: list[dict[str, str]] = []
    search = args.get("q", "").strip()
    if len(search) > LONGEST_SEARCH:
        errors.append({"text": f"Search for {LONGEST_SEARCH} characters or fewer", "href": "#q"})
        search = ""
    state = args.get("state") or None
    if state is not None and state not in {c.value for _g, group in states for c in group}:
        errors.append({"text": "Choose a state from the list: the one asked for is not one of them",
                       "href": "#state"})  # fmt: skip
        state = None
    workflow = args.get("workflow") or None
    if workflow is not None and workflow not in {c.value for c in workflows or []}:
        errors.append({"text": "Choose a kind of case from the list", "href": "#workflow"})
        workflow = None
    sort = args.get("sort") or sorts[0]
    if sort not in sorts:
        errors.append({"text": "Choose an order from the “Sort by” list", "href": "#sort"})
        sort = sorts[0]
    page = asked_page(errors)
    find = {"search": search, "state": state, "workflow": workflow, "sort": sort, **query}
    total, rows = store().find_cases(**find, limit=PER_PAGE, offset=(page - 1) * PER_PAGE)
    pages = page_count(total)
    if not page_exists(page, pages, errors):
        page = 1
        total, rows = store().find_cases(**find, limit=PER_PAGE, offset=0)
    return ListPage(
        rows=rows, total=total, page=page, pages=pages, search=search, state=state,
        workflow=workflow, sort=sort, states=states, workflows=workflows or [],
        sorts=[Choice(s, SORT_WORDS[s]) for s in sorts], noun=noun, errors=errors,
    )  # fmt: skip


def asked_page(errors: list[dict[str, str]]) -> int:
    """The page the address asks for: 1 if none, or not a number (said in `errors`)."""
    asked = request.args.get("page", "1").strip()
    if asked.isascii() and asked.isdigit() and 0 < int(asked) < 10**9:
        return int(asked)
    errors.append({"text": "Enter a page number as a whole number, like 2", "href": "#pages"})
    return 1


def page_count(total: int) -> int:
    """How many pages `total` rows take (one, even when there are none)."""
    return max(1, -(-total // PER_PAGE))


def page_exists(page: int, pages: int, errors: list[dict[str, str]]) -> bool:
    """Whether the list has this page (if not, `errors` says which pages it has)."""
    if page <= pages:
        return True
    errors.append({"text": f"There is no page {page:,}: choose a page from 1 to {pages:,}",
                   "href": "#pages"})  # fmt: skip
    return False


def labelled(programmes: list[Programme]) -> bool:
    """Whether any workflow of these programmes labels its cases by an answer (lists show it)."""
    return any(label_question(p, wf) for p in programmes for wf in p.data["workflows"])


def programmes() -> list[Programme]:
    """Every published programme, at its latest version (whose states and kinds the filters offer)."""
    return [engine().programme(pid) for pid in reachable(store().programme_ids())]


def workflows_about(found: list[Programme], person: bool) -> set[tuple[str, str]]:
    """The (programme, workflow) pairs whose cases are about a person, or about an organisation."""
    return {(p.id, wf_id) for p in found for wf_id, spec in p.data["workflows"].items()
            if (spec.get("subject") == "person") == person}  # fmt: skip


def describe_rows(rows: list[dict[str, Any]]) -> None:
    """Give each row its programme, kind of case and state in words, from the version it is pinned to."""
    eng = engine()
    for row in rows:
        programme = eng.programme(row["programme_id"], row["version"])
        wf = programme.workflows.get(row["workflow"])
        row["programme"] = programme
        row["kind"] = wf.title if wf else ""
        state = next((s for s in wf.states if s.id == row["state"]), None) if wf else None
        row["state_label"] = state.label if state else "Unknown"
