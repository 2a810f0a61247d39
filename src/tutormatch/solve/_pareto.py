"""The exact Pareto front of the worst trip against a cost (ε-constraint on the thresholds)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from tutormatch.errors import InputError
from tutormatch.model._costs import CostModel
from tutormatch.model._problem import Problem
from tutormatch.solve._bottleneck import WorstTripSearch, restrict, same_priority
from tutormatch.solve._options import SolveOptions

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["pareto", "plot_pareto"]

_X = ("worst-trip",)
_Y = ("km", "euros")
COLUMNS = ("worst_trip_km", "km", "eur", "covered_priority", "n_remote", "threshold_km", "status")


def pareto(
    problem: Problem,
    *,
    x: str = "worst-trip",
    y: str = "euros",
    points: int | None = None,
    cost_model: CostModel | None = None,
    options: SolveOptions | None = None,
) -> pd.DataFrame:
    """Return the Pareto front of two criteria among plans that cover the most priority.

    The ε-constraint method on the worst trip: from the plan with the least
    ``y``, solve again with every on-site pair at least as long as its worst
    trip forbidden, until coverage would drop. Each solve is exact, so each
    point is the least ``y`` for a worst trip at most its own; a point whose
    ``y`` the next one matches is dominated and dropped. The result is the
    whole front (every trade-off there is), from the fairest plan to the
    cheapest.

    Parameters
    ----------
    problem : Problem
    x : {"worst-trip"}, default "worst-trip"
    y : {"euros", "km"}, default "euros"
    points : int, optional
        At most this many thresholds, evenly spread over the distinct pair
        distances between the fairest and the cheapest plan (both always
        included), instead of the whole front: each row is still an exact
        least ``y`` under its threshold (weakly Pareto-optimal), but
        trade-offs between the rows are not listed.
    cost_model : CostModel, optional
    options : SolveOptions, optional

    Returns
    -------
    pandas.DataFrame
        One row per point, by increasing worst trip: ``worst_trip_km, km``
        (km-equivalent objective), ``eur`` (the cost model's yearly euros),
        ``covered_priority, n_remote, threshold_km, status``.

    Raises
    ------
    InputError
        For criteria without an exact front, or ``points < 2``.

    Examples
    --------
    >>> import tutormatch as tm
    >>> front = tm.pareto(tm.example_problem(), y="km", points=3)
    >>> bool(front["worst_trip_km"].is_monotonic_increasing and front["km"].is_monotonic_decreasing)
    True
    """
    from tutormatch.solve._solve import solve

    if x not in _X:
        raise InputError(f"pareto: x must be one of {', '.join(map(repr, _X))}; got {x!r}.")
    if y not in _Y:
        raise InputError(f"pareto: y must be one of {', '.join(map(repr, _Y))}; got {y!r}.")
    if points is not None and (isinstance(points, bool) or not isinstance(points, int) or points < 2):
        raise InputError(f"pareto: points must be an integer >= 2 or None (the whole front); got {points!r}.")
    model = cost_model or CostModel()
    kwargs: dict[str, Any] = {"cost_model": model, "options": options}

    def run(p: Problem) -> Any:
        return solve(p, objective=y, **kwargs)

    cheapest = run(problem)
    if not cheapest.status.has_solution:
        return pd.DataFrame(columns=list(COLUMNS))
    search = WorstTripSearch.of(problem)
    thresholds = search.thresholds
    rows: list[dict[str, Any]] = []

    def add(plan: Any, threshold: float) -> None:
        rows.append(
            {
                "worst_trip_km": plan.max_distance_km,
                "km": float(plan.cost_km.sum()),
                "eur": plan.costs().total_cents / 100 if problem.distance_unit == "km" else math.nan,
                "covered_priority": plan.covered_priority,
                "n_remote": plan.n_remote,
                "threshold_km": threshold,
                "status": plan.status.value,
            }
        )

    def keeps(plan: Any) -> bool:
        return bool(plan.status.has_solution) and same_priority(
            plan.covered_priority, cheapest.covered_priority
        )

    add(cheapest, math.inf)
    # The fairest end first (the bottleneck search, fast): no threshold below it keeps the coverage.
    fair = solve(problem, objective=["coverage", "worst-trip", y], **kwargs)
    low = int(np.searchsorted(thresholds, fair.criteria[1]["optimum"])) if fair.criteria else 0
    if points is None:
        current = cheapest
        while True:
            below = int(
                np.searchsorted(thresholds, current.max_distance_km * (1 - 1e-12) - 1e-12, side="right")
            )
            if below - 1 < low:
                break
            threshold = float(thresholds[below - 1])
            plan = run(restrict(problem, threshold))
            if not keeps(plan):
                break  # coverage would drop (or, with a limit reached, is not proven kept)
            add(plan, threshold)
            current = plan
    else:
        high = int(np.searchsorted(thresholds, cheapest.max_distance_km))
        picks = np.unique(np.linspace(low, high, points).round().astype(int))[::-1]
        for i in picks[picks < high]:
            threshold = float(thresholds[i])
            plan = run(restrict(problem, threshold))
            if keeps(plan):
                add(plan, threshold)
    frame = pd.DataFrame(rows, columns=list(COLUMNS)).iloc[::-1].reset_index(drop=True)
    # Drop dominated points: the same y (to the cent or the metre) at a longer worst trip.
    value = frame["eur" if y == "euros" else "km"].to_numpy()
    tol = 0.005 if y == "euros" else 1e-3 * (problem.n_establishments + 1)
    keep = np.ones(len(frame), dtype=bool)
    for i in range(1, len(frame)):
        if value[i] >= value[:i][keep[:i]].min() - tol:
            keep[i] = False
    return frame[keep].reset_index(drop=True)


def plot_pareto(front: pd.DataFrame, *, y: str = "euros", ax: Axes | None = None) -> Axes:
    """Draw a front of :func:`pareto`: the worst trip across, the cost up, as a staircase.

    Parameters
    ----------
    front : pandas.DataFrame
        As :func:`pareto` returns it.
    y : {"euros", "km"}, default "euros"
        Which cost to draw.
    ax : matplotlib.axes.Axes, optional
        Where to draw (default: a new figure).

    Returns
    -------
    matplotlib.axes.Axes
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4.5))
    column = "eur" if y == "euros" else "km"
    ax.step(front["worst_trip_km"], front[column], where="post", color="0.6", linewidth=1)
    ax.plot(front["worst_trip_km"], front[column], "o", color="C0")
    ax.set_xlabel("worst on-site trip (km, one way)")
    ax.set_ylabel("yearly euros" if y == "euros" else "yearly km-equivalent")
    ax.set_title("Pareto front: fairness against cost, at full coverage")
    ax.grid(True, alpha=0.3)
    return ax
