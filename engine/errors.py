"""Small named errors; each carries sentences a commissioner or a user can act on."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Problem:
    """One mistake in a file, at a line and column, with a code and a plain sentence."""

    path: str
    line: int
    col: int
    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.col}: error[{self.code}]: {self.message}"

    def as_dict(self) -> dict[str, object]:
        """The problem as plain data, for `--json` output."""
        return {
            "path": self.path,
            "line": self.line,
            "col": self.col,
            "code": self.code,
            "message": self.message,
        }


class EngineError(Exception):
    """Base class of every error the engine raises on purpose."""


class ProgrammeInvalid(EngineError):
    """A programme or form file has mistakes; nothing of it was loaded."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems)
        super().__init__("\n".join(str(p) for p in self.problems))
