r"""Plans whose every tutor's yearly km stay within a limit: flows with tutors split into places.

Notes
-----
For a limit :math:`T` on each tutor's yearly metres (:math:`b_t` those of
its fixed pairs, room :math:`R_t = T - b_t`), a tutor of :math:`k` places
is *split* at :math:`s`: one place takes a pair of at most :math:`R_t - s`
metres, the other :math:`k - 1` places pairs of at most
:math:`s / (k - 1)` each (remote pairs drive none). Any plan of the split
network keeps the tutor within :math:`R_t`, and the split network is still
a flow (the single place is a tutor of its own, mapped back). Starting from
no split, each flow that covers the target priority on the pairs within
:math:`T` is checked; every tutor over the limit is split just below its
longest pair (:math:`s = R_t - m_{\max}`), and the flow is solved again.

A primal heuristic, never a proof: a plan found at the flow floor (the
least per-pair limit that keeps the coverage, a proven lower bound) is
optimal. On the example académie with remote tutoring it finds a plan at
the floor (607.586 km) in 18 flows, where the Lagrangian flows stopped at
845 km.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import numpy.typing as npt

from tutormatch.solve._network import Network

__all__ = ["slot_flows"]

IntArray = npt.NDArray[np.int64]


def _split_network(
    network: Network, term: Any, limit: int, split: dict[int, int]
) -> tuple[Network, IntArray, IntArray]:
    """Return the network of pairs within ``limit``, tutors split; each arc's origin and tutor's owner."""
    amount: IntArray = term.arc_amount
    room = limit - term.tutor_base
    origin = np.flatnonzero(term.arc_key <= limit)
    keep = np.ones(len(origin), dtype=bool)
    extra: list[IntArray] = []
    capacity = network.capacity.copy()
    owners = list(range(network.n_tutors))
    for t, s in sorted(split.items()):
        k = int(capacity[t])
        mine = network.arc_tutor[origin] == t
        keep &= ~(mine & (amount[origin] * (k - 1) > s))
        extra.append(origin[mine & (amount[origin] <= room[t] - s)])
        capacity[t] = k - 1
        owners.append(t)
    n_split = len(extra)
    arcs = np.concatenate([origin[keep], *extra]) if extra else origin
    tutor = network.arc_tutor[arcs].copy()
    if extra:
        sizes = [len(a) for a in extra]
        tutor[int(keep.sum()) :] = np.repeat(network.n_tutors + np.arange(n_split), sizes)
    ones, zeros = np.ones(n_split, dtype=np.int64), np.zeros(n_split, dtype=np.int64)
    split_network = dataclasses.replace(
        network,
        n_tutors=network.n_tutors + n_split,
        capacity=np.concatenate((capacity, ones)),
        min_load=np.concatenate((network.min_load, zeros)),
        fixed_load=np.concatenate((network.fixed_load, zeros)),
        full_capacity=np.concatenate((network.full_capacity, ones)),
        arc_tutor=tutor,
        arc_establishment=network.arc_establishment[arcs],
        arc_mode=network.arc_mode[arcs],
        arc_cost=network.arc_cost[arcs],
    )
    return split_network, arcs, np.asarray(owners, dtype=np.int64)


def slot_flows(network: Network, term: Any, limit: int, target: int, rounds: int = 25) -> Any | None:
    """Return a flow's answer on ``network`` covering ``target`` with every tutor within ``limit``, or None.

    ``term`` is the worst-year term of :mod:`tutormatch.solve._lexico_model`
    (its ``arc_key``, ``arc_amount`` and ``tutor_base``, in metres); see the
    module notes. None when the coverage is lost or ``rounds`` flows did not
    bring every tutor within the limit.
    """
    from tutormatch.solve._lexico_model import _covering_flow

    if network.all_or_nothing or np.any(network.min_load > 0) or term.arc_amount is None:
        return None  # split places would break these rules
    amount: IntArray = term.arc_amount
    room = limit - term.tutor_base
    split: dict[int, int] = {}
    for _ in range(rounds):
        split_network, origin, owner = _split_network(network, term, limit, split)
        result = _covering_flow(split_network, np.ones(split_network.n_arcs, dtype=bool), target)
        if result is None:
            return None
        used = np.flatnonzero(result.arc_used)
        tutors = owner[split_network.arc_tutor[used]]
        metres = amount[origin[used]]
        sums = term.tutor_base.astype(np.int64).copy()
        np.add.at(sums, tutors, metres)
        over = np.flatnonzero(sums > limit)
        if len(over) == 0:
            arc_used = np.zeros(network.n_arcs, dtype=bool)
            arc_used[origin[used]] = True
            return dataclasses.replace(result, arc_used=arc_used)
        for t in over.tolist():
            if network.capacity[t] < 2:  # pragma: no cover - one pair within the limit cannot exceed it
                return None
            longest = int(metres[tutors == t].max())
            split[t] = min(split.get(t, int(room[t])), int(room[t]) - longest)
    return None
