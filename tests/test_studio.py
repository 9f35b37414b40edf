"""The programme studio's engine side: drafts opened from a published version, saved with who and
when, checked with the linter's own messages, and published (or refused) with an audit entry."""

from __future__ import annotations

import pytest

from engine import Engine
from engine.errors import ActionRefused, NotFound
from engine.runtime import Actor

from .clock import Clock
from .conftest import EXAMPLE, account

TINY = EXAMPLE / "programmes" / "tiny.yaml"
MAIN = "programmes/tiny.yaml"
CLEO = Actor("commissioner", "cleo@example.org")
ELSEWHERE = Actor("commissioner", "other@example.org", programmes=frozenset({"another"}))


@pytest.fixture
def engine(database: str) -> Engine:
    eng = Engine(database, clock=Clock("2022-01-05T10:00:00"))
    eng.publish(TINY)
    return eng


def test_a_draft_starts_as_the_published_files(engine: Engine) -> None:
    draft_id = engine.open_draft("tiny_grants", CLEO)
    draft = engine.draft(draft_id, CLEO)
    assert draft["main_file"] == MAIN
    assert set(draft["files"]) == {MAIN, "forms/tiny_eoi.yaml"}
    assert draft["files"][MAIN] == TINY.read_text("utf-8")
    assert draft["created_by"] == draft["saved_by"] == CLEO.id
    assert engine.lint_draft(draft_id, CLEO) == {}
    # the same files make the same version as publishing from the command line
    assert engine.draft_programme(draft_id, CLEO).version == engine.programme("tiny_grants").version


def test_lint_names_the_mistake_where_it_is_typed(engine: Engine) -> None:
    draft_id = engine.open_draft("tiny_grants", CLEO)
    text = engine.draft(draft_id, CLEO)["files"][MAIN].replace("dest: awarded", "dest: awardd")
    problems = engine.lint_draft(draft_id, CLEO, {MAIN: text})[MAIN]
    assert [(p.code, p.path) for p in problems] == [("unknown-state", MAIN)]
    assert 'did you mean "awarded"' in problems[0].message
    line = text.splitlines().index("        dest: awardd") + 1
    assert problems[0].line == line
    # checking what is being typed saves nothing
    assert engine.lint_draft(draft_id, CLEO) == {}


def test_saving_twice_from_the_same_revision_is_refused(engine: Engine) -> None:
    draft_id = engine.open_draft("tiny_grants", CLEO)
    text = engine.draft(draft_id, CLEO)["files"][MAIN]
    assert engine.save_draft_file(draft_id, MAIN, text.replace("100000", "120000", 1), 1, CLEO) == 2
    with pytest.raises(ActionRefused, match="saved this draft at 10am on Wednesday 5 January 2022"):
        engine.save_draft_file(draft_id, MAIN, text + "\n# mine\n", 1, CLEO)
    assert "120000" in engine.draft(draft_id, CLEO)["files"][MAIN]


def test_publishing_is_refused_while_there_is_a_problem(engine: Engine) -> None:
    draft_id = engine.open_draft("tiny_grants", CLEO)
    text = engine.draft(draft_id, CLEO)["files"][MAIN]
    engine.save_draft_file(draft_id, MAIN, text.replace("dest: awarded", "dest: awardd"), 1, CLEO)
    with pytest.raises(ActionRefused, match="This draft has 1 problem: put it right") as refused:
        engine.publish_draft(draft_id, 2, CLEO)
    assert "awarded" in refused.value.reasons[0]
    assert len(engine.store.versions("tiny_grants")) == 1


def test_publishing_a_draft_makes_a_version_with_its_files_and_an_audit_entry(engine: Engine) -> None:  # fmt: skip
    draft_id = engine.open_draft("tiny_grants", CLEO)
    text = engine.draft(draft_id, CLEO)["files"][MAIN].replace("total: 100000", "total: 150000")
    engine.save_draft_file(draft_id, MAIN, text, 1, CLEO)
    programme, changes, compared = engine.draft_changes(draft_id, CLEO)
    assert compared is not None and compared.version == engine.programme("tiny_grants").version
    assert programme.data["funding"]["total"] == 150000
    assert changes and any("150,000" in c["sentence"] for c in changes)
    published, new = engine.publish_draft(draft_id, 2, CLEO)
    assert new and engine.programme("tiny_grants").version == published.version
    assert engine.store.version_files("tiny_grants", published.version)[MAIN] == text
    entry = engine.store.service_log(limit=1)[0]
    assert (entry["action"], entry["actor_id"], entry["programme_id"]) == (
        "programme published", CLEO.id, "tiny_grants")  # fmt: skip
    # the draft is closed: it cannot be saved or published again
    with pytest.raises(ActionRefused, match="published or discarded"):
        engine.save_draft_file(draft_id, MAIN, text, 3, CLEO)
    assert engine.store.drafts(["tiny_grants"]) == []


def test_next_round_is_a_small_file_that_publishes_as_a_new_programme(engine: Engine) -> None:
    lead = account(engine.store, "lead@example.org", "Lead", "commissioner", programme="tiny_grants")  # fmt: skip
    scoped = Actor("commissioner", "lead@example.org", programmes=frozenset({"tiny_grants"}))
    draft_id = engine.next_round_draft("tiny_grants", "tiny_grants_2023", scoped)
    draft = engine.draft(draft_id, scoped)
    new = draft["files"]["programmes/tiny_grants_2023.yaml"]
    assert "extends: tiny.yaml" in new and "2023-01-04T09:00" in new
    assert len(new.splitlines()) < 40
    programme, _new = engine.publish_draft(draft_id, 1, scoped)
    assert programme.id == "tiny_grants_2023"
    assert programme.milestones["opens"].span.start.year == 2023
    # the people of this year's round hold the same roles in next year's
    roles = {(r["user_id"], r["programme_id"]) for r in engine.store.staff_roles()}
    assert (lead, "tiny_grants_2023") in roles
    # this year's round is untouched
    assert engine.programme("tiny_grants").milestones["opens"].span.start.year == 2022


def test_a_next_round_needs_a_new_short_name(engine: Engine) -> None:
    with pytest.raises(ActionRefused, match="exists already"):
        engine.next_round_draft("tiny_grants", "tiny_grants", CLEO)
    with pytest.raises(ActionRefused, match="lower case letters"):
        engine.next_round_draft("tiny_grants", "Tiny 2023", CLEO)


def test_drafts_of_programmes_outside_a_role_are_not_there(engine: Engine) -> None:
    draft_id = engine.open_draft("tiny_grants", CLEO)
    with pytest.raises(NotFound):
        engine.draft(draft_id, ELSEWHERE)
    with pytest.raises(NotFound):
        engine.open_draft("tiny_grants", ELSEWHERE)
    with pytest.raises(NotFound):
        engine.publish_draft(draft_id, 1, ELSEWHERE)


def test_export_programme_writes_the_published_files(
    engine: Engine, database: str, tmp_path
) -> None:
    from click.testing import CliRunner

    from engine.cli import main

    out = tmp_path / "out"
    run = CliRunner().invoke(main, ["export-programme", "tiny_grants", "--to", str(out), "--db", database])  # fmt: skip
    assert run.exit_code == 0, run.output
    assert (out / MAIN).read_text("utf-8") == TINY.read_text("utf-8")
    assert (out / "forms" / "tiny_eoi.yaml").is_file()
    (out / MAIN).write_text("# mine\n", "utf-8")
    run = CliRunner().invoke(main, ["export-programme", "tiny_grants", "--to", str(out), "--db", database])  # fmt: skip
    assert run.exit_code != 0 and "were not written over" in run.output
    assert (out / MAIN).read_text("utf-8") == "# mine\n"
    run = CliRunner().invoke(main, ["export-programme", "nothing", "--to", str(out), "--db", database])  # fmt: skip
    assert "there is no published programme" in run.output


def test_edit_pressed_again_opens_the_draft_already_open(engine: Engine) -> None:
    """Pressing "Edit" twice (or coming back to it) opens the person's own open draft of the
    newest version, not a second one; someone else, or a newer published version, gets a new one."""
    first = engine.open_draft("tiny_grants", CLEO)
    assert engine.open_draft("tiny_grants", CLEO) == first
    other = Actor("commissioner", "dan@example.org")
    assert engine.open_draft("tiny_grants", other) != first
    text = engine.draft(first, CLEO)["files"][MAIN].replace("total: 100000", "total: 150000")
    engine.save_draft_file(first, MAIN, text, 1, CLEO)
    engine.publish_draft(first, 2, CLEO)
    # published: that draft is done, and the next press starts from the new version
    again = engine.open_draft("tiny_grants", CLEO)
    assert again != first and "total: 150000" in engine.draft(again, CLEO)["files"][MAIN]
    assert [d["id"] for d in engine.store.drafts(["tiny_grants"])].count(again) == 1
