"""A workflow as a picture (Mermaid `stateDiagram-v2` source) and as rows of a table.

Both come from the same model, so the diagram and its text alternative never disagree.
"""

from __future__ import annotations

import re
from typing import Any

from engine.model import Programme, Transition, Workflow
from engine.web.describe import mid_sentence

_UNSAFE = re.compile(r"[\"';#{}<>`\\\n\r:]+")


def _text(label: str) -> str:
    """A label Mermaid reads literally (no quotes, separators, entities or markup)."""
    return re.sub(r"\s+", " ", _UNSAFE.sub(" ", label)).strip()


def _node(state_id: str) -> str:
    """A state's name in the diagram (prefixed: a state called `end` or `state` is a keyword)."""
    return f"s_{state_id}"


def who(t: Transition) -> str:
    """Who takes a transition, in words ("automatic" for a timed one)."""
    if "at" in t.spec:
        return "automatic (" + ", ".join(t.by) + ")" if t.by else "automatic"
    return ", ".join(t.by) or "nobody"


def conditions(programme: Programme, t: Transition) -> list[str]:
    """What must be true for the transition, in words, from the workflow's own keys."""
    spec = t.spec
    out = []
    if "deadline" in spec:
        out.append(f"before the {mid_sentence(programme.milestones[spec['deadline']].label)}")
    if "not_before" in spec:
        out.append(f"not before the {mid_sentence(programme.milestones[spec['not_before']].label)}")
    if "at" in spec:
        out.append("happens automatically when its time comes")
    for form_id in spec.get("forms", []):
        form = programme.forms.get(form_id)
        out.append(f"{form.title if form else form_id} complete")
    if spec.get("eligibility"):
        out.append("every eligibility criterion met")
    if "guard" in spec:
        out.append(spec.get("guard_message") or f"condition: {spec['guard']}")
    if spec.get("reason"):
        out.append("a reason is given")
    for eff in spec.get("effects", []):
        if eff["do"] == "record_award":
            out.append("records an award (within the funding rules)")
        elif eff["do"] == "record_payment":
            out.append("records a payment")
        elif eff["do"] == "start_case":
            wf = programme.workflows.get(eff["workflow"])
            out.append(f"starts a {mid_sentence(wf.title if wf else eff['workflow'])}")
    return out


def label(t: Transition) -> str:
    """The transition's name as people see it."""
    return str(t.spec.get("label") or t.trigger.replace("_", " ").capitalize())


def mermaid(programme: Programme, wf: Workflow) -> str:
    """The workflow as Mermaid `stateDiagram-v2` source."""
    lines = [
        "stateDiagram-v2",
        f"    accTitle: {_text(wf.title)} workflow of {_text(programme.name)}",
        f"    accDescr: {len(wf.states)} states and {len(wf.transitions)} transitions; "
        "the same as the table below",
    ]
    for s in wf.states:
        lines.append(f'    state "{_text(s.label)}" as {_node(s.id)}')
    lines.append(f"    [*] --> {_node(wf.initial)}")
    for t in wf.transitions:
        for source in t.sources:
            lines.append(f"    {_node(source)} --> {_node(t.dest)} : {_text(label(t))} ({_text(who(t))})")  # fmt: skip
    for s in wf.states:
        if s.final:
            lines.append(f"    {_node(s.id)} --> [*]")
    return "\n".join(lines) + "\n"


def rows(programme: Programme, wf: Workflow) -> list[dict[str, Any]]:
    """One row per transition (per source state), for the table beside the picture."""
    labels = {s.id: s.label for s in wf.states}
    return [
        {
            "label": label(t),
            "trigger": t.trigger,
            "from": labels.get(source, source),
            "to": labels.get(t.dest, t.dest),
            "who": who(t),
            "conditions": conditions(programme, t),
        }
        for t in wf.transitions
        for source in t.sources
    ]
