"""Moving open cases to a newer version of their programme, when a commissioner chooses to.

A case stays on the version it was started on unless it is moved. The newer version's file says
which states' cases may move (`movable_states`; by default only a workflow's first state, a
draft): a closed case is frozen, and a case whose state the newer version no longer has cannot
move. Each case moves in its own transaction, audited, its reminders re-planned; its answers are
kept as they are, so answers to questions the newer version no longer asks stay in its record
(never shown), and the questions it adds are simply not answered yet.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from engine.errors import ActionRefused, EngineError, NotFound
from engine.model import Programme, Question, Workflow
from engine.runtime.bulk import MOST_AT_ONCE
from engine.runtime.core import EngineCore
from engine.runtime.labels import label_from, label_question
from engine.runtime.views import Actor

MOVED = "moved_to_newer_version"  # the audit action: "Moved to newer version" in a history
SHOWN = 20  # cases listed for one group of the preview; the rest are counted
log = logging.getLogger(__name__)
# what a person is told when something unexpected stopped one case (the log has the detail)
UNEXPECTED = "something went wrong on our side, so this case was not moved; try moving it again"


def movable_states(programme: Programme, workflow: str) -> frozenset[str]:
    """The states of a workflow whose cases may move to this version (never a final one)."""
    wf = programme.workflows.get(workflow)
    if wf is None:
        return frozenset()
    final = {s.id for s in wf.states if s.final}
    declared = programme.data["workflows"][workflow].get("movable_states")
    chosen = set(declared) if declared is not None else {wf.initial}  # a draft, by default
    return frozenset(chosen - final)


def _label(wf: Workflow | None, state: str) -> str:
    return next((s.label for s in wf.states if s.id == state), state) if wf else state


def _either(labels: list[str]) -> str:
    words = [f'"{w}"' for w in labels]
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} or {words[-1]}"


@dataclass(frozen=True)
class MoveCase:
    """One case of the preview: its reference, organisation and answers the move sets aside."""

    id: int
    reference: str
    organisation: str
    set_aside: tuple[str, ...] = ()  # labels of answered questions the newer version no longer asks


@dataclass(frozen=True)
class MoveGroup:
    """Cases of one older version, workflow and state: all of them may move, or none, and why."""

    from_version: str
    published_at: str
    workflow: str
    workflow_title: str
    state: str
    state_label: str
    may_move: bool
    why_not: str
    needs_answers: tuple[tuple[str, tuple[str, ...]], ...]  # (form title, new required questions)
    count: int
    cases: tuple[MoveCase, ...]

    @property
    def more(self) -> int:
        """How many of the group's cases are not listed."""
        return max(0, self.count - len(self.cases))


@dataclass(frozen=True)
class MoveResult:
    """What happened to one case: moved (and what it now needs), or not and why."""

    reference: str
    moved: bool
    state_label: str
    reasons: tuple[str, ...] = ()
    needs_answers: tuple[str, ...] = ()  # labels of required questions still to answer


class MovingService(EngineCore):
    """Preview and make the move of open cases to a newer published version of their programme."""

    def move_preview(
        self, programme_id: str, to_version: str | None, actor: Actor, *, shown: int = SHOWN
    ) -> tuple[str, list[MoveGroup]]:
        """The version cases would move to (the newest by default) and, for every case on an
        older version, grouped by version, workflow and state: whether it may move, why not, and
        what changes for it; each group counted in full and its first `shown` cases listed."""
        new = self._target(programme_id, to_version, actor)
        groups = []
        for g in self._older_groups(programme_id, new.version):
            old = self.programme(programme_id, g["version"])
            why = self._why_not(old, new, g["workflow"], g["state"])
            rows = self.store.cases_by_version(
                programme_id, g["version"], g["workflow"], g["state"], limit=max(shown, 1)
            )[:shown]
            owf = old.workflows.get(g["workflow"])
            groups.append(MoveGroup(
                g["version"], g["published_at"], g["workflow"], owf.title if owf else g["workflow"],
                g["state"], _label(owf, g["state"]), not why, why,
                tuple((new.forms[f].title, tuple(q.label for q in qs))
                      for f, qs in self._new_required(old, new, g["workflow"], g["state"]).items()),
                g["count"], tuple(self._preview_case(r, old, new) for r in rows),
            ))  # fmt: skip
        return new.version, groups

    def move_cases(
        self,
        programme_id: str,
        to_version: str | None,
        case_ids: Iterable[int | str] | None,
        actor: Actor,
        reason: str | None = None,
    ) -> list[MoveResult]:
        """Move each case (ids or references; None: every case that may move, up to a batch) to
        the version, each in its own transaction, checked afresh; a result for every case."""
        new = self._target(programme_id, to_version, actor)
        if case_ids is None:
            chosen = [str(i) for i in self._movable_ids(programme_id, new)]
            if not chosen:
                raise ActionRefused("no case can move to this version")
        else:
            chosen = list(dict.fromkeys(str(c).strip() for c in case_ids if str(c).strip()))
            if not chosen:
                raise ActionRefused("choose at least one case to move")
        if len(chosen) > MOST_AT_ONCE:
            raise ActionRefused(
                f"choose at most {MOST_AT_ONCE:,} cases at a time: you chose {len(chosen):,}; "
                "move them in smaller batches"
            )
        order = [v["version"] for v in self.store.versions(programme_id)]
        return [self._move_one(key, programme_id, new, order, actor, reason) for key in chosen]

    def needs_answers(self, case_id: int | str, actor: Actor) -> dict[str, list[str]]:
        """Per form, the labels of the required questions a move to a newer version added that
        the case has not answered yet (what its people must answer before it can go on)."""
        row = self._row(case_id, actor)
        added: dict[str, set[str]] = {}
        for entry in self.store.history(row["id"]):
            if entry["action"] == MOVED:
                for form, ids in (entry["detail"].get("needs_answers") or {}).items():
                    added.setdefault(form, set()).update(ids)
        if not added:
            return {}
        programme = self.programme(row["programme_id"], row["version"])
        stored = {a["form"]: a["data"] for a in self.store.answers(row["id"]) if a["record"] == 0}
        out: dict[str, list[str]] = {}
        for form_id, ids in added.items():
            form = programme.forms.get(form_id)
            asked = form.questions() if form else {}
            still = [
                asked[q].label
                for q in sorted(ids)
                if q in asked and q not in stored.get(form_id, {})
            ]
            if still:
                out[form_id] = still
        return out

    # -- what would happen -----------------------------------------------------------------
    def _target(self, programme_id: str, to_version: str | None, actor: Actor) -> Programme:
        self._commissioner_only(actor, "which cases move to a newer version")
        self._reach(programme_id, actor)
        if to_version is not None and self.store.programme_data(programme_id, to_version) is None:
            raise NotFound(f'there is no published version "{to_version}" of this programme')
        return self.programme(programme_id, to_version)

    def _older_groups(self, programme_id: str, version: str) -> list[dict[str, Any]]:
        """Counts of the cases on versions published before `version`, oldest version first."""
        published = {v["version"]: (i, v["published_at"]) for i, v in
                     enumerate(self.store.versions(programme_id))}  # fmt: skip
        before = published[version][0]
        counts = [{**c, "published_at": published[c["version"]][1]}
                  for c in self.store.cases_by_version(programme_id)
                  if c["version"] in published and published[c["version"]][0] < before]  # fmt: skip
        return sorted(counts, key=lambda c: (published[c["version"]][0], c["workflow"], c["state"]))

    def _why_not(self, old: Programme, new: Programme, workflow: str, state: str) -> str:
        """Why cases of this workflow and state cannot move from `old` to `new`, in words ("": they may)."""
        owf, nwf = old.workflows.get(workflow), new.workflows.get(workflow)
        label = _label(owf, state)
        if owf is not None and state in {s.id for s in owf.states if s.final}:
            return (
                f"it is {label.lower()}, and a closed case stays on the version it was decided on"
            )
        if nwf is None:
            title = owf.title.lower() if owf else workflow
            return f"the new version has no {title} any more, so the case has nowhere to go"
        if state not in {s.id for s in nwf.states}:
            return f'the new version has no "{label}" status, so the case would have nowhere to be'
        allowed = movable_states(new, workflow)
        if state in allowed:
            return ""
        if not allowed:
            return (
                f"the new version keeps every {nwf.title.lower()} on the version it was started on"
            )
        labels = [s.label for s in nwf.states if s.id in allowed]
        return f"the new version lets only cases that are {_either(labels)} move"

    def _new_required(self, old: Programme, new: Programme, workflow: str,
                      state: str) -> dict[str, list[Question]]:  # fmt: skip
        """Per form the case fills in now, the required questions `new` asks that `old` did not."""
        wf = new.workflows.get(workflow)
        if wf is None:
            return {}
        final = {s.id for s in wf.states if s.final}
        out: dict[str, list[Question]] = {}
        for entry in new.data["forms"]:
            states = entry.get("states")
            if entry["workflow"] != workflow or entry.get("repeatable"):
                continue  # a record already made is complete as it was recorded
            if (states and state not in states) or (not states and state in final):
                continue  # not filled in now: the whole form is asked when its time comes
            form = new.forms[entry["form"]]
            before = old.forms[form.id].questions() if form.id in old.forms else {}
            added = [q for q in form.questions().values() if q.required and q.id not in before]
            if added:
                out[form.id] = added
        return out

    def _set_aside(self, case_id: int, old: Programme, new: Programme) -> dict[str, list[str]]:
        """Per form, the ids of the case's answers to questions `new` no longer asks there."""
        out: dict[str, list[str]] = {}
        for a in self.store.answers(case_id):
            form = new.forms.get(a["form"])
            asked = form.questions() if form else {}
            gone = [q for q in a["data"] if q not in asked]
            if gone:
                out.setdefault(a["form"], [])
                out[a["form"]] += [q for q in gone if q not in out[a["form"]]]
        return out

    def _preview_case(self, row: dict[str, Any], old: Programme, new: Programme) -> MoveCase:
        labels = old.questions()
        gone = self._set_aside(row["id"], old, new)
        named = tuple(labels[q].label if q in labels else q for qs in gone.values() for q in qs)
        org = row["organisation_id"]
        name = (self.store.organisation_name(org) or org) if org else ""
        return MoveCase(row["id"], row["reference"], name, named)

    def _movable_ids(self, programme_id: str, new: Programme) -> list[int]:
        """Ids of the cases that may move to `new`, oldest first, up to one batch and one more."""
        ids: list[int] = []
        for g in self._older_groups(programme_id, new.version):
            old = self.programme(programme_id, g["version"])
            if len(ids) > MOST_AT_ONCE or self._why_not(old, new, g["workflow"], g["state"]):
                continue
            rows = self.store.cases_by_version(programme_id, g["version"], g["workflow"],
                                               g["state"], limit=MOST_AT_ONCE + 1 - len(ids))  # fmt: skip
            ids += [r["id"] for r in rows]
        return ids

    # -- moving ----------------------------------------------------------------------------
    def _move_one(self, key: str, programme_id: str, new: Programme, order: list[str],
                  actor: Actor, reason: str | None) -> MoveResult:  # fmt: skip
        """One case: moved in its own transaction, or why not (never stopping the others)."""
        reference, label = key, ""
        try:
            with self.store.transaction():
                row = self._row(key, actor)
                if row["programme_id"] != programme_id:
                    raise NotFound(f"there is no case {key}")
                reference = row["reference"]
                old = self.programme(programme_id, row["version"])
                label = _label(old.workflows.get(row["workflow"]), row["state"])
                if row["version"] == new.version:
                    return MoveResult(reference, False, label, ("it is already on this version",))
                if order.index(row["version"]) > order.index(new.version):
                    return MoveResult(reference, False, label,
                                      ("it is on a version published after this one",))  # fmt: skip
                # checked as it stands now: a case that changed since the preview is judged afresh
                why = self._why_not(old, new, row["workflow"], row["state"])
                if why:
                    return MoveResult(reference, False, label, (why,))
                needs = {f: [q.id for q in qs] for f, qs in
                         self._new_required(old, new, row["workflow"], row["state"]).items()}  # fmt: skip
                detail: dict[str, Any] = {"from_version": row["version"], "to_version": new.version}
                if needs:
                    detail["needs_answers"] = needs
                if gone := self._set_aside(row["id"], old, new):
                    detail["answers_kept_not_shown"] = gone
                if reason and reason.strip():
                    detail["reason"] = reason.strip()
                now = self._stamp()
                revision = self.store.change_case_version(
                    row["id"], row["revision"], new.version, now
                )
                if label_question(new, row["workflow"]) != label_question(old, row["workflow"]):
                    # the new version labels its cases by another answer: lists show that one
                    shown = label_from(new, row["workflow"], self.store.answers(row["id"]))
                    self.store.set_case_label(row["id"], shown)
                self.store.audit(row["id"], now, actor.role, actor.id, MOVED, row["state"],
                                 row["state"], new.version, detail)  # fmt: skip
                moved = {**row, "version": new.version, "revision": revision, "updated_at": now}
                self._replan(row["id"], new, moved)
            label = _label(new.workflows[row["workflow"]], row["state"])
            still = self.needs_answers(row["id"], actor).values()
            return MoveResult(reference, True, label, (), tuple(q for qs in still for q in qs))
        except NotFound:
            return MoveResult(key, False, "", (f"there is no case {key}",))
        except EngineError as exc:  # the case changed meanwhile, the database was busy…
            return MoveResult(reference, False, label, (str(exc),))
        except Exception:  # one case's failure must not stop the rest; the log keeps the detail
            log.exception("moving case %s to version %s failed", key, new.version)
            return MoveResult(reference, False, label, (UNEXPECTED,))
