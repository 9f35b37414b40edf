"""Pages built from HTML pieces show links and emphasis, not their tags (found by the browser tests)."""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace

from flask import Flask, render_template
from flask.testing import FlaskClient

from .conftest import start_application


def test_each_reference_is_a_link_not_escaped_html(applicant: Callable[..., FlaskClient]) -> None:
    ann = applicant()
    ref = start_application(ann)
    html = ann.get("/apply/applications").data.decode()
    assert f'<a class="govuk-link" href="/apply/cases/{ref}">{ref}</a>' in html
    assert "&lt;a" not in html


def test_the_confirmation_panel_shows_the_reference_in_bold(app: Flask) -> None:
    with app.test_request_context("/"):
        html = render_template(
            "apply/confirmation.html",
            form=SimpleNamespace(title="Expression of interest", id="eoi"),
            view=SimpleNamespace(reference="LIV-<1>", state_label="Submitted"),
            programme=SimpleNamespace(name="A programme", data={}),
        )
    assert "Your reference number<br><strong>LIV-&lt;1&gt;</strong>" in html
    assert "&lt;strong&gt;" not in html
