r"""The least km among plans of most coverage that split at most :math:`G` groups: one MIP (HiGHS).

Notes
-----
After the criterion ``groups`` is proven at :math:`G^*` groups split (the
flows of :mod:`tutormatch.solve._lexico_flows`), the next phase is

.. math::

    \min \{ c(x) : P(x) = P^*,\ \text{split}(x) \le G \}.

A group :math:`g` gets a binary :math:`s_g` ("may be split"). Split, its
members are covered by pair variables :math:`x_{te}` as any establishment;
whole, by the *units* of one owner :math:`t`, as in
:mod:`tutormatch.solve._groups_exact`: the :math:`j`-th member in the order
(priority descending, km ascending), :math:`y_{gt1} \ge y_{gt2} \ge \dots`.
A prefix is enough: a whole group's members that its owner does not take
stay uncovered, so a plan of most coverage takes members of the most
priority (another choice would cover more, which no plan does), and among
those the fewest km. So

.. math::

    \min \sum c\,(x + y) \quad\text{s.t.}\quad
    \sum_t y_{gt1} \le 1 - s_g,\quad \sum_t x_{te} \le s_g \;(e \in g),\quad
    \sum_g s_g \le G - G_0,\quad \sum p\,(x + y) \ge P^*,

each establishment at most once, each tutor within its places
(:math:`G_0`: the groups that fixed pairs already split). Groups of one
establishment are never split: their members are plain pairs. Pairs that
no plan of most priority uses (a positive reduced cost in the coverage
flow: complementary slackness) are left out first, exactly. HiGHS (through
``scipy.optimize.milp``) solves it with a zero gap; its status and bound are
reported as they are.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from tutormatch.model._problem import Problem
from tutormatch.solve._network import Network
from tutormatch.solve._options import SolveOptions

__all__ = ["GroupsKmResult", "least_km_with_groups"]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class GroupsKmResult:
    """The plan's explicit free pairs and what was proven about its km."""

    tutor: IntArray
    establishment: IntArray
    proven: bool
    km_bound: float  # proven lower bound on the integer km cost of the free pairs (nan: none)
    cost_unit_km: float
    columns: int


def _coverage_pairs(
    network: Network, tutor: IntArray, establishment: IntArray, coverage: int
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]] | None:
    """Return the pairs some plan of ``coverage`` priority may use and the establishments all cover.

    None when ``coverage`` is not the most priority. The most priority is a
    max-weight b-matching (one flow); a pair its optimal potentials price
    above zero is in no optimal plan, an establishment whose arc from the
    source they price below zero is in all (complementary slackness).
    """
    from ortools.graph.python import min_cost_flow

    from tutormatch.solve._duals import residual_potentials

    n_e, n_t = network.n_establishments, network.n_tutors
    active = np.flatnonzero(network.active)
    source, sink = n_e + n_t, n_e + n_t + 1
    tails = np.concatenate((np.full(len(active), source), establishment, n_e + np.arange(n_t), [source]))
    heads = np.concatenate((active, n_e + tutor, np.full(n_t, sink), [sink]))
    caps = np.concatenate(
        (np.ones(len(active) + len(tutor), dtype=np.int64), np.maximum(network.capacity, 0), [len(active)])
    ).astype(np.int64)
    costs = np.zeros(len(tails), dtype=np.int64)
    costs[: len(active)] = -network.priority_int[active]
    graph = min_cost_flow.SimpleMinCostFlow()
    graph.add_arcs_with_capacity_and_unit_cost(tails.astype(np.int32), heads.astype(np.int32), caps, costs)
    supplies = np.zeros(sink + 1, dtype=np.int64)
    supplies[source], supplies[sink] = len(active), -len(active)
    graph.set_nodes_supplies(np.arange(sink + 1, dtype=np.int32), supplies)
    if graph.solve() != graph.OPTIMAL or -graph.optimal_cost() != coverage:
        return None
    flows = np.asarray(graph.flows(np.arange(len(tails), dtype=np.int32)), dtype=np.int64)
    d = residual_potentials(sink + 1, tails.astype(np.int64), heads.astype(np.int64), caps, costs, flows)
    at = slice(len(active), len(active) + len(tutor))
    reduced = costs[at] + d[tails[at]] - d[heads[at]]
    must = np.zeros(n_e, dtype=bool)
    head = slice(0, len(active))
    # Flow on source -> e: its reverse residual arc has cost +priority; a positive reduced cost
    # there means no optimal flow leaves e uncovered.
    must[active] = (flows[head] > 0) & (-costs[head] + d[active] - d[source] > 0)
    return np.asarray((flows[at] > 0) | (reduced <= 0)), must


def least_km_with_groups(
    problem: Problem, options: SolveOptions, *, coverage: int, max_split: int, deadline: float
) -> GroupsKmResult | None:
    """Least km at ``coverage`` (integer priority) with at most ``max_split`` groups split (module notes).

    None where the model does not apply (minimum loads, all-or-nothing, a
    network too large, or ``coverage`` not the most priority).
    """
    import scipy.sparse as sp

    from tutormatch.solve._full_loads_matching import full_loads_network
    from tutormatch.solve._groups_exact import _group_ids
    from tutormatch.solve._lexico_flows import LARGE_ARCS
    from tutormatch.solve._matching import _explicit_pairs

    if problem.candidates.n_pairs > LARGE_ARCS:
        return None
    network = full_loads_network(problem, options)
    if np.any(network.min_load > 0) or network.all_or_nothing:
        return None
    tutor, establishment, cost, _ = _explicit_pairs(network)
    if len(tutor) > LARGE_ARCS:
        return None
    live = network.active[establishment] & (network.capacity[tutor] > 0)
    tutor, establishment, cost = tutor[live], establishment[live], cost[live].astype(np.int64)
    certificate = _coverage_pairs(network, tutor, establishment, coverage)
    if certificate is None:
        return None
    usable, must = certificate
    tutor, establishment, cost = tutor[usable], establishment[usable], cost[usable]
    n_t, n_e = network.n_tutors, network.n_establishments

    group, names = _group_ids(problem)
    n_g = len(names)
    # Tutors that fixed pairs give each group: two or more split it in every plan; one is its only owner.
    fixed = problem.fixed
    fixed_g = group[fixed[:, 1]] if len(fixed) else np.zeros(0, dtype=np.int64)
    keys = np.unique(fixed_g[fixed_g >= 0] * (n_t + 1) + fixed[fixed_g >= 0, 0]) if len(fixed) else fixed_g
    n_fixed_tutors = np.bincount(keys // (n_t + 1), minlength=n_g)
    owner = np.full(n_g, -1, dtype=np.int64)
    owner[keys[n_fixed_tutors[keys // (n_t + 1)] == 1] // (n_t + 1)] = keys[
        n_fixed_tutors[keys // (n_t + 1)] == 1
    ] % (n_t + 1)
    size = np.bincount(group[group >= 0], minlength=n_g)
    forced = n_fixed_tutors >= 2
    candidate = ~forced & (size >= 2)  # groups of one establishment are never split
    budget = max_split - int(forced.sum())
    if budget < 0:
        return None
    g_of = group[establishment]
    priority = network.priority_int.astype(np.int64)
    allowed_owner = _whole_owners(
        network, group, owner, candidate, tutor, establishment, must, coverage, budget
    )
    if allowed_owner is None:
        return None
    candidate = allowed_owner[2]
    budget -= int(((size >= 2) & ~forced & ~candidate).sum())
    if budget < 0:
        return None
    in_candidate = (g_of >= 0) & candidate[np.maximum(g_of, 0)]

    # Units of each candidate group's possible owners (a fixed owner is the only one).
    grouped = np.flatnonzero(in_candidate)
    pair_key = g_of[grouped] * (n_t + 1) + tutor[grouped]
    grouped = grouped[np.isin(pair_key, allowed_owner[0] * (n_t + 1) + allowed_owner[1])]
    unit_key = g_of[grouped] * (n_t + 1) + tutor[grouped]
    order = np.lexsort((establishment[grouped], cost[grouped], -priority[establishment[grouped]], unit_key))
    grouped, unit_key = grouped[order], unit_key[order]
    starts = np.flatnonzero(np.r_[True, unit_key[1:] != unit_key[:-1]]) if len(unit_key) else grouped[:0]
    rank = np.arange(len(unit_key)) - np.repeat(starts, np.diff(np.r_[starts, len(unit_key)]))
    within = rank < network.capacity[tutor[grouped]]
    units, rank = grouped[within], rank[within]

    pairs = np.flatnonzero(np.ones(len(tutor), dtype=bool))
    candidate_groups = np.flatnonzero(candidate)
    n_x, n_u, n_s = len(pairs), len(units), len(candidate_groups)
    n = n_x + n_u + n_s
    col_t = np.concatenate((tutor[pairs], tutor[units]))
    col_e = np.concatenate((establishment[pairs], establishment[units]))
    s_of = np.full(n_g, -1, dtype=np.int64)
    s_of[candidate_groups] = n_x + n_u + np.arange(n_s)
    blocks: list[tuple[sp.csr_matrix, FloatArray, FloatArray]] = []

    def block(
        r: IntArray, c: IntArray, v: FloatArray, n_rows: int, lo: float, hi: FloatArray | float
    ) -> None:
        matrix = sp.csr_matrix((v, (r, c)), shape=(n_rows, n))
        upper = np.broadcast_to(np.asarray(hi, dtype=np.float64), (n_rows,)).copy()
        blocks.append((matrix, np.full(n_rows, lo), upper))

    plan_cols = np.arange(n_x + n_u)
    ones = np.ones(n_x + n_u)
    block(col_e, plan_cols, ones, n_e, 0.0, 1.0)  # each establishment at most once
    block(col_t, plan_cols, ones, n_t, 0.0, network.capacity.astype(np.float64))
    block(
        np.zeros(n_x + n_u, dtype=np.int64),
        plan_cols,
        priority[col_e].astype(np.float64),
        1,
        coverage,
        math.inf,
    )
    # A split group's members by pairs: sum_t x_te - s_g <= 0.
    member_x = np.flatnonzero(in_candidate[pairs])
    x_rows = np.unique(establishment[pairs[member_x]], return_inverse=True)
    n_rows = len(x_rows[0])
    rows_s = np.arange(n_rows)
    s_cols = s_of[group[x_rows[0]]]
    block(
        np.r_[x_rows[1], rows_s],
        np.r_[member_x, s_cols],
        np.r_[np.ones(len(member_x)), -np.ones(n_rows)],
        n_rows,
        -math.inf,
        0.0,
    )
    # A whole group's one owner: sum_t y_gt1 + s_g <= 1.
    first = np.flatnonzero(rank == 0)
    g_first = g_of[units[first]]
    rows_g = np.searchsorted(candidate_groups, g_first)
    block(
        np.r_[rows_g, np.arange(n_s)],
        np.r_[n_x + first, n_x + n_u + np.arange(n_s)],
        np.ones(len(first) + n_s),
        n_s,
        0.0,
        1.0,
    )
    chain = np.flatnonzero(rank > 0)  # y_j <= y_{j-1}
    if len(chain):
        r = np.arange(len(chain))
        block(
            np.r_[r, r],
            n_x + np.r_[chain, chain - 1],
            np.r_[np.ones(len(chain)), -np.ones(len(chain))],
            len(chain),
            -math.inf,
            0.0,
        )
    block(np.zeros(n_s, dtype=np.int64), n_x + n_u + np.arange(n_s), np.ones(n_s), 1, 0.0, float(budget))
    c = np.concatenate((cost[pairs], cost[units], np.zeros(n_s))).astype(np.float64)
    matrix = sp.vstack([b[0] for b in blocks]).tocsr()
    lower = np.concatenate([b[1] for b in blocks])
    upper = np.concatenate([b[2] for b in blocks])
    model = _Model(c, matrix, lower, upper, n_x + n_u)
    best: IntArray | None = None
    upper_cost = math.inf
    # (linprog wants two columns or more: a smaller model goes to the MIP whole.)
    lp = model.relaxation(deadline) if n >= 2 else None
    lower_bound = -math.inf
    reduced = np.zeros(n)
    if lp is not None:
        x_lp, lower_bound, reduced = lp
        # Plans from the relaxation: the groups it keeps most whole (s_g smallest; the need - 1 first,
        # then each of the next few in turn), each to its largest owner unit, then the lexicographic flow
        # (most priority, then least km) with those groups' pairs to their owners only.
        need = n_s - budget
        by_s = candidate_groups[np.argsort(np.asarray(x_lp[n_x + n_u :]), kind="stable")]
        first_g = g_of[units[first]]
        share = np.asarray(x_lp[n_x + first])
        owner_of = np.full(n_g, -1, dtype=np.int64)
        for g in by_s[: need + _ROUNDINGS].tolist():
            at = np.flatnonzero(first_g == g)
            if len(at):
                owner_of[g] = int(tutor[units[first[at[np.argmax(share[at])]]]])
        tries = (
            [by_s[:need]]
            if need <= 0
            else [np.r_[by_s[: need - 1], g] for g in by_s[need - 1 : need + _ROUNDINGS]]
        )
        for whole in tries:
            mask = np.ones(len(tutor), dtype=bool)
            in_whole = (g_of >= 0) & np.isin(g_of, whole)
            mask[in_whole] = owner_of[g_of[in_whole]] == tutor[in_whole]
            plan = _lexicographic_flow(network, tutor, establishment, cost, mask, coverage)
            if plan is None or _split(problem, group, tutor[plan], establishment[plan]) > max_split:
                continue
            if float(cost[plan].sum()) < upper_cost:
                best, upper_cost = plan, float(cost[plan].sum())
    # Reduced-cost fixing: a plan better than the incumbent (integer km, so by 1 at least) uses no
    # column whose bound with it set exceeds that.
    keep = lower_bound + np.maximum(reduced, 0.0) <= upper_cost - 1.0 + _MARGIN * max(1.0, abs(upper_cost))
    keep[n_x + n_u :] = True
    if n == 0:  # nothing can be covered: the empty plan
        return GroupsKmResult(tutor[:0], establishment[:0], True, 0.0, network.cost_unit_km, 0)
    found = model.solve(keep, deadline)
    proven = False
    km_bound = lower_bound
    if found is not None:
        status, chosen, dual = found
        if chosen is not None:
            value = float(c[: n_x + n_u][chosen].sum())
            if value < upper_cost:
                best, upper_cost = _pairs_of(chosen, n_x, pairs, units), value
        if status == "optimal" or status == "infeasible":
            proven = best is not None  # no plan below the incumbent outside the kept columns
            km_bound = upper_cost if proven else km_bound
        elif math.isfinite(dual):
            km_bound = max(km_bound, min(dual, upper_cost))
    if best is None:
        return None
    return GroupsKmResult(
        tutor=tutor[best],
        establishment=establishment[best],
        proven=proven,
        km_bound=km_bound,
        cost_unit_km=network.cost_unit_km,
        columns=int(keep.sum()),
    )


_ROUNDINGS = 4  # plans tried from the relaxation (each one flow)
_MARGIN = 1e-9  # relative slack on floating-point bounds: a column kept in doubt, never dropped


def _pairs_of(chosen: npt.NDArray[np.bool_], n_x: int, pairs: IntArray, units: IntArray) -> IntArray:
    """Return the explicit pair indices of a solution's chosen pair and unit columns."""
    return np.sort(np.concatenate((pairs[np.flatnonzero(chosen[:n_x])], units[np.flatnonzero(chosen[n_x:])])))


def _split(problem: Problem, group: IntArray, tutor: IntArray, establishment: IntArray) -> int:
    """Return the groups split by these free pairs and the problem's fixed pairs."""
    fixed = problem.fixed
    t = np.concatenate((tutor, fixed[:, 0])).astype(np.int64)
    e = np.concatenate((establishment, fixed[:, 1])).astype(np.int64)
    g = group[e]
    keys = np.unique(g[g >= 0] * (int(t.max(initial=0)) + 1) + t[g >= 0])
    per_group = np.bincount(keys // (int(t.max(initial=0)) + 1)) if len(keys) else keys
    return int((per_group > 1).sum())


def _lexicographic_flow(
    network: Network,
    tutor: IntArray,
    establishment: IntArray,
    cost: IntArray,
    mask: npt.NDArray[np.bool_],
    coverage: int,
) -> IntArray | None:
    """Return the pairs of the most priority, then least km, on the pairs of ``mask`` (None: less)."""
    from ortools.graph.python import min_cost_flow

    n_e, n_t = network.n_establishments, network.n_tutors
    active = np.flatnonzero(network.active)
    use = np.flatnonzero(mask)
    source, sink = n_e + n_t, n_e + n_t + 1
    span = int(np.abs(cost[use]).sum()) + 1  # above every plan's km: the priority first
    prio = network.priority_int.astype(np.int64)
    if span * int(prio.max(initial=1)) * (sink + 2) >= 2**62:
        return None
    tails = np.concatenate((np.full(len(active), source), establishment[use], n_e + np.arange(n_t), [source]))
    heads = np.concatenate((active, n_e + tutor[use], np.full(n_t, sink), [sink]))
    caps = np.concatenate(
        (np.ones(len(active) + len(use), dtype=np.int64), np.maximum(network.capacity, 0), [len(active)])
    ).astype(np.int64)
    costs = np.zeros(len(tails), dtype=np.int64)
    costs[: len(active)] = -span * prio[active]
    costs[len(active) : len(active) + len(use)] = cost[use]
    graph = min_cost_flow.SimpleMinCostFlow()
    arcs = graph.add_arcs_with_capacity_and_unit_cost(
        tails.astype(np.int32), heads.astype(np.int32), caps, costs
    )
    supplies = np.zeros(sink + 1, dtype=np.int64)
    supplies[source], supplies[sink] = len(active), -len(active)
    graph.set_nodes_supplies(np.arange(sink + 1, dtype=np.int32), supplies)
    if graph.solve() != graph.OPTIMAL:
        return None
    flows = np.asarray(graph.flows(arcs), dtype=np.int64)
    chosen = use[flows[len(active) : len(active) + len(use)] > 0]
    if int(prio[establishment[chosen]].sum()) < coverage:
        return None
    return np.sort(chosen)


@dataclass(frozen=True)
class _Model:
    """The MIP of the module notes: min ``c x``, ``lower <= A x <= upper``, ``x`` binary."""

    c: FloatArray
    matrix: Any
    lower: FloatArray
    upper: FloatArray
    n_plan: int  # the pair and unit columns (the rest: one "may be split" per group)

    def relaxation(self, deadline: float) -> tuple[FloatArray, float, FloatArray] | None:
        r"""Solve the LP; return its solution, a proven lower bound and each column's reduced cost.

        The bound is recomputed from the row duals :math:`m \le 0` of
        :math:`A_{ub} x \le b`: for every :math:`x \in [0, 1]^n` of the
        rows, :math:`c x \ge m^\top b + \sum_j \min(0, \bar c_j)` with
        :math:`\bar c = c - A_{ub}^\top m` (so floating-point duals give a
        valid bound), and :math:`x_j = 1` adds :math:`\max(0, \bar c_j)`.
        """
        import scipy.sparse as sp
        from scipy.optimize import linprog

        if deadline - time.perf_counter() <= 0.05:
            return None
        up, low = self.upper < math.inf, self.lower > -math.inf
        # A lower bound of 0 or less on a row of non-negative coefficients always holds: left out.
        least = self.matrix.minimum(0).sum(axis=1).A1  # the row's least value over [0, 1]^n
        low &= self.lower > least
        a_ub = sp.vstack([self.matrix[up], -self.matrix[low]]).tocsr()
        b_ub = np.concatenate((self.upper[up], -self.lower[low]))
        lp = linprog(
            self.c,
            A_ub=a_ub,
            b_ub=b_ub,
            bounds=(0, 1),
            method="highs-ds",
            options={"time_limit": max(deadline - time.perf_counter(), 0.01)},
        )
        if lp.status != 0:
            return None
        m = np.minimum(np.asarray(lp.ineqlin.marginals, dtype=np.float64), 0.0)
        reduced = self.c - a_ub.T @ m
        bound = float(m @ b_ub + np.minimum(reduced, 0.0).sum())
        return np.asarray(lp.x, dtype=np.float64), bound, np.asarray(reduced, dtype=np.float64)

    def solve(
        self, keep: npt.NDArray[np.bool_], deadline: float
    ) -> tuple[str, npt.NDArray[np.bool_] | None, float] | None:
        """Solve the MIP on the columns ``keep`` (the others 0); status, chosen plan columns, dual bound."""
        from scipy.optimize import Bounds, LinearConstraint, milp

        seconds = deadline - time.perf_counter()
        if seconds <= 0.05:
            return None
        where = np.flatnonzero(keep)
        if len(where) == 0:  # only the zero plan is left (milp wants a column)
            if np.all(self.lower <= 0.0) and np.all(self.upper >= 0.0):
                return "optimal", np.zeros(self.n_plan, dtype=bool), 0.0
            return "infeasible", None, math.nan
        found = milp(
            c=self.c[where],
            constraints=LinearConstraint(self.matrix[:, where], self.lower, self.upper),
            integrality=np.ones(len(where)),
            bounds=Bounds(0, 1),
            # HiGHS' presolve took most of the time on these models (see _groups_exact): off.
            options={"time_limit": seconds, "mip_rel_gap": 0.0, "presolve": False},
        )
        status = {0: "optimal", 2: "infeasible"}.get(int(getattr(found, "status", 1)), "limit")
        x = getattr(found, "x", None)
        chosen = None
        if x is not None:
            full = np.zeros(len(self.c), dtype=bool)
            full[where[np.asarray(x) > 0.5]] = True
            chosen = full[: self.n_plan]
        dual = getattr(found, "mip_dual_bound", None)
        return status, chosen, math.nan if dual is None or status == "infeasible" else float(dual)


def _whole_owners(
    network: Network,
    group: IntArray,
    owner: IntArray,
    candidate: npt.NDArray[np.bool_],
    tutor: IntArray,
    establishment: IntArray,
    must: npt.NDArray[np.bool_],
    coverage: int,
    budget: int,
) -> tuple[IntArray, IntArray, npt.NDArray[np.bool_]] | None:
    """Return the (group, tutor) pairs that can own a whole group in a plan of ``coverage`` (exact).

    And the groups that can be whole at all (with no covered member, too).

    A group whole with owner :math:`t` leaves uncovered its members
    :math:`t` cannot take, and all but :math:`k_t` of the rest: at least the
    smallest such priorities :math:`d_{gt}` (members every plan covers
    cannot be left: then :math:`t` cannot own it). Every plan of most
    priority leaves exactly ``room`` uncovered among the coverable
    establishments, and at least ``need`` groups are whole, so an owner with
    :math:`d_{gt}` plus the ``need - 1`` smallest :math:`d` of other groups
    above ``room`` owns no whole group. (A whole group with no covered
    member needs no owner: no units.)
    """
    n_t, n_g = network.n_tutors, len(candidate)
    prio = network.priority_int.astype(np.int64)
    coverable = np.zeros(network.n_establishments, dtype=bool)
    coverable[establishment] = True
    room = int(prio[coverable & network.active].sum()) - coverage
    member = (group >= 0) & network.active
    member &= candidate[np.maximum(group, 0)]
    lost = np.where(coverable, prio, 0)  # leaving a member no tutor can take costs nothing
    g_pairs = group[establishment]
    in_group = (g_pairs >= 0) & candidate[np.maximum(g_pairs, 0)]
    keys = np.unique(g_pairs[in_group] * (n_t + 1) + tutor[in_group])
    owner_ok = (owner[keys // (n_t + 1)] < 0) | (owner[keys // (n_t + 1)] == keys % (n_t + 1))
    keys = keys[owner_ok]
    huge = 2**40  # above any priority total, and any few of them add up within int64
    # Per (group, tutor): its pairs to the group's members, the members no plan leaves first, then by
    # the priority lost when left (ascending): the cheapest members to leave come first.
    pick = np.flatnonzero(in_group & member[establishment])
    pick_key = g_pairs[pick] * (n_t + 1) + tutor[pick]
    pick = pick[np.isin(pick_key, keys)]
    pick_key = g_pairs[pick] * (n_t + 1) + tutor[pick]
    pick_key, first_at = np.unique(
        pick_key * network.n_establishments + establishment[pick], return_index=True
    )
    pick = pick[first_at]
    pick_key = pick_key // network.n_establishments
    e = establishment[pick]
    order = np.lexsort((lost[e], must[e], pick_key))
    pick_key, e = pick_key[order], e[order]
    at = np.searchsorted(keys, pick_key)
    takes = np.bincount(at, minlength=len(keys))
    takes_must = np.bincount(at, weights=must[e], minlength=len(keys)).astype(np.int64)
    takes_lost = np.bincount(at, weights=lost[e], minlength=len(keys)).astype(np.int64)
    g_key, t_key = keys // (n_t + 1), keys % (n_t + 1)
    n_must = np.bincount(group[member & must], minlength=n_g)
    lost_g = np.bincount(group[member], weights=lost[member], minlength=n_g).astype(np.int64)
    extra = np.maximum(takes - network.capacity[t_key], 0)
    optional = takes - takes_must
    # The extra members to leave: the first of the key's segment (not must, least priority first).
    start = np.r_[0, np.cumsum(takes)[:-1]]
    running = np.r_[0, np.cumsum(lost[e])]
    leave = running[start + np.minimum(extra, optional)] - running[start]
    cost_of = lost_g[g_key] - takes_lost + leave
    cost_of = np.where((takes_must == n_must[g_key]) & (extra <= optional), cost_of, huge)
    # A whole group may also cover none of its members (when none must be covered).
    empty = np.where(n_must == 0, lost_g, huge)
    best = empty.copy()
    np.minimum.at(best, keys // (n_t + 1), cost_of)
    need = int(candidate.sum()) - budget
    if need <= 0:
        return keys // (n_t + 1), keys % (n_t + 1), candidate.copy()
    finite = np.sort(best[candidate])
    if len(finite) < need or int(finite[:need].sum()) > room:
        return None  # fewer whole groups possible than asked: not the phase after a proven G
    # The need - 1 smallest d of the other groups: the need smallest less this group's own when in them.
    smallest = finite[:need]
    others = int(smallest.sum()) - np.where(best <= smallest[-1], best, smallest[-1])
    ok = cost_of + others[keys // (n_t + 1)] <= room
    can_be_whole = candidate & (best + others <= room)
    return keys[ok] // (n_t + 1), keys[ok] % (n_t + 1), can_be_whole
