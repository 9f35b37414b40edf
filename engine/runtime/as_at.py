"""A case as it stood at an earlier moment: its state, the states it had entered, and the answers
and records it had by then. A time limit is judged this way at its own moment, so a scheduler
that sweeps a day late reaches the verdict an on-time sweep would have.

Records count from when they were first sent. Answers to once-only forms are kept in one row that
later saves overwrite, so a question counts as answered by then if it was answered by then (the
audit log names the questions of every save), with the answer it has now.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from engine.dates import stored_moment
from engine.store.contract import StoreContract


def case_as_at(
    store: StoreContract, row: dict[str, Any], at: datetime
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The case row and its answer rows as they stood at `at`."""
    moves = [(stored_moment(w), s) for w, s in store.state_changes([row["id"]]).get(row["id"], [])]
    then = [(w, s) for w, s in moves if w <= at]
    if then:
        entered = {s: w.isoformat() for w, s in then}  # the latest entry to each, by then
        row = {**row, "state": then[-1][1], "entered": entered}
    answered = _answered_by(store.history(row["id"]), at)
    rows = []
    for a in store.answers(row["id"]):
        if a["record"]:  # a record of a repeatable form: there if it had been sent by then
            if a["submitted_at"] and stored_moment(a["submitted_at"]) <= at:
                rows.append(a)
        elif stored_moment(a["updated_at"]) <= at:
            rows.append(a)
        else:
            kept = answered.get(a["form"])
            if kept is None:
                continue
            data = a["data"] if kept == "all" else {k: v for k, v in a["data"].items() if k in kept}
            rows.append({**a, "data": data})
    return row, rows


def _answered_by(history: list[dict[str, Any]], at: datetime) -> dict[str, Any]:
    """Per once-only form, the questions answered by `at` ("all" for a form copied whole)."""
    out: dict[str, Any] = {}
    for entry in history:
        if stored_moment(entry["at"]) > at:
            continue
        detail = entry.get("detail") or {}
        if entry["action"] == "answer" and "questions" in detail:
            seen = out.setdefault(detail["form"], set())
            if seen != "all":
                seen.update(detail["questions"])
        elif entry["action"] == "start":
            for form in detail.get("copied", []):
                out[form] = "all"
    return out
