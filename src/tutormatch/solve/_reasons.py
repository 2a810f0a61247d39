"""Why an establishment is left uncovered, in words a planner can act on."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from tutormatch.model._eligibility import pair_keys
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


def eligible_tutor_counts(problem: Problem) -> IntArray:
    """Count the tutors (with capacity) who may tutor each establishment, in any mode."""
    cand = problem.candidates
    n_e = problem.n_establishments
    t = problem.tutors
    with_room = t.capacity[cand.tutor] > 0
    onsite = np.bincount(cand.establishment[with_room], minlength=n_e)
    remote = np.zeros(n_e, dtype=np.int64)
    if cand.n_classes:
        per_class = np.bincount(cand.link_class, minlength=cand.n_classes)
        has = cand.remote_class >= 0
        remote[has] = per_class[cand.remote_class[has]]
        # Remove the pairs a class does not rule out: own establishment,
        # forbidden pairs and near pairs (already counted on-site).
        near = pair_keys(cand.tutor, cand.establishment, n_e)
        own = np.flatnonzero(t.home >= 0)
        extra = [pair_keys(own, t.home[own], n_e)]
        if len(problem.forbidden):
            extra.append(pair_keys(problem.forbidden[:, 0], problem.forbidden[:, 1], n_e))
        keys = np.unique(np.concatenate([near, *extra]))
        kt, ke = keys // max(n_e, 1), keys % max(n_e, 1)
        link_keys = pair_keys(cand.link_tutor, cand.link_class, max(cand.n_classes, 1))
        in_class = (cand.remote_class[ke] >= 0) & np.isin(
            pair_keys(kt, np.maximum(cand.remote_class[ke], 0), max(cand.n_classes, 1)), link_keys
        )
        np.subtract.at(remote, ke[in_class], 1)
    return onsite + remote


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
    limit = f"{problem.max_distance_km:g} km"
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
    counts = eligible_tutor_counts(problem)
    codes = np.empty(len(uncovered), dtype=object)
    details = np.empty(len(uncovered), dtype=object)
    for i, e in enumerate(uncovered.tolist()):
        if counts[e] == 0:
            codes[i] = "no_eligible_tutor"
            details[i] = _no_tutor_detail(problem, e)
        else:
            codes[i] = "tutors_full"
            rule = " or held back by the all-or-nothing load rule" if all_or_nothing else ""
            plural = "s are" if counts[e] > 1 else " is"
            details[i] = (
                f"its {counts[e]} eligible tutor{plural} full{rule}, taken by establishments "
                "of higher priority or at lower cost"
            )
    return codes, details
