"""Status handling, scripted with a fake backend (no slow solves)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pytest

import tutormatch as tm
from tutormatch.solve import BackendResult, Capabilities, Network, SolveOptions
from tutormatch.solve._flow import FlowBackend
from tutormatch.testing import assert_valid_plan

CAPABILITIES = Capabilities(all_or_nothing=True, time_limit=True)


@dataclass
class ScriptedBackend:
    """Solves exactly with the flow, then reports what the test scripts."""

    status: tm.Status
    bound_shift: float = 0.0
    name: str = "fake"
    capabilities: Capabilities = CAPABILITIES

    def solve(self, network: Network, options: SolveOptions) -> BackendResult:
        exact = FlowBackend().solve(network, options)
        if not self.status.has_solution:
            return BackendResult.without_solution(network, self.status, f"scripted {self.status.value}")
        assert exact.objective is not None
        return BackendResult(
            status=self.status,
            message=f"scripted {self.status.value}",
            arc_used=exact.arc_used,
            z=exact.z,
            y=exact.y,
            objective=exact.objective,
            bound=exact.objective - self.bound_shift,
        )


def test_time_limit_keeps_the_plan_and_reports_the_cost_gap(small_problem: tm.Problem) -> None:
    exact = tm.solve(small_problem)
    network_unit = exact.stats["cost_unit_km"]
    shift_km = 10.0
    plan = tm.solve(
        small_problem, solver=ScriptedBackend(tm.Status.FEASIBLE, bound_shift=shift_km / network_unit)
    )
    assert_valid_plan(plan)
    assert plan.status is tm.Status.FEASIBLE
    assert plan.solver == "fake"
    assert plan.objective == exact.objective
    assert plan.bound == pytest.approx(exact.objective - shift_km, abs=1e-2)
    assert plan.gap == pytest.approx(shift_km / exact.objective, rel=1e-3)
    assert plan.priority_bound == pytest.approx(plan.covered_priority)
    assert plan.raise_for_status() is plan


def test_unproven_coverage_gives_a_coverage_gap(small_problem: tm.Problem) -> None:
    exact = tm.solve(small_problem)
    # A bound so low that one more unit of priority might still be coverable.
    plan = tm.solve(small_problem, solver=ScriptedBackend(tm.Status.FEASIBLE, bound_shift=10**15))
    assert plan.status is tm.Status.FEASIBLE
    assert math.isnan(plan.bound)
    assert plan.priority_bound > exact.covered_priority
    assert plan.gap == pytest.approx((plan.priority_bound - plan.covered_priority) / plan.priority_bound)


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (tm.Status.NO_SOLUTION, tm.SolveError),
        (tm.Status.ERROR, tm.SolveError),
        (tm.Status.INVALID, tm.SolveError),
        (tm.Status.INFEASIBLE, tm.InfeasibleError),
    ],
)
def test_no_plan_lists_every_establishment_and_raises_on_request(
    small_problem: tm.Problem, status: tm.Status, error: type[Exception]
) -> None:
    plan = tm.solve(small_problem, solver=ScriptedBackend(status))
    assert_valid_plan(plan)
    assert plan.status is status
    assert not status.has_solution
    assert plan.n_uncovered == small_problem.n_establishments
    assert set(plan.uncovered["reason"]) == {"no_plan"}
    assert math.isnan(plan.objective)
    with pytest.raises(error, match=f"no plan: status {status.value} \\(scripted {status.value}\\)"):
        plan.raise_for_status()


def test_status_predicates() -> None:
    assert [s.has_solution for s in tm.Status] == [True, True, False, False, False, False]
    assert [s.is_optimal for s in tm.Status] == [True, False, False, False, False, False]
    assert tm.Status("optimal") is tm.Status.OPTIMAL


def test_options_are_validated() -> None:
    with pytest.raises(tm.InputError, match="time_limit must be > 0 seconds; got 0"):
        tm.SolveOptions(time_limit=0)
    with pytest.raises(tm.InputError, match="relative_gap must be in"):
        tm.SolveOptions(relative_gap=1.5)
    with pytest.raises(tm.InputError, match="num_workers must be >= 1"):
        tm.SolveOptions(num_workers=0)


def test_cpsat_time_limit_is_honoured(small_problem: tm.Problem) -> None:
    plan = tm.solve(small_problem, solver="cpsat", time_limit=5.0)
    assert plan.status.has_solution
    assert plan.solve_seconds < 10.0
    assert np.isfinite(plan.objective)
