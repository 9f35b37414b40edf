"""`commission case …`: start, answer, act on, show and look at the history of cases."""

from __future__ import annotations

import json
from pathlib import Path
from zoneinfo import ZoneInfo

import click

from engine.cli.main import (
    as_option,
    db_option,
    fail,
    json_option,
    main,
    open_engine,
    parse_actor,
    show,
)
from engine.dates import limit_in_words
from engine.errors import EngineError, ProgrammeInvalid


@main.group()
def case() -> None:
    """Start, fill in, act on and look at cases."""


def _case_text(view, actions=None) -> str:
    lines = [
        f"{view.reference} ({view.workflow}) — {view.state_label} [{view.state}], revision {view.revision}"
    ]
    if view.organisation:
        lines.append(
            f"  organisation: {view.organisation}" + (f", role {view.role}" if view.role else "")
        )
    for opt in actions or []:
        mark = "can" if opt.allowed else "cannot"
        lines.append(f"  {mark} {opt.trigger}: {opt.label}")
        lines.extend(f"      - {r}" for r in opt.reasons)
    return "\n".join(lines)


@case.command("start")
@click.argument("programme")
@click.argument("workflow")
@as_option
@click.option("--organisation", help="The organisation the case is for (defaults to the actor's).")
@click.option("--role", "applicant_role", help="The role applied in, e.g. lead or partner.")
@click.option("--lot", help="The lot applied for.")
@click.option("--subject", help="For a case about a person: a pseudonymous reference.")
@db_option
@json_option
def case_start(programme: str, workflow: str, actor_text: str, organisation: str | None,
               applicant_role: str | None, lot: str | None, subject: str | None, db_path: str, as_json: bool) -> None:  # fmt: skip
    """Open a new case of a workflow."""
    try:
        view = open_engine(db_path).start_case(programme, workflow, parse_actor(actor_text), organisation=organisation,
                                           role=applicant_role, lot=lot, subject=subject)  # fmt: skip
    except EngineError as exc:
        fail(exc)
    show(view.as_dict(), as_json, _case_text(view))


@case.command("answer")
@click.argument("case_ref")
@click.argument("form")
@click.option("--answers", "answers_text", help="The answers as a JSON object.")
@click.option("--file", "answers_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A JSON or YAML file holding the answers.")  # fmt: skip
@click.option(
    "--record", type=int, help="For a repeatable form: the record to change (default: a new one)."
)
@as_option
@db_option
@json_option
def case_answer(case_ref: str, form: str, answers_text: str | None, answers_file: Path | None,
                record: int | None, actor_text: str, db_path: str, as_json: bool) -> None:  # fmt: skip
    """Save answers to one of a case's forms."""
    if answers_file:
        from engine.definition.yaml_source import read_yaml

        answers, _pos, problems = read_yaml(str(answers_file), answers_file.read_bytes())
        if problems:
            fail(ProgrammeInvalid(problems))
    else:
        try:
            answers = json.loads(answers_text or "{}")
        except json.JSONDecodeError as exc:
            raise click.BadParameter(
                f"not JSON: {exc.msg} at character {exc.pos}", param_hint="--answers"
            ) from None
    if not isinstance(answers, dict):
        raise click.BadParameter("answers must be an object of question id to answer")
    try:
        view = open_engine(db_path).save_answers(
            case_ref, form, answers, parse_actor(actor_text), record=record
        )
    except EngineError as exc:
        fail(exc)
    show(view.as_dict(), as_json, _case_text(view))


@case.command("act")
@click.argument("case_ref")
@click.argument("trigger")
@as_option
@click.option("--amount", type=int, help="For an award or a payment: the amount in whole pounds.")
@click.option("--lot", help="For an award: the lot.")
@click.option("--reason", help="Why, where the action needs a reason.")
@click.option("--expect-state", help="Refuse if the case is no longer in this state.")
@db_option
@json_option
def case_act(case_ref: str, trigger: str, actor_text: str, amount: int | None, lot: str | None,
             reason: str | None, expect_state: str | None, db_path: str, as_json: bool) -> None:  # fmt: skip
    """Take an action on a case (every reason is given if it cannot be taken)."""
    try:
        view = open_engine(db_path).act(case_ref, trigger, parse_actor(actor_text), amount=amount, lot=lot,
                                    reason=reason, expected_state=expect_state)  # fmt: skip
    except EngineError as exc:
        fail(exc)
    show(view.as_dict(), as_json, _case_text(view))


@case.command("show")
@click.argument("case_ref")
@as_option
@db_option
@json_option
def case_show(case_ref: str, actor_text: str, db_path: str, as_json: bool) -> None:
    """Show a case, the actions open to you now and its eligibility."""
    engine = open_engine(db_path)
    actor = parse_actor(actor_text)
    try:
        view = engine.case(case_ref, actor)
        actions = engine.actions(case_ref, actor)
        criteria = engine.eligibility(case_ref, actor)
        levels = engine.service_levels(case_ref, actor)
    except EngineError as exc:
        fail(exc)
    data = {
        **view.as_dict(),
        "actions": [a.__dict__ for a in actions],
        "eligibility": [c.__dict__ for c in criteria],
        "time_limits": [
            {**r.__dict__, "due": r.due.isoformat() if r.due else None} for r in levels
        ],
    }
    text = _case_text(view, actions)
    if criteria:
        text += "\n  eligibility:\n" + "\n".join(
            f"    {c.status:>14}  {c.text}" + (f" — {c.message}" if c.message else "")
            for c in criteria
        )
    if levels:  # due times on the programme's wall clock, as its people read them
        tz = ZoneInfo(engine.programme(view.programme_id, view.version).timezone)
        text += "\n  time limits:\n" + "\n".join(
            f"    {r.status:>14}  {r.title}"
            + (f" (due by {limit_in_words(r.due, tz)})" if r.due else "")
            for r in levels
        )
    show(data, as_json, text)


@case.command("history")
@click.argument("case_ref")
@as_option
@db_option
@json_option
def case_history(case_ref: str, actor_text: str, db_path: str, as_json: bool) -> None:
    """Show a case's audit log: who did what, when."""
    try:
        events = open_engine(db_path).history(case_ref, parse_actor(actor_text))
    except EngineError as exc:
        fail(exc)
    lines = [
        f"{e['at'][:19]}  {e['role']:<12} {e['action']:<24} {e['from'] or '-'} -> {e['to'] or '-'}"
        for e in events
    ]
    show(events, as_json, "\n".join(lines))
