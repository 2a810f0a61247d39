"""tutormatch: assign Op@le tutors to establishments, to proven optimality.

>>> import tutormatch as tm
>>> plan = tm.solve(tm.example_problem())
>>> plan.status
<Status.OPTIMAL: 'optimal'>

Importing the package is cheap: each public name loads its module (and
pandas, numpy, the solvers) the first time it is read (PEP 562).
"""

import importlib
from typing import TYPE_CHECKING

from tutormatch.errors import (
    BackendUnavailableError,
    CRSError,
    InfeasibleError,
    InputError,
    SolveError,
    TutormatchError,
    TutormatchWarning,
)

if TYPE_CHECKING:
    from tutormatch import datasets, geo, io, model, report, scenarios, waves
    from tutormatch.datasets import example_frames, example_problem
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

__version__ = "0.5.0"

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

# The lazy lookup (PEP 562); through importlib so that no helper name joins the API.
__getattr__ = importlib.import_module("tutormatch._lazy").attach(
    __name__,
    {
        **{name: f"tutormatch.{name}" for name in ("datasets", "geo", "io", "model", "report")},
        **{name: f"tutormatch.{name}" for name in ("scenarios", "waves")},
        "example_frames": "tutormatch.datasets",
        "example_problem": "tutormatch.datasets",
        "CostModel": "tutormatch.model",
        "Problem": "tutormatch.model",
        "Scenario": "tutormatch.scenarios",
        "compare": "tutormatch.scenarios",
        "sweep": "tutormatch.scenarios",
        **dict.fromkeys(
            (
                "Assignment",
                "Criterion",
                "SolveOptions",
                "Status",
                "apply_lever",
                "diff",
                "evaluate",
                "pareto",
            ),
            "tutormatch.solve",
        ),
        "solve": "tutormatch.solve._solve",
        "WavePlan": "tutormatch.waves",
        "plan_waves": "tutormatch.waves",
        "repair": "tutormatch.waves",
    },
)[0]

# `tutormatch.solve` is both a subpackage and the main function. Importing the
# subpackage (cheap: its names are lazy too) binds its name here; removing that
# binding lets the lazy lookup give the function, as the eager imports did, and
# a later `import tutormatch.solve._x` finds the subpackage already loaded and
# leaves the name alone.
importlib.import_module("tutormatch.solve")
del globals()["solve"]


def __dir__() -> list[str]:
    return list(__all__)
