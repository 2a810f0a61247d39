"""tutormatch: assign Op@le tutors to establishments, to proven optimality.

>>> import tutormatch as tm
>>> plan = tm.solve(tm.example_problem())
>>> plan.status
<Status.OPTIMAL: 'optimal'>
"""

from tutormatch import errors, geo, io, model, report, scenarios
from tutormatch.errors import (
    BackendUnavailableError,
    CRSError,
    InfeasibleError,
    InputError,
    SolveError,
    TutormatchError,
    TutormatchWarning,
)
from tutormatch.model import CostModel, Problem
from tutormatch.scenarios import example_frames, example_problem
from tutormatch.solve import Assignment, Criterion, SolveOptions, Status, evaluate, pareto, solve

__version__ = "0.1.0"

__all__ = [
    "Assignment",
    "BackendUnavailableError",
    "CRSError",
    "CostModel",
    "Criterion",
    "InfeasibleError",
    "InputError",
    "Problem",
    "SolveError",
    "SolveOptions",
    "Status",
    "TutormatchError",
    "TutormatchWarning",
    "__version__",
    "errors",
    "evaluate",
    "example_frames",
    "example_problem",
    "geo",
    "io",
    "model",
    "pareto",
    "report",
    "scenarios",
    "solve",
]


def __dir__() -> list[str]:
    return list(__all__)
