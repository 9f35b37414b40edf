"""GOV.UK Frontend widgets for the generated forms, and the parameters each question needs."""

from __future__ import annotations

from typing import Any

from markupsafe import Markup, escape
from wtforms import Field

from engine.forms.classes import AnswersForm, GroupAnswer
from engine.model import Question
from engine.web import markup


class AnswerWidget:
    """Draws a generated field as GOV.UK markup, given `params_for`'s parameters.

    The parameters a govuk-frontend-wtf widget would pass to the GOV.UK macro (id, name, value,
    hint from the description, the first error) are filled in here; `markup` writes the HTML.
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind

    def __call__(self, field: Field, params: dict[str, Any] | None = None, **_: Any) -> Markup:
        """The field's HTML."""
        p: dict[str, Any] = {"id": field.id, "name": field.name}
        if field.description:
            p["hint"] = {"text": field.description}
        p.update(params or {})
        if field.errors:
            p["errorMessage"] = {"text": field.errors[0]}
        kind = self.kind
        if kind in ("input", "textarea"):
            p.setdefault("value", field._value())
            return markup.text_input(p) if kind == "input" else markup.textarea(p)
        if kind in ("radios", "checkboxes"):
            extra = p.get("items") or []
            items = []
            for n, (value, label, chosen, _kw) in enumerate(field.iter_choices()):
                item = {"value": value, "text": label, "checked": chosen}
                if n < len(extra):
                    item.update(extra[n])
                items.append(item)
            p["items"] = items
            return markup.choices(p, kind)
        if kind == "select":
            p["items"] = [
                {"value": v, "text": t, "selected": s} for v, t, s, _kw in field.iter_choices()
            ]
            return markup.select(p)
        if kind == "date":
            parts = field.raw_data if field.raw_data and len(field.raw_data) == 3 else (
                field.data.strftime("%d %m %Y").split(" ") if field.data else [None, None, None]
            )  # fmt: skip
            wrong = "govuk-input--error" if field.errors else None
            p["items"] = [
                {"label": label, "id": f"{field.name}-{label.lower()}", "name": field.name, "value": value,
                 "classes": " ".join(c for c in (width, wrong) if c)}
                for label, width, value in zip(
                    ("Day", "Month", "Year"),
                    ("govuk-input--width-2", "govuk-input--width-2", "govuk-input--width-4"), parts, strict=True,
                )
            ]  # fmt: skip
            return markup.date_input(p)
        return markup.file_upload(p)


WIDGETS = {
    kind: AnswerWidget(kind)
    for kind in ("input", "textarea", "radios", "checkboxes", "select", "date", "file")
}


_INPUTS: dict[str, dict[str, Any]] = {
    "email": {"type": "email", "autocomplete": "email", "spellcheck": False},
    "phone": {"type": "tel", "autocomplete": "tel", "classes": "govuk-input--width-20"},
    "postcode": {"autocomplete": "postal-code", "classes": "govuk-input--width-10"},
    "number": {"inputmode": "numeric", "classes": "govuk-input--width-10", "spellcheck": False},
    "money": {
        "inputmode": "numeric",
        "classes": "govuk-input--width-10",
        "prefix": {"text": "£"},
        "spellcheck": False,
    },
    "percent": {
        "inputmode": "decimal",
        "classes": "govuk-input--width-5",
        "suffix": {"text": "%"},
        "spellcheck": False,
    },
    "decimal": {"inputmode": "decimal", "classes": "govuk-input--width-10", "spellcheck": False},
}


def _size(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB" if n >= 1024 * 1024 else f"{max(1, n // 1024)} KB"


def params_for(field: Field, file_url: Any = None) -> dict[str, Any]:
    """The govuk-frontend macro parameters for one generated field."""
    q: Question = field.question
    spec = q.spec
    label = q.label + ("" if q.required else " (optional)")
    legend = {"legend": {"text": label, "classes": "govuk-fieldset__legend--s"}}
    kind = q.type
    if kind in ("radios", "yesno", "scale", "checkboxes"):
        params: dict[str, Any] = {"fieldset": legend, "idPrefix": field.id}
        if not field.description:
            params["hint"] = None  # no empty hint for screen readers to announce
        if kind == "yesno":
            params["classes"] = "govuk-radios--inline"
        hinted = [{"hint": {"text": o["hint"]}} if o.get("hint") else {} for o in spec.get("options", [])]  # fmt: skip
        if any(hinted):
            params["items"] = hinted
        return params
    if kind == "date":
        return {"fieldset": legend}
    params = {"label": {"text": label, "classes": "govuk-label--s"}}
    if kind == "textarea":
        params["rows"] = 8 if spec.get("word_limit", 0) > 200 else 5
        if spec.get("word_limit"):
            params["maxwords"] = spec["word_limit"]
        elif spec.get("max_length"):
            params["maxlength"] = spec["max_length"]
    elif kind == "file":
        accept = spec.get("accept", [])
        if accept:
            params["attributes"] = {"accept": ",".join(f".{a}" for a in accept)}
        notes = [field.description] if field.description else []
        if accept:
            notes.append(f"The file must be a {', '.join(a.upper() for a in accept)}.")
        if spec.get("max_size_mb"):
            notes.append(f"It must be smaller than {spec['max_size_mb']:g} MB.")
        html = " ".join(str(escape(n)) for n in notes)
        current = getattr(field, "current", None)
        if current:
            name = escape(current["name"])
            link = f'<a class="govuk-link" href="{escape(file_url(current))}">{name}</a>' if file_url else name  # fmt: skip
            html += f"<br>You have uploaded {link} ({_size(int(current['size']))}). Choose a new file only to replace it."  # fmt: skip
        params["hint"] = {"html": Markup(html)} if html else None
    else:
        params.update(_INPUTS.get(kind, {}))
        if kind == "text" and spec.get("max_length", 999) <= 60:
            params["classes"] = "govuk-input--width-20"
    return params


def anchor(field: Field) -> str:
    """Where an error summary link should land for this field."""
    if field.question.type == "date":
        return f"{field.id}-day"
    return field.id


def error_list(form: AnswersForm) -> list[dict[str, str]]:
    """The error summary: each message linked to its question."""
    out = []
    for field in form:
        if not field.errors:
            continue
        if getattr(field, "question", None) is None:  # the CSRF token
            out.extend({"text": str(m), "href": "#main-content"} for m in field.errors)
            continue
        href = f"#{anchor(field)}"
        out.extend({"text": m, "href": href} for m in field.errors)
        if isinstance(field, GroupAnswer):
            for entry in field.entries:
                for sub in entry.form:
                    out.extend({"text": m, "href": f"#{anchor(sub)}"} for m in sub.errors)
    return out


_KEPT_BANNER = Markup(
    '<div class="govuk-notification-banner" role="region" aria-labelledby="kept-title" data-module="govuk-notification-banner">'
    '<div class="govuk-notification-banner__header"><h2 class="govuk-notification-banner__title" id="kept-title">Important</h2></div>'
    '<div class="govuk-notification-banner__content">'
    '<p class="govuk-notification-banner__heading">Your answers on this page are not saved yet</p>'
    '<p class="govuk-body">You were signed out before the page was saved. We kept what you typed: '
    "check it, choose any files again, then save.</p></div></div>"
)  # fmt: skip


def answer_errors(fo: AnswersForm) -> Markup:
    """Above a page of questions: the kept-answers banner, then the error summary, if any."""
    banner = _KEPT_BANNER if getattr(fo, "kept", False) else Markup()
    items = [
        {"text": str(m), "href": "#main-content"} for m in getattr(fo, "page_errors", None) or []
    ]
    return banner + markup.error_summary(items + error_list(fo))


def answer_fields(fo: AnswersForm, file_url: Any = None) -> Markup:
    """Every question of a page as GOV.UK markup, a repeating group item by item."""
    out = []
    for q, field in fo.answer_fields():
        inner = (
            _group(q, field, file_url)
            if q.type == "group"
            else field.widget(field, params=params_for(field, file_url))
        )
        out.append(f'<div id="{escape(q.id)}-question">{inner}</div>')
    return Markup("".join(out))


def _group(q: Question, field: Field, file_url: Any) -> str:
    """A repeating group: its legend, each item as a fieldset with a remove button, and an add button."""
    item = escape(q.spec.get("item_label", "item"))
    fid, qid = escape(field.id), escape(q.id)
    hint = q.spec.get("hint")
    described = f' aria-describedby="{fid}-hint"' if hint else ""
    parts = [
        f'<div class="govuk-form-group{" govuk-form-group--error" if field.errors else ""}">'
        f'<fieldset class="govuk-fieldset" id="{fid}" tabindex="-1"{described}>'
        f'<legend class="govuk-fieldset__legend govuk-fieldset__legend--m">{escape(q.label)}'
        f"{'' if q.required else ' (optional)'}</legend>"
    ]
    if hint:
        parts.append(f'<div class="govuk-hint" id="{fid}-hint">{escape(hint)}</div>')
    parts.extend(
        f'<p class="govuk-error-message"><span class="govuk-visually-hidden">Error:</span> {escape(m)}</p>'
        for m in field.errors
    )
    for n, entry in enumerate(field.entries, start=1):
        subs = "".join(str(sub.widget(sub, params=params_for(sub, file_url))) for sub in entry.form)
        parts.append(
            f'<fieldset class="govuk-fieldset app-group-item govuk-!-margin-bottom-6">'
            f'<legend class="govuk-fieldset__legend govuk-fieldset__legend--s">{item.capitalize()} {n}</legend>{subs}'
            f'<button type="submit" name="_remove" value="{qid}:{n - 1}" class="govuk-button govuk-button--warning '
            f'govuk-!-margin-bottom-0" data-module="govuk-button">Remove {item} {n}</button></fieldset>'
        )
    parts.append(
        f'<button type="submit" name="_add" value="{qid}" class="govuk-button govuk-button--secondary" '
        f'data-module="govuk-button">Add {"another" if field.entries else "a"} {item}</button></fieldset></div>'
    )
    return "".join(parts)
