"""Publishing a draft (after reading what it changes and which open cases each change touches),
and throwing a draft away; both ask first, since neither can be undone."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from engine.errors import ActionRefused, ProgrammeInvalid
from engine.web.access import allow, current_actor
from engine.web.services import engine
from engine.web.studio import bp, draft_or_404, problems_json, summary


def _revision() -> int:
    try:
        return int(request.form.get("revision", ""))
    except ValueError:
        return -1  # the save check refuses it, in words


@bp.route("/drafts/<int:draft_id>/publish", methods=["GET", "POST"])
@allow("commissioner")
def publish(draft_id: int) -> str | Response:
    """What publishing the draft changes; publish it when confirmed."""
    draft = draft_or_404(draft_id)
    base = engine().programme(draft["programme_id"])
    error = None
    if request.method == "POST":
        try:
            programme, new = engine().publish_draft(draft_id, _revision(), current_actor())
        except ActionRefused as exc:
            error = str(exc)
        else:
            flash(f"{programme.name} is published" if new else
                  f"Nothing changed: {programme.name} was already published as it is in this draft")  # fmt: skip
            return redirect(url_for("studio.versions", pid=programme.id))
    try:
        programme, changes, compared = engine().draft_changes(draft_id, current_actor())
    except ProgrammeInvalid:
        problems = problems_json(engine().lint_draft(draft_id, current_actor()))
        return render_template("studio/publish.html", draft=draft, programme=base, problems=problems,
                               summary=summary(len(problems)), changes=None, error=error)  # fmt: skip
    except ActionRefused as exc:
        return render_template("studio/publish.html", draft=draft, programme=base, problems=[],
                               changes=None, error=str(exc), summary="")  # fmt: skip
    return render_template("studio/publish.html", draft=draft, programme=base, new=programme,
                           changes=changes, compared=compared, problems=[], error=error, summary="")  # fmt: skip


@bp.route("/drafts/<int:draft_id>/discard", methods=["GET", "POST"])
@allow("commissioner")
def discard(draft_id: int) -> str | Response:
    """Throw the draft away, after asking."""
    draft = draft_or_404(draft_id)
    programme = engine().programme(draft["programme_id"])
    error = None
    if request.method == "POST":
        try:
            engine().discard_draft(draft_id, _revision(), current_actor())
        except ActionRefused as exc:
            error = str(exc)
        else:
            flash("The draft is discarded")
            return redirect(url_for("studio.index"))
    return render_template("studio/discard.html", draft=draft, programme=programme, error=error)
