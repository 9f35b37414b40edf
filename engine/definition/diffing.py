"""What a new version of a programme changes from an earlier one, in words people read.

`changes(old, new)` compares two loaded programmes and says each difference as a sentence
("adds question "…" to page "…"", "moves "Applications close" from … to …") with a machine part:
its kind and the workflow states whose open cases it touches. It reads no files and no database:
the engine counts the cases (`runtime.publishing`), the CLI prints the sentences.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from engine.dates import span_in_words, span_phrase
from engine.definition.diffing_forms import form_changes, open_before, touched_by_form
from engine.definition.diffing_words import (
    and_list,
    item_title,
    key_words,
    merged_order,
    money,
    quoted,
    singular,
)
from engine.definition.diffing_workflows import workflow_changes
from engine.model import Programme, Workflow


@dataclass(frozen=True)
class Change:
    """One difference between two versions: a sentence, what kind it is and what it touches.

    `states` names the states of `workflow` whose open cases the change reaches (empty when it
    reaches no case, such as a new KPI or a changed total).
    """

    sentence: str
    kind: str
    workflow: str | None = None
    states: tuple[str, ...] = ()
    about: dict[str, str] = field(default_factory=dict)  # form, question, milestone, … it names

    def as_dict(self) -> dict[str, Any]:
        """The change as plain data (for `--json`)."""
        return {"sentence": self.sentence, "kind": self.kind, "workflow": self.workflow,
                "states": list(self.states), "about": dict(self.about)}  # fmt: skip


# Keys of the normalised document that are not the author's content, or are said elsewhere.
_NOT_CONTENT = {"version", "id", "extends"}


def changes(old: Programme, new: Programme) -> list[Change]:
    """Every difference from `old` to `new`, in the order the file has them."""
    said = _Said(old, new)
    keys = merged_order(list(old.data), list(new.data))
    for key in keys:
        if key in _NOT_CONTENT or old.data.get(key) == new.data.get(key):
            continue
        handler = _SECTIONS.get(key)
        if handler is not None:
            handler(said, old.data.get(key), new.data.get(key))
        else:
            said.other_section(key, old.data.get(key), new.data.get(key))
    return said.out


class _Said:
    """The changes found so far, with both versions to word them from."""

    def __init__(self, old: Programme, new: Programme) -> None:
        self.old, self.new = old, new
        self.out: list[Change] = []
        self.tz = ZoneInfo(new.timezone)
        self.old_tz = ZoneInfo(old.timezone)
        self.many_workflows = len(set(old.workflows) | set(new.workflows)) > 1

    def add(self, sentence: str, kind: str, workflow: str | None = None,
            states: Iterable[str] = (), **about: str) -> None:  # fmt: skip
        """Record one change."""
        self.out.append(Change(sentence, kind, workflow, tuple(states), about))

    def open_states(self, workflow: str) -> tuple[str, ...]:
        """Every state of a workflow a case can still be open in (in the published version)."""
        wf = self.old.workflows.get(workflow) or self.new.workflows.get(workflow)
        return tuple(s.id for s in wf.states if not s.final) if wf else ()

    def in_workflow(self, workflow: str) -> str:
        """` in "Application"` when the programme has more than one workflow, else nothing."""
        if not self.many_workflows:
            return ""
        wf = self.new.workflows.get(workflow) or self.old.workflows.get(workflow)
        return f" in {quoted(wf.title if wf else workflow)}"

    # -- the programme itself --------------------------------------------------------------
    def name(self, old: Any, new: Any) -> None:
        self.add(f"renames the programme from {quoted(old)} to {quoted(new)}", "programme.renamed")

    def summary(self, old: Any, new: Any) -> None:
        verb = (
            "adds a summary"
            if not old
            else "removes the summary"
            if not new
            else "rewords the summary"
        )
        self.add(f"{verb} of the programme", "programme.summary")

    def timezone(self, old: Any, new: Any) -> None:
        self.add(f"changes the timezone from {old} to {new}", "programme.timezone")

    def other_section(self, key: str, old: Any, new: Any) -> None:
        """A part of the file with no words of its own: items by id where it has them."""
        words = key_words(key)
        if _listed_by_id(old) and _listed_by_id(new):
            self.items(key, old or [], new or [])
            return
        if not old:
            self.add(f"adds the {words}", f"{key}.added")
        elif not new:
            self.add(f"removes the {words}", f"{key}.removed")
        else:
            self.add(f"changes the {words}", f"{key}.changed")

    def items(
        self,
        key: str,
        old: list[dict[str, Any]],
        new: list[dict[str, Any]],
        details: Callable[[str, dict[str, Any], dict[str, Any]], list[str]] | None = None,
        touches: Callable[[dict[str, Any]], tuple[str | None, tuple[str, ...]]] | None = None,
        noun: str | None = None,
    ) -> None:
        """Items listed by id: each added, removed or changed (`details` words a change to the
        item it is given as `noun "title"`)."""
        noun = noun or singular(key)
        before = {i["id"]: i for i in old}
        after = {i["id"]: i for i in new}
        for ident in merged_order(list(before), list(after)):
            o, n = before.get(ident), after.get(ident)
            if o == n:
                continue
            item = n if n is not None else o
            assert item is not None
            workflow, states = touches(item) if touches else (None, ())
            about = {key: ident}
            if o is None or n is None:
                verb, kind = ("adds", "added") if o is None else ("removes", "removed")
                self.add(f"{verb} {noun} {quoted(item_title(item))}", f"{key}.{kind}", workflow,
                         states, **about)  # fmt: skip
                continue
            thing = f"{noun} {quoted(item_title(o))}"
            for sentence in (details(thing, o, n) if details else []) or [
                changed_keys(thing, o, n)
            ]:
                self.add(sentence, f"{key}.changed", workflow, states, **about)

    # -- money ------------------------------------------------------------------------------
    def funding(self, old: Any, new: Any) -> None:
        old, new = old or {}, new or {}
        for key, words in (("total", "the total funding"), ("max_awards", "the most awards")):
            if old.get(key) != new.get(key):
                fmt = money if key == "total" else str
                self.add(_from_to(words, old.get(key), new.get(key), fmt), f"funding.{key}")
        for end, words in (("min", "the smallest award"), ("max", "the largest award")):
            a, b = (old.get("award") or {}).get(end), (new.get("award") or {}).get(end)
            if a != b:
                self.add(_from_to(words, a, b, money), f"funding.award_{end}")
        self.items("lots", old.get("lots", []), new.get("lots", []), _lot_details, noun="lot")
        for key in merged_order(list(old), list(new)):
            if key not in ("total", "max_awards", "award", "lots", "per") and old.get(
                key
            ) != new.get(key):
                self.add(f"changes the funding's {key_words(key)}", f"funding.{key}")
        if old.get("per", "programme") != new.get("per", "programme"):
            self.add(f"counts the total funding per {new.get('per', 'programme')}", "funding.per")

    # -- eligibility -----------------------------------------------------------------------
    def eligibility(self, old: Any, new: Any) -> None:
        def details(thing: str, o: dict[str, Any], n: dict[str, Any]) -> list[str]:
            out = []
            if o.get("text") != n.get("text"):
                out.append(f"rewords {thing} as {quoted(n.get('text'))}")
            words = {"rule": "its rule", "failure": "the message when it is not met"}
            rest = [
                k for k in merged_order(list(o), list(n)) if o.get(k) != n.get(k) and k != "text"
            ]
            if rest:
                out.append(f"changes {thing}: {and_list(words.get(k, key_words(k)) for k in rest)}")
            return out

        self.items("eligibility", old or [], new or [], details, self._eligibility_touches,
                   "eligibility criterion")  # fmt: skip

    def _eligibility_touches(self, item: dict[str, Any]) -> tuple[str | None, tuple[str, ...]]:
        """Cases that have yet to take an action that checks eligibility."""
        named = item.get("workflow")
        for wid, wf in self.old.workflows.items():
            if named and named != wid:
                continue
            sources = {s for t in wf.transitions if t.spec.get("eligibility") for s in t.sources}
            if sources:
                return wid, open_before(_both(self, wid), sources)
        return None, ()

    # -- milestones ------------------------------------------------------------------------
    def timeline(self, old: Any, new: Any) -> None:
        before, after = self.old.milestones, self.new.milestones
        for ident in merged_order(list(before), list(after)):
            o, n = before.get(ident), after.get(ident)
            if o is not None and n is not None and o == n:
                continue
            workflow, states = self._milestone_touches(ident)
            about = {"milestone": ident}
            if o is None:
                phrase = span_phrase(n.span, self.tz)
                self.add(f"adds milestone {quoted(n.label)} {phrase}", "milestone.added",
                         workflow, (), **about)  # fmt: skip
                continue
            if n is None:
                self.add(f"removes milestone {quoted(o.label)} (it was {span_phrase(o.span, self.old_tz)})",
                         "milestone.removed", workflow, states, **about)  # fmt: skip
                continue
            if o.label != n.label:
                self.add(f"renames milestone {quoted(o.label)} to {quoted(n.label)}",
                         "milestone.renamed", workflow, states, **about)  # fmt: skip
            if o.span != n.span:
                was, now = _span_words(o.span, self.old_tz), _span_words(n.span, self.tz)
                if was == now:  # the same words: only the exact moment moved (seconds, a zone)
                    was, now = o.span.start.isoformat(), n.span.start.isoformat()
                self.add(f"moves {quoted(n.label)} from {was} to {now}", "milestone.moved",
                         workflow, states, **about)  # fmt: skip
            if o.kind != n.kind:
                self.add(f"makes {quoted(n.label)} a {n.kind or 'milestone'} rather than a "
                         f"{o.kind or 'milestone'}", "milestone.kind", workflow, states, **about)  # fmt: skip

    def _milestone_touches(self, milestone: str) -> tuple[str | None, tuple[str, ...]]:
        """The first workflow the milestone opens, closes or times an action of, and the states
        of its open cases that it reaches."""
        for wid, wf in self.old.workflows.items():
            spec = self.old.data["workflows"][wid]
            if milestone in (spec.get("opens"), spec.get("closes")):
                return wid, self.open_states(wid)
            timed = {s for t in wf.transitions for s in t.sources
                     if milestone in (t.spec.get("deadline"), t.spec.get("not_before"), t.spec.get("at"))}  # fmt: skip
            for reminder in self.old.data.get("reminders", []):
                if (
                    reminder.get("workflow") == wid
                    and (reminder.get("when") or {}).get("milestone") == milestone
                ):
                    timed |= set(reminder.get("states") or self.open_states(wid))
            if timed:
                open_ = set(self.open_states(wid))
                return wid, tuple(s.id for s in wf.states if s.id in timed and s.id in open_)
        return None, ()

    # -- workflows -------------------------------------------------------------------------
    def workflows(self, old: Any, new: Any) -> None:
        for wid in merged_order(list(self.old.workflows), list(self.new.workflows)):
            o, n = self.old.workflows.get(wid), self.new.workflows.get(wid)
            if o is None and n is not None:
                self.add(f"adds workflow {quoted(n.title)}", "workflow.added", wid)
            elif n is None and o is not None:
                self.add(f"removes workflow {quoted(o.title)}", "workflow.removed", wid,
                         self.open_states(wid))  # fmt: skip
            elif (old or {}).get(wid) != (new or {}).get(wid):
                workflow_changes(self, wid, old[wid], new[wid])

    # -- forms -----------------------------------------------------------------------------
    def forms(self, old: Any, new: Any) -> None:
        form_changes(self, old or [], new or [])

    def form_touches(self, form_id: str) -> tuple[str | None, tuple[str, ...]]:
        """The workflow a form belongs to and the states of open cases that fill it in or will."""
        return touched_by_form(self.old, self.new, form_id)

    # -- KPIs and reminders ----------------------------------------------------------------
    def kpis(self, old: Any, new: Any) -> None:
        self.items("kpis", old or [], new or [], noun="KPI")

    def reminders(self, old: Any, new: Any) -> None:
        def touches(item: dict[str, Any]) -> tuple[str | None, tuple[str, ...]]:
            wid = item.get("workflow")
            if not wid:
                return None, ()
            open_ = self.open_states(wid)
            return wid, tuple(s for s in open_ if s in (item.get("states") or open_))

        self.items("reminders", old or [], new or [], None, touches, noun="reminder")


def _both(said: _Said, workflow: str) -> list[Workflow]:
    return [p.workflows[workflow] for p in (said.old, said.new) if workflow in p.workflows]


def _span_words(span: Any, tz: ZoneInfo) -> str:
    words = span_in_words(span, tz)
    if span.precision == "minute" and span.end != span.start:
        return f"{words} until {span_in_words(span, tz, end=True)}"
    return words


def _from_to(words: str, old: Any, new: Any, fmt: Callable[[Any], str]) -> str:
    if old is None:
        return f"sets {words} at {fmt(new)}"
    if new is None:
        return f"no longer sets {words} (it was {fmt(old)})"
    return f"changes {words} from {fmt(old)} to {fmt(new)}"


def _lot_details(thing: str, o: dict[str, Any], n: dict[str, Any]) -> list[str]:
    out = []
    if o.get("name") != n.get("name"):
        out.append(f"renames {thing} to {quoted(n.get('name'))}")
    if o.get("budget") != n.get("budget"):
        out.append(_from_to(f"the budget of {thing}", o.get("budget"), n.get("budget"), money))
    rest = {k: o.get(k) for k in set(o) | set(n) if o.get(k) != n.get(k)}
    rest.pop("name", None), rest.pop("budget", None)
    if rest:
        out.append(changed_keys(thing, {k: o.get(k) for k in rest}, {k: n.get(k) for k in rest}))
    return out


def changed_keys(thing: str, o: dict[str, Any], n: dict[str, Any]) -> str:
    """`changes lot "North": areas and population`: what changed, by the file's keys."""
    keys = [k for k in merged_order(list(o), list(n)) if o.get(k) != n.get(k)]
    return f"changes {thing}: {and_list(key_words(k) for k in keys)}"


def _listed_by_id(value: Any) -> bool:
    return isinstance(value, list | type(None)) and all(
        isinstance(i, dict) and "id" in i for i in value or []
    )


_SECTIONS: dict[str, Callable[[_Said, Any, Any], None]] = {
    "name": _Said.name,
    "summary": _Said.summary,
    "timezone": _Said.timezone,
    "funding": _Said.funding,
    "eligibility": _Said.eligibility,
    "timeline": _Said.timeline,
    "workflows": _Said.workflows,
    "forms": _Said.forms,
    "kpis": _Said.kpis,
    "reminders": _Said.reminders,
}
