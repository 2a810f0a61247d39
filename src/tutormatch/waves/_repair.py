r"""``tm.repair``: re-cover a withdrawn tutor's establishments with the fewest changed pairs.

Notes
-----
Let :math:`C` be the establishments covered before, :math:`o(e)` the tutor
of :math:`e \in C` before, :math:`W` the withdrawn tutors. One min-cost flow
over the establishments of :math:`C`, the tutors not in :math:`W` and the
remote classes decides the repair:

.. math::

    \min \; \sum_{e \in C} \Big( M_2 \, p_e \, u_e
        + M_1 \,[e \text{ changes}] \Big) + \sum_{\text{arcs}} c_a x_a

where :math:`u_e` is "left uncovered" (a change too), an arc from
:math:`e` to :math:`o(e)` (the pair kept) costs its yearly travel
:math:`c_a` alone, and every other arc (another tutor on site, or a remote
class) costs :math:`M_1 + c_a`. With integer costs :math:`c_a` (yearly km
in units of ``cost_resolution_km``), :math:`M_1 = 1 + \sum_{e} \max_a c_a`
exceeds any plan's travel and :math:`M_2 = M_1 (|C| + 1)` any plan's
changes and travel together: the optimum covers the most priority, then
changes the fewest pairs, then travels the least, exactly
(lexicographically). The LP of a flow is integral, so the flow's optimum is
the proven least disruption. Fixed pairs whose tutor stays are kept.

A first pass lets only the :math:`k` orphaned establishments move (a small
network). If it covers them all, it is the optimum: an optimal repair is a
set of alternating paths from the orphans, each displacing
:math:`L - 1` other establishments for :math:`L` changes, so a repair that
displaced any would change more than :math:`k` pairs, and every repair
changes at least the :math:`k` orphans. Otherwise (an orphan left uncovered,
or a fixed pair in the way) the full network decides.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, overload

import numpy as np
import numpy.typing as npt
import pandas as pd

from tutormatch.errors import InputError
from tutormatch.model._eligibility import MODE_ONSITE
from tutormatch.model._problem import Problem
from tutormatch.solve._assignment import Assignment
from tutormatch.waves._calendar import WaveCalendar
from tutormatch.waves._plan import Wave, WavePlan, _live_enough

__all__ = ["Repair", "WaveRepair", "repair", "repair_flow"]

IntArray = npt.NDArray[np.int64]
_INT_BUDGET = 2**62


@dataclass(frozen=True, eq=False)
class Repair:
    """A plan repaired after tutors withdrew, and what it disturbed.

    Attributes
    ----------
    before, after : Assignment
        The plan before, and after the repair (withdrawn tutors hold nothing;
        ``after.problem`` gives them capacity 0).
    withdrawn : tuple of str
        The tutors who withdrew.
    changes : pandas.DataFrame
        One row per changed pair: ``uai, tutor_before, tutor_after`` (empty
        when left uncovered), ``change`` (``"moved"``: its tutor left or it
        made room in a chain; ``"uncovered"``).
    is_optimal : bool
        The flow solved to optimality: the fewest changes (then least
        travel) are proven.
    cost_resolution_km : float
        Yearly km are rounded to this unit in the flow's travel level.
    seconds : float
    """

    before: Assignment
    after: Assignment
    withdrawn: tuple[str, ...]
    changes: pd.DataFrame
    is_optimal: bool
    cost_resolution_km: float
    seconds: float

    @property
    def n_changed(self) -> int:
        """Pairs changed: establishments whose tutor changed or that lost theirs."""
        return len(self.changes)

    @property
    def tutors_touched(self) -> tuple[str, ...]:
        """Tutors (not withdrawn) who gained or lost an establishment, sorted."""
        ids = set(self.changes["tutor_before"]) | set(self.changes["tutor_after"])
        return tuple(sorted(i for i in ids if i and i not in self.withdrawn))

    @property
    def uncovered(self) -> pd.DataFrame:
        """Establishments covered before and not after, with the reason (from the plan after)."""
        lost = self.changes.loc[self.changes["change"] == "uncovered", "uai"]
        table = self.after.uncovered
        return table[table["uai"].isin(set(lost))].reset_index(drop=True)

    @property
    def summary(self) -> pd.DataFrame:
        """One row per side: ``plan`` (before/after), ``n_covered, yearly_km, total_eur``."""
        import tutormatch as tm

        rows = []
        for name, plan in (("before", self.before), ("after", self.after)):
            report = tm.report.costs(plan)
            rows.append(
                {
                    "plan": name,
                    "n_covered": plan.n_covered,
                    "yearly_km": plan.yearly_travel_km,
                    "total_eur": report.total_eur,
                }
            )
        return pd.DataFrame(rows)

    def __repr__(self) -> str:
        proof = "proven" if self.is_optimal else "NOT proven"
        return (
            f"<Repair: {len(self.withdrawn)} withdrawn, {self.n_changed} pairs changed ({proof} fewest), "
            f"{len(self.tutors_touched)} tutors touched, {len(self.uncovered)} left uncovered>"
        )


def _tutor_rows(problem: Problem, withdraw: Any) -> IntArray:
    if isinstance(withdraw, str):
        withdraw = [withdraw]
    ids = [str(w) for w in withdraw]
    index = pd.Index(problem.tutors.id)
    rows = index.get_indexer(pd.Index(ids, dtype=object)) if ids else np.empty(0, dtype=np.int64)
    unknown = [i for i, r in zip(ids, rows, strict=True) if r < 0]
    if unknown:
        raise InputError(
            f"withdraw: unknown tutor id(s) {', '.join(map(repr, unknown[:5]))}; give ids of the "
            "plan's tutors table.",
            column="withdraw",
            values=unknown,
        )
    return np.unique(np.asarray(rows, dtype=np.int64))


def _integer(cost_km: npt.NDArray[np.float64], resolution: float) -> IntArray:
    return np.asarray(np.round(cost_km / resolution), dtype=np.int64)


def repair_flow(
    problem: Problem,
    covered: IntArray,
    old_tutor: IntArray,
    capacity: IntArray,
    *,
    cost_resolution_km: float = 0.01,
) -> tuple[IntArray, bool, float]:
    """Solve the repair flow (module Notes); return each covered establishment's new tutor (-1: none).

    Remote moves go through the problem's remote classes; a class whose flow
    cannot be split into valid remote pairs (own establishment, forbidden
    pair, a tutor near enough to be on site) is expanded into explicit pairs
    and the flow solved again, so the result is exact in every case.

    Parameters
    ----------
    problem : Problem
    covered : ndarray of int
        Establishments covered before (increasing).
    old_tutor : ndarray of int
        Their tutor before (-1 for a withdrawn one: it must change).
    capacity : ndarray of int
        Places per tutor (0 for the withdrawn).
    cost_resolution_km : float
        Unit of the integer travel costs; made coarser (x10) until the costs
        fit OR-Tools' 64-bit budget, and the one used is returned.

    Returns
    -------
    new_tutor : ndarray of int
    is_optimal : bool
    cost_resolution_km : float
    """
    orphans = old_tutor < 0
    # First only the orphans may move. When that covers them all, every
    # optimum is found in it: an optimal repair is a set of alternating paths
    # from the orphans, and one that displaced another establishment would
    # change more pairs than the k orphans alone (see the module Notes).
    for movable in (orphans, np.ones(len(covered), dtype=bool)):
        explicit: set[int] = set()
        while True:
            new, optimal, resolution, failed = _solve_once(
                problem, covered, old_tutor, capacity, cost_resolution_km, frozenset(explicit), movable
            )
            if not failed:
                break
            explicit |= failed
        if movable.all() or (optimal and (new >= 0).all()):
            return new, optimal, resolution
    raise AssertionError("unreachable: the last pass moves every establishment")  # pragma: no cover


def _solve_once(
    problem: Problem,
    covered: IntArray,
    old_tutor: IntArray,
    capacity: IntArray,
    cost_resolution_km: float,
    explicit: frozenset[int],
    movable: npt.NDArray[np.bool_],
) -> tuple[IntArray, bool, float, set[int]]:
    from ortools.graph.python import min_cost_flow  # imported on use: `import tutormatch` stays cheap

    from tutormatch.model._eligibility import MODE_REMOTE, classify_pairs
    from tutormatch.solve._network import _integer_priorities

    n_c, n_t = len(covered), problem.n_tutors
    cand = problem.candidates
    position = np.full(problem.n_establishments, -1, dtype=np.int64)
    position[covered] = np.arange(n_c)
    fixed_e = {int(e): int(t) for t, e in problem.fixed.tolist() if capacity[t] > 0}
    # Fixed pairs whose tutor stays, and establishments not allowed to move
    # in this pass, keep their pair: only their keep arc.
    is_fixed = np.array([int(e) in fixed_e for e in covered], dtype=bool) | ~movable
    remote_cost = problem.remote_cost_km[covered]
    # On-site arcs of covered establishments to tutors with places.
    sel = (position[cand.establishment] >= 0) & (capacity[cand.tutor] > 0)
    a_e = position[cand.establishment[sel]]
    a_t = cand.tutor[sel]
    a_cost = problem.pair_cost_km(cand.establishment[sel], cand.distance_km[sel])
    # Remote: establishment -> its class -> the class's tutors; classes in
    # ``explicit`` as (establishment, tutor) arcs checked one by one.
    r_class = cand.remote_class[covered]
    remote = (r_class >= 0) & ~is_fixed
    in_explicit = remote & np.isin(r_class, list(explicit))
    if in_explicit.any():
        xe, xt = [], []
        for i in np.flatnonzero(in_explicit).tolist():
            tutors = cand.link_tutor[cand.link_class == r_class[i]]
            tutors = tutors[capacity[tutors] > 0]
            e_rows = np.full(len(tutors), covered[i])
            ok = classify_pairs(problem, tutors, e_rows, problem.distance_km(tutors, e_rows)) == MODE_REMOTE
            xe.append(np.full(int(ok.sum()), i))
            xt.append(tutors[ok])
        a_e = np.concatenate([a_e, *xe]).astype(np.int64)
        a_t = np.concatenate([a_t, *xt]).astype(np.int64)
        a_cost = np.concatenate([a_cost, *(np.full(len(x), remote_cost[x[0]]) for x in xe if len(x))])
        remote &= ~in_explicit
    keep = (a_t == old_tutor[a_e]) | ~is_fixed[a_e]
    a_e, a_t, a_cost = a_e[keep], a_t[keep], a_cost[keep]
    a_change = a_t != old_tutor[a_e]
    # The kept pair in its current mode when it is remote (on site it is among the arcs).
    kept_remote = (old_tutor >= 0) & ~_onsite_pair(problem, covered, old_tutor)
    if in_explicit.any():
        kept_remote &= ~in_explicit
    priority_int, _ = _integer_priorities(problem.establishments.priority[covered])
    n_nodes = n_c + n_t + cand.n_classes + 1
    resolution = cost_resolution_km
    while True:
        c_arc = _integer(a_cost, resolution)
        c_remote = _integer(remote_cost, resolution)
        worst = np.zeros(n_c, dtype=np.int64)
        np.maximum.at(worst, a_e, c_arc)
        worst = np.maximum(worst, np.where(remote | kept_remote, c_remote, 0))
        m1 = int(worst.sum()) + 1
        m2 = m1 * (n_c + 1)
        top = m2 * int(priority_int.max(initial=1)) + m1
        if top * (n_nodes + 1) < _INT_BUDGET // 4 or resolution >= 1e6:
            break
        resolution *= 10.0
    sink = n_nodes - 1
    tails: list[IntArray] = []
    heads: list[IntArray] = []
    caps: list[IntArray] = []
    costs: list[IntArray] = []

    def add(t: IntArray, h: IntArray, c: IntArray, k: IntArray | int) -> None:
        tails.append(np.asarray(t, dtype=np.int64))
        heads.append(np.asarray(h, dtype=np.int64))
        costs.append(np.asarray(c, dtype=np.int64))
        caps.append(np.broadcast_to(np.asarray(k, dtype=np.int64), len(tails[-1])).copy())

    est_nodes = np.arange(n_c, dtype=np.int64)
    # 0: uncovered arcs, 1: direct arcs, 2: kept remote arcs, 3: remote class arcs,
    # 4: class -> tutor links, 5: tutor -> sink.
    # A fixed pair whose tutor stays is kept: no other arc, not even "uncovered".
    free = est_nodes[~is_fixed]
    add(free, np.full(len(free), sink), m2 * priority_int[free] + m1, 1)
    add(a_e, n_c + a_t, c_arc + m1 * a_change, 1)
    kr = np.flatnonzero(kept_remote)
    add(kr, n_c + old_tutor[kr], c_remote[kr], 1)
    rr = np.flatnonzero(remote)
    add(rr, n_c + n_t + r_class[rr], c_remote[rr] + m1, 1)
    link_ok = capacity[cand.link_tutor] > 0
    add(
        n_c + n_t + cand.link_class[link_ok],
        n_c + cand.link_tutor[link_ok],
        np.zeros(int(link_ok.sum()), dtype=np.int64),
        n_c,
    )
    has_room = np.flatnonzero(capacity > 0)
    add(
        n_c + has_room,
        np.full(len(has_room), sink),
        np.zeros(len(has_room), dtype=np.int64),
        capacity[has_room],
    )
    smcf = min_cost_flow.SimpleMinCostFlow()
    tail, head, cost, cap = (np.concatenate(x) for x in (tails, heads, costs, caps))
    arcs = smcf.add_arcs_with_capacity_and_unit_cost(tail, head, cap, cost)
    supplies = np.zeros(n_nodes, dtype=np.int64)
    supplies[:n_c] = 1
    supplies[sink] = -n_c
    smcf.set_nodes_supplies(np.arange(n_nodes), supplies)
    status = smcf.solve()
    optimal = status == smcf.OPTIMAL
    flow = smcf.flows(arcs)
    new_tutor = np.full(n_c, -1, dtype=np.int64)
    sizes = np.cumsum([0, *(len(t) for t in tails)])

    def part(k: int) -> tuple[IntArray, IntArray, IntArray]:
        lo, hi = sizes[k], sizes[k + 1]
        return tail[lo:hi], head[lo:hi], flow[lo:hi]

    for k in (1, 2):
        t_k, h_k, f_k = part(k)
        new_tutor[t_k[f_k > 0]] = h_k[f_k > 0] - n_c
    t3, h3, f3 = part(3)
    t4, h4, f4 = part(4)
    failed = _split_classes(
        problem, covered, t3[f3 > 0], h3[f3 > 0] - n_c - n_t, t4 - n_c - n_t, h4 - n_c, f4, new_tutor
    )
    return new_tutor, bool(optimal), resolution, failed


def _split_classes(
    problem: Problem,
    covered: IntArray,
    routed: IntArray,
    routed_class: IntArray,
    link_class: IntArray,
    link_tutor: IntArray,
    link_flow: IntArray,
    new_tutor: IntArray,
) -> set[int]:
    """Hand each class's remote flow to its tutors as valid remote pairs; return the classes that fail."""
    import scipy.sparse as sp
    from scipy.sparse.csgraph import maximum_bipartite_matching

    from tutormatch.model._eligibility import MODE_REMOTE, classify_pairs

    failed: set[int] = set()
    for c in np.unique(routed_class).tolist():
        members = routed[routed_class == c]
        here = (link_class == c) & (link_flow > 0)
        slots = np.repeat(link_tutor[here], link_flow[here])
        ee = np.repeat(covered[members], len(slots))
        tt = np.tile(slots, len(members))
        ok = classify_pairs(problem, tt, ee, problem.distance_km(tt, ee)) == MODE_REMOTE
        graph = sp.csr_array(ok.reshape(len(members), len(slots)).astype(np.int8))
        match = maximum_bipartite_matching(graph, perm_type="column")
        if (match < 0).any():
            failed.add(int(c))
            continue
        new_tutor[members] = slots[match]
    return failed


def _onsite_pair(problem: Problem, establishment: IntArray, tutor: IntArray) -> npt.NDArray[np.bool_]:
    from tutormatch.model._eligibility import classify_pairs

    ok = tutor >= 0
    out = np.zeros(len(establishment), dtype=bool)
    if ok.any():
        t, e = tutor[ok], establishment[ok]
        out[ok] = classify_pairs(problem, t, e, problem.distance_km(t, e)) == MODE_ONSITE
    return out


@overload
def repair(
    plan: Assignment, *, withdraw: Any, at: str | None = None, cost_resolution_km: float = 0.01
) -> Repair: ...


@overload
def repair(
    plan: WavePlan, *, withdraw: Any, at: str | None = None, cost_resolution_km: float = 0.01
) -> WaveRepair: ...


def repair(
    plan: Assignment | WavePlan,
    *,
    withdraw: Any,
    at: str | None = None,
    cost_resolution_km: float = 0.01,
) -> Repair | WaveRepair:
    """Re-cover withdrawn tutors' establishments, changing the fewest pairs.

    Lexicographic and exact (see :mod:`tutormatch.waves._repair`): first
    keep covered as much priority as can be; then change the fewest pairs (a
    pair kept is worth more than any saving in travel); then travel the
    least. Establishments uncovered before stay out of the repair.

    Parameters
    ----------
    plan : Assignment or WavePlan
        The plan running (e.g. from :func:`tutormatch.solve`), or a rollout
        from :func:`tutormatch.plan_waves`: then every wave whose support
        has not ended at ``at`` is repaired, in date order, each exactly,
        each tutor's places recomputed from the pairs of the other waves
        (wave by wave, as they were planned: not jointly).
    withdraw : str or iterable of str
        Ids of the tutors who withdraw.
    at : str, optional
        For a rollout: the month of the withdrawal (``YYYY-MM``); default
        the last wave's.
    cost_resolution_km : float, default 0.01
        Yearly km are compared to this unit in the travel level.

    Returns
    -------
    Repair or WaveRepair
        A :class:`WaveRepair` for a rollout.

    Raises
    ------
    InputError
        For an unknown tutor id, a plan without solution, or a bad ``at``.

    Examples
    --------
    >>> import tutormatch as tm
    >>> plan = tm.solve(tm.example_problem())
    >>> fixed = tm.repair(plan, withdraw="T0012")
    >>> fixed.after.n_covered >= plan.n_covered - 2, fixed.is_optimal
    (True, True)
    """
    if isinstance(plan, WavePlan):
        return _repair_waves(plan, withdraw, at, cost_resolution_km)
    if not plan.status.has_solution:
        raise InputError(f"repair needs a plan with a solution; this one is {plan.status.value}.")
    gone = _tutor_rows(plan.problem, withdraw)
    return _repair_plan(plan, gone, plan.problem.tutors.capacity, cost_resolution_km)


def _repair_plan(plan: Assignment, gone: IntArray, places: IntArray, cost_resolution_km: float) -> Repair:
    import dataclasses

    import tutormatch as tm

    started = time.perf_counter()
    problem = plan.problem
    capacity = np.asarray(places, dtype=np.int64).copy()
    capacity[gone] = 0
    covered = plan.establishment
    old = plan.tutor.copy()
    old[np.isin(old, gone)] = -1
    new, optimal, resolution = repair_flow(
        problem, covered, old, capacity, cost_resolution_km=cost_resolution_km
    )
    keep_fixed = ~np.isin(problem.fixed[:, 0], gone) if len(problem.fixed) else np.zeros(0, dtype=bool)
    tutors = dataclasses.replace(problem.tutors, capacity=capacity, min_load=np.zeros_like(capacity))
    after_problem = dataclasses.replace(problem, tutors=tutors, fixed=problem.fixed[keep_fixed])
    ids_t, ids_e = problem.tutors.id, problem.establishments.id
    chosen = new >= 0
    pairs = pd.DataFrame({"tutor_id": ids_t[new[chosen]], "uai": ids_e[covered[chosen]]})
    after = tm.evaluate(after_problem, pairs, name="repaired pairs")
    after = dataclasses.replace(after, solver="repair", message="least disruption (min-cost flow)")
    changed = new != plan.tutor
    changes = pd.DataFrame(
        {
            "uai": ids_e[covered[changed]],
            "tutor_before": ids_t[plan.tutor[changed]],
            "tutor_after": np.where(new[changed] >= 0, ids_t[np.maximum(new[changed], 0)], ""),
            "change": np.where(new[changed] >= 0, "moved", "uncovered"),
        }
    )
    return Repair(
        before=plan,
        after=after,
        withdrawn=tuple(str(i) for i in ids_t[gone]),
        changes=changes,
        is_optimal=optimal,
        cost_resolution_km=resolution,
        seconds=time.perf_counter() - started,
    )


@dataclass(frozen=True, eq=False)
class WaveRepair:
    """A rollout repaired after tutors withdrew.

    Attributes
    ----------
    before, after : WavePlan
    repairs : tuple of Repair
        One per wave repaired (support not ended at ``at``, and a pair of a
        withdrawn tutor in it), in date order.
    at : str
        The month of the withdrawal.
    """

    before: WavePlan
    after: WavePlan
    repairs: tuple[Repair, ...]
    at: str

    @property
    def changes(self) -> pd.DataFrame:
        """Changed pairs of every wave repaired: ``wave, uai, tutor_before, tutor_after, change``."""
        frames = [
            r.changes.assign(wave=w.label)[["wave", *r.changes.columns]]
            for r, w in zip(self.repairs, self._waves, strict=True)
        ]
        columns = ["wave", "uai", "tutor_before", "tutor_after", "change"]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)

    @property
    def _waves(self) -> list[Wave]:
        repaired = {id(r.after) for r in self.repairs}
        return [w for w in self.after.waves if id(w.plan) in repaired]

    @property
    def n_changed(self) -> int:
        """Pairs changed over every wave."""
        return sum(r.n_changed for r in self.repairs)

    @property
    def is_optimal(self) -> bool:
        """Every wave's repair proven least disruptive."""
        return all(r.is_optimal for r in self.repairs)

    @property
    def tutors_touched(self) -> tuple[str, ...]:
        """Tutors (not withdrawn) who gained or lost an establishment, sorted."""
        return tuple(sorted({t for r in self.repairs for t in r.tutors_touched}))

    @property
    def uncovered(self) -> pd.DataFrame:
        """Establishments covered before and not after, with the wave and the reason."""
        frames = [r.uncovered.assign(wave=w.label) for r, w in zip(self.repairs, self._waves, strict=True)]
        return (
            pd.concat(frames, ignore_index=True)
            if frames
            else pd.DataFrame(columns=["uai", "reason", "wave"])
        )

    def __repr__(self) -> str:
        proof = "proven" if self.is_optimal else "NOT proven"
        return (
            f"<WaveRepair at {self.at}: {len(self.repairs)} waves repaired, {self.n_changed} pairs changed "
            f"({proof} fewest per wave), {len(self.tutors_touched)} tutors touched, "
            f"{len(self.uncovered)} left uncovered>"
        )


def _repair_waves(plan: WavePlan, withdraw: Any, at: str | None, cost_resolution_km: float) -> WaveRepair:
    import dataclasses

    from tutormatch.model._waves import parse_wave_cell

    cal = plan.calendar
    if not plan.waves:
        raise InputError("repair: the rollout has no wave.")
    if at is None:
        month = plan.waves[-1].month
    else:
        kind, value = parse_wave_cell(at)
        if kind != "date" or value is None:
            raise InputError(f"at must be a month such as 2026-01; got {at!r}.", column="at", values=[at])
        month = int(value)
    label = WaveCalendar.label(month)
    gone = _tutor_rows(plan.problem, withdraw)
    n_t = plan.problem.n_tutors
    first_year = cal.school_year(plan.waves[0].month)
    last_year = cal.school_year(plan.waves[-1].month + cal.support_months - 1)
    load_of: dict[int, IntArray] = {}  # wave index -> load per tutor (pairs of that wave)
    for i, w in enumerate(plan.waves):
        load_of[i] = np.bincount(w.plan.tutor, minlength=n_t)
    waves = list(plan.waves)
    repairs = []
    for i, w in enumerate(plan.waves):
        if w.month + cal.support_months <= month:
            continue  # ended: history
        if not np.isin(w.plan.tutor, gone).any():
            # Nothing to re-cover; and no pair needs to move: every earlier
            # repair gave places only within what the other waves leave.
            continue
        years = cal.school_years_of(w.month)
        load = np.zeros((n_t, last_year - first_year + 1), dtype=np.int64)
        for j, other in enumerate(waves):
            if j != i:
                load[:, cal.school_years_of(other.month) - first_year] += load_of[j][:, None]
        live = _live_enough(plan.problem, w.month, cal)
        room = np.maximum(plan.problem.tutors.capacity - load[:, years - first_year].max(axis=1), 0)
        room[~live] = 0
        # The wave's plan on a problem with the places now left.
        held = np.maximum(room, np.bincount(w.plan.tutor, minlength=n_t))
        sub = dataclasses.replace(
            w.plan.problem, tutors=dataclasses.replace(w.plan.problem.tutors, capacity=held)
        )
        current = dataclasses.replace(w.plan, problem=sub)
        fixed = _repair_plan(current, gone, room, cost_resolution_km)
        repairs.append(fixed)
        waves[i] = dataclasses.replace(w, plan=fixed.after)
        load_of[i] = np.bincount(fixed.after.tutor, minlength=n_t)
    after = dataclasses.replace(plan, waves=tuple(waves))
    return WaveRepair(before=plan, after=after, repairs=tuple(repairs), at=label)
