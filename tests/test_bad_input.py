"""Hostile or accidental input ends in a positioned error: never a traceback, never code run."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.definition import yaml_source
from engine.definition.loader import Linter
from engine.definition.yaml_source import MAX_BYTES, read_yaml

from .conftest import EXAMPLE


def lint(tmp_path: Path, raw: bytes) -> list:
    path = tmp_path / "programme.yaml"
    path.write_bytes(raw)
    _programme, by_file = Linter().programme(path, tmp_path)
    return [p for ps in by_file.values() for p in ps]


def test_a_10_mb_file_is_refused_before_it_is_parsed(tmp_path: Path) -> None:
    raw = b"id: big\nsummary: " + b"x" * (10 * 1024 * 1024) + b"\n"
    problems = lint(tmp_path, raw)
    assert [(p.line, p.col, p.code) for p in problems] == [(1, 1, "too-large")]
    assert "10.0 MB" in problems[0].message
    assert len(raw) > MAX_BYTES


def test_a_billion_laughs_bomb_is_never_expanded() -> None:
    lines = [b'a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 10):
        lines.append(f"a{i}: &a{i} [{','.join([f'*a{i - 1}'] * 10)}]".encode())
    data, _positions, problems = read_yaml("bomb.yaml", b"\n".join(lines) + b"\n")
    assert {p.code for p in problems} == {"yaml-alias"}
    assert len(problems) == 90  # every alias named, at its own position
    # each alias became an empty value: ten levels of ten would be 10**10 strings
    assert data["a9"] == [None] * 10


def test_a_python_tag_is_refused_and_nothing_runs(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    raw = f"id: x\nname: !!python/object/apply:os.system ['touch {marker}']\n".encode()
    problems = lint(tmp_path, raw)
    tagged = [p for p in problems if p.code == "yaml-tag"]
    assert [(p.line, p.col) for p in tagged] == [(2, 7)]
    assert "!!python/object/apply:os.system" in tagged[0].message
    assert not marker.exists()


def test_yaml_1_1_surprises_stay_literal() -> None:
    data, _p, problems = read_yaml("x.yaml", b"a: 17:00\nb: 2022-01-31\nc: no\nd: 0o17\ne: 1_000\n")
    assert problems == []
    assert data == {"a": "17:00", "b": "2022-01-31", "c": "no", "d": "0o17", "e": "1_000"}


def test_a_tab_is_named_as_the_problem(tmp_path: Path) -> None:
    problems = lint(tmp_path, b"id: x\nworkflows:\n\tapplication: {}\n")
    assert [(p.line, p.col, p.code) for p in problems] == [(3, 1, "yaml-tab")]


def test_a_byte_order_mark_non_utf8_and_empty_file_are_each_positioned(tmp_path: Path) -> None:
    assert [(p.line, p.col, p.code) for p in lint(tmp_path, b"\xef\xbb\xbfid: x\n")] == [
        (1, 1, "byte-order-mark")
    ]
    assert [(p.line, p.col, p.code) for p in lint(tmp_path, b"id: x\nname: caf\xe9\n")] == [
        (2, 10, "not-utf8")
    ]
    assert [(p.line, p.col, p.code) for p in lint(tmp_path, b"")] == [(1, 1, "empty-file")]


@pytest.mark.parametrize("parser", ["libyaml", "python"])
def test_deep_nesting_is_refused_not_recursed(
    tmp_path: Path, parser: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Whichever parser PyYAML has, and whether or not its libyaml refuses deep nesting itself,
    # the commissioner is told the same thing at the line where the nesting is.
    if parser == "python":
        monkeypatch.setattr(yaml_source, "_Loader", yaml_source._PyLoader)
    raw = b"id: x\nname: " + b"[" * 100_000 + b"]" * 100_000 + b"\n"
    problems = lint(tmp_path, raw)
    assert [(p.code, p.line) for p in problems] == [("too-deep", 2)]


def test_a_missing_file_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    _programme, by_file = Linter().programme(tmp_path / "nope.yaml", tmp_path)
    [problems] = by_file.values()
    assert [p.code for p in problems] == ["unreadable"]


def test_a_demographic_group_member_that_is_a_mapping_is_a_problem_not_a_crash(
    tmp_path: Path,
) -> None:
    example = (EXAMPLE / "programmes" / "tiny.yaml").read_text("utf-8")
    bad = example + (
        "reporting:\n  demographics:\n    - question: org_type\n"
        "      groups:\n        small: [{charity: 1}]\n"
    )
    (tmp_path / "tiny.yaml").write_text(bad, "utf-8")
    _programme, by_file = Linter().programme(tmp_path / "tiny.yaml", EXAMPLE / "forms")
    problems = [p for ps in by_file.values() for p in ps]
    assert problems and all(p.line > 1 for p in problems)
