"""Property: whatever a commissioner does to a good programme, the loader answers `ok` or with
positioned problems. It never raises and never reports an internal error."""

from __future__ import annotations

import copy
import functools
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.definition.loader import Linter, default_forms_dir

from .conftest import EXAMPLE, PROGRAMMES

SOURCES = [
    *PROGRAMMES,
    EXAMPLE / "programmes" / "tiny.yaml",
    EXAMPLE / "programmes" / "link_service.yaml",
]

SETTINGS = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-10, 10**7)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from(["", "draft", "7 days", "2022-02-30", "x > ", "Europe/Nowhere", "*", "17:00"])
    | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)


def _paths(node: object, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*prefix, i))
    return out


@functools.cache
def _doc(source: Path) -> object:
    return yaml.load(source.read_text("utf-8"), Loader=yaml.CSafeLoader)


@functools.cache
def _linter(forms_dir: Path) -> Linter:
    return Linter()  # forms are not mutated here, so each is read once per run


def _check(path: Path, forms_dir: Path) -> None:
    _programme, by_file = _linter(forms_dir).programme(path, forms_dir, build=False)
    for problems in by_file.values():
        for p in problems:
            assert p.line >= 1 and p.col >= 1
            assert p.code and p.code != "internal"
            assert p.message


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
@SETTINGS
@given(data=st.data())
def test_structural_mutations_end_in_ok_or_positioned_problems(
    source: Path, data: st.DataObject, tmp_path: Path
) -> None:
    doc = copy.deepcopy(_doc(source))
    paths = _paths(doc)
    target = data.draw(st.sampled_from(paths[1:]), label="path")
    action = data.draw(st.sampled_from(["replace", "delete", "rename"]), label="action")
    parent = doc
    for step in target[:-1]:
        parent = parent[step]
    last = target[-1]
    if action == "replace":
        parent[last] = data.draw(values, label="value")
    elif action == "delete":
        del parent[last]
    elif isinstance(parent, dict):
        parent[data.draw(st.text(min_size=1, max_size=10), label="new key")] = parent.pop(last)
    out = tmp_path / source.name
    out.write_text(
        yaml.dump(doc, Dumper=yaml.CSafeDumper, allow_unicode=True, sort_keys=False), "utf-8"
    )
    _check(out, default_forms_dir(source))


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
@SETTINGS
@given(data=st.data())
def test_text_edits_end_in_ok_or_positioned_problems(
    source: Path, data: st.DataObject, tmp_path: Path
) -> None:
    raw = source.read_bytes()
    at = data.draw(st.integers(0, len(raw)), label="offset")
    cut = data.draw(st.integers(0, 20), label="cut")
    insert = data.draw(
        st.binary(max_size=8)
        | st.sampled_from(
            [b"\t", b": ", b"- ", b"&a", b"*a", b"!!python/name:os.system", b"\n  ", b'"']
        ),
        label="insert",
    )
    out = tmp_path / source.name
    out.write_bytes(raw[:at] + insert + raw[at + cut :])
    _check(out, default_forms_dir(source))


def test_a_list_among_a_reminders_recipients_is_a_positioned_problem(tmp_path: Path) -> None:
    # found by the property above: `to: [[]]` made the reminder checks raise
    source = EXAMPLE / "programmes" / "tiny.yaml"
    doc = copy.deepcopy(_doc(source))
    doc["reminders"][0]["to"] = [[]]
    out = tmp_path / source.name
    out.write_text(yaml.safe_dump(doc, sort_keys=False), "utf-8")
    _check(out, default_forms_dir(source))
    _programme, by_file = _linter(default_forms_dir(source)).programme(
        out, default_forms_dir(source), build=False
    )
    assert any(p for problems in by_file.values() for p in problems)  # told where, in words
