"""The actions a person is offered: those that can be taken now, and why the others cannot yet.

An action that would be refused is not offered as a button: a line says why it is not available
yet, in the engine's reasons made into sentences. A guard's own `guard_message` is used as it is;
a guard without one is reported by the engine with its expression, which means nothing to a
caseworker, so it is said in plain words instead.
"""

from __future__ import annotations

from typing import Any

from engine.model import Workflow
from engine.runtime import ActionOption

GUARD_UNMET = "what has been recorded on this case does not allow it yet"
_EXPRESSION_SHOWN = ("the condition is not met: ", "the condition cannot be checked yet: ")


def sentence(reason: str) -> str:
    """A reason as a sentence: a capital letter first and a full stop at the end."""
    text = reason[:1].upper() + reason[1:]
    return text if text.endswith((".", "?", "!")) else f"{text}."


def plain(reason: str, specs: list[dict[str, Any]]) -> str:
    """One of the engine's reasons, without a guard's expression or evaluation error in it.

    `specs` are the transitions the action may take (one trigger can have several).
    """
    for spec in specs:
        message = spec.get("guard_message")
        if "guard" in spec and message and reason.startswith(f"{message}: "):
            return str(message)  # what follows is why it could not be checked: not for people
    if any("guard" in spec for spec in specs) and reason.startswith(_EXPRESSION_SHOWN):
        return GUARD_UNMET
    return reason


def explained(wf: Workflow, actions: list[ActionOption]) -> list[dict[str, Any]]:
    """Each action, whether it can be taken now, and if not why not, in sentences."""
    out = []
    for a in actions:
        out.append({"option": a, "allowed": a.allowed, "why": reasons_in_words(wf, a)})
    return out


def reasons_in_words(wf: Workflow, option: ActionOption) -> list[str]:
    """Why an action cannot be taken now, in sentences, with no guard expression in them."""
    specs = [t.spec for t in wf.transitions if t.trigger == option.trigger]
    return list(dict.fromkeys(sentence(plain(r, specs)) for r in option.reasons))
