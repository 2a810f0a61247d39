"""Compare scenarios: one row of headline figures per scenario, the same figures as the reports."""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import pandas as pd

from tutormatch.scenarios._scenario import Scenario, check_names

if TYPE_CHECKING:
    from tutormatch.model import Problem
    from tutormatch.report import ReportOptions
    from tutormatch.solve import Assignment

__all__ = ["COLUMNS", "compare", "scenario_row"]

#: The comparison's columns, in order (see :func:`compare`).
COLUMNS = (
    "scenario",
    "changes",
    "status",
    "solver",
    "gap",
    "solve_seconds",
    "seconds",
    "n_establishments",
    "n_covered",
    "n_remote",
    "n_uncovered",
    "coverage",
    "priority_coverage",
    "n_tutors",
    "n_tutors_used",
    "n_tutors_recruited",
    "total_distance_km",
    "max_distance_km",
    "yearly_km",
    "indemnity_eur",
    "travel_eur",
    "remote_eur",
    "bonus_eur",
    "total_eur",
    "error",
)
_MONEY = ("yearly_km", "indemnity_eur", "travel_eur", "remote_eur", "bonus_eur", "total_eur")
# Names the euros objective may give the count of recruited tutors.
_RECRUITED = ("n_tutors_recruited", "n_recruited")


def _plan_figures(plan: Assignment, options: ReportOptions | None) -> dict[str, Any]:
    from tutormatch.report import costs

    s = plan.summary()
    n_e, total_priority = s["n_establishments"], s["total_priority"]
    row: dict[str, Any] = {
        "status": s["status"],
        "solver": s["solver"],
        "gap": math.nan if s["gap"] is None else float(s["gap"]),
        "solve_seconds": plan.solve_seconds,
        "n_establishments": n_e,
        "n_tutors": s["n_tutors"],
    }
    if not plan.status.has_solution:
        return row
    recruited = next((getattr(plan, n) for n in _RECRUITED if hasattr(plan, n)), None)
    row.update(
        n_covered=s["n_covered"],
        n_remote=s["n_remote"],
        n_uncovered=s["n_uncovered"],
        coverage=s["n_covered"] / n_e if n_e else math.nan,
        priority_coverage=s["covered_priority"] / total_priority if total_priority else math.nan,
        n_tutors_used=s["n_tutors_used"],
        n_tutors_recruited=math.nan if recruited is None else recruited,
        total_distance_km=s["total_distance_km"],
        max_distance_km=s["max_distance_km"],
    )
    # The reports need km; with a matrix of minutes the money stays blank.
    if plan.problem.distance_unit == "km":
        totals = costs(plan, options=options).totals.iloc[0]
        row.update({name: float(totals[name]) for name in _MONEY})
    return row


def scenario_row(
    scenario: Scenario, *, problem: Problem | None = None, report_options: ReportOptions | None = None
) -> dict[str, Any]:
    """Build, solve and measure one scenario; a failure becomes the row's ``error``.

    Parameters
    ----------
    scenario : Scenario
    problem : Problem, optional
        The base problem to use instead of ``scenario.problem`` (a worker's
        copy, shipped once; see :func:`sweep`).
    report_options : ReportOptions, optional
        The cost model (indemnity, bonus, remote pair cost...).

    Returns
    -------
    dict
        One value per name of :data:`COLUMNS`; ``nan`` where a figure does
        not apply (no plan, no cost in minutes).
    """
    import dataclasses

    started = time.perf_counter()
    row: dict[str, Any] = dict.fromkeys(COLUMNS, math.nan)
    row.update(scenario=scenario.name, changes=scenario.describe(), status="error", solver="", error="")
    try:
        if problem is not None:
            scenario = dataclasses.replace(scenario, problem=problem)
        plan = scenario.solve()
        row.update(_plan_figures(plan, report_options))
    except Exception as exc:  # one failed scenario must not stop the others: its row says why
        row["error"] = f"{type(exc).__name__}: {exc}"
    row["seconds"] = time.perf_counter() - started
    return row


def frame_of(rows: Iterable[dict[str, Any]]) -> pd.DataFrame:
    """Return rows of :func:`scenario_row` as the comparison DataFrame."""
    frame = pd.DataFrame(list(rows), columns=list(COLUMNS))
    for name in ("n_establishments", "n_covered", "n_remote", "n_uncovered", "n_tutors", "n_tutors_used"):
        frame[name] = frame[name].astype("Int64")
    if frame["n_tutors_recruited"].isna().all():
        frame = frame.drop(columns="n_tutors_recruited")
    return frame


def compare(scenarios: Iterable[Scenario], *, report_options: ReportOptions | None = None) -> pd.DataFrame:
    """Solve scenarios one after the other and compare them, one row each.

    Parameters
    ----------
    scenarios : iterable of Scenario
        With distinct names.
    report_options : ReportOptions, optional
        The cost model, as for :func:`tutormatch.report.costs`.

    Returns
    -------
    pandas.DataFrame
        One row per scenario, in the order given: ``scenario``, ``changes``
        (:meth:`Scenario.describe`), ``status,
        solver, gap, solve_seconds`` (the solver's), ``seconds`` (build, solve
        and reports); counts ``n_establishments, n_covered, n_remote,
        n_uncovered``; ``coverage`` (share of establishments covered) and
        ``priority_coverage`` (share of priority weight); ``n_tutors,
        n_tutors_used`` (and ``n_tutors_recruited`` when the solver reports
        it); ``total_distance_km, max_distance_km`` (on-site pairs,
        great-circle, as ``summary.json``); ``yearly_km`` and the euros
        ``indemnity_eur, travel_eur, remote_eur, bonus_eur, total_eur`` of
        :func:`tutormatch.report.costs`; ``error``: empty, or why the
        scenario has no figures (its ``status`` is then ``"error"``).

    Raises
    ------
    InputError
        If two scenarios share a name.

    See Also
    --------
    sweep : the same on a process pool or a Dask cluster.

    Examples
    --------
    >>> import tutormatch as tm
    >>> base = tm.example_problem()
    >>> table = tm.compare([tm.Scenario("60 km", base), tm.Scenario("40 km", base, max_distance_km=40)])
    >>> table[["scenario", "status", "n_covered"]].to_numpy().tolist()
    [['60 km', 'optimal', 491], ['40 km', 'optimal', 491]]
    """
    items = check_names(scenarios)
    return frame_of(scenario_row(s, report_options=report_options) for s in items)
