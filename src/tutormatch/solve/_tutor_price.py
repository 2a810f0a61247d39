r"""Fewest tutors, then euros, by a price on tutors: a count bound from one flow, then the euro search.

Notes
-----
The objective ``"tutors"`` covers the most priority, then uses the fewest
tutors :math:`N`, then spends the least euros :math:`P`.

*A bound on the number of tutors.* A used tutor :math:`t` takes
:math:`1 \le l_t \le k_t` establishments, so :math:`1 \ge l_t / k_t`: every
plan has :math:`N \ge n_{\text{paid}} + \sum_t l_t / k_t` (tutors with fixed
pairs or a minimum load are used in every plan). The least right-hand side
at the most coverage is a min-cost flow: each establishment's unit, worth its
priority, reaches tutor :math:`t` at the cost :math:`L / k_t` (:math:`L` the
least common multiple of the capacities: integers). Hence
:math:`N_{\min} = n_{\text{paid}} + \lceil \text{cost} / L \rceil`.

*A price on tutors.* For any :math:`\nu \ge 0`, the euro search with every
tutor's charge raised by :math:`\nu` returns a plan :math:`x` that minimises
:math:`P + \nu N` at the most coverage, with a proven bound :math:`B`. If
:math:`x` uses :math:`N_{\min}` tutors, no plan uses fewer, and every plan
:math:`y` with :math:`N_{\min}` tutors has :math:`P(y) \ge B - \nu N_{\min}`:
at :math:`B = P(x) + \nu N(x)` the plan is optimal for ``"tutors"``. The
price starts at the tutors' mean charge and doubles while the plan uses more
tutors than :math:`N_{\min}` (a few tries). When the count bound is not
reached (it is a relaxation), the caller goes on with its own search.
"""

from __future__ import annotations

import dataclasses
import math
import time

import numpy as np

from tutormatch.model._costs import CostModel
from tutormatch.model._problem import Problem
from tutormatch.solve._backend import BackendResult
from tutormatch.solve._euros import EuroBackend, EuroCosts
from tutormatch.solve._flow_time import FlowTimes, network_size
from tutormatch.solve._network import Network
from tutormatch.solve._options import SolveOptions
from tutormatch.solve._status import Status

__all__ = ["least_tutors", "tutors_by_price"]

#: Prices tried at most (each one euro search).
MAX_TRIES = 5
#: Nodes of the flows' search per price.
NODES_PER_TRY = 400


def least_tutors(network: Network) -> tuple[int, int]:
    """Return the count bound of the module notes and the least integer priority a plan leaves uncovered.

    Loads within capacities only (minimum and all-or-nothing loads left
    out): the caller checks that its plan covers as much.
    """
    from ortools.graph.python import min_cost_flow  # imported on use: `import tutormatch` stays cheap

    from tutormatch.solve._matching import _explicit_pairs

    tutor, establishment, _, _ = _explicit_pairs(network)
    n_t, n_e = network.n_tutors, network.n_establishments
    capacity = np.maximum(network.capacity, 0)
    paid = (network.fixed_load > 0) | (network.min_load > 0)
    ok = network.active[establishment] & (capacity[tutor] > 0)
    tutor, establishment = tutor[ok], establishment[ok]
    lcm = int(np.lcm.reduce(np.unique(np.maximum(capacity, 1)), initial=1))
    per_unit = np.where(paid, 0, lcm // np.maximum(capacity, 1)).astype(np.int64)
    active = np.flatnonzero(network.active)
    # Coverage first: a unit of priority is worth more than every tutor's count together.
    worth = lcm * (len(active) + 1)
    source, sink = n_e + n_t, n_e + n_t + 1
    tails = np.concatenate((np.full(len(active), source), establishment, n_e + np.arange(n_t), [source]))
    heads = np.concatenate((active, n_e + tutor, np.full(n_t, sink), [sink]))
    caps = np.concatenate((np.ones(len(active) + len(tutor), dtype=np.int64), capacity, [len(active)]))
    costs = np.concatenate(
        (-worth * network.priority_int[active], per_unit[tutor], np.zeros(n_t + 1, dtype=np.int64))
    )
    flow = min_cost_flow.SimpleMinCostFlow()
    arcs = flow.add_arcs_with_capacity_and_unit_cost(
        tails.astype(np.int32), heads.astype(np.int32), caps.astype(np.int64), costs.astype(np.int64)
    )
    supplies = np.zeros(sink + 1, dtype=np.int64)
    supplies[source], supplies[sink] = len(active), -len(active)
    flow.set_nodes_supplies(np.arange(sink + 1, dtype=np.int32), supplies)
    if flow.solve() != flow.OPTIMAL:  # pragma: no cover - always feasible (the arc past the tutors)
        raise RuntimeError("tutormatch: the count flow found no optimum")
    used = np.asarray(flow.flows(arcs), dtype=np.int64)[len(active) : len(active) + len(tutor)] > 0
    covered = int(network.priority_int[establishment[used]].sum())
    count = int(per_unit[tutor[used]].sum())
    n_least = int(paid.sum()) + -(-count // lcm)
    return n_least, int(network.priority_int[active].sum()) - covered


def _n_used(network: Network, result: BackendResult) -> int:
    return int(((network.free_loads(result.arc_used, result.y) + network.fixed_load) > 0).sum())


def tutors_by_price(
    problem: Problem,
    network: Network,
    model: CostModel,
    costs: EuroCosts,
    options: SolveOptions,
    flow_times: FlowTimes | None = None,
) -> BackendResult | None:
    """Solve ``"tutors"`` by the count bound and a price on tutors (module notes); ``None`` if not reached.

    ``costs``: the euro costs of ``"tutors"`` (their weight is taken off).
    ``flow_times``: the estimate of a flow's time (:mod:`tutormatch.solve._flow_time`), shared
    by the tries and the searches after them: no try starts without the time of one flow.
    Returns a plan with the fewest tutors proven, ``OPTIMAL`` or ``FEASIBLE``
    with its euro bound at that number. Out of time before any try reached the
    count bound: the try's plan with the fewest tutors, ``FEASIBLE``, its number
    of tutors not proven least (``stats["fewest_tutors_reached"]`` false, the
    count bound as ``tutors_bound``, no euro bound).
    """
    started = time.perf_counter()
    deadline = started + options.time_limit if math.isfinite(options.time_limit) else math.inf
    times = flow_times if flow_times is not None else FlowTimes()
    size = network_size(network)
    n_least, least_uncovered = least_tutors(network)
    paid = (network.fixed_load > 0) | (network.min_load > 0)
    charge = (costs.used_eur - costs.tutor_weight)[~paid]
    nu = max(float(charge.mean()) if len(charge) else 0.0, 1.0)
    best: BackendResult | None = None
    over: tuple[int, BackendResult] | None = None  # the try with the fewest tutors above the count bound
    for _ in range(MAX_TRIES):
        left = options.time_limit - (time.perf_counter() - started)
        if left <= 0 or not times.has_time(deadline, size):
            # Not the time of one of its flows: a try would only overrun the limit.
            return best if best is not None or over is None else _not_reached(over, n_least)
        # A try may take half of what is left: the next price keeps time.
        share = dataclasses.replace(options, time_limit=left / 2 if math.isfinite(left) else left)
        backend = EuroBackend(
            problem, model, "euros", max_nodes=NODES_PER_TRY, tutor_price=nu, flow_times=times
        )
        result = backend.solve(network, share)
        if not result.status.has_solution or int(result.stats["uncovered_int"]) != least_uncovered:
            return best  # the count bound is for another coverage (minimum loads)
        n_used = _n_used(network, result)
        if n_used > n_least:
            if over is None or n_used < over[0]:
                over = (n_used, dataclasses.replace(result, stats={**result.stats, "tutor_price_eur": nu}))
            nu *= 2.0
            continue
        model_eur = float(result.stats["model_eur"]) - nu * n_used
        bound = float(result.stats.get("bound_eur", math.nan)) - nu * n_least
        optimal = result.status is Status.OPTIMAL
        found = dataclasses.replace(
            result,
            message=f"fewest tutors ({n_least}, a flow's bound) at a price of {nu:,.2f} EUR a tutor: "
            + result.message,
            bound=model_eur if optimal else bound,
            stats={
                **result.stats,
                "model_eur": model_eur,
                "bound_eur": model_eur if optimal else bound,
                "tutors_bound": n_least,
                "tutor_price_eur": nu,
            },
        )
        if optimal:
            return found
        if best is None or bound > float(best.stats["bound_eur"]):
            best = found
        nu /= 1.5  # a lower price is an easier search
    return best


def _not_reached(over: tuple[int, BackendResult], n_least: int) -> BackendResult:
    """Return the plan of a try above the count bound: its tutors not proven least, no euro bound."""
    n_used, result = over
    price = float(result.stats["tutor_price_eur"])
    return dataclasses.replace(
        result,
        status=Status.FEASIBLE,
        message=f"{n_used} tutors ({n_least} at least, a flow's bound; out of time at a price of "
        f"{price:,.2f} EUR a tutor): " + result.message,
        bound=math.nan,
        stats={
            **result.stats,
            "model_eur": float(result.stats["model_eur"]) - price * n_used,
            "bound_eur": math.nan,
            "tutors_bound": n_least,
            "fewest_tutors_reached": False,
        },
    )
