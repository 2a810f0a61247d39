"""Which (tutor, establishment) pairs are eligible, and in which mode.

A pair is eligible when it is not the tutor's own establishment, the tutor's
wave is earlier than the establishment's (when both are known), the tutor's
role can give the help the establishment needs (when both are known) and it is
not forbidden. It is then **on-site** when the distance is within both the
problem's and the tutor's limit, else **remote** when remote tutoring is
allowed and both sides accept it, else not eligible.

On-site pairs are few and found with a spatial index. Remote pairs are dense
(any tutor far away will do) but all cost the same for a given
establishment, so they are never listed: establishments that may be tutored
remotely are grouped into *remote classes* by (wave, need), and each class is
linked to the tutors that may serve all of it. The solvers route remote
establishments through their class, and :mod:`tutormatch.solve._remote` turns
the class loads back into pairs, avoiding the few pairs a class link does not
rule out (own establishment, forbidden pairs).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from tutormatch.model._rules import role_covers

if TYPE_CHECKING:
    from tutormatch.model._problem import Problem

__all__ = ["MODE_NONE", "MODE_ONSITE", "MODE_REMOTE", "Candidates", "build_candidates", "classify_pairs"]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

MODE_NONE = -1
MODE_ONSITE = 0
MODE_REMOTE = 1
MODE_NAMES = {MODE_NONE: "none", MODE_ONSITE: "onsite", MODE_REMOTE: "remote"}


@dataclass(frozen=True, eq=False)
class Candidates:
    """The sparse eligibility structure of a problem.

    Attributes
    ----------
    tutor, establishment : ndarray of int
        On-site eligible pairs, in a deterministic order.
    distance_km : ndarray of float
        Their distance (great-circle, or from the user's matrix).
    remote_class : ndarray of int
        Per establishment, its remote class, or -1 when it cannot be tutored
        remotely (remote not allowed, not accepted, or no tutor may serve it).
    link_class, link_tutor : ndarray of int
        Which tutors may serve each remote class.
    n_classes : int
    """

    tutor: IntArray
    establishment: IntArray
    distance_km: FloatArray
    remote_class: IntArray
    link_class: IntArray
    link_tutor: IntArray
    n_classes: int

    def __post_init__(self) -> None:
        for value in vars(self).values():
            if isinstance(value, np.ndarray):
                value.setflags(write=False)

    @property
    def n_pairs(self) -> int:
        """Number of on-site candidate pairs."""
        return len(self.tutor)


def pair_keys(tutor: IntArray, establishment: IntArray, n_establishments: int) -> IntArray:
    """Encode pairs as single integers, for fast membership tests."""
    return np.asarray(tutor, dtype=np.int64) * max(n_establishments, 1) + np.asarray(
        establishment, dtype=np.int64
    )


def _wave_ok(tutor_wave: FloatArray, establishment_wave: FloatArray) -> BoolArray:
    known = ~np.isnan(tutor_wave) & ~np.isnan(establishment_wave)
    return np.asarray(~known | (tutor_wave < np.where(known, establishment_wave, np.inf)), dtype=bool)


def _role_ok(problem: Problem, tutor: IntArray, establishment: IntArray) -> BoolArray:
    if len(tutor) == 0:
        return np.zeros(0, dtype=bool)
    # Few distinct roles and needs: decide each combination once, then look up.
    roles, role_code = np.unique(problem.tutors.role.astype(str), return_inverse=True)
    needs, need_code = np.unique(problem.establishments.need.astype(str), return_inverse=True)
    table = np.array([[role_covers(problem.role_help, r, n) for n in needs] for r in roles], dtype=bool)
    return np.asarray(table[role_code[tutor], need_code[establishment]], dtype=bool)


def rule_mask(problem: Problem, tutor: IntArray, establishment: IntArray) -> BoolArray:
    """Tell which pairs pass the distance-free rules (own, wave, role, forbidden)."""
    t = problem.tutors
    e = problem.establishments
    ok = t.home[tutor] != establishment
    ok &= _wave_ok(t.wave[tutor], e.wave[establishment])
    ok &= _role_ok(problem, tutor, establishment)
    if len(problem.forbidden):
        forbidden = pair_keys(problem.forbidden[:, 0], problem.forbidden[:, 1], len(e))
        ok &= ~np.isin(pair_keys(tutor, establishment, len(e)), forbidden)
    return np.asarray(ok, dtype=bool)


def pair_limit_km(problem: Problem, tutor: IntArray) -> FloatArray:
    """Return the on-site limit of each tutor: the smaller of the problem's and their own."""
    return np.minimum(problem.max_distance_km, problem.tutors.max_km[tutor])


def remote_possible(problem: Problem, tutor: IntArray, establishment: IntArray) -> BoolArray:
    """Tell which pairs both accept remote tutoring (and the problem allows it)."""
    if not problem.allow_remote:
        return np.zeros(len(tutor), dtype=bool)
    return np.asarray(
        problem.tutors.remote_ok[tutor] & problem.establishments.remote_ok[establishment], dtype=bool
    )


def classify_pairs(
    problem: Problem, tutor: IntArray, establishment: IntArray, distance_km: FloatArray
) -> npt.NDArray[np.int8]:
    """Return the mode of each given pair: on-site, remote or none (not eligible).

    This is the definition of eligibility, pair by pair; :func:`build_candidates`
    computes the same thing sparsely.
    """
    tutor = np.asarray(tutor, dtype=np.int64)
    establishment = np.asarray(establishment, dtype=np.int64)
    ok = rule_mask(problem, tutor, establishment)
    distance_km = np.asarray(distance_km, dtype=np.float64)
    # No known route (inf in a user matrix) is never on-site, even without a limit.
    near = np.isfinite(distance_km) & (distance_km <= pair_limit_km(problem, tutor))
    mode = np.full(len(tutor), MODE_NONE, dtype=np.int8)
    mode[ok & near] = MODE_ONSITE
    mode[ok & ~near & remote_possible(problem, tutor, establishment)] = MODE_REMOTE
    return mode


def rejection_reason(problem: Problem, tutor: int, establishment: int, distance_km: float) -> str | None:
    """Explain in words why a pair is not eligible, or return ``None`` if it is."""
    t = problem.tutors
    e = problem.establishments
    tid, uai = t.id[tutor], e.id[establishment]
    if t.home[tutor] == establishment:
        return f"{uai} is tutor {tid}'s own establishment"
    if not _wave_ok(t.wave[tutor : tutor + 1], e.wave[establishment : establishment + 1])[0]:
        from tutormatch.model._waves import format_wave

        tw, ew = (
            format_wave(float(w), is_date=e.wave_is_date) for w in (t.wave[tutor], e.wave[establishment])
        )
        return f"tutor {tid}'s wave ({tw}) is not earlier than {uai}'s ({ew})"
    if not role_covers(problem.role_help, t.role[tutor], e.need[establishment]):
        return f"tutor {tid}'s role {t.role[tutor]} cannot give the {e.need[establishment]} help {uai} needs"
    pair = np.array([tutor]), np.array([establishment])
    if not rule_mask(problem, *pair)[0]:
        return f"the pair ({tid}, {uai}) is forbidden"
    limit = float(pair_limit_km(problem, pair[0])[0])
    if np.isfinite(distance_km) and distance_km <= limit:
        return None
    if remote_possible(problem, *pair)[0]:
        return None
    why = (
        "remote tutoring is switched off"
        if not problem.allow_remote
        else "remote tutoring is not accepted by "
        + ("the tutor" if not t.remote_ok[tutor] else "the establishment")
    )
    if not np.isfinite(distance_km):
        return f"{uai} has no known route from tutor {tid}, and {why}"
    return f"{uai} is {distance_km:.1f} km from tutor {tid}, beyond the {limit:g} km limit, and {why}"


@dataclass(frozen=True, eq=False)
class RemoteClasses:
    """Establishments that may be tutored remotely, grouped by (wave, need).

    Attributes
    ----------
    remote_class : ndarray of int
        Per establishment, its class, or -1 when it cannot be tutored remotely
        (remote not allowed or not accepted, or no tutor may serve it).
    link_class, link_tutor : ndarray of int
        Which tutors (with capacity, accepting remote) may serve each class.
    n_classes : int
    """

    remote_class: IntArray
    link_class: IntArray
    link_tutor: IntArray
    n_classes: int


def build_remote_classes(problem: Problem) -> RemoteClasses:
    r"""Group remote-friendly establishments by (wave, need) and link their tutors.

    Notes
    -----
    :math:`O(E + C\,T)` for :math:`C` classes: the distinct (wave, need)
    among remote-friendly establishments, a few dozen at most.
    """
    t = problem.tutors
    e = problem.establishments
    n_e = len(e)
    remote_class = np.full(n_e, -1, dtype=np.int64)
    empty = np.empty(0, dtype=np.int64)
    if not problem.allow_remote or n_e == 0 or len(t) == 0:
        return RemoteClasses(remote_class, empty, empty, 0)
    candidates = np.flatnonzero(e.remote_ok)
    # NaN waves cannot be dictionary keys reliably; encode unknown as +inf.
    wave_key = np.where(np.isnan(e.wave), np.inf, e.wave)
    keys = sorted({(float(wave_key[i]), str(e.need[i])) for i in candidates})
    may_serve = t.remote_ok & (t.capacity > 0)
    if not math.isfinite(problem.max_distance_km) and problem.distance_matrix is None:
        # Without a limit every pair is on-site, except beyond a personal one.
        may_serve &= np.isfinite(t.max_km)
    serving = np.flatnonzero(may_serve)
    roles, role_code = np.unique(t.role[serving].astype(str), return_inverse=True)
    link_class: list[IntArray] = []
    link_tutor: list[IntArray] = []
    class_of_key: dict[tuple[float, str], int] = {}
    tw = t.wave[serving]
    for wave, need in keys:
        wave_ok = np.isnan(tw) | np.isinf(wave) | (tw < wave)
        covers = np.array([role_covers(problem.role_help, r, need) for r in roles], dtype=bool)
        tutors = serving[wave_ok & covers[role_code]] if len(serving) else serving
        if len(tutors) == 0:
            continue
        class_of_key[(wave, need)] = len(link_class)
        link_class.append(np.full(len(tutors), len(link_class), dtype=np.int64))
        link_tutor.append(tutors.astype(np.int64))
    for i in candidates:
        remote_class[i] = class_of_key.get((float(wave_key[i]), str(e.need[i])), -1)
    if not link_class:
        return RemoteClasses(remote_class, empty, empty, 0)
    return RemoteClasses(
        remote_class, np.concatenate(link_class), np.concatenate(link_tutor), len(link_class)
    )


def onsite_pairs_near(
    problem: Problem, establishments: IntArray, radius_km: FloatArray | float
) -> tuple[IntArray, IntArray, FloatArray]:
    r"""Return the eligible on-site pairs of some establishments within a radius.

    Parameters
    ----------
    problem : Problem
    establishments : ndarray of int
        Rows of the establishments to look around.
    radius_km : float or ndarray of float
        Per establishment (capped by the on-site limit).

    Returns
    -------
    tutor, establishment, distance_km : ndarray
        Unsorted.

    Notes
    -----
    One KD-tree ball query per establishment: :math:`O(\log T + P_e)`.
    """
    establishments = np.asarray(establishments, dtype=np.int64)
    radius = np.minimum(
        np.broadcast_to(np.asarray(radius_km, dtype=np.float64), establishments.shape),
        problem.max_distance_km,
    )
    empty = (np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.float64))
    if len(establishments) == 0 or problem.n_tutors == 0:
        return empty
    if problem.distance_matrix is not None:
        matrix = problem.distance_matrix.tocsc()
        parts = []
        for e, r in zip(establishments.tolist(), radius.tolist(), strict=True):
            rows = matrix.indices[matrix.indptr[e] : matrix.indptr[e + 1]]
            dist = matrix.data[matrix.indptr[e] : matrix.indptr[e + 1]]
            near = dist <= r
            parts.append((rows[near].astype(np.int64), np.full(int(near.sum()), e, np.int64), dist[near]))
        if not parts:
            return empty
        tutor, establishment, distance = (np.concatenate(x) for x in zip(*parts, strict=True))
    else:
        from tutormatch.geo._distance import chords_for_km, flatten_hits

        chords = chords_for_km(radius) * (1 + 1e-9) + 1e-12
        which, tutor = flatten_hits(
            problem.tutor_tree.query_ball_point(
                problem.establishment_xyz[establishments], chords, return_sorted=False
            )
        )
        establishment = establishments[which]
        distance = problem.distance_km(tutor, establishment)
        keep = distance <= radius[which]
        tutor, establishment, distance = tutor[keep], establishment[keep], distance[keep]
    keep = rule_mask(problem, tutor, establishment) & (distance <= pair_limit_km(problem, tutor))
    return tutor[keep], establishment[keep], distance[keep]


def build_candidates(problem: Problem) -> Candidates:
    r"""Compute every eligible on-site pair and the remote classes of ``problem``.

    Notes
    -----
    On-site pairs come from :meth:`Problem.pairs_within` (a KD-tree radius
    query, :math:`O((T + E)\log(T + E) + P)` for :math:`P` pairs within the
    limit) and are then filtered by the rules, in :math:`O(P)`. Solves do not
    need all of them: see :mod:`tutormatch.solve._pool`.
    """
    tutor, establishment, distance = problem.pairs_within(problem.max_distance_km)
    keep = rule_mask(problem, tutor, establishment) & (distance <= pair_limit_km(problem, tutor))
    remote = problem.remote_classes
    return Candidates(
        tutor=tutor[keep],
        establishment=establishment[keep],
        distance_km=distance[keep],
        remote_class=remote.remote_class,
        link_class=remote.link_class,
        link_tutor=remote.link_tutor,
        n_classes=remote.n_classes,
    )
