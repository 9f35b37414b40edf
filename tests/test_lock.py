"""Installs reproduce: requirements.lock pins, with hashes, exactly what pyproject.toml asks for."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

from .conftest import ROOT

_spec = importlib.util.spec_from_file_location("check_lock", ROOT / "scripts" / "check_lock.py")
assert _spec is not None and _spec.loader is not None
check_lock = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(check_lock)

PYPROJECT = (ROOT / "pyproject.toml").read_text("utf-8")
LOCK = (ROOT / "requirements.lock").read_text("utf-8")


def test_the_shipped_lock_matches_pyproject() -> None:
    assert check_lock.problems(PYPROJECT, LOCK) == []
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "check_lock.py")], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


def test_a_new_dependency_not_yet_locked_fails_the_check() -> None:
    edited = PYPROJECT.replace("dependencies = [\n", 'dependencies = [\n  "numpy>=1",\n', 1)
    assert check_lock.problems(edited, LOCK) == [
        "numpy is in pyproject.toml but not in requirements.lock"
    ]


def test_a_raised_minimum_the_lock_does_not_meet_fails_the_check() -> None:
    edited = PYPROJECT.replace('"PyYAML>=6.0"', '"PyYAML>=99"', 1)
    [problem] = check_lock.problems(edited, LOCK)
    assert problem.startswith("PyYAML is locked at ")
    assert "refuses" in problem


def test_a_dependency_dropped_from_pyproject_but_still_locked_fails_the_check() -> None:
    edited = "\n".join(
        line for line in PYPROJECT.splitlines() if not line.strip().startswith('"icalendar')
    )
    assert check_lock.problems(edited, LOCK) == [
        "icalendar is locked as asked for by pyproject.toml, which no longer names it"
    ]


def test_a_pin_without_hashes_fails_the_check() -> None:
    lines = LOCK.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("pyyaml=="))
    end = next(i for i in range(start + 1, len(lines)) if lines[i][:1].isalpha())
    version = lines[start].split("==")[1].split()[0]
    block = [f"pyyaml=={version}"] + [
        line for line in lines[start + 1 : end] if not line.strip().startswith("--hash=")
    ]
    unhashed = "\n".join(lines[:start] + block + lines[end:])
    assert check_lock.problems(PYPROJECT, unhashed) == [
        f"pyyaml=={version} has no --hash in requirements.lock"
    ]


def test_a_dependency_added_that_was_already_locked_for_another_still_needs_a_new_lock() -> None:
    # certifi is pinned because requests needs it; naming it ourselves changes what the lock is
    # made from, so an unchanged lock is stale
    assert "certifi==" in LOCK
    edited = PYPROJECT.replace("dependencies = [\n", 'dependencies = [\n  "certifi>=2024",\n', 1)
    assert check_lock.problems(edited, LOCK) == [
        "certifi is in pyproject.toml but requirements.lock was not made from it"
    ]
