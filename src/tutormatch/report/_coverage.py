"""The coverage report: who is tutored and who is not, by département, wave, kind and priority."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from tutormatch.model._eligibility import MODE_ONSITE, MODE_REMOTE
from tutormatch.report._options import ReportOptions
from tutormatch.report._pairs import wave_column
from tutormatch.report._repr import frames_html

if TYPE_CHECKING:
    from tutormatch.solve._assignment import Assignment

__all__ = ["CoverageReport", "coverage"]

_COUNTS = [
    "n_establishments", "n_covered", "n_onsite", "n_remote", "n_uncovered",
    "share_covered", "priority_total", "priority_covered",
]  # fmt: skip


@dataclass(frozen=True, eq=False)
class CoverageReport:
    """Which establishments a plan covers, grouped, and why the others are not.

    Every group table has the key column then ``n_establishments,
    n_covered, n_onsite, n_remote, n_uncovered, share_covered,
    priority_total, priority_covered``.

    Attributes
    ----------
    totals : pandas.DataFrame
        One row, all establishments.
    by_departement, by_wave, by_kind, by_priority : pandas.DataFrame
        Grouped by the establishment's département (from its UAI), wave,
        kind and priority; unknown values form their own group (empty text
        or ``<NA>``).
    uncovered : pandas.DataFrame
        One row per uncovered establishment, by UAI: ``uai,
        establishment_name, departement, wave, kind, priority, reason_code,
        reason``.
    """

    totals: pd.DataFrame
    by_departement: pd.DataFrame
    by_wave: pd.DataFrame
    by_kind: pd.DataFrame
    by_priority: pd.DataFrame
    uncovered: pd.DataFrame

    def frames(self) -> dict[str, pd.DataFrame]:
        """Return the tables by name, in reading order."""
        return {
            "totals": self.totals,
            "by_departement": self.by_departement,
            "by_wave": self.by_wave,
            "by_kind": self.by_kind,
            "by_priority": self.by_priority,
            "uncovered": self.uncovered,
        }

    def __repr__(self) -> str:
        t = self.totals.iloc[0]
        return (
            f"<CoverageReport: {int(t['n_covered'])}/{int(t['n_establishments'])} establishments "
            f"covered ({int(t['n_remote'])} remote), {int(t['n_uncovered'])} uncovered>"
        )

    def _repr_html_(self) -> str:
        return frames_html(repr(self), {"by_departement": self.by_departement, "uncovered": self.uncovered})


def _groups(frame: pd.DataFrame, key: str | None) -> pd.DataFrame:
    grouped = frame.assign(_all="") if key is None else frame
    by = "_all" if key is None else key
    out = (
        grouped.groupby(by, dropna=False, sort=True)
        .agg(
            n_establishments=("covered", "size"),
            n_covered=("covered", "sum"),
            n_onsite=("onsite", "sum"),
            n_remote=("remote", "sum"),
            priority_total=("priority", "sum"),
            priority_covered=("priority_covered", "sum"),
        )
        .reset_index()
    )
    for name in ("n_establishments", "n_covered", "n_onsite", "n_remote"):
        out[name] = out[name].astype(np.int64)
    out["n_uncovered"] = out["n_establishments"] - out["n_covered"]
    out["share_covered"] = out["n_covered"] / out["n_establishments"]
    out = out[[by, *_COUNTS]]
    return out.drop(columns="_all") if key is None else out


def coverage(plan: Assignment, *, options: ReportOptions | None = None) -> CoverageReport:
    """Count covered and uncovered establishments, by département, wave, kind and priority.

    Parameters
    ----------
    plan : Assignment
    options : ReportOptions, optional
        Not used by the figures; accepted for symmetry with :func:`costs`.

    Returns
    -------
    CoverageReport

    Examples
    --------
    >>> import numpy as np, tutormatch as tm
    >>> problem = tm.Problem.from_arrays(
    ...     np.array([[1.0, np.nan, 2.0]]), capacity=1, priority=[1, 3, 2], allow_remote=False
    ... )
    >>> report = tm.report.coverage(tm.solve(problem))
    >>> report.uncovered[["uai", "reason_code"]].to_numpy().tolist()  # E0002 has the priority
    [['E0000', 'tutors_full'], ['E0001', 'no_eligible_tutor']]
    """
    del options  # every figure is a count; nothing to parametrise
    p = plan.problem
    est = p.establishments
    n = p.n_establishments
    mode = np.full(n, -1, dtype=np.int64)
    mode[plan.establishment] = plan.mode
    frame = pd.DataFrame(
        {
            "departement": pd.Series(est.departement, dtype=object),
            "wave": wave_column(est.wave, is_date=est.wave_is_date),
            "kind": pd.Series(est.kind, dtype=object),
            "priority": est.priority,
            "covered": mode >= 0,
            "onsite": mode == MODE_ONSITE,
            "remote": mode == MODE_REMOTE,
        }
    )
    frame["priority_covered"] = np.where(frame["covered"], frame["priority"], 0.0)
    u = np.asarray(plan.uncovered_establishment)
    uncovered = pd.DataFrame(
        {
            "uai": pd.Series(est.id[u], dtype=object),
            "establishment_name": pd.Series(est.name[u], dtype=object),
            "departement": pd.Series(est.departement[u], dtype=object),
            "wave": wave_column(est.wave[u], is_date=est.wave_is_date),
            "kind": pd.Series(est.kind[u], dtype=object),
            "priority": est.priority[u],
            "reason_code": pd.Series(plan.uncovered_reason, dtype=object),
            "reason": pd.Series(plan.uncovered_detail, dtype=object),
        }
    )
    return CoverageReport(
        totals=_groups(frame, None),
        by_departement=_groups(frame, "departement"),
        by_wave=_groups(frame, "wave"),
        by_kind=_groups(frame, "kind"),
        by_priority=_groups(frame, "priority"),
        uncovered=uncovered.sort_values("uai", kind="stable").reset_index(drop=True),
    )
