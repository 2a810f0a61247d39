r"""What to change to cover what a plan leaves uncovered: levers, each verified.

Candidates come cheaply from the plan's residual graph
(:mod:`tutormatch.solve._residual`); each is then applied to the problem
(:mod:`tutormatch.solve._whatif`) and solved again with
:func:`tutormatch.solve`, and the table reports what that solve gives:
the establishments it covers (and any it uncovers), the priority gained and
the change in yearly cost. Nothing in the table is an estimate.

Notes
-----
Let :math:`U` be the uncovered establishments, :math:`G` the residual graph
and :math:`x(v)` the best way out of node :math:`v` (0 when it reaches a
tutor with room, :math:`-p_e` when it reaches a movable establishment
:math:`e` that could be uncovered instead). A lever that adds an arc
:math:`u \to v` gains at most :math:`p_u + x(v)`; one that adds room at tutor
:math:`t` gains :math:`\max \{p_u : u \in U, u \leadsto t\}`, at the cost of
the shortest :math:`u \to t` path (Johnson's algorithm: arcs taking a pair
away have negative costs). The levers proposed per establishment are the
cheapest of each kind by these measures; establishments are grouped when
they reach a common tutor (they compete for the same places).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from tutormatch.errors import InputError
from tutormatch.model._eligibility import _role_ok, _wave_ok, pair_limit_km, remote_possible
from tutormatch.model._problem import Problem
from tutormatch.model._waves import format_wave
from tutormatch.solve._residual import Residual, build_residual
from tutormatch.solve._whatif import apply_lever, new_tutor_profile, same_as

if TYPE_CHECKING:
    from tutormatch.solve._assignment import Assignment

__all__ = ["SHORTFALL_COLUMNS", "describe_change", "shortfall", "shortfall_by_default"]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

#: Columns of :meth:`Assignment.shortfall`, in order.
SHORTFALL_COLUMNS = (
    "group",
    "kind",
    "tutor_id",
    "capacity",
    "max_distance_km",
    "uai",
    "rule",
    "uais",
    "at",
    "commune",
    "lon",
    "lat",
    "role",
    "wave",
    "covers",
    "uncovers",
    "n_covers",
    "priority_gain",
    "cost_delta_km",
    "cost_delta_eur",
    "lever",
)
_ADD_TUTOR_SITES = 2  # sites verified per group for an added tutor
_TRIES = 3  # levers of one kind verified per group
_TRIES_RULE = 2  # rule relaxations are slower to solve (their remote classes split)
#: Up to this many establishments, ``tutormatch solve`` and ``demo`` write the
#: shortfall whenever some are uncovered (an académie: about a second; all of
#: France: minutes of re-solves, so there it is asked for with ``--shortfall``).
AUTO_MAX_ESTABLISHMENTS = 2000


def shortfall_by_default(plan: Assignment) -> bool:
    """Tell whether the command line computes a plan's shortfall without being asked.

    When the plan has uncovered establishments and the problem has at most
    :data:`AUTO_MAX_ESTABLISHMENTS` of them.
    """
    return (
        plan.status.has_solution
        and plan.n_uncovered > 0
        and plan.problem.n_establishments <= AUTO_MAX_ESTABLISHMENTS
    )


def _groups(reach: npt.NDArray[np.bool_], n_e: int, n_t: int) -> IntArray:
    """Group uncovered establishments that reach a common tutor (1-based labels)."""
    import scipy.sparse as sp  # imported on use: `import tutormatch` stays cheap
    from scipy.sparse.csgraph import connected_components

    tutors = reach[:, n_e : n_e + n_t]
    shared = (tutors.astype(np.int64) @ tutors.T.astype(np.int64)) > 0
    _, labels = connected_components(sp.csr_array(shared), directed=False)
    # Number groups in order of their first establishment (deterministic).
    _, first = np.unique(labels, return_index=True)
    rank = np.empty(len(first), dtype=np.int64)
    rank[np.argsort(first)] = np.arange(len(first))
    return np.asarray(rank[labels] + 1, dtype=np.int64)


def _commune(problem: Problem, row: int, *, tutor: bool) -> str:
    table = problem.tutors if tutor else problem.establishments
    names = getattr(table, "commune", None)
    if isinstance(names, np.ndarray) and len(names) == len(table):
        name = names[row]
        if isinstance(name, str) and name:
            return name
    for column in ("commune", "insee"):
        if column in table.extra.columns:
            value = table.extra[column].iloc[row]
            if isinstance(value, str) and value:
                return value
    return ""


def _cost_eur(plan: Assignment) -> float:
    if plan.problem.distance_unit != "km" or not plan.status.has_solution:
        return math.nan
    from tutormatch.report._costs import costs

    return float(costs(plan).total_eur)


class _Verifier:
    """Solve edited problems and turn each outcome into a table row."""

    def __init__(self, plan: Assignment, solve: Callable[[Problem], Assignment], *, euros: bool) -> None:
        self.plan = plan
        self.solve = solve
        self.euros = euros
        self.covered = set(plan.problem.establishments.id[plan.establishment].tolist())
        self.eur = _cost_eur(plan) if euros else math.nan
        self.seen: set[tuple[Any, ...]] = set()
        self.rows: list[dict[str, Any]] = []

    def _eur_delta(self, new: Assignment) -> float:
        if self.plan.objective_name != "km":  # the objective is the cost report's euros
            return round(new.objective - self.plan.objective, 2)
        return round(_cost_eur(new) - self.eur, 2) if self.euros else math.nan

    def covered_by(self, kind: str, group: int, uai: str) -> bool:
        """Tell whether a verified lever of ``kind`` in ``group`` covers ``uai``."""
        return any(r["kind"] == kind and r["group"] == group and uai in r["covers"] for r in self.rows)

    def check(self, group: int, lever: dict[str, Any]) -> dict[str, Any] | None:
        key = tuple(sorted((k, str(v)) for k, v in lever.items()))
        if key in self.seen:
            return None
        self.seen.add(key)
        try:
            edited = apply_lever(self.plan.problem, lever)
        except InputError:
            return None  # the lever cannot be written on this problem (e.g. a matrix)
        from tutormatch.solve._solve import status_only

        with status_only():
            new = self.solve(edited)
        if not new.status.is_optimal:
            return None
        gain = new.covered_priority - self.plan.covered_priority
        if gain <= 0:
            return None
        covered = set(new.problem.establishments.id[new.establishment].tolist())
        row = dict(
            lever,
            group=group,
            covers=sorted(covered - self.covered),
            uncovers=sorted(self.covered - covered),
            priority_gain=gain,
            cost_delta_km=float(new.cost_km.sum() - self.plan.cost_km.sum()),
            cost_delta_eur=self._eur_delta(new),
        )
        row["n_covers"] = len(row["covers"])
        self.rows.append(row)
        return row


def shortfall(
    plan: Assignment,
    *,
    lang: str = "en",
    euros: bool = False,
    solve: Callable[[Problem], Assignment] | None = None,
) -> pd.DataFrame:
    """Return the levers that would cover a plan's uncovered establishments.

    See :meth:`Assignment.shortfall`.
    """
    if lang not in ("en", "fr"):
        raise InputError(f"lang must be 'en' or 'fr'; got {lang!r}.")
    if solve is None:
        from tutormatch.solve._solve import SOLVERS
        from tutormatch.solve._solve import solve as tm_solve

        # The plan's backend when it is one of the names (the same exact
        # method); "auto" otherwise, which picks what the objective needs.
        solver = plan.solver if plan.solver in SOLVERS and plan.objective_name == "km" else "auto"

        def solve(problem: Problem) -> Assignment:
            return tm_solve(problem, **same_as(plan, solver))

    empty = pd.DataFrame({c: pd.Series(dtype=object) for c in SHORTFALL_COLUMNS})
    if not plan.status.has_solution or plan.n_uncovered == 0:
        return empty
    p = plan.problem
    n_e, n_t = p.n_establishments, p.n_tutors
    res = build_residual(plan)
    uncovered = plan.uncovered_establishment
    priority = p.establishments.priority
    reach = res.reach(uncovered)
    group = _groups(reach, n_e, n_t)
    exit_value = res.exit_value(priority)
    verify = _Verifier(plan, solve, euros=euros)
    distances = _distances_to_all(p, uncovered)
    path_cost = _path_costs(res, uncovered)
    for g in np.unique(group).tolist():
        # Most priority first, then by UAI: each lever kind is tried for the
        # members that no lever of that kind covers yet, a few per group.
        inside = np.flatnonzero(group == g)
        inside = inside[np.lexsort((p.establishments.id[uncovered[inside]], -priority[uncovered[inside]]))]
        proposers: tuple[tuple[str, int, Callable[[int], dict[str, Any] | None]], ...] = (
            ("raise_capacity", _TRIES, lambda i: _capacity_lever(p, res, reach, path_cost, uncovered, i)),
            (
                "raise_distance_limit",
                _TRIES,
                lambda i: _distance_lever(p, exit_value, distances[i], int(uncovered[i])),
            ),
            (
                "relax_rule",
                _TRIES_RULE,
                lambda i: _rule_lever(p, exit_value, distances[i], int(uncovered[i])),
            ),
        )
        for kind, tries, propose in proposers:
            left = tries
            for i in inside.tolist():
                if left == 0:
                    break
                if verify.covered_by(kind, g, str(p.establishments.id[uncovered[i]])):
                    continue
                lever = propose(int(i))
                if lever is not None and verify.check(g, lever) is not None:
                    left -= 1
        members = uncovered[inside]
        remote = _remote_lever(p, members)
        if remote is not None:
            verify.check(g, remote)
        for lever in _add_tutor_levers(p, res, reach[inside], members):
            verify.check(g, lever)
    if not verify.rows:
        return empty
    is_date = bool(p.establishments.wave_is_date)
    frame = pd.DataFrame([dict(row, lever=_describe(row, lang, is_date)) for row in verify.rows])
    for column in SHORTFALL_COLUMNS:
        if column not in frame.columns:
            frame[column] = None
    frame = frame[list(SHORTFALL_COLUMNS)]
    frame["capacity"] = frame["capacity"].astype("Int64")
    frame = frame.sort_values(
        ["group", "priority_gain", "cost_delta_km", "kind"],
        ascending=[True, False, True, True],
        kind="stable",
    )
    return frame.reset_index(drop=True)


def _path_costs(res: Residual, sources: IntArray) -> FloatArray:
    """Cheapest residual path from each source to every node (``inf``: none).

    Johnson's method: the arcs that take a pair away cost less than zero, so
    Bellman-Ford potentials (vectorised, :func:`~tutormatch.solve._backups._potentials`)
    make them non-negative for Dijkstra.
    """
    import scipy.sparse as sp  # imported on use: `import tutormatch` stays cheap
    from scipy.sparse.csgraph import dijkstra

    from tutormatch.solve._backups import _potentials

    graph = res.graph.tocoo()
    r, c, w = graph.row.astype(np.int64), graph.col.astype(np.int64), graph.data
    n = res.graph.shape[0]
    try:
        pi = _potentials(r, c, w, n)
    except InputError:  # a plan not optimal in cost (e.g. a time limit): rank by hops
        return np.asarray(dijkstra(abs(res.graph), directed=True, unweighted=True, indices=sources))
    reduced = sp.csr_array((np.maximum(w + pi[r] - pi[c], 0.0), (r, c)), shape=(n, n))
    d = np.asarray(dijkstra(reduced, directed=True, indices=sources))
    return np.asarray(d - pi[np.asarray(sources)][:, None] + pi[None, :])


def _distances_to_all(problem: Problem, establishments: IntArray) -> FloatArray:
    """Distance from each given establishment to every tutor, shape (len, T)."""
    n_t = problem.n_tutors
    t = np.tile(np.arange(n_t, dtype=np.int64), len(establishments))
    e = np.repeat(establishments, n_t)
    return problem.distance_km(t, e).reshape(len(establishments), n_t)


def _capacity_lever(
    p: Problem,
    res: Residual,
    reach: npt.NDArray[np.bool_],
    path_cost: FloatArray,
    uncovered: IntArray,
    i: int,
) -> dict[str, Any] | None:
    """Propose one more place for a tutor that member ``i`` reaches most cheaply.

    Among tutors for which no other uncovered establishment is a better claim.
    """
    n_e, n_t = res.n_establishments, res.n_tutors
    nodes = n_e + np.arange(n_t)
    tutors = np.flatnonzero(reach[i, n_e : n_e + n_t])
    if not len(tutors):
        return None
    priority = p.establishments.priority[uncovered]
    rivals = priority >= priority[i]
    # A new place at t goes to the most priority, then the cheapest path.
    best_other = np.where(rivals[:, None], path_cost[:, nodes], np.inf).min(axis=0)
    own = path_cost[i, nodes]
    mine = tutors[own[tutors] <= best_other[tutors]]
    pick = mine if len(mine) else tutors
    best = int(pick[np.lexsort((pick, own[pick]))[0]])
    return {
        "kind": "raise_capacity",
        "tutor_id": str(p.tutors.id[best]),
        "capacity": int(p.tutors.capacity[best]) + 1,
    }


def _distance_lever(
    p: Problem, exit_value: FloatArray, distance: FloatArray, u: int
) -> dict[str, Any] | None:
    """Propose the smallest limit that brings in a tutor with a way out."""
    n_e = p.n_establishments
    everyone = np.arange(p.n_tutors, dtype=np.int64)
    ue = np.full(p.n_tutors, u, dtype=np.int64)
    ok = (p.tutors.home != u) & _wave_ok(p.tutors.wave, np.full(p.n_tutors, p.establishments.wave[u]))
    ok &= _role_ok(p, everyone, ue)
    ok &= np.isfinite(distance) & (distance > p.max_distance_km) & (distance <= p.tutors.max_km)
    ok &= p.establishments.priority[u] + exit_value[n_e + everyone] > 0
    if not ok.any():
        return None
    # Tenths of km, rounded up: the printed limit is the one solved.
    nearest = float(distance[ok].min())
    limit = math.ceil(nearest * 10.0) / 10.0
    while limit < nearest:  # float rounding of the ceiling
        limit = round(limit + 0.1, 1)
    return {"kind": "raise_distance_limit", "max_distance_km": limit}


def _rule_lever(p: Problem, exit_value: FloatArray, distance: FloatArray, u: int) -> dict[str, Any] | None:
    """Propose the nearest tutor that one rule alone (wave or role) keeps from ``u``."""
    n_e, n_t = p.n_establishments, p.n_tutors
    everyone = np.arange(n_t, dtype=np.int64)
    ue = np.full(n_t, u, dtype=np.int64)
    base = p.tutors.home != u
    if len(p.forbidden):
        base &= ~np.isin(everyone, p.forbidden[p.forbidden[:, 1] == u, 0])
    near = np.isfinite(distance) & (distance <= pair_limit_km(p, everyone))
    gain = p.establishments.priority[u] + exit_value[n_e + everyone]
    base &= (near | remote_possible(p, everyone, ue)) & (gain > 0)
    wave = _wave_ok(p.tutors.wave, np.full(n_t, p.establishments.wave[u]))
    role = _role_ok(p, everyone, ue)
    rule = np.where(~wave & role, 0, np.where(wave & ~role, 1, -1))
    rows = np.flatnonzero(base & (rule >= 0))
    if not len(rows):
        return None
    # Most gain, then on-site before remote, then nearest.
    order = np.lexsort((rows, np.nan_to_num(distance[rows], posinf=1e18), ~near[rows], -gain[rows]))
    best = int(rows[order[0]])
    return {
        "kind": "relax_rule",
        "tutor_id": str(p.tutors.id[best]),
        "uai": str(p.establishments.id[u]),
        "rule": ("wave", "role")[int(rule[best])],
    }


def _remote_lever(p: Problem, members: IntArray) -> dict[str, Any] | None:
    closed = members[~p.establishments.remote_ok[members]]
    if not p.allow_remote or not len(closed):
        return None
    return {"kind": "allow_remote", "uais": sorted(p.establishments.id[closed].tolist())}


def _add_tutor_levers(
    p: Problem, res: Residual, reach: npt.NDArray[np.bool_], members: IntArray
) -> list[dict[str, Any]]:
    """Propose the sites where one new tutor is worth most, by the places it could free."""
    if p.distance_matrix is not None:
        return []  # a new tutor has no known routes
    from scipy.spatial import cKDTree

    from tutormatch.geo._distance import chord_for_km, unit_vectors

    n_e, n_t = res.n_establishments, res.n_tutors
    profile = new_tutor_profile(p)
    # Sites: the uncovered establishments and the tutors they reach.
    tutor_rows = np.flatnonzero(reach[:, n_e : n_e + n_t].any(axis=0))
    site_lon = np.concatenate((p.establishments.lon[members], p.tutors.lon[tutor_rows]))
    site_lat = np.concatenate((p.establishments.lat[members], p.tutors.lat[tutor_rows]))
    site_at = [str(x) for x in p.establishments.id[members]] + [str(x) for x in p.tutors.id[tutor_rows]]
    site_commune = [_commune(p, int(e), tutor=False) for e in members] + [
        _commune(p, int(t), tutor=True) for t in tutor_rows
    ]
    # What one place at a site is worth: an uncovered member within the
    # limit (its priority), or an establishment that some member reaches
    # (that member's priority, once its tutor is freed).
    worth = np.zeros(n_e)
    worth[members] = p.establishments.priority[members]
    reached = reach[:, :n_e]
    best_reacher = np.where(reached, p.establishments.priority[members][:, None], 0.0).max(axis=0)
    worth = np.maximum(worth, np.where(res.movable, best_reacher, 0.0))
    useful = np.flatnonzero(worth > 0)
    if not len(useful):
        return []
    tree = cKDTree(p.establishment_xyz[useful])
    limit = p.max_distance_km
    radius = chord_for_km(limit) * (1 + 1e-9) if math.isfinite(limit) else 3.0
    hits = tree.query_ball_point(unit_vectors(site_lon, site_lat), radius)
    scores = []
    for i, near in enumerate(hits):
        values = np.sort(worth[useful[np.asarray(near, dtype=np.int64)]])[::-1][: profile["capacity"]]
        scores.append((-float(values.sum()), -len(values), i))
    return [
        {
            "kind": "add_tutor",
            "at": site_at[i],
            "commune": site_commune[i],
            "lon": float(site_lon[i]),
            "lat": float(site_lat[i]),
            **profile,
        }
        for _, _, i in sorted(scores)[:_ADD_TUTOR_SITES]
    ]


_TEXT = {
    "en": {
        "raise_capacity": "raise tutor {tutor_id}'s capacity to {capacity}",
        "raise_distance_limit": "raise the on-site distance limit to {max_distance_km:g} km",
        "allow_remote": "let {n_uais} establishment(s) accept remote tutoring ({uais_text})",
        "relax_rule_wave": "let tutor {tutor_id} tutor {uai} despite the wave order",
        "relax_rule_role": "let tutor {tutor_id} tutor {uai} despite the role and need",
        "add_tutor": "add one tutor ({role}, wave {wave}, capacity {capacity}) at {where}",
        "covers": "covers {covers_text}",
        "uncovers": ", uncovers {uncovers_text}",
    },
    "fr": {
        "raise_capacity": "porter la capacité du tuteur {tutor_id} à {capacity}",
        "raise_distance_limit": "porter la distance maximale en présentiel à {max_distance_km:g} km",
        "allow_remote": "accepter le tutorat à distance pour {n_uais} établissement(s) ({uais_text})",
        "relax_rule_wave": "autoriser le tuteur {tutor_id} pour {uai} malgré l'ordre des vagues",
        "relax_rule_role": "autoriser le tuteur {tutor_id} pour {uai} malgré le rôle et le besoin",
        "add_tutor": "ajouter un tuteur ({role}, vague {wave}, capacité {capacity}) à {where}",
        "covers": "couvre {covers_text}",
        "uncovers": ", découvre {uncovers_text}",
    },
}


def describe_change(row: Mapping[str, Any], lang: str, is_date: bool = False) -> str:
    """Return what a lever changes, as a phrase in ``lang`` (without what it covers).

    ``row`` is a row of :meth:`Assignment.shortfall` (tutor ids as they
    should read: a report replaces them by pseudonyms first).
    """
    text = _TEXT[lang]
    kind = str(row["kind"])
    key = f"relax_rule_{row['rule']}" if kind == "relax_rule" else kind
    values = dict(row)
    if kind == "allow_remote":
        values["n_uais"] = len(row["uais"])
        values["uais_text"] = ", ".join(row["uais"])
    if kind == "add_tutor":
        where = str(row["at"]) + (f" ({row['commune']})" if row["commune"] else "")
        values["where"] = where
        values["wave"] = format_wave(row["wave"], is_date=is_date) or "?"
    return text[key].format(**{k: v for k, v in values.items() if v is not None})


def _describe(row: dict[str, Any], lang: str, is_date: bool = False) -> str:
    text = _TEXT[lang]
    head = describe_change(row, lang, is_date)
    tail = text["covers"].format(covers_text=", ".join(row["covers"]))
    if row["uncovers"]:
        tail += text["uncovers"].format(uncovers_text=", ".join(row["uncovers"]))
    return f"{head}{' : ' if lang == 'fr' else ': '}{tail}"
