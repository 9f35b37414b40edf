"""What a new version changes in one workflow: its states and its actions, in words."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

from engine.definition.diffing_words import and_list, key_words, merged_order, quoted, roles_words
from engine.model import Transition, Workflow

if TYPE_CHECKING:
    from engine.definition.diffing import _Said

# Transition keys said in sentences of their own; any other change is named by its key.
_SAID = {"trigger", "label", "guard", "source", "dest", "by", "deadline"}


def workflow_changes(said: _Said, wid: str, old: dict[str, Any], new: dict[str, Any]) -> None:
    """Say what changed in workflow `wid`, present in both versions."""
    o, n = said.old.workflows[wid], said.new.workflows[wid]
    where = said.in_workflow(wid)
    if o.title != n.title:
        said.add(
            f"renames workflow {quoted(o.title)} to {quoted(n.title)}", "workflow.renamed", wid
        )
    labels = {s.id: s.label for s in (*o.states, *n.states)}  # the newer label wins
    if o.initial != n.initial:
        said.add(f"makes new cases{where} start in {quoted(labels[n.initial])}, not "
                 f"{quoted(labels[o.initial])}", "workflow.initial", wid)  # fmt: skip
    _states(said, wid, o, n, where)
    _transitions(said, wid, o, n, where)
    for key in merged_order(list(old), list(new)):
        if key in ("title", "initial", "states", "transitions") or old.get(key) == new.get(key):
            continue
        if key in ("opens", "closes"):
            verb = "open" if key == "opens" else "close"
            if new.get(key) and old.get(key):
                words = f"makes {quoted(n.title)} {verb} at {_milestone(said, new[key])}, not {_milestone(said, old[key])}"
            else:
                words = f"changes when {quoted(n.title)} {key} to new cases"
            said.add(words, f"workflow.{key}", wid, said.open_states(wid))
            continue
        said.add(f"changes the {key_words(key)} of workflow {quoted(n.title)}",
                 f"workflow.{key}", wid, said.open_states(wid))  # fmt: skip


def _states(said: _Said, wid: str, o: Workflow, n: Workflow, where: str) -> None:
    before = {s.id: s for s in o.states}
    after = {s.id: s for s in n.states}
    for sid in merged_order(list(before), list(after)):
        b, a = before.get(sid), after.get(sid)
        open_ = (sid,) if b is not None and not b.final else ()
        about = {"state": sid}
        if b is None and a is not None:
            said.add(f"adds state {quoted(a.label)}{where}", "state.added", wid, (), **about)
        elif a is None and b is not None:
            said.add(
                f"removes state {quoted(b.label)}{where}", "state.removed", wid, open_, **about
            )
        elif a is not None and b is not None:
            if a.label != b.label:
                said.add(f"renames state {quoted(b.label)} to {quoted(a.label)}{where}",
                         "state.renamed", wid, open_, **about)  # fmt: skip
            if a.final != b.final:
                words = "final: no action is taken from it" if a.final else "no longer final"
                said.add(f"makes state {quoted(a.label)} {words}{where}", "state.final", wid,
                         open_, **about)  # fmt: skip


def _keyed(wf: Workflow) -> dict[str, Transition]:
    """Transitions by trigger (`trigger#2` for the second with the same trigger)."""
    out: dict[str, Transition] = {}
    for t in wf.transitions:
        key, n = t.trigger, 1
        while key in out:
            n += 1
            key = f"{t.trigger}#{n}"
        out[key] = t
    return out


def action_label(t: Transition) -> str:
    """An action as people read it: its label, or its trigger in words."""
    return str(t.spec.get("label") or t.trigger.replace("_", " ").capitalize())


def _transitions(said: _Said, wid: str, o: Workflow, n: Workflow, where: str) -> None:
    before, after = _keyed(o), _keyed(n)
    open_ = set(said.open_states(wid))
    old_labels = {s.id: s.label for s in o.states}
    new_labels = {s.id: s.label for s in n.states}

    def states(*ts: Transition) -> tuple[str, ...]:
        sources = {s for t in ts for s in t.sources}
        return tuple(s.id for s in o.states if s.id in sources and s.id in open_)

    def moves(t: Transition, labels: dict[str, str]) -> str:
        return f"from {and_list(quoted(labels[s]) for s in t.sources)} to {quoted(labels[t.dest])}"

    for key in merged_order(list(before), list(after)):
        b, a = before.get(key), after.get(key)
        about = {"action": key.split("#")[0]}

        def say(sentence: str, kind: str, touched: tuple[str, ...]) -> None:
            said.add(f"{sentence}{where}", f"action.{kind}", wid, touched, **about)  # noqa: B023

        if b is None and a is not None:
            say(f"adds action {quoted(action_label(a))} {moves(a, new_labels)}", "added", states(a))
            continue
        if a is None and b is not None:
            say(f"removes action {quoted(action_label(b))}", "removed", states(b))
            continue
        assert a is not None and b is not None
        if a == b:
            continue
        touched = states(a, b)
        thing = f"action {quoted(action_label(b))}"
        if action_label(a) != action_label(b):
            say(f"renames {thing} to {quoted(action_label(a))}", "renamed", touched)
        if (a.sources, a.dest) != (b.sources, b.dest):
            say(f"makes {thing} move cases {moves(a, new_labels)}, not {moves(b, old_labels)}",
                "moves", touched)  # fmt: skip
        guard_a, guard_b = a.spec.get("guard"), b.spec.get("guard")
        if guard_a != guard_b:
            verb = ("adds a condition to" if not guard_b else "removes the condition from"
                    if not guard_a else "changes the condition on")  # fmt: skip
            say(f"{verb} {thing}", "guard", touched)
        if a.by != b.by:
            say(f"lets {roles_words(a.by)} take {thing}, not {roles_words(b.by)}", "by", touched)
        if a.spec.get("deadline") != b.spec.get("deadline"):
            say(_deadline(said, thing, b.spec.get("deadline"), a.spec.get("deadline")),
                "deadline", touched)  # fmt: skip
        rest = [k for k in merged_order(list(b.spec), list(a.spec))
                if k not in _SAID and b.spec.get(k) != a.spec.get(k)]  # fmt: skip
        if rest:
            say(
                f"changes the {and_list(key_words(k) for k in rest)} of {thing}", "changed", touched
            )


def _milestone(said: _Said, mid: str | None) -> str:
    """A milestone by its label, in quotes."""
    m = said.new.milestones.get(mid or "") or said.old.milestones.get(mid or "")
    return quoted(m.label if m else mid)


def _deadline(said: _Said, thing: str, old: str | None, new: str | None) -> str:
    label = partial(_milestone, said)

    if old is None:
        return f"gives {thing} the deadline {label(new)}"
    if new is None:
        return f"takes the deadline {label(old)} off {thing}"
    return f"changes the deadline of {thing} from {label(old)} to {label(new)}"
