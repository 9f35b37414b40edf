"""A programme as a set of files held in memory: the files a published version was built from,
and a draft being edited in the browser.

Files are named as they sit in a deployment, `programmes/<name>.yaml` and `forms/<name>.yaml`.
To check or load them, they are written to a temporary folder of that shape and read by the same
`Linter` as `commission validate`, so the browser shows exactly the messages the command line
prints, naming the files as the commissioner knows them.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from engine.definition.extending import names_relative_to
from engine.definition.loader import Linter, Source, default_forms_dir, read_source
from engine.errors import EngineError, Problem, ProgrammeInvalid
from engine.model import Programme

FILE_NAME = re.compile(r"^(programmes|forms)/[A-Za-z0-9][A-Za-z0-9_.-]{0,80}\.ya?ml$")
MAX_FILES = 60  # a programme reads one file and its forms: tens, never hundreds
MAX_TOTAL_BYTES = 8 * 1024 * 1024  # each file is also bounded by the YAML reader


def check_names(files: Mapping[str, str], main: str) -> None:
    """Refuse a set of files that cannot be a programme's: bad names, too many, too big."""
    if main not in files:
        raise EngineError(f'there is no file "{main}" in this draft')
    if len(files) > MAX_FILES:
        raise EngineError(
            f"a draft can hold at most {MAX_FILES} files; remove the forms it no longer uses"
        )
    for name in files:
        if not FILE_NAME.match(name) or ".." in name:
            raise EngineError(
                f'"{name}" is not a file name a draft can hold: name it programmes/<name>.yaml '
                "or forms/<name>.yaml, with letters, numbers and underscores"
            )
    if sum(len(text.encode("utf-8", "replace")) for text in files.values()) > MAX_TOTAL_BYTES:
        raise EngineError(
            f"the draft's files come to more than {MAX_TOTAL_BYTES // 1_048_576} MB; "
            "a programme is tens of kilobytes, so check nothing was pasted twice"
        )


@contextmanager
def written_out(files: Mapping[str, str]) -> Iterator[Path]:
    """The files in a temporary folder shaped like a deployment, named from it while inside."""
    with tempfile.TemporaryDirectory(prefix="commission-draft-") as tmp:
        root = Path(tmp).resolve()
        (root / "programmes").mkdir()
        (root / "forms").mkdir()
        for name, text in files.items():
            (root / name).write_text(text, encoding="utf-8", errors="replace")
        with names_relative_to(root):
            yield root


def lint_files(files: Mapping[str, str], main: str) -> dict[str, list[Problem]]:
    """Every problem in the programme `main` and the files it reads, by file name."""
    check_names(files, main)
    with written_out(files) as root:
        _programme, by_file = Linter().programme(root / main, root / "forms", build=False)
    return {name: problems for name, problems in by_file.items() if problems}


def load_files(files: Mapping[str, str], main: str) -> Programme:
    """The programme the files make, or ProgrammeInvalid with every problem found."""
    check_names(files, main)
    with written_out(files) as root:
        programme, by_file = Linter().programme(root / main, root / "forms")
    if programme is None:
        raise ProgrammeInvalid([p for problems in by_file.values() for p in problems])
    return programme


def files_of(path: Path, forms_dir: Path | None = None) -> dict[str, str]:
    """The text of every file a programme file reads (itself, its bases, its forms and theirs),
    named as in a deployment; files it cannot read are left out (the checks name them)."""
    path = Path(path).resolve()
    forms_dir = Path(forms_dir).resolve() if forms_dir else default_forms_dir(path)
    root = path.parent.parent
    with names_relative_to(root):
        src = read_source(path, "programme")
        linter = Linter()
        linter.programme(path, forms_dir, build=False, src=src)
        return _files_read(linter, src, path)


def load_with_files(path: Path, forms_dir: Path | None = None) -> tuple[Programme, dict[str, str]]:
    """As `load_programme`, with the files it read (as `files_of` names them), in one reading."""
    src = read_source(path, "programme")
    linter = Linter()
    programme, by_file = linter.programme(path, forms_dir, src=src)
    if programme is None:
        raise ProgrammeInvalid([p for problems in by_file.values() for p in problems])
    return programme, _files_read(linter, src, path)


def _files_read(linter: Linter, src: Source, path: Path) -> dict[str, str]:
    """The programme file and every form the linter read, with what each builds on."""
    out: dict[str, str] = {}
    _keep(out, src, f"programmes/{path.name}")
    for form in linter.forms_read():
        _keep(out, form, f"forms/{Path(form.fname).name}")
    return out


def _keep(out: dict[str, str], src: Source, own_name: str) -> None:
    """A file read, and every file it builds on, under their names in a deployment."""
    if src.text is None:
        return
    out[own_name] = src.text
    for name, raw in src.extension.raws if src.extension else []:
        folder = "forms" if own_name.startswith("forms/") else "programmes"
        fixed = name if FILE_NAME.match(name) else f"{folder}/{os.path.basename(name)}"
        out.setdefault(fixed, raw.decode("utf-8", "replace"))
