"""Solving: the exact backends behind :func:`tutormatch.solve`, and the plan they return."""

from typing import TYPE_CHECKING

from tutormatch._lazy import attach as _attach

if TYPE_CHECKING:
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


__getattr__, __dir__ = _attach(
    __name__,
    {
        "Assignment": "tutormatch.solve._assignment",
        "Backend": "tutormatch.solve._backend",
        "BackendResult": "tutormatch.solve._backend",
        "CRITERIA": "tutormatch.solve._criteria",
        "Capabilities": "tutormatch.solve._backend",
        "Criterion": "tutormatch.solve._criteria",
        "Explanation": "tutormatch.solve._explain",
        "Infeasibility": "tutormatch.solve._conflicts",
        "Network": "tutormatch.solve._network",
        "OBJECTIVES": "tutormatch.solve._solve",
        "PlanDiff": "tutormatch.solve._diff",
        "REASONS": "tutormatch.solve._reasons",
        "SOLVERS": "tutormatch.solve._solve",
        "SolveOptions": "tutormatch.solve._options",
        "Status": "tutormatch.solve._status",
        "UncoveredReason": "tutormatch.solve._reasons",
        "apply_lever": "tutormatch.solve._whatif",
        "diff": "tutormatch.solve._diff",
        "evaluate": "tutormatch.solve._evaluate",
        "pareto": "tutormatch.solve._pareto",
        "plot_pareto": "tutormatch.solve._pareto",
        "solve": "tutormatch.solve._solve",
    },
)
