"""What publishing a new version changes, in words, and the open cases each change touches."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from engine import Engine, load_programme
from engine.cli import main
from engine.definition.diffing import changes
from engine.runtime import Actor

from .clock import Clock
from .conftest import EXAMPLE

TINY = EXAMPLE / "programmes" / "tiny.yaml"
COMMISSIONER = Actor("commissioner", "cleo")

# A round with a state more than tiny.yaml: cases can be put on hold from the draft.
ON_HOLD = [
    ("      - {id: submitted, label: Submitted}",
     "      - {id: submitted, label: Submitted}\n      - {id: on_hold, label: On hold}"),
    ("      - trigger: award\n",
     "      - trigger: pause\n        label: Put on hold\n        source: draft\n        dest: on_hold\n"
     "        by: [commissioner]\n      - trigger: resume\n        source: on_hold\n"
     "        dest: draft\n        by: [commissioner]\n      - trigger: award\n"),
]  # fmt: skip


def edited(tmp_path: Path, name: str, programme: list[tuple[str, str]] = (),
           form: list[tuple[str, str]] = ()) -> Path:  # fmt: skip
    """A copy of the worked example (its forms beside it) with some text changed."""
    folder = tmp_path / name
    shutil.copytree(EXAMPLE, folder)
    for path, edits in ((folder / "programmes" / "tiny.yaml", programme),
                        (folder / "forms" / "tiny_eoi.yaml", form)):  # fmt: skip
        text = path.read_text("utf-8")
        for old, new in edits:
            assert old in text, old
            text = text.replace(old, new)
        path.write_text(text, "utf-8")
    return folder / "programmes" / "tiny.yaml"


def said(tmp_path: Path, programme: list[tuple[str, str]] = (),
         form: list[tuple[str, str]] = ()) -> list[str]:  # fmt: skip
    """The sentences for the worked example changed as given."""
    new = load_programme(edited(tmp_path, "new", programme, form))
    return [c.sentence for c in changes(load_programme(TINY), new)]


def test_the_same_file_changes_nothing() -> None:
    tiny = load_programme(TINY)
    assert changes(tiny, tiny) == []


def test_a_moved_deadline_is_said_in_words_on_the_programme_clock(tmp_path: Path) -> None:
    found = said(tmp_path, [
        ("at: 2022-02-21T17:00", "at: 2022-02-28T17:00"),
        ("workflows:", "  - {id: results, label: Results published, at: 2022-06-01T12:30}\nworkflows:"),
    ])  # fmt: skip
    assert found == [
        'moves "Applications close" from 5pm on Monday 21 February 2022 to 5pm on Monday 28 February 2022',
        # British Summer Time: 11:30 UTC, but people read the clock on the wall
        'adds milestone "Results published" at 12:30pm on Wednesday 1 June 2022',
    ]


def test_a_timeline_change_names_the_open_cases_it_reaches(tmp_path: Path) -> None:
    new = load_programme(
        edited(tmp_path, "new", [("at: 2022-02-21T17:00", "at: 2022-02-28T17:00")])
    )
    [moved] = changes(load_programme(TINY), new)
    # the deadline is on submitting: it reaches drafts, never cases already sent
    assert (moved.kind, moved.workflow, moved.states) == (
        "milestone.moved",
        "application",
        ("draft",),
    )
    assert moved.about == {"milestone": "closes"}


def test_money_is_said_in_pounds_with_commas(tmp_path: Path) -> None:
    found = said(tmp_path, [
        ("total: 100000", "total: 1250000"),
        ("max: 20000", "max: 25000"),
        ("{id: south, name: South, budget: 50000}",
         "{id: south, name: South, budget: 70000}\n    - {id: east, name: East, budget: 30000}"),
    ])  # fmt: skip
    assert found == [
        "changes the total funding from £100,000 to £1,250,000",
        "changes the largest award from £20,000 to £25,000",
        'changes the budget of lot "South" from £50,000 to £70,000',
        'adds lot "East"',
    ]


def test_states_and_actions_added_renamed_and_guarded(tmp_path: Path) -> None:
    found = said(tmp_path, [
        *ON_HOLD,
        ("{id: submitted, label: Submitted}", "{id: submitted, label: Sent}"),
        ("        reason: true", "        reason: true\n        guard: income > 0"),
    ])  # fmt: skip
    assert found == [
        'renames state "Submitted" to "Sent"',
        'adds state "On hold"',
        'adds action "Put on hold" from "Draft" to "On hold"',
        'adds action "Resume" from "On hold" to "Draft"',
        'adds a condition to action "Reject"',
    ]


def test_a_removed_state_says_its_label_and_reaches_the_cases_in_it(tmp_path: Path) -> None:
    old = load_programme(edited(tmp_path, "old", ON_HOLD))
    found = changes(old, load_programme(TINY))
    assert [c.sentence for c in found] == [
        'removes state "On hold"',
        'removes action "Put on hold"',
        'removes action "Resume"',
    ]
    # each reaches the cases it leaves stranded: those on hold, and drafts that could be put on it
    assert [c.states for c in found] == [("on_hold",), ("draft",), ("on_hold",)]


def test_questions_and_pages_added_reworded_and_made_required(tmp_path: Path) -> None:
    old = load_programme(edited(tmp_path, "old", form=[
        ("        label: Describe your project\n", "        label: Describe your project\n        required: false\n"),
    ]))  # fmt: skip
    new = load_programme(edited(tmp_path, "new", form=[
        ("        label: Describe your project\n        word_limit: 500",
         "        label: Tell us about your project\n        word_limit: 300"),
        ("  - id: proposal\n    title: Your proposal\n    questions:\n",
         "  - id: proposal\n    title: Your project\n    questions:\n"
         "      - id: under_18s\n        type: yesno\n        label: Do you work with under-18s?\n"),
    ]))  # fmt: skip
    found = changes(old, new)
    assert [c.sentence for c in found] == [
        'renames page "Your proposal" to "Your project"',
        'adds question "Do you work with under-18s?" to page "Your project"',
        'rewords question "Describe your project" as "Tell us about your project"',
        'makes question "Tell us about your project" required',
        'changes the word limit of question "Tell us about your project" from 500 to 300',
    ]
    # a form is filled in while a draft: only drafts reach it
    assert {(c.workflow, c.states) for c in found} == {("application", ("draft",))}
    assert found[1].about == {"form": "tiny_eoi", "question": "under_18s"}


def test_eligibility_kpis_reminders_and_the_name(tmp_path: Path) -> None:
    found = said(tmp_path, [
        ("name: Tiny community grants", "name: Tiny community grants 2023\nsummary: Small grants."),
        ("text: Have an income under £1 million", "text: Have an income under £2 million"),
        ("timeline:", "  - {id: local, text: Work in the area, rule: 'org_type == \"charity\"'}\ntimeline:"),
        ("  - id: closing_soon\n", "  - id: closing_soon\n    if: income > 0\n"),
        ("kpis:\n  - id: people_reached", "kpis:\n  - id: people_helped"),
    ])  # fmt: skip
    assert found == [
        'renames the programme from "Tiny community grants" to "Tiny community grants 2023"',
        "adds a summary of the programme",
        'rewords eligibility criterion "Have an income under £1 million" as "Have an income under £2 million"',
        'adds eligibility criterion "Work in the area"',
        'changes reminder "Applications close in 7 days": the condition for sending it',
        'removes KPI "People reached"',
        'adds KPI "People reached"',
    ]


def _cases_on_hold(database: str, tmp_path: Path) -> tuple[Engine, list[str]]:
    """The round with "On hold" published, three drafts started, two of them put on hold."""
    engine = Engine(database, clock=Clock("2022-01-10T10:00"))
    engine.publish(edited(tmp_path, "old", ON_HOLD))
    refs = []
    for org in ("org_a", "org_b", "org_c"):
        view = engine.start_case("tiny_grants", "application", Actor("applicant", "ann", org))
        refs.append(view.reference)
    for ref in refs[:2]:
        engine.act(ref, "pause", COMMISSIONER)
    return engine, refs


def test_removing_a_state_touches_the_open_cases_in_it(database: str, tmp_path: Path) -> None:
    engine, refs = _cases_on_hold(database, tmp_path)
    found = {c["sentence"]: c for c in engine.what_publishing_changes(TINY)}
    removed = found['removes state "On hold"']
    assert removed["count"] == 2 and sorted(removed["cases"]) == sorted(refs[:2])
    assert removed["more"] == 0
    pause = found['removes action "Put on hold"']  # taken from a draft: the one draft left
    assert (pause["count"], pause["cases"]) == (1, [refs[2]])


def test_the_references_listed_are_capped(database: str, tmp_path: Path, monkeypatch) -> None:
    import engine.runtime.publishing as publishing

    engine, _refs = _cases_on_hold(database, tmp_path)
    monkeypatch.setattr(publishing, "SHOWN_CASES", 1)
    [removed] = [c for c in engine.what_publishing_changes(TINY) if c["kind"] == "state.removed"]
    assert removed["count"] == 2 and len(removed["cases"]) == 1 and removed["more"] == 1


def test_nothing_published_yet_is_not_a_list_of_changes(database: str) -> None:
    engine = Engine(database, clock=Clock("2022-01-10T10:00"))
    assert engine.changes_from_published(load_programme(TINY)) is None
    assert engine.what_publishing_changes(TINY) == []


def test_commission_diff_prints_the_sentences_and_the_cases(database: str, tmp_path: Path) -> None:
    engine, refs = _cases_on_hold(database, tmp_path)
    run = CliRunner().invoke
    result = run(main, ["diff", str(TINY), "--db", database])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "Publishing this file changes Tiny community grants in 3 ways:"
    at = lines.index('  - removes state "On hold"')
    assert lines[at + 1].startswith("    touches 2 open cases: ")
    assert set(lines[at + 1].split(": ")[1].split(", ")) == set(refs[:2])
    as_json = json.loads(run(main, ["diff", str(TINY), "--db", database, "--json"]).stdout)
    assert [c["count"] for c in as_json["changes"]] == [2, 1, 2]
    assert engine.store.latest_version("tiny_grants") != load_programme(TINY).version  # unpublished


def test_commission_diff_says_when_there_is_nothing_to_compare(database: str) -> None:
    run = CliRunner().invoke
    first = run(main, ["diff", str(TINY), "--db", database])
    assert first.exit_code == 0
    assert "No version of Tiny community grants is published yet" in first.stdout
    run(main, ["publish", str(TINY), "--db", database])
    same = run(main, ["diff", str(TINY), "--db", database])
    assert "publishing it changes nothing" in same.stdout


def test_publish_prints_what_the_new_version_changes_first(database: str, tmp_path: Path) -> None:
    run = CliRunner().invoke
    first = run(main, ["publish", str(TINY), "--db", database])
    assert "changes" not in first.stdout  # a first version changes nothing that was there
    moved = edited(tmp_path, "new", [("at: 2022-02-21T17:00", "at: 2022-02-28T17:00")])
    result = run(main, ["publish", str(moved), "--db", database])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[:3] == [
        "Publishing this file changes Tiny community grants in 1 way:",
        '  - moves "Applications close" from 5pm on Monday 21 February 2022 to 5pm on Monday 28 February 2022',
        "    touches no open cases",
    ]
    assert lines[-1].endswith("published")


@pytest.mark.parametrize("name", ["liverpool.yaml", "bradford.yaml", "llr_hubs.yaml"])
def test_every_shipped_programme_compared_with_itself_changes_nothing(name: str) -> None:
    from .conftest import ROOT

    programme = load_programme(ROOT / "programmes" / name)
    assert changes(programme, programme) == []
