"""Confirm before an action that cannot be undone, and say what happened once it is done.

An action cannot be undone when it ends the case (its destination is a final state), moves money
(an award or a payment), starts another case, or is an assessor's step out of assessment. Every
audience's action route asks here first: the first POST shows a confirmation page that carries
the same fields; only a POST with `confirmed=yes` reaches the engine.
"""

from __future__ import annotations

from typing import Any

from flask import flash, render_template, request, url_for

from engine.model import Programme, Transition
from engine.runtime import CaseView
from engine.web import describe

# What an action form may carry, echoed through the confirmation page unchanged.
CARRIED = ("state", "revision", "amount", "lot", "reason")
_LASTING = {"record_award", "record_payment", "start_case"}


def _transition(programme: Programme, view: CaseView, trigger: str) -> Transition | None:
    return _from(programme, view.workflow, view.state, trigger)


def _from(programme: Programme, workflow: str, state: str, trigger: str) -> Transition | None:
    wf = programme.workflows[workflow]
    return next((t for t in wf.transitions if t.trigger == trigger and state in t.sources), None)


def cannot_be_undone(programme: Programme, view: CaseView, trigger: str) -> bool:
    """Whether taking `trigger` on this case now is something nobody can take back."""
    return lasting(programme, view.workflow, view.state, trigger)


def lasting(programme: Programme, workflow: str, state: str, trigger: str) -> bool:
    """Whether taking `trigger` on a case of `workflow` in `state` is something nobody can take back."""
    t = _from(programme, workflow, state, trigger)
    if t is None:
        return False  # the engine refuses it, with its reasons
    final = {s.id for s in programme.workflows[workflow].states if s.final}
    effects = any(e.get("do") in _LASTING for e in t.spec.get("effects", []))
    return t.dest in final or effects or t.by == ("assessor",)


def ask_first(view: CaseView, programme: Programme, trigger: str, action_endpoint: str,
              back: str) -> str | None:  # fmt: skip
    """The confirmation page for an action that cannot be undone (None: go ahead)."""
    if request.form.get("confirmed") == "yes" or not cannot_be_undone(programme, view, trigger):
        return None
    t = _transition(programme, view, trigger)
    assert t is not None  # cannot_be_undone found it
    wf = programme.workflows[view.workflow]
    label = t.spec.get("label") or trigger.replace("_", " ").capitalize()
    dest = next(s for s in wf.states if s.id == t.dest)
    carried = {k: request.form[k] for k in CARRIED if request.form.get(k)}
    shown: list[dict[str, Any]] = []
    if carried.get("amount"):
        shown.append({"key": {"text": "Amount"}, "value": {"text": f"£{carried['amount']}"}})
    if carried.get("lot"):
        lots = {x["id"]: x.get("name", x["id"]) for x in programme.data["funding"].get("lots", [])}
        shown.append({"key": {"text": "Lot"}, "value": {"text": lots.get(carried["lot"], "")}})
    if carried.get("reason"):
        shown.append({"key": {"text": "Reason"}, "value": {"text": carried["reason"]}})
    return render_template(
        "confirm.html", view=view, programme=programme, label=label, dest=dest,
        question=f"Are you sure you want to {describe.mid_sentence(label)}?", carried=carried,
        shown=shown, action=url_for(action_endpoint, ref=view.reference, trigger=trigger),
        back=url_for(back, ref=view.reference),
    )  # fmt: skip


def flash_done(programme: Programme, done: CaseView, trigger: str) -> None:
    """A success banner: what was done, where the case now stands and what comes next."""
    wf = programme.workflows[done.workflow]
    state = next((s for s in programme.data["workflows"][wf.id]["states"] if s["id"] == done.state), {})  # fmt: skip
    text = f"{describe.action_words(programme, wf.id, trigger)}: done. "
    text += f"The status of {done.reference} is now: {done.state_label}."
    if state.get("description"):
        text += f" {state['description']}"
    flash(text, "message")
