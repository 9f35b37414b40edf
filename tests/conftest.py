"""Shared paths: the repository, the shipped programmes and the documented example."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

from .databases import KIND, ON_POSTGRES, database_in, drop_all, let_go

# The default profile is deterministic (the same examples every run) so CI never flakes;
# HYPOTHESIS_PROFILE=deep explores thousands of fresh examples when hunting for bugs.
settings.register_profile("default", max_examples=40, derandomize=True)
settings.register_profile("deep", max_examples=2000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

ROOT = Path(__file__).resolve().parent.parent
PROGRAMMES = sorted((ROOT / "programmes").glob("*.yaml"))
EXAMPLE = ROOT / "docs" / "example"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "sqlite_only: makes sense on SQLite alone (a file, its locks)"
    )
    config.addinivalue_line("markers", "postgres_only: makes sense on PostgreSQL alone")


def pytest_report_header() -> str:
    return f"database: {KIND}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Leave out, and count, the tests marked for the other database."""
    other = "sqlite_only" if ON_POSTGRES else "postgres_only"
    left_out = [item for item in items if item.get_closest_marker(other)]
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = [item for item in items if not item.get_closest_marker(other)]


@pytest.fixture(scope="session", autouse=True)
def _schemas() -> Iterator[None]:
    yield
    drop_all()


@pytest.fixture(autouse=True)
def _connections() -> Iterator[None]:
    yield
    let_go()


@pytest.fixture
def database(tmp_path: Path) -> str:
    """This test's database: an SQLite file, or a PostgreSQL schema of its own."""
    return database_in(tmp_path)


def refusal(tmp_path: Path, folder: Path, name: str, old: str, new: str) -> str:
    """What loading a copy of `folder`'s programme `name` (forms beside it) with `old` changed to
    `new` is refused with."""
    from engine import ProgrammeInvalid, load_programme

    shutil.copytree(folder, tmp_path / "p")
    path = tmp_path / "p" / name
    text = path.read_text("utf-8")
    assert old in text
    path.write_text(text.replace(old, new), "utf-8")
    with pytest.raises(ProgrammeInvalid) as caught:
        load_programme(path, tmp_path / "p" / "forms")
    return str(caught.value)


def account(store: Any, email: str, name: str, role: str, organisation: str | None = None,
            at: str = "2022-01-01", *, password_hash: str | None = None,
            programme: str | None = None) -> int:  # fmt: skip
    """An account as an administrator sets one up: staff hold their role in `programme` (every
    programme when None), a caseworker's in their organisation; applicants just have the account."""
    user_id = store.create_user(email, password_hash, name, role, organisation, at)
    if role != "applicant":
        store.grant_role(user_id, role, programme, organisation if role == "caseworker" else None, "test", at)  # fmt: skip
    return user_id
