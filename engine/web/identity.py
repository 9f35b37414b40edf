"""Whose service this is: its name, the organisation running it, its phase, its contact details.

A council or NHS service may use GOV.UK Frontend's components but not the GOV.UK crown, logotype
or Crown copyright (those are for services on GOV.UK), so the header shows the operator's name
and the footer links to the deployment's own accessibility, privacy, cookies and contact pages.
Each setting comes from the app config, then the environment (`COMMISSION_…`), then a default
fit for the demo.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from flask import Flask, Response, current_app
from markupsafe import Markup, escape

from engine.web import headers
from engine.web.access import allow

DEFAULTS = {
    "COMMISSION_SERVICE_NAME": "Apply for community funding",
    "COMMISSION_OPERATOR": "Demo council",
    "COMMISSION_PHASE": "beta",
    "COMMISSION_CONTACT_EMAIL": "funding@example.org",
    "COMMISSION_FEEDBACK_URL": "",  # empty: a mailto: link to the contact email
    "COMMISSION_BRAND_COLOUR": "",  # empty: GOV.UK Frontend's own blue
}
_HEX_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")
# a feedback link of another scheme (javascript:, say) is ignored: it would run in the page
_LINKS = ("https://", "http://", "mailto:")
_NO_BANNER = ("", "live")  # GOV.UK services drop the phase banner once live


@dataclass(frozen=True)
class Identity:
    """The deployment's identity, as every page shows it."""

    service_name: str
    operator: str
    phase: str
    contact_email: str
    feedback_url: str
    brand_colour: str | None  # a #rrggbb colour, or None for the default


def read_settings(config: Mapping[str, Any]) -> Identity:
    """The identity from the app config (which `create_app` fills from the environment), else the demo's."""

    def setting(key: str) -> str:
        value = config.get(key)
        return str(value).strip() or DEFAULTS[key] if value is not None else DEFAULTS[key]

    email = setting("COMMISSION_CONTACT_EMAIL")
    colour = setting("COMMISSION_BRAND_COLOUR")
    feedback = setting("COMMISSION_FEEDBACK_URL")
    return Identity(
        service_name=setting("COMMISSION_SERVICE_NAME"),
        operator=setting("COMMISSION_OPERATOR"),
        phase=setting("COMMISSION_PHASE").lower(),
        contact_email=email,
        feedback_url=feedback if feedback.startswith(_LINKS) else f"mailto:{email}",
        # anything but #rrggbb is ignored: it goes into a stylesheet, so nothing else may
        brand_colour=colour if _HEX_COLOUR.fullmatch(colour) else None,
    )


def identity() -> Identity:
    """This app's identity (read once, when the app was made)."""
    found: Identity = current_app.extensions["commission_identity"]
    return found


def header(home: str) -> Markup:
    """GOV.UK Frontend's header with the operator's name in place of the crown and logotype."""
    name = escape(identity().operator)
    return Markup(
        '<header class="govuk-header"><div class="govuk-header__container govuk-width-container">'
        '<div class="govuk-header__logo">'
        f'<a href="{escape(home)}" class="govuk-header__link govuk-header__link--homepage">'
        f'<span class="govuk-header__product-name">{name}</span></a></div></div></header>'
    )


def phase_banner(component: Callable[[str, dict[str, Any]], Markup]) -> Markup:
    """GOV.UK's phase banner with the feedback link (nothing once the service is live)."""
    who = identity()
    if who.phase in _NO_BANNER:
        return Markup()
    link = Markup(
        '<a class="govuk-link" href="{}" rel="noreferrer noopener" target="_blank">'
        "give your feedback (opens in new tab)</a>"
    ).format(who.feedback_url)
    text = Markup("This is a new service. Help us improve it and {}.").format(link)
    return component("phase-banner", {"tag": {"text": who.phase.capitalize()}, "html": str(text)})


def footer(links: list[tuple[str, str]]) -> Markup:
    """GOV.UK Frontend's footer with these support links and the operator, without Crown copyright."""
    items = Markup("").join(
        Markup(
            '<li class="govuk-footer__inline-list-item">'
            '<a class="govuk-footer__link" href="{}">{}</a></li>'
        ).format(href, text)
        for text, href in links
    )
    return Markup(
        '<footer class="govuk-footer"><div class="govuk-width-container"><div class="govuk-footer__meta">'
        '<div class="govuk-footer__meta-item govuk-footer__meta-item--grow">'
        '<h2 class="govuk-visually-hidden">Support links</h2>'
        '<ul class="govuk-footer__inline-list">{}</ul>'
        '<div class="govuk-footer__meta-custom">This service is run by {}.</div>'
        "</div></div></div></footer>"
    ).format(items, identity().operator)


def init_app(app: Flask) -> None:
    """Read the identity, and serve the brand colour's stylesheet when one is set."""
    who = app.extensions["commission_identity"] = read_settings(app.config)

    @app.get("/static/brand.css")
    @allow("public")
    def brand_css() -> Response:
        """The header's bottom border in the operator's colour (the CSP refuses inline styles)."""
        headers.cacheable()
        # the colour was checked as #rrggbb when read: nothing else reaches this stylesheet
        css = f".govuk-header__container{{border-bottom-color:{who.brand_colour}}}\n"
        return Response(css if who.brand_colour else "", mimetype="text/css")
