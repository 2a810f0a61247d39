"""tutormatch: assign Op@le tutors to establishments, to proven optimality.

>>> import tutormatch as tm
>>> plan = tm.solve(tm.example_problem())
>>> plan.status
<Status.OPTIMAL: 'optimal'>
"""

from tutormatch import datasets, errors, geo, io, model, report, scenarios
from tutormatch.datasets import example_frames, example_problem
from tutormatch.errors import (
    BackendUnavailableError,
    CRSError,
    InfeasibleError,
    InputError,
    SolveError,
    TutormatchError,
    TutormatchWarning,
)
from tutormatch.model import Problem
from tutormatch.scenarios import Scenario, compare, sweep
from tutormatch.solve import Assignment, SolveOptions, Status, evaluate, solve

__version__ = "0.1.0"

__all__ = [
    "Assignment",
    "BackendUnavailableError",
    "CRSError",
    "InfeasibleError",
    "InputError",
    "Problem",
    "Scenario",
    "SolveError",
    "SolveOptions",
    "Status",
    "TutormatchError",
    "TutormatchWarning",
    "__version__",
    "compare",
    "datasets",
    "errors",
    "evaluate",
    "example_frames",
    "example_problem",
    "geo",
    "io",
    "model",
    "report",
    "scenarios",
    "solve",
    "sweep",
]


def __dir__() -> list[str]:
    return list(__all__)
