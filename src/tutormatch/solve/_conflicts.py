r"""Hard constraints that cannot all hold: the conflict and the least relaxation.

Notes
-----
An elastic model over the user's own constraints, solved by CP-SAT. Every
constraint the user wrote gets a named boolean :math:`r_c` ("relaxed"):

- each tutor's minimum load :math:`m_t`: :math:`\text{load}_t + s_t \ge m_t`,
  :math:`0 \le s_t \le m_t r_t`;
- each fixed pair :math:`p = (t, e)`: :math:`x_{te} \ge 1 - r_p`;
- each tutor's all-or-nothing rule: :math:`\text{load}_t = k_t w_t` unless
  :math:`r_t` (then any load up to :math:`k_t`);

on the same eligible pairs as the solve (every remote class made explicit),
with each establishment at most once and each load within capacity. The
objective is lexicographic, by one weight :math:`W` larger than any amount:
:math:`\min W \sum_c r_c + \sum_t s_t` (fewest relaxed constraints, then the
least total shortfall of minimum loads), proven by the presolve's bound or
by CP-SAT (``is_proven``). The count
of relaxed constraints is not a flow objective (a fixed charge per
constraint), hence CP-SAT and not a flow with slack arcs; a flow with slack
arcs would minimise the total shortfall, not how many constraints give way.

A flow presolve (:mod:`tutormatch.solve._conflict_flow`) does most of the
work: one max flow decides whether any subset of these constraints can hold
together; the source side of a minimum cut names the only tutors whose
constraints (and the fixed pairs on establishments they may take) can help;
a lazy greedy relaxes one constraint at a time, each step one max flow; and
two valid inequalities of the cut (what the relaxed constraints free covers
the deficit; the shortfall of lowered minimum loads covers what the others do
not free) bound the objective from below. When the greedy meets that bound it
is proven least; otherwise CP-SAT solves the elastic model on the cut's tutors
(exact when no fixed pair of another tutor holds an establishment they may
take; on every constrained tutor otherwise), hinted with the greedy answer and
given the two inequalities.

The conflict itself is a minimal set of constraints that cannot all hold:
the cut's constraints, shrunk by deletion in chunks (halved down to single
constraints), each test one max flow; every constraint left is needed.

A budget is checked last, on the problem relaxed as above: when the
cheapest plan meeting the remaining constraints costs more than the budget,
the budget is the conflict and its least relaxation is that cheapest cost.
With both kinds at once, the two stages are each exact but the pair is
lexicographic (structural constraints first), not a joint minimum.
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from tutormatch.model._problem import Problem

__all__ = ["Infeasibility", "find_conflicts"]

KINDS = ("min_load", "fixed_pair", "all_or_nothing", "budget")

_PHRASES = {
    "min_load": ("the minimum load of {tutor} ({value})", "la charge minimale de {tutor} ({value})"),
    "fixed_pair": ("the fixed pairs of {tutor} ({uais})", "les binômes imposés de {tutor} ({uais})"),
    "all_or_nothing": (
        "the all-or-nothing load of {tutor} ({value})",
        "la charge tout-ou-rien de {tutor} ({value})",
    ),
    "budget": ("the budget of {value}", "le budget de {value}"),
}
_RELAX = {
    "min_load": (
        "lower the minimum load of {tutor} to {to}",
        "abaisser la charge minimale de {tutor} à {to}",
    ),
    "fixed_pair": ("drop the fixed pair ({tutor}, {uai})", "retirer le binôme imposé ({tutor}, {uai})"),
    "all_or_nothing": (
        "let {tutor} take {to} instead of {value} (all-or-nothing)",
        "laisser {tutor} prendre {to} au lieu de {value} (tout-ou-rien)",
    ),
    "budget": ("raise the budget to {to}", "relever le budget à {to}"),
}


def _euros(value: float, lang: int = 0) -> str:
    text = f"{value:,.2f}".replace(",", "\u202f")
    return (text if lang == 0 else text.replace(".", ",")) + " €"


_SHOWN = 6  # constraints named in a sentence; the table lists them all


def _join(items: list[str], word: str) -> str:
    if len(items) > _SHOWN:
        more = len(items) - _SHOWN + 1
        items = [*items[: _SHOWN - 1], f"{more} more" if word == "and" else f"{more} autres"]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" {word} " + items[-1]


@dataclass(frozen=True, eq=False)
class Infeasibility:
    """Why a problem has no plan: the user's constraints that conflict, and the least relaxation.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per constraint the user wrote that takes part: columns
        ``kind`` (``min_load``, ``fixed_pair``, ``all_or_nothing``,
        ``budget``), ``tutor_id``, ``uai`` (fixed pairs), ``value`` (as
        written), ``in_conflict`` (member of the minimal conflict),
        ``relaxed`` (part of the least relaxation) and ``relaxed_to`` (the
        value that restores a plan; ``nan`` for a dropped pair).
    relaxed_problem : Problem
        The problem with the least relaxation applied (minimum loads
        lowered, fixed pairs dropped, all-or-nothing capacities lowered).
    relaxed_budget_eur : float or None
        The budget that restores a plan (the plan's own when not relaxed).
    n_relaxed : int
        How many constraints the least relaxation relaxes.
    is_proven : bool
        Whether CP-SAT proved that no relaxation of fewer constraints
        restores a plan, and that the conflict is minimal (``False`` when
        ``time_limit`` stopped it: the relaxation still restores a plan and
        the conflict still cannot hold).
    time_limit : float
        The seconds it was given.
    """

    table: pd.DataFrame = field(repr=False)
    relaxed_problem: Problem = field(repr=False)
    relaxed_budget_eur: float | None
    n_relaxed: int
    is_proven: bool = True
    time_limit: float = 30.0

    def sentence(self, lang: str = "en") -> str:
        """Return the conflict and its least relaxation in one sentence (``"en"`` or ``"fr"``)."""
        if lang not in ("en", "fr"):
            raise ValueError(f"lang must be 'en' or 'fr'; got {lang!r}.")
        i = 0 if lang == "en" else 1
        rows = self.table
        conflict = rows[rows["in_conflict"]]
        if not len(conflict):
            return (
                "no conflict among minimum loads, fixed pairs, all-or-nothing loads and budget was found"
                if i == 0
                else "aucun conflit entre charges minimales, binômes imposés, tout-ou-rien et budget"
            )
        phrases: list[str] = []
        for (kind, tutor), group in conflict.groupby(["kind", "tutor_id"], sort=False):
            value = group["value"].iloc[0]
            shown = _euros(float(value), i) if kind == "budget" else value
            uais = ", ".join(group["uai"].astype(str))
            phrases.append(_PHRASES[str(kind)][i].format(tutor=tutor, value=shown, uais=uais))
        if i == 0:
            verb = (
                "cannot hold"
                if len(phrases) == 1
                else ("cannot both hold" if len(phrases) == 2 else "cannot all hold")
            )
            head = f"{_join(phrases, 'and')} {verb}"
        else:
            verb = "ne peut être respectée" if len(phrases) == 1 else "ne peuvent être respectés ensemble"
            head = f"{_join(phrases, 'et')} {verb}"
        fixes = []
        for row in rows[rows["relaxed"]].itertuples(index=False):
            amount = float(row.relaxed_to)  # type: ignore[arg-type]
            to: object = _euros(amount, i) if row.kind == "budget" else amount
            if row.kind != "budget" and math.isfinite(amount):
                to = int(amount)
            fixes.append(
                _RELAX[str(row.kind)][i].format(tutor=row.tutor_id, uai=row.uai, value=row.value, to=to)
            )
        tail = "least relaxation: " if i == 0 else "moindre relâchement : "
        note = (
            ("", "")
            if self.is_proven
            else (
                " (the best found within the time limit, not proven least)",
                " (le meilleur trouvé dans le temps imparti, non prouvé minimal)",
            )
        )
        return f"{head}; {tail}{_join(fixes, 'and' if i == 0 else 'et')}{note[i]}"

    def __repr__(self) -> str:
        return f"Infeasibility(n_relaxed={self.n_relaxed}, {self.sentence()!r})"


@dataclass(frozen=True)
class _Elastic:
    """The elastic model's data: pairs and the named constraints."""

    problem: Problem
    pair_tutor: np.ndarray
    pair_establishment: np.ndarray
    names: list[tuple[str, int, int]]  # (kind, tutor row, establishment row or -1)


def _pairs(problem: Problem, tutors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every eligible pair of ``tutors`` as the solve sees it, plus the fixed pairs.

    Tutors without a named constraint may stay idle (load 0 meets every rule
    and establishments may stay uncovered), so they never help a plan exist:
    their pairs are left out, exactly.
    """
    from tutormatch.solve._network import build_network
    from tutormatch.solve._pool import full_pool

    free = dataclasses.replace(problem, fixed=np.empty((0, 2), dtype=np.int64))
    remote = free.remote_classes
    explicit = frozenset(np.unique(remote.link_class[np.isin(remote.link_tutor, tutors)]).tolist())
    net = build_network(free, full_pool(free), explicit_classes=explicit)
    mine = np.isin(net.arc_tutor, tutors)
    t = np.concatenate((net.arc_tutor[mine], problem.fixed[:, 0])).astype(np.int64)
    e = np.concatenate((net.arc_establishment[mine], problem.fixed[:, 1])).astype(np.int64)
    keys = np.unique(e * problem.n_tutors + t)
    return (keys % problem.n_tutors).astype(np.int64), (keys // problem.n_tutors).astype(np.int64)


def _build(elastic: _Elastic, enforced: set[int] | None) -> tuple[Any, list[Any], list[Any]]:
    """CP-SAT model; ``enforced``: constraints that may not relax (None: all may, minimise)."""
    from ortools.sat.python import cp_model

    p = elastic.problem
    cap, low = p.tutors.capacity, p.tutors.min_load
    model = cp_model.CpModel()
    x = [model.new_bool_var(f"x{a}") for a in range(len(elastic.pair_tutor))]
    by_e: dict[int, list[Any]] = {}
    by_t: dict[int, list[Any]] = {}
    index: dict[tuple[int, int], int] = {}
    for a, (t, e) in enumerate(
        zip(elastic.pair_tutor.tolist(), elastic.pair_establishment.tolist(), strict=True)
    ):
        by_e.setdefault(e, []).append(x[a])
        by_t.setdefault(t, []).append(x[a])
        index[(t, e)] = a
    for terms in by_e.values():
        model.add_at_most_one(terms)
    load = {t: sum(terms) for t, terms in by_t.items()}
    for t, expr in load.items():
        model.add(expr <= int(cap[t]))
    r = [model.new_bool_var(f"r{c}") for c in range(len(elastic.names))]
    shortfall: list[Any] = []
    for c, (kind, t, e) in enumerate(elastic.names):
        if enforced is not None:
            model.add(r[c] == (0 if c in enforced else 1))
        expr = load.get(t, 0)
        if kind == "min_load":
            s = model.new_int_var(0, int(low[t]), f"s{c}")
            model.add(s <= int(low[t]) * r[c])
            model.add(expr + s >= int(low[t]))
            shortfall.append(s)
        elif kind == "fixed_pair":
            model.add(x[index[(t, e)]] == 1).only_enforce_if(r[c].Not())
        elif kind == "all_or_nothing":
            w = model.new_bool_var(f"w{c}")
            model.add(expr == int(cap[t]) * w).only_enforce_if(r[c].Not())
    return model, r, [x, shortfall]


def _solve(model: Any, *, time_limit: float, assumptions: list[Any] | None = None) -> tuple[Any, int]:
    from ortools.sat.python import cp_model

    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(time_limit, 0.01)
    solver.parameters.num_workers = 1  # deterministic, and assumptions need one worker
    solver.parameters.random_seed = 0
    if assumptions:
        model.add_assumptions(assumptions)
    code = int(solver.solve(model))
    return solver, code


def _names(problem: Problem) -> list[tuple[str, int, int]]:
    names: list[tuple[str, int, int]] = []
    for t, e in sorted(map(tuple, problem.fixed.tolist())):
        names.append(("fixed_pair", int(t), int(e)))
    for t in np.flatnonzero(problem.tutors.min_load > 0).tolist():
        names.append(("min_load", t, -1))
    if problem.all_or_nothing:
        has = np.zeros(problem.n_tutors, dtype=bool)
        has[problem.fixed[:, 0]] = True
        must = (problem.tutors.min_load > 0) | has
        for t in np.flatnonzero(must & (problem.tutors.capacity > 0)).tolist():
            names.append(("all_or_nothing", t, -1))
    return names


def _suspects(check: Any, side: np.ndarray) -> np.ndarray:
    """Constraints that can lower the deficit: those of the cut's tutors, and fixed pairs it may use."""
    tutor = check.tutor
    mine = side[tutor]
    reach = np.zeros(max(check.problem.n_establishments, 1), dtype=bool)
    reach[check.pair_establishment[side[check.pair_tutor]]] = True
    fixed = check.kind == "fixed_pair"
    return np.asarray(mine | (fixed & reach[np.maximum(check.establishment, 0)]), dtype=bool)


def _least_relaxation(
    check: Any, deficit: int, side: np.ndarray, deadline: float
) -> tuple[list[bool], np.ndarray, bool]:
    """Fewest constraints to relax, then least shortfall: a flow greedy, improved and proven by CP-SAT.

    CP-SAT gets the greedy answer as a hint and the cut's inequality (what
    the relaxed constraints free covers the deficit), on the cut's tutors
    only when no fixed pair of another tutor holds an establishment they may
    take (then exact: see :mod:`tutormatch.solve._conflict_flow`).
    """
    from ortools.sat.python import cp_model

    problem = check.problem
    names = check.names
    greedy = check.greedy(np.ones(len(names), dtype=bool))
    used_g, loads_g = check.plan(~greedy)
    suspects = _suspects(check, side)
    outside_fixed = (check.kind == "fixed_pair") & ~side[check.tutor]
    exact_cut = not (outside_fixed & suspects).any()
    keep = side[check.tutor] if exact_cut else np.ones(len(names), dtype=bool)
    sub_names = [n for n, k in zip(names, keep.tolist(), strict=True) if k]
    index = np.flatnonzero(keep)
    pair_keep = side[check.pair_tutor] if exact_cut else np.ones(len(check.pair_tutor), dtype=bool)
    sub = _Elastic(problem, check.pair_tutor[pair_keep], check.pair_establishment[pair_keep], sub_names)
    model, r, (x, shortfall) = _build(sub, None)
    # Valid inequalities of the cut: what the relaxed constraints free covers
    # the deficit, so at least ``fewest`` of them; a lowered minimum load
    # frees at most its shortfall.
    frees = check.frees(np.ones(len(names), dtype=bool))[index]
    model.add(sum(int(f) * v for f, v in zip(frees.tolist(), r, strict=True)) >= int(deficit))
    fewest = int(np.searchsorted(np.cumsum(np.sort(frees)[::-1]), deficit) + 1)
    model.add(sum(r) >= fewest)
    # A lowered minimum load frees at most its shortfall, unless the tutor's
    # all-or-nothing rule holds (then its load may drop to 0): count those
    # by what they could free at most, like the other kinds.
    is_min = np.array([kind == "min_load" for kind, _, _ in sub_names], dtype=bool)
    aon = {t for kind, t, _ in sub_names if kind == "all_or_nothing"}
    plain = [kind == "min_load" and t not in aon for kind, t, _ in sub_names]
    short = [
        v
        for v, (kind, t, _) in zip(shortfall, [n for n in sub_names if n[0] == "min_load"], strict=True)
        if t not in aon
    ]
    others = [int(f) * v for f, v, m in zip(frees.tolist(), r, plain, strict=True) if not m]
    model.add(sum(short) + sum(others) >= int(deficit))
    weight = 1 + int(problem.tutors.min_load.sum())
    model.minimize(weight * sum(r) + sum(shortfall))
    # The greedy's plan as a hint.
    low = problem.tutors.min_load
    used_sub = used_g[pair_keep]
    for a, var in enumerate(x):
        model.add_hint(var, bool(used_sub[a]))
    k = 0
    for c, (kind, t, _) in enumerate(sub_names):
        model.add_hint(r[c], bool(greedy[index[c]]))
        if kind == "min_load":
            model.add_hint(shortfall[k], max(int(low[t]) - int(loads_g[t]), 0) if greedy[index[c]] else 0)
            k += 1
    greedy_value = weight * int(greedy.sum()) + sum(
        max(int(low[t]) - int(loads_g[t]), 0)
        for c, (kind, t, _) in enumerate(names)
        if kind == "min_load" and greedy[c]
    )
    # The bound of the cuts: when the greedy meets it, it is the least (proven).
    bound = weight * fewest + (int(deficit) if is_min.all() else 0)
    if greedy_value <= bound:
        return greedy.tolist(), loads_g, True
    left = deadline - time.perf_counter()
    solver, code = _solve(model, time_limit=max(left, 0.01))
    if code in (cp_model.OPTIMAL, cp_model.FEASIBLE) and solver.objective_value < greedy_value:
        relaxed = np.zeros(len(names), dtype=bool)
        relaxed[index] = [bool(solver.boolean_value(v)) for v in r]
        used = np.array([solver.boolean_value(v) for v in x], dtype=bool)
        loads = np.bincount(sub.pair_tutor[used], minlength=problem.n_tutors)
        return relaxed.tolist(), loads, code == cp_model.OPTIMAL
    # The greedy is as good (ties keep its order: the first constraint named).
    return greedy.tolist(), loads_g, code == cp_model.OPTIMAL


def find_conflicts(
    problem: Problem,
    *,
    budget_eur: float | None = None,
    cost_model: Any = None,
    time_limit: float = 30.0,
) -> Infeasibility:
    """Return the conflicting constraints of ``problem`` and their least relaxation; see the module notes."""
    from tutormatch.solve._conflict_flow import FlowCheck

    deadline = time.perf_counter() + time_limit
    names = _names(problem)
    pt, pe = _pairs(problem, np.unique(np.array([t for _, t, _ in names], dtype=np.int64)))
    check = FlowCheck(problem, pt, pe, names)
    everything = np.ones(len(names), dtype=bool)
    deficit, side = check.cut(everything)
    if deficit == 0:  # the structure holds (a budget, or nothing, is the conflict)
        relaxed = [False] * len(names)
        loads = check.plan(everything)[1]
        proven, core = True, []
    else:
        relaxed, loads, proven = _least_relaxation(check, deficit, side, deadline)
        # Only the cut's constraints (and fixed pairs it could use) can take
        # part; a minimal conflict among them, each test one max flow.
        suspects = _suspects(check, side)
        if check.deficit(suspects) == 0:  # pragma: no cover - the cut argument says it cannot
            suspects = everything
        core = check.minimal_conflict(suspects)

    core_set = set(core)
    t_ids, e_ids = problem.tutors.id, problem.establishments.id
    rows: list[dict[str, Any]] = []
    min_load = problem.tutors.min_load.copy()
    capacity = problem.tutors.capacity.copy()
    keep_fixed = np.ones(len(problem.fixed), dtype=bool)
    fixed_pos = {(int(t), int(e)): i for i, (t, e) in enumerate(problem.fixed.tolist())}
    for c, (kind, t, e) in enumerate(names):
        to: float = math.nan
        if kind == "min_load":
            value: Any = int(problem.tutors.min_load[t])
            if relaxed[c]:
                to = float(min(int(loads[t]), value))
                min_load[t] = int(to)
        elif kind == "fixed_pair":
            value = f"{t_ids[t]}-{e_ids[e]}"
            if relaxed[c]:
                keep_fixed[fixed_pos[(t, e)]] = False
        else:
            value = int(problem.tutors.capacity[t])
            if relaxed[c]:
                to = float(loads[t])
                capacity[t] = int(to)
        rows.append(
            {
                "kind": kind,
                "tutor_id": str(t_ids[t]),
                "uai": str(e_ids[e]) if e >= 0 else "",
                "value": value,
                "in_conflict": c in core_set,
                "relaxed": relaxed[c],
                "relaxed_to": to,
            }
        )
    tutors = dataclasses.replace(problem.tutors, min_load=min_load, capacity=capacity)
    relaxed_problem = dataclasses.replace(problem, tutors=tutors, fixed=problem.fixed[keep_fixed])

    new_budget = budget_eur
    if budget_eur is not None:
        cheapest = _cheapest_eur(relaxed_problem, cost_model)
        if cheapest is not None and cheapest > budget_eur:
            new_budget = math.ceil(cheapest * 100.0 - 1e-6) / 100.0
            rows.append(
                {
                    "kind": "budget",
                    "tutor_id": "",
                    "uai": "",
                    "value": float(budget_eur),
                    "in_conflict": True,
                    "relaxed": True,
                    "relaxed_to": new_budget,
                }
            )
    table = pd.DataFrame(
        rows, columns=["kind", "tutor_id", "uai", "value", "in_conflict", "relaxed", "relaxed_to"]
    ).astype({"in_conflict": bool, "relaxed": bool, "relaxed_to": float})
    if budget_eur is not None and new_budget != budget_eur:
        # The budget conflicts with what the remaining constraints force: name those too.
        table.loc[table["kind"] != "budget", "in_conflict"] = ~table.loc[table["kind"] != "budget", "relaxed"]
    return Infeasibility(
        table=table,
        relaxed_problem=relaxed_problem,
        relaxed_budget_eur=new_budget,
        n_relaxed=int(table["relaxed"].sum()),
        is_proven=proven,
        time_limit=time_limit,
    )


def _cheapest_eur(problem: Problem, cost_model: Any) -> float | None:
    """Euros of the cheapest plan (fixed pairs and minimum loads only), as the budget solve counts them."""
    from tutormatch.model._costs import CostModel
    from tutormatch.solve._euros import euro_costs
    from tutormatch.solve._euros_cpsat import solve_euros_cpsat
    from tutormatch.solve._network import build_network
    from tutormatch.solve._options import SolveOptions
    from tutormatch.solve._pool import full_pool

    network = build_network(problem, full_pool(problem))
    network = dataclasses.replace(network, priority_int=np.zeros_like(network.priority_int))
    costs = euro_costs(problem, network, cost_model or CostModel(), "euros")
    result = solve_euros_cpsat(network, costs, SolveOptions(), objective="euros", budget_eur=None)
    if not result.status.has_solution:
        return None
    return float(result.stats["model_eur"])
