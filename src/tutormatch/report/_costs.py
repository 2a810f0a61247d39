"""The costs report: indemnities, travel under the mileage scale, bonus, per tutor and in total."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from tutormatch.model._costs import prior_service_km, tutor_cost
from tutormatch.model._money import allocate_cents, cents_to_eur, round_cents
from tutormatch.report._options import ReportOptions
from tutormatch.report._pairs import pair_frame
from tutormatch.report._repr import frames_html

if TYPE_CHECKING:
    from tutormatch.solve._assignment import Assignment

__all__ = ["CostReport", "costs"]

_MONEY = ("indemnity_eur", "travel_eur", "remote_eur", "bonus_eur", "fixed_cost_eur", "total_eur")


@dataclass(frozen=True, eq=False)
class CostReport:
    """What a plan costs a year, per tutor, per pair and in total.

    All amounts are in euros, exact to the cent (see :func:`costs`, Notes).
    ``bonus_eur`` is ``nan`` where the tutor's ``cia_eur`` is unknown, and
    totals then leave it out and count the tutors concerned in
    ``n_bonus_missing``.

    Attributes
    ----------
    tutors : pandas.DataFrame
        One row per tutor with at least one establishment, by id:
        ``tutor_id, tutor_name, n_establishments, n_onsite, n_remote,
        vehicle_cv, vehicle_class, vehicle_class_assumed, prior_service_km,
        yearly_km, km_tranche_1 ... km_tranche_k, indemnity_eur, travel_eur,
        remote_eur, cia_eur, bonus_eur, total_eur, recruited, fixed_cost_eur``
        (``recruited``: a candidate the plan uses; ``fixed_cost_eur`` their
        recruitment cost).
    pairs : pandas.DataFrame
        One row per pair, the tutor's amounts shared among their pairs (for
        the splits): ``uai, departement, wave, kind, tutor_id, mode,
        yearly_km, indemnity_eur, travel_eur, remote_eur, bonus_eur,
        bonus_known, fixed_cost_eur, total_eur``.
    by_departement, by_wave : pandas.DataFrame
        The pairs summed by the tutored establishment's département and wave:
        ``n_establishments, n_onsite, n_remote, yearly_km, indemnity_eur,
        travel_eur, remote_eur, bonus_eur, n_establishments_bonus_missing``
        (whose tutor's bonus is not included), ``total_eur, fixed_cost_eur``.
    totals : pandas.DataFrame
        One row: ``n_tutors, n_establishments, n_onsite, n_remote, yearly_km,
        indemnity_eur, travel_eur, remote_eur, bonus_eur, n_bonus_missing,
        n_vehicle_class_assumed, total_eur, budget_eur, headroom_eur,
        fixed_cost_eur, n_recruited``.
    scale : pandas.DataFrame
        The mileage scale applied (rates per class and tranche).
    options : ReportOptions
        The parameters used.
    """

    tutors: pd.DataFrame
    pairs: pd.DataFrame
    by_departement: pd.DataFrame
    by_wave: pd.DataFrame
    totals: pd.DataFrame
    scale: pd.DataFrame
    options: ReportOptions

    @property
    def total_eur(self) -> float:
        """The total yearly cost (bonus included only where known)."""
        return float(self.totals["total_eur"].iloc[0])

    @property
    def n_bonus_missing(self) -> int:
        """Number of paid tutors whose bonus is not included (``cia_eur`` unknown)."""
        return int(self.totals["n_bonus_missing"].iloc[0])

    def frames(self) -> dict[str, pd.DataFrame]:
        """Return the tables by name, in reading order."""
        return {
            "totals": self.totals,
            "by_departement": self.by_departement,
            "by_wave": self.by_wave,
            "tutors": self.tutors,
            "pairs": self.pairs,
            "scale": self.scale,
        }

    def __repr__(self) -> str:
        missing = f", bonus not included for {self.n_bonus_missing} tutors" if self.n_bonus_missing else ""
        return (
            f"<CostReport: {len(self.tutors)} tutors, {len(self.pairs)} establishments, "
            f"total {self.total_eur:,.2f} EUR{missing}>"
        )

    def _repr_html_(self) -> str:
        return frames_html(repr(self), {"totals": self.totals, "by_departement": self.by_departement})


def costs(plan: Assignment, *, options: ReportOptions | None = None) -> CostReport:
    r"""Compute what a plan costs a year: indemnities, travel, bonus, per tutor and in total.

    Parameters
    ----------
    plan : Assignment
        A solved (:func:`tutormatch.solve`) or given (:func:`tutormatch.evaluate`) plan.
    options : ReportOptions, optional
        The cost model's parameters (indemnity, bonus multiplier, remote pair
        cost, budget, detour factor, default vehicle class, scale).

    Returns
    -------
    CostReport

    Raises
    ------
    InputError
        If the problem's distances are travel times (``distance_unit="min"``).

    Notes
    -----
    For each tutor *t* with at least one establishment, on-site pairs
    :math:`O_t` and remote pairs :math:`R_t`:

    1. road km of a pair :math:`d^{road}_p = f \, d_p`, the plan's distance
       times the detour factor *f* (1.3 by default; the matrix value itself
       when the problem has a distance matrix);
    2. yearly km :math:`Y_t = \operatorname{round}(\sum_{p \in O_t} 2 \,
       v_p \, d^{road}_p)`, *v* the visits per year, rounded half up to
       ``km_decimals`` (whole km by default) **before** the scale is applied;
    3. the yearly km are laid on the scale after the ``prior_service_km``
       already driven this year (column of the tutors table, 0 when absent):
       with tranche bounds :math:`0 = b_0 < b_1 < \dots < b_k = \infty`
       (2,000 and 10,000 km), the km in tranche *j* are
       :math:`y_j = \max(0, \min(P+Y_t, b_j) - \max(P, b_{j-1}))`;
    4. travel :math:`= \operatorname{round}(\sum_j y_j \, r_{c,j})` to the
       cent, half up, *r* the rates of the tutor's vehicle class *c*
       (from ``vehicle_cv``: 5 CV and less, 6-7 CV, 8 CV and more; the
       default class when missing). With whole km and rates in cents the
       sum is already exact and the rounding does nothing;
    5. indemnity :math:`= (|O_t| + |R_t|) \times` ``indemnity_eur``; remote
       cost :math:`= |R_t| \times` ``remote_pair_cost_eur``;
    6. bonus :math:`= \operatorname{round}(m \times \text{cia\_eur})` to the
       cent (*m* = 3), unknown when ``cia_eur`` is missing;
    7. recruitment: ``fixed_cost_eur`` of each *candidate* the plan uses
       (column of the tutors, else the option); retained tutors pay none;
    8. total = indemnity + travel + remote cost + bonus (where known) +
       recruitment.

    The formulas are those of :mod:`tutormatch.model._costs`, the one cost
    model that ``tm.solve(..., objective="euros")`` minimises too.

    Totals are exact sums of the per-tutor cents. For the splits by
    département and wave, each tutor's travel is shared among their on-site
    pairs in proportion to the pairs' yearly km, and their bonus equally
    among their pairs, to the cent by largest remainder (ties to the first
    UAI), so the splits add up to the totals exactly.

    Examples
    --------
    >>> import numpy as np, tutormatch as tm
    >>> problem = tm.Problem.from_arrays(
    ...     np.array([[600.0, 400.0]]), visits_per_year=2, max_distance_km=1000
    ... )
    >>> report = tm.report.costs(tm.solve(problem))
    >>> report.tutors[["yearly_km", "km_tranche_1", "km_tranche_2", "travel_eur"]].iloc[0].tolist()
    [4000.0, 2000.0, 2000.0, 1440.0]
    >>> report.total_eur  # 2 x 500 + 2000 x 0.32 + 2000 x 0.40 (bonus unknown: left out)
    2440.0
    """
    options = options or ReportOptions.for_plan(plan)
    model = options.cost_model
    scale = options.scale
    p = plan.problem
    tut = p.tutors
    pairs = pair_frame(plan, options)
    n_t = p.n_tutors
    t_row = pairs["tutor_row"].to_numpy()
    onsite = (pairs["mode"] == "onsite").to_numpy()
    load = np.bincount(t_row, minlength=n_t)
    n_onsite = np.bincount(t_row[onsite], minlength=n_t)
    prior = prior_service_km(tut)
    keys, assumed_class = model.vehicle_class_keys(tut)
    bonus_if_used = model.bonus_cents(tut)
    fixed_if_used = model.recruitment_cents(tut)
    used = np.flatnonzero(load > 0)

    rows: list[dict[str, Any]] = []
    travel_cents = np.zeros(n_t, dtype=np.int64)
    bonus_cents = np.full(n_t, -1, dtype=np.int64)  # -1: unknown
    fixed_cents = np.zeros(n_t, dtype=np.int64)
    yearly_by_pair = pairs["yearly_km"].to_numpy()
    for t in used.tolist():
        mine = t_row == t
        cost = tutor_cost(
            model,
            yearly_km_by_pair=yearly_by_pair[mine & onsite].tolist(),
            n_pairs=int(load[t]),
            vehicle_class=keys[t],
            assumed=bool(assumed_class[t]),
            prior_km=float(prior[t]),
            bonus_cents=int(bonus_if_used[t]),
            fixed_cents=int(fixed_if_used[t]),
        )
        cv = float(tut.vehicle_cv[t])
        travel_cents[t] = cost.travel
        fixed_cents[t] = cost.fixed
        if cost.bonus is not None:
            bonus_cents[t] = cost.bonus
        row: dict[str, Any] = {
            "tutor_id": tut.id[t],
            "tutor_name": tut.name[t],
            "n_establishments": int(load[t]),
            "n_onsite": int(n_onsite[t]),
            "n_remote": int(load[t] - n_onsite[t]),
            "vehicle_cv": cv,
            "vehicle_class": cost.vehicle_class,
            "vehicle_class_assumed": cost.vehicle_class_assumed,
            "prior_service_km": float(prior[t]),
            "yearly_km": float(cost.yearly_km),
        }
        for k, value in enumerate(cost.km_by_tranche, start=1):
            row[f"km_tranche_{k}"] = float(value)
        row.update(
            indemnity_eur=cents_to_eur(cost.indemnity),
            travel_eur=cents_to_eur(cost.travel),
            remote_eur=cents_to_eur(cost.remote),
            cia_eur=float(tut.cia_eur[t]),
            bonus_eur=math.nan if cost.bonus is None else cents_to_eur(cost.bonus),
            total_eur=cents_to_eur(cost.total),
            recruited=bool(tut.is_candidate[t]),
            fixed_cost_eur=cents_to_eur(cost.fixed),
        )
        rows.append(row)
    tutor_columns = [
        "tutor_id", "tutor_name", "n_establishments", "n_onsite", "n_remote", "vehicle_cv",
        "vehicle_class", "vehicle_class_assumed", "prior_service_km", "yearly_km",
        *(f"km_tranche_{k}" for k in range(1, scale.n_tranches + 1)),
        "indemnity_eur", "travel_eur", "remote_eur", "cia_eur", "bonus_eur", "total_eur",
        "recruited", "fixed_cost_eur",
    ]  # fmt: skip
    per_tutor = pd.DataFrame(rows, columns=tutor_columns)
    per_pair = _pair_costs(pairs, travel_cents, bonus_cents, fixed_cents, options)
    totals = _totals(per_tutor, options)
    return CostReport(
        tutors=per_tutor,
        pairs=per_pair,
        by_departement=_split(per_pair, "departement"),
        by_wave=_split(per_pair, "wave"),
        totals=totals,
        scale=scale.to_frame(),
        options=options,
    )


def _pair_costs(
    pairs: pd.DataFrame,
    travel_cents: np.ndarray,
    bonus_cents: np.ndarray,
    fixed_cents: np.ndarray,
    options: ReportOptions,
) -> pd.DataFrame:
    """Share each tutor's travel and bonus among their pairs, in exact cents."""
    n = len(pairs)
    travel = np.zeros(n, dtype=np.int64)
    bonus = np.zeros(n, dtype=np.int64)
    fixed = np.zeros(n, dtype=np.int64)
    t_row = pairs["tutor_row"].to_numpy()
    onsite = (pairs["mode"] == "onsite").to_numpy()
    yearly = pairs["yearly_km"].to_numpy()
    # Pairs are sorted by UAI, so "ties to the first" means to the first UAI.
    for t in np.unique(t_row).tolist():
        mine = np.flatnonzero(t_row == t)
        near = mine[onsite[mine]]
        if len(near):
            travel[near] = allocate_cents(int(travel_cents[t]), yearly[near].tolist())
        if bonus_cents[t] >= 0:
            bonus[mine] = allocate_cents(int(bonus_cents[t]), [1.0] * len(mine))
        if fixed_cents[t]:
            fixed[mine] = allocate_cents(int(fixed_cents[t]), [1.0] * len(mine))
    indemnity = round_cents(options.indemnity)
    remote = np.where(onsite, 0, round_cents(options.remote_cost)).astype(np.int64)
    known = bonus_cents[t_row] >= 0
    total = indemnity + travel + remote + bonus + fixed
    return pd.DataFrame(
        {
            "uai": pairs["uai"],
            "departement": pairs["departement"],
            "wave": pairs["wave"],
            "kind": pairs["kind"],
            "tutor_id": pairs["tutor_id"],
            "mode": pairs["mode"],
            "yearly_km": yearly,
            "indemnity_eur": np.full(n, cents_to_eur(indemnity)),
            "travel_eur": travel / 100,
            "remote_eur": remote / 100,
            "bonus_eur": np.where(known, bonus / 100, np.nan),
            "bonus_known": known,
            "fixed_cost_eur": fixed / 100,
            "total_eur": total / 100,
        }
    )


def _cents(series: pd.Series) -> int:
    """Sum euro amounts exactly, as cents (each value is a whole number of cents)."""
    values = series.to_numpy(dtype=np.float64)
    return int(np.rint(np.nan_to_num(values) * 100).astype(np.int64).sum())


def _split(pairs: pd.DataFrame, key: str) -> pd.DataFrame:
    rows = []
    for value, group in pairs.groupby(key, dropna=False, sort=True):
        row: dict[str, Any] = {key: value}
        row["n_establishments"] = len(group)
        row["n_onsite"] = int((group["mode"] == "onsite").sum())
        row["n_remote"] = int((group["mode"] == "remote").sum())
        row["yearly_km"] = math.fsum(group["yearly_km"].tolist())
        for name in _MONEY:
            row[name] = cents_to_eur(_cents(group[name]))
        row["n_establishments_bonus_missing"] = int((~group["bonus_known"]).sum())
        if not group["bonus_known"].any():
            row["bonus_eur"] = math.nan
        rows.append(row)
    money = [m for m in _MONEY[:-1] if m != "fixed_cost_eur"]
    columns = [key, "n_establishments", "n_onsite", "n_remote", "yearly_km", *money]
    frame = pd.DataFrame(
        rows, columns=[*columns, "n_establishments_bonus_missing", "total_eur", "fixed_cost_eur"]
    )
    if key == "wave" and pairs["wave"].dtype != object:  # month waves are "2025-09" text
        frame["wave"] = frame["wave"].astype("Int64")
    return frame.reset_index(drop=True)


def _totals(per_tutor: pd.DataFrame, options: ReportOptions) -> pd.DataFrame:
    total = _cents(per_tutor["total_eur"])
    budget = options.budget
    budget_cents = None if budget is None else round_cents(budget)
    row = {
        "n_tutors": len(per_tutor),
        "n_establishments": int(per_tutor["n_establishments"].sum()),
        "n_onsite": int(per_tutor["n_onsite"].sum()),
        "n_remote": int(per_tutor["n_remote"].sum()),
        "yearly_km": float(math.fsum(per_tutor["yearly_km"].tolist())),
        "indemnity_eur": cents_to_eur(_cents(per_tutor["indemnity_eur"])),
        "travel_eur": cents_to_eur(_cents(per_tutor["travel_eur"])),
        "remote_eur": cents_to_eur(_cents(per_tutor["remote_eur"])),
        "bonus_eur": (
            cents_to_eur(_cents(per_tutor["bonus_eur"])) if per_tutor["bonus_eur"].notna().any() else math.nan
        ),
        "n_bonus_missing": int(per_tutor["bonus_eur"].isna().sum()),
        "n_vehicle_class_assumed": int(per_tutor["vehicle_class_assumed"].sum()),
        "total_eur": cents_to_eur(total),
        "budget_eur": math.nan if budget_cents is None else cents_to_eur(budget_cents),
        "headroom_eur": math.nan if budget_cents is None else cents_to_eur(budget_cents - total),
        "fixed_cost_eur": cents_to_eur(_cents(per_tutor["fixed_cost_eur"])),
        "n_recruited": int(per_tutor["recruited"].sum()),
    }
    return pd.DataFrame([row])
