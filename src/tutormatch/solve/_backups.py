r"""Backups: the next tutors of each establishment, ranked by the exact cost of forcing them.

Notes
-----
The pure problem (capacities, minimum loads, fixed and forbidden pairs) is a
min-cost circulation: source :math:`S`, establishments, remote classes,
tutors, sink :math:`K` and an arc :math:`K \to S`. Costs are lexicographic,
encoded exactly as integers :math:`M p + c` (:math:`p` the priority in
integer units, negative when covering; :math:`c` the yearly cost in the
solver's units; :math:`M` larger than any path's cost part). For an optimal
circulation :math:`x` and a pair :math:`(t, e)` not in it, the optimum with
that pair forced is

.. math:: z^* + c_{et} + d_x(t \to e)

where :math:`d_x` is the shortest path in the residual graph of :math:`x`:
the difference between the forced optimum and :math:`x` is a circulation in
that graph; its cycles other than the one through :math:`e \to t` cost
:math:`\ge 0` (optimality), and that one costs at least the shortest such
cycle, which is feasible. Paths into :math:`e` enter from its tutor
:math:`t_0` (or from :math:`S` when uncovered), so
:math:`d(t \to e) = d(t \to t_0) - c_{t_0 e}`: one Dijkstra per used tutor on
the reversed graph, with Bellman-Ford potentials making costs non-negative.
Hubs (source, sink, remote classes) are taken out of those Dijkstras and
added back as :math:`d(t \to h) + d(h \to t_0)`, two Dijkstras per hub;
the per-tutor Dijkstras run within a radius and again, wider, only for
establishments whose :math:`k` best are not yet proven (a candidate beyond
the radius costs more than it, reduced costs being non-negative). The radius
of a source is what its establishments need: the :math:`k`-th best on-site
value through a hub (a real path, so an upper bound) and, for remote
candidates, the :math:`(k+3)`-th best through a hub, the same for a whole
class (the sums are separable); remote candidates are evaluated among the
:math:`k + 3` best paths and each hub's :math:`k + 3` best tutors only.
Remote classes are linked to their tutors as a whole, so a path may use a
remote pair that an own-establishment or forbidden exception rules out; the
figures are exact when no such pair exists (the usual case).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import pandas as pd

from tutormatch.errors import InputError
from tutormatch.model._eligibility import MODE_NAMES, MODE_NONE, MODE_ONSITE, classify_pairs, pair_keys

if TYPE_CHECKING:
    from tutormatch.solve._assignment import Assignment

__all__ = ["BACKUP_COLUMNS", "backups"]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

#: Columns of :meth:`Assignment.backups`.
BACKUP_COLUMNS = (
    "uai",
    "rank",
    "tutor_id",
    "mode",
    "distance_km",
    "priority_delta",
    "cost_delta_km",
    "cost_delta_eur",
    "status",
    "method",
)
#: Re-solved candidates per establishment, as a multiple of ``k`` (side constraints).
SHORTLIST_FACTOR = 2
_BATCH = 256  # Dijkstra sources per call (memory: batch x nodes floats)
_EXACT = 2.0**52  # integers up to here are exact in float64
_FIRST_LIMIT_KM = 400.0  # first Dijkstra radius, reduced km-equivalent (measured best, national)


def _integer_priorities(priority: FloatArray) -> tuple[IntArray, float]:
    for digits in range(7):
        scaled = priority * 10.0**digits
        if np.all(np.abs(scaled - np.round(scaled)) <= 1e-9 * np.maximum(1.0, np.abs(scaled))):
            return np.round(scaled).astype(np.int64), 10.0**digits
    raise InputError("backups need priorities with at most 6 decimals.")


def is_pure(plan: Assignment) -> bool:
    """Tell whether the residual graph gives a plan's backups (a flow: km, no all-or-nothing, no budget)."""
    return (
        not plan.problem.all_or_nothing
        and getattr(plan, "objective_name", "km") == "km"
        and getattr(plan, "budget_eur", None) is None
    )


def backups(
    plan: Assignment,
    k: int = 3,
    *,
    uais: Sequence[str] | None = None,
    time_limit: float = 60.0,
) -> pd.DataFrame:
    """Rank each establishment's next eligible tutors. See :meth:`Assignment.backups`."""
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise InputError(f"k must be an integer >= 1; got {k!r}.")
    if not (isinstance(time_limit, int | float) and time_limit > 0):
        raise InputError(f"time_limit must be a number of seconds > 0; got {time_limit!r}.")
    rows = None if uais is None else _rows_of(plan, uais)
    if not is_pure(plan):
        if not plan.status.has_solution:
            raise InputError(f"backups need a plan; this one is {plan.status.value}.")
        from tutormatch.solve._backups_resolve import resolved_backups

        return resolved_backups(plan, int(k), rows, time_limit, shortlist=SHORTLIST_FACTOR * int(k))
    if not plan.status.is_optimal:
        raise InputError(f"backups need an optimal plan; this one is {plan.status.value}.")
    table = _residual_backups(plan, int(k))
    if rows is not None:
        table = table[table["uai"].isin(plan.problem.establishments.id[rows])].reset_index(drop=True)
    return table


def _rows_of(plan: Assignment, uais: Sequence[str]) -> IntArray:
    if isinstance(uais, str):
        uais = [uais]
    ids = plan.problem.establishments.id
    position = {str(u): i for i, u in enumerate(ids.tolist())}
    unknown = [u for u in uais if str(u).upper() not in position]
    if unknown:
        raise InputError(
            f"backups: unknown uai {', '.join(map(repr, unknown[:5]))}: not in the problem's establishments."
        )
    return np.unique(np.array([position[str(u).upper()] for u in uais], dtype=np.int64))


def _residual_backups(plan: Assignment, k: int) -> pd.DataFrame:
    """Backups of a pure plan from its residual graph (the module's notes)."""
    import scipy.sparse as sp  # imported on use: `import tutormatch` stays cheap
    from scipy.sparse.csgraph import dijkstra

    p = plan.problem
    n_e, n_t = p.n_establishments, p.n_tutors
    cand = p.candidates
    n_c = cand.n_classes
    s_node, k_node = n_e + n_t + n_c, n_e + n_t + n_c + 1
    n = n_e + n_t + n_c + 2
    unit = float(plan.stats.get("cost_unit_km", 0.001) or 0.001)
    p_int, p_scale = _integer_priorities(p.establishments.priority)

    onsite_used = plan.mode == MODE_ONSITE
    used_keys = pair_keys(plan.tutor[onsite_used], plan.establishment[onsite_used], n_e)
    free = ~np.isin(pair_keys(cand.tutor, cand.establishment, n_e), used_keys)
    pair_c = np.round(p.pair_cost_km(cand.establishment, cand.distance_km) / unit)
    remote_c = np.round(np.asarray(p.remote_cost_km) / unit)
    plan_c = np.round(plan.cost_km / unit)
    movable_pair = ~plan.is_fixed
    covered = np.zeros(n_e, dtype=bool)
    covered[plan.establishment] = True
    movable = np.zeros(n_e, dtype=bool)
    movable[plan.establishment[movable_pair]] = True
    loads = plan.loads
    fixed_load = np.bincount(plan.tutor[plan.is_fixed], minlength=n_t)
    must = np.maximum(p.tutors.min_load - fixed_load, 0)
    has_class = np.flatnonzero(cand.remote_class >= 0)

    cost_parts = np.concatenate((pair_c, remote_c, plan_c))
    big_m = 2.0 * n * (float(np.abs(cost_parts).max()) if len(cost_parts) else 1.0) + 1.0
    if 4.0 * float(p_int.max(initial=1)) * big_m >= _EXACT:
        raise InputError(
            "backups: priorities and costs too large to combine exactly; coarsen the priorities."
        )

    rows_, cols_, w_ = [], [], []

    def arcs(r: npt.ArrayLike, c: npt.ArrayLike, w: npt.ArrayLike) -> None:
        rows_.append(np.asarray(r, dtype=np.int64))
        cols_.append(np.asarray(c, dtype=np.int64))
        w_.append(np.asarray(w, dtype=np.float64))

    arcs(cand.establishment[free], n_e + cand.tutor[free], pair_c[free])
    arcs(has_class, n_e + n_t + cand.remote_class[has_class], remote_c[has_class])
    arcs(n_e + n_t + cand.link_class, n_e + cand.link_tutor, np.zeros(len(cand.link_tutor)))
    # Taking a pair away: on-site from its tutor; remote through the class,
    # as the solver sees it (any remote establishment of the class may be
    # handed back by any tutor serving the class).
    pair_class = cand.remote_class[plan.establishment]
    via_class = movable_pair & (plan.mode != MODE_ONSITE) & (pair_class >= 0)
    direct = movable_pair & ~via_class
    arcs(n_e + plan.tutor[direct], plan.establishment[direct], -plan_c[direct])
    arcs(n_e + plan.tutor[via_class], n_e + n_t + pair_class[via_class], np.zeros(int(via_class.sum())))
    arcs(n_e + n_t + pair_class[via_class], plan.establishment[via_class], -plan_c[via_class])
    mov = np.flatnonzero(movable)
    arcs(mov, np.full(len(mov), s_node), p_int[mov] * big_m)  # uncover
    unc = np.flatnonzero(~covered)
    arcs(np.full(len(unc), s_node), unc, -p_int[unc] * big_m)  # cover
    room = np.flatnonzero(loads < p.tutors.capacity)
    arcs(n_e + room, np.full(len(room), k_node), np.zeros(len(room)))
    shed = np.flatnonzero(loads - fixed_load > must)
    arcs(np.full(len(shed), k_node), n_e + shed, np.zeros(len(shed)))
    arcs([k_node], [s_node], [0.0])
    if plan.n_covered > int(plan.is_fixed.sum()):
        arcs([s_node], [k_node], [0.0])
    r, c, w = np.concatenate(rows_), np.concatenate(cols_), np.concatenate(w_)
    order = np.lexsort((w, c, r))
    r, c, w = r[order], c[order], w[order]
    first = np.ones(len(r), dtype=bool)
    first[1:] = (r[1:] != r[:-1]) | (c[1:] != c[:-1])
    r, c, w = r[first], c[first], w[first]

    # Potentials: shortest distances from a virtual node linked to all (0).
    pi = _potentials(r, c, w, n)
    reduced = w + pi[r] - pi[c]
    reduced = np.where(np.abs(reduced) < 0.5, 0.0, reduced)  # integers: exact zeros
    # Reversed graph (target -> source) with non-negative reduced costs;
    # csgraph keeps explicit zeros as arcs.
    reverse = sp.csr_array((reduced, (c, r)), shape=(n, n))
    # Hubs (source, sink, remote classes) touch thousands of nodes: paths
    # through them are d(v -> hub) + d(hub -> w), from one Dijkstra each way
    # per hub; the per-source Dijkstras then run on the local graph only.
    hubs = np.concatenate(([s_node, k_node], np.arange(n_e + n_t, n_e + n_t + n_c))).astype(np.int64)
    to_hub = np.asarray(dijkstra(reverse, directed=True, indices=hubs))  # [h, v] = d'(v -> h)
    from_hub = np.asarray(dijkstra(reverse.T.tocsr(), directed=True, indices=hubs))  # d'(h -> v)
    local = (r < n_e + n_t) & (c < n_e + n_t)
    reverse_local = sp.csr_array((reduced[local], (c[local], r[local])), shape=(n, n))

    def via_hubs(tutor_nodes: IntArray, entries: IntArray) -> FloatArray:
        """Return d'(t -> entry) over paths through a hub, pair by pair."""
        best = np.full(len(tutor_nodes), np.inf)
        for h in range(len(hubs)):
            np.minimum(best, to_hub[h, tutor_nodes] + from_hub[h, entries], out=best)
        return best

    # Which node each establishment is entered from: its tutor (or its class
    # when remote), or S when uncovered; and that arc's reduced cost.
    entry = np.full(n_e, s_node, dtype=np.int64)
    entry[plan.establishment] = np.where(via_class, n_e + n_t + pair_class, n_e + plan.tutor)
    entry_w = np.where(covered, 0.0, -p_int * big_m)
    entry_w[plan.establishment] = -plan_c
    open_e = ~(covered & ~movable)  # a fixed pair stays
    tail = entry_w + pi[entry] - pi[np.arange(n_e)]
    tutor_of = np.full(n_e, -1, dtype=np.int64)
    tutor_of[plan.establishment] = plan.tutor

    # On-site candidates: reduced cycle = A + d'(t -> entry(e)), A >= 0.
    on = open_e[cand.establishment] & (cand.tutor != tutor_of[cand.establishment])
    on_e, on_t = cand.establishment[on], cand.tutor[on]
    on_a = pair_c[on] + pi[on_e] - pi[n_e + on_t] + tail[on_e]
    # Remote candidates: every tutor of the class, A = A_e - pi(t).
    class_tutors = [cand.link_tutor[cand.link_class == cl] for cl in range(n_c)]
    re_e = np.flatnonzero(open_e & (cand.remote_class >= 0))
    re_a = remote_c[re_e] + pi[re_e] + tail[re_e]
    hub_best: list[IntArray] = []  # per class: each hub's k + 3 best tutors (positions in the class)
    for tutors in class_tutors:
        cost = to_hub[:, n_e + tutors] - pi[n_e + tutors][None, :]
        take = min(k + 3, len(tutors))
        top = (
            np.argpartition(cost, take - 1, axis=1)[:, :take] if take else np.empty((len(hubs), 0), np.int64)
        )
        hub_best.append(np.unique(top).astype(np.int64))

    value_on = np.full(len(on_e), np.inf)
    hub_on = via_hubs(n_e + on_t, entry[on_e])
    # An upper bound on each establishment's k-th best value: paths through
    # a hub are real paths, and on-site candidates are all valid pairs. A
    # Dijkstra need not look beyond it.
    upper = on_a + hub_on
    enough = _kth_smallest(on_e, upper, k, n_e)
    # With fewer candidates (and no remote class), the radius that makes
    # every one exact: beyond its value through a hub, a path cannot matter.
    every = np.full(n_e, -np.inf)
    np.maximum.at(every, on_e, upper)
    whole = ~np.isfinite(enough) & (cand.remote_class < 0)
    enough = np.where(whole, every, enough)
    # Remote candidates too: through hub h, the (k + 3)-th best tutor of a
    # class is the same for all its establishments (separable sums; k + 3, as
    # a class may hold an own-establishment or forbidden exception or three).
    for cl in range(n_c):
        tutors = class_tutors[cl]
        members = np.flatnonzero(cand.remote_class[re_e] == cl)
        if len(tutors) < k + 3 or not len(members):
            continue
        through = np.full(len(members), np.inf)
        for h in range(len(hubs)):
            kth = np.partition(to_hub[h, n_e + tutors] - pi[n_e + tutors], k + 2)[k + 2]
            if math.isfinite(kth):
                np.minimum(through, kth + from_hub[h, entry[re_e[members]]], out=through)
        np.minimum(enough[re_e[members]], through + re_a[members], out=through)
        enough[re_e[members]] = through
    best_re: dict[int, tuple[IntArray, FloatArray]] = {}
    todo = open_e.copy()
    limit = _FIRST_LIMIT_KM / unit
    used_limit = np.full(n, limit)
    for _round in range(4):
        sources = np.unique(entry[todo])
        if not len(sources):
            break
        wanted = np.full(n, limit)
        bound = np.full(n, -np.inf)
        np.maximum.at(bound, entry[todo], enough[todo])
        wanted[sources] = np.clip(bound[sources], 0.0, limit)
        sources = sources[np.argsort(wanted[sources], kind="stable")]  # batches of like radius
        row_of = np.full(n, -1, dtype=np.int64)
        row_of[sources] = np.arange(len(sources))
        pick_on = np.flatnonzero(todo[on_e])
        pick_re = re_e[todo[re_e]]
        for start in range(0, len(sources), _BATCH):
            batch = sources[start : start + _BATCH]
            radius = float(wanted[batch].max())
            used_limit[batch] = radius
            d = np.asarray(dijkstra(reverse_local, directed=True, indices=batch, limit=radius))
            rows = row_of[entry[on_e[pick_on]]] - start
            inside = (rows >= 0) & (rows < len(batch))
            sel = pick_on[inside]
            value_on[sel] = on_a[sel] + np.minimum(d[rows[inside], n_e + on_t[sel]], hub_on[sel])
            rows_e = row_of[entry[pick_re]] - start
            inside_e = (rows_e >= 0) & (rows_e < len(batch))
            for cl in range(n_c):
                members = pick_re[inside_e & (cand.remote_class[pick_re] == cl)]
                if not len(members) or not len(class_tutors[cl]):
                    continue
                tutors = class_tutors[cl]
                block = d[row_of[entry[members]] - start][:, n_e + tutors] - pi[n_e + tutors]
                take = min(k + 3, len(tutors))
                # The k + 3 best of min(path, through a hub) lie among the k + 3
                # best paths and each hub's k + 3 best tutors (the same for
                # every member: separable sums): evaluate those only.
                part = np.argpartition(block, take - 1, axis=1)[:, :take]
                part = np.hstack((part, np.broadcast_to(hub_best[cl], (len(members), len(hub_best[cl])))))
                values = np.take_along_axis(block, part, axis=1)
                for h in range(len(hubs)):
                    through = to_hub[h, n_e + tutors[part]] - pi[n_e + tutors[part]]
                    np.minimum(values, through + from_hub[h, entry[members]][:, None], out=values)
                # A tutor among both the best paths and a hub's best: once.
                again = (part[:, take:, None] == part[:, None, :take]).any(axis=2)
                values[:, take:][again] = np.inf
                best = np.argpartition(values, take - 1, axis=1)[:, :take]
                chosen = np.take_along_axis(part, best, axis=1)
                chosen_values = np.take_along_axis(values, best, axis=1)
                shift = re_a[np.searchsorted(re_e, members)]
                for j, e in enumerate(members.tolist()):
                    best_re[e] = (tutors[chosen[j]], chosen_values[j] + shift[j])
        if not math.isfinite(limit):
            break
        # Confirmed: k on-site values (valid pairs), or k + 3 values in all,
        # within the radius its source was searched to (anything unknown is
        # beyond).
        known_on = np.bincount(on_e[value_on <= used_limit[entry[on_e]]], minlength=n_e)
        known = known_on.copy()
        for e, (_, values) in best_re.items():
            known[e] += int((values <= used_limit[entry[e]]).sum())
        done = (known_on >= k) | (known >= k + 3) | (whole & (used_limit[entry] >= every))
        todo = todo & ~done
        limit = limit * 64.0 if _round < 2 else math.inf

    # Merge, keep each tutor's cheapest way, drop the current tutor, rank.
    parts_e = [on_e]
    parts_t = [on_t]
    parts_v = [value_on]
    for e, (tutors, values) in best_re.items():
        parts_e.append(np.full(len(tutors), e, dtype=np.int64))
        parts_t.append(tutors)
        parts_v.append(values)
    all_e = np.concatenate(parts_e)
    all_t = np.concatenate(parts_t)
    all_v = np.concatenate(parts_v)
    good = np.isfinite(all_v) & (all_t != tutor_of[all_e])
    all_e, all_t, all_v = all_e[good], all_t[good], all_v[good]
    order = np.lexsort((all_v, all_t, all_e))
    all_e, all_t, all_v = all_e[order], all_t[order], all_v[order]
    first = np.ones(len(all_e), dtype=bool)
    first[1:] = (all_e[1:] != all_e[:-1]) | (all_t[1:] != all_t[:-1])
    all_e, all_t, all_v = all_e[first], all_t[first], all_v[first]
    order = np.lexsort((all_t, all_v, all_e))
    all_e, all_t, all_v = all_e[order], all_t[order], all_v[order]
    rank = _rank_within(all_e)
    keep = rank < k + 3
    all_e, all_t, all_v = all_e[keep], all_t[keep], all_v[keep]
    distance = p.distance_km(all_t, all_e)
    modes = classify_pairs(p, all_t, all_e, distance)
    ok = modes != MODE_NONE  # drops the class exceptions (own, forbidden)
    all_e, all_t, all_v, distance, modes = all_e[ok], all_t[ok], all_v[ok], distance[ok], modes[ok]
    rank = _rank_within(all_e)
    keep = rank < k
    all_e, all_t, all_v, distance, modes, rank = (
        all_e[keep],
        all_t[keep],
        all_v[keep],
        distance[keep],
        modes[keep],
        rank[keep],
    )
    prio = np.round(all_v / big_m)
    km = (all_v - prio * big_m) * unit
    return pd.DataFrame(
        {
            "uai": p.establishments.id[all_e],
            "rank": rank + 1,
            "tutor_id": p.tutors.id[all_t],
            "mode": np.array([MODE_NAMES[int(m)] for m in modes], dtype=object),
            "distance_km": np.where(np.isfinite(distance), distance, np.nan),
            "priority_delta": -prio / p_scale + 0.0,  # no -0.0
            "cost_delta_km": km,
            "cost_delta_eur": np.full(len(km), np.nan),
            "status": "optimal",
            "method": "residual",
        },
        columns=list(BACKUP_COLUMNS),
    )


def _potentials(r: IntArray, c: IntArray, w: FloatArray, n: int) -> FloatArray:
    """Return shortest distances from a virtual node linked to every node at cost 0.

    Bellman-Ford, vectorised: each pass relaxes every arc at once (arcs
    grouped by head), and it stops at the first pass that changes nothing,
    i.e. after the depth of the shortest-path tree, not ``n`` passes.

    Raises
    ------
    InputError
        On a negative cycle (a plan that is not optimal).
    """
    order = np.argsort(c, kind="stable")
    r, c, w = r[order], c[order], w[order]
    heads, starts = np.unique(c, return_index=True)
    dist = np.zeros(n)
    for _ in range(n + 1):
        best = np.minimum.reduceat(dist[r] + w, starts) if len(r) else np.empty(0)
        better = best < dist[heads]
        if not better.any():
            return dist
        dist[heads[better]] = best[better]
    raise InputError("backups: the plan's residual graph has a negative cycle; is the plan optimal?")


def _kth_smallest(groups: IntArray, values: FloatArray, k: int, n_groups: int) -> FloatArray:
    """Return the ``k``-th smallest value of each group (``inf`` when it has fewer)."""
    out = np.full(n_groups, np.inf)
    order = np.lexsort((values, groups))
    g, v = groups[order], values[order]
    hit = _rank_within(g) == k - 1
    out[g[hit]] = v[hit]
    return out


def _rank_within(groups: IntArray) -> IntArray:
    """Position of each item within its run of equal ``groups`` (sorted input)."""
    if not len(groups):
        return np.empty(0, dtype=np.int64)
    start = np.ones(len(groups), dtype=bool)
    start[1:] = groups[1:] != groups[:-1]
    first = np.maximum.accumulate(np.where(start, np.arange(len(groups)), 0))
    return np.asarray(np.arange(len(groups)) - first, dtype=np.int64)
