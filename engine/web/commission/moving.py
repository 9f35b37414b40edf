"""Moving open cases to a newer version of the programme, when the commissioner chooses to.

The page shows, for the version chosen (the newest by default), every case on an older version
grouped by what would happen: the groups that can move (with the questions their people will
then need to answer) and those that stay, and why. The commissioner ticks cases, or all that can
move; a confirm page says it cannot be undone; the results say what happened to each case.
Versions are named by their number and when they were published, never by their internal id.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import abort, render_template, request, url_for
from werkzeug.wrappers import Response

from engine.errors import ActionRefused
from engine.model import Programme
from engine.runtime.bulk import MOST_AT_ONCE
from engine.runtime.moving import MoveGroup
from engine.web import describe
from engine.web.access import allow, current_actor
from engine.web.commission import bp
from engine.web.services import engine, store

LONGEST_REASON = 2000


def sentence(text: str) -> str:
    """A reason from the engine as a sentence: a capital letter first, a full stop last."""
    text = text.strip()
    return f"{text[:1].upper()}{text[1:]}{'' if text.endswith(('.', '?', '!')) else '.'}"


def _versions(programme: Programme) -> list[dict[str, Any]]:
    """Each published version, oldest first, numbered and said in words."""
    out = []
    for number, v in enumerate(store().versions(programme.id), start=1):
        published = describe.when(datetime.fromisoformat(v["published_at"]), programme.timezone)
        out.append({**v, "number": number, "words": f"Version {number}, published {published}"})
    return out


def _chosen_version(programme: Programme) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The version asked for by its number (the newest when none), and every version."""
    versions = _versions(programme)
    asked = (request.values.get("to") or "").strip()
    if not asked:
        return versions[-1], versions
    found = next((v for v in versions if str(v["number"]) == asked), None)
    if found is None:
        abort(404)
    return found, versions


def _preview(pid: str, error: str | None = None) -> tuple[str, int] | str:
    programme = engine().programme(pid)
    target, versions = _chosen_version(programme)
    _to, groups = engine().move_preview(pid, target["version"], current_actor())
    words = {v["version"]: v["words"] for v in versions}
    page = render_template(
        "commission/move.html", programme=programme, target=target, versions=versions,
        movable=[g for g in groups if g.may_move], staying=[g for g in groups if not g.may_move],
        words=words, sentence=sentence, error=error, most=MOST_AT_ONCE,
        chosen=set(request.form.getlist("cases")),
    )  # fmt: skip
    return (page, 400) if error else page


@bp.get("/<pid>/versions/move")
@allow("commissioner")
def move(pid: str) -> tuple[str, int] | str:
    """Which cases on older versions can move to the version chosen, and what would change."""
    return _preview(pid)


def _movable_total(groups: list[MoveGroup]) -> int:
    return sum(g.count for g in groups if g.may_move)


@bp.post("/<pid>/versions/move")
@allow("commissioner")
def move_confirm(pid: str) -> tuple[str, int] | str:
    """Ask "Are you sure…?" about the cases chosen: moving them cannot be undone."""
    programme = engine().programme(pid)
    target = _chosen_version(programme)[0]
    every = request.form.get("all") == "yes"
    refs = list(dict.fromkeys(request.form.getlist("cases")))
    if every:
        _to, groups = engine().move_preview(pid, target["version"], current_actor(), shown=0)
        count = _movable_total(groups)
        if not count:
            return _preview(pid, "No case can move to this version")
    else:
        count = len(refs)
    if not count:
        return _preview(pid, "Select the cases to move, or select all cases that can move")
    if not every and count > MOST_AT_ONCE:
        return _preview(pid, f"Select up to {MOST_AT_ONCE:,} cases at a time")
    return _confirm_page(programme, target, refs, every, min(count, MOST_AT_ONCE), count)


def _confirm_page(programme: Programme, target: dict[str, Any], refs: list[str], every: bool,
                  count: int, total: int, error: str | None = None) -> tuple[str, int] | str:  # fmt: skip
    nouns = f"{count:,} case{'' if count == 1 else 's'}"
    page = render_template(
        "commission/move_confirm.html", programme=programme, target=target, refs=refs,
        every=every, nouns=nouns, count=count, total=total, error=error, reason=request.form.get("reason", ""),
        back=url_for("commission.move", pid=programme.id, to=target["number"]),
    )  # fmt: skip
    return (page, 400) if error else page


@bp.post("/<pid>/versions/move/confirmed")
@allow("commissioner")
def move_cases(pid: str) -> tuple[str, int] | str | Response:
    """Move each case chosen, each on its own; then what happened to each."""
    programme = engine().programme(pid)
    target = _chosen_version(programme)[0]
    every = request.form.get("all") == "yes"
    refs = list(dict.fromkeys(request.form.getlist("cases")))
    reason = request.form.get("reason", "").strip()
    if len(reason) > LONGEST_REASON:
        count = MOST_AT_ONCE if every else len(refs)
        return _confirm_page(programme, target, refs, every, count, count,
                             f"Enter a reason of {LONGEST_REASON:,} characters or fewer")  # fmt: skip
    try:
        results = engine().move_cases(pid, target["version"], None if every else refs,
                                      current_actor(), reason or None)  # fmt: skip
    except ActionRefused as exc:
        return _preview(pid, sentence(exc.message))
    moved = sum(r.moved for r in results)
    rows = sorted(results, key=lambda r: r.moved)  # those not moved first: they need a look
    left = 0
    if every:
        _to, groups = engine().move_preview(pid, target["version"], current_actor(), shown=0)
        left = _movable_total(groups)
    return render_template(
        "commission/move_results.html", programme=programme, target=target, rows=rows,
        moved=moved, not_moved=len(results) - moved, left=left, sentence=sentence,
        back=url_for("commission.move", pid=pid, to=target["number"]),
    )  # fmt: skip
