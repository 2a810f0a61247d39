"""Solving: the exact backends behind :func:`tutormatch.solve`, and the plan they return."""

from tutormatch.solve._assignment import Assignment
from tutormatch.solve._backend import Backend, BackendResult, Capabilities
from tutormatch.solve._conflicts import Infeasibility
from tutormatch.solve._criteria import CRITERIA, Criterion
from tutormatch.solve._diff import PlanDiff, diff
from tutormatch.solve._evaluate import evaluate
from tutormatch.solve._explain import Explanation
from tutormatch.solve._network import Network
from tutormatch.solve._options import SolveOptions
from tutormatch.solve._pareto import pareto, plot_pareto
from tutormatch.solve._reasons import REASONS, UncoveredReason
from tutormatch.solve._solve import OBJECTIVES, SOLVERS, solve
from tutormatch.solve._status import Status
from tutormatch.solve._whatif import apply_lever

__all__ = [
    "CRITERIA",
    "OBJECTIVES",
    "REASONS",
    "SOLVERS",
    "Assignment",
    "Backend",
    "BackendResult",
    "Capabilities",
    "Criterion",
    "Explanation",
    "Infeasibility",
    "Network",
    "PlanDiff",
    "SolveOptions",
    "Status",
    "UncoveredReason",
    "apply_lever",
    "diff",
    "evaluate",
    "pareto",
    "plot_pareto",
    "solve",
]


def __dir__() -> list[str]:
    return list(__all__)
