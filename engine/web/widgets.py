"""GOV.UK Frontend widgets for the generated forms, and the parameters each question needs."""

from __future__ import annotations

from typing import Any

from govuk_frontend_wtf.wtforms_widgets import (
    GovCharacterCount,
    GovCheckboxesInput,
    GovDateInput,
    GovFileInput,
    GovRadioInput,
    GovSelect,
    GovTextArea,
    GovTextInput,
)
from markupsafe import Markup, escape
from wtforms import Field

from ..forms import AnswersForm, GroupAnswer
from ..model import Question


class AnswerTextArea(GovTextArea):
    """A textarea; with a word or character limit, GOV.UK's character count (a live count)."""

    counted = GovCharacterCount()

    def __call__(self, field: Field, **kwargs: Any) -> Markup:
        spec = field.question.spec
        if spec.get("word_limit") or spec.get("max_length"):
            return self.counted(field, **kwargs)
        return super().__call__(field, **kwargs)


WIDGETS = {
    "input": GovTextInput(),
    "textarea": AnswerTextArea(),
    "radios": GovRadioInput(),
    "checkboxes": GovCheckboxesInput(),
    "select": GovSelect(),
    "date": GovDateInput(),
    "file": GovFileInput(),
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
