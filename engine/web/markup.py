"""GOV.UK Frontend markup for the generated answer fields, written in Python.

The same HTML as GOV.UK Frontend's Nunjucks/Jinja macros produce for the parameters the generated
forms use (label, hint, error message, classes, prefix and suffix, items, fieldset legend), built
with plain string joins: the macros cost several milliseconds a page, most of a form page's time.
Every text is escaped here; only `hint.html` (built by `widgets.params_for`) is trusted markup.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, NamedTuple

from flask import current_app, get_flashed_messages, request, url_for
from markupsafe import Markup, escape

from engine.web import identity
from engine.web.about import FOOTER_LINKS


def _text(part: dict[str, Any] | None) -> str:
    """A `{"text": …}` or `{"html": …}` parameter as safe HTML."""
    if not part:
        return ""
    if part.get("html") is not None:
        return str(escape(part["html"]))  # Markup passes through unchanged
    return str(escape(part.get("text", "")))


def _classes(*names: str | None) -> str:
    return " ".join(filter(None, names))


def _attrs(attributes: dict[str, Any] | None) -> str:
    """Extra attributes, as the macros' govukAttributes: True → bare name, False/None → left out."""
    if not attributes:
        return ""
    out = []
    for name, value in attributes.items():
        if value is None or value is False:
            continue
        out.append(f" {escape(name)}" if value is True else f' {escape(name)}="{escape(value)}"')
    return "".join(out)


def hint(field_id: str, params: dict[str, Any]) -> tuple[str, str | None]:
    """The hint block and its id (or nothing)."""
    part = params.get("hint")
    if not part or not (part.get("text") or part.get("html")):
        return "", None
    hid = f"{field_id}-hint"
    return f'<div id="{hid}" class="govuk-hint">{_text(part)}</div>', hid


def error(field_id: str, params: dict[str, Any]) -> tuple[str, str | None]:
    """The error message block and its id (or nothing)."""
    part = params.get("errorMessage")
    if not part:
        return "", None
    eid = f"{field_id}-error"
    return (
        f'<p id="{eid}" class="govuk-error-message"><span class="govuk-visually-hidden">Error:</span> '
        f"{_text(part)}</p>",
        eid,
    )


def _described(*ids: str | None) -> str:
    joined = " ".join(filter(None, ids))
    return f' aria-describedby="{joined}"' if joined else ""


def _group(params: dict[str, Any], inner: str, extra: str = "", data: str = "") -> Markup:
    group = _classes("govuk-form-group", "govuk-form-group--error" if params.get("errorMessage") else None, extra)  # fmt: skip
    return Markup(f'<div class="{group}"{data}>{inner}</div>')


def _label(field_id: str, params: dict[str, Any], extra: str | None = None) -> str:
    label = params.get("label") or {}
    return f'<label class="{_classes("govuk-label", label.get("classes"), extra)}" for="{field_id}">{_text(label)}</label>'  # fmt: skip


def text_input(params: dict[str, Any]) -> Markup:
    """govukInput: label, hint, error, the input (with prefix or suffix)."""
    fid = params["id"]
    hint_html, hid = hint(fid, params)
    error_html, eid = error(fid, params)
    cls = _classes("govuk-input", params.get("classes"), "govuk-input--error" if eid else None)
    parts = [f'<input class="{cls}" id="{fid}" name="{escape(params["name"])}" type="{params.get("type", "text")}"']  # fmt: skip
    spellcheck = params.get("spellcheck")
    if spellcheck is True or spellcheck is False:
        parts.append(f' spellcheck="{str(spellcheck).lower()}"')
    value = params.get("value")
    if value is not None:  # the macro writes value="" too
        parts.append(f' value="{escape(value)}"')
    if hid or eid:
        parts.append(_described(hid, eid))
    for name in ("autocomplete", "inputmode"):
        if params.get(name):
            parts.append(f' {name}="{escape(params[name])}"')
    parts.append(_attrs(params.get("attributes")))
    parts.append(">")
    tag = "".join(parts)
    prefix, suffix = params.get("prefix"), params.get("suffix")
    if prefix or suffix:
        before = f'<div class="govuk-input__prefix" aria-hidden="true">{_text(prefix)}</div>' if prefix else ""  # fmt: skip
        after = f'<div class="govuk-input__suffix" aria-hidden="true">{_text(suffix)}</div>' if suffix else ""  # fmt: skip
        tag = f'<div class="govuk-input__wrapper">{before}{tag}{after}</div>'
    return _group(params, _label(fid, params) + hint_html + error_html + tag)


def textarea(params: dict[str, Any]) -> Markup:
    """govukTextarea, or govukCharacterCount when a word or character limit is given."""
    fid = params["id"]
    words, chars = params.get("maxwords"), params.get("maxlength")
    counted = bool(words or chars)
    hint_html, hid = hint(fid, params)
    error_html, eid = error(fid, params)
    cls = _classes(
        "govuk-textarea", "govuk-textarea--error" if eid else None,
        "govuk-js-character-count" if counted else None, params.get("classes"),
    )  # fmt: skip
    info = f"{fid}-info" if counted else None
    area = (
        f'<textarea class="{cls}" id="{fid}" name="{escape(params["name"])}" rows="{params.get("rows", 5)}"'
        f"{_described(info, hid, eid)}{_attrs(params.get('attributes'))}>{escape(params.get('value') or '')}</textarea>"
    )
    inner = _label(fid, params) + hint_html + error_html + area
    if not counted:
        return _group(params, inner)
    limit = f"{words} words" if words else f"{chars} characters"
    inner += f'<div id="{info}" class="govuk-hint govuk-character-count__message">You can enter up to {limit}</div>'  # fmt: skip
    data = f' data-module="govuk-character-count" data-maxwords="{words}"' if words else f' data-module="govuk-character-count" data-maxlength="{chars}"'  # fmt: skip
    return _group(params, inner, "govuk-character-count", data)


def _fieldset(
    params: dict[str, Any], body: str, hid: str | None, eid: str | None, role: str = ""
) -> str:
    legend = (params.get("fieldset") or {}).get("legend") or {}
    legend_cls = _classes("govuk-fieldset__legend", legend.get("classes"))
    return (
        f'<fieldset class="govuk-fieldset"{role}{_described(hid, eid)}>'
        f'<legend class="{legend_cls}">{_text(legend)}</legend>{body}</fieldset>'
    )


def choices(params: dict[str, Any], kind: str) -> Markup:
    """govukRadios or govukCheckboxes (`kind` is "radios" or "checkboxes")."""
    prefix = params.get("idPrefix") or params["name"]
    hint_html, hid = hint(prefix, params)
    error_html, eid = error(prefix, params)
    input_type = "radio" if kind == "radios" else "checkbox"
    rows = []
    for n, item in enumerate(params.get("items", []), start=1):
        iid = prefix if n == 1 else f"{prefix}-{n}"
        item_hint = item.get("hint")
        checked = " checked" if item.get("checked") else ""
        described = f' aria-describedby="{iid}-item-hint"' if item_hint else ""
        row = (
            f'<div class="govuk-{kind}__item"><input class="govuk-{kind}__input" id="{iid}" '
            f'name="{escape(params["name"])}" type="{input_type}" value="{escape(item.get("value", ""))}"{checked}{described}>'
            f'<label class="govuk-label govuk-{kind}__label" for="{iid}">{_text(item)}</label>'
        )
        if item_hint:
            row += f'<div id="{iid}-item-hint" class="govuk-hint govuk-{kind}__hint">{_text(item_hint)}</div>'
        rows.append(row + "</div>")
    group = f'<div class="{_classes(f"govuk-{kind}", params.get("classes"))}" data-module="govuk-{kind}">{"".join(rows)}</div>'  # fmt: skip
    return _group(params, _fieldset(params, hint_html + error_html + group, hid, eid))


def select(params: dict[str, Any]) -> Markup:
    """govukSelect: label, hint, error, the options."""
    fid = params["id"]
    hint_html, hid = hint(fid, params)
    error_html, eid = error(fid, params)
    cls = _classes("govuk-select", params.get("classes"), "govuk-select--error" if eid else None)
    options = "".join(
        f'<option value="{escape(i.get("value", ""))}"{" selected" if i.get("selected") else ""}>{_text(i)}</option>'
        for i in params.get("items", [])
    )
    tag = f'<select class="{cls}" id="{fid}" name="{escape(params["name"])}"{_described(hid, eid)}>{options}</select>'  # fmt: skip
    return _group(params, _label(fid, params) + hint_html + error_html + tag)


def date_input(params: dict[str, Any]) -> Markup:
    """govukDateInput: a fieldset with day, month and year boxes."""
    fid = params["id"]
    hint_html, hid = hint(fid, params)
    error_html, eid = error(fid, params)
    boxes = []
    for item in params.get("items", []):
        value = item.get("value")
        shown = f' value="{escape(value)}"' if value not in (None, "") else ""
        boxes.append(
            f'<div class="govuk-date-input__item"><div class="govuk-form-group">'
            f'<label class="govuk-label govuk-date-input__label" for="{item["id"]}">{escape(item["label"])}</label>'
            f'<input class="{_classes("govuk-input govuk-date-input__input", item.get("classes"))}" id="{item["id"]}" '
            f'name="{escape(item["name"])}" type="text"{shown} inputmode="numeric"></div></div>'
        )
    body = f'{hint_html}{error_html}<div class="govuk-date-input" id="{fid}">{"".join(boxes)}</div>'
    return _group(params, _fieldset(params, body, hid, eid, ' role="group"'))


def file_upload(params: dict[str, Any]) -> Markup:
    """govukFileUpload: label, hint, error, the file input."""
    fid = params["id"]
    hint_html, hid = hint(fid, params)
    error_html, eid = error(fid, params)
    cls = _classes(
        "govuk-file-upload", params.get("classes"), "govuk-file-upload--error" if eid else None
    )
    tag = f'<input class="{cls}" id="{fid}" name="{escape(params["name"])}" type="file"{_described(hid, eid)}{_attrs(params.get("attributes"))}>'  # fmt: skip
    return _group(params, _label(fid, params) + hint_html + error_html + tag)


def items_of(pairs: Iterable[tuple[str, str, bool]]) -> list[dict[str, Any]]:
    """(value, label, chosen) pairs as radio/checkbox items."""
    return [{"value": v, "text": t, "checked": c} for v, t, c in pairs]


_MEMO_SIZE = 64  # the page chrome comes in a handful of variants (one per role's navigation)


def macro(name: str, params: dict[str, Any]) -> Markup:
    """A GOV.UK Frontend component's HTML from its own Jinja macro (for parameters that vary)."""
    module = current_app.jinja_env.get_template(
        f"govuk_frontend_jinja/components/{name}/macro.html"
    ).module
    return Markup(
        getattr(module, "govuk" + "".join(p.capitalize() for p in name.split("-")))(params)
    )


def error_summary(items: list[dict[str, str]]) -> Markup:
    """GOV.UK's "There is a problem" summary of these messages (`text`, `href`), or nothing."""
    if not items:
        return Markup()
    return macro("error-summary", {"titleText": "There is a problem", "errorList": items})


def component(name: str, params: dict[str, Any]) -> Markup:
    """A GOV.UK Frontend component's HTML for these parameters, rendered once and remembered.

    For the page chrome (header, navigation, footer, skip link): its HTML depends only on its
    parameters, and rendering the macros again costs more than the rest of a page.
    """
    memo: dict[str, Markup] = current_app.extensions.setdefault("govuk_components", {})
    key = f"{name}\0{json.dumps(params, sort_keys=True, default=str)}"
    html = memo.get(key)
    if html is None:
        html = macro(name, params)
        if len(memo) >= _MEMO_SIZE:  # bounded: odd parameters cannot grow it without end
            memo.clear()
        memo[key] = html
    return html


# The service navigation each kind of visitor sees after "Funding rounds": (link text, endpoint).
NAVIGATION: dict[str | None, tuple[tuple[str, str], ...]] = {
    None: (("Sign in", "auth.sign_in"), ("Create an account", "auth.register")),
    "applicant": (("Your applications", "apply.applications"), ("Monitoring returns", "apply.returns"),
                  ("Your organisation", "auth.organisation")),
    "caseworker": (("Your cases", "casework.home"), ("Due this week", "casework.due")),
    "commissioner": (("Programmes", "commission.index"), ("Edit programmes", "studio.index")),
    "assessor": (("Applications to assess", "assess.queue"),),
    "admin": (("Staff", "admin.staff"), ("Personal data requests", "admin.privacy")),
}  # fmt: skip


def flashed_messages() -> Markup:
    """This request's flashed messages: errors as an error summary, the rest as one success banner."""
    flashed = get_flashed_messages(with_categories=True)
    if not flashed:
        return Markup()
    errors = [{"text": m, "href": "#main-content"} for c, m in flashed if c == "error"]
    notes = " ".join(m for c, m in flashed if c == "message")
    html = error_summary(errors)
    if notes:
        html += macro("notification-banner", {"type": "success", "text": notes})
    return html


class Chrome(NamedTuple):
    """The parts of every page that depend only on who is looking (made once per role)."""

    head: Markup  # the stylesheet links (GOV.UK Frontend's, and the brand colour's if set)
    top: Markup  # skip link, the operator's header and this service's navigation
    banner: Markup  # the phase banner, at the top of the page's width container
    sign_out: str  # where the sign-out form posts
    footer: Markup
    body_end: Markup  # the script that starts GOV.UK Frontend's components


def page_chrome(role: str | None) -> Chrome:
    """The page chrome for a visitor with these roles ("a+b"): rendering it again costs more than most pages."""
    memo: dict[tuple[str | None, str], Chrome] = current_app.extensions.setdefault(
        "govuk_chrome", {}
    )
    key = (role, request.script_root)
    chrome = memo.get(key)
    if chrome is None:
        held = role.split("+") if role else [None]
        links = (("Funding rounds", "apply.rounds"),
                 *(link for r in held for link in NAVIGATION.get(r, ())))  # fmt: skip
        nav = [{"text": text, "href": url_for(endpoint)} for text, endpoint in links]
        home = url_for("index")
        css = url_for("govuk_static", filename="govuk-frontend.min.css")
        who = identity.identity()
        script = url_for("app_static", filename="init.js")
        chrome = memo[key] = Chrome(
            head=Markup('<link rel="stylesheet" href="{}">').format(css)
            + Markup('<link rel="stylesheet" href="{}">').format(
                url_for("app_static", filename="app.css")
            )
            + (
                Markup('<link rel="stylesheet" href="{}">').format(url_for("brand_css"))
                if who.brand_colour
                else Markup()
            ),
            top=component("skip-link", {"href": "#main-content", "text": "Skip to main content"})
            + identity.header(home)
            + component(
                "service-navigation",
                {"serviceName": who.service_name, "serviceUrl": home, "navigation": nav},
            ),
            banner=identity.phase_banner(component),
            sign_out=url_for("auth.sign_out"),
            footer=identity.footer([(text, url_for(endpoint)) for text, endpoint in FOOTER_LINKS]),
            body_end=Markup('<script type="module" src="{}"></script>').format(script),
        )
    return chrome
