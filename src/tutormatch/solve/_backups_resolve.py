"""Backups under side constraints: each candidate pair forced and solved again.

All-or-nothing loads, a euro objective and a budget break the flow structure
that gives every backup at once (:mod:`tutormatch.solve._backups`). Here each
establishment's cheapest eligible pairs (the ``shortlist``, by their own
yearly cost, nearest first) are each **fixed and solved again** with the
plan's own objective, cost model, budget and rules; the rows are ranked by
what those solves give. A row's ``status`` is its solve's: ``optimal``
(proven), ``feasible`` (a time limit stopped it: its figures are those of
the plan it found, an upper bound on the cost), ``infeasible`` (forcing the
pair leaves no plan, e.g. under a budget), or ``not_solved`` (the overall
``time_limit`` ran out before it).
"""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from tutormatch.model._eligibility import MODE_NAMES, MODE_NONE, MODE_ONSITE, classify_pairs

if TYPE_CHECKING:
    from tutormatch.solve._assignment import Assignment

__all__ = ["resolved_backups"]

IntArray = npt.NDArray[np.int64]


def _shortlist(plan: Assignment, e: int, size: int) -> tuple[IntArray, IntArray, npt.NDArray[np.float64]]:
    """Return the ``size`` cheapest eligible tutors of establishment ``e`` other than its own."""
    p = plan.problem
    tutors = np.arange(p.n_tutors, dtype=np.int64)
    where = np.full(p.n_tutors, e, dtype=np.int64)
    distance = p.distance_km(tutors, where)
    modes = classify_pairs(p, tutors, where, distance)
    current = plan.tutor[plan.establishment == e]
    ok = (modes != MODE_NONE) & ~np.isin(tutors, current)
    rows = tutors[ok]
    onsite = modes[ok] == MODE_ONSITE
    cost = np.where(
        onsite,
        p.pair_cost_km(np.full(len(rows), e, dtype=np.int64), np.nan_to_num(distance[ok])),
        p.remote_cost_km[e],
    )
    order = np.lexsort((p.tutors.id[rows], np.nan_to_num(distance[ok], posinf=1e18), cost))[:size]
    return rows[order], modes[ok][order], distance[ok][order]


def resolved_backups(
    plan: Assignment, k: int, rows: IntArray | None, time_limit: float, *, shortlist: int
) -> pd.DataFrame:
    """Return the backups of a plan with side constraints, each candidate re-solved (module notes)."""
    from tutormatch.solve._backups import BACKUP_COLUMNS
    from tutormatch.solve._solve import solve, status_only
    from tutormatch.solve._whatif import same_as, with_fixed_pair

    p = plan.problem
    deadline = time.perf_counter() + time_limit
    targets = np.arange(p.n_establishments, dtype=np.int64) if rows is None else rows
    targets = targets[~np.isin(targets, plan.establishment[plan.is_fixed])]  # a fixed pair stays
    in_euros = plan.objective_name != "km"
    keywords = same_as(plan)
    base_km = float(plan.cost_km.sum())
    records = []
    for e in targets.tolist():
        uai = str(p.establishments.id[e])
        tutors, modes, distance = _shortlist(plan, int(e), shortlist)
        found: list[dict[str, Any]] = []
        for t, mode, d in zip(tutors.tolist(), modes.tolist(), distance.tolist(), strict=True):
            left = deadline - time.perf_counter()
            tutor_id = str(p.tutors.id[t])
            row: dict[str, Any] = {
                "uai": uai,
                "tutor_id": tutor_id,
                "mode": MODE_NAMES[int(mode)],
                "distance_km": d if math.isfinite(d) else math.nan,
                "priority_delta": math.nan,
                "cost_delta_km": math.nan,
                "cost_delta_eur": math.nan,
                "status": "not_solved",
                "method": "re-solve",
            }
            if left > 0:
                with status_only():
                    forced = solve(with_fixed_pair(p, tutor_id, uai), time_limit=left, **keywords)
                row["status"] = forced.status.value
                if forced.status.has_solution:
                    row["priority_delta"] = forced.covered_priority - plan.covered_priority + 0.0
                    row["cost_delta_km"] = float(forced.cost_km.sum()) - base_km
                    if in_euros:
                        row["cost_delta_eur"] = round(forced.objective - plan.objective, 2)
            found.append(row)
        # Solved rows by the objective's order (coverage first), then the rest.
        cost = "cost_delta_eur" if in_euros else "cost_delta_km"
        found.sort(
            key=lambda r: (
                math.isnan(r["priority_delta"]),
                -np.nan_to_num(r["priority_delta"]),
                np.nan_to_num(r[cost], nan=math.inf),
                r["tutor_id"],
            )
        )
        for rank, row in enumerate(found[:k], start=1):
            records.append(dict(row, rank=rank))
    return pd.DataFrame.from_records(records, columns=list(BACKUP_COLUMNS)).astype(
        {
            "rank": np.int64,
            "distance_km": float,
            "priority_delta": float,
            "cost_delta_km": float,
            "cost_delta_eur": float,
        }
    )
