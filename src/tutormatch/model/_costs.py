r"""The cost model: what a plan costs the académie a year, in euros, exact to the cent.

One implementation, used by the optimiser (``objective="euros"``) and by the
cost report (:func:`tutormatch.report.costs`), so that the euros minimised are
the euros printed.

Notes
-----
For each tutor *t* with at least one establishment, on-site pairs
:math:`O_t` and remote pairs :math:`R_t`:

- yearly km :math:`Y_t = \operatorname{round}(\sum_{p \in O_t} 2 v_p f d_p)`
  (visits, detour factor, distance), half up to ``km_decimals`` (whole km, as
  on a travel claim);
- travel: :math:`Y_t` laid on the mileage scale after the
  ``prior_service_km`` :math:`P_t` already driven this year, each km at the
  rate of its tranche, rounded to the cent;
- indemnity :math:`(|O_t| + |R_t|) \times` ``indemnity_eur``; remote
  :math:`|R_t| \times` ``remote_pair_cost_eur``;
- bonus :math:`\operatorname{round}(m \times \text{cia\_eur})`, left out
  (and counted) when ``cia_eur`` is unknown;
- recruitment: ``fixed_cost_eur`` of a *candidate* tutor (column, else the
  model's default); retained tutors pay none.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import pandas as pd

from tutormatch.errors import InputError
from tutormatch.model._fields import check_parameter
from tutormatch.model._money import round_cents, round_half_up, to_decimal
from tutormatch.model._scale import MileageScale, mileage_scale

if TYPE_CHECKING:
    from tutormatch.model._problem import Problem
    from tutormatch.model._tables import TutorTable

__all__ = [
    "BUDGET_TOLERANCE_EUR",
    "CostModel",
    "PlanCost",
    "TutorCost",
    "pair_yearly_km",
    "plan_cost",
    "prior_service_km",
    "tutor_cost",
]

#: A plan fits a budget when its cost exceeds it by less than half a cent: budgets and
#: reports count cents, and the optimisers' integer units round each pair by a hair.
BUDGET_TOLERANCE_EUR = 0.005

FloatArray = npt.NDArray[np.float64]

_PRIOR_COLUMN = "prior_service_km"


@dataclass(frozen=True, slots=True)
class CostModel:
    """The parameters of the yearly cost, shared by the optimiser and the reports.

    Amounts are exact: give them as ``int``, ``str`` or
    :class:`~decimal.Decimal` (a ``float`` is read through its shortest
    repr). They are stored as ``Decimal``.

    Parameters
    ----------
    indemnity_eur : Decimal, default 500
        Per tutored establishment and school year.
    bonus_multiplier : Decimal, default 3
        Bonus of a tutor with at least one establishment: this times their
        ``cia_eur`` (left out, and said, when unknown).
    remote_pair_cost_eur : Decimal, default 0
        Yearly cost of each remote pair.
    fixed_cost_eur : Decimal, default 0
        Yearly cost of recruiting a candidate (status ``candidate``) whose
        ``fixed_cost_eur`` cell is empty. Retained tutors pay none.
    default_vehicle_class : str, default "5cv"
        Scale class of tutors without ``vehicle_cv``.
    km_decimals : int, default 0
        A tutor's yearly km are rounded half up to this many decimals before
        the scale applies (0: whole km, as on a claim).
    detour_factor : float, optional
        Road km per great-circle km; default the problem's. Ignored with a
        distance matrix (its values are road km).
    scale : MileageScale, optional
        Default: the shipped State scale.

    Examples
    --------
    >>> from tutormatch.model import CostModel
    >>> CostModel(fixed_cost_eur=250).fixed_cost_eur
    Decimal('250')
    """

    indemnity_eur: Decimal | int | float | str = Decimal(500)
    bonus_multiplier: Decimal | int | float | str = Decimal(3)
    remote_pair_cost_eur: Decimal | int | float | str = Decimal(0)
    fixed_cost_eur: Decimal | int | float | str = Decimal(0)
    default_vehicle_class: str = "5cv"
    km_decimals: int = 0
    detour_factor: float | None = None
    scale: MileageScale = field(default_factory=mileage_scale, repr=False)

    def __post_init__(self) -> None:
        zero = Decimal(0)
        for name in ("indemnity_eur", "bonus_multiplier", "remote_pair_cost_eur", "fixed_cost_eur"):
            object.__setattr__(self, name, to_decimal(getattr(self, name), name, minimum=zero))
            check_parameter(name, getattr(self, name))
        if self.detour_factor is not None and not (
            math.isfinite(self.detour_factor) and self.detour_factor >= 1
        ):
            raise InputError(f"detour_factor must be a finite number >= 1; got {self.detour_factor!r}.")
        self.scale.vehicle_class(self.default_vehicle_class)  # raises with the valid keys
        if not isinstance(self.km_decimals, int) or not 0 <= self.km_decimals <= 3:
            raise InputError(f"km_decimals must be an integer from 0 to 3; got {self.km_decimals!r}.")

    def detour(self, problem: Problem) -> float:
        """Road km per distance unit of ``problem``: 1 with a matrix, else the detour factor."""
        if problem.distance_matrix is not None:
            return 1.0
        return float(self.detour_factor if self.detour_factor is not None else problem.detour_factor)

    def vehicle_class_keys(self, tutors: TutorTable) -> tuple[list[str], npt.NDArray[np.bool_]]:
        """Return each tutor's scale class and whether it was assumed (no ``vehicle_cv``)."""
        assumed = np.isnan(tutors.vehicle_cv)
        keys = [
            self.default_vehicle_class if a else self.scale.class_of_cv(float(cv)).key
            for cv, a in zip(tutors.vehicle_cv.tolist(), assumed.tolist(), strict=True)
        ]
        return keys, assumed

    def bonus_cents(self, tutors: TutorTable) -> npt.NDArray[np.int64]:
        """Bonus of each tutor if used, in cents; -1 where ``cia_eur`` is unknown."""
        multiplier = Decimal(self.bonus_multiplier)
        return np.array(
            [
                -1 if math.isnan(c) else round_cents(multiplier * Decimal(repr(c)))
                for c in tutors.cia_eur.tolist()
            ],
            dtype=np.int64,
        )

    def recruitment_cents(self, tutors: TutorTable) -> npt.NDArray[np.int64]:
        """Return the fixed cost of each tutor if used, in cents: 0 for retained tutors."""
        default = Decimal(self.fixed_cost_eur)
        return np.array(
            [
                0 if not cand else round_cents(default if math.isnan(f) else Decimal(repr(f)))
                for cand, f in zip(tutors.is_candidate.tolist(), tutors.fixed_cost_eur.tolist(), strict=True)
            ],
            dtype=np.int64,
        )

    def used_cents(self, tutors: TutorTable) -> npt.NDArray[np.int64]:
        """Return what a tutor costs once used, whatever their load: bonus (where known), recruitment."""
        return np.maximum(self.bonus_cents(tutors), 0) + self.recruitment_cents(tutors)


def prior_service_km(tutors: TutorTable) -> FloatArray:
    """Return each tutor's km already driven for the service this year (0 when not given).

    Read from the tutors' attribute ``prior_service_km`` when the table has
    one, else from the extra column of that name.

    Raises
    ------
    InputError
        If a value is not a number of km >= 0.
    """
    first_class = getattr(tutors, _PRIOR_COLUMN, None)
    if first_class is not None:
        return np.nan_to_num(np.asarray(first_class, dtype=np.float64))
    extra = tutors.extra
    column = next((c for c in extra.columns if str(c).strip().lower() == _PRIOR_COLUMN), None)
    if column is None:
        return np.zeros(len(tutors))
    raw = extra[column]
    text = raw.astype(str).str.strip().str.replace(",", ".", regex=False)
    blank = (
        raw.isna().to_numpy() | (text == "").to_numpy() | text.str.lower().isin(["nan", "<na>"]).to_numpy()
    )
    values = pd.to_numeric(text.where(~blank, "0"), errors="coerce").to_numpy(dtype=np.float64)
    bad = ~np.isfinite(values) | (values < 0)
    if bad.any():
        ids = ", ".join(str(i) for i in tutors.id[bad][:5])
        raise InputError(
            f"tutors: column {column!r} must hold km >= 0 (blank for 0); found "
            f"{raw[bad].iloc[0]!r} in {int(bad.sum())} rows (tutor_id {ids}). Correct these values.",
            table="tutors",
            column=str(column),
            values=list(raw[bad]),
        )
    return values


def pair_yearly_km(
    problem: Problem,
    establishment: npt.ArrayLike,
    onsite: npt.ArrayLike,
    distance_km: npt.ArrayLike,
    detour: float,
) -> FloatArray:
    """Yearly road km of each pair: ``2 x visits x distance x detour`` on-site, 0 remote."""
    e = np.asarray(establishment, dtype=np.int64)
    visits = problem.establishments.visits_per_year[e]
    road = np.asarray(distance_km, dtype=np.float64) * detour
    return np.asarray(np.where(np.asarray(onsite, dtype=bool), 2.0 * visits * np.nan_to_num(road), 0.0))


@dataclass(frozen=True, slots=True)
class TutorCost:
    """One used tutor's yearly cost, in cents."""

    yearly_km: Decimal
    km_by_tranche: tuple[Decimal, ...]
    vehicle_class: str
    vehicle_class_assumed: bool
    prior_km: float
    indemnity: int
    travel: int
    remote: int
    bonus: int | None
    fixed: int

    @property
    def total(self) -> int:
        """Indemnity + travel + remote + bonus (where known) + recruitment."""
        return self.indemnity + self.travel + self.remote + (self.bonus or 0) + self.fixed


def tutor_cost(
    model: CostModel,
    *,
    yearly_km_by_pair: Sequence[float],
    n_pairs: int,
    vehicle_class: str,
    assumed: bool,
    prior_km: float,
    bonus_cents: int,
    fixed_cents: int,
) -> TutorCost:
    """Cost one used tutor from their on-site pairs' yearly km and their number of pairs."""
    yearly_exact = Decimal(repr(math.fsum(yearly_km_by_pair)))
    yearly = round_half_up(yearly_exact, model.km_decimals)
    prior = Decimal(repr(float(prior_km)))
    n_remote = n_pairs - len(yearly_km_by_pair)
    km_by_tranche = model.scale.km_by_tranche(yearly, prior_km=prior)
    return TutorCost(
        yearly_km=yearly,
        km_by_tranche=km_by_tranche,
        vehicle_class=vehicle_class,
        vehicle_class_assumed=assumed,
        prior_km=float(prior_km),
        indemnity=round_cents(Decimal(model.indemnity_eur) * n_pairs),
        travel=model.scale.tranches_cost_cents(km_by_tranche, vehicle_class),
        remote=round_cents(Decimal(model.remote_pair_cost_eur) * n_remote),
        bonus=None if bonus_cents < 0 else bonus_cents,
        fixed=fixed_cents,
    )


@dataclass(frozen=True, slots=True)
class PlanCost:
    """A plan's yearly cost, per used tutor and in total, in cents.

    Attributes
    ----------
    tutors : dict of int to TutorCost
        By tutor row, used tutors only, in row order.
    """

    tutors: dict[int, TutorCost]

    def _sum(self, name: str) -> int:
        return sum(int(getattr(c, name) or 0) for c in self.tutors.values())

    @property
    def total_cents(self) -> int:
        """Everything, bonus where known."""
        return sum(c.total for c in self.tutors.values())

    @property
    def indemnity_cents(self) -> int:
        """Indemnities."""
        return self._sum("indemnity")

    @property
    def travel_cents(self) -> int:
        """Mileage by the scale."""
        return self._sum("travel")

    @property
    def remote_cents(self) -> int:
        """Remote pairs' cost."""
        return self._sum("remote")

    @property
    def bonus_cents(self) -> int:
        """Bonuses where known."""
        return self._sum("bonus")

    @property
    def fixed_cents(self) -> int:
        """Recruitment of the candidates used."""
        return self._sum("fixed")

    @property
    def n_bonus_missing(self) -> int:
        """Used tutors whose bonus is unknown (left out)."""
        return sum(c.bonus is None for c in self.tutors.values())


def plan_cost(
    problem: Problem,
    tutor: npt.ArrayLike,
    establishment: npt.ArrayLike,
    onsite: npt.ArrayLike,
    distance_km: npt.ArrayLike,
    model: CostModel,
) -> PlanCost:
    """Return the yearly cost of the pairs ``(tutor, establishment)`` of ``problem``.

    Examples
    --------
    >>> import numpy as np, tutormatch as tm
    >>> from tutormatch.model import CostModel, plan_cost
    >>> problem = tm.Problem.from_arrays(
    ...     np.array([[600.0, 400.0]]), visits_per_year=2, max_distance_km=1000
    ... )
    >>> plan = tm.solve(problem)
    >>> cost = plan_cost(problem, plan.tutor, plan.establishment, plan.onsite, plan.distance_km, CostModel())
    >>> cost.total_cents / 100  # 2 x 500 + 2000 x 0.32 + 2000 x 0.40
    2440.0
    """
    t = np.asarray(tutor, dtype=np.int64)
    near = np.asarray(onsite, dtype=bool)
    yearly = pair_yearly_km(problem, establishment, near, distance_km, model.detour(problem))
    tutors = problem.tutors
    keys, assumed = model.vehicle_class_keys(tutors)
    prior = prior_service_km(tutors)
    bonus = model.bonus_cents(tutors)
    fixed = model.recruitment_cents(tutors)
    # Group the pairs by tutor once (a stable sort keeps each tutor's pairs
    # in input order), rather than one pass over every pair per tutor.
    order = np.argsort(t, kind="stable")
    rows, starts, counts = np.unique(t[order], return_index=True, return_counts=True)
    # Python lists: a tutor has a few pairs, and slicing a list is cheaper than an array.
    km_sorted, near_sorted = yearly[order].tolist(), near[order].tolist()
    out: dict[int, TutorCost] = {}
    for row, first, n in zip(rows.tolist(), starts.tolist(), counts.tolist(), strict=True):
        last = first + n
        out[row] = tutor_cost(
            model,
            yearly_km_by_pair=[
                km for km, on in zip(km_sorted[first:last], near_sorted[first:last], strict=True) if on
            ],
            n_pairs=n,
            vehicle_class=keys[row],
            assumed=bool(assumed[row]),
            prior_km=float(prior[row]),
            bonus_cents=int(bonus[row]),
            fixed_cents=int(fixed[row]),
        )
    return PlanCost(out)
