r"""The pool of on-site pairs a solve starts from, and pricing to prove it suffices.

Notes
-----
Listing every pair within the distance limit costs time and memory where
tutors are dense (a 60 km disc around Paris holds hundreds of them). A solve
therefore starts from each establishment's ``k`` nearest eligible tutors and,
after each flow solve, *prices* the pairs left out with the flow's
potentials (:mod:`tutormatch.solve._duals`): a left-out pair (t, e) can
improve the plan only if its reduced cost :math:`c_{te} + d_e - d_t` is
negative. Since :math:`c_{te} = 2 v_e \, \mathrm{dist}(t, e)` grows with
distance, such a tutor lies within
:math:`r_e = (\max_t d_t - d_e) / (2 v_e)` of :math:`e`: one radius query per
establishment whose radius exceeds what the pool already holds finds every
candidate, and the pairs found are added before solving again. When no pair
is found the plan is optimal for the full problem. With a positive
``slack``, the same query returns every pair whose reduced cost is at most
``slack`` (reduced-cost fixing).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tutormatch.errors import InputError
from tutormatch.geo._distance import chord_for_km, chord_to_km, chords_for_km, flatten_hits
from tutormatch.model._eligibility import pair_keys, pair_limit_km, rule_mask
from tutormatch.model._problem import Problem

__all__ = ["OnsitePool", "first_round_slack", "initial_pool", "price_pool"]

_BANDS = 16  # potential bands in pricing; more bands, tighter radii, more queries (16: least time, towns)
_AUTO_K = 32  # pool size when "auto" does not model every pair
_PRICED_PER_ESTABLISHMENT = 32  # pairs a round that would double the pool adds, per establishment
_COVERAGE_K = 4  # nearest tutors of each coverage potential priced per establishment
_SLACK_DIVISOR = 3  # first round's slack: the mean cost of a used pair over this
#: Peak memory of a solve per modelled pair (measured: 25 M pairs, 4.2 GB).
BYTES_PER_PAIR = 170
_SAMPLE = 2_000  # establishments sampled to estimate the pair count

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class OnsitePool:
    """Eligible on-site pairs known to a solve.

    Attributes
    ----------
    tutor, establishment : ndarray of int
        Pairs, in a deterministic order.
    distance_km : ndarray of float
    complete_km : ndarray of float, per establishment
        Every eligible on-site pair of the establishment closer than this is
        in the pool (``inf``: all of them are).
    """

    tutor: IntArray
    establishment: IntArray
    distance_km: FloatArray
    complete_km: FloatArray

    @functools.cached_property
    def sorted_keys(self) -> IntArray:
        """Sorted :func:`~tutormatch.model._eligibility.pair_keys` of the pairs, for membership tests."""
        return np.sort(pair_keys(self.tutor, self.establishment, len(self.complete_km)))

    def holds(self, keys: IntArray) -> npt.NDArray[np.bool_]:
        """Tell which pair keys are in the pool (binary search, no sort of the pool)."""
        known = self.sorted_keys
        where = np.minimum(np.searchsorted(known, keys), max(len(known) - 1, 0))
        return known[where] == keys if len(known) else np.zeros(len(keys), dtype=bool)

    @property
    def is_complete(self) -> bool:
        """Whether the pool holds every eligible on-site pair."""
        return bool(np.all(np.isinf(self.complete_km)))

    @property
    def n_pairs(self) -> int:
        """Number of pairs."""
        return len(self.tutor)

    def extended(self, tutor: IntArray, establishment: IntArray, distance_km: FloatArray) -> OnsitePool:
        """Return the pool with more pairs (assumed new)."""
        pool = OnsitePool(
            np.concatenate((self.tutor, tutor)),
            np.concatenate((self.establishment, establishment)),
            np.concatenate((self.distance_km, distance_km)),
            self.complete_km,
        )
        if "sorted_keys" in self.__dict__:  # merge instead of sorting again
            added = np.sort(pair_keys(tutor, establishment, len(self.complete_km)))
            known = self.sorted_keys
            pool.__dict__["sorted_keys"] = np.insert(known, np.searchsorted(known, added), added)
        return pool


def _eligible(
    problem: Problem, tutor: IntArray, establishment: IntArray, distance: FloatArray
) -> npt.NDArray[np.bool_]:
    return rule_mask(problem, tutor, establishment) & (distance <= pair_limit_km(problem, tutor))


def full_pool(problem: Problem) -> OnsitePool:
    """Every eligible on-site pair (a radius query over the whole limit)."""
    cand = problem.candidates
    return OnsitePool(
        cand.tutor, cand.establishment, cand.distance_km, np.full(problem.n_establishments, np.inf)
    )


def estimate_pairs(problem: Problem) -> int:
    """Estimate the on-site pairs within the limit without listing them (before the rules).

    Exact for a distance matrix, a problem without limit or up to
    ``_SAMPLE`` establishments; beyond, a count over every ``n / _SAMPLE``-th
    establishment (deterministic), scaled up.
    """
    n_t, n_e = problem.n_tutors, problem.n_establishments
    if problem.distance_matrix is not None:
        return int(problem.distance_matrix.nnz)
    if n_t == 0 or n_e == 0 or not math.isfinite(problem.max_distance_km):
        return n_t * n_e
    chord = chord_for_km(problem.max_distance_km) * (1 + 1e-9) + 1e-12
    step = max(n_e // _SAMPLE, 1)
    sample = problem.establishment_xyz[::step]
    found = int(problem.tutor_tree.query_ball_point(sample, chord, return_length=True).sum())
    return round(found * n_e / len(sample))


def _memory_bytes() -> float:
    """Physical memory of the machine (inf where it cannot be read)."""
    import os

    try:
        return float(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return math.inf


def check_memory(problem: Problem, n_pairs: int, *, why: str) -> None:
    """Refuse, before building anything, a model of ``n_pairs`` pairs that would not fit in memory.

    Raises
    ------
    InputError
        When ``n_pairs`` pairs need more than half the machine's memory, with
        the size and the options that make it smaller.
    """
    need = n_pairs * BYTES_PER_PAIR
    have = _memory_bytes()
    if need <= have / 2:
        return
    limit = problem.max_distance_km
    raise InputError(
        f"the problem is too large to model {why}: about {n_pairs:,} on-site pairs within "
        f"{limit:g} km ({problem.n_tutors:,} tutors x {problem.n_establishments:,} establishments), "
        f"about {need / 1e9:.1f} GB where this machine has {have / 1e9:.1f} GB. Lower max_distance_km, "
        "or solve with SolveOptions(candidate_k='auto') or an integer (nearest tutors, then pricing; "
        "flow solver only)."
    )


def choose_k(problem: Problem, candidate_k: int | str | None, budget: int) -> int | None:
    """Resolve ``SolveOptions.candidate_k``: a pool size, or None for every pair."""
    if candidate_k != "auto":
        return candidate_k  # type: ignore[return-value]
    limit = problem.max_distance_km
    if problem.distance_matrix is not None or problem.n_tutors == 0 or problem.n_establishments == 0:
        return None
    if problem.n_tutors * problem.n_establishments <= budget:
        return None
    if not math.isfinite(limit) or estimate_pairs(problem) > 2 * budget:
        return _AUTO_K  # surely over the budget: no exact count needed
    chord = chord_for_km(limit) * (1 + 1e-9) + 1e-12
    n_pairs = int(
        problem.tutor_tree.query_ball_point(problem.establishment_xyz, chord, return_length=True).sum()
    )
    return None if n_pairs <= budget else _AUTO_K


def initial_pool(problem: Problem, k: int | None) -> OnsitePool:
    """Each establishment's ``k`` nearest tutors within the limit, kept if eligible.

    ``k=None``, a user distance matrix or a problem with few tutors give the
    complete pool.
    """
    n_t, n_e = problem.n_tutors, problem.n_establishments
    if k is None or problem.distance_matrix is not None or n_t <= k or n_e == 0:
        return full_pool(problem)
    limit = problem.max_distance_km
    tree = problem.tutor_tree
    bound = chord_for_km(limit) * (1 + 1e-9) + 1e-12 if math.isfinite(limit) else np.inf
    chord, idx = tree.query(problem.establishment_xyz, k=k, distance_upper_bound=bound)
    chord, idx = np.reshape(chord, (n_e, k)), np.reshape(idx, (n_e, k))  # k=1 gives 1-D arrays
    found = idx < n_t
    complete = np.where(found[:, -1], chord_to_km(np.where(found[:, -1], chord[:, -1], 0.0)), np.inf)
    establishment = np.repeat(np.arange(n_e, dtype=np.int64), k)[found.ravel()]
    tutor = idx.ravel()[found.ravel()].astype(np.int64)
    distance = chord_to_km(chord.ravel()[found.ravel()])
    keep = (distance <= limit) & _eligible(problem, tutor, establishment, distance)
    return OnsitePool(tutor[keep], establishment[keep], distance[keep], complete)


def first_round_slack(arc_cost: IntArray, arc_used: npt.NDArray[np.bool_]) -> int:
    """Reduced-cost slack of the first pricing round: a third of the mean cost of the pairs in use.

    The first pool's potentials are the furthest from the final ones: pairs
    of small positive reduced cost then often turn negative once the priced
    pairs are in, and cost one more round (a flow, its potentials and a
    pricing pass) for a handful of pairs (towns without a limit: 34 pairs,
    a third round). Adding them at once is exact (column generation may add
    any column; only the last round, at slack 0, certifies the plan).
    """
    used = arc_cost[arc_used]
    return int(used.mean()) // _SLACK_DIVISOR if len(used) else 0


def _ball_hits(
    problem: Problem, band: IntArray, ask: IntArray, radius_km: FloatArray
) -> tuple[IntArray, IntArray]:
    """Pairs (tutor of ``band``, establishment of ``ask``) within each establishment's radius."""
    from scipy.spatial import cKDTree

    chords = chords_for_km(radius_km) * (1 + 1e-9) + 1e-12
    tree = cKDTree(problem.tutor_xyz[band])
    which, found = flatten_hits(
        tree.query_ball_point(problem.establishment_xyz[ask], chords, return_sorted=False)
    )
    return band[found], ask[which]


def _coverage_hits(
    problem: Problem,
    pool: OnsitePool,
    room: IntArray,
    active: npt.NDArray[np.bool_],
    establishment_potential: IntArray,
    tutor_potential: IntArray,
) -> tuple[IntArray, IntArray]:
    r"""Pairs that could cover more priority: :math:`\pi_e - \pi_t < 0`, at any distance within the limit.

    Coverage potentials take few values (sums of integer priorities), and
    every tutor of a value above :math:`\pi_e` improves :math:`e` wherever it
    is: the ``_COVERAGE_K`` nearest of each value suffice to make progress.
    An establishment whose nearest all fail (rules, personal limits, or
    already pooled) gets every tutor of that value within the limit, so
    that no improving pair is missed when none is returned (the proof).
    A ball over the whole limit per establishment (as for costs) would list
    every tutor without a limit: 8,000 x 2,000 pairs, 7 s, for a few.
    """
    from scipy.spatial import cKDTree

    values = np.unique(tutor_potential[room])
    if len(values) > _BANDS:  # many distinct values: bands of balls over the whole limit
        groups = _bands(room, tutor_potential)
    else:
        groups = [room[tutor_potential[room] == v] for v in values]
    limit = problem.max_distance_km
    bound = chord_for_km(limit) * (1 + 1e-9) + 1e-12 if math.isfinite(limit) else np.inf
    hits_t: list[IntArray] = [np.empty(0, np.int64)]
    hits_e: list[IntArray] = [np.empty(0, np.int64)]
    for group in groups:
        ask = np.flatnonzero(active & (establishment_potential < int(tutor_potential[group].max())))
        if len(ask) == 0:
            continue
        if len(values) > _BANDS:
            found = _ball_hits(problem, group, ask, np.full(len(ask), limit))
            hits_t.append(found[0])
            hits_e.append(found[1])
            continue
        k = min(_COVERAGE_K, len(group))
        chord, idx = cKDTree(problem.tutor_xyz[group]).query(
            problem.establishment_xyz[ask], k=k, distance_upper_bound=bound
        )
        chord, idx = np.reshape(chord, (len(ask), k)), np.reshape(idx, (len(ask), k))
        near = idx < len(group)
        row = np.repeat(np.arange(len(ask)), k)[near.ravel()]
        tutor = group[idx[near]]
        establishment = ask[row]
        distance = chord_to_km(chord[near])
        keys = pair_keys(tutor, establishment, problem.n_establishments)
        fit = (distance <= limit) & _eligible(problem, tutor, establishment, distance) & ~pool.holds(keys)
        hits_t.append(tutor[fit])
        hits_e.append(establishment[fit])
        # All k found and none usable: there may be more of them, further.
        helped = np.zeros(len(ask), dtype=bool)
        helped[row[fit]] = True
        redo = ask[near[:, -1] & ~helped]
        if len(redo):
            found = _ball_hits(problem, group, redo, np.full(len(redo), limit))
            hits_t.append(found[0])
            hits_e.append(found[1])
    return np.concatenate(hits_t), np.concatenate(hits_e)


def _bands(tutors: IntArray, potential: IntArray) -> list[IntArray]:
    """Split tutors into bands of similar potential (a low band needs tighter radii)."""
    by_potential = tutors[np.argsort(potential[tutors], kind="stable")]
    return [band for band in np.array_split(by_potential, min(_BANDS, len(by_potential))) if len(band)]


def price_pool(
    problem: Problem,
    pool: OnsitePool,
    *,
    active: npt.NDArray[np.bool_],
    tutor_room: npt.NDArray[np.bool_],
    establishment_potential: IntArray,
    tutor_potential: IntArray,
    cost_unit_km: float,
    slack: int = 0,
    priority_potentials: tuple[IntArray, IntArray] | None = None,
) -> tuple[IntArray, IntArray, FloatArray]:
    """Return the left-out eligible pairs that could improve the plan.

    Parameters
    ----------
    problem : Problem
    pool : OnsitePool
    active : ndarray of bool, per establishment
        Establishments still to decide (not fixed).
    tutor_room : ndarray of bool, per tutor
        Tutors that can take one more establishment at all.
    establishment_potential, tutor_potential : ndarray of int
        Potentials :math:`d_e`, :math:`d_t` of the optimal flow (of its cost
        level when the levels were solved one after the other).
    cost_unit_km : float
        The network's integer cost unit.
    slack : int
        Return pairs with reduced cost ``< slack`` (0: those that could improve
        the plan).
    priority_potentials : (ndarray of int, ndarray of int), optional
        Potentials ``pi_e``, ``pi_t`` of the coverage level. A pair is then returned when its
        coverage reduced cost ``pi_e - pi_t`` is negative (it could
        cover more priority, at any distance within the limit), or zero with a
        cost reduced cost below ``slack``; a positive one can be in no
        lexicographic optimum.
    """
    empty = (np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.float64))
    if pool.is_complete or not tutor_room.any():
        return empty
    visits = problem.establishments.visits_per_year
    room = np.flatnonzero(tutor_room)
    hits_t: list[IntArray] = []
    hits_e: list[IntArray] = []
    if priority_potentials is not None:
        found = _coverage_hits(problem, pool, room, active, *priority_potentials)
        hits_t.append(found[0])
        hits_e.append(found[1])
    # Cost level, by bands of tutor potential: c_te = round(2 v dist / unit)
    # < d_t - d_e + slack  =>  dist < (d_max - d_e + slack + 1) unit / (2 v).
    for band in _bands(room, tutor_potential):
        d_max = int(tutor_potential[band].max())
        reach = (d_max - establishment_potential + slack + 1).astype(np.float64) * cost_unit_km
        with np.errstate(divide="ignore"):
            radius = np.where(visits > 0, reach / (2.0 * visits), np.inf)
        radius = np.minimum(radius, problem.max_distance_km)
        ask = np.flatnonzero(active & (radius >= pool.complete_km) & (reach > 0))
        if len(ask):
            found = _ball_hits(problem, band, ask, radius[ask])
            hits_t.append(found[0])
            hits_e.append(found[1])
    if not hits_t:
        return empty
    tutor, establishment = np.concatenate(hits_t), np.concatenate(hits_e)
    # Reduced costs first (cheap, vectorised); rules and pool membership only
    # for the few pairs that could improve the plan.
    distance = problem.distance_km(tutor, establishment)
    cost = np.round(problem.pair_cost_km(establishment, distance) / cost_unit_km).astype(np.int64)
    reduced = cost + establishment_potential[establishment] - tutor_potential[tutor]
    coverage = np.zeros(len(tutor), dtype=np.int64)
    if priority_potentials is not None:
        coverage = priority_potentials[0][establishment] - priority_potentials[1][tutor]
    take = (coverage < 0) | ((coverage == 0) & (reduced < slack))
    tutor, establishment, distance = tutor[take], establishment[take], distance[take]
    reduced, coverage = reduced[take], coverage[take]
    keep = _eligible(problem, tutor, establishment, distance)
    keys = pair_keys(tutor[keep], establishment[keep], problem.n_establishments)
    keys, first = np.unique(keys, return_index=True)  # a pair found at both levels
    pick = np.flatnonzero(keep)[first[~pool.holds(keys)]]
    if len(pick) <= pool.n_pairs:
        return tutor[pick], establishment[pick], distance[pick]
    # Early potentials can be far from the final ones and price millions of
    # pairs in (towns without a limit from a pool of 12 per establishment:
    # 8 M pairs, 418 s): a round that would more than double the pool adds
    # only each establishment's most promising few, which is enough to make
    # progress (column generation may add any improving column).
    order = np.lexsort((reduced[pick], coverage[pick], establishment[pick]))
    pick = pick[order]
    group = establishment[pick]
    starts = np.searchsorted(group, group, side="left")
    pick = np.sort(pick[np.arange(len(pick)) - starts < _PRICED_PER_ESTABLISHMENT])
    return tutor[pick], establishment[pick], distance[pick]
