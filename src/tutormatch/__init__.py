"""tutormatch: assign Op@le tutors to establishments, to proven optimality.

>>> import tutormatch as tm
>>> plan = tm.solve(tm.example_problem())
>>> plan.status
<Status.OPTIMAL: 'optimal'>
"""

from tutormatch import datasets, errors, geo, io, model, report, scenarios, waves
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
from tutormatch.model import CostModel, Problem
from tutormatch.scenarios import Scenario, compare, sweep
from tutormatch.solve import (
    Assignment,
    Criterion,
    SolveOptions,
    Status,
    apply_lever,
    diff,
    evaluate,
    pareto,
    solve,
)
from tutormatch.waves import WavePlan, plan_waves, repair

__version__ = "0.2.0"

__all__ = [
    "Assignment",
    "BackendUnavailableError",
    "CRSError",
    "CostModel",
    "Criterion",
    "InfeasibleError",
    "InputError",
    "Problem",
    "Scenario",
    "SolveError",
    "SolveOptions",
    "Status",
    "TutormatchError",
    "TutormatchWarning",
    "WavePlan",
    "__version__",
    "apply_lever",
    "compare",
    "datasets",
    "diff",
    "errors",
    "evaluate",
    "example_frames",
    "example_problem",
    "geo",
    "io",
    "model",
    "pareto",
    "plan_waves",
    "repair",
    "report",
    "scenarios",
    "solve",
    "sweep",
    "waves",
]


def __dir__() -> list[str]:
    return list(__all__)
