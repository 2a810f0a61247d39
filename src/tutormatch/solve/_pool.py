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

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.spatial import cKDTree

from tutormatch.geo._distance import chord_for_km, chord_to_km, chords_for_km, flatten_hits
from tutormatch.model._eligibility import pair_keys, pair_limit_km, rule_mask
from tutormatch.model._problem import Problem

__all__ = ["OnsitePool", "initial_pool", "price_pool"]

_BANDS = 16  # potential bands in pricing; more bands, tighter radii, more queries
_AUTO_K = 32  # pool size when "auto" does not model every pair

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
        return OnsitePool(
            np.concatenate((self.tutor, tutor)),
            np.concatenate((self.establishment, establishment)),
            np.concatenate((self.distance_km, distance_km)),
            self.complete_km,
        )


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


def choose_k(problem: Problem, candidate_k: int | str | None, budget: int) -> int | None:
    """Resolve ``SolveOptions.candidate_k``: a pool size, or None for every pair."""
    if candidate_k != "auto":
        return candidate_k  # type: ignore[return-value]
    limit = problem.max_distance_km
    if problem.distance_matrix is not None or problem.n_tutors == 0 or problem.n_establishments == 0:
        return None
    if problem.n_tutors * problem.n_establishments <= budget:
        return None
    if not math.isfinite(limit):
        return _AUTO_K
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
) -> tuple[IntArray, IntArray, FloatArray]:
    """Return the left-out eligible pairs whose reduced cost is below ``slack``.

    Parameters
    ----------
    problem : Problem
    pool : OnsitePool
    active : ndarray of bool, per establishment
        Establishments still to decide (not fixed).
    tutor_room : ndarray of bool, per tutor
        Tutors that can take one more establishment at all.
    establishment_potential, tutor_potential : ndarray of int
        Potentials :math:`d_e`, :math:`d_t` of the optimal flow.
    cost_unit_km : float
        The network's integer cost unit.
    slack : int
        Return pairs with reduced cost ``< slack`` (0: those that could improve
        the plan).
    """
    empty = (np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.float64))
    if pool.is_complete or not tutor_room.any():
        return empty
    est = problem.establishments
    visits = est.visits_per_year
    # Tutors are split into bands of similar potential: a band of low
    # potentials can only pair with establishments very close by, so each
    # band is queried with its own, tighter radius.
    room = np.flatnonzero(tutor_room)
    by_potential = room[np.argsort(tutor_potential[room], kind="stable")]
    hits_t: list[IntArray] = []
    hits_e: list[IntArray] = []
    for band in np.array_split(by_potential, min(_BANDS, len(by_potential))):
        d_max = int(tutor_potential[band].max())
        # c_te = round(2 v dist / unit) < d_t - d_e + slack
        #   =>  dist < (d_max - d_e + slack + 1) unit / (2 v).
        reach = (d_max - establishment_potential + slack + 1).astype(np.float64) * cost_unit_km
        with np.errstate(divide="ignore"):
            radius = np.where(visits > 0, reach / (2.0 * visits), np.inf)
        radius = np.minimum(radius, problem.max_distance_km)
        ask = np.flatnonzero(active & (radius >= pool.complete_km) & (reach > 0))
        if len(ask) == 0:
            continue
        chords = chords_for_km(radius[ask]) * (1 + 1e-9) + 1e-12
        tree = cKDTree(problem.tutor_xyz[band])
        which, found = flatten_hits(
            tree.query_ball_point(problem.establishment_xyz[ask], chords, return_sorted=False)
        )
        hits_t.append(band[found])
        hits_e.append(ask[which])
    if not hits_t:
        return empty
    tutor, establishment = np.concatenate(hits_t), np.concatenate(hits_e)
    # Reduced costs first (cheap, vectorised); rules and pool membership only
    # for the few pairs that could improve the plan.
    distance = problem.distance_km(tutor, establishment)
    cost = np.round(problem.pair_cost_km(establishment, distance) / cost_unit_km).astype(np.int64)
    reduced = cost + establishment_potential[establishment] - tutor_potential[tutor]
    take = reduced < slack
    tutor, establishment, distance = tutor[take], establishment[take], distance[take]
    keep = _eligible(problem, tutor, establishment, distance)
    tutor, establishment, distance = tutor[keep], establishment[keep], distance[keep]
    new = ~np.isin(
        pair_keys(tutor, establishment, problem.n_establishments),
        pair_keys(pool.tutor, pool.establishment, problem.n_establishments),
    )
    return tutor[new], establishment[new], distance[new]
