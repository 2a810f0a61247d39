"""Integer scaling of priorities and costs: exact when it can be, bounded always."""

from __future__ import annotations

import numpy as np
import pytest

import tutormatch as tm
from tutormatch.testing import assert_valid_plan

# Two tutors, three establishments: the tutors can take two of them.
DISTANCE_KM = np.array([[1.0, 2.0, 30.0], [2.0, 1.0, 30.0]])


def _problem(priority: list[float]) -> tm.Problem:
    return tm.Problem.from_arrays(DISTANCE_KM, capacity=1, priority=priority)


@pytest.mark.parametrize("solver", ["flow", "cpsat"])
@pytest.mark.parametrize(
    ("priority", "uncovered"),
    [([1e17, 1e17, 1e17], None), ([1e-6, 1e12, 1e-6], 2), ([1e17, 1e-6, 1e17], 1), ([3.0, 2.0, 1.0], 2)],
)
def test_extreme_priorities_solve_at_once_and_cover_the_highest(
    priority: list[float], uncovered: int | None, solver: str
) -> None:
    # Before: priorities of 1e17 (or 1e12 beside 1e-6) looped forever coarsening the cost unit.
    plan = tm.solve(_problem(priority), solver=solver, options=tm.SolveOptions(num_workers=1))
    assert_valid_plan(plan)
    assert plan.status is tm.Status.OPTIMAL
    assert plan.n_uncovered == 1
    if uncovered is not None:
        assert plan.uncovered["uai"].tolist() == [plan.problem.establishments.id[uncovered]]


def test_priorities_merged_by_rounding_warn() -> None:
    priority = [1e-6, 2e-6, 1e12]
    with pytest.warns(tm.TutormatchWarning, match="some were rounded to the same value"):
        plan = tm.solve(_problem(priority))
    assert plan.status is tm.Status.OPTIMAL


def test_huge_costs_are_an_input_error() -> None:
    problem = tm.Problem.from_arrays(DISTANCE_KM * 1e306, capacity=1, visits_per_year=1e10)
    with pytest.raises(tm.InputError, match="yearly costs overflow floating point"):
        tm.solve(problem)


def test_import_loads_no_solver_nor_spatial_index() -> None:
    # scipy.spatial, scipy.sparse and OR-Tools cost ~0.5 s to import; they
    # load when a solve or a query needs them, not with `import tutormatch`.
    import subprocess
    import sys

    code = (
        "import sys, tutormatch; "
        "print(sorted(m for m in ('scipy.spatial', 'scipy.sparse', 'ortools') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
