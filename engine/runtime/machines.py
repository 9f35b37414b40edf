"""State machines built from a programme's workflows with `transitions`, tamed.

One machine per (programme version, workflow), cached, with no models of its own: each action
adds a throwaway model, fires the chosen transition and removes it. No automatic transitions,
no callbacks by name (transitions would import and run any dotted name written in YAML); the
engine decides which transition may fire and says why not, the machine moves the state.
"""

from __future__ import annotations

from typing import Any

from transitions import Machine

from engine.model import Workflow

_MACHINES: dict[tuple[str, str], Machine] = {}


class _Case:
    """The throwaway model a machine moves; only its `state` matters."""

    state: str


def machine(version: str, workflow: Workflow) -> Machine:
    """The cached machine for one workflow of one programme version."""
    key = (version, workflow.id)
    if key not in _MACHINES:
        transitions: list[dict[str, Any]] = []
        for index, t in enumerate(workflow.transitions):
            transitions.append(
                {
                    "trigger": t.trigger,
                    "source": list(t.sources),
                    "dest": t.dest,
                    # the engine has already chosen which of same-named transitions applies
                    "conditions": [lambda event, i=index: event.kwargs.get("chosen") == i],
                }
            )
        _MACHINES[key] = Machine(
            model=None,
            states=[s.id for s in workflow.states],
            transitions=transitions,
            initial=workflow.initial,
            auto_transitions=False,
            send_event=True,
            ignore_invalid_triggers=False,
        )
    return _MACHINES[key]


def fire(version: str, workflow: Workflow, state: str, index: int) -> str:
    """Take transition number `index` from `state`; the state it leads to."""
    m = machine(version, workflow)
    model = _Case()
    m.add_model(model, initial=state)
    try:
        trigger = workflow.transitions[index].trigger
        if not getattr(model, trigger)(chosen=index):
            raise RuntimeError(
                f"transition {trigger} did not fire from {state}"
            )  # pragma: no cover
        return model.state
    finally:
        m.remove_model(model)
