"""The pairs of a plan with everything the reports need: distances, road km, yearly km."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from tutormatch.errors import InputError
from tutormatch.geo._distance import haversine_km
from tutormatch.model._eligibility import MODE_NAMES, MODE_ONSITE
from tutormatch.model._waves import format_wave

if TYPE_CHECKING:
    from tutormatch.report._options import ReportOptions
    from tutormatch.solve._assignment import Assignment

__all__ = ["detour_factor", "pair_frame", "wave_column"]


def detour_factor(plan: Assignment, options: ReportOptions) -> float:
    """Return the road km per distance unit: 1 with a user matrix, else the detour factor."""
    if plan.problem.distance_matrix is not None:
        return 1.0
    return float(options.detour_factor if options.detour_factor is not None else plan.problem.detour_factor)


def wave_column(values: np.ndarray, *, is_date: bool) -> pd.Series:
    """Return waves as people read them: months as ``2025-09`` text, numbers as nullable integers.

    Unknown waves are ``<NA>`` (``None`` among months). Month waves are stored as months since year 0
    (:mod:`tutormatch.model._waves`); shown raw they would read ``24308``.
    """
    if is_date:
        return pd.Series(
            [None if np.isnan(v) else format_wave(float(v), is_date=True) for v in values.tolist()],
            dtype=object,
        )
    return pd.Series(pd.array(np.where(np.isnan(values), np.nan, values), dtype="Float64")).astype("Int64")


def pair_frame(plan: Assignment, options: ReportOptions) -> pd.DataFrame:
    """Return one row per pair, sorted by UAI.

    Columns: ``uai, establishment_name, departement, wave, kind, priority,
    tutor_id, tutor_name, mode, great_circle_km, road_km, visits_per_year,
    yearly_km`` and the row indices ``tutor_row, establishment_row``.
    ``road_km`` is the plan's distance times the detour factor (the matrix
    value when the problem has one); ``yearly_km = 2 x visits x road_km`` for
    on-site pairs, 0 for remote ones. ``great_circle_km`` is ``nan`` when
    coordinates are unknown.

    Raises
    ------
    InputError
        When the problem's distances are not km (a matrix of travel times).
    """
    p = plan.problem
    if p.distance_unit != "km":
        raise InputError(
            f"The reports count km and euros, but this problem's distances are in "
            f"{p.distance_unit!r}. Cost the plan on a matrix of road km: "
            "tm.report.costs(tm.evaluate(tm.Problem.from_arrays(road_km, ...), plan.pairs))."
        )
    t, e = np.asarray(plan.tutor), np.asarray(plan.establishment)
    est, tut = p.establishments, p.tutors
    onsite = np.asarray(plan.mode) == MODE_ONSITE
    distance = np.asarray(plan.distance_km, dtype=np.float64)
    if p.distance_matrix is None:
        great_circle = distance.copy()
    else:
        great_circle = haversine_km(tut.lon[t], tut.lat[t], est.lon[e], est.lat[e])
    road = distance * detour_factor(plan, options)
    visits = est.visits_per_year[e]
    yearly = np.where(onsite, 2.0 * visits * np.nan_to_num(road), 0.0)
    return pd.DataFrame(
        {
            "uai": pd.Series(est.id[e], dtype=object),
            "establishment_name": pd.Series(est.name[e], dtype=object),
            "departement": pd.Series(est.departement[e], dtype=object),
            "wave": wave_column(est.wave[e], is_date=est.wave_is_date),
            "kind": pd.Series(est.kind[e], dtype=object),
            "priority": est.priority[e],
            "tutor_id": pd.Series(tut.id[t], dtype=object),
            "tutor_name": pd.Series(tut.name[t], dtype=object),
            "mode": pd.Series([MODE_NAMES[int(m)] for m in plan.mode], dtype=object),
            "great_circle_km": great_circle,
            "road_km": road,
            "visits_per_year": visits,
            "yearly_km": yearly,
            "tutor_row": t.astype(np.int64),
            "establishment_row": e.astype(np.int64),
        }
    )
