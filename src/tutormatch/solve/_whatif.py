"""Edited copies of a problem: one lever each, for the exact "what if" re-solves.

Every function returns a new, validated :class:`~tutormatch.model.Problem`
(built with :func:`dataclasses.replace`, so the original is untouched) that
differs from the input by exactly the change its name says. The shortfall,
explain and backup answers apply these and solve again: what they print is
what a solve of the edited problem gives.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from tutormatch.errors import InputError
from tutormatch.model._eligibility import pair_keys, rule_mask
from tutormatch.model._problem import Problem
from tutormatch.model._rules import DEFAULT_CAPACITY
from tutormatch.model._tables import TutorTable

__all__ = [
    "LEVER_KINDS",
    "apply_lever",
    "same_as",
    "with_capacity",
    "with_fixed_pair",
    "with_max_distance",
    "with_new_tutor",
    "with_pair_rule_relaxed",
    "with_remote_ok",
]

IntArray = npt.NDArray[np.int64]

#: Kinds of lever a shortfall lists.
LEVER_KINDS = ("add_tutor", "raise_capacity", "raise_distance_limit", "allow_remote", "relax_rule")
# The value a new tutor gets in a column this module does not know, by dtype kind.
_BLANK: dict[str, Any] = {"f": math.nan, "O": "", "b": False, "i": 0, "U": ""}
#: Id of the tutor a lever adds ("~" sorts after letters and digits).
NEW_TUTOR_ID = "~NEW"


def _tutor_row(problem: Problem, tutor_id: str) -> int:
    hit = np.flatnonzero(problem.tutors.id == tutor_id)
    if not len(hit):
        raise InputError(f"unknown tutor_id {tutor_id!r}: not in the problem's tutors table.")
    return int(hit[0])


def _establishment_row(problem: Problem, uai: str) -> int:
    hit = np.flatnonzero(problem.establishments.id == str(uai).upper())
    if not len(hit):
        raise InputError(f"unknown uai {uai!r}: not in the problem's establishments table.")
    return int(hit[0])


def _replace_tutor_column(problem: Problem, column: str, row: int, value: Any) -> Problem:
    values = getattr(problem.tutors, column).copy()
    values[row] = value
    return dataclasses.replace(problem, tutors=dataclasses.replace(problem.tutors, **{column: values}))


def with_capacity(problem: Problem, tutor_id: str, capacity: int) -> Problem:
    """Return ``problem`` with one tutor's capacity set to ``capacity``."""
    return _replace_tutor_column(problem, "capacity", _tutor_row(problem, tutor_id), int(capacity))


def with_max_distance(problem: Problem, max_distance_km: float) -> Problem:
    """Return ``problem`` with another on-site limit (the remote penalty follows it when derived)."""
    return dataclasses.replace(problem, max_distance_km=float(max_distance_km))


def with_remote_ok(problem: Problem, uais: list[str]) -> Problem:
    """Return ``problem`` where the given establishments accept remote tutoring."""
    remote_ok = problem.establishments.remote_ok.copy()
    remote_ok[[_establishment_row(problem, u) for u in uais]] = True
    return dataclasses.replace(
        problem, establishments=dataclasses.replace(problem.establishments, remote_ok=remote_ok)
    )


def with_fixed_pair(problem: Problem, tutor_id: str, uai: str) -> Problem:
    """Return ``problem`` with one more fixed pair (replacing the establishment's own fixed pair)."""
    t, e = _tutor_row(problem, tutor_id), _establishment_row(problem, uai)
    fixed = problem.fixed[problem.fixed[:, 1] != e]
    return dataclasses.replace(problem, fixed=np.vstack([fixed, [[t, e]]]).astype(np.int64))


def new_tutor_profile(problem: Problem) -> dict[str, Any]:
    """Return the role, wave and capacity a lever's new tutor gets.

    The most helpful profile the rules know: a role that gives every kind of
    help (``""``, unknown, when no role does), the earliest wave of the
    tutors, the default capacity, on-site only, no personal limit.
    """
    both = sorted(r for r, helps in problem.role_help.items() if {"management", "accounting"} <= helps)
    waves = problem.tutors.wave[np.isfinite(problem.tutors.wave)]
    return {
        "role": both[0] if both else "",
        "wave": float(waves.min()) if len(waves) else math.nan,
        "capacity": DEFAULT_CAPACITY,
    }


def with_new_tutor(
    problem: Problem,
    lon: float,
    lat: float,
    *,
    role: str,
    wave: float,
    capacity: int,
    tutor_id: str = NEW_TUTOR_ID,
) -> Problem:
    """Return ``problem`` with one more tutor at (lon, lat), on-site only.

    Raises
    ------
    InputError
        When the problem uses a distance matrix (a new tutor has no known
        routes), or ``tutor_id`` is taken.
    """
    if problem.distance_matrix is not None:
        raise InputError("cannot add a tutor to a problem with a distance matrix: its routes are unknown.")
    t = problem.tutors
    if tutor_id in set(t.id.tolist()):
        raise InputError(f"tutor_id {tutor_id!r} is already taken.")
    values: dict[str, Any] = {
        "id": tutor_id,
        "name": "new tutor",
        "role": role,
        "lon": float(lon),
        "lat": float(lat),
        "capacity": int(capacity),
        "min_load": 0,
        "wave": float(wave),
        "remote_ok": False,
        "max_km": math.inf,
        "home_uai": "",
        "home": -1,
        "vehicle_cv": math.nan,
        "cia_eur": math.nan,
        "source_row": None,
        "prior_service_km": 0.0,
    }
    ids = np.append(t.id, tutor_id)
    order = np.argsort(ids.astype(str), kind="stable")
    columns: dict[str, Any] = {}
    for f in dataclasses.fields(TutorTable):
        if f.name == "extra":
            extra = t.extra.reindex(range(len(t) + 1)).iloc[order].reset_index(drop=True)
            columns["extra"] = extra
            continue
        old = getattr(t, f.name)
        if not isinstance(old, np.ndarray) or len(old) != len(t):
            continue  # not a per-tutor column (e.g. the column provenance)
        value = values.get(f.name, _BLANK.get(old.dtype.kind))
        columns[f.name] = np.append(old, np.array([value], dtype=old.dtype))[order]
    tutors = dataclasses.replace(t, **columns)
    # Fixed and forbidden pairs name tutors by row: follow the new order.
    new_row = np.empty(len(order), dtype=np.int64)
    new_row[order] = np.arange(len(order))

    def remap(pairs: IntArray) -> IntArray:
        return np.column_stack((new_row[pairs[:, 0]], pairs[:, 1])).astype(np.int64)

    return dataclasses.replace(
        problem, tutors=tutors, fixed=remap(problem.fixed), forbidden=remap(problem.forbidden)
    )


def with_pair_rule_relaxed(problem: Problem, tutor_id: str, uai: str, rule: str) -> Problem:
    """Return ``problem`` where one pair passes a rule it failed, and only that pair.

    ``rule="wave"`` moves the tutor's wave just before the establishment's;
    ``rule="role"`` gives the tutor a role (``"<ROLE>+<need>"``) that also
    covers the establishment's need. Every other pair that the change would
    make eligible is forbidden, so the rule is relaxed for the named pair only.
    """
    t, e = _tutor_row(problem, tutor_id), _establishment_row(problem, uai)
    if rule == "wave":
        edited = _replace_tutor_column(problem, "wave", t, float(problem.establishments.wave[e]) - 1.0)
    elif rule == "role":
        role = str(problem.tutors.role[t])
        need = str(problem.establishments.need[e])
        helps = set(problem.role_help.get(role, frozenset()))
        helps |= {"management", "accounting"} if need == "both" else {need}
        new_role = f"{role}+{need}"
        role_help = dict(problem.role_help)
        role_help[new_role] = frozenset(helps)
        edited = _replace_tutor_column(dataclasses.replace(problem, role_help=role_help), "role", t, new_role)
    else:
        raise InputError(f"rule must be 'wave' or 'role'; got {rule!r}.")
    n_e = problem.n_establishments
    everyone = np.arange(n_e, dtype=np.int64)
    tutor = np.full(n_e, t, dtype=np.int64)
    opened = rule_mask(edited, tutor, everyone) & ~rule_mask(problem, tutor, everyone)
    opened[e] = False
    extra = np.column_stack((tutor[opened], everyone[opened]))
    forbidden = np.vstack([problem.forbidden, extra]).astype(np.int64)
    keys = pair_keys(forbidden[:, 0], forbidden[:, 1], n_e)
    _, first = np.unique(keys, return_index=True)
    return dataclasses.replace(edited, forbidden=forbidden[np.sort(first)])


def same_as(plan: Any, solver: str | None = None) -> dict[str, Any]:
    """Return the keywords of :func:`tutormatch.solve` that re-solve as ``plan`` was solved.

    The objective, cost model and budget of the plan (and ``solver`` when given).
    """
    out: dict[str, Any] = {
        "objective": getattr(plan, "objective_name", "km"),
        "cost_model": getattr(plan, "cost_model", None),
        "budget_eur": getattr(plan, "budget_eur", None),
    }
    if solver is not None:
        out["solver"] = solver
    return out


def apply_lever(problem: Problem, lever: Mapping[str, Any]) -> Problem:
    """Return ``problem`` with one lever of a shortfall applied.

    Parameters
    ----------
    problem : Problem
    lever : mapping
        A row of :meth:`Assignment.shortfall` (a dict or a pandas Series):
        ``kind`` and that kind's parameters.

    Returns
    -------
    Problem

    Raises
    ------
    InputError
        For an unknown kind.
    """
    kind = lever["kind"]
    if kind == "raise_capacity":
        return with_capacity(problem, str(lever["tutor_id"]), int(lever["capacity"]))
    if kind == "raise_distance_limit":
        return with_max_distance(problem, float(lever["max_distance_km"]))
    if kind == "allow_remote":
        return with_remote_ok(problem, list(lever["uais"]))
    if kind == "relax_rule":
        return with_pair_rule_relaxed(problem, str(lever["tutor_id"]), str(lever["uai"]), str(lever["rule"]))
    if kind == "add_tutor":
        return with_new_tutor(
            problem,
            float(lever["lon"]),
            float(lever["lat"]),
            role=str(lever["role"]),
            wave=float(lever["wave"]),
            capacity=int(lever["capacity"]),
        )
    raise InputError(f"lever kind must be one of {', '.join(map(repr, LEVER_KINDS))}; got {kind!r}.")
