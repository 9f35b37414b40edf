"""A case's history as people read it: what happened, in the past tense, answers grouped.

The audit log keeps one row per save, so an applicant filling in a form leaves dozens of
"answer" rows. People want one line per stretch of work ("Answered 14 questions in Organisation
details") and events, not commands: "Expression of interest submitted", not "Submit expression
of interest (Expression of interest submitted)". A transition may say its own past tense with
`done`; otherwise the label's first verb is put in the past tense when it is a verb we know.
"""

from __future__ import annotations

import re
from typing import Any

from engine.model import Programme

from .describe import ROLE_WORDS, action_words, promise_titles

# Irregular and consonant-doubling past tenses of the verbs action labels start with; any other
# known verb takes -ed. An unknown first word ("Permission requested", "Monthly report falls
# due") is left alone: it is most likely already an event.
_IRREGULAR = {
    "pay": "paid", "send": "sent", "give": "gave", "make": "made", "take": "took",
    "hold": "held", "set": "set", "put": "put", "keep": "kept", "find": "found", "tell": "told",
    "choose": "chose", "write": "wrote", "begin": "began", "read": "read", "leave": "left",
    "step": "stepped", "submit": "submitted", "stop": "stopped", "plan": "planned",
    "refer": "referred", "transfer": "transferred", "admit": "admitted", "commit": "committed",
    "permit": "permitted", "withdraw": "withdrew", "re-submit": "re-submitted",
}  # fmt: skip
_REGULAR = frozenset(
    [
        "accept",
        "add",
        "adjust",
        "agree",
        "allocate",
        "amend",
        "appoint",
        "approve",
        "archive",
        "ask",
        "assess",
        "assign",
        "award",
        "book",
        "call",
        "cancel",
        "change",
        "check",
        "claim",
        "close",
        "complete",
        "confirm",
        "contact",
        "decide",
        "decline",
        "defer",
        "discharge",
        "end",
        "escalate",
        "extend",
        "finish",
        "flag",
        "fund",
        "invite",
        "issue",
        "log",
        "mark",
        "move",
        "note",
        "notify",
        "offer",
        "open",
        "pause",
        "publish",
        "receive",
        "record",
        "re-access",
        "re-open",
        "reopen",
        "refuse",
        "register",
        "reject",
        "release",
        "remind",
        "renew",
        "request",
        "require",
        "reserve",
        "resume",
        "return",
        "review",
        "revise",
        "schedule",
        "score",
        "shortlist",
        "sign",
        "start",
        "suspend",
        "terminate",
        "update",
        "upload",
        "verify",
    ]
)
_ROLES = {**ROLE_WORDS, "scheduler": "the service, on time"}
_STOP = frozenset(
    ["a", "an", "the", "to", "of", "for", "and", "by", "as", "at", "on", "in", "with"]
)
_WORD = re.compile(r"[a-z][a-z'-]*")


def past_tense(label: str) -> str:
    """'Accept the report' -> 'Accepted the report'; 'Do not fund' -> 'Decided not to fund'."""
    first, _, rest = label.partition(" ")
    verb = first.lower()
    if verb == "do" and rest.lower().startswith("not "):
        return f"Decided not to {rest[4:]}"
    if verb in _IRREGULAR:
        done = _IRREGULAR[verb]
    elif verb in _REGULAR:
        done = verb + ("d" if verb.endswith("e") else "ed")
    else:
        return label
    return f"{done.capitalize()} {rest}".strip()


def who(entry: dict[str, Any]) -> str:
    """Who did it: their email and role, or the service itself for timed actions."""
    role = _ROLES.get(entry.get("role") or "", "")
    if entry.get("role") == "scheduler" or not entry.get("actor"):
        return role.capitalize()
    return f"{entry['actor']} ({role})" if role else str(entry["actor"])


def _words(text: str) -> set[str]:
    return set(_WORD.findall(text.lower())) - _STOP


def event_words(programme: Programme, workflow: str, entry: dict[str, Any]) -> str:
    """One audit entry as an event: the transition's `done`, else its label in the past tense.

    When the state changed, the new state is named too, unless the event already says it (the
    state's label is then used alone, being the shorter way to say the same thing).
    """
    wf = programme.workflows.get(workflow)
    by_trigger = {t.trigger: t for t in wf.transitions} if wf else {}
    transition = by_trigger.get(entry["action"])
    own = transition.spec.get("done") if transition else None
    text = own or past_tense(action_words(programme, workflow, entry["action"]))
    missed = (entry.get("detail") or {}).get("missed")
    if missed:  # the promises, by their titles
        titles = promise_titles(programme)
        text += ": " + "; ".join(titles.get(m, "a promise") for m in missed)
    to = entry.get("to")
    if own or not to or to == entry.get("from"):
        return text
    state = next((s.label for s in wf.states if s.id == to), None) if wf else None
    if not state:
        return text
    if _words(text) <= _words(state):
        return state
    if _words(state) <= _words(text):  # "Marked as not eligible" already says "Not eligible"
        return text
    return f"{text}. Status: {state}"


def timeline(programme: Programme, workflow: str, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:  # fmt: skip
    """The history, oldest first, with each run of saves by one person to one form as one line.

    Every line is the last entry of its run (its time, actor and detail) with `text` added.
    """
    lines: list[dict[str, Any]] = []
    run: set[str] = set()
    for entry in entries:
        detail = entry.get("detail") or {}
        last = lines[-1] if lines else None
        if entry["action"] == "answer" and detail.get("record"):  # one record sent, whole
            form = programme.forms.get(detail["form"])
            lines.append({**entry, "text": f"{form.title if form else 'A record'} recorded"})
            run = set()
            continue
        if entry["action"] == "answer" and detail.get("form"):
            same = (
                last is not None
                and last["action"] == "answer"
                and (last.get("detail") or {}).get("form") == detail["form"]
                and (last.get("actor"), last.get("role")) == (entry.get("actor"), entry.get("role"))
                and not (last.get("detail") or {}).get("record")
            )
            run = (run if same else set()) | set(detail.get("questions") or ())
            form = programme.forms.get(detail["form"])
            title = form.title if form else "a form"
            n = len(run)
            text = f"Answered {n} {'question' if n == 1 else 'questions'} in {title}"
            line = {**entry, "text": text}
            if same:
                lines[-1] = line
            else:
                lines.append(line)
            continue
        run = set()
        lines.append({**entry, "text": event_words(programme, workflow, entry)})
    return lines
