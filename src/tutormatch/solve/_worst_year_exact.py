r"""The worst yearly travel of a tutor (on-site), then the least km: a configuration LP, then a MIP.

Notes
-----
A tutor's year is the sum of its pairs' yearly metres :math:`w_a`
(``2 x visits x road km``) plus those of its fixed pairs :math:`b_t`. For a
limit :math:`T`, a *column* of tutor :math:`t` is a set :math:`S` of its
pairs, at most its places :math:`k_t \le 3`, with :math:`b_t + \sum_{a \in
S} w_a \le T`. The configuration model

.. math::

    z(T) = \max \sum_S p(S)\,\lambda_S \quad \text{s.t.}\quad
    \sum_{S \ni e} \lambda_S \le 1 \;\forall e, \qquad
    \sum_{S \text{ of } t} \lambda_S \le 1 \;\forall t

is the most priority coverable with every tutor within :math:`T`. Its LP
relaxation knows each tutor's sum (the model on one boolean per pair does
not): on the example académie on-site it proves that no plan of most
priority keeps every tutor within 1,366.601 km, where the flows' floor is
790 km and CP-SAT had raised it to 1,083 km in 30 s. The LP is solved by
column generation (HiGHS's simplex as scipy ships it, primal, warm started
after each batch of columns, first columns from the plan of least km):
for duals :math:`\pi_e \ge 0`, the
best column of a tutor is a knapsack of at most three items, priced
exactly for every tutor at once (items sorted by metres, range maxima by a
sparse table). Any :math:`\pi \ge 0` gives the Lagrangian bound

.. math::

    L(\pi) = \sum_e \pi_e + \sum_t \max\big(0, \max_S \textstyle\sum_{a \in S}
    (p_a - \pi_a)\big) \;\ge\; z(T),

so "no plan within :math:`T`" is proven when :math:`L(\pi) <` the
coverage target :math:`P^*` (the optimum of the flow, proven; an integer,
so the LP needs no rounding margin but the float sum's). Every item of
positive value, however small, is priced: :math:`L(\pi)` is exact only so. The least
:math:`T` the LP allows, :math:`T_{LP}`, is found by bisection (a feasible
LP answer jumps the upper end down to its largest used column). It is a
proven lower bound on the worst year.

Then **reduced costs make the MIP exact and small**: a plan of priority at
least :math:`P^*` within :math:`T` satisfies :math:`P^* \le L(\pi) -
\sum_t (\text{best}_t - \text{val}_t(S_t))`, so each tutor's column has
:math:`\text{val}_t(S_t) \ge \text{best}_t - (L(\pi) - P^*)` (the empty
column has value 0). Every such column is enumerated; the MIP on them
(HiGHS, ``scipy.optimize.milp``, zero gap) minimises the km cost with the
priority at least :math:`P^*`. A plan there is within :math:`T_{LP}`: the
worst year is proven at :math:`T_{LP}` and its km proven least among the
plans of most priority within it (both phases at once, as the hard
groups' MIP does). When the MIP finds none, the next limits above are
tried (:math:`T_{LP}` is then not reachable, a higher proven bound).

The enumeration is small when the duals discriminate. On the example
académie they do not: at :math:`T_{LP}` the LP is tight (731 = 731) but
about 30,000 pairs have reduced value exactly 0, and every set of them
would qualify (more than :data:`MAX_COLUMNS`). The bound then goes to the
ordered engine (:mod:`tutormatch.solve._lexico`), whose flows with tutors
split into places (:mod:`tutormatch.solve._worst_year`) start at it: on
the example they find a plan at 1,366.602 km, so the worst year is proven
(the least km after it is left to CP-SAT, not proven in 30 s). A MIP on
the LP's own 27,000 columns found no plan in 60 s.

Applies on-site (no remote pair), without minimum loads or all-or-nothing
loads, and with at most three places per tutor and at most
:data:`MAX_ARCS` pairs; otherwise the engine's other methods.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from tutormatch.model._problem import Problem
from tutormatch.solve._assignment import Assignment
from tutormatch.solve._criteria import Criterion
from tutormatch.solve._network import Network
from tutormatch.solve._options import SolveOptions

__all__ = ["MAX_ARCS", "MAX_COLUMNS", "WorstYearResult", "solve_worst_year", "worst_year_plan"]

logger = logging.getLogger(__name__)

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

#: Most pairs of a network this method takes (national networks: the engine's flows instead).
MAX_ARCS = 100_000
#: Most columns the exact MIP takes (the reduced-cost enumeration beyond it: not proven here).
MAX_COLUMNS = 150_000
#: Most places a tutor may have (columns are sets of at most three pairs).
MAX_PLACES = 3
_EPS = 1e-7
_ROUNDING = 1e-9  # float rounding of a sum of duals: a refutation needs L(pi) below the target by more
_BOUND_SHARE = 0.6  # of the time for the LP bound and the exact MIP (the km LP may use the rest)
_TOP = 4  # columns of each size added per tutor and pricing round
_KEY = np.int64(1) << 42  # tutor * _KEY + metres: one sorted key (metres < 4.4e12)


@dataclass(frozen=True)
class _Items:
    """The pairs sorted by (tutor, yearly metres): what the columns are made of."""

    tutor: IntArray
    establishment: IntArray
    metres: IntArray
    cost: IntArray  # the flow's integer km cost
    key: IntArray  # tutor * _KEY + metres (sorted)
    base: IntArray  # per tutor: metres of its fixed pairs
    places: IntArray  # per tutor: places left
    gain: IntArray  # per item: the establishment's integer priority
    n_establishments: int

    @property
    def n_tutors(self) -> int:
        return len(self.base)


@dataclass(frozen=True)
class WorstYearResult:
    """The plan's explicit pairs and what was proven (metres and integer km cost)."""

    tutor: IntArray | None  # None: no plan (only the bound is known)
    establishment: IntArray | None
    worst_proven: bool
    km_proven: bool
    worst_bound_m: int  # proven lower bound on the worst year (metres)
    km_bound: float  # proven lower bound on the integer km cost within the limit
    limit_m: int  # the limit of the plan's km phase (metres)
    lp_steps: int
    columns: int  # columns of the final MIP
    proven_at: float = math.nan  # time.perf_counter() when the worst year was proven


# ----------------------------------------------------------------------------- range maxima


def _sparse_table(v: FloatArray) -> IntArray:
    """Return the sparse table of range argmax of ``v`` (levels x len(v); ties: the lower index)."""
    n = len(v)
    rows = [np.arange(n, dtype=np.int64)]
    k = 1
    while 2 * k <= n:
        prev = rows[-1]
        a, b = prev[: n - k], prev[k:n]
        best = np.where(v[b] > v[a], b, a)
        rows.append(np.concatenate((best, prev[n - k :])))
        k *= 2
    return np.stack(rows) if n else np.zeros((1, 0), dtype=np.int64)


def _range_argmax(table: IntArray, v: FloatArray, lo: IntArray, hi: IntArray) -> IntArray:
    """Return the argmax of ``v`` on each inclusive range ``[lo, hi]``; -1 where the range is empty."""
    empty = lo > hi
    lo_ = np.where(empty, 0, lo)
    hi_ = np.where(empty, 0, hi)
    length = hi_ - lo_ + 1
    level = np.zeros(len(lo), dtype=np.int64)
    if len(lo):
        level = np.floor(np.log2(np.maximum(length, 1))).astype(np.int64)
        level -= (np.left_shift(1, level) > length).astype(np.int64)  # guard against rounding
    if table.shape[1] == 0:
        return np.full(len(lo), -1, dtype=np.int64)
    a = table[level, lo_]
    b = table[level, hi_ - np.left_shift(1, level) + 1]
    out = np.where(v[b] > v[a], b, a)
    return np.where(empty, -1, out)


def _better(v: FloatArray, a: IntArray, b: IntArray) -> IntArray:
    """Per position, the index of ``a`` or ``b`` (-1: none) with the larger ``v``."""
    va = np.where(a >= 0, v[np.maximum(a, 0)], -np.inf)
    vb = np.where(b >= 0, v[np.maximum(b, 0)], -np.inf)
    return np.where(vb > va, b, a)


# ----------------------------------------------------------------------------- pricing


def _price(
    items: _Items, value: FloatArray, room: IntArray, top: int = 1
) -> tuple[FloatArray, IntArray, list[IntArray]]:
    """Return each tutor's best column value (0: none positive), the column (items, -1 padded), more.

    ``value`` is each item's value; a column's value is the sum of its items'.
    Exact over every set of at most the tutor's places whose metres fit in ``room``.
    The last: up to ``top`` good pairs and triples of each tutor (columns worth adding).
    """
    n_t = items.n_tutors
    best = np.zeros(n_t)
    column = np.full((n_t, MAX_PLACES), -1, dtype=np.int64)
    more: list[IntArray] = []
    # Every item of positive value (however small): the bound L(pi) is exact only so.
    idx = np.flatnonzero((value > 0) & (items.metres <= room[items.tutor]))
    if len(idx) == 0:
        return best, column, more
    t, w, v = items.tutor[idx], items.metres[idx], value[idx]
    key = items.key[idx]
    start = np.searchsorted(t, np.arange(n_t + 1))
    table = _sparse_table(v)
    first = start[t]
    # Singles.
    single = _range_argmax(table, v, start[:-1], start[1:] - 1)
    has = single >= 0
    best[has] = v[single[has]]
    column[has, 0] = idx[single[has]]
    # Pairs: each item with the best partner that fits (the range of lighter-or-fitting items).
    two = items.places[t] >= 2
    i = np.flatnonzero(two)
    if len(i):
        last = np.searchsorted(key, t[i] * _KEY + room[t[i]] - w[i], side="right") - 1
        j = _better(v, _range_argmax(table, v, first[i], np.minimum(last, i - 1)),
                    _range_argmax(table, v, i + 1, last))  # fmt: skip
        ok = j >= 0
        i, j = i[ok], j[ok]
        total = v[i] + v[j]
        cols = np.stack((idx[i], idx[j], np.full(len(i), -1)), axis=1)
        _keep_best(best, column, t[i], total, cols)
        more.append(_top_per_tutor(t[i], total, cols, top))
    # Triples: each pair (i < j) of a tutor of three places with the best third item that fits.
    three = np.flatnonzero(items.places >= 3)
    if len(three):
        pi, pj = [], []
        for one in three.tolist():
            n = int(start[one + 1] - start[one])
            if n < 3:
                continue
            a, b = np.triu_indices(n, 1)
            pi.append(a + start[one])
            pj.append(b + start[one])
        if pi:
            i, j = np.concatenate(pi), np.concatenate(pj)
            tt = t[i]
            fit = w[i] + w[j] <= room[tt]
            i, j, tt = i[fit], j[fit], tt[fit]
            last = np.searchsorted(key, tt * _KEY + room[tt] - w[i] - w[j], side="right") - 1
            k = _better(
                v,
                _better(v, _range_argmax(table, v, first[i], np.minimum(last, i - 1)),
                        _range_argmax(table, v, i + 1, np.minimum(last, j - 1))),
                _range_argmax(table, v, j + 1, last),
            )  # fmt: skip
            ok = k >= 0
            i, j, k, tt = i[ok], j[ok], k[ok], tt[ok]
            total = v[i] + v[j] + v[k]
            cols = np.stack((idx[i], idx[j], idx[k]), axis=1)
            _keep_best(best, column, tt, total, cols)
            more.append(_top_per_tutor(tt, total, cols, top))
    return best, column, more


def _top_per_tutor(tutor: IntArray, total: FloatArray, cols: IntArray, top: int) -> IntArray:
    """Up to ``top`` of each tutor's ``cols`` of largest ``total`` (those above 0)."""
    if top <= 1 or len(tutor) == 0:
        return np.zeros((0, MAX_PLACES), dtype=np.int64)
    order = np.lexsort((-total, tutor))
    t = tutor[order]
    first = np.r_[0, np.flatnonzero(t[1:] != t[:-1]) + 1]
    rank = np.arange(len(t)) - np.repeat(first, np.diff(np.r_[first, len(t)]))
    pick = order[(rank < top) & (total[order] > _EPS)]
    return np.asarray(cols[pick], dtype=np.int64)


def _keep_best(
    best: FloatArray, column: IntArray, tutor: IntArray, total: FloatArray, cols: IntArray
) -> None:
    """Raise each tutor's best to its largest ``total`` (first one on ties), with its column."""
    if len(tutor) == 0:
        return
    order = np.lexsort((-total, tutor))
    head = order[np.r_[True, tutor[order][1:] != tutor[order][:-1]]]
    better = total[head] > best[tutor[head]]
    head = head[better]
    best[tutor[head]] = total[head]
    column[tutor[head]] = cols[head]


# ----------------------------------------------------------------------------- the master LP


class _Master:
    """The configuration LP on the columns generated so far (HiGHS, warm started)."""

    def __init__(self, items: _Items, highs: Any) -> None:
        self.items = items
        self.hs = highs
        h = highs.Highs()
        h.setOptionValue("output_flag", False)
        # Primal simplex, warm started: the basis stays feasible as columns come (from seed plans'
        # columns: measured 1.6 s to the LP bound on the example, where an interior point took 10 s).
        h.setOptionValue("solver", "simplex")
        h.setOptionValue("simplex_strategy", 4)
        h.setOptionValue("threads", 1)
        h.setOptionValue("random_seed", 0)
        h.changeObjectiveSense(highs.ObjSense.kMaximize)
        n_rows = items.n_establishments + items.n_tutors
        empty = np.zeros(0, dtype=np.int32)
        h.addRows(n_rows, np.zeros(n_rows), np.ones(n_rows), 0, empty, empty, np.zeros(0))
        self.h = h
        self.known: set[tuple[int, ...]] = set()
        self.columns: list[tuple[int, ...]] = []
        self.tutor: list[int] = []
        self.metres: list[int] = []
        self.limit = -1

    def add(self, columns: IntArray) -> int:
        """Add the new ones of ``columns`` (rows of item indices, -1 padded); return how many."""
        items = self.items
        new: list[tuple[int, ...]] = []
        for row in columns.tolist():
            col = tuple(sorted(a for a in row if a >= 0))
            if col and col not in self.known:
                self.known.add(col)
                new.append(col)
        if not new:
            return 0
        n_e = items.n_establishments
        cost: list[float] = []
        starts: list[int] = []
        index: list[int] = []
        for col in new:
            starts.append(len(index))
            index.extend(int(items.establishment[a]) for a in col)
            index.append(n_e + int(items.tutor[col[0]]))
            cost.append(float(sum(int(items.gain[a]) for a in col)))
            self.tutor.append(int(items.tutor[col[0]]))
            self.metres.append(int(sum(int(items.metres[a]) for a in col)))
        self.columns.extend(new)
        upper = [0.0 if self._over(col) else 1.0 for col in new]
        self.h.addCols(
            len(new),
            np.asarray(cost),
            np.zeros(len(new)),
            np.asarray(upper),
            len(index),
            np.asarray(starts, dtype=np.int32),
            np.asarray(index, dtype=np.int32),
            np.ones(len(index)),
        )
        return len(new)

    def _over(self, col: tuple[int, ...]) -> bool:
        items = self.items
        t = int(items.tutor[col[0]])
        return int(items.base[t]) + sum(int(items.metres[a]) for a in col) > self.limit

    def restrict(self, limit: int) -> None:
        """Allow only the columns within ``limit`` metres."""
        self.limit = limit
        n = len(self.columns)
        if n == 0:
            return
        total = np.asarray(self.metres) + self.items.base[np.asarray(self.tutor)]
        upper = np.where(total > limit, 0.0, 1.0)
        self.h.changeColsBounds(n, np.arange(n, dtype=np.int32), np.zeros(n), upper)

    def solve(self) -> tuple[float, FloatArray, FloatArray] | None:
        """Return the LP value, the establishments' duals (>= 0) and the columns' values."""
        if not self.columns:
            return 0.0, np.zeros(self.items.n_establishments), np.zeros(0)
        self.h.run()
        if self.h.getModelStatus() != self.hs.HighsModelStatus.kOptimal:
            logger.warning("worst year: HiGHS status %s", self.h.getModelStatus())
            return None  # pragma: no cover - the LP is always feasible (all zero) and bounded
        solution = self.h.getSolution()
        row = np.asarray(solution.row_dual)
        value = float(self.h.getInfo().objective_function_value)
        return value, np.maximum(row[: self.items.n_establishments], 0.0), np.asarray(solution.col_value)


@dataclass
class _LpAnswer:
    feasible: bool  # whether the LP reaches the target within the limit
    value: float  # the LP value (a lower estimate when stopped early)
    bound: float  # the Lagrangian bound L(pi)
    duals: FloatArray
    used_max: int  # feasible: the largest metres (fixed included) of a column the LP uses
    steps: int


def _lp(master: _Master, limit: int, target: int, deadline: float, *, converge: bool) -> _LpAnswer | None:
    """Column generation at ``limit``: stop once the target is reached (unless ``converge``) or refuted."""
    items = master.items
    room = limit - items.base
    master.restrict(limit)
    value_e = items.gain.astype(np.float64)
    steps = 0
    best_bound, best_duals = math.inf, np.zeros(items.n_establishments)
    while time.perf_counter() < deadline:
        steps += 1
        got = master.solve()
        if got is None:  # pragma: no cover
            return None
        z, duals, x = got
        best, column, more = _price(items, value_e - duals[items.establishment], room, top=_TOP)
        bound = float(duals.sum() + best.sum())
        if bound < best_bound:
            best_bound, best_duals = bound, duals
        if best_bound < target - _ROUNDING:  # no plan: its priority, an integer, is at most L(pi)
            return _LpAnswer(False, z, best_bound, best_duals, 0, steps)
        if z >= target - 1e-7 and not converge:
            break
        added = master.add(np.concatenate([column[best > _EPS], *more]))
        if added == 0 or best_bound - z < 1e-6:
            break
    else:
        return None
    used = np.flatnonzero(x > 1e-9)
    total = (
        np.asarray(master.metres, dtype=np.int64)[used]
        + items.base[np.asarray(master.tutor, dtype=np.int64)[used]]
    )
    if best_bound < target - _ROUNDING:
        return _LpAnswer(False, z, best_bound, best_duals, 0, steps)
    # Not refuted: the largest column the LP uses when it reaches the target (else the limit itself).
    used_max = int(total.max(initial=0)) if z >= target - 1e-7 else limit
    return _LpAnswer(True, z, best_bound, best_duals, min(used_max, limit), steps)


# ----------------------------------------------------------------------------- enumeration and MIP


def _enumerate(items: _Items, value: FloatArray, room: IntArray, floor: FloatArray) -> IntArray | None:
    """Every column of every tutor whose value is at least the tutor's ``floor`` (None: too many)."""
    out: list[IntArray] = []
    total = 0
    start = np.searchsorted(items.tutor, np.arange(items.n_tutors + 1))
    none = np.zeros(0, dtype=np.int64)
    for t in range(items.n_tutors):
        k = int(items.places[t])
        mine = np.arange(start[t], start[t + 1])
        mine = mine[items.metres[mine] <= room[t]]
        if k <= 0 or len(mine) == 0:
            continue
        v, w = value[mine], items.metres[mine]
        theta = float(floor[t]) - _EPS
        top = np.sort(np.maximum(v, 0.0))[::-1]
        top1 = float(top[0])
        top2 = float(top[:2].sum())
        blocks: list[tuple[IntArray, IntArray, IntArray]] = [(np.flatnonzero(v >= theta), none, none)]
        if k >= 2:
            c = np.flatnonzero(v + top1 >= theta)
            a, b = np.triu_indices(len(c), 1)
            a, b = c[a], c[b]
            ok = (v[a] + v[b] >= theta) & (w[a] + w[b] <= room[t])
            blocks.append((a[ok], b[ok], none))
            if k >= 3:
                c3 = np.flatnonzero(v + top2 >= theta)
                a, b = np.triu_indices(len(c3), 1)
                a, b = c3[a], c3[b]
                keep = (w[a] + w[b] <= room[t]) & (v[a] + v[b] + top1 >= theta)
                a, b = a[keep], b[keep]
                for third in c3.tolist():
                    ok = (b < third) & (v[a] + v[b] + v[third] >= theta) & (w[a] + w[b] + w[third] <= room[t])
                    n_ok = int(ok.sum())
                    if n_ok:
                        blocks.append((a[ok], b[ok], np.full(n_ok, third, dtype=np.int64)))
                        total += n_ok
                    if total > MAX_COLUMNS:
                        return None
        for a, b, c in blocks:
            if len(a) == 0:
                continue
            if len(c) == 0:
                total += len(a)  # (triples were counted as they came)
            cols = np.full((len(a), MAX_PLACES), -1, dtype=np.int64)
            cols[:, 0] = mine[a]
            if len(b):
                cols[:, 1] = mine[b]
            if len(c):
                cols[:, 2] = mine[c]
            out.append(cols)
        if total > MAX_COLUMNS:
            return None
    return np.concatenate(out) if out else np.zeros((0, MAX_PLACES), dtype=np.int64)


def _mip(items: _Items, columns: IntArray, target: int, seconds: float) -> tuple[Any, IntArray] | None:
    """Least km cost with the priority at least ``target``, one column a tutor, an establishment once."""
    import scipy.sparse as sp
    from scipy.optimize import Bounds, LinearConstraint, milp

    n = len(columns)
    if n == 0:
        return None
    member = columns >= 0
    col_of = np.repeat(np.arange(n), member.sum(axis=1))
    item = columns[member]
    e_rows = sp.csr_matrix((np.ones(len(item)), (items.establishment[item], col_of)),
                           shape=(items.n_establishments, n))  # fmt: skip
    t_rows = sp.csr_matrix(
        (np.ones(n), (items.tutor[columns[:, 0]], np.arange(n))), shape=(items.n_tutors, n)
    )
    gain = np.bincount(col_of, weights=items.gain[item].astype(np.float64), minlength=n)
    cost = np.bincount(col_of, weights=items.cost[item].astype(np.float64), minlength=n)
    matrix = sp.vstack([e_rows, t_rows, sp.csr_matrix(gain[None, :])]).tocsr()
    lower = np.r_[np.zeros(items.n_establishments + items.n_tutors), target - 0.5]
    upper = np.r_[np.ones(items.n_establishments + items.n_tutors), np.inf]
    found = milp(
        c=cost,
        constraints=LinearConstraint(matrix, lower, upper),
        integrality=np.ones(n),
        bounds=Bounds(0, 1),
        options={"time_limit": max(seconds, 0.01), "mip_rel_gap": 0.0, "presolve": True},
    )
    return found, col_of


# ----------------------------------------------------------------------------- the search


def _items(problem: Problem, network: Network) -> _Items:
    from tutormatch.model._eligibility import MODE_ONSITE
    from tutormatch.solve._lexico_model import fixed_pairs_plan, yearly_metres

    onsite = network.arc_mode == MODE_ONSITE
    distance = (
        problem.distance_km(network.arc_tutor, network.arc_establishment) if network.n_arcs else np.zeros(0)
    )
    metres, base = yearly_metres(problem, network, onsite, distance, fixed_pairs_plan(problem))
    keep = network.active[network.arc_establishment] & (network.capacity[network.arc_tutor] > 0)
    arcs = np.flatnonzero(keep)
    order = arcs[np.lexsort((network.arc_establishment[arcs], metres[arcs], network.arc_tutor[arcs]))]
    tutor = network.arc_tutor[order].astype(np.int64)
    return _Items(
        tutor=tutor,
        establishment=network.arc_establishment[order].astype(np.int64),
        metres=metres[order],
        cost=network.arc_cost[order].astype(np.int64),
        key=tutor * _KEY + metres[order],
        base=base.astype(np.int64),
        places=np.minimum(network.capacity, MAX_PLACES).astype(np.int64),
        gain=network.priority_int[network.arc_establishment[order]].astype(np.int64),
        n_establishments=network.n_establishments,
    )


def _highs() -> Any:
    """Return HiGHS with an incremental API: scipy's own copy (no new dependency); None without it.

    A namespace with ``Highs``, ``ObjSense`` and ``HighsModelStatus``. (The ``highspy`` package has the
    same API but prints a banner on its first use.)
    """
    import types

    try:
        from scipy.optimize._highspy import _core
    except ImportError:  # pragma: no cover - scipy < 1.15: the engine's other methods
        return None
    return types.SimpleNamespace(
        Highs=_core._Highs, ObjSense=_core.ObjSense, HighsModelStatus=_core.HighsModelStatus
    )


def supports(network: Network) -> bool:
    """Whether the method applies: on-site pairs only, no minimum or all-or-nothing loads, <= 3 places."""
    from tutormatch.model._eligibility import MODE_ONSITE

    return (
        network.n_classes == 0
        and bool(np.all(network.arc_mode == MODE_ONSITE))
        and not network.all_or_nothing
        and not bool(np.any(network.min_load > 0))
        and int(network.capacity.max(initial=0)) <= MAX_PLACES
        and network.n_arcs <= MAX_ARCS
        and _highs() is not None
    )


def _mip_at(
    master: _Master, limit: int, target: int, deadline: float
) -> tuple[str, WorstYearResult | None, int]:
    """Least km within ``limit`` covering ``target``; (kind, result, LP steps).

    ``kind``: "plan" (found), "none" (proven: no plan within ``limit``), "unknown" (no plan among the
    LP's columns, too many others to enumerate) or "stop" (time).
    """
    items = master.items
    answer = _lp(master, limit, target, deadline, converge=True)
    if answer is None:
        return "stop", None, 0
    if not answer.feasible:
        return "none", None, answer.steps
    room = limit - items.base
    value = items.gain.astype(np.float64) - answer.duals[items.establishment]
    best, _, _ = _price(items, value, room)
    bound = float(answer.duals.sum() + best.sum())
    columns = _enumerate(items, value, room, best - (bound - target))
    if columns is None:
        logger.info("worst year: at %.3f km, too many columns of near-zero reduced cost", limit / 1000)
        return "unknown", None, answer.steps
    logger.info(
        "worst year: at %.3f km, LP %.4f, bound %.4f, target %d: %d columns for the MIP (%s)",
        limit / 1000, answer.value, bound, target, len(columns), "all that can be used",
    )  # fmt: skip
    got = _mip(items, columns, target, deadline - time.perf_counter())
    if got is None:  # no column: the plan of no free pair, if it covers the target
        if target > 0:
            return "none", None, answer.steps
        empty = np.zeros(0, dtype=np.int64)
        return "plan", WorstYearResult(empty, empty, False, True, 0, 0.0, limit, 0, 0), answer.steps
    found, _ = got
    x = getattr(found, "x", None)
    status = getattr(found, "status", 4)
    logger.info(
        "worst year: MIP at %.3f km: status %s, %s", limit / 1000, status, getattr(found, "message", "")
    )
    if x is None:
        if status == 2:  # infeasible, every usable column in: proven
            return "none", None, answer.steps
        return "stop", None, answer.steps
    chosen_cols = np.flatnonzero(np.asarray(x) > 0.5)
    chosen = columns[chosen_cols][columns[chosen_cols] >= 0]
    dual = getattr(found, "mip_dual_bound", None)
    result = WorstYearResult(
        tutor=items.tutor[chosen],
        establishment=items.establishment[chosen],
        worst_proven=False,
        km_proven=status == 0,
        worst_bound_m=0,
        km_bound=math.nan if dual is None else float(dual),
        limit_m=limit,
        lp_steps=0,
        columns=len(columns),
    )
    return "plan", result, answer.steps


def solve_worst_year(
    problem: Problem,
    network: Network,
    target: int,
    upper_m: int,
    deadline: float,
    seeds: tuple[tuple[IntArray, IntArray], ...] = (),
    km_deadline: float | None = None,
) -> WorstYearResult:
    """Return the least worst year (metres) of a plan covering ``target``, then its least km (module notes).

    ``upper_m``: the worst year of a known plan covering ``target`` (an upper end).
    ``seeds``: plans covering the target (free pairs: tutors, establishments): first columns.
    ``km_deadline``: once the worst year is proven by split flows, the km LP may run until then.
    Without a plan (time, or too many columns to enumerate) the result has only the proven bound.
    """
    import dataclasses

    items = _items(problem, network)
    master = _Master(items, _highs())
    master.add(_seed(items, seeds))
    lo = int(items.base.max(initial=0))
    hi = max(int(upper_m), lo)
    hi_plan = hi
    steps = 0
    # Bisection on the LP: the least limit whose configuration LP reaches the target.
    while lo < hi:
        mid = (lo + hi) // 2
        answer = _lp(master, mid, target, deadline, converge=False)
        if answer is None:
            return _bound_only(lo, steps)
        steps += answer.steps
        logger.info(
            "worst year: LP at %.3f km: %s (value %.4f, bound %.4f, %d steps, %d columns)",
            mid / 1000, "reaches" if answer.feasible else "refuted", answer.value, answer.bound,
            answer.steps, len(master.columns),
        )  # fmt: skip
        if answer.feasible:
            hi = min(mid, answer.used_max)
        else:
            lo = mid + 1
    # The MIP at the LP's limit, then above until a plan: the least worst year, its least km.
    tried = lo
    while True:
        kind, found, n = _mip_at(master, tried, target, deadline)
        steps += n
        if kind == "unknown" and tried == lo:
            # Too many columns for the exact MIP: a plan at the bound by split flows proves the worst
            # year; the least km within it by the km LP's reduced costs (module notes).
            at = _at_bound(items, network, master, lo, target, max(deadline, km_deadline or deadline))
            return dataclasses.replace(at, lp_steps=steps)
        if kind in ("stop", "unknown"):
            return _bound_only(lo, steps)
        if kind == "plan":
            break
        # No plan within ``tried`` (proven), and no column's year lies between it and the next.
        tried = _successor(items, tried)
        lo = tried
        if tried > hi_plan:
            return _bound_only(lo, steps)  # pragma: no cover - a plan covering the target is within hi_plan
    assert found is not None
    assert found.tutor is not None
    assert found.establishment is not None
    worst = _worst_of_pairs(items, found.tutor, found.establishment)
    found = dataclasses.replace(
        found, worst_proven=worst <= lo, worst_bound_m=lo, proven_at=time.perf_counter()
    )
    return dataclasses.replace(found, lp_steps=steps)


def _successor(items: _Items, limit: int) -> int:
    """Return the least worst year above ``limit`` that any column gives (the next limit worth a MIP)."""
    best = np.iinfo(np.int64).max
    start = np.searchsorted(items.tutor, np.arange(items.n_tutors + 1))
    for t in range(items.n_tutors):
        w = items.metres[start[t] : start[t + 1]]
        k, room, n = int(items.places[t]), int(limit - items.base[t]), len(w)
        if k <= 0 or n == 0:
            continue
        sums = [w[w > room]]
        if k >= 2 and n >= 2:
            a, b = np.triu_indices(n, 1)
            pair = w[a] + w[b]
            sums.append(pair[pair > room])
            if k >= 3 and n >= 3:
                # The least third item above what is left, skipping the pair's own two (w sorted).
                pos = np.searchsorted(w, room - pair, side="right")
                for _ in range(2):
                    pos = np.where((pos == a) | (pos == b), pos + 1, pos)
                pos = np.where((pos == a) | (pos == b), pos + 1, pos)
                ok = pos < n
                sums.append(pair[ok] + w[np.minimum(pos[ok], n - 1)])
        above = np.concatenate(sums)
        if len(above):
            best = min(best, int(items.base[t]) + int(above.min()))
    return int(best)


def _seed(items: _Items, seeds: tuple[tuple[IntArray, IntArray], ...]) -> IntArray:
    """First columns: each seed plan's sets and their subsets, and each tutor's lightest pairs' sets."""
    from itertools import combinations

    key = items.tutor * items.n_establishments + items.establishment
    order = np.argsort(key, kind="stable")
    sets: list[list[int]] = []
    for tutor, establishment in seeds:
        wanted = tutor * items.n_establishments + establishment
        pos = np.minimum(np.searchsorted(key[order], wanted), max(len(order) - 1, 0))
        found = key[order][pos] == wanted if len(order) else np.zeros(len(wanted), dtype=bool)
        by: dict[int, list[int]] = {}
        for t, a in zip(tutor[found].tolist(), order[pos[found]].tolist(), strict=True):
            by.setdefault(t, []).append(a)
        sets.extend(by.values())
    start = np.searchsorted(items.tutor, np.arange(items.n_tutors + 1))
    for t in range(items.n_tutors):
        sets.append(list(range(int(start[t]), int(min(start[t] + 4, start[t + 1])))))
    rows: list[list[int]] = []
    for members in sets:
        k = int(items.places[items.tutor[members[0]]]) if members else 0
        for size in range(1, min(k, len(members), MAX_PLACES) + 1):
            rows.extend(list(c) + [-1] * (MAX_PLACES - size) for c in combinations(members, size))
    return np.asarray(rows, dtype=np.int64).reshape(-1, MAX_PLACES)


def _at_bound(
    items: _Items, network: Network, master: _Master, limit: int, target: int, deadline: float
) -> WorstYearResult:
    """Return a plan within ``limit`` by split flows (the worst year proven), its km by the km LP."""
    import types

    from tutormatch.solve._worst_year import slot_flows

    metres, base = _network_metres(items, network)
    term = types.SimpleNamespace(arc_key=base[network.arc_tutor] + metres, arc_amount=metres, tutor_base=base)
    flow = slot_flows(network, term, limit, target)
    if flow is None:
        return _bound_only(limit, 0)
    used = np.flatnonzero(flow.arc_used)
    tutor = network.arc_tutor[used].astype(np.int64)
    establishment = network.arc_establishment[used].astype(np.int64)
    upper = int(network.arc_cost[used].sum())
    plan = WorstYearResult(
        tutor, establishment, True, False, limit, math.nan, limit, 0, 0, time.perf_counter()
    )
    better = _least_km(items, master.hs, limit, target, (tutor, establishment), upper, deadline)
    if isinstance(better, float):  # the km LP's bound only
        return dataclasses.replace(plan, km_bound=better)
    if not better.km_proven and not math.isfinite(better.km_bound):  # pragma: no cover
        better = dataclasses.replace(better, km_bound=math.nan)
    return dataclasses.replace(better, worst_proven=True, worst_bound_m=limit, proven_at=plan.proven_at)


def _network_metres(items: _Items, network: Network) -> tuple[IntArray, IntArray]:
    """Return the yearly metres of each network arc (as the items') and each tutor's fixed metres."""
    key = items.tutor * items.n_establishments + items.establishment
    order = np.argsort(key, kind="stable")
    wanted = network.arc_tutor.astype(np.int64) * items.n_establishments + network.arc_establishment
    pos = np.minimum(np.searchsorted(key[order], wanted), max(len(order) - 1, 0))
    found = key[order][pos] == wanted if len(order) else np.zeros(len(wanted), dtype=bool)
    # Arcs that are not items (a tutor with no place left, an inactive establishment): never usable.
    metres = np.where(found, items.metres[order[pos]] if len(order) else 0, np.iinfo(np.int64).max // 4)
    return metres.astype(np.int64), items.base


def _least_km(
    items: _Items,
    highs: Any,
    limit: int,
    target: int,
    seed: tuple[IntArray, IntArray],
    upper: int,
    deadline: float,
) -> WorstYearResult | float:
    r"""Return the plan of least km within ``limit`` covering ``target`` by the km LP, or only its bound.

    The km LP :math:`\min \sum_S c(S)\lambda_S` with the priority at least the target, columns
    generated; for duals :math:`\delta, \pi \ge 0` each item is worth :math:`\delta p_a - \pi_e -
    c_a`, and :math:`LB = \delta P^* - \sum_e \pi_e - \sum_t \text{best}_t` bounds the km of every
    plan; a plan of km at most ``upper`` uses only columns within ``upper - LB`` of each tutor's
    best: all enumerated, one MIP.
    """
    n_e, n_t = items.n_establishments, items.n_tutors
    h = highs.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("solver", "simplex")
    h.setOptionValue("threads", 1)
    h.setOptionValue("random_seed", 0)
    lower = np.r_[np.zeros(n_e + n_t), float(target)]
    upper_rows = np.r_[np.ones(n_e + n_t), np.inf]
    empty = np.zeros(0, dtype=np.int32)
    h.addRows(n_e + n_t + 1, lower, upper_rows, 0, empty, empty, np.zeros(0))
    known: set[tuple[int, ...]] = set()
    room = limit - items.base
    gain = items.gain.astype(np.float64)
    cost = items.cost.astype(np.float64)

    def add(columns: IntArray) -> int:
        new = []
        for row in columns.tolist():
            col = tuple(sorted(a for a in row if a >= 0))
            fits = col and int(items.metres[list(col)].sum()) <= int(room[items.tutor[col[0]]])
            if fits and col not in known:
                known.add(col)
                new.append(col)
        if not new:
            return 0
        starts: list[int] = []
        index: list[int] = []
        values: list[float] = []
        costs: list[float] = []
        for col in new:
            starts.append(len(index))
            members = list(col)
            index += [int(e) for e in items.establishment[members]]
            index += [n_e + int(items.tutor[col[0]]), n_e + n_t]
            values += [1.0] * (len(col) + 1) + [float(gain[members].sum())]
            costs.append(float(cost[members].sum()))
        h.addCols(
            len(new),
            np.asarray(costs),
            np.zeros(len(new)),
            np.ones(len(new)),
            len(index),
            np.asarray(starts, dtype=np.int32),
            np.asarray(index, dtype=np.int32),
            np.asarray(values),
        )
        return len(new)

    key = items.tutor * n_e + items.establishment
    order = np.argsort(key, kind="stable")
    at = order[np.searchsorted(key[order], seed[0] * n_e + seed[1])]
    by: dict[int, list[int]] = {}
    for a in at.tolist():
        by.setdefault(int(items.tutor[a]), []).append(a)
    seeded = [c + [-1] * (MAX_PLACES - len(c)) for c in by.values()]
    add(np.asarray(seeded, dtype=np.int64).reshape(-1, MAX_PLACES))
    lb = -math.inf
    best_duals: tuple[float, FloatArray] = (0.0, np.zeros(n_e))
    while time.perf_counter() < deadline:
        h.run()
        if h.getModelStatus() != highs.HighsModelStatus.kOptimal:
            logger.info("worst year: km LP status %s", h.getModelStatus())
            return lb  # pragma: no cover - the seed plan keeps the LP feasible
        row = np.asarray(h.getSolution().row_dual)
        z = float(h.getInfo().objective_function_value)
        pi = np.maximum(-row[:n_e], 0.0)
        delta = max(float(row[-1]), 0.0)
        value = delta * gain - pi[items.establishment] - cost
        best, column, more = _price(items, value, room, top=_TOP)
        bound = delta * target - float(pi.sum()) - float(best.sum())
        if bound > lb:
            lb, best_duals = bound, (delta, pi)
        mu = np.maximum(-row[n_e : n_e + n_t], 0.0)
        logger.info("worst year: km LP %.1f, bound %.1f, plan %d, %d columns", z, lb, upper, len(known))
        if upper - lb < 1 - 1e-6 or z - lb < 1e-6 * max(1.0, abs(z)):
            break
        if add(np.concatenate([column[best > mu + _EPS], *more])) == 0:
            break
    else:
        return lb
    delta, pi = best_duals
    value = delta * gain - pi[items.establishment] - cost
    best, _, _ = _price(items, value, room)
    margin = 1e-6 * max(1.0, abs(lb))
    slack = float(upper - lb)  # exact when it is the whole gap; smaller: a restricted MIP for a better plan
    kept: WorstYearResult | None = None
    while time.perf_counter() < deadline and slack > 0:
        exact = slack >= upper - lb
        columns = _enumerate(items, value, room, best - slack - margin)
        logger.info(
            "worst year: km gap %.1f, slack %.1f: %s columns",
            upper - lb,
            slack,
            columns is None or len(columns),
        )
        if columns is None:
            slack /= 4  # (integer costs: below one unit nothing is left to try)
            if slack < 1:
                break
            continue
        got = _mip(items, columns, target, deadline - time.perf_counter())
        x = None if got is None else getattr(got[0], "x", None)
        if got is None or x is None:
            break
        found = got[0]
        chosen_cols = np.flatnonzero(np.asarray(x) > 0.5)
        chosen = columns[chosen_cols][columns[chosen_cols] >= 0]
        km = int(items.cost[chosen].sum())
        if exact:
            dual = getattr(found, "mip_dual_bound", None)
            km_bound = lb if dual is None or not math.isfinite(float(dual)) else max(lb, float(dual))
            proven = found.status == 0
            return WorstYearResult(
                items.tutor[chosen],
                items.establishment[chosen],
                False,
                proven,
                0,
                km_bound,
                limit,
                0,
                len(columns),
            )
        if km >= upper:
            break  # the restricted MIP found nothing better
        upper = km
        kept = WorstYearResult(
            items.tutor[chosen], items.establishment[chosen], False, False, 0, lb, limit, 0, len(columns)
        )
        slack = float(upper - lb)  # the whole gap again, smaller now
    return lb if kept is None else kept


def _bound_only(lower: int, steps: int) -> WorstYearResult:
    return WorstYearResult(None, None, False, False, lower, math.nan, 0, steps, 0)


def _worst_of_pairs(items: _Items, tutor: IntArray, establishment: IntArray) -> int:
    """Return the worst year (metres) of a plan's free pairs, fixed ones included."""
    sums = items.base.copy()
    key = items.tutor * items.n_establishments + items.establishment
    order = np.argsort(key, kind="stable")
    at = order[np.searchsorted(key[order], tutor * items.n_establishments + establishment)]
    np.add.at(sums, tutor, items.metres[at])
    return int(sums.max(initial=0))


def worst_year_plan(
    problem: Problem,
    criteria: tuple[Criterion, ...],
    base: Assignment,
    options: SolveOptions,
    deadline: float,
) -> tuple[Assignment | None, float | None]:
    """Return the plan of coverage, then ``worst-year``, then least km, and a bound.

    ``base`` is the plan of least km (most priority, proven): its coverage is
    the target and its worst year the upper end. The plan is returned when
    its worst year is proven (OPTIMAL when its km are too), else None with
    the proven lower bound on the worst year (km) for the engine's search;
    (None, None) when the method does not apply.
    """
    import dataclasses

    from tutormatch.solve._fair import criteria_entries
    from tutormatch.solve._full_loads_matching import full_loads_network
    from tutormatch.solve._solve import plan_from_free_pairs
    from tutormatch.solve._status import Status

    started = time.perf_counter()
    network = full_loads_network(problem, options)
    if not supports(network) or base.status is not Status.OPTIMAL:
        return None, None
    covered = np.zeros(problem.n_establishments, dtype=bool)
    free = ~base.is_fixed
    covered[base.establishment[free]] = True
    target = int(network.priority_int[covered & network.active].sum())
    upper = _base_worst(_items(problem, network), base)
    worst_c = criteria[1]
    found = solve_worst_year(
        problem,
        network,
        target,
        upper,
        started + _BOUND_SHARE * (deadline - started),
        km_deadline=deadline,
        seeds=((base.tutor[free].astype(np.int64), base.establishment[free].astype(np.int64)),),
    )
    if found.tutor is None or found.establishment is None or not found.worst_proven:
        return None, found.worst_bound_m / 1000
    proven = found.km_proven
    plan = plan_from_free_pairs(
        problem,
        found.tutor,
        found.establishment,
        status=Status.OPTIMAL if proven else Status.FEASIBLE,
        solver="worst-year-columns",
        message="ordered criteria: worst year by a configuration LP and a MIP on its columns (HiGHS): "
        + ("proven" if found.worst_proven else "not proven")
        + ", km "
        + ("proven" if found.km_proven else "not proven"),
        stats={
            "worst_year_bound_m": found.worst_bound_m,
            "lp_steps": found.lp_steps,
            "worst_year_proven_at": found.proven_at,  # time.perf_counter() (a benchmark reads it)
            "columns": found.columns,
            "km_bound_int": found.km_bound,
        },
        started=started,
    )
    fixed_km = float(plan.cost_km[plan.is_fixed].sum())
    phases = [
        (criteria[0], True, math.nan),
        (worst_c, found.worst_proven, found.worst_bound_m / 1000),
        *[(c, found.km_proven, fixed_km + found.km_bound * network.cost_unit_km) for c in criteria[2:]],
    ]
    values, gap = criteria_entries(plan, phases)
    if not proven:
        plan = dataclasses.replace(plan, bound=math.nan, gap=gap)
    return dataclasses.replace(plan, criteria=values), found.worst_bound_m / 1000


def _base_worst(items: _Items, base: Assignment) -> int:
    """Return the worst year (metres) of ``base`` (a plan covering the target): an upper end."""
    free = ~base.is_fixed
    return _worst_of_pairs(
        items, base.tutor[free].astype(np.int64), base.establishment[free].astype(np.int64)
    )
