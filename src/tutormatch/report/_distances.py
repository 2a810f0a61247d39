"""The distances report: per pair, per tutor, the distribution and the worst cases."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from tutormatch.report._options import ReportOptions
from tutormatch.report._pairs import pair_frame
from tutormatch.report._repr import frames_html

if TYPE_CHECKING:
    from tutormatch.solve._assignment import Assignment

__all__ = ["DistanceReport", "distances"]

_PAIR_COLUMNS = [
    "uai", "establishment_name", "departement", "tutor_id", "tutor_name", "mode",
    "great_circle_km", "road_km", "visits_per_year", "yearly_km",
]  # fmt: skip


@dataclass(frozen=True, eq=False)
class DistanceReport:
    """How far tutors travel: per pair, per tutor, the distribution and the longest pairs.

    Attributes
    ----------
    pairs : pandas.DataFrame
        One row per pair, by UAI: ``uai, establishment_name, departement,
        tutor_id, tutor_name, mode, great_circle_km, road_km,
        visits_per_year, yearly_km`` (``yearly_km = 2 x visits x road_km``
        on-site, 0 remote).
    tutors : pandas.DataFrame
        One row per tutor with at least one establishment: ``tutor_id,
        tutor_name, n_onsite, n_remote, road_km_total`` (one way),
        ``road_km_max, yearly_km``.
    distribution : pandas.DataFrame
        On-site pairs, one row per ``measure`` (``great_circle_km``,
        ``road_km``): ``n_pairs, mean_km, median_km, p90_km, max_km``.
    within : pandas.DataFrame
        One row per threshold: ``threshold_km, n_great_circle,
        share_great_circle, n_road, share_road`` (on-site pairs at most that
        far, and their share of all on-site pairs).
    longest : pandas.DataFrame
        The longest on-site pairs by road km, columns of :attr:`pairs`.
    """

    pairs: pd.DataFrame
    tutors: pd.DataFrame
    distribution: pd.DataFrame
    within: pd.DataFrame
    longest: pd.DataFrame

    def frames(self) -> dict[str, pd.DataFrame]:
        """Return the tables by name, in reading order."""
        return {
            "distribution": self.distribution,
            "within": self.within,
            "longest": self.longest,
            "tutors": self.tutors,
            "pairs": self.pairs,
        }

    def __repr__(self) -> str:
        road = self.distribution[self.distribution["measure"] == "road_km"].iloc[0].to_dict()
        return (
            f"<DistanceReport: {road['n_pairs']} on-site pairs, road km mean "
            f"{road['mean_km']:.1f}, median {road['median_km']:.1f}, max {road['max_km']:.1f}>"
        )

    def _repr_html_(self) -> str:
        return frames_html(repr(self), {"distribution": self.distribution, "within": self.within})


def _describe(values: np.ndarray) -> dict[str, float]:
    values = values[np.isfinite(values)]
    if not len(values):
        return {
            "n_pairs": 0,
            "mean_km": math.nan,
            "median_km": math.nan,
            "p90_km": math.nan,
            "max_km": math.nan,
        }
    return {
        "n_pairs": len(values),
        "mean_km": float(values.mean()),
        "median_km": float(np.median(values)),
        "p90_km": float(np.percentile(values, 90)),
        "max_km": float(values.max()),
    }


def distances(plan: Assignment, *, options: ReportOptions | None = None) -> DistanceReport:
    """Describe the distances of a plan's pairs.

    Parameters
    ----------
    plan : Assignment
    options : ReportOptions, optional
        Uses ``detour_factor``, ``distance_thresholds_km`` and ``n_longest``.

    Returns
    -------
    DistanceReport

    Notes
    -----
    Great-circle km are those of the plan (``nan`` when the problem was
    built from a distance matrix without coordinates); road km are
    great-circle km times the detour factor, or the matrix values. The
    distribution, the shares within the thresholds and the longest pairs are
    over on-site pairs only: remote pairs involve no travel. The 90th
    percentile interpolates linearly between ranks (NumPy's default).

    Examples
    --------
    >>> import numpy as np, tutormatch as tm
    >>> problem = tm.Problem.from_arrays(np.array([[10.0, 30.0]]))
    >>> report = tm.report.distances(tm.solve(problem))
    >>> report.within[["threshold_km", "n_road", "share_road"]].to_numpy().tolist()
    [[20.0, 1.0, 0.5], [40.0, 2.0, 1.0], [60.0, 2.0, 1.0]]
    """
    options = options or ReportOptions.for_plan(plan)
    pairs = pair_frame(plan, options)
    onsite = pairs["mode"] == "onsite"
    near = pairs[onsite]
    distribution = pd.DataFrame(
        [
            {"measure": name, **_describe(near[name].to_numpy(dtype=np.float64))}
            for name in ("great_circle_km", "road_km")
        ]
    )
    # Shares are of the on-site pairs whose distance is known.
    known_gc = int(near["great_circle_km"].notna().sum())
    known_road = int(near["road_km"].notna().sum())
    within_rows = []
    for threshold in options.distance_thresholds_km:
        n_gc = int((near["great_circle_km"] <= threshold).sum())
        n_road = int((near["road_km"] <= threshold).sum())
        within_rows.append(
            {
                "threshold_km": threshold,
                "n_great_circle": n_gc,
                "share_great_circle": n_gc / known_gc if known_gc else math.nan,
                "n_road": n_road,
                "share_road": n_road / known_road if known_road else math.nan,
            }
        )
    within = pd.DataFrame(
        within_rows, columns=["threshold_km", "n_great_circle", "share_great_circle", "n_road", "share_road"]
    )
    longest = (
        near.sort_values(["road_km", "uai"], ascending=[False, True], kind="stable")
        .head(options.n_longest)[_PAIR_COLUMNS]
        .reset_index(drop=True)
    )
    road_near = pairs["road_km"].where(onsite)
    per_tutor = (
        pairs.assign(is_onsite=onsite, is_remote=~onsite, road_onsite=road_near)
        .groupby("tutor_id", sort=True)
        .agg(
            tutor_name=("tutor_name", "first"),
            n_onsite=("is_onsite", "sum"),
            n_remote=("is_remote", "sum"),
            road_km_total=("road_onsite", "sum"),
            road_km_max=("road_onsite", "max"),
            yearly_km=("yearly_km", "sum"),
        )
        .reset_index()
    )
    per_tutor[["n_onsite", "n_remote"]] = per_tutor[["n_onsite", "n_remote"]].astype(np.int64)
    return DistanceReport(
        pairs=pairs[_PAIR_COLUMNS].reset_index(drop=True),
        tutors=per_tutor,
        distribution=distribution,
        within=within,
        longest=longest,
    )
