"""A low-code workflow and forms engine for commissioning programmes, driven by YAML.

The public API. Data flows one way (docs/architecture.md): files are read by `definition` into
the frozen `model`; `forms`, `timeline` and `rules` compute from the model; `runtime.Engine`
drives cases through `store`; `reporting`, `scheduler`, `web` and `cli` sit on top.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine.definition.loader import Linter, load_programme
from engine.errors import EngineError, Problem, ProgrammeInvalid
from engine.model import Form, Milestone, Programme, Question, State, Transition, Workflow

if TYPE_CHECKING:
    from engine.runtime import Actor, Engine

__all__ = [
    "Actor",
    "Engine",
    "EngineError",
    "Form",
    "Linter",
    "Milestone",
    "Problem",
    "Programme",
    "ProgrammeInvalid",
    "Question",
    "State",
    "Transition",
    "Workflow",
    "load_programme",
]


def __getattr__(name: str) -> Any:
    """`engine.Engine` and `engine.Actor`, imported on first use: checking a file needs no database."""
    if name in ("Engine", "Actor"):
        from engine import runtime

        return getattr(runtime, name)
    raise AttributeError(f"module 'engine' has no attribute {name!r}")
