"""What an applicant gets on submitting: an email with their answers, and the application as a PDF."""

from __future__ import annotations

import html
import re
from datetime import datetime
from typing import Any

from flask import abort, g, render_template
from werkzeug.wrappers import Response

from engine.forms.classes import visible_questions
from engine.model import Form, Programme, Question
from engine.runtime import CaseView
from engine.web import describe
from engine.web.access import allow
from engine.web.apply import bp
from engine.web.apply.cases import load
from engine.web.apply.outcome import programme_contacts, state_description
from engine.web.pdf import html_to_pdf
from engine.web.services import external_url, now, store


def answer_text(q: Question, value: Any) -> str:
    """An answer in plain words, as "Check your answers" shows it (dates in words, money in £)."""
    shown = str(describe.show_answer(q, value))
    shown = re.sub(r"<br\s*/?>|</p>", "\n", shown)
    return html.unescape(re.sub(r"<[^>]+>", "", shown)).strip()


def _pages(form: Form, saved: dict[str, Any]) -> list[tuple[str, list[Question]]]:
    """The pages asked given the answers, each with the questions it shows."""
    found = [(title, visible_questions(form, pid, saved)) for pid, title, _qs in form.pages]
    return [(title, shown) for title, shown in found if shown]


def answers_in_text(form: Form, saved: dict[str, Any]) -> str:
    """Every answer of a form as "question: answer" lines under each page's title."""
    blocks = []
    for title, questions in _pages(form, saved):
        lines = [title, "-" * len(title)]
        for q in questions:
            answer = answer_text(q, saved.get(q.id)).replace("\n", "\n  ")
            lines.append(f"{q.label}: {answer}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def queue_submitted_email(view: CaseView, programme: Programme, form: Form) -> None:
    """Queue the "we have received it" email to the person who submitted (inside their transaction)."""
    user = g.user
    what = describe.mid_sentence(form.title)
    next_words = state_description(programme, view.workflow, view.state) or (
        f"Your application is now: {describe.mid_sentence(view.state_label)}. We will tell you when there is news."
    )
    contacts = "\n".join(f"{c['name']}: {c['email']}" for c in programme_contacts(programme))
    body = (
        f"Dear {user['name']},\n\n"
        f"We have received your {what} for {programme.name}.\n\n"
        f"Your reference is {view.reference}. Use it if you contact us about your application.\n\n"
        f"What happens next\n{next_words}\n\n"
        f"Everyone in your organisation can follow the application, and download a copy of it as a PDF, here:\n"
        f"{external_url('apply.case', ref=view.reference)}\n\n"
        f"If you have a question, contact:\n{contacts}\n\n"
        f"Your answers\n\n{answers_in_text(form, view.answers.get(form.id, {}))}\n"
    )
    subject = f"{programme.name}: {form.title} {view.reference} received"
    store().add_outbox_message(user["email"], subject, body, now().isoformat(), to_role="applicant",
                               programme_id=programme.id, organisation_id=user["organisation_id"])  # fmt: skip


def _file_name(view: CaseView, form: Form) -> str:
    words = re.sub(r"[^a-z0-9]+", "-", form.title.lower()).strip("-")
    return f"{view.reference}-{words}.pdf"


@bp.get("/cases/<ref>/forms/<form_id>/pdf")
@allow("applicant")
def application_pdf(ref: str, form_id: str) -> Response:
    """The submitted form as a PDF: the answers as "Check your answers" shows them."""
    view, programme = load(ref)  # a case of another organisation is a 404
    form = programme.forms.get(form_id)
    submitted_at = view.submitted.get(form_id)
    if form is None or not submitted_at:
        abort(404)
    saved = view.answers.get(form_id, {})
    page = render_template(
        "apply/application_pdf.html", view=view, programme=programme, form=form, saved=saved,
        pages=_pages(form, saved), submitted_at=datetime.fromisoformat(submitted_at),
        organisation=store().organisation_name(view.organisation or "") or "",
    )  # fmt: skip
    return Response(
        html_to_pdf(page),
        mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{_file_name(view, form)}"'},
    )
