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


class NotFound(EngineError):
    """A case, programme, form or action that does not exist."""


class ActionRefused(EngineError):
    """An action that may not be taken now; `reasons` says every reason why not."""

    def __init__(self, message: str, reasons: list[str] | None = None) -> None:
        self.reasons = reasons or []
        detail = "".join(f"\n- {r}" for r in self.reasons)
        super().__init__(f"{message}{detail}")
        self.message = message


class NotPermitted(ActionRefused):
    """The actor's role (or organisation) may not take this action or see this case."""


class AnswersInvalid(EngineError):
    """Answers that fail the form's rules; `errors` maps each question id to its messages."""

    def __init__(
        self, form_title: str, errors: dict[str, list[str]], labels: dict[str, str] | None = None
    ) -> None:
        self.errors = errors
        labels = labels or {}
        lines = "".join(f"\n- {labels.get(q, q)} — {m}" for q, ms in errors.items() for m in ms)
        super().__init__(f"some answers to {form_title} need correcting:{lines}")


class StaleCase(EngineError):
    """The case changed after the actor looked at it; their action was not taken."""


class EmailTaken(EngineError):
    """An account already uses this email address."""


class DatabaseError(EngineError):
    """The database cannot be used as it is: busy, read-only, or from another version."""


class Busy(DatabaseError):
    """Another process holds a lock this one asked for without waiting (`one_at_a_time`)."""


class ConfigError(EngineError):
    """The deployment's settings are missing or contradict each other (`commission doctor`)."""
