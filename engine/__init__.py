"""A low-code workflow and forms engine for commissioning programmes, driven by YAML."""

from .errors import EngineError, Problem, ProgrammeInvalid
from .loader import Linter, load_programme
from .model import Form, Milestone, Programme, Question, State, Transition, Workflow

__all__ = [
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
