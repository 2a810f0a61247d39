"""The euro flows' integer scale stays within what OR-Tools' min-cost flow accepts.

Regression: national ``objective="tutors"`` returned INFEASIBLE ("no flow
meets the minimum loads") because the big M of the amortised flows passed
the check ``|cost| x (nodes + 1) < 2^62`` but not OR-Tools' own (refused
from about 3.5e18 on, BAD_COST_RANGE), and any refused flow read as
infeasible. This seeded académie-sized case lands in the same window.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import tutormatch as tm
from tutormatch.datasets import synthetic_instance
from tutormatch.model import CostModel
from tutormatch.solve._euros import EuroBackend
from tutormatch.solve._network import build_network
from tutormatch.solve._options import SolveOptions
from tutormatch.solve._pool import full_pool


def _problem() -> tm.Problem:
    tutors, establishments = synthetic_instance(96, 48, departements=["13"], seed=5)
    # Six decimals: the priorities scale to 2^20, the largest big M.
    establishments["priority"] = np.round(np.linspace(1.0, 3.0, len(establishments)) + 1e-6, 6)
    return tm.Problem.from_frames(tutors, establishments, allow_remote=False)


def test_fewest_tutors_flows_are_not_read_as_infeasible() -> None:
    problem = _problem()
    network = build_network(problem, full_pool(problem))
    options = dataclasses.replace(SolveOptions(), time_limit=2.0)
    result = EuroBackend(problem, CostModel(), "tutors").solve(network, options)
    assert result.status.has_solution, result.message
    km = tm.solve(problem)
    uncovered = float(problem.establishments.priority.sum()) - km.covered_priority
    assert result.stats["uncovered_int"] / network.priority_scale == pytest.approx(uncovered, abs=1e-5)
