"""One action on many cases: each checked and taken exactly as a single action is, in its own
transaction, with a result for every case (done, or not done and why).

A refusal, or an error, on one case never stops or undoes the others: the summary says which
were done. The batch is bounded so one request cannot hold the database for minutes.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from engine.errors import ActionRefused, EngineError, NotFound
from engine.runtime.actions import ActionService
from engine.runtime.views import ActionOption, Actor

MOST_AT_ONCE = 500
log = logging.getLogger(__name__)
# what a person is told when something unexpected stopped one case (the log has the detail)
UNEXPECTED = (
    "something went wrong on our side, so nothing was changed on this case; "
    "try this action again from the case's own page"
)


@dataclass(frozen=True)
class BulkResult:
    """What happened to one case of a bulk action: done, or not done and every reason why."""

    reference: str
    done: bool
    state_label: str  # where the case stands afterwards ("" when there is no such case)
    reasons: tuple[str, ...] = ()
    found: bool = True  # False: no case by that reference (or none this actor may see)


class BulkService(ActionService):
    """Take one action on many cases, each as its own action, and say what happened to each."""

    def bulk_actions(
        self, programme_id: str, workflow: str, state: str, actor: Actor
    ) -> list[ActionOption]:
        """The actions this actor's role takes on cases of one kind in one state (each case is
        still checked on its own when the action is taken)."""
        self._reach(programme_id, actor)
        programme = self.programme(programme_id)
        wf = self._workflow(programme, workflow)
        out: dict[str, ActionOption] = {}
        for t in wf.transitions:
            if state not in t.sources or actor.role not in t.by:
                continue
            label = t.spec.get("label", t.trigger.replace("_", " ").capitalize())
            seen = out.get(t.trigger)
            needs_reason = bool(t.spec.get("reason")) or (seen is not None and seen.needs_reason)
            dest = seen.dest if seen is not None else t.dest  # the first that applies, as `act`
            out[t.trigger] = ActionOption(t.trigger, seen.label if seen else label, dest, True,
                                          (), needs_reason)  # fmt: skip
        return list(out.values())

    def act_on_many(
        self,
        cases: Iterable[int | str],
        trigger: str,
        actor: Actor,
        *,
        expected_state: str | None = None,
        programme_id: str | None = None,
        amount: int | None = None,
        lot: str | None = None,
        reason: str | None = None,
    ) -> list[BulkResult]:
        """Take one action on each case (ids or references), each in its own transaction through
        `act`; one result per case, in the order given, whatever happened to the others.

        With `programme_id`, a case of another programme is left as it is (a list's own cases only).
        """
        chosen = list(dict.fromkeys(str(c).strip() for c in cases if str(c).strip()))
        if not chosen:
            raise ActionRefused("choose at least one case")
        if len(chosen) > MOST_AT_ONCE:
            raise ActionRefused(
                f"choose at most {MOST_AT_ONCE:,} cases at a time: you chose {len(chosen):,}; "
                "narrow the list with a search or filter, or act in smaller batches"
            )
        return [self._act_on_one(key, trigger, actor, expected_state, programme_id, amount, lot,
                                 reason) for key in chosen]  # fmt: skip

    def _act_on_one(self, key: str, trigger: str, actor: Actor, expected_state: str | None,
                    programme_id: str | None, amount: int | None, lot: str | None,
                    reason: str | None) -> BulkResult:  # fmt: skip
        """One case of a bulk action: `act` (its own transaction), or why it was not done."""
        if programme_id is not None:
            where = self._where(key, actor, programme_id)
            if where is None:
                return BulkResult(key, False, "", (f"there is no case {key}",), found=False)
        try:
            done = self.act(key, trigger, actor, expected_state=expected_state, amount=amount,
                            lot=lot, reason=reason)  # fmt: skip
            return BulkResult(done.reference, True, done.state_label)
        except NotFound as exc:
            if self._where(key, actor) is None:  # the case itself: not the action
                return BulkResult(key, False, "", (f"there is no case {key}",), found=False)
            reasons: tuple[str, ...] = (str(exc),)
        except ActionRefused as exc:  # NotPermitted too: every reason, as a single action gives
            reasons = tuple(exc.reasons) or (exc.message,)
        except EngineError as exc:  # the case changed meanwhile, the database was busy…
            reasons = (str(exc),)
        except Exception:  # one case's failure must not stop the rest; the log keeps the detail
            log.exception("bulk action %s failed on case %s", trigger, key)
            reasons = (UNEXPECTED,)
        where = self._where(key, actor)
        reference, label = where if where is not None else (key, "")
        return BulkResult(reference, False, label, reasons)

    def _where(
        self, key: str, actor: Actor, programme_id: str | None = None
    ) -> tuple[str, str] | None:
        """A case's reference and the label of its state now (None: no case this actor may see,
        or none in `programme_id` when that is given)."""
        try:
            row = self._row(key, actor)
        except NotFound:
            return None
        if programme_id is not None and row["programme_id"] != programme_id:
            return None
        wf = self.programme(row["programme_id"], row["version"]).workflows[row["workflow"]]
        label = next((s.label for s in wf.states if s.id == row["state"]), "")
        return row["reference"], label
