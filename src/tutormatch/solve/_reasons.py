"""Why an establishment is left uncovered, in words a planner can act on."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from tutormatch.model._eligibility import onsite_pairs_near, pair_keys
from tutormatch.model._problem import Problem
from tutormatch.model._rules import role_covers

__all__ = ["REASONS", "eligible_tutor_counts", "explain_uncovered"]

#: Reason codes and their meaning.
REASONS = {
    "no_eligible_tutor": "no tutor may tutor this establishment under the rules",
    "tutors_full": "every eligible tutor is already taken by other establishments",
    "no_plan": "the solve produced no plan",
}

IntArray = npt.NDArray[np.int64]


def eligible_tutor_counts(problem: Problem, establishments: IntArray) -> IntArray:
    """Count the tutors (with capacity) who may tutor some establishments, in any mode.

    Only the given establishments are looked at (usually the few uncovered
    ones): one radius query each, plus their remote class.
    """
    establishments = np.asarray(establishments, dtype=np.int64)
    n_e = problem.n_establishments
    t = problem.tutors
    remote = problem.remote_classes
    near_t, near_e, _ = onsite_pairs_near(problem, establishments, problem.max_distance_km)
    with_room = t.capacity[near_t] > 0
    position = {e: i for i, e in enumerate(establishments.tolist())}
    counts = np.zeros(len(establishments), dtype=np.int64)
    np.add.at(counts, np.array([position[e] for e in near_e[with_room].tolist()], dtype=np.int64), 1)
    if remote.n_classes == 0:
        return counts
    per_class = np.bincount(remote.link_class, minlength=remote.n_classes)
    own = np.flatnonzero(t.home >= 0)
    excluded = [pair_keys(near_t, near_e, n_e), pair_keys(own, t.home[own], n_e)]
    if len(problem.forbidden):
        excluded.append(pair_keys(problem.forbidden[:, 0], problem.forbidden[:, 1], n_e))
    keys = np.unique(np.concatenate(excluded))
    link_keys = set(zip(remote.link_class.tolist(), remote.link_tutor.tolist(), strict=True))
    for i, e in enumerate(establishments.tolist()):
        c = int(remote.remote_class[e])
        if c < 0:
            continue
        # Tutors of the class, minus the pairs it does not rule out: near
        # pairs (already counted on-site), own establishment, forbidden.
        mine = keys[keys % max(n_e, 1) == e] // max(n_e, 1)
        counts[i] += int(per_class[c]) - sum((c, int(tt)) in link_keys for tt in mine.tolist())
    return counts


def _no_tutor_detail(problem: Problem, e: int) -> str:
    t = problem.tutors
    est = problem.establishments
    room = t.capacity > 0
    if not room.any():
        return "no tutor has any capacity"
    wave = est.wave[e]
    wave_ok = room & (np.isnan(t.wave) | np.isnan(wave) | (t.wave < (np.inf if np.isnan(wave) else wave)))
    if not wave_ok.any():
        return f"no tutor belongs to a wave earlier than its wave {wave:g}"
    need = est.need[e]
    role_ok = wave_ok & np.fromiter(
        (role_covers(problem.role_help, r, need) for r in t.role), dtype=bool, count=len(t)
    )
    if not role_ok.any():
        return f"no tutor of an earlier wave has a role that gives {need} help"
    limit = f"{problem.max_distance_km:g} km" if np.isfinite(problem.max_distance_km) else "reach"
    if not problem.allow_remote:
        remote = "remote tutoring is switched off"
    elif not est.remote_ok[e]:
        remote = "the establishment does not accept remote tutoring"
    elif not (role_ok & t.remote_ok).any():
        remote = "none of them accepts remote tutoring"
    else:
        remote = "the remaining ones are its own staff or forbidden pairs"
    return f"no qualified tutor within {limit} (or their own limit), and {remote}"


def explain_uncovered(
    problem: Problem, uncovered: IntArray, *, all_or_nothing: bool
) -> tuple[npt.NDArray[np.object_], npt.NDArray[np.object_]]:
    """Return a reason code and a sentence for each uncovered establishment."""
    counts = eligible_tutor_counts(problem, uncovered)
    codes = np.empty(len(uncovered), dtype=object)
    details = np.empty(len(uncovered), dtype=object)
    for i, e in enumerate(uncovered.tolist()):
        if counts[i] == 0:
            codes[i] = "no_eligible_tutor"
            details[i] = _no_tutor_detail(problem, e)
        else:
            codes[i] = "tutors_full"
            rule = " or held back by the all-or-nothing load rule" if all_or_nothing else ""
            plural = "s are" if counts[i] > 1 else " is"
            details[i] = (
                f"its {counts[i]} eligible tutor{plural} full{rule}, taken by establishments "
                "of higher priority or at lower cost"
            )
    return codes, details
