"""WTForms classes built from form specs: one field per question, checked by the engine's rules.

No Flask here. The classes use WTForms' own widgets unless a caller passes others (the web app
passes GOV.UK Frontend widgets and a CSRF-protected base class). Validation delegates to
`engine.answers`, so a page shows exactly the messages the engine gives, and the answers a form
hands back are in the shape `Engine.save_answers` takes: strings the engine converts, lists for
checkboxes, ISO dates, lists of dicts for groups. File questions are left to the caller, which
stores the upload and answers `{name, size, id}`.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from datetime import date
from typing import Any, ClassVar, Self

from wtforms import (
    Field,
    FieldList,
    FileField,
    FormField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms import Form as WTForm
from wtforms import widgets as wt
from wtforms.fields.choices import SelectChoice

from engine.forms.answers import _visible, cel_value, check_form, check_value
from engine.model import Form, Question

# How each question type is shown: the web app picks a widget per kind.
KINDS: dict[str, str] = {
    "text": "input",
    "email": "input",
    "phone": "input",
    "postcode": "input",
    "number": "input",
    "decimal": "input",
    "money": "input",
    "percent": "input",
    "textarea": "textarea",
    "yesno": "radios",
    "radios": "radios",
    "scale": "radios",
    "select": "select",
    "checkboxes": "checkboxes",
    "date": "date",
    "file": "file",
    "group": "group",
}
Widgets = Mapping[str, Callable[..., Any]]


def _blank(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


class _Answer:
    """What every generated field adds: the question it asks and its answer for the engine."""

    question: Question

    def answer(self) -> Any:
        """The answer as `Engine.save_answers` takes it ("" when blank, which clears it)."""
        data = getattr(self, "data", None)
        return "" if data is None else data


class TextAnswer(_Answer, StringField):
    """One line of text, or a number the engine converts (money, percent, decimal…)."""

    def process_data(self, value: Any) -> None:
        self.data = None if value is None else str(value)


class LongTextAnswer(_Answer, TextAreaField):
    """Long text; the word limit is the engine's to check."""


class ChoiceAnswer(_Answer, RadioField):
    """One of a list (radios, yes/no, a point on a scale)."""

    def process_data(self, value: Any) -> None:
        if isinstance(value, bool):  # yes/no answers are stored as booleans
            value = "yes" if value else "no"
        self.data = None if value is None else str(value)


class SelectAnswer(_Answer, SelectField):
    """One of a long list, shown as a drop-down."""

    def process_data(self, value: Any) -> None:
        self.data = None if value is None else str(value)


class ManyAnswer(_Answer, SelectMultipleField):
    """Any of a list (checkboxes)."""

    def answer(self) -> Any:
        """The options ticked, in the order they are listed."""
        return list(self.data or [])


class DateAnswer(_Answer, Field):
    """A date asked as day, month and year: three inputs sharing one name, as GOV.UK does.

    `data` is a `date` when the three parts make one; otherwise `raw_data` keeps what was typed
    so the page shows it again, and the engine's message says what is wrong.
    """

    widget = wt.TextInput()

    def process_data(self, value: Any) -> None:
        self.raw_data = None
        if isinstance(value, date):
            self.data = value
            return
        try:
            self.data = date.fromisoformat(value) if value else None
        except (TypeError, ValueError):
            self.data = None

    def process_formdata(self, valuelist: list[Any]) -> None:
        if len(valuelist) != 3:
            self.raw_data = None
            return
        parts = [str(v).strip() for v in valuelist]
        self.raw_data = parts
        self.data = None
        # ASCII digits only ("²" is a digit to Python) and no more than a year has: day 10^20
        # would otherwise overflow rather than be "not a real date"
        if all(p.isascii() and p.isdigit() and len(p) <= 4 for p in parts):
            try:
                self.data = date(int(parts[2]), int(parts[1]), int(parts[0]))
            except (ValueError, OverflowError):
                self.data = None

    def _value(self) -> str:
        return self.data.isoformat() if self.data else ""

    def answer(self) -> Any:
        """ISO `YYYY-MM-DD`, or what was typed (the engine says why it is not a date), or ""."""
        if self.data is not None:
            return self.data.isoformat()
        if self.raw_data and any(self.raw_data):
            return "/".join(self.raw_data)
        return ""


class FileAnswer(_Answer, FileField):
    """An upload. `current` is the file already saved ({name, size, id}), if any."""

    current: dict[str, Any] | None = None

    def process_data(self, value: Any) -> None:
        self.current = value if isinstance(value, dict) else None
        self.data = None

    def answer(self) -> Any:
        """The file saved so far: the caller stores a new upload and answers for it."""
        return self.current or ""


class GroupAnswer(_Answer, FieldList):
    """A repeating group (partners, budget lines): one sub-form per item."""

    def answer(self) -> Any:
        """Each item's answers; items left wholly blank are dropped."""
        items = []
        for entry in self.entries:
            item = {k: v for k, v in entry.form.answers().items() if not _blank(v)}
            if item:
                items.append(item)
        return items


class AnswersForm(WTForm):
    """Base of every generated form: answers out, the engine's messages in."""

    questions: tuple[Question, ...] = ()
    field_names: ClassVar[dict[str, str]] = {}
    _pattern: ClassVar[AnswersForm | None] = None

    @classmethod
    def new(cls, formdata: Any = None, data: Mapping[str, Any] | None = None) -> Self:
        """A form as `cls(formdata=formdata, data=data)` makes it, its fields copied rather than built.

        WTForms builds every field afresh for each form (binding, label, validators, flags):
        most of a form page's form time, and none of it changes once built. So the first form of
        a class is kept as a pattern; each new one copies its fields and processes its own data,
        which is all WTForms does with them after building (and what sets every field's state).
        """
        pattern = cls.__dict__.get("_pattern")
        if pattern is None:
            pattern = cls._pattern = cls(formdata=None)
        if pattern.meta.csrf:  # a CSRF field's settings belong to one app: build as usual
            return cls(formdata=formdata, data=data)
        form = object.__new__(cls)
        form.__dict__.update(pattern.__dict__)
        form.form_errors = []
        form._fields = OrderedDict()
        for name, field in pattern._fields.items():
            copy = object.__new__(type(field))
            copy.__dict__.update(field.__dict__)
            form._fields[name] = copy
            setattr(form, name, copy)
        form.process(formdata, data=data)
        return form

    def answer_fields(self) -> Iterable[tuple[Question, Field]]:
        """Each question with its field, in the order asked."""
        for q in self.questions:
            yield q, self[self.field_names[q.id]]

    def answers(self) -> dict[str, Any]:
        """Every question's answer, blank ones as "" (so saving them clears them)."""
        return {q.id: f.answer() for q, f in self.answer_fields()}

    def add_errors(self, errors: Mapping[str, list[str]]) -> None:
        """Show the engine's messages against the questions they are about."""
        for q, f in self.answer_fields():
            if errors.get(q.id):
                f.errors = [*f.errors, *[m for m in errors[q.id] if m not in f.errors]]

    def show_saved(self, saved: Mapping[str, Any]) -> None:
        """After a POST, remember the files already saved (a browser never sends them back)."""
        for q, f in self.answer_fields():
            if isinstance(f, FileAnswer):
                f.current = saved.get(q.id) if isinstance(saved.get(q.id), dict) else None

    def has_errors(self) -> bool:
        """Whether any question (or the CSRF token) has a message."""
        return any(f.errors for f in self)


def _choices(q: Question) -> list[SelectChoice]:
    if q.type == "yesno":
        return [SelectChoice("yes", "Yes"), SelectChoice("no", "No")]
    if q.type == "scale":
        lo, hi = int(q.spec.get("min", 1)), int(q.spec.get("max", 5))
        labels = {str(k): v for k, v in q.spec.get("labels", {}).items()}
        return [SelectChoice(str(n), f"{n} – {labels[str(n)]}" if str(n) in labels else str(n)) for n in range(lo, hi + 1)]  # fmt: skip
    return [SelectChoice(o["value"], o["label"]) for o in q.spec.get("options", [])]


def _field(q: Question, widgets: Widgets | None) -> Any:
    kind = KINDS[q.type]
    extra: dict[str, Any] = {"description": q.spec.get("hint", "")}
    if widgets and kind in widgets:
        extra["widget"] = widgets[kind]
    label = q.label
    if kind == "input":
        return TextAnswer(label, **extra)
    if kind == "textarea":
        return LongTextAnswer(label, **extra)
    if kind == "radios":
        return ChoiceAnswer(label, choices=_choices(q), validate_choice=False, **extra)
    if kind == "select":
        choices = [SelectChoice("", "Select an option"), *_choices(q)]
        return SelectAnswer(label, choices=choices, validate_choice=False, **extra)
    if kind == "checkboxes":
        if not widgets or kind not in widgets:
            extra["widget"] = wt.ListWidget(prefix_label=False)
            extra["option_widget"] = wt.CheckboxInput()
        return ManyAnswer(label, choices=_choices(q), validate_choice=False, **extra)
    if kind == "date":
        return DateAnswer(label, **extra)
    if kind == "file":
        return FileAnswer(label, **extra)
    item = build_form(q.questions, widgets=widgets)
    extra.pop("widget", None)  # a group is laid out by its page, item by item
    return GroupAnswer(FormField(item), label, min_entries=1, **extra)


def _bind_question(unbound: Any, q: Question) -> Any:
    """Record the question on the field each time WTForms binds it to a form."""
    cls = unbound.field_class

    class Bound(cls):  # type: ignore[misc, valid-type]
        question = q

    Bound.__name__ = cls.__name__
    unbound.field_class = Bound
    return unbound


def build_form(
    questions: Iterable[Question],
    *,
    base: type[WTForm] | None = None,
    widgets: Widgets | None = None,
) -> type[AnswersForm]:
    """A WTForms class asking these questions; its fields are named by question id."""
    questions = tuple(q for q in questions if not q.spec.get("compute"))  # worked out, not typed
    bases: tuple[type, ...] = (AnswersForm,) if base is None else (base, AnswersForm)
    reserved = set().union(*(dir(b) for b in bases))
    attrs: dict[str, Any] = {"questions": questions, "field_names": {}}
    for q in questions:
        # a question called "data" or "errors" must not hide the form's own attributes
        name = q.id if q.id not in reserved else f"answer_{q.id}"
        attrs["field_names"][q.id] = name
        attrs[name] = _bind_question(_field(q, widgets), q)
    return type("GeneratedAnswersForm", bases, attrs)


def form_data(questions: Iterable[Question], answers: Mapping[str, Any]) -> dict[str, Any]:
    """Saved answers as a generated form's `data=` (yes/no as words, groups item by item)."""
    out: dict[str, Any] = {}
    for q in questions:
        if q.id not in answers:
            continue
        value = answers[q.id]
        if q.type == "group" and isinstance(value, list):
            value = [form_data(q.questions, item) for item in value if isinstance(item, dict)]
        out[q.id] = value
    return out


def visible_questions(form: Form, page_id: str, answers: Mapping[str, Any]) -> list[Question]:
    """The questions of a page the engine asks given the answers so far (its own show_if rule)."""
    page = next(p for p in form.spec["pages"] if p["id"] == page_id)
    qs = next(qs for pid, _title, qs in form.pages if pid == page_id)
    if not page.get("show_if") and not any(q.spec.get("show_if") for q in qs):
        return list(qs)  # nothing on the page depends on other answers
    by_id = form.questions()
    cel = {k: cel_value(by_id.get(k), v) for k, v in answers.items() if not _blank(v)}
    memo: dict[str, bool] = {}  # the page's rule is asked once, not once per question
    return [q for q in qs if _visible(q, cel, page.get("show_if"), memo)]


def check_page(
    form_obj: AnswersForm,
    form: Form,
    saved: Mapping[str, Any],
    *,
    complete: bool,
    context: Mapping[str, Any] | None = None,
) -> dict[str, list[str]]:
    """Check a page's answers with the rest of the form's as the engine will, and show its messages.

    `complete` also asks for every required question on the page (leaving a page with "Save and
    continue"); without it only what was typed is checked (saving a draft to come back to).
    """
    merged = {**saved, **form_obj.answers()}
    merged = {k: v for k, v in merged.items() if not _blank(v)}
    # the engine cannot yet read a date that is not one (answers.cel_value raises), so those are
    # checked on their own first, with the engine's own message, and kept out of the rest
    bad_dates = {q.id: m for q in form_obj.questions if q.id in merged and (m := _date_problems(q, merged[q.id]))}  # fmt: skip
    for qid in bad_dates:
        merged.pop(qid)
    _clean, errors = check_form(form, merged, complete=complete, context=dict(context or {}))
    errors.update(bad_dates)
    mine = {q.id for q in form_obj.questions}
    page_errors = {k: v for k, v in errors.items() if k in mine}
    form_obj.add_errors(page_errors)
    return page_errors


def _date_problems(q: Question, value: Any) -> list[str]:
    """The engine's messages for dates that are not real dates, in this answer or its items."""
    if q.type == "date":
        return check_value(q, value)[1]
    if q.type == "group" and isinstance(value, list):
        label = q.spec.get("item_label", "item")
        return [
            f"{label} {i + 1}: {m}"
            for i, item in enumerate(value)
            if isinstance(item, dict)
            for sub in q.questions
            if sub.type == "date" and not _blank(item.get(sub.id))
            for m in check_value(sub, item[sub.id])[1]
        ]
    return []
