"""Euros of a rollout per school year (indemnities, remote, bonus) and per calendar year (travel).

One implementation of the money: each period's pairs are handed to
:func:`tutormatch.evaluate` and :func:`tutormatch.report.costs`, the reports'
own cost model. Two periods, because the rules count two ways:

- a mission letter, and with it the indemnity per establishment, the remote
  pair cost and the bonus, runs for one **school year**: a pair counts in
  every school year its support touches;
- the mileage scale counts km driven **from 1 January**: a calendar year's
  travel is laid on the scale as a whole, per tutor. Visits are taken as
  spread evenly over the support period, so a pair running *m* months of a
  calendar year drives ``m / 12`` of its yearly km in it (the one
  approximation: the real visit dates are unknown).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from tutormatch.waves._subproblem import restrict

if TYPE_CHECKING:
    from tutormatch.waves._plan import WavePlan

__all__ = ["period_costs"]


def _period_report(plan: WavePlan, running: np.ndarray, share: np.ndarray | None, options: Any) -> Any:
    import tutormatch as tm

    problem = plan.problem
    tutor, establishment, _, _ = plan.pair_arrays
    tutor, establishment = tutor[running], establishment[running]
    order = np.argsort(establishment, kind="stable")
    tutor, establishment = tutor[order], establishment[order]
    visits = None
    if share is not None:
        visits = problem.establishments.visits_per_year[establishment] * share[running][order]
    # Over a period a tutor may hold more pairs than a school year's capacity
    # (two school years in one calendar year): capacities are lifted here,
    # they were enforced when planning.
    counts = np.bincount(tutor, minlength=problem.n_tutors)
    capacity = np.maximum(problem.tutors.capacity, counts)
    sub = restrict(problem, establishment, capacity=capacity, visits=visits, keep_fixed=False)
    pairs = pd.DataFrame(
        {"tutor_id": problem.tutors.id[tutor], "uai": problem.establishments.id[establishment]}
    )
    given = tm.evaluate(sub, pairs, name="rollout pairs")
    if options is None and plan.waves:
        # Price the periods as the waves were solved (their cost model).
        options = tm.report.ReportOptions.for_plan(plan.waves[0].plan)
    return given, tm.report.costs(given, options=options)


def period_costs(plan: WavePlan, *, options: Any = None) -> pd.DataFrame:
    """See :meth:`WavePlan.school_years`."""
    cal = plan.calendar
    _, _, start, _ = plan.pair_arrays
    rows: list[dict[str, Any]] = []
    if not len(start):
        return pd.DataFrame(rows)
    first, last = int(start.min()), int(start.max()) + cal.support_months - 1
    e_wave = plan.problem.establishments.wave
    lost = np.concatenate([w.establishments[w.plan.uncovered_establishment] for w in plan.waves])
    lost_start = e_wave[lost].astype(np.int64)
    for year in range(cal.school_year(first), cal.school_year(last) + 1):
        running = cal.months_in_school_year(start, year) > 0
        n_uncovered = int((cal.months_in_school_year(lost_start, year) > 0).sum())
        given, report = _period_report(plan, running, None, options)
        totals = report.totals.iloc[0]
        loads = given.loads
        rows.append(
            {
                "period": "school_year",
                "school_year": cal.school_year_label(year),
                "year": np.nan,
                "n_establishments": int(running.sum()),
                "n_uncovered": n_uncovered,
                "n_tutors_active": int((loads > 0).sum()),
                "max_load": int(loads.max(initial=0)),
                "indemnity_eur": float(totals["indemnity_eur"]),
                "remote_eur": float(totals["remote_eur"]),
                "bonus_eur": float(totals["bonus_eur"]),
                "n_bonus_missing": int(totals["n_bonus_missing"]),
                "yearly_km": np.nan,
                "travel_eur": np.nan,
            }
        )
    for year in range(first // 12, last // 12 + 1):
        months = cal.months_in_year(start, year)
        running = months > 0
        given, report = _period_report(plan, running, months / 12.0, options)
        totals = report.totals.iloc[0]
        rows.append(
            {
                "period": "calendar_year",
                "school_year": "",
                "year": year,
                "n_establishments": int(running.sum()),
                "n_uncovered": np.nan,
                "n_tutors_active": int((given.loads > 0).sum()),
                "max_load": np.nan,
                "indemnity_eur": np.nan,
                "remote_eur": np.nan,
                "bonus_eur": np.nan,
                "n_bonus_missing": np.nan,
                "yearly_km": float(totals["yearly_km"]),
                "travel_eur": float(totals["travel_eur"]),
            }
        )
    frame = pd.DataFrame(rows)
    frame["year"] = frame["year"].astype("Int64")
    return frame
