"""The exact Pareto front of two criteria (ε-constraint on ``x``, exact ``y``).

The worst trip against km or euros walks the thresholds (the whole front,
fast flows); any other pair of criteria solves ``[coverage, x within ε, y]``
with the ordered-criteria engine at evenly spread ε.
"""

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
#: Points of a front between two criteria other than the worst trip and a cost, by default.
DEFAULT_POINTS = 6
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
    x, y : str, default "worst-trip" and "euros"
        Two different criteria of :data:`~tutormatch.solve.CRITERIA` other
        than coverage. The worst trip against ``"km"`` or ``"euros"`` gives
        the whole front by thresholds; any other pair solves
        ``[coverage, x within ε, y]`` exactly with the ordered-criteria
        engine (CP-SAT: each row's ``status`` says whether it was proven) at
        ``points`` values of ``x`` evenly spread from its best to its value
        in the plan of best ``y`` (default 6).
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
        ``covered_priority, n_remote, threshold_km, status``. For other
        pairs: ``x, y`` (the two criteria's values, named in
        ``frame.attrs["x"]`` and ``frame.attrs["y"]``), ``epsilon`` (the
        limit on ``x``), ``km, eur, covered_priority, n_remote, status``, from
        the best ``x`` to the best ``y``.

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
    from tutormatch.solve._criteria import CRITERIA
    from tutormatch.solve._solve import solve

    names = tuple(c for c in CRITERIA if c != "coverage")
    for axis, value in (("x", x), ("y", y)):
        if value not in names:
            raise InputError(f"pareto: {axis} must be one of {', '.join(map(repr, names))}; got {value!r}.")
    if x == y:
        raise InputError(f"pareto: x and y are both {x!r}; give two different criteria.")
    if points is not None and (isinstance(points, bool) or not isinstance(points, int) or points < 2):
        raise InputError(f"pareto: points must be an integer >= 2 or None (the whole front); got {points!r}.")
    model = cost_model or CostModel()
    kwargs: dict[str, Any] = {"cost_model": model, "options": options}
    if x not in _X or y not in _Y:
        return _front_by_engine(problem, x, y, points or DEFAULT_POINTS, kwargs)

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
    costs = frame["eur" if y == "euros" else "km"].to_numpy()
    tol = 0.005 if y == "euros" else 1e-3 * (problem.n_establishments + 1)
    keep = np.ones(len(frame), dtype=bool)
    for i in range(1, len(frame)):
        if costs[i] >= costs[:i][keep[:i]].min() - tol:
            keep[i] = False
    return frame[keep].reset_index(drop=True)


def _front_by_engine(problem: Problem, x: str, y: str, points: int, kwargs: dict[str, Any]) -> pd.DataFrame:
    """ε-constraint on ``x`` with the ordered-criteria engine: ``[coverage, x within ε, y]``."""
    from tutormatch.solve._criteria import Criterion
    from tutormatch.solve._fair import criterion_value
    from tutormatch.solve._solve import solve

    columns = ["x", "y", "epsilon", "km", "eur", "covered_priority", "n_remote", "status"]
    fair = solve(problem, objective=["coverage", x, y], **kwargs)
    if not fair.status.has_solution:
        frame = pd.DataFrame(columns=columns)
        frame.attrs.update(x=x, y=y)
        return frame
    cheap = solve(problem, objective=["coverage", y, x], **kwargs)
    best_x = criterion_value(fair, x)
    worst_x = criterion_value(cheap, x) if cheap.status.has_solution else best_x
    levels = np.unique(np.linspace(best_x, worst_x, points))
    if Criterion(x).is_maximised:
        levels = levels[::-1]
    rows: list[dict[str, Any]] = []
    for epsilon in levels.tolist():
        slack = abs(float(epsilon) - best_x)
        plan = (
            fair
            if slack == 0
            else solve(problem, objective=["coverage", Criterion(x, tolerance_abs=slack), y], **kwargs)
        )
        if not plan.status.has_solution:
            continue
        rows.append(
            {
                "x": criterion_value(plan, x),
                "y": criterion_value(plan, y),
                "epsilon": float(epsilon),
                "km": float(plan.cost_km.sum()),
                "eur": plan.costs().total_cents / 100 if problem.distance_unit == "km" else math.nan,
                "covered_priority": plan.covered_priority,
                "n_remote": plan.n_remote,
                "status": plan.status.value,
            }
        )
    frame = pd.DataFrame(rows, columns=columns)
    # Drop dominated points: a later row (looser ε) with no better y.
    y_max = Criterion(y).is_maximised
    keep = np.ones(len(frame), dtype=bool)
    values = frame["y"].to_numpy(dtype=float)
    for i in range(1, len(frame)):
        earlier = values[:i][keep[:i]]
        if len(earlier) and (
            values[i] <= earlier.max() + 1e-9 if y_max else values[i] >= earlier.min() - 1e-9
        ):
            keep[i] = False
    frame = frame[keep].reset_index(drop=True)
    frame.attrs.update(x=x, y=y)
    return frame


def plot_pareto(front: pd.DataFrame, *, y: str = "euros", ax: Axes | None = None) -> Axes:
    """Draw a front of :func:`pareto`: the worst trip across, the cost up, as a staircase.

    Parameters
    ----------
    front : pandas.DataFrame
        As :func:`pareto` returns it.
    y : {"euros", "km"}, default "euros"
        Which cost to draw (a front of two other criteria draws its ``x``
        and ``y`` columns).
    ax : matplotlib.axes.Axes, optional
        Where to draw (default: a new figure).

    Returns
    -------
    matplotlib.axes.Axes
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4.5))
    if "x" in front.columns:
        from tutormatch.solve._criteria import UNITS

        x_name, y_name = front.attrs.get("x", "x"), front.attrs.get("y", y)
        ax.step(front["x"], front["y"], where="post", color="0.6", linewidth=1)
        ax.plot(front["x"], front["y"], "o", color="C0")
        ax.set_xlabel(f"{x_name} ({UNITS.get(x_name, '')})")
        ax.set_ylabel(f"{y_name} ({UNITS.get(y_name, '')})")
        ax.set_title(f"Pareto front: {x_name} against {y_name}, at full coverage")
        ax.grid(True, alpha=0.3)
        return ax
    column = "eur" if y == "euros" else "km"
    ax.step(front["worst_trip_km"], front[column], where="post", color="0.6", linewidth=1)
    ax.plot(front["worst_trip_km"], front[column], "o", color="C0")
    ax.set_xlabel("worst on-site trip (km, one way)")
    ax.set_ylabel("yearly euros" if y == "euros" else "yearly km-equivalent")
    ax.set_title("Pareto front: fairness against cost, at full coverage")
    ax.grid(True, alpha=0.3)
    return ax
