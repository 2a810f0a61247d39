r"""All-or-nothing loads proven by a blossom warm-started from the flow relaxation.

Notes
-----
The flow relaxation (loads anywhere in :math:`0..k_t`) is the matching
gadget's linear relaxation without its odd-set constraints
(:mod:`tutormatch.solve._matching`), and its optimal potentials are a
feasible dual of the gadget:

- with :math:`d` the residual potentials of the relaxation's optimal flow
  (establishment, tutor and sink nodes; :func:`tutormatch.solve._duals.residual_potentials`),
  each covered establishment's potential raised to :math:`d_t - c_{te}` of
  its tutor and each uncovered one's to :math:`d_{sink} - U_e` (still a
  certificate: only arcs leaving it get dearer; its own arc becomes tight),
- a tutor's dual :math:`\alpha_t = \max(0, d_{sink} - d_t)` (the price of its
  capacity) and an establishment's :math:`\beta_e = U_e - d_{sink} + d_e \ge 0`
  satisfy :math:`\alpha_t + \beta_e \ge U_e - c_{te}` on every pair, with
  equality on the relaxation's pairs;
- in the gadget, each tutor place gets :math:`\alpha_t` plus the bonus
  :math:`B` when it must be matched, each establishment :math:`\beta_e`; the
  "unused" edge of an idle tutor is tight (:math:`\alpha_t = 0`).

Started from the relaxation's pairs (an idle tutor's two places matched to
each other), only a partly loaded tutor leaves a place exposed with a
positive dual: the blossom (:mod:`tutormatch.solve._blossom`) has a few
stages to run, not one per node. Its dual is then checked on every edge of
the gadget (:func:`tutormatch.solve._blossom.certify`); only a checked dual
makes the plan ``optimal``.
"""

from __future__ import annotations

import dataclasses
import math
import time

import numpy as np
import numpy.typing as npt

from tutormatch.solve._backend import BackendResult
from tutormatch.solve._blossom import BlossomDual, certify, max_weight_matching
from tutormatch.solve._duals import residual_potentials
from tutormatch.solve._matching import Gadget, gadget
from tutormatch.solve._network import Network

__all__ = ["expanded", "warm_matching"]

IntArray = npt.NDArray[np.int64]


def expanded(network: Network, pairs: tuple[IntArray, IntArray, IntArray]) -> Network:
    """Return the same network with every pair a direct arc (remote classes listed pair by pair)."""
    tutor, establishment, cost = pairs
    return dataclasses.replace(
        network,
        arc_tutor=tutor,
        arc_establishment=establishment,
        arc_cost=cost,
        arc_mode=np.zeros(len(tutor), dtype=np.int8),
        remote_class=np.full(network.n_establishments, -1, dtype=np.int64),
        remote_cost=np.zeros(network.n_establishments, dtype=np.int64),
        link_class=np.zeros(0, dtype=np.int64),
        link_tutor=np.zeros(0, dtype=np.int64),
        n_classes=0,
        explicit_classes=frozenset(),
    )


def relaxation_duals(network: Network, relaxation: BackendResult) -> tuple[IntArray, IntArray]:
    r"""Return the relaxation's dual prices (:math:`\alpha_t`, :math:`\beta_e`); see the module notes.

    ``network`` has direct arcs only (:func:`expanded`). A tutor that must be
    used keeps a signed price (its places carry the bonus); the others' is
    at least 0 (the "unused" edge).
    """
    n_e, n_t = network.n_establishments, network.n_tutors
    sink = n_e + n_t
    active = np.flatnonzero(network.active)
    used = relaxation.arc_used
    load = np.bincount(network.arc_tutor[used], minlength=n_t)
    covered = np.zeros(n_e, dtype=bool)
    covered[network.arc_establishment[used]] = True
    tails = np.concatenate((network.arc_establishment, n_e + np.arange(n_t), active))
    heads = np.concatenate((n_e + network.arc_tutor, np.full(n_t, sink), np.full(len(active), sink)))
    caps = np.concatenate(
        (
            np.ones(network.n_arcs, dtype=np.int64),
            network.capacity - network.min_load,
            np.ones(len(active), dtype=np.int64),
        )
    )
    costs = np.concatenate(
        (network.arc_cost, np.zeros(n_t, dtype=np.int64), network.uncovered_cost[active])
    ).astype(np.int64)
    flows = np.concatenate(
        (used.astype(np.int64), load - network.min_load, (~covered[active]).astype(np.int64))
    )
    d = residual_potentials(sink + 1, tails, heads, caps, costs, flows)
    d_e = d[:n_e].copy()
    d_t = d[n_e:sink]
    d_e[network.arc_establishment[used]] = d_t[network.arc_tutor[used]] - network.arc_cost[used]
    idle = active[~covered[active]]
    d_e[idle] = d[sink] - network.uncovered_cost[idle]
    forced = (network.fixed_load > 0) | (network.min_load > 0)
    alpha = np.where(forced, d[sink] - d_t, np.maximum(0, d[sink] - d_t))
    beta = np.where(network.active, network.uncovered_cost - d[sink] + d_e, 0)
    return alpha.astype(np.int64), beta.astype(np.int64)


def warm_start(g: Gadget, network: Network, relaxation: BackendResult) -> tuple[IntArray, IntArray]:
    """Return the starting matching and doubled duals of the gadget from the relaxation."""
    alpha, beta = relaxation_duals(network, relaxation)
    mate = np.full(g.n_nodes, -1, dtype=np.int64)
    e_node = np.full(network.n_establishments, -1, dtype=np.int64)
    e_node[g.estab] = np.arange(len(g.estab))
    used = np.flatnonzero(relaxation.arc_used)
    t, e = network.arc_tutor[used], network.arc_establishment[used]
    order = np.lexsort((e, t))
    t, e = t[order], e[order]
    starts = np.r_[0, np.flatnonzero(np.diff(t)) + 1] if len(t) else np.zeros(0, dtype=np.int64)
    rank = np.arange(len(t)) - np.repeat(starts, np.diff(np.r_[starts, len(t)]))
    place = g.first_place[t] + rank
    mate[place], mate[e_node[e]] = e_node[e], place
    load = np.bincount(t, minlength=network.n_tutors)
    idle = np.flatnonzero(g.pair_gadget & (load == 0))
    mate[g.first_place[idle]], mate[g.first_place[idle] + 1] = g.first_place[idle] + 1, g.first_place[idle]
    dual = np.zeros(g.n_nodes, dtype=np.int64)
    dual[: len(g.estab)] = beta[g.estab]
    places = g.owner[len(g.estab) :]
    offset = np.arange(len(places)) - (g.first_place[places] - len(g.estab))
    dual[len(g.estab) :] = alpha[places] + np.where(g.must_places[places] > offset, g.bonus, 0)
    return mate, 2 * dual


def warm_matching(
    network: Network,
    pairs: tuple[IntArray, IntArray, IntArray],
    expanded_network: Network,
    relaxation: BackendResult,
    deadline: float = math.inf,
    seconds: dict[str, float] | None = None,
) -> tuple[IntArray, IntArray, bool, bool, BlossomDual] | None:
    """Match the whole gadget from the relaxation.

    Returns the pairs, whether the dual check passed, whether every tutor
    that must be used is full (if not, with a passed check: no plan can
    fill them), and the dual.

    ``relaxation`` is the flow relaxation of ``expanded_network`` (the
    network with ``pairs`` as its direct arcs, :func:`expanded`). None when
    the start is not a feasible dual, the search went astray or the deadline
    came first (then nothing is claimed). ``seconds`` receives the time of
    each part.
    """
    seconds = {} if seconds is None else seconds
    everyone = (np.ones(network.n_tutors, dtype=bool), np.ones(network.n_establishments, dtype=bool))
    clock = time.perf_counter()
    g = gadget(network, *pairs, *everyone)
    try:
        mate, dual = warm_start(g, expanded_network, relaxation)
        seconds["start_seconds"] = time.perf_counter() - clock
        clock = time.perf_counter()
        solution = max_weight_matching(g.n_nodes, g.a, g.b, g.w, mate, dual, deadline)
    except (ValueError, RuntimeError):  # a start that is no dual, a search that went astray (StuckError)
        return None
    seconds["blossom_seconds"] = time.perf_counter() - clock
    if solution is None:
        return None
    clock = time.perf_counter()
    proven = certify(g.n_nodes, g.a, g.b, g.w, solution)
    seconds["check_seconds"] = time.perf_counter() - clock
    complete = bool((solution.mate[g.must_nodes()] >= 0).all())
    plan_t, plan_e = g.pairs(solution.mate)
    return plan_t, plan_e, proven, complete, solution
