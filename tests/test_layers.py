"""The layers are a contract that fails the build: import-linter refuses an upward import."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ROOT

LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    """Run the project's contract (pyproject.toml) over the `engine` package found in `tree`."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--config", str(tree / "pyproject.toml")],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
    )


@pytest.fixture(scope="module")
def copy_of_engine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the engine's Python files and the contract, to break on purpose."""
    tree = tmp_path_factory.mktemp("tree")
    shutil.copytree(ROOT / "engine", tree / "engine", ignore=shutil.ignore_patterns("static", "templates", "schemas", "__pycache__"))  # fmt: skip
    shutil.copy(ROOT / "pyproject.toml", tree / "pyproject.toml")
    return tree


def test_the_engine_keeps_its_layers() -> None:
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout
    assert "BROKEN" not in result.stdout


@pytest.mark.parametrize(
    ("module", "bad_import", "contract", "says"),
    [
        # the store learns about the runtime above it
        ("store/database.py", "from engine.runtime import Engine", "Data flows one way", "engine.store.database -> engine.runtime"),
        # the model learns how files are read
        ("model.py", "from engine.definition.loader import load_programme", "Data flows one way", "engine.model -> engine.definition.loader"),
        # KPIs read the database themselves
        ("reporting/kpis.py", "import sqlite3", "Only the store holds SQL", "engine.reporting.kpis -> sqlite3"),
        # the runtime reaches for the request
        ("runtime/engine.py", "from flask import request", "Only the web app imports Flask", "engine.runtime.engine -> flask"),
    ],
)  # fmt: skip
def test_a_deliberate_bad_import_fails_the_contract(
    copy_of_engine: Path, module: str, bad_import: str, contract: str, says: str
) -> None:
    path = copy_of_engine / "engine" / module
    original = path.read_text("utf-8")
    # after the module docstring and `from __future__`, where an import would really be written
    path.write_text(original + f"\n{bad_import}  # noqa\n", "utf-8")
    try:
        result = lint_imports(copy_of_engine)
    finally:
        path.write_text(original, "utf-8")
    assert result.returncode == 1
    broken = result.stdout.split("Broken contracts", 1)[1]
    assert contract in broken
    assert says in broken
