"""Shared paths: the repository, the shipped programmes and the documented example."""

from __future__ import annotations

import os
from pathlib import Path

from hypothesis import settings

# The default profile is deterministic (the same examples every run) so CI never flakes;
# HYPOTHESIS_PROFILE=deep explores thousands of fresh examples when hunting for bugs.
settings.register_profile("default", max_examples=40, derandomize=True)
settings.register_profile("deep", max_examples=2000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

ROOT = Path(__file__).resolve().parent.parent
PROGRAMMES = sorted((ROOT / "programmes").glob("*.yaml"))
EXAMPLE = ROOT / "docs" / "example"
