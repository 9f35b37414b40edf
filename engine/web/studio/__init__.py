"""The programme studio: commissioners edit a programme's files in the browser, see the linter's
messages as they type, preview the draft, read what publishing changes, and publish it; or start
next year's round from this one. Every change goes through `Engine` (engine.runtime.studio).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from engine.dates import moment_in_words, stored_moment
from engine.errors import ActionRefused, Problem
from engine.web import headers
from engine.web.access import allow, current_actor, reachable
from engine.web.services import engine, store

bp = Blueprint("studio", __name__, url_prefix="/studio")
MAX_TEXT = 2 * 1024 * 1024  # one file; the YAML reader refuses more in words


def draft_or_404(draft_id: int) -> dict[str, Any]:
    """The draft, if the signed-in commissioner's role reaches its programme."""
    return engine().draft(draft_id, current_actor())


def when(stamp: str | None, programme_id: str) -> str:
    """A stored time in words, on the programme's clock."""
    if not stamp:
        return ""
    from zoneinfo import ZoneInfo

    return moment_in_words(
        stored_moment(stamp), ZoneInfo(engine().programme(programme_id).timezone)
    )


@bp.app_template_global()
def file_label(name: str) -> str:
    """A file as a commissioner knows it: its name, and which kind it is."""
    folder, _, base = name.partition("/")
    return f"{base} ({'programme' if folder == 'programmes' else 'form'})"


def problems_json(by_file: dict[str, list[Problem]]) -> list[dict[str, Any]]:
    """The linter's messages as the editor reads them."""
    return [
        {"file": name, "line": p.line, "col": p.col, "code": p.code, "message": p.message}
        for name, problems in sorted(by_file.items())
        for p in problems
    ]


def summary(count: int) -> str:
    """How many problems, in words."""
    return "No problems found" if count == 0 else f"{count} problem{'s' if count != 1 else ''}"


@bp.get("/")
@allow("commissioner")
def index() -> str:
    """The programmes this commissioner may edit, and their drafts in progress."""
    ids = reachable(store().programme_ids())
    programmes = [engine().programme(pid) for pid in ids]
    drafts = store().drafts(ids)
    for d in drafts:
        d["saved"] = when(d["saved_at"], d["programme_id"])
        d["name"] = engine().programme(d["programme_id"]).name
        d["file"] = d["main_file"].partition("/")[2]
    return render_template("studio/index.html", programmes=programmes, drafts=drafts)


@bp.post("/<pid>/drafts")
@allow("commissioner")
def open_draft(pid: str) -> Response:
    """Start a draft of the programme's published version."""
    draft_id = engine().open_draft(pid, current_actor())
    return redirect(url_for("studio.edit", draft_id=draft_id))


@bp.route("/<pid>/next-round", methods=["GET", "POST"])
@allow("commissioner")
def next_round(pid: str) -> str | Response:
    """Start next year's round: a small file that builds on this one, as a draft."""
    programme = engine().programme(pid)
    error = None
    value = request.form.get("new_id", "")
    if request.method == "POST":
        try:
            draft_id = engine().next_round_draft(pid, value, current_actor())
        except ActionRefused as exc:
            error = str(exc)
        else:
            flash("Next year's round is a draft: check its dates, then make your changes")
            return redirect(url_for("studio.edit", draft_id=draft_id))
    return render_template("studio/next_round.html", programme=programme, error=error, value=value)


@bp.route("/drafts/<int:draft_id>", methods=["GET", "POST"])
@allow("commissioner")
def edit(draft_id: int) -> str | Response:
    """One file of a draft in the editor, with every problem the linter finds in the draft."""
    draft = draft_or_404(draft_id)
    name = request.args.get("file") or draft["main_file"]
    if name not in draft["files"]:
        abort(404)
    text, error = draft["files"][name], None
    revision = draft["revision"]
    if request.method == "POST":
        text = request.form.get("text", "")
        try:
            revision = int(request.form.get("revision", ""))
        except ValueError:
            abort(400)
        if len(text.encode("utf-8")) > MAX_TEXT:
            error = f"This file is over {MAX_TEXT // 1_048_576} MB: a programme file is tens of kilobytes, so check nothing was pasted twice"  # fmt: skip
        else:
            try:
                engine().save_draft_file(draft_id, name, text, revision, current_actor())
            except ActionRefused as exc:
                error = str(exc)  # the text typed stays in the editor: nothing is lost
            else:
                flash(f"{file_label(name)} saved")
                return redirect(url_for("studio.edit", draft_id=draft_id, file=name))
    headers.allow_nonce_styles()  # the code editor styles itself with a <style> carrying the nonce
    edited = {name: text} if error else None
    by_file = engine().lint_draft(draft_id, current_actor(), edited)
    problems = problems_json(by_file)
    return render_template(
        "studio/edit.html", draft=draft, name=name, text=text, revision=revision, error=error,
        files=sorted(draft["files"], key=lambda n: (n != draft["main_file"], n)),
        problems=problems, summary=summary(len(problems)),
        programme=engine().programme(draft["programme_id"]),
        saved=when(draft["saved_at"], draft["programme_id"]),
    )  # fmt: skip


@bp.post("/drafts/<int:draft_id>/lint")
@allow("commissioner")
def lint(draft_id: int) -> Response:
    """The linter's messages for the draft with one file as it is being typed (nothing is saved)."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("file"), str) or not isinstance(body.get("text"), str):  # fmt: skip
        return jsonify({"error": "Send the file's name and text as JSON"}), 400  # type: ignore[return-value]
    if len(body["text"].encode("utf-8")) > MAX_TEXT:
        return jsonify({"error": "This file is too big to check: a programme file is tens of kilobytes"}), 413  # type: ignore[return-value]  # fmt: skip
    draft_or_404(draft_id)
    by_file = engine().lint_draft(draft_id, current_actor(), {body["file"]: body["text"]})
    problems = problems_json(by_file)
    return jsonify({"problems": problems, "summary": summary(len(problems))})


from engine.web.studio import preview, publishing, versions  # noqa: E402, F401 - the views register themselves on bp
