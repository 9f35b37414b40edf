"""What a new version changes in the forms: forms, pages and questions, in words."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine.definition.diffing_words import and_list, key_words, merged_order, quoted, roles_words
from engine.model import Form, Programme, Question, Workflow

if TYPE_CHECKING:
    from engine.definition.diffing import _Said

_ENTRY_WORDS = {"states": "the states it is filled in", "by": "who fills it in",
                "repeatable": "whether it is filled in more than once"}  # fmt: skip
_QUESTION_SAID = {"id", "type", "label", "required", "questions"}


def open_before(workflows: list[Workflow], targets: set[str]) -> tuple[str, ...]:
    """The open states of the first workflow from which a case can still reach any of `targets`
    (the targets included), by the transitions of any of the workflows given."""
    reach = set(targets)
    edges = [(s, t.dest) for wf in workflows for t in wf.transitions for s in t.sources]
    grew = True
    while grew:
        grew = False
        for source, dest in edges:
            if dest in reach and source not in reach:
                reach.add(source)
                grew = True
    return tuple(s.id for s in workflows[0].states if s.id in reach and not s.final)


def touched_by_form(
    old: Programme, new: Programme, form_id: str
) -> tuple[str | None, tuple[str, ...]]:
    """The workflow a form is filled in for, and the states of its open cases that have the form
    in progress or will fill it (every state before the actions that send it)."""
    for programme in (old, new):
        for entry in programme.data.get("forms", []):
            wid = entry["workflow"]
            if entry["form"] != form_id or wid not in old.workflows:
                continue
            both = [p.workflows[wid] for p in (old, new) if wid in p.workflows]
            open_ = {s.id for s in both[0].states if not s.final}
            targets = set(entry.get("states") or open_)
            targets |= {s for wf in both for t in wf.transitions
                        if form_id in t.spec.get("forms", ()) for s in t.sources}  # fmt: skip
            return wid, open_before(both, targets)
    return None, ()


def _questions(form: Form) -> dict[str, tuple[str, str, Question]]:
    """Every question of a form in the order asked: (page id, page title, question)."""
    out: dict[str, tuple[str, str, Question]] = {}

    def add(page: str, title: str, qs: tuple[Question, ...]) -> None:
        for q in qs:
            out[q.id] = (page, title, q)
            add(page, title, q.questions)

    for page, title, qs in form.pages:
        add(page, title, qs)
    return out


def form_changes(said: _Said, old: list[dict[str, Any]], new: list[dict[str, Any]]) -> None:
    """Say what changed in the forms: each form added, removed, or changed page by page."""
    entries_old = {(e["form"], e["workflow"]): e for e in old}
    entries_new = {(e["form"], e["workflow"]): e for e in new}
    many = len(set(said.old.forms) | set(said.new.forms)) > 1
    done: set[str] = set()
    for key in merged_order(list(entries_old), list(entries_new)):  # type: ignore[arg-type]
        form_id, wid = key
        b, a = entries_old.get(key), entries_new.get(key)
        form = said.new.forms.get(form_id) or said.old.forms[form_id]
        workflow, states = said.form_touches(form_id)
        thing = f"form {quoted(form.title)}{said.in_workflow(wid)}"
        about = {"form": form_id}
        if b is None:
            said.add(f"adds {thing}", "form.added", wid, (), **about)
            continue
        if a is None:
            said.add(f"removes {thing}", "form.removed", wid, states, **about)
            continue
        for k in merged_order(list(b), list(a)):
            if k in ("form", "workflow", "definition") or b.get(k) == a.get(k):
                continue
            words = _ENTRY_WORDS.get(k, key_words(k))
            if k == "by":
                words = f"who fills it in, now {roles_words(a.get('by') or [])}"
            said.add(f"changes {thing}: {words}", "form.changed", wid, states, **about)
        if form_id not in done and form_id in said.old.forms and form_id in said.new.forms:
            done.add(form_id)
            _form(said, said.old.forms[form_id], said.new.forms[form_id], many, workflow, states)


def _form(said: _Said, o: Form, n: Form, many: bool, workflow: str | None,
          states: tuple[str, ...]) -> None:  # fmt: skip
    """Say what changed inside one form: its title, pages, questions and rules."""
    if o == n:
        return
    about = {"form": n.id}
    of = f" of {quoted(n.title)}" if many else ""

    def add(sentence: str, kind: str, **more: str) -> None:
        said.add(sentence, kind, workflow, states, **about, **more)

    if o.title != n.title:
        add(f"renames form {quoted(o.title)} to {quoted(n.title)}", "form.renamed")
    pages_o = {p: t for p, t, _qs in o.pages}
    pages_n = {p: t for p, t, _qs in n.pages}
    for page in merged_order(list(pages_o), list(pages_n)):
        if page not in pages_o:
            count = sum(1 for _p, _t, q in _questions(n).values() if _p == page)
            add(
                f"adds page {quoted(pages_n[page])}{of} with {_count(count)}",
                "page.added",
                page=page,
            )
        elif page not in pages_n:
            add(
                f"removes page {quoted(pages_o[page])}{of} and its questions",
                "page.removed",
                page=page,
            )
        elif pages_o[page] != pages_n[page]:
            add(f"renames page {quoted(pages_o[page])} to {quoted(pages_n[page])}{of}", "page.renamed",
                page=page)  # fmt: skip
    qs_o, qs_n = _questions(o), _questions(n)
    for qid in merged_order(list(qs_o), list(qs_n)):
        b, a = qs_o.get(qid), qs_n.get(qid)
        if a is None and b is not None:
            if b[0] in pages_n:  # a whole page removed was said once, above
                add(f"removes question {quoted(b[2].label)} from page {quoted(b[1])}{of}",
                    "question.removed", question=qid)  # fmt: skip
        elif b is None and a is not None:
            if a[0] in pages_o:
                add(f"adds question {quoted(a[2].label)} to page {quoted(a[1])}{of}",
                    "question.added", question=qid)  # fmt: skip
        elif a is not None and b is not None:
            for sentence, kind in _question(b, a, of):
                add(sentence, kind, question=qid)
    rules_o = {k: v for k, v in o.spec.items() if k not in ("id", "title", "pages")}
    rules_n = {k: v for k, v in n.spec.items() if k not in ("id", "title", "pages")}
    for k in merged_order(list(rules_o), list(rules_n)):
        if rules_o.get(k) != rules_n.get(k):
            add(f"changes the {key_words(k)} of form {quoted(n.title)}", "form.changed")


def _question(
    b: tuple[str, str, Question], a: tuple[str, str, Question], of: str
) -> list[tuple[str, str]]:
    """The sentences for one question found in both versions."""
    (page_b, title_b, qb), (page_a, title_a, qa) = b, a
    out: list[tuple[str, str]] = []
    thing = f"question {quoted(qb.label)}"
    if qa.label != qb.label:
        out.append(
            (f"rewords question {quoted(qb.label)} as {quoted(qa.label)}", "question.reworded")
        )
        thing = f"question {quoted(qa.label)}"
    if page_a != page_b:
        out.append((f"moves {thing} from page {quoted(title_b)} to page {quoted(title_a)}{of}",
                    "question.moved"))  # fmt: skip
    if qa.required != qb.required:
        words = "required" if qa.required else "optional"
        out.append((f"makes {thing} {words}", "question.required"))
    if qa.type != qb.type:
        out.append(
            (f"changes {thing} from a {qb.type} answer to a {qa.type} answer", "question.type")
        )
    rest = [k for k in merged_order(list(qb.spec), list(qa.spec))
            if k not in _QUESTION_SAID and qb.spec.get(k) != qa.spec.get(k)]  # fmt: skip
    for k in [k for k in rest if _number(qb.spec.get(k)) and _number(qa.spec.get(k))]:
        rest.remove(k)  # a limit moved: say both numbers
        out.append((f"changes the {key_words(k)} of {thing} from {qb.spec[k]:,} to {qa.spec[k]:,}",
                    "question.changed"))  # fmt: skip
    if rest:
        out.append((f"changes {thing}: {and_list(key_words(k) for k in rest)}", "question.changed"))
    return out


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _count(n: int) -> str:
    return f"{n} question{'s' if n != 1 else ''}"
