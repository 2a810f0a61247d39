"""Integer scaling of priorities and costs: exact when it can be, bounded always."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import tutormatch as tm
from tutormatch.solve._network import _PRIORITY_MAX, _check_finite, _cost_unit, _integer_priorities
from tutormatch.testing import assert_valid_plan

# Two tutors, three establishments: the tutors can take two of them.
DISTANCE_KM = np.array([[1.0, 2.0, 30.0], [2.0, 1.0, 30.0]])


def _problem(priority: list[float]) -> tm.Problem:
    return tm.Problem.from_arrays(DISTANCE_KM, capacity=1, priority=priority)


@pytest.mark.parametrize(
    "priority",
    [[1e17, 1e17, 1e17], [1e-6, 1e12, 1e-6], [1e17, 1e-6, 1e17], [1e-300, 1e300, 1.0], [3.0, 2.0, 1.0]],
)
def test_integer_priorities_are_small_and_keep_the_order(priority: list[float]) -> None:
    # Before: 1e17, or 1e12 beside 1e-6, looped forever coarsening the cost
    # unit. The input edge now refuses such values, but the scaling must not
    # rely on it.
    values = np.array(priority)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", tm.TutormatchWarning)
        ints, scale = _integer_priorities(values)
    assert 1 <= ints.min() <= ints.max() <= _PRIORITY_MAX
    assert np.all(np.diff(ints[np.argsort(values, kind="stable")]) >= 0)
    assert scale > 0


def test_cost_unit_is_found_without_a_loop_for_any_range() -> None:
    for worst_km in (1e-3, 1e6, 1e200):
        unit = _cost_unit(np.full(8_000, worst_km), np.full(8_000, _PRIORITY_MAX), 12_001, 0.001)
        assert unit >= 0.001


def test_non_finite_costs_are_an_input_error() -> None:
    with pytest.raises(tm.InputError, match="yearly costs overflow floating point"):
        _check_finite(np.array([1.0, np.inf]))


@pytest.mark.parametrize("solver", ["flow", "cpsat"])
@pytest.mark.parametrize(("priority", "uncovered"), [([1e-6, 1e6, 1e-6], 2), ([1e6, 1e-6, 1e6], 1)])
def test_widest_priorities_solve_and_cover_the_highest(
    priority: list[float], uncovered: int, solver: str
) -> None:
    plan = tm.solve(_problem(priority), solver=solver, options=tm.SolveOptions(num_workers=1))
    assert_valid_plan(plan)
    assert plan.status is tm.Status.OPTIMAL
    assert plan.uncovered["uai"].tolist() == [plan.problem.establishments.id[uncovered]]


def test_priorities_merged_by_rounding_warn() -> None:
    with pytest.warns(tm.TutormatchWarning, match="some were rounded to the same value"):
        plan = tm.solve(_problem([1e-6, 2e-6, 1e6]))
    assert plan.status is tm.Status.OPTIMAL


def test_import_loads_no_solver_nor_spatial_index() -> None:
    # scipy.spatial, scipy.sparse and OR-Tools cost ~0.5 s to import, pandas
    # ~0.4 s; they load when a solve or a query needs them, not with
    # `import tutormatch` (its public names are lazy, PEP 562).
    import subprocess
    import sys

    code = (
        "import sys, tutormatch; "
        "print(sorted(m for m in ('scipy', 'ortools', 'pandas', 'numpy', 'matplotlib') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
