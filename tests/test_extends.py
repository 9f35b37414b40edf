"""Next year's round as a dozen lines: `extends:` merges, points at mistakes, and `new-round`."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from engine import Engine, ProgrammeInvalid, load_programme
from engine.cli import main
from engine.definition.extending import MAX_CHAIN
from engine.definition.loader import Linter, read_source
from engine.definition.next_round import a_year_on, next_year_name

from .clock import Clock
from .conftest import EXAMPLE, ROOT
from .databases import database_in

TINY = (EXAMPLE / "programmes" / "tiny.yaml").read_text("utf-8")


def tree(tmp_path: Path, base: str = TINY, **files: str) -> Path:
    """A programme folder: programmes/tiny.yaml (the example, or `base`), its forms, and `files`
    (name → text, `forms__x` for forms/x.yaml)."""
    (tmp_path / "programmes").mkdir(exist_ok=True)
    shutil.copytree(EXAMPLE / "forms", tmp_path / "forms", dirs_exist_ok=True)
    (tmp_path / "programmes" / "tiny.yaml").write_text(base, "utf-8")
    for name, text in files.items():
        folder, _, stem = name.rpartition("__")
        (tmp_path / (folder or "programmes") / f"{stem}.yaml").write_text(text, "utf-8")
    return tmp_path / "programmes"


def problems(path: Path) -> list:
    _programme, by_file = Linter().programme(path, build=False)
    return [p for ps in by_file.values() for p in ps]


def where(path: Path, text: str, needle: str) -> tuple[int, int]:
    """The line and column (1-based) at which `needle` first stands in `text`."""
    for number, line in enumerate(text.splitlines(), 1):
        if needle in line:
            return number, line.index(needle) + 1
    raise AssertionError(f"{needle!r} is not in {path}")


NEXT = """\
extends: tiny.yaml
id: tiny_grants_2023
funding:
  total: 120000
  lots:
    - {id: north, budget: 70000}
    - {id: south, remove: true}
timeline:
  - {id: briefing, label: Briefing for applicants, at: 2022-01-11T10:00, insert_after: opens}
  - {id: outcome, week_of: ~, at: 2022-02-10T12:00}
  - {id: closes, at: 2022-02-25T17:00}
workflows:
  application:
    states:
      - {id: rejected, label: Not funded this time}
reviews:
  - {id: quarterly, dates: [2022-06]}
"""


def test_an_extending_file_changes_only_what_it_says(tmp_path: Path) -> None:
    folder = tree(tmp_path, next=NEXT)
    data = load_programme(folder / "next.yaml").data
    assert data["id"] == "tiny_grants_2023"
    assert data["name"] == "Tiny community grants"  # not written: as the base has it
    assert data["funding"]["total"] == 120000  # a plain value is replaced
    assert data["funding"]["award"] == {"min": 5000, "max": 20000}  # a mapping merges by key
    assert [(lot["id"], lot["budget"]) for lot in data["funding"]["lots"]] == [("north", 70000)]
    timeline = {m["id"]: m for m in data["timeline"]}
    assert [m["id"] for m in data["timeline"]] == ["opens", "briefing", "outcome", "closes"]
    assert timeline["closes"]["at"] == "2022-02-25T17:00:00+00:00"
    assert timeline["closes"]["label"] == "Applications close"  # the rest of the item is kept
    assert "week_of" not in timeline["outcome"] and timeline["outcome"]["precision"] == "minute"
    states = {s["id"]: s["label"] for s in data["workflows"]["application"]["states"]}
    assert states == {"draft": "Draft", "submitted": "Submitted", "awarded": "Awarded",
                      "rejected": "Not funded this time"}  # fmt: skip
    assert len(data["workflows"]["application"]["transitions"]) == 3
    assert data["reviews"][0]["dates"] == [{"text": "2022-06", **data["reviews"][0]["dates"][0]}]
    assert len(data["reviews"][0]["dates"]) == 1  # a list of plain values is replaced whole


def test_a_list_without_ids_is_replaced_whole(tmp_path: Path) -> None:
    text = (
        "extends: tiny.yaml\nid: tiny_2023\npriorities:\n  - id: isolation\n    title: Loneliness\n"
    )
    text += "    outcomes: [Fewer people alone]\n"
    data = load_programme(tree(tmp_path, next=text) / "next.yaml").data
    assert data["priorities"][0]["outcomes"] == ["Fewer people alone"]
    assert data["priorities"][0]["title"] == "Loneliness"


def test_a_mistake_in_the_extending_file_is_reported_there(tmp_path: Path) -> None:
    text = NEXT.replace("total: 120000", "total: lots").replace("at: 2022-02-25", "at: 2022-02-30")
    folder = tree(tmp_path, next=text)
    found = {(Path(p.path).name, p.line, p.col, p.code) for p in problems(folder / "next.yaml")}
    assert ("next.yaml", *where(folder, text, "lots"), "wrong-type") in found
    assert ("next.yaml", *where(folder, text, "2022-02-30"), "bad-date") in found
    assert all(name == "next.yaml" for name, *_ in found), found


def test_a_mistake_in_the_base_is_reported_in_the_base(tmp_path: Path) -> None:
    base = TINY.replace("dest: awarded", "dest: awardd").replace(
        "rule: income < 1000000", "rule: income < 1000000 &&"
    )
    folder = tree(tmp_path, base, next=NEXT)
    result = CliRunner().invoke(main, ["validate", str(folder / "next.yaml")])
    assert result.exit_code == 1
    found = {(Path(p.path).name, p.line, p.col, p.code) for p in problems(folder / "next.yaml")}
    line, col = where(folder, base, "awardd")
    assert ("tiny.yaml", line, col, "unknown-state") in found
    line, _col = where(folder, base, "income < 1000000 &&")
    assert any(name == "tiny.yaml" and at == line for name, at, _c, _code in found), found
    assert all(name == "tiny.yaml" for name, *_ in found), found  # none in next.yaml
    assert f"{Path('programmes') / 'tiny.yaml'}:" in result.output or "tiny.yaml:" in result.output


def test_a_question_added_to_a_form_and_a_mistake_there(tmp_path: Path) -> None:
    form = """\
extends: tiny_eoi.yaml
pages:
  - id: organisation
    questions:
      - id: volunteers
        type: number
        label: How many volunteers do you have?
        insert_after: org_name
      - id: directors
        remove: true
"""
    programme = (
        "extends: tiny.yaml\nid: tiny_2023\nforms:\n  - {form: tiny_eoi, file: tiny_eoi_2023}\n"
    )
    folder = tree(tmp_path, next=programme, forms__tiny_eoi_2023=form)
    data = load_programme(folder / "next.yaml").data
    page = data["forms"][0]["definition"]["pages"][0]
    assert [q["id"] for q in page["questions"]] == ["org_name", "volunteers", "income", "org_type"]
    assert data["forms"][0]["definition"]["id"] == "tiny_eoi"  # the form keeps its id
    mistake = form.replace("type: number", "type: numbr")
    (tmp_path / "forms" / "tiny_eoi_2023.yaml").write_text(mistake, "utf-8")
    found = {(Path(p.path).name, p.line, p.col, p.code) for p in problems(folder / "next.yaml")}
    assert ("tiny_eoi_2023.yaml", *where(folder, mistake, "numbr"), "bad-value") in found


def test_a_form_question_id_already_asked_in_the_base_names_the_base(tmp_path: Path) -> None:
    form = "extends: tiny_eoi.yaml\npages:\n  - id: proposal\n    questions:\n"
    form += "      - {id: income, type: money, label: Income again}\n"
    folder = tree(tmp_path, forms__tiny_eoi_2023=form)
    _src, _info, found = Linter().form(tmp_path / "forms" / "tiny_eoi_2023.yaml")
    dup = next(p for p in found if p.code == "duplicate-id")
    assert dup.path.endswith("tiny_eoi_2023.yaml") and "tiny_eoi.yaml" in dup.message
    assert folder


@pytest.mark.parametrize(
    ("files", "code", "words"),
    [
        ({"next": "extends: next.yaml\nid: x\n"}, "extends-cycle", "circle"),
        (
            {"next": "extends: other.yaml\nid: x\n", "other": "extends: next.yaml\nid: y\n"},
            "extends-cycle",
            "circle",
        ),
        ({"next": "extends: /etc/passwd.yaml\nid: x\n"}, "extends-outside", "top of the disk"),
        ({"next": "extends: ../../elsewhere.yaml\nid: x\n"}, "extends-outside", "outside"),
        ({"next": "extends: tinny.yaml\nid: x\n"}, "extends-missing", 'did you mean "tiny.yaml"'),
        ({"next": "extends: tiny.yaml\nname: Again\n"}, "extends-same-id", "its own id"),
        (
            {"next": "extends: tiny.yaml\nid: x\ntimeline:\n  - {id: open, remove: true}\n"},
            "extends-remove",
            'did you mean "opens"',
        ),
        (
            {
                "next": "extends: tiny.yaml\nid: x\ntimeline:\n  - {id: a, label: A, insert_after: b}\n"
            },
            "extends-place",
            'there is no "b"',
        ),
    ],
)
def test_extends_is_refused_in_words(tmp_path: Path, files: dict, code: str, words: str) -> None:
    folder = tree(tmp_path, **files)
    found = [p for p in problems(folder / "next.yaml") if p.code == code]
    assert found, problems(folder / "next.yaml")
    assert words in found[0].message
    assert found[0].line >= 1 and "Traceback" not in found[0].message


def test_a_chain_longer_than_the_limit_is_refused(tmp_path: Path) -> None:
    files = {"r0": "extends: tiny.yaml\nid: r0\n"}
    for i in range(1, MAX_CHAIN + 2):
        files[f"r{i}"] = f"extends: r{i - 1}.yaml\nid: r{i}\n"
    folder = tree(tmp_path, **files)
    assert not problems(folder / f"r{MAX_CHAIN - 1}.yaml")  # tiny + MAX_CHAIN files: fine
    found = problems(folder / f"r{MAX_CHAIN + 1}.yaml")
    assert [p.code for p in found] == ["extends-too-deep"]


def test_a_change_to_the_base_is_a_new_version(tmp_path: Path) -> None:
    folder = tree(tmp_path, next=NEXT)
    before = load_programme(folder / "next.yaml").version
    (folder / "tiny.yaml").write_text(TINY.replace("Round opens", "The round opens"), "utf-8")
    assert load_programme(folder / "next.yaml").version != before


def test_inspect_says_what_the_file_builds_on_and_changes(tmp_path: Path) -> None:
    folder = tree(tmp_path, next=NEXT)
    result = CliRunner().invoke(main, ["inspect", str(folder / "next.yaml")])
    assert result.exit_code == 0, result.output
    assert "builds on" in result.output and "tiny.yaml" in result.output
    assert "funding: total, lots" in result.output
    assert "timeline: changes outcome, closes; adds briefing" in result.output
    assert "lots" in result.output


# -- commission new-round ---------------------------------------------------------------


def test_dates_and_names_move_on_a_year() -> None:
    assert next_year_name("City grants 2022") == "City grants 2023"
    assert next_year_name("Fund 2022/23") == "Fund 2023/24"
    assert next_year_name("Wave 2") == "Wave 2"
    assert a_year_on("2022-01-31T17:00") == "2023-01-31T17:00"
    assert a_year_on("2024-02-29") == "2025-02-28"
    assert a_year_on("2022-05") == "2023-05"
    assert a_year_on("2017") == "2018"
    assert a_year_on("2022-02-07", week=True) == "2023-02-06"  # still a Monday


def liverpool_tree(tmp_path: Path) -> Path:
    (tmp_path / "programmes").mkdir()
    shutil.copy(ROOT / "programmes" / "liverpool.yaml", tmp_path / "programmes")
    shutil.copytree(ROOT / "forms", tmp_path / "forms")
    return tmp_path / "programmes"


def test_new_round_writes_a_dozen_lines_that_validate(tmp_path: Path) -> None:
    folder = liverpool_tree(tmp_path)
    run = CliRunner().invoke
    result = run(main, ["new-round", str(folder / "liverpool.yaml"), "--id", "liverpool_2023"])
    assert result.exit_code == 0, result.output
    text = (folder / "liverpool_2023.yaml").read_text("utf-8")
    assert text.startswith("# The next round of ")
    assert "extends: liverpool.yaml\nid: liverpool_2023\n" in text
    assert len(text.splitlines()) <= 25  # against the base's 1,400
    assert "{id: eoi_deadline, at: 2023-01-31T17:00}" in text
    assert "{id: eoi_outcome, week_of: 2023-02-06}" in text
    assert run(main, ["validate", str(folder / "liverpool_2023.yaml")]).exit_code == 0
    data = load_programme(folder / "liverpool_2023.yaml").data
    assert all(m["start"][:4] in ("2023", "2024") for m in data["timeline"])
    again = run(main, ["new-round", str(folder / "liverpool.yaml"), "--id", "liverpool_2023"])
    assert again.exit_code != 0 and "already exists" in again.output
    assert (folder / "liverpool_2023.yaml").read_text("utf-8") == text  # not overwritten


def test_new_round_moves_the_year_in_the_name_and_refuses_the_same_id(tmp_path: Path) -> None:
    folder = tree(tmp_path, TINY.replace("name: Tiny community grants", "name: Tiny grants 2022"))
    run = CliRunner().invoke
    same = run(main, ["new-round", str(folder / "tiny.yaml"), "--id", "tiny_grants"])
    assert same.exit_code != 0 and "id of its own" in same.output
    out = tmp_path / "rounds" / "round.yaml"
    made = run(
        main, ["new-round", str(folder / "tiny.yaml"), "--id", "tiny_2023", "--out", str(out)]
    )
    assert made.exit_code == 0, made.output
    text = out.read_text("utf-8")
    assert "extends: ../programmes/tiny.yaml\n" in text and "name: Tiny grants 2023" in text
    assert load_programme(out).name == "Tiny grants 2023"


def test_liverpool_next_round_with_a_later_deadline_and_more_money_publishes(
    tmp_path: Path,
) -> None:
    folder = liverpool_tree(tmp_path)
    CliRunner().invoke(
        main, ["new-round", str(folder / "liverpool.yaml"), "--id", "liverpool_2023"]
    )
    path = folder / "liverpool_2023.yaml"
    text = path.read_text("utf-8").replace("at: 2023-01-31T17:00", "at: 2023-02-03T17:00")
    path.write_text(text + "funding:\n  total: 840000\n", "utf-8")
    engine = Engine(database_in(tmp_path, "next"), clock=Clock("2023-01-05T10:00:00"))
    programme, new = engine.publish(path)
    assert new and programme.id == "liverpool_2023"
    assert programme.data["funding"]["total"] == 840000
    assert programme.data["funding"]["award"] == {"min": 50000, "max": 100000}
    deadline = programme.milestones["eoi_deadline"].span.start
    assert (deadline.year, deadline.month, deadline.day, deadline.hour) == (2023, 2, 3, 17)
    assert engine.programme("liverpool_2023").data["funding"]["total"] == 840000
    assert load_programme(folder / "liverpool.yaml").data["funding"]["total"] == 700000


def test_the_worked_example_in_the_docs_loads(tmp_path: Path) -> None:
    doc = (ROOT / "docs" / "next-round.md").read_text("utf-8")
    blocks = re.findall(r"```yaml\n# (\S+\.yaml)\n(.*?)```", doc, re.S)
    assert {name for name, _ in blocks} >= {"programmes/liverpool_2023.yaml"}
    folder = liverpool_tree(tmp_path)
    for name, body in blocks:
        (tmp_path / name).write_text(f"# {name}\n{body}", "utf-8")
    programme = load_programme(folder / "liverpool_2023.yaml")
    assert programme.id == "liverpool_2023"
    assert programme.data["funding"]["total"] > 700000
    src = read_source(folder / "liverpool_2023.yaml", "programme")
    assert src.extension is not None and not src.problems
    with pytest.raises(ProgrammeInvalid):
        (folder / "liverpool_2023.yaml").write_text(
            f"# x\n{blocks[0][1]}".replace("id: liverpool_2023", "id: liverpool_life_rooms_2022"),
            "utf-8",
        )
        load_programme(folder / "liverpool_2023.yaml")
