"""Every kind of mistake a commissioner can make is reported with its exact code and position.

Each file under tests/broken/ carries its expected problems in `# expect: LINE:COL code` lines.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from engine.definition.loader import Linter

from .conftest import EXAMPLE

BROKEN = Path(__file__).resolve().parent / "broken"
FORMS = EXAMPLE / "forms"
EXPECT = re.compile(rb"^# expect: (\d+):(\d+) ([a-z0-9-]+)$", re.M)
FILES = sorted(BROKEN.glob("*/*.yaml"))


def expectations(path: Path) -> tuple[set[tuple[int, int, str]], bool]:
    raw = path.read_bytes()
    wanted = {(int(a), int(b), c.decode()) for a, b, c in EXPECT.findall(raw)}
    return wanted, b"# expect-some:" in raw


def problems_of(path: Path) -> list:
    linter = Linter()
    if path.parent.name == "forms":
        return linter.form(path)[2]
    _programme, by_file = linter.programme(path, FORMS)
    return [p for ps in by_file.values() for p in ps]


def test_the_corpus_covers_at_least_25_kinds_of_mistake() -> None:
    codes = {code for f in FILES for (_l, _c, code) in expectations(f)[0]}
    assert len(FILES) >= 25
    assert len(codes) >= 25, sorted(codes)


@pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_broken_file_is_reported_at_the_right_place(path: Path) -> None:
    wanted, partial = expectations(path)
    assert wanted, f"{path} has no '# expect:' line"
    found = {(p.line, p.col, p.code) for p in problems_of(path)}
    if partial:
        assert wanted <= found
    else:
        assert found == wanted


@pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_every_message_names_the_file_and_reads_as_a_sentence(path: Path) -> None:
    for p in problems_of(path):
        text = str(p)
        assert text.startswith(f"{p.path}:{p.line}:{p.col}: error[{p.code}]: ")
        assert len(p.message) > 15 and "Traceback" not in p.message
