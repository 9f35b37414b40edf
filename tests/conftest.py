"""Shared fixtures: paths to the shipped programmes and to the test fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture
def root() -> Path:
    """The repository root."""
    return ROOT


@pytest.fixture
def fixtures() -> Path:
    """tests/fixtures."""
    return FIXTURES
