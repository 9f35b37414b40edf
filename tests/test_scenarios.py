"""Journeys written as data: given a programme, at a time, someone does something, expect this.

Each file in tests/scenarios/ is one journey through one shipped or documented example
programme (`programme:` is its path from the repository's root, such as
docs/example/programmes/link_service.yaml, its forms found beside it), run through `Engine` with
a frozen clock and a fresh database. Step keys:

- `at`: move the frozen clock to this programme-local time (`2022-01-31T16:59`) and keep it there.
- `actor`: who acts (a name from the file's `actors`); defaults to the previous step's actor.
- one action: `start: {workflow, as, role?, lot?, subject?}` (names the new case `as`),
  `answer: {form, answers, record?}`, `act: trigger` (with optional `amount`, `lot`, `reason`,
  `expected_state`), `eligibility: {}`, `actions: {}`, `view: {}`, `service_levels: {}` (check
  the case's time-limited promises, flagging missed ones), `sweep: {}` (the scheduler's sweep at
  the frozen time), `child: {of: case, workflow, as}` (names a case an action started),
  `kpi: {id, in, by?}` (a KPI in its period holding day `in`; `by` a question id for a breakdown
  by its answer, or organisation or lot).
- `case`: which named case the step is about (defaults to the last one named).
- `expect`: `state`, `flags` (subset), `error` (exception class), `says` (substring of the
  message and reasons), `invalid` (question ids an AnswersInvalid names), `eligibility` ({criterion id: status}), `allowed`/`refused` (triggers),
  `audit` (subset of the newest audit event), `records` ({form: count}), `service_levels`
  ({id: kept|pending|at_risk|missed|paused|not_started}, after a `service_levels` step),
  `figures` ({group: value}, after a `kpi` step; `programme` for the whole; null: no figure),
  `rag` ({group: green|amber|red}, after a `kpi` step), `sent`/`taken`/
  `checked`/`skipped` (counts, after a `sweep`), `outbox` ([{to: role, says: words}] queued so far).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml

from engine import errors
from engine.runtime import Actor, Engine

from .conftest import ROOT, account
from .databases import database_in

SCENARIOS = sorted((ROOT / "tests" / "scenarios").glob("*.yaml"))


class Journey:
    def __init__(self, spec: dict[str, Any], tmp_path: Path) -> None:
        self.spec = spec
        self.moment = datetime(2000, 1, 1, tzinfo=ZoneInfo("UTC"))
        self.engine = Engine(database_in(tmp_path, "journey"), clock=lambda: self.moment)
        self.programme, _new = self.engine.publish(ROOT / spec["programme"])
        self.tz = ZoneInfo(self.programme.timezone)
        self.actors = {name: Actor(**a) for name, a in spec["actors"].items()}
        self._people()
        self.cases: dict[str, int] = {}
        self.actor: Actor | None = None
        self.case_name: str | None = None
        self.rags: dict[str, str | None] = {}  # the last `kpi` step's red, amber or green by group

    def _people(self) -> None:
        """Each actor is a person with an account, as in a deployment: reminders reach them."""
        store, stamp = self.engine.store, self.moment.isoformat()
        with store.transaction():
            for actor in self.actors.values():
                if actor.role == "scheduler":
                    continue
                if actor.organisation:
                    store.ensure_organisation(actor.organisation, actor.organisation, stamp)
                account(
                    store,
                    f"{actor.id}@example.org",
                    actor.id,
                    actor.role,
                    actor.organisation,
                    stamp,
                )

    def run(self) -> None:
        for number, step in enumerate(self.spec["steps"], 1):
            try:
                self.step(step)
            except AssertionError as exc:
                raise AssertionError(f"step {number} {step!r}: {exc}") from None

    def step(self, step: dict[str, Any]) -> None:
        if "at" in step:
            self.moment = datetime.fromisoformat(str(step["at"])).replace(tzinfo=self.tz)
        if "actor" in step:
            self.actor = self.actors[step["actor"]]
        if "case" in step:
            self.case_name = step["case"]
        expect = step.get("expect", {})
        result: Any = None
        error: Exception | None = None
        try:
            result = self.do(step)
        except errors.EngineError as exc:
            error = exc
        if "error" in expect:
            assert error is not None, f"expected {expect['error']}, but it succeeded"
            assert type(error).__name__ == expect["error"], (
                f"expected {expect['error']}, got {error!r}"
            )
        elif error is not None:
            raise AssertionError(f"unexpected {type(error).__name__}: {error}")
        if "invalid" in expect:
            assert isinstance(error, errors.AnswersInvalid), (
                f"expected AnswersInvalid, got {error!r}"
            )
            for question in _as_list(expect["invalid"]):
                assert question in error.errors, f"{question} not among {sorted(error.errors)}"
        if "says" in expect:
            text = str(error) if error else repr(result)
            for fragment in _as_list(expect["says"]):
                assert fragment.lower() in text.lower(), f"{fragment!r} not in {text!r}"
        for key in ("sent", "taken", "checked", "skipped"):
            if key in expect:
                assert getattr(result, key) == expect[key], (
                    f"sweep {key} is {getattr(result, key)}: {result}"
                )
        for wanted in _as_list(expect.get("outbox", [])):
            messages = self.engine.store.undelivered(10_000)
            assert any(
                m["to_role"] == wanted["to"]
                and m["to_address"]
                and wanted.get("says", "").lower() in (m["subject"] + m["body"]).lower()
                for m in messages
            ), (
                f"no message to {wanted['to']} saying {wanted.get('says')!r} in {[(m['to_role'], m['subject']) for m in messages]}"
            )
        for group, value in expect.get("figures", {}).items():
            assert isinstance(result, dict) and result.get(group) == value, (
                f"figure for {group} is {result.get(group) if isinstance(result, dict) else result}: {result}"
            )
        for group, colour in expect.get("rag", {}).items():
            assert self.rags.get(group) == colour, f"RAG for {group} is {self.rags.get(group)}"
        for sl_id, status in expect.get("service_levels", {}).items():
            assert isinstance(result, dict) and result.get(sl_id) == status, (
                f"service level {sl_id}: {result}"
            )
        self.check(expect, result)

    def do(self, step: dict[str, Any]) -> Any:
        e, actor = self.engine, self.actor
        assert actor is not None, "no actor yet"
        if "start" in step:
            s = step["start"]
            view = e.start_case(self.programme.id, s["workflow"], actor, role=s.get("role"),
                                lot=s.get("lot"), subject=s.get("subject"))  # fmt: skip
            self.cases[s["as"]] = view.id
            self.case_name = s["as"]
            return view
        if "child" in step:
            c = step["child"]
            parent = self.cases[c["of"]]
            row = e.store.children(parent)
            kids = [k for k in row if e.store.case(k)["workflow"] == c["workflow"]]
            assert kids, f"{c['of']} started no {c['workflow']} case"
            self.cases[c["as"]] = kids[-1]
            self.case_name = c["as"]
            return e.case(kids[-1], actor)
        case = self.cases[self.case_name] if self.case_name else None
        if "answer" in step:
            a = step["answer"]
            return e.save_answers(
                case, a["form"], a.get("answers", {}), actor, record=a.get("record")
            )
        if "act" in step:
            return e.act(case, step["act"], actor, amount=step.get("amount"), lot=step.get("lot"),
                         reason=step.get("reason"), expected_state=step.get("expected_state"))  # fmt: skip
        if "eligibility" in step:
            return e.eligibility(case, actor)
        if "actions" in step:
            return e.actions(case, actor)
        if "sweep" in step:  # the scheduler's sweep, at the journey's frozen time
            from engine.scheduler.sweeper import sweep

            return sweep(e)
        if "service_levels" in step:
            return {r.id: r.status for r in e.check_service_levels(case, actor)}
        if "view" in step:
            return e.case(case, actor)
        if "kpi" in step:
            return self.figures(step["kpi"])
        raise AssertionError(f"a step needs an action: {step!r}")

    def figures(self, asked: dict[str, Any]) -> dict[str, float | None]:
        """A KPI in the period (of its own kind) holding day `in`, by group."""
        from engine.reporting.kpi_groups import by_answer
        from engine.reporting.kpis import KpiCalculator, period_of

        kpi = next(k for k in self.programme.data["kpis"] if k["id"] == asked["id"])
        day = datetime.fromisoformat(str(asked["in"])).replace(tzinfo=self.tz)
        period = period_of(kpi.get("period", "quarter"), day, self.tz)
        by = asked.get("by", "programme")
        if by not in ("programme", "organisation", "lot"):
            by = by_answer(by)
        calc = KpiCalculator(self.engine.store, self.programme, self.engine.now())
        found = calc.value(kpi, period, by)
        self.rags = {v.group: v.rag for v in found}
        return {v.group: v.value for v in found}

    def check(self, expect: dict[str, Any], result: Any) -> None:
        if not (
            {"state", "flags", "audit", "records", "eligibility", "allowed", "refused"}
            & set(expect)
        ):
            return
        case = self.cases[self.case_name]
        view = self.engine.case(
            case, self.actors[next(n for n, a in self.actors.items() if a.role == "commissioner")]
        )
        if "state" in expect:
            assert view.state == expect["state"], (
                f"state is {view.state}, expected {expect['state']}"
            )
        for flag, value in expect.get("flags", {}).items():
            assert view.flags.get(flag, False) == value, f"flag {flag} is {view.flags.get(flag)}"
        for form, count in expect.get("records", {}).items():
            assert len(view.records.get(form, [])) == count, (
                f"{form} has {len(view.records.get(form, []))} records"
            )
        if "audit" in expect:
            last = self.engine.store.history(case)[-1]
            for key, value in expect["audit"].items():
                assert last.get(key, last["detail"].get(key)) == value, (
                    f"audit {key} is {last.get(key)}: {last}"
                )
        if "eligibility" in expect:
            got = {c.id: c.status for c in self.engine.eligibility(case, self.actor)}
            for cid, status in expect["eligibility"].items():
                assert got.get(cid) == status, (
                    f"criterion {cid} is {got.get(cid)}, expected {status}"
                )
        if "allowed" in expect or "refused" in expect:
            options = {o.trigger: o for o in self.engine.actions(case, self.actor)}
            for trig in _as_list(expect.get("allowed", [])):
                assert trig in options and options[trig].allowed, (
                    f"{trig} not allowed: {options.get(trig)}"
                )
            for trig in _as_list(expect.get("refused", [])):
                assert trig not in options or not options[trig].allowed, f"{trig} allowed"


def _as_list(x: Any) -> list[Any]:
    return x if isinstance(x, list) else [x]


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_scenario(path: Path, tmp_path: Path) -> None:
    spec = yaml.load(path.read_text("utf-8"), Loader=yaml.CSafeLoader)
    Journey(spec, tmp_path).run()
