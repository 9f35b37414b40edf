"""The eligibility page and the case page open with one verdict over every criterion."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient

from engine.runtime.views import CriterionResult

from .conftest import start_application, text


def test_the_verdict_says_how_far_an_applicant_has_got_then_why_they_are_not_eligible(
    applicant: Callable[..., FlaskClient],
) -> None:
    ann = applicant()
    ref = start_application(ann)
    page = text(ann.get(f"/apply/cases/{ref}/eligibility"))
    assert "You meet 0 of 9 criteria so far. Answer the remaining questions" in page
    assert "Not met" not in page  # nothing answered is "Not answered yet", never "Not met"

    r = ann.post(f"/apply/cases/{ref}/eligibility", data={"income": "600000"},
                 content_type="multipart/form-data")  # fmt: skip
    assert r.status_code == 302
    page = text(ann.get(f"/apply/cases/{ref}/eligibility"))
    verdict = page.split("You are not eligible because:")[1].split("Your results")[0]
    assert "you entered £600,000" in verdict
    assert "contact the funder" in verdict
    case = text(ann.get(f"/apply/cases/{ref}"))
    assert "You are not eligible because:" in case and "you entered £600,000" in case


def test_when_every_criterion_is_met_or_does_not_apply_the_verdict_says_so(app: Flask) -> None:
    macro = app.jinja_env.get_template("apply/_criteria.html").module.eligibility_verdict
    met = CriterionResult("a", "Be a charity", "met")
    other = CriterionResult("b", "Be a company", "not_applicable")
    assert "You meet all 2 criteria." in " ".join(str(macro([met, met])).split())
    assert "You meet the only criterion that applies to you." in " ".join(
        str(macro([met, other])).split()
    )
    said = " ".join(str(macro([met, met, other])).split())
    assert "You meet all 2 criteria that apply to you." in said
    nothing = " ".join(str(macro([other])).split())
    assert "None of the criteria apply to you" in nothing and "all 0" not in nothing
