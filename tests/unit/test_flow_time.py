"""No flow started without the time of one flow (solve/_flow_time.py), in every euro or tutor search.

Regression: the national ``coverage,worst-trip,tutors`` took 38-58 s for a
30 s limit: the searches checked the deadline only between nodes, and one
national flow takes 2-6 s. No timing here: a fake clock, or an estimate
recorded larger than the limit, so that the searches' decisions are exact.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

import tutormatch as tm
from tutormatch.datasets import synthetic_instance
from tutormatch.model import CostModel
from tutormatch.solve._euros import EuroBackend, euro_costs
from tutormatch.solve._euros_matching import EuroMatching
from tutormatch.solve._flow_time import WINDOW, FlowTimes, network_size, time_for_flow
from tutormatch.solve._network import Network, build_network
from tutormatch.solve._options import SolveOptions
from tutormatch.solve._pool import full_pool
from tutormatch.solve._tutor_price import tutors_by_price


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_flow_starts_only_when_it_ends_by_the_deadline() -> None:
    assert time_for_flow(10.0, 2.0, now=8.0)
    assert not time_for_flow(10.0, 2.5, now=8.0)
    assert time_for_flow(math.inf, 1e12, now=0.0)


def test_the_estimate_is_the_longest_of_the_last_flows_scaled_by_size() -> None:
    clock = _Clock()
    times = FlowTimes(clock=clock)
    assert times.estimate(1_000) == 0.0  # nothing measured: the first flow starts
    assert times.has_time(clock.now + 1e-9, 1_000)

    def flow(seconds: float) -> str:
        clock.now += seconds
        return "plan"

    assert times.timed(1_000, lambda: flow(4.0)) == "plan"
    assert times.estimate(1_000) == pytest.approx(4.0)
    assert times.estimate(500) == pytest.approx(2.0)  # a restricted network: half the size, half the time
    assert not times.has_time(clock.now + 3.9, 1_000)
    assert times.has_time(clock.now + 4.0, 1_000)
    for _ in range(WINDOW):
        times.timed(1_000, lambda: flow(1.0))
    assert times.estimate(1_000) == pytest.approx(1.0)  # the 4 s flow has left the window


def _problem() -> tm.Problem:
    tutors, establishments = synthetic_instance(96, 48, departements=["13"], seed=1)
    return tm.Problem.from_frames(tutors, establishments, allow_remote=False)


def _slow(network: Network) -> FlowTimes:
    """An estimate of 1,000 s a flow on ``network``: no flow but a search's first fits in a minute."""
    times = FlowTimes()
    times.record(1_000.0, network_size(network))
    return times


@pytest.mark.parametrize("objective", ["euros", "tutors"])
def test_the_euro_search_stops_after_its_root_flow_and_keeps_its_bound(objective: str) -> None:
    problem = _problem()
    network = build_network(problem, full_pool(problem))
    options = dataclasses.replace(SolveOptions(), time_limit=60.0)
    free = EuroBackend(problem, CostModel(), objective).solve(network, options)
    assert int(free.stats["flows"]) > 1  # the search needs more than its root: the test can fail
    short = EuroBackend(problem, CostModel(), objective, flow_times=_slow(network)).solve(network, options)
    assert int(short.stats["flows"]) == 1
    # More than one flow: the root did not prove its plan, so the short search may not say optimal.
    assert short.status is tm.Status.FEASIBLE
    bound_eur = float(short.stats["bound_eur"])  # NaN for "tutors" when the count is not proven
    assert math.isnan(bound_eur) or bound_eur <= float(free.stats["model_eur"]) + 1e-6
    if objective == "tutors":
        assert short.stats["tutors_bound"] <= free.stats["tutors_bound"]


def test_no_tutor_price_try_starts_without_the_time_of_a_flow() -> None:
    problem = _problem()
    network = build_network(problem, full_pool(problem))
    costs = euro_costs(problem, network, CostModel(), "tutors")
    options = dataclasses.replace(SolveOptions(), time_limit=60.0)
    assert tutors_by_price(problem, network, CostModel(), costs, options) is not None
    assert tutors_by_price(problem, network, CostModel(), costs, options, _slow(network)) is None


def test_the_matching_search_stops_after_its_root_matching() -> None:
    tutors, establishments = synthetic_instance(60, 30, departements=["13"], seed=3)
    tutors["capacity"] = np.minimum(tutors["capacity"], 2)
    problem = tm.Problem.from_frames(tutors, establishments, allow_remote=False)
    network = build_network(problem, full_pool(problem))
    if not (EuroMatching.supports(network) and EuroMatching.fits(network)):
        pytest.fail("the case no longer suits the matching search")
    costs = euro_costs(problem, network, CostModel(fixed_cost_eur=200), "euros")
    options = dataclasses.replace(SolveOptions(), time_limit=60.0)
    free = EuroMatching(network, costs).solve(options)
    short = EuroMatching(network, costs).solve(options, flow_times=_slow(network))
    assert short.stats["nodes"] == 1
    assert short.status.has_solution
    if int(free.stats["nodes"]) > 1:
        assert short.status is tm.Status.FEASIBLE
        assert float(short.stats["bound_eur"]) <= float(free.stats["model_eur"]) + 1e-6
