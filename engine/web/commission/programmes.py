"""A programme as its commissioner sees it: dashboard, cases by state, previews, CSV, workflows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import abort, render_template, request, stream_with_context
from werkzeug.wrappers import Response

from engine.model import Programme
from engine.reporting.export import cases_csv_lines
from engine.rules import names_of
from engine.web import headers
from engine.web.access import allow, current_actor, reachable
from engine.web.apply.answering import blank_form
from engine.web.commission import bp, bulk, diagram
from engine.web.listing import Choice, list_page, state_choices
from engine.web.services import engine, store


def _programme(pid: str) -> Programme:
    """A published programme (the engine's NotFound, a 404, if there is none)."""
    return engine().programme(pid)


@bp.get("/")
@allow("commissioner")
def index() -> str:
    """Every published programme, with links to its dashboard."""
    programmes = [engine().programme(pid) for pid in reachable(store().programme_ids())]
    return render_template("commission/index.html", programmes=programmes)


@bp.get("/<pid>")
@allow("commissioner")
def dashboard(pid: str) -> str:
    """Cases by state, deadlines ahead, money awarded and left, awards, and what is overdue."""
    programme = _programme(pid)
    figures = engine().dashboard(pid, current_actor())
    return render_template("commission/dashboard.html", programme=programme, d=figures)


@bp.get("/<pid>/cases")
@allow("commissioner")
def cases(pid: str) -> str:
    """The programme's cases, searched, filtered by kind and state, sorted, 25 to a page."""
    programme = _programme(pid)
    listing = list_page(
        noun="case", scope=[(pid, None, None)],
        workflows=[Choice(wf.id, wf.title) for wf in programme.workflows.values()],
        states=state_choices([programme], grouped=len(programme.workflows) > 1),
        sorts=("newest", "oldest", "reference", "changed", "organisation"),
    )  # fmt: skip
    labels = {(wf.id, s.id): s.label for wf in programme.workflows.values() for s in wf.states}
    lots = {
        lot["id"]: lot.get("name", lot["id"]) for lot in programme.data["funding"].get("lots", [])
    }
    for row in listing.rows:
        row["state_label"] = labels.get((row["workflow"], row["state"]), "Unknown")
        row["kind"] = (
            programme.workflows[row["workflow"]].title
            if row["workflow"] in programme.workflows
            else ""
        )
        row["lot_name"] = lots.get(row["lot"] or "")
    return render_template("commission/cases.html", programme=programme, listing=listing,
                           heading=labels.get((listing.workflow or "", listing.state or "")),
                           lots=bool(lots), bulk=bulk.offer(programme, listing))  # fmt: skip


@bp.get("/<pid>/export.csv")
@allow("commissioner")
def export(pid: str) -> Response:
    """The cases as CSV, with only the answers a commissioner may see (as on the case pages)."""
    programme = _programme(pid)
    workflow = request.args.get("workflow") or None
    if workflow is not None and workflow not in programme.workflows:
        abort(404)
    anonymised = programme.reports_anonymised()
    lines = cases_csv_lines(
        store(), programme, workflow, anonymised=anonymised, role="commissioner"
    )
    name = f"{pid}-{workflow or 'cases'}{'-anonymised' if anonymised else ''}.csv"
    # streamed a batch of cases at a time: 100,000 rows start arriving at once, in flat memory
    return Response(stream_with_context(lines), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})  # fmt: skip


@dataclass(frozen=True)
class Shown:
    """Where a programme's form previews and workflows are shown: a published programme's pages
    (`commission`) or a draft's (`studio`). The templates build every link from these endpoints
    and the keys in the address, so one set of views and templates serves both."""

    blueprint: str
    where: dict[str, Any]  # the keys every link carries: {"pid": …} or {"draft_id": …}
    caption: str  # above each heading: the programme's name, or which draft it is
    home: str  # the page the lists go back to
    home_words: str
    nav: str  # the template of the links every page of this kind carries

    @property
    def forms(self) -> str:
        """The endpoint of the list of forms."""
        return f"{self.blueprint}.forms"

    @property
    def preview(self) -> str:
        """The endpoint of one page of a form, previewed."""
        return f"{self.blueprint}.preview"

    @property
    def workflows(self) -> str:
        """The endpoint of the list of workflows."""
        return f"{self.blueprint}.workflows"

    @property
    def workflow(self) -> str:
        """The endpoint of one workflow's picture and table."""
        return f"{self.blueprint}.workflow"


def published(programme: Programme) -> Shown:
    """A published programme's pages, under /commission."""
    return Shown("commission", {"pid": programme.id}, programme.name, "commission.dashboard",
                 "Dashboard", "commission/_nav.html")  # fmt: skip


def forms_page(programme: Programme, at: Shown) -> str:
    """The programme's forms, each linking to its preview."""
    entries: dict[str, list[dict[str, Any]]] = {}
    for entry in programme.data["forms"]:
        entries.setdefault(entry["form"], []).append(entry)
    return render_template("commission/forms.html", programme=programme, entries=entries, at=at)


def preview_page(programme: Programme, form_id: str, page_id: str | None, at: Shown) -> str:
    """One page of a form as an applicant sees it, read only (a 404 for a form or page not there)."""
    form = programme.forms.get(form_id)
    if form is None:
        abort(404)
    ids = [p for p, _t, _qs in form.pages]
    page_id = page_id or ids[0]
    if page_id not in ids:
        abort(404)
    index = ids.index(page_id)
    _pid, title, questions = form.pages[index]
    fo = blank_form(programme, form, list(questions), {})
    spec = next((p for p in form.spec.get("pages", []) if p.get("id") == page_id), {})
    return render_template(
        "commission/preview.html", programme=programme, form=form, fo=fo, title=title, spec=spec,
        page_id=page_id, pages=form.pages, previous=ids[index - 1] if index else None,
        next=ids[index + 1] if index + 1 < len(ids) else None, at=at,
        conditional={q.id: asked_when(programme, q.spec["show_if"]) for q in questions if q.spec.get("show_if")},
    )  # fmt: skip


def asked_when(programme: Programme, show_if: str) -> str:
    """When a question is asked, in words: by the labels of the questions its rule reads (the
    rule itself names question ids, which mean nothing to the person reading the preview)."""
    questions = programme.questions()
    read = sorted((n for n in names_of(show_if) if n in questions), key=show_if.find)
    if not read:
        return "Asked only when other answers call for it"
    labels = " and ".join(f"“{questions[n].label}”" for n in read)
    return f"Asked only when the answer{'s' if len(read) > 1 else ''} to {labels} call{'' if len(read) > 1 else 's'} for it"  # fmt: skip


def workflows_page(programme: Programme, at: Shown) -> str:
    """The programme's workflows, each linking to its picture."""
    return render_template("commission/workflows.html", programme=programme, at=at)


def workflow_page(programme: Programme, wf_id: str, at: Shown) -> str:
    """A workflow drawn as a state diagram, and the same as a table (a 404 for one not there)."""
    wf = programme.workflows.get(wf_id)
    if wf is None:
        abort(404)
    # Mermaid styles the SVG it draws with a <style> element and style attributes; scripts
    # stay locked to this site, only this page's styles are loosened (read by the CSP header).
    headers.allow_inline_styles()
    return render_template("commission/workflow.html", programme=programme, workflow=wf, at=at,
                           source=diagram.mermaid(programme, wf), rows=diagram.rows(programme, wf))  # fmt: skip


@bp.get("/<pid>/forms")
@allow("commissioner")
def forms(pid: str) -> str:
    """The programme's forms, each with a preview as an applicant would see it."""
    programme = _programme(pid)
    return forms_page(programme, published(programme))


@bp.get("/<pid>/forms/<form_id>/preview", defaults={"page_id": None})
@bp.get("/<pid>/forms/<form_id>/preview/<page_id>")
@allow("commissioner")
def preview(pid: str, form_id: str, page_id: str | None) -> str:
    """One page of a form as an applicant sees it, read only (every question, conditional ones marked)."""
    programme = _programme(pid)
    return preview_page(programme, form_id, page_id, published(programme))


@bp.get("/<pid>/workflows")
@allow("commissioner")
def workflows(pid: str) -> str:
    """The programme's workflows, each linking to its picture."""
    programme = _programme(pid)
    return workflows_page(programme, published(programme))


@bp.get("/<pid>/workflows/<wf_id>")
@allow("commissioner")
def workflow(pid: str, wf_id: str) -> str:
    """A workflow drawn as a state diagram, and the same as a table of transitions."""
    programme = _programme(pid)
    return workflow_page(programme, wf_id, published(programme))
