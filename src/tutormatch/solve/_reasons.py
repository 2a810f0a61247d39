"""Why an establishment is left uncovered, in words a planner can act on."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tutormatch.model._eligibility import onsite_pairs_near, pair_keys
from tutormatch.model._problem import Problem
from tutormatch.model._rules import role_covers

__all__ = ["REASONS", "UncoveredReason", "eligible_tutor_counts", "explain_uncovered", "no_plan_reasons"]

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
    n_e, n_t = problem.n_establishments, problem.n_tutors
    t = problem.tutors
    remote = problem.remote_classes
    near_t, near_e, _ = onsite_pairs_near(problem, establishments, problem.max_distance_km)
    position = np.full(n_e, -1, dtype=np.int64)
    position[establishments] = np.arange(len(establishments))
    with_room = t.capacity[near_t] > 0
    counts = np.bincount(position[near_e[with_room]], minlength=len(establishments)).astype(np.int64)
    if remote.n_classes == 0:
        return counts
    # Remote: the tutors of its class, minus the pairs the class does not
    # rule out (near pairs, already counted on-site; own establishment;
    # forbidden), all at once by pair keys.
    per_class = np.bincount(remote.link_class, minlength=remote.n_classes)
    own = np.flatnonzero(t.home >= 0)
    excluded = [pair_keys(near_t, near_e, n_e), pair_keys(own, t.home[own], n_e)]
    if len(problem.forbidden):
        excluded.append(pair_keys(problem.forbidden[:, 0], problem.forbidden[:, 1], n_e))
    keys = np.unique(np.concatenate(excluded))
    key_e, key_t = keys % max(n_e, 1), keys // max(n_e, 1)
    key_class = remote.remote_class[key_e]
    mine = (position[key_e] >= 0) & (key_class >= 0)
    linked = np.isin(
        key_class[mine] * max(n_t, 1) + key_t[mine], remote.link_class * max(n_t, 1) + remote.link_tutor
    )
    taken = np.bincount(position[key_e[mine][linked]], minlength=len(establishments))
    classes = remote.remote_class[establishments]
    has = classes >= 0
    counts[has] += per_class[classes[has]] - taken[has]
    return counts


#: The sentences behind each reason, as (French, English) templates.
_SENTENCES: dict[str, tuple[str, str]] = {
    "no_capacity": ("aucun tuteur n'a de capacité", "no tutor has any capacity"),
    "no_earlier_wave": (
        "aucun tuteur n'appartient à une vague antérieure à sa vague {wave}",
        "no tutor belongs to a wave earlier than its wave {wave}",
    ),
    "no_role": (
        "aucun tuteur d'une vague antérieure n'a un rôle qui apporte l'aide demandée ({need})",
        "no tutor of an earlier wave has a role that gives {need} help",
    ),
    "out_of_reach": (
        "aucun tuteur qualifié dans la limite de {limit} (ou de sa propre limite), et {remote}",
        "no qualified tutor within {limit} (or their own limit), and {remote}",
    ),
    "remote_switched_off": ("le tutorat à distance est désactivé", "remote tutoring is switched off"),
    "establishment_refuses_remote": (
        "l'établissement n'accepte pas le tutorat à distance",
        "the establishment does not accept remote tutoring",
    ),
    "tutors_refuse_remote": (
        "aucun d'eux n'accepte le tutorat à distance",
        "none of them accepts remote tutoring",
    ),
    "own_or_forbidden": (
        "les autres sont de son propre personnel ou forment des paires interdites",
        "the remaining ones are its own staff or forbidden pairs",
    ),
    "one_full": (
        "son seul tuteur éligible est déjà pris{rule}, par des établissements plus prioritaires "
        "ou moins coûteux",
        "its 1 eligible tutor is full{rule}, taken by establishments of higher priority or at lower cost",
    ),
    "many_full": (
        "ses {count} tuteurs éligibles sont déjà pris{rule}, par des établissements plus "
        "prioritaires ou moins coûteux",
        "its {count} eligible tutors are full{rule}, taken by establishments of higher priority "
        "or at lower cost",
    ),
    "all_or_nothing": (
        " ou retenus par la règle du tout ou rien",
        " or held back by the all-or-nothing load rule",
    ),
    # The solver's own message is English (it stays in the plan's message and summary.json):
    # the French sentence says what the status means, and the conflict in French when one was found.
    "no_plan": ("pas de plan : {why}{conflict}", "no plan: {message}"),
    "no_plan_infeasible": (
        "les règles et contraintes données n'admettent aucun plan",
        "the rules and constraints given admit no plan",
    ),
    "no_plan_no_solution": (
        "aucun plan trouvé dans le temps imparti",
        "no plan was found within the time limit",
    ),
    "no_plan_invalid": (
        "le modèle a été refusé par le solveur (voir le message du solveur dans le résumé)",
        "the solver refused the model (see the solver's message in the summary)",
    ),
    "no_plan_error": (
        "le solveur a échoué (voir le message du solveur dans le résumé)",
        "the solver failed (see the solver's message in the summary)",
    ),
    "reach": ("la distance autorisée", "reach"),
    "management": ("gestion", "management"),
    "accounting": ("comptabilité", "accounting"),
    "both": ("gestion et comptabilité", "management and accounting"),
}
_LANG_INDEX = {"fr": 0, "en": 1}
# Facts whose value is itself a sentence key, translated with the sentence.
_TRANSLATED = frozenset({"limit", "need", "remote", "rule", "why"})


@dataclass(frozen=True, slots=True)
class UncoveredReason:
    """Why one establishment is uncovered: a code and the facts of its sentence.

    Attributes
    ----------
    code : str
        One of :data:`REASONS`.
    sentence_key : str
        Which sentence explains it.
    values : tuple of (str, object)
        The facts the sentence names (counts, wave, need, limit...); the
        need, limit, remote and rule facts are translated with it.
    """

    code: str
    sentence_key: str
    values: tuple[tuple[str, object], ...] = ()

    def sentence(self, lang: str = "en") -> str:
        """Return the explanation in ``lang`` (``"en"`` or ``"fr"``).

        Examples
        --------
        >>> why = UncoveredReason("tutors_full", "many_full", (("count", 3), ("rule", "")))
        >>> why.sentence()
        'its 3 eligible tutors are full, taken by establishments of higher priority or at lower cost'
        >>> why.sentence("fr")[:34]
        'ses 3 tuteurs éligibles sont déjà '
        """
        return _render(self.sentence_key, dict(self.values), _LANG_INDEX[lang])


def _render(key: str, values: dict[str, object], lang: int) -> str:
    words = {
        name: _render(value, {}, lang) if name in _TRANSLATED and value in _SENTENCES else value
        for name, value in values.items()
    }
    return _SENTENCES[key][lang].format(**words)


def _no_tutor_reason(problem: Problem, e: int) -> UncoveredReason:
    t = problem.tutors
    est = problem.establishments
    room = t.capacity > 0
    if not room.any():
        return UncoveredReason("no_eligible_tutor", "no_capacity")
    wave = est.wave[e]
    wave_ok = room & (np.isnan(t.wave) | np.isnan(wave) | (t.wave < (np.inf if np.isnan(wave) else wave)))
    if not wave_ok.any():
        return UncoveredReason("no_eligible_tutor", "no_earlier_wave", (("wave", f"{wave:g}"),))
    need = est.need[e]
    role_ok = wave_ok & np.fromiter(
        (role_covers(problem.role_help, r, need) for r in t.role), dtype=bool, count=len(t)
    )
    if not role_ok.any():
        return UncoveredReason("no_eligible_tutor", "no_role", (("need", str(need)),))
    limit = f"{problem.max_distance_km:g} km" if np.isfinite(problem.max_distance_km) else "reach"
    if not problem.allow_remote:
        remote = "remote_switched_off"
    elif not est.remote_ok[e]:
        remote = "establishment_refuses_remote"
    elif not (role_ok & t.remote_ok).any():
        remote = "tutors_refuse_remote"
    else:
        remote = "own_or_forbidden"
    return UncoveredReason("no_eligible_tutor", "out_of_reach", (("limit", limit), ("remote", remote)))


def no_plan_reasons(n: int, message: str, status: str, conflict_fr: str = "") -> tuple[UncoveredReason, ...]:
    """Return the reason of every establishment when the solve produced no plan.

    ``message`` is the solver's own (English) message, the English sentence;
    the French sentence says what ``status`` (a :class:`Status` value) means
    instead, with ``conflict_fr``, the conflict's French sentence, when one
    was found.

    Examples
    --------
    >>> why = no_plan_reasons(1, "time limit reached, no solution", "no_solution")[0]
    >>> why.sentence()
    'no plan: time limit reached, no solution'
    >>> why.sentence("fr")
    'pas de plan : aucun plan trouvé dans le temps imparti'
    """
    why = f"no_plan_{status}" if f"no_plan_{status}" in _SENTENCES else "no_plan_error"
    conflict = f" ; {conflict_fr}" if conflict_fr else ""
    values = (("message", message), ("why", why), ("conflict", conflict))
    return (UncoveredReason("no_plan", "no_plan", values),) * n


def explain_uncovered(
    problem: Problem, uncovered: IntArray, *, all_or_nothing: bool
) -> tuple[UncoveredReason, ...]:
    """Return why each uncovered establishment is uncovered."""
    counts = eligible_tutor_counts(problem, uncovered)
    rule = "all_or_nothing" if all_or_nothing else ""
    reasons = []
    for i, e in enumerate(uncovered.tolist()):
        if counts[i] == 0:
            reasons.append(_no_tutor_reason(problem, e))
        elif counts[i] == 1:
            reasons.append(UncoveredReason("tutors_full", "one_full", (("rule", rule),)))
        else:
            values = (("count", int(counts[i])), ("rule", rule))
            reasons.append(UncoveredReason("tutors_full", "many_full", values))
    return tuple(reasons)
