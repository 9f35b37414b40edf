"""The reference is generated from the schemas and must never drift from them."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner

from engine.cli import main
from engine.definition.docs import render_reference
from engine.definition.loader import Linter

from .conftest import EXAMPLE, ROOT

SCHEMAS = ["programme", "form"]


def test_the_committed_reference_matches_the_schemas() -> None:
    committed = (ROOT / "docs" / "programme-file.md").read_text("utf-8")
    assert committed == render_reference(EXAMPLE), "run `commission docs` and commit the result"


def _properties(schema: dict, path: str = ""):
    for key, sub in schema.get("properties", {}).items():
        yield f"{path}{key}", sub
        target = sub.get("items", sub) if sub.get("type") == "array" else sub
        if isinstance(target, dict):
            yield from _properties(target, f"{path}{key}.")


@pytest.mark.parametrize("name", SCHEMAS)
def test_every_property_has_a_description_and_typos_are_caught(name: str) -> None:
    schema = json.loads(
        (ROOT / "engine" / "definition" / "schemas" / f"{name}.schema.json").read_text()
    )
    objects = [schema, *schema["$defs"].values()]
    for obj in objects:
        for key, sub in _properties(obj):
            assert sub.get("description"), f"{name}: {key} has no description"
    for obj in objects:
        stack = [obj]
        while stack:
            node = stack.pop()
            if isinstance(node, dict):
                if node.get("type") == "object" and "properties" in node:
                    assert node.get("additionalProperties") is False, node.get("description")
                stack.extend(node.values())
            elif isinstance(node, list):
                stack.extend(node)


@pytest.mark.parametrize("name", SCHEMAS)
def test_every_key_appears_in_the_reference(name: str) -> None:
    text = render_reference(EXAMPLE)
    schema = json.loads(
        (ROOT / "engine" / "definition" / "schemas" / f"{name}.schema.json").read_text()
    )
    for obj in [schema, *schema["$defs"].values()]:
        for key, _sub in _properties(obj):
            assert f"| `{key.rsplit('.', 1)[-1]}` |" in text, key


def test_the_worked_example_is_a_valid_programme() -> None:
    programme, by_file = Linter().programme(EXAMPLE / "programmes" / "tiny.yaml")
    assert not any(by_file.values()), by_file
    assert programme is not None and programme.id == "tiny_grants"


@pytest.mark.parametrize(
    "path", sorted((EXAMPLE / "programmes").glob("*.yaml")), ids=lambda p: p.stem
)
def test_every_example_programme_validates_clean(path) -> None:
    _programme, by_file = Linter().programme(path)
    assert not any(by_file.values()), by_file


def test_every_yaml_block_in_the_docs_is_a_valid_programme_or_form(tmp_path) -> None:
    blocks = [
        block
        for doc in sorted((ROOT / "docs").glob("*.md"))
        for block in re.findall(r"```yaml\n(.*?)```", doc.read_text("utf-8"), re.S)
    ]
    assert blocks, "the docs show no YAML"
    for n, block in enumerate(blocks):
        if re.search(r"^extends: ", block, re.M):
            continue  # builds on a shipped programme: tests/test_extends.py checks it beside it
        named = re.search(r"^id: (\w+)$", block, re.M)  # a form's file is named for its id
        path = tmp_path / str(n) / f"{named.group(1) if named else 'block'}.yaml"
        path.parent.mkdir()
        path.write_text(block, "utf-8")
        if "\npages:" in block:
            problems = Linter().form(path)[2]
        else:
            problems = [
                p for ps in Linter().programme(path, EXAMPLE / "forms")[1].values() for p in ps
            ]
        assert not problems, (n, [str(p) for p in problems])


def test_every_command_has_help() -> None:
    runner = CliRunner()
    for command in main.commands:
        result = runner.invoke(main, [command, "--help"])
        assert result.exit_code == 0
        assert len(result.output) > 80, command
