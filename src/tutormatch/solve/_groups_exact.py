r"""Hard groups (a group's covered establishments with one tutor), then least km: a MIP on group columns.

Notes
-----
Under hard groups the establishments of a group :math:`g` can only go to
its one tutor (its *owner*). Once the owner :math:`t` and how many of the
group it takes (:math:`k \le` its places) are chosen, no other tutor
competes for those establishments, so the best :math:`k` of them are the
first :math:`k` in the order (priority descending, km cost ascending): for
"most priority, then least km" a prefix of that order is optimal (an
exchange argument: any other choice of :math:`k` loses priority, or keeps it
and costs more km, and changes nothing elsewhere). Each pair
:math:`(g, t)` therefore becomes a chain of *units* :math:`y_{gt1} \ge
y_{gt2} \ge \dots` (unit :math:`j` is the :math:`j`-th member in that
order, :math:`j \le` the tutor's places), and

.. math::

    \max \sum p\,y \quad \text{s.t.}\quad \sum_t y_{gt1} \le 1 \;\forall g,
    \qquad \sum_{g, j} y_{gtj} + \sum_{e \notin \text{groups}} x_{te} \le k_t \;\forall t,
    \qquad \sum_t x_{te} \le 1,

then the least km cost with the priority held at its optimum. Both are
solved by HiGHS (``scipy.optimize.milp``) with a zero gap: the LP
relaxation of this model was integral in value on the example académie
(406 = 406), where the model on one boolean per pair is far from it.
Establishments without a group keep one variable per pair. Fixed pairs
make their tutor the group's only possible owner.

**What "hard" means when a group is larger than a tutor's places**: the
rule holds as stated (a group is never split), so such a group keeps at
most its owner's places covered and the rest stay uncovered; coverage is
the most the rule allows. The plan's message counts such groups: for them
the soft criterion ``groups`` (fewest split) is the useful one.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from tutormatch.errors import InputError
from tutormatch.model._problem import Problem
from tutormatch.solve._assignment import Assignment
from tutormatch.solve._criteria import Criterion
from tutormatch.solve._network import Network
from tutormatch.solve._options import SolveOptions

__all__ = ["HardGroupsResult", "hard_groups_plan", "solve_hard_groups", "too_large_groups"]

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class HardGroupsResult:
    """The plan's explicit pairs and what was proven."""

    tutor: IntArray
    establishment: IntArray
    coverage_proven: bool
    km_proven: bool
    coverage_bound: float  # proven upper bound on the integer priority covered (free pairs)
    km_bound: float  # proven lower bound on the integer km cost at that coverage
    too_large: tuple[str, ...]
    priority_scale: float  # integer priority per unit of priority
    cost_unit_km: float  # km per integer cost unit


def _group_ids(problem: Problem) -> tuple[IntArray, list[str]]:
    from tutormatch.solve._groups import establishment_groups

    labels = establishment_groups(problem)
    names = sorted(set(labels.tolist()) - {""})
    index = {g: i for i, g in enumerate(names)}
    return np.array([index.get(v, -1) for v in labels.tolist()], dtype=np.int64), names


def too_large_groups(problem: Problem) -> tuple[str, ...]:
    """Return the groups with more establishments than any tutor has places (never kept whole)."""
    group, names = _group_ids(problem)
    sizes = np.bincount(group[group >= 0], minlength=len(names))
    most = int(problem.tutors.capacity.max(initial=0))
    return tuple(names[g] for g in np.flatnonzero(sizes > most).tolist())


Rows = list[tuple[Any, list[float], list[float]]]


def _milp(c: npt.NDArray[np.float64], rows: Rows, seconds: float) -> Any:
    import scipy.sparse as sp
    from scipy.optimize import Bounds, LinearConstraint, milp

    matrix = sp.vstack([r[0] for r in rows]).tocsr()
    lower = np.concatenate([r[1] for r in rows])
    upper = np.concatenate([r[2] for r in rows])
    return milp(
        c=c,
        constraints=LinearConstraint(matrix, lower, upper),
        integrality=np.ones(len(c)),
        bounds=Bounds(0, 1),
        # HiGHS' presolve took 5-11 s of the 6-12 s of these MIPs on the example académie (measured;
        # without it 0.8-1.5 s, the same optima, solved at the root): off.
        options={"time_limit": max(seconds, 0.01), "mip_rel_gap": 0.0, "presolve": False},
    )


def _reduced_columns(
    gain: npt.NDArray[np.float64], rows: Rows, deadline: float
) -> tuple[npt.NDArray[np.bool_] | None, int]:
    r"""Solve the LP of most priority; return the columns its reduced costs leave, and its floor.

    With :math:`z` the LP optimum and :math:`T = \lfloor z \rfloor` (integer
    priorities), a column whose reduced cost exceeds :math:`z - T` is in no
    plan of priority :math:`T` (LP duality): dropped. A plan of priority
    :math:`T` on the rest is then optimal, and the least km at :math:`T`
    is found on the rest. None when the LP fails or time is out.
    """
    import scipy.sparse as sp
    from scipy.optimize import linprog

    matrix = sp.vstack([r[0] for r in rows]).tocsr()
    lower = np.concatenate([r[1] for r in rows])
    upper = np.concatenate([r[2] for r in rows])
    # A lower bound at or below the row's least value over [0, 1]^n always holds: left out.
    has_lower = lower > matrix.minimum(0).sum(axis=1).A1
    a_ub = sp.vstack([matrix, -matrix[has_lower]]).tocsr()
    b_ub = np.concatenate((upper, -lower[has_lower]))
    lp = linprog(-gain, A_ub=a_ub, b_ub=b_ub, bounds=(0, 1), method="highs")
    if lp.status != 0 or time.perf_counter() >= deadline:
        return None, 0
    z = -float(lp.fun)
    target = math.floor(z + 1e-6)
    reduced = np.asarray(lp.lower.marginals)
    keep = ~((np.asarray(lp.x) < 1e-9) & (reduced > z - target + 1e-6))
    return keep, target


def solve_hard_groups(problem: Problem, options: SolveOptions, deadline: float) -> HardGroupsResult | None:
    """Most priority with every group kept to one tutor, then least km (module notes).

    None where the model does not apply (minimum loads, all-or-nothing, more pairs than
    :data:`tutormatch.solve._lexico_flows.LARGE_ARCS`: the engine decides those by flows).

    Raises
    ------
    InputError
        Fixed pairs that give a group two tutors.
    """
    import scipy.sparse as sp

    from tutormatch.solve._full_loads_matching import full_loads_network
    from tutormatch.solve._lexico_flows import LARGE_ARCS
    from tutormatch.solve._matching import _explicit_pairs

    if problem.candidates.n_pairs > LARGE_ARCS:
        return None  # the flows of the engine's large networks (one tutor a group) instead
    network = full_loads_network(problem, options)
    if np.any(network.min_load > 0) or network.all_or_nothing:
        return None
    group, names = _group_ids(problem)
    owner = np.full(len(names), -1, dtype=np.int64)
    for t, e in problem.fixed.tolist():
        g = int(group[e])
        if g < 0:
            continue
        if owner[g] >= 0 and owner[g] != t:
            ids = sorted({str(problem.tutors.id[owner[g]]), str(problem.tutors.id[t])})
            raise InputError(
                f"groups='hard': the fixed pairs give group {names[g]!r} 2 tutors ({', '.join(ids)}); "
                "a hard group has one. Drop a fixed pair or use the soft criterion 'groups'."
            )
        owner[g] = t
    tutor, establishment, cost, _ = _explicit_pairs(network)
    if len(tutor) > LARGE_ARCS:
        return None  # the flows of the engine's large networks (one tutor a group) instead
    keep = network.active[establishment] & (network.capacity[tutor] > 0)
    g_of = group[establishment]
    keep &= (g_of < 0) | (owner[np.maximum(g_of, 0)] < 0) | (owner[np.maximum(g_of, 0)] == tutor)
    tutor, establishment, cost = tutor[keep], establishment[keep], cost[keep].astype(np.int64)
    g_of = group[establishment]
    priority = network.priority_int.astype(np.int64)
    n_t, n_g = network.n_tutors, len(names)

    # Units: per (group, tutor), the members in the order (priority desc, cost asc, establishment).
    grouped = np.flatnonzero(g_of >= 0)
    key = g_of[grouped] * max(n_t, 1) + tutor[grouped]
    order = np.lexsort((establishment[grouped], cost[grouped], -priority[establishment[grouped]], key))
    grouped, key = grouped[order], key[order]
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]]) if len(key) else np.zeros(0, np.int64)
    rank = np.arange(len(key)) - np.repeat(starts, np.diff(np.r_[starts, len(key)]))
    within = rank < network.capacity[tutor[grouped]]
    units, rank = grouped[within], rank[within]
    free = np.flatnonzero(g_of < 0)
    columns = np.concatenate((units, free))
    n = len(columns)
    col_t, col_e = tutor[columns], establishment[columns]
    n_units = len(units)
    rows: Rows = []

    def block(r: IntArray, c: IntArray, v: npt.NDArray[np.float64], n_rows: int, lo: float, hi: Any) -> None:
        matrix = sp.csr_matrix((v, (r, c)), shape=(n_rows, n))
        upper = np.broadcast_to(np.asarray(hi, dtype=np.float64), (n_rows,))
        rows.append((matrix, np.full(n_rows, lo).tolist(), upper.tolist()))

    first = np.flatnonzero(rank == 0)
    block(g_of[units[first]], first, np.ones(len(first)), n_g, 0.0, 1.0)  # one owner per group
    block(col_t, np.arange(n), np.ones(n), n_t, 0.0, network.capacity.astype(np.float64))
    chain = np.flatnonzero(rank > 0)
    if len(chain):
        r = np.arange(len(chain))
        block(
            np.r_[r, r],
            np.r_[chain, chain - 1],
            np.r_[np.ones(len(chain)), -np.ones(len(chain))],
            len(chain),
            -1.0,
            0.0,
        )
    if len(free):
        e_free = col_e[n_units:]
        block(e_free, n_units + np.arange(len(free)), np.ones(len(free)), network.n_establishments, 0.0, 1.0)

    gain = priority[col_e].astype(np.float64)
    cost_f = cost[columns].astype(np.float64)
    if n == 0:  # nothing can be covered
        return _result(network, col_t, col_e, np.zeros(0, dtype=bool), True, True, 0.0, 0.0, problem)
    # (linprog wants two columns or more.)
    kept, target = _reduced_columns(gain, rows, deadline) if n > 1 else (None, 0)
    if kept is not None:
        # The least km at the LP's priority on the columns left: a plan there proves both at once
        # (no plan covers more than the LP); none (infeasible), or none in time: the two phases below.
        where = np.flatnonzero(kept)
        sub = [(m.tocsr()[:, kept], lo, hi) for m, lo, hi in rows]
        sub.append((sp.csr_matrix(gain[kept][None, :]), [target - 0.5], [math.inf]))
        found = _milp(cost_f[kept], sub, deadline - time.perf_counter())
        x = getattr(found, "x", None)
        if x is not None:
            chosen = np.zeros(n, dtype=bool)
            chosen[where[np.asarray(x) > 0.5]] = True
            km_proven = getattr(found, "status", 1) == 0
            dual = getattr(found, "mip_dual_bound", None)
            km_bound = math.nan if dual is None else float(dual)
            return _result(network, col_t, col_e, chosen, True, km_proven, float(target), km_bound, problem)
    return _two_phases(network, problem, col_t, col_e, gain, cost_f, rows, deadline)


def _two_phases(
    network: Network,
    problem: Problem,
    col_t: IntArray,
    col_e: IntArray,
    gain: npt.NDArray[np.float64],
    cost: npt.NDArray[np.float64],
    rows: Rows,
    deadline: float,
) -> HardGroupsResult | None:
    """Most priority on every column, then the least km at it (each a MIP)."""
    import scipy.sparse as sp

    found = _milp(-gain, rows, deadline - time.perf_counter())
    x = getattr(found, "x", None)
    if x is None:
        return None
    chosen = np.asarray(x) > 0.5
    if getattr(found, "status", 1) != 0:
        dual = getattr(found, "mip_dual_bound", None)
        bound = math.nan if dual is None else math.floor(-float(dual) + 1e-6)
        return _result(network, col_t, col_e, chosen, False, False, bound, math.nan, problem)
    target = round(float(gain[chosen].sum()))
    km_proven, km_bound = False, math.nan
    if time.perf_counter() < deadline:
        # Least km at that priority (integer priorities: at least the optimum minus a half).
        second = _milp(
            cost,
            [*rows, (sp.csr_matrix(gain[None, :]), [target - 0.5], [math.inf])],
            deadline - time.perf_counter(),
        )
        y = getattr(second, "x", None)
        if y is not None:
            chosen = np.asarray(y) > 0.5
            km_proven = getattr(second, "status", 1) == 0
            dual = getattr(second, "mip_dual_bound", None)
            km_bound = math.nan if dual is None else float(dual)
    return _result(network, col_t, col_e, chosen, True, km_proven, float(target), km_bound, problem)


def _result(
    network: Network,
    col_t: IntArray,
    col_e: IntArray,
    chosen: npt.NDArray[np.bool_],
    coverage_proven: bool,
    km_proven: bool,
    coverage_bound: float,
    km_bound: float,
    problem: Problem,
) -> HardGroupsResult:
    return HardGroupsResult(
        tutor=col_t[chosen],
        establishment=col_e[chosen],
        coverage_proven=coverage_proven,
        km_proven=km_proven,
        coverage_bound=coverage_bound,
        km_bound=km_bound,
        too_large=too_large_groups(problem),
        priority_scale=network.priority_scale,
        cost_unit_km=network.cost_unit_km,
    )


def hard_groups_plan(
    problem: Problem, criteria: tuple[Criterion, ...], options: SolveOptions, deadline: float
) -> Assignment | None:
    """Return the plan of :func:`solve_hard_groups` with its ``criteria`` (coverage, km) stated.

    OPTIMAL when both phases are proven; otherwise FEASIBLE with each
    unproven criterion's proven bound. None where the model does not apply.
    """
    import dataclasses

    from tutormatch.solve._fair import criteria_entries
    from tutormatch.solve._solve import plan_from_free_pairs
    from tutormatch.solve._status import Status

    started = time.perf_counter()
    found = solve_hard_groups(problem, options, deadline)
    if found is None:
        return None
    fixed = problem.fixed
    proven = found.coverage_proven and found.km_proven
    note = ""
    if found.too_large:
        shown = ", ".join(repr(g) for g in found.too_large[:3])
        shown += ", ..." if len(found.too_large) > 3 else ""
        note = (
            f"; {len(found.too_large)} groups ({shown}) have more establishments than any tutor has places: "
            "kept whole, they leave the rest uncovered (the soft criterion 'groups' splits the fewest "
            "instead)"
        )
    plan = plan_from_free_pairs(
        problem,
        found.tutor,
        found.establishment,
        status=Status.OPTIMAL if proven else Status.FEASIBLE,
        solver="hard-groups-mip",
        message="ordered criteria with hard groups, by group columns (HiGHS): coverage "
        + ("proven" if found.coverage_proven else "not proven")
        + ", km "
        + ("proven" if found.km_proven else "not proven")
        + note,
        stats={"coverage_bound_int": found.coverage_bound, "km_bound_int": found.km_bound},
        started=started,
    )
    fixed_priority = float(problem.establishments.priority[fixed[:, 1]].sum())
    fixed_km = float(plan.cost_km[plan.is_fixed].sum())
    bounds = {
        "coverage": (found.coverage_proven, fixed_priority + found.coverage_bound / found.priority_scale),
        "km": (found.km_proven, fixed_km + found.km_bound * found.cost_unit_km),
    }
    values, gap = criteria_entries(plan, [(c, *bounds[c.name]) for c in criteria])
    if not proven:
        plan = dataclasses.replace(plan, bound=math.nan, gap=gap)
    return dataclasses.replace(plan, criteria=values)
