"""What changed between two plans of the same establishments: :func:`diff`."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from tutormatch.errors import InputError

if TYPE_CHECKING:
    from tutormatch.solve._assignment import Assignment

__all__ = ["DIFF_COLUMNS", "PlanDiff", "diff"]

#: Columns of :attr:`PlanDiff.table`.
DIFF_COLUMNS = (
    "uai",
    "change",
    "tutor_a",
    "tutor_b",
    "mode_a",
    "mode_b",
    "distance_km_a",
    "distance_km_b",
    "cost_km_a",
    "cost_km_b",
    "cost_delta_km",
)
#: Values of the ``change`` column.
CHANGES = ("kept", "changed", "added", "removed", "uncovered")


@dataclass(frozen=True)
class PlanDiff:
    """The pairs of two plans side by side (see :func:`diff`).

    Attributes
    ----------
    table : pandas.DataFrame
        One row per establishment, in UAI order (columns :data:`DIFF_COLUMNS`);
        ``change`` is ``kept`` (same tutor), ``changed`` (another tutor),
        ``added`` (tutored in b only), ``removed`` (in a only) or
        ``uncovered`` (in neither). Costs are yearly km-equivalent; a
        missing pair counts 0.
    totals : dict
        Per plan (``_a``, ``_b``): establishments covered, covered priority,
        objective (km-equivalent); and the count of each change.
    """

    table: pd.DataFrame = field(repr=False)
    totals: dict[str, Any]

    def counts(self) -> dict[str, int]:
        """Return the number of establishments of each kind of change."""
        return {c: int((self.table["change"] == c).sum()) for c in CHANGES}

    def __repr__(self) -> str:
        c = self.counts()
        t = self.totals
        return (
            f"<PlanDiff: {c['kept']} kept, {c['changed']} changed, {c['added']} added, "
            f"{c['removed']} removed; cost {t['objective_km_a']:.1f} -> {t['objective_km_b']:.1f} km>"
        )


def diff(plan_a: Assignment, plan_b: Assignment) -> PlanDiff:
    """Compare two plans of the same establishments, pair by pair.

    Parameters
    ----------
    plan_a, plan_b : Assignment
        Plans over the same establishments (the tutors may differ, e.g.
        after a withdrawal or an added tutor).

    Returns
    -------
    PlanDiff
        The pairs kept, changed, added and removed with the cost of each
        change, and the totals before and after.

    Raises
    ------
    InputError
        If the plans do not cover the same establishments.

    Examples
    --------
    >>> import tutormatch as tm
    >>> plan = tm.solve(tm.example_problem())
    >>> tm.diff(plan, plan).counts()["changed"]
    0
    """
    ids_a = plan_a.problem.establishments.id
    ids_b = plan_b.problem.establishments.id
    if len(ids_a) != len(ids_b) or not np.array_equal(ids_a, ids_b):
        raise InputError(
            "diff: the two plans must have the same establishments; "
            f"plan_a has {len(ids_a)}, plan_b {len(ids_b)}, "
            f"{len(set(ids_a.tolist()) ^ set(ids_b.tolist()))} UAI in only one of them."
        )
    a, b = _side(plan_a), _side(plan_b)
    table = pd.DataFrame({"uai": ids_a})
    for suffix, side in (("a", a), ("b", b)):
        for column in ("tutor", "mode", "distance_km", "cost_km"):
            table[f"{column}_{suffix}"] = side[column]
    has_a = table["tutor_a"].notna()
    has_b = table["tutor_b"].notna()
    change = np.select(
        [has_a & has_b & (table["tutor_a"] == table["tutor_b"]), has_a & has_b, has_b, has_a],
        ["kept", "changed", "added", "removed"],
        default="uncovered",
    )
    table.insert(1, "change", change)
    table["cost_delta_km"] = table["cost_km_b"].fillna(0.0) - table["cost_km_a"].fillna(0.0)
    table = table[list(DIFF_COLUMNS)]
    totals: dict[str, Any] = {}
    for suffix, plan in (("a", plan_a), ("b", plan_b)):
        totals[f"n_covered_{suffix}"] = plan.n_covered
        totals[f"covered_priority_{suffix}"] = plan.covered_priority
        totals[f"objective_km_{suffix}"] = plan.objective if math.isfinite(plan.objective) else math.nan
    totals["cost_delta_km"] = totals["objective_km_b"] - totals["objective_km_a"]
    totals.update({f"n_{c}": int((change == c).sum()) for c in CHANGES})
    return PlanDiff(table=table, totals=totals)


def _side(plan: Assignment) -> dict[str, Any]:
    from tutormatch.model._eligibility import MODE_NAMES

    n = plan.problem.n_establishments
    tutor = np.full(n, None, dtype=object)
    mode = np.full(n, None, dtype=object)
    distance = np.full(n, np.nan)
    cost = np.full(n, np.nan)
    tutor[plan.establishment] = plan.problem.tutors.id[plan.tutor]
    mode[plan.establishment] = [MODE_NAMES[int(m)] for m in plan.mode]
    distance[plan.establishment] = plan.distance_km
    cost[plan.establishment] = plan.cost_km
    return {"tutor": tutor, "mode": mode, "distance_km": distance, "cost_km": cost}
