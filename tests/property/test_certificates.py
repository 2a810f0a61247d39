"""Potentials of an optimal flow, from scratch or from an earlier round's (issue 9: the proving round).

The certificate is only as good as its check: every residual arc of the
optimal flow gets a non-negative reduced cost, whatever the start, and a flow
that is not optimal is never certified.
"""

from __future__ import annotations

import importlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

_duals = importlib.import_module("tutormatch.solve._duals")


def _transport(seed: int, n_e: int, n_t: int, density: float) -> tuple[np.ndarray, ...]:
    """A random establishment -> tutor -> sink network with uncovered arcs (nodes: e, t, sink)."""
    rng = np.random.default_rng(seed)
    sink = n_e + n_t
    pairs = rng.random((n_e, n_t)) < density
    e, t = np.nonzero(pairs)
    tails = np.concatenate((e, n_e + np.arange(n_t), np.arange(n_e)))
    heads = np.concatenate((n_e + t, np.full(n_t, sink), np.full(n_e, sink)))
    caps = np.concatenate((np.ones(len(e)), rng.integers(0, 3, n_t), np.ones(n_e))).astype(np.int64)
    costs = np.concatenate(
        (rng.integers(0, 50, len(e)), np.zeros(n_t, np.int64), rng.integers(60, 120, n_e))
    ).astype(np.int64)
    supplies = np.zeros(sink + 1, dtype=np.int64)
    supplies[:n_e] = 1
    supplies[sink] = -n_e
    return tails.astype(np.int64), heads.astype(np.int64), caps, costs, supplies


def _optimal_flow(
    tails: np.ndarray, heads: np.ndarray, caps: np.ndarray, costs: np.ndarray, supplies: np.ndarray
) -> np.ndarray:
    from ortools.graph.python import min_cost_flow

    smcf = min_cost_flow.SimpleMinCostFlow()
    arcs = smcf.add_arcs_with_capacity_and_unit_cost(
        tails.astype(np.int32), heads.astype(np.int32), caps, costs
    )
    smcf.set_nodes_supplies(np.arange(len(supplies), dtype=np.int32), supplies)
    assert smcf.solve() == smcf.OPTIMAL
    return np.asarray(smcf.flows(arcs), dtype=np.int64)


def _violations(
    tails: np.ndarray,
    heads: np.ndarray,
    caps: np.ndarray,
    costs: np.ndarray,
    flows: np.ndarray,
    d: np.ndarray,
) -> int:
    tail, head, cost = _duals._residual_arcs(tails, heads, caps, costs, flows)
    return int((cost + d[tail] - d[head] < 0).sum())


@settings(max_examples=80, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_e=st.integers(1, 30),
    n_t=st.integers(1, 15),
    density=st.sampled_from([0.2, 0.5, 1.0]),
    start=st.sampled_from(["none", "zeros", "random", "other-flow"]),
)
def test_potentials_certify_an_optimal_flow_from_any_start(
    seed: int, n_e: int, n_t: int, density: float, start: str
) -> None:
    tails, heads, caps, costs, supplies = _transport(seed, n_e, n_t, density)
    flows = _optimal_flow(tails, heads, caps, costs, supplies)
    n_nodes = len(supplies)
    rng = np.random.default_rng(seed + 1)
    begin: np.ndarray | None
    if start == "none":
        begin = None
    elif start == "zeros":
        begin = np.zeros(n_nodes, dtype=np.int64)
    elif start == "random":
        begin = -rng.integers(0, 200, n_nodes)
    else:  # the potentials of a flow on other costs: a stale certificate, as from an earlier round
        other = costs + rng.integers(0, 30, len(costs))
        other_flows = _optimal_flow(tails, heads, caps, other, supplies)
        begin = _duals.residual_potentials(n_nodes, tails, heads, caps, other, other_flows)
    d = _duals.residual_potentials(n_nodes, tails, heads, caps, costs, flows, begin)
    assert d.dtype == np.int64
    assert (d <= 0).all()
    assert _violations(tails, heads, caps, costs, flows, d) == 0


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_e=st.integers(2, 25),
    n_t=st.integers(2, 12),
    warm=st.booleans(),
)
def test_no_certificate_for_a_flow_that_is_not_optimal(seed: int, n_e: int, n_t: int, warm: bool) -> None:
    tails, heads, caps, costs, supplies = _transport(seed, n_e, n_t, 1.0)
    flows = _optimal_flow(tails, heads, caps, costs, supplies)
    n_nodes = len(supplies)
    # Make a used pair dearer than every other route of its establishment:
    # the flow is then beaten by moving that establishment elsewhere.
    used = np.flatnonzero(flows[: len(tails) - n_t - n_e] > 0)
    if len(used) == 0:
        return
    arc = int(used[np.random.default_rng(seed).integers(len(used))])
    costs = costs.copy()
    costs[arc] = 10_000
    begin = np.zeros(n_nodes, dtype=np.int64) if warm else None
    with pytest.raises(RuntimeError, match="negative cycle"):
        _duals.residual_potentials(n_nodes, tails, heads, caps, costs, flows, begin)


def test_passes_of_dijkstra_repair_a_stale_start_by_hand() -> None:
    # e0 -> t0 (cost 5, used), e0 -> t1 (cost 1, unused, t1 full with e1 at cost 0).
    # Nodes: e0=0, e1=1, t0=2, t1=3, sink=4.
    tails = np.array([0, 0, 1, 2, 3], dtype=np.int64)
    heads = np.array([2, 3, 3, 4, 4], dtype=np.int64)
    caps = np.array([1, 1, 1, 1, 1], dtype=np.int64)
    costs = np.array([5, 1, 0, 0, 0], dtype=np.int64)
    flows = np.array([1, 0, 1, 1, 1], dtype=np.int64)
    stale = np.zeros(5, dtype=np.int64)
    d = _duals.residual_potentials(5, tails, heads, caps, costs, flows, stale)
    # t1 must be dearer than t0 by at least 5 - 1 = 4 for e0 not to envy it.
    assert (d[2] - d[3]) >= 4
    assert _violations(tails, heads, caps, costs, flows, d) == 0


@pytest.mark.parametrize("scale", [1, 2**44], ids=["small-costs", "costs-beyond-float-exact"])
def test_a_stale_start_certifies_with_small_and_huge_costs(scale: int) -> None:
    # Huge costs leave the integers a float64 holds: the passes hand over to Bellman-Ford.
    tails, heads, caps, costs, supplies = _transport(7, 20, 8, 0.5)
    costs = costs * scale
    flows = _optimal_flow(tails, heads, caps, costs, supplies)
    stale = -np.random.default_rng(3).integers(0, 100, len(supplies)) * scale
    d = _duals.residual_potentials(len(supplies), tails, heads, caps, costs, flows, stale)
    assert _violations(tails, heads, caps, costs, flows, d) == 0


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_e=st.integers(1, 30),
    n_t=st.integers(1, 12),
    density=st.sampled_from([0.1, 0.3, 1.0]),
    n_values=st.integers(1, 4),
)
def test_coverage_potentials_by_search_equal_dijkstra(
    seed: int, n_e: int, n_t: int, density: float, n_values: int
) -> None:
    # The coverage level: priority on the uncovered arcs, 0 elsewhere.
    tails, heads, caps, costs, supplies = _transport(seed, n_e, n_t, density)
    rng = np.random.default_rng(seed)
    costs = np.zeros_like(costs)
    costs[-n_e:] = rng.integers(1, n_values + 1, n_e)
    flows = _optimal_flow(tails, heads, caps, costs, supplies)
    tail, head, cost = _duals._residual_arcs(tails, heads, caps, costs, flows)
    if not (cost < 0).any():
        return
    by_search = _duals._one_source_levels(len(supplies), tail, head, cost)
    assert by_search is not None
    np.testing.assert_array_equal(by_search, _duals._one_source_dijkstra(len(supplies), tail, head, cost))
    assert _violations(tails, heads, caps, costs, flows, by_search) == 0
