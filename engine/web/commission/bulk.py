"""One action on many cases, from a programme's list of cases filtered to one kind and one state.

The list offers checkboxes, "Select all N matching cases" and the actions of that state; choosing
shows "Are you sure…?" with what will happen (and one reason for every case, where the action
needs one); confirming takes the action on each case through the engine, each on its own, and
shows what happened to each: done, or not done and why. The list's address (search, filters,
sort, page) travels with every step, so "Back to the list" returns to the same list.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from engine.errors import ActionRefused
from engine.model import Programme, Workflow
from engine.runtime import ActionOption
from engine.runtime.bulk import MOST_AT_ONCE, BulkResult
from engine.web import confirming, describe, offers
from engine.web.access import allow, current_actor
from engine.web.commission import bp
from engine.web.listing import LONGEST_SEARCH, SORT_WORDS, ListPage
from engine.web.services import engine, store

KEPT = ("q", "workflow", "state", "sort", "page")  # the list's address, kept through each step
LONGEST_REASON = 2000


@dataclass(frozen=True)
class Offer:
    """What the list of cases offers when it shows one kind of case in one state."""

    actions: list[ActionOption]
    total: int  # how many cases match the list's search and filters, on every page
    action_url: str  # where choosing posts, with the list's address kept
    most: int = MOST_AT_ONCE  # how many cases one bulk action may take


def _one_kind(programme: Programme, workflow: str | None) -> Workflow | None:
    """The kind of case a list shows: the one asked for, or a programme's only kind."""
    if workflow is None and len(programme.workflows) == 1:
        return next(iter(programme.workflows.values()))
    return programme.workflows.get(workflow or "")


def offer(programme: Programme, listing: ListPage) -> Offer | None:
    """The bulk actions a list offers: only when it shows one kind of case in one state."""
    wf = _one_kind(programme, listing.workflow)
    if wf is None or listing.state is None or not listing.total:
        return None
    actions = engine().bulk_actions(programme.id, wf.id, listing.state, current_actor())
    if not actions:
        return None
    url = url_for("commission.bulk_choose", pid=programme.id, **_address())
    return Offer(actions, listing.total, url)


def _address() -> dict[str, str]:
    """The list's search, filters, sort and page, as its address carried them."""
    return {k: v for k, v in request.args.items() if k in KEPT and v}


def _scope(programme: Programme) -> tuple[Workflow, str, dict[str, str]]:
    """The kind of case and state the list was filtered to, and its address (a 404 if unknown)."""
    args = _address()
    wf = _one_kind(programme, args.get("workflow"))
    state = args.get("state", "")
    if wf is None or state not in {s.id for s in wf.states}:
        abort(404)
    return wf, state, args


def _back(pid: str, args: dict[str, str]) -> str:
    return url_for("commission.cases", pid=pid, **args)


def _chosen(programme: Programme, wf: Workflow, state: str, args: dict[str, str]) -> list[str]:
    """The references chosen: those ticked, or every case matching the list (raises if too many)."""
    if request.form.get("all") != "yes":
        return list(dict.fromkeys(request.form.getlist("cases")))
    search = args.get("q", "")[:LONGEST_SEARCH]
    sort = args.get("sort", "newest")
    total, rows = store().find_cases(
        scope=[(programme.id, None, None)], workflow=wf.id, state=state, search=search,
        sort=sort if sort in SORT_WORDS else "newest", limit=MOST_AT_ONCE + 1,
    )  # fmt: skip
    if total > MOST_AT_ONCE:
        raise ActionRefused(
            f"There are {total:,} matching cases: you can act on up to {MOST_AT_ONCE:,} at a time. "
            "Narrow the list with a search, or select cases on the page"
        )
    return [r["reference"] for r in rows]


def _action(programme: Programme, wf: Workflow, state: str) -> ActionOption | None:
    trigger = request.form.get("action", "")
    offered = engine().bulk_actions(programme.id, wf.id, state, current_actor())
    return next((a for a in offered if a.trigger == trigger), None)


def _confirm_page(programme: Programme, wf: Workflow, state: str, option: ActionOption,
                  refs: list[str], args: dict[str, str], error: str | None = None) -> str:  # fmt: skip
    """The page asking "Are you sure…?" about these cases, with a reason box if the action needs one."""
    nouns = f"{len(refs):,} case{'' if len(refs) == 1 else 's'}"
    label = describe.mid_sentence(option.label)
    shared = any(t.spec.get("share_reason") for t in wf.transitions if t.trigger == option.trigger)
    return render_template(
        "commission/bulk_confirm.html", programme=programme, option=option, refs=refs,
        nouns=nouns, label=label, question=f"Are you sure you want to {label} for {nouns}?",
        dest=next((s for s in wf.states if s.id == option.dest), None),
        undone=confirming.lasting(programme, wf.id, state, option.trigger), shared=shared,
        error=error, reason=request.form.get("reason", ""),
        action=url_for("commission.bulk_act", pid=programme.id, **args), back=_back(programme.id, args),
    )  # fmt: skip


@bp.post("/<pid>/cases/bulk")
@allow("commissioner")
def bulk_choose(pid: str) -> Response | str:
    """The cases and the action chosen on the list: "Are you sure…?" or back to the list with why not."""
    programme = engine().programme(pid)
    wf, state, args = _scope(programme)
    option = _action(programme, wf, state)
    problems = []
    try:
        refs = _chosen(programme, wf, state, args)
        if not refs:
            problems.append("Select the cases to act on, or select all matching cases")
    except ActionRefused as exc:
        refs, problems = [], [exc.message]
    if len(refs) > MOST_AT_ONCE:
        problems.append(f"Select up to {MOST_AT_ONCE:,} cases at a time")
    if option is None:
        problems.append("Select what to do with the cases you chose")
    if problems or option is None:
        for problem in problems:
            flash(problem, "error")
        return redirect(_back(pid, args))
    return _confirm_page(programme, wf, state, option, refs, args)


@bp.post("/<pid>/cases/bulk/act")
@allow("commissioner")
def bulk_act(pid: str) -> Response | str:
    """Take the action on each case chosen, each on its own; then what happened to each."""
    programme = engine().programme(pid)
    wf, state, args = _scope(programme)
    option = _action(programme, wf, state)
    refs = list(dict.fromkeys(request.form.getlist("cases")))
    if option is None or not refs or len(refs) > MOST_AT_ONCE:
        flash("Select the cases and what to do with them again", "error")
        return redirect(_back(pid, args))
    reason = request.form.get("reason", "").strip()
    if option.needs_reason and not reason:
        return _confirm_page(programme, wf, state, option, refs, args,
                             "Enter a reason: it is recorded on every case")  # fmt: skip
    if len(reason) > LONGEST_REASON:
        return _confirm_page(programme, wf, state, option, refs, args,
                             f"Enter a reason of {LONGEST_REASON:,} characters or fewer")  # fmt: skip
    results = engine().act_on_many(refs, option.trigger, current_actor(), expected_state=state,
                                   programme_id=pid, reason=reason or None)  # fmt: skip
    done = sum(r.done for r in results)
    return render_template(
        "commission/bulk_results.html", programme=programme, option=option, done=done,
        not_done=len(results) - done, rows=_rows(wf, option, results), back=_back(pid, args),
    )  # fmt: skip


def _rows(wf: Workflow, option: ActionOption, results: list[BulkResult]) -> list[dict[str, Any]]:
    """Each case's result in words, those not done first (what needs a person's attention)."""
    rows = [{"result": r, "why": offers.reasons_in_words(wf, ActionOption(
        option.trigger, option.label, option.dest, r.done, r.reasons))} for r in results]  # fmt: skip
    return sorted(rows, key=lambda row: row["result"].done)
