"""Fail when requirements.lock no longer matches pyproject.toml (run by `make test`).

The lock is written by `make upgrade` (uv pip compile, universal, with hashes). This check needs
no network: every requirement pyproject.toml names (dependencies, the dev extra and the build
backend) must be pinned in the lock at a version its specifier allows, everything the lock says
came from pyproject.toml must still be named there, and every pin must carry hashes.
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)")
FROM_PYPROJECT = "(pyproject.toml)"


def wanted(pyproject: str) -> list[tuple[Requirement, bool]]:
    """Every requirement pyproject.toml names, and whether the lock is compiled from it.

    Runtime and dev requirements are the lock's input, so uv marks each "via … (pyproject.toml)";
    the build backend's are not compiled, only pinned.
    """
    data = tomllib.loads(pyproject)
    project = data.get("project", {})
    texts = [(t, True) for t in project.get("dependencies", [])]
    texts += [(t, True) for t in project.get("optional-dependencies", {}).get("dev", [])]
    texts += [(t, False) for t in data.get("build-system", {}).get("requires", [])]
    return [(Requirement(t), compiled) for t, compiled in texts]


def pinned(lock: str) -> dict[str, tuple[str, bool, bool]]:
    """Each locked package: its version, whether it has hashes, whether pyproject.toml asked for it."""
    found: dict[str, tuple[str, bool, bool]] = {}
    name = None
    for line in lock.splitlines():
        match = _PIN.match(line)
        if match:
            name = canonicalize_name(match.group(1))
            found[name] = (match.group(2), False, False)
        elif name is not None and line.strip().startswith("--hash="):
            version, _, direct = found[name]
            found[name] = (version, True, direct)
        elif name is not None and FROM_PYPROJECT in line:
            version, hashed, _ = found[name]
            found[name] = (version, hashed, True)
    return found


def problems(pyproject: str, lock: str) -> list[str]:
    """What is out of step between the two files, in words; empty when the lock matches."""
    locked = pinned(lock)
    out: list[str] = []
    names = set()
    for req, compiled in wanted(pyproject):
        name = canonicalize_name(req.name)
        names.add(name)
        if name not in locked:
            out.append(f"{req.name} is in pyproject.toml but not in requirements.lock")
            continue
        version, _hashed, direct = locked[name]
        if not req.specifier.contains(version, prereleases=True):
            out.append(f"{req.name} is locked at {version}, which pyproject.toml's {req} refuses")
        elif compiled and not direct:
            # pinned only because something else needs it: the lock was not made from this file
            out.append(
                f"{req.name} is in pyproject.toml but requirements.lock was not made from it"
            )
    for name, (version, hashed, direct) in sorted(locked.items()):
        if not hashed:
            out.append(f"{name}=={version} has no --hash in requirements.lock")
        if direct and name not in names:
            out.append(f"{name} is locked as asked for by pyproject.toml, which no longer names it")
    return out


def main() -> int:
    """Check the project's own files; print what to do when they disagree."""
    found = problems(
        (ROOT / "pyproject.toml").read_text("utf-8"),
        (ROOT / "requirements.lock").read_text("utf-8"),
    )
    for problem in found:
        print(f"requirements.lock: {problem}", file=sys.stderr)
    if found:
        print(
            "Run `make lock` to lock pyproject.toml's requirements again (`make upgrade` also takes newer versions).",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
