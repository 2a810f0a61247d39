"""Why an establishment has the tutor it has: :meth:`Assignment.explain`.

For one establishment: who tutors it and how far; each nearer eligible tutor
and why not (full: with whom, at what priority and cost); the nearer tutors a
rule excludes, with the rule; and the exact change in the optimum if the
nearest eligible tutor were forced (a re-solve with that pair fixed).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from tutormatch.errors import InputError
from tutormatch.model._eligibility import (
    MODE_NAMES,
    MODE_NONE,
    _role_ok,
    _wave_ok,
    classify_pairs,
    pair_limit_km,
)
from tutormatch.model._waves import format_wave
from tutormatch.solve._whatif import same_as, with_fixed_pair

if TYPE_CHECKING:
    from tutormatch.solve._assignment import Assignment

__all__ = ["EXPLAIN_COLUMNS", "Explanation", "explain"]

#: Columns of :attr:`Explanation.frame`.
EXPLAIN_COLUMNS = (
    "tutor_id",
    "distance_km",
    "status",
    "rule",
    "load",
    "capacity",
    "with_uai",
    "with_priority",
    "with_cost_km",
    "detail",
)

_WORDS = {
    "en": {
        "assigned": "tutors it ({mode}, {distance})",
        "full": "full: tutors {with_text}",
        "room": "has room left, yet the plan keeps {current}{fixed}",
        "fixed": " (a fixed pair)",
        "own": "it is the tutor's own establishment",
        "wave": "the tutor's wave ({tw}) is not earlier than the establishment's ({ew})",
        "role": "the tutor's role {role} cannot give the {need} help it needs",
        "forbidden": "the pair is forbidden",
        "limit": "beyond the tutor's own {limit:g} km limit, and remote is not possible",
        "with": "{uai} (priority {priority:g}, {cost:.1f} km/year)",
        "head_covered": "{uai} is tutored by {tutor} ({mode}, {distance}).",
        "head_uncovered": "{uai} is not tutored: {reason}",
        "nearer": "Nearer eligible tutors:",
        "nearer_none": "No eligible tutor is nearer.",
        "excluded": "Nearer tutors excluded by a rule:",
        "forced": (
            "Forcing the nearest eligible tutor {tutor}: priority covered {dp:+g}, "
            "cost {dc:+.1f} km/year ({status})."
        ),
        "forced_none": "Forcing the nearest eligible tutor is not possible: {why}",
        "no_nearest": "No other eligible tutor to force.",
        "eur": "Objective (euros): {de:+,.2f} EUR a year.",
        "at": "{tutor} at {distance:.1f} km: {detail}",
        "management": "management",
        "accounting": "accounting",
        "both": "management and accounting",
    },
    "fr": {
        "assigned": "le tutore ({mode}, {distance})",
        "full": "complet : tutore {with_text}",
        "room": "a encore de la place, mais le plan garde {current}{fixed}",
        "fixed": " (un couple imposé)",
        "own": "c'est l'établissement du tuteur",
        "wave": "la vague du tuteur ({tw}) n'est pas antérieure à celle de l'établissement ({ew})",
        "role": "le rôle {role} du tuteur ne peut pas apporter l'aide {need} demandée",
        "forbidden": "le couple est interdit",
        "limit": "au-delà de la limite personnelle du tuteur ({limit:g} km), et le distanciel est impossible",
        "with": "{uai} (priorité {priority:g}, {cost:.1f} km/an)",
        "head_covered": "{uai} est tutoré par {tutor} ({mode}, {distance}).",
        "head_uncovered": "{uai} n'est pas tutoré : {reason}",
        "nearer": "Tuteurs éligibles plus proches :",
        "nearer_none": "Aucun tuteur éligible n'est plus proche.",
        "excluded": "Tuteurs plus proches exclus par une règle :",
        "forced": (
            "Imposer le tuteur éligible le plus proche {tutor} : priorité couverte {dp:+g}, "
            "coût {dc:+.1f} km/an ({status})."
        ),
        "forced_none": "Impossible d'imposer le tuteur éligible le plus proche : {why}",
        "no_nearest": "Aucun autre tuteur éligible à imposer.",
        "eur": "Objectif (euros) : {de:+,.2f} EUR par an.",
        "at": "{tutor} à {distance:.1f} km : {detail}",
        "management": "en gestion",
        "accounting": "en comptabilité",
        "both": "en gestion et en comptabilité",
    },
}


@dataclass(frozen=True)
class Explanation:
    """Why one establishment has the tutor it has (see :meth:`Assignment.explain`).

    Attributes
    ----------
    uai : str
    tutor_id : str or None
        Its tutor, ``None`` when uncovered.
    mode : str
        ``onsite``, ``remote`` or ``none``.
    distance_km : float
    reason : str
        Why it is uncovered (empty when covered).
    frame : pandas.DataFrame
        One row per tutor considered, nearest first (columns
        :data:`EXPLAIN_COLUMNS`): the assigned tutor, the nearer eligible ones
        (``full`` or ``room``) and the nearer ones a rule excludes
        (``excluded``, with the ``rule``: own, wave, role, forbidden, limit).
    forced_tutor_id : str or None
        The nearest eligible tutor other than the current one.
    forced_priority_delta, forced_cost_delta_km : float
        Change in covered priority and in yearly cost (km-equivalent) of the
        optimum with that pair fixed (exact re-solve); ``nan`` if not solved.
    forced_cost_delta_eur : float
        Change in the euros objective, for a plan that minimised euros
        (``nan`` for the km objective).
    forced_note : str
        Why forcing was not possible, when it was not.
    lang : {"en", "fr"}
    """

    uai: str
    tutor_id: str | None
    mode: str
    distance_km: float
    reason: str
    frame: pd.DataFrame = field(repr=False)
    forced_tutor_id: str | None
    forced_priority_delta: float
    forced_cost_delta_km: float
    forced_status: str
    forced_note: str
    lang: str = "en"
    forced_cost_delta_eur: float = math.nan

    def text(self) -> str:
        """Return the explanation as sentences, in the language it was asked in."""
        w = _WORDS[self.lang]
        if self.tutor_id is not None:
            lines = [
                w["head_covered"].format(
                    uai=self.uai, tutor=self.tutor_id, mode=self.mode, distance=_distance(self.distance_km)
                )
            ]
        else:
            lines = [w["head_uncovered"].format(uai=self.uai, reason=self.reason)]
        nearer = self.frame[self.frame["status"].isin(["full", "room"])]
        lines.append(w["nearer"] if len(nearer) else w["nearer_none"])
        for row in nearer.to_dict(orient="records"):
            lines.append(
                "  - "
                + w["at"].format(tutor=row["tutor_id"], distance=row["distance_km"], detail=row["detail"])
            )
        excluded = self.frame[self.frame["status"] == "excluded"]
        if len(excluded):
            lines.append(w["excluded"])
            for row in excluded.to_dict(orient="records"):
                lines.append(
                    "  - "
                    + w["at"].format(tutor=row["tutor_id"], distance=row["distance_km"], detail=row["detail"])
                )
        if self.forced_tutor_id is None:
            lines.append(w["no_nearest"])
        elif self.forced_note:
            lines.append(w["forced_none"].format(why=self.forced_note))
        else:
            line = w["forced"].format(
                tutor=self.forced_tutor_id,
                dp=self.forced_priority_delta,
                dc=self.forced_cost_delta_km,
                status=self.forced_status,
            )
            if math.isfinite(self.forced_cost_delta_eur):
                line += " " + w["eur"].format(de=self.forced_cost_delta_eur)
            lines.append(line)
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """Return the explanation as plain data (the rows as records)."""
        return {
            "uai": self.uai,
            "tutor_id": self.tutor_id,
            "mode": self.mode,
            "distance_km": _finite_or_none(self.distance_km),
            "reason": self.reason,
            "tutors": self.frame.to_dict(orient="records"),
            "forced_tutor_id": self.forced_tutor_id,
            "forced_priority_delta": _finite_or_none(self.forced_priority_delta),
            "forced_cost_delta_km": _finite_or_none(self.forced_cost_delta_km),
            "forced_cost_delta_eur": _finite_or_none(self.forced_cost_delta_eur),
            "forced_status": self.forced_status,
            "forced_note": self.forced_note,
            "text": self.text(),
        }

    def __str__(self) -> str:
        return self.text()

    def __repr__(self) -> str:
        who = self.tutor_id if self.tutor_id is not None else "nobody"
        return f"<Explanation of {self.uai}: {who}, {len(self.frame)} tutors considered>"


def _finite_or_none(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def _distance(km: float) -> str:
    return f"{km:.1f} km" if math.isfinite(km) else "no route"


def explain(plan: Assignment, uai: str, *, lang: str = "en", max_tutors: int | None = 10) -> Explanation:
    """Explain one establishment of a plan. See :meth:`Assignment.explain`."""
    from tutormatch.solve._solve import solve, status_only

    if lang not in _WORDS:
        raise InputError(f"lang must be 'en' or 'fr'; got {lang!r}.")
    p = plan.problem
    hit = np.flatnonzero(p.establishments.id == str(uai).upper())
    if not len(hit):
        raise InputError(f"unknown uai {uai!r}: not an establishment of this plan's problem.")
    e = int(hit[0])
    w = _WORDS[lang]
    n_t = p.n_tutors
    tutors = np.arange(n_t, dtype=np.int64)
    es = np.full(n_t, e, dtype=np.int64)
    distance = p.distance_km(tutors, es)
    mode = classify_pairs(p, tutors, es, distance)
    where = np.flatnonzero(plan.establishment == e)
    current = int(plan.tutor[where[0]]) if len(where) else -1
    if current >= 0:
        j = int(where[0])
        reference = (
            float(plan.distance_km[j])
            if plan.mode[j] == 0
            else float(pair_limit_km(p, tutors[current : current + 1])[0])
        )
        is_fixed = bool(plan.is_fixed[j])
    else:
        reference = float(p.max_distance_km)
        is_fixed = False
    reason = ""
    if current < 0:
        k = int(np.flatnonzero(plan.uncovered_establishment == e)[0])
        reason = str(plan.uncovered_reasons[k].sentence(lang))
    nearer = np.isfinite(distance) & (distance < reference) & (tutors != current)
    if not math.isfinite(reference):
        nearer = np.isfinite(distance) & (tutors != current)
    order = np.lexsort((p.tutors.id, np.nan_to_num(distance, posinf=np.inf)))
    loads = plan.loads
    rows: list[dict[str, Any]] = []
    if current >= 0:
        rows.append(
            _row(
                p,
                current,
                distance,
                "assigned",
                "",
                loads,
                plan,
                w["assigned"].format(
                    mode=MODE_NAMES[int(plan.mode[int(where[0])])],
                    distance=_distance(float(plan.distance_km[int(where[0])])),
                ),
            )
        )
    listed = 0
    for t in order.tolist():
        if not nearer[t]:
            continue
        if max_tutors is not None and listed >= max_tutors:
            break
        listed += 1
        if mode[t] != MODE_NONE:
            full = loads[t] >= p.tutors.capacity[t]
            if full:
                served = plan.establishment[plan.tutor == t]
                text = ", ".join(
                    w["with"].format(
                        uai=p.establishments.id[s],
                        priority=p.establishments.priority[s],
                        cost=float(plan.cost_km[np.flatnonzero(plan.establishment == s)[0]]),
                    )
                    for s in served
                )
                rows.append(
                    _row(p, t, distance, "full", "", loads, plan, w["full"].format(with_text=text or "-"))
                )
            else:
                cur = str(p.tutors.id[current]) if current >= 0 else "-"
                rows.append(
                    _row(
                        p,
                        t,
                        distance,
                        "room",
                        "",
                        loads,
                        plan,
                        w["room"].format(current=cur, fixed=w["fixed"] if is_fixed else ""),
                    )
                )
        else:
            rule, text = _rule(p, t, e, w)
            rows.append(_row(p, t, distance, "excluded", rule, loads, plan, text))
    frame = pd.DataFrame(rows, columns=list(EXPLAIN_COLUMNS))
    eligible = [
        t for t in order.tolist() if mode[t] != MODE_NONE and t != current and np.isfinite(distance[t])
    ]
    forced_tutor: str | None = None
    dp = dc = de = math.nan
    status = note = ""
    if eligible:
        t_star = eligible[0]
        forced_tutor = str(p.tutors.id[t_star])
        try:
            with status_only():  # its status is all the explanation needs
                forced = solve(with_fixed_pair(p, forced_tutor, str(p.establishments.id[e])), **same_as(plan))
        except InputError as err:
            note = str(err)
        else:
            status = forced.status.value
            if forced.status.has_solution:
                dp = forced.covered_priority - plan.covered_priority
                dc = float(forced.cost_km.sum() - plan.cost_km.sum())
                if plan.objective_name != "km":
                    de = float(forced.objective - plan.objective)
            else:
                note = f"status {status}"
    return Explanation(
        uai=str(p.establishments.id[e]),
        tutor_id=str(p.tutors.id[current]) if current >= 0 else None,
        mode=MODE_NAMES[int(plan.mode[int(where[0])])] if current >= 0 else "none",
        distance_km=float(plan.distance_km[int(where[0])]) if current >= 0 else math.nan,
        reason=reason,
        frame=frame,
        forced_tutor_id=forced_tutor,
        forced_priority_delta=dp,
        forced_cost_delta_km=dc,
        forced_status=status,
        forced_note=note,
        lang=lang,
        forced_cost_delta_eur=de,
    )


def _row(
    p: Any, t: int, distance: Any, status: str, rule: str, loads: Any, plan: Assignment, detail: str
) -> dict[str, Any]:
    served = plan.establishment[plan.tutor == t]
    idx = [int(np.flatnonzero(plan.establishment == s)[0]) for s in served]
    return {
        "tutor_id": str(p.tutors.id[t]),
        "distance_km": float(distance[t]),
        "status": status,
        "rule": rule,
        "load": int(loads[t]),
        "capacity": int(p.tutors.capacity[t]),
        "with_uai": [str(p.establishments.id[s]) for s in served],
        "with_priority": [float(p.establishments.priority[s]) for s in served],
        "with_cost_km": [float(plan.cost_km[i]) for i in idx],
        "detail": detail,
    }


def _rule(p: Any, t: int, e: int, w: dict[str, str]) -> tuple[str, str]:
    """Return the first rule that excludes pair (t, e), as a code and a sentence."""
    tt, ee = np.array([t]), np.array([e])
    tutors, est = p.tutors, p.establishments
    if tutors.home[t] == e:
        return "own", w["own"]
    if not _wave_ok(tutors.wave[tt], est.wave[ee])[0]:
        is_date = bool(est.wave_is_date)
        return "wave", w["wave"].format(
            tw=format_wave(float(tutors.wave[t]), is_date=is_date),
            ew=format_wave(float(est.wave[e]), is_date=is_date),
        )
    if not _role_ok(p, tt, ee)[0]:
        need = str(est.need[e])
        return "role", w["role"].format(role=tutors.role[t], need=w.get(need, need))
    if len(p.forbidden) and bool(((p.forbidden[:, 0] == t) & (p.forbidden[:, 1] == e)).any()):
        return "forbidden", w["forbidden"]
    return "limit", w["limit"].format(limit=float(tutors.max_km[t]))
