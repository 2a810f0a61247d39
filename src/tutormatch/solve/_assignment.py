"""The :class:`Assignment`: an immutable plan, with every establishment accounted for."""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from tutormatch.errors import InfeasibleError, SolveError
from tutormatch.model._costs import CostModel, PlanCost, plan_cost
from tutormatch.model._eligibility import MODE_NAMES, MODE_ONSITE, MODE_REMOTE
from tutormatch.model._problem import Problem
from tutormatch.solve._reasons import UncoveredReason
from tutormatch.solve._status import Status

__all__ = ["Assignment"]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True, repr=False, eq=False)
class Assignment:
    """A plan: who tutors whom, in which mode, and what it costs.

    Every establishment of the problem appears exactly once: in :attr:`pairs`
    or in :attr:`uncovered` with a reason. Rows are sorted by id, so the same
    problem gives the same tables. Arrays are read-only.

    Attributes
    ----------
    problem : Problem
    status : Status
    solver : str
        The backend that ran (``"flow"`` or ``"cpsat"``).
    message : str
        The backend's own words.
    tutor, establishment : ndarray of int
        Row indices of each chosen pair, sorted by establishment.
    mode : ndarray of int8
        0 on-site, 1 remote.
    distance_km : ndarray of float
        Distance of each pair (great-circle, or from the user's matrix).
    cost_km : ndarray of float
        Yearly cost of each pair in km-equivalent: on-site travel
        ``2 x visits x distance``, or the remote penalty.
    is_fixed : ndarray of bool
        Pair imposed by the user.
    uncovered_establishment : ndarray of int
    uncovered_reasons : tuple of UncoveredReason
        Why each uncovered establishment is uncovered: a code (see
        :data:`tutormatch.solve.REASONS`) and the facts of a sentence, in
        English or French (:attr:`uncovered_reason`, :meth:`uncovered_details`).
    objective : float
        The second criterion, minimised once the covered priority is
        maximal: total cost in km-equivalent (objective ``"km"``), or the
        yearly euros of the cost model, as the cost report prints them
        (``"euros"``, ``"tutors"``). ``nan`` without a plan.
    bound : float
        Proven lower bound on ``objective`` at this coverage (``nan`` when
        coverage itself is not proven maximal).
    gap : float
        Relative gap: on coverage when it is not proven maximal, else on cost.
        0 for a proven optimum.
    covered_priority : float
    priority_bound : float
        Proven upper bound on the priority any plan can cover.
    solve_seconds : float
        Wall-clock time of :func:`~tutormatch.solve`, model building included.
    stats : mapping
        Backend statistics (sizes, times, rounds).
    criteria : tuple of mapping
        With an ordered ``objective`` that has a fairness criterion: each
        criterion in order, ``{"name", "value", "tolerance_rel",
        "tolerance_abs"}`` (the worst trip also gives its ``optimum``; the
        ordered-criteria engine adds ``proven`` and, when not proven, the
        proven ``bound``).
    fairness : mapping or None
        The price of fairness: each fairness criterion's value with and
        without it (``worst_trip_km``/``worst_trip_without_km``,
        ``worst_year_km``/``worst_year_without_km``,
        ``full_loads``/``full_loads_without``,
        ``groups_split``/``groups_split_without``), ``price_of_fairness_km``
        and ``price_of_fairness_eur`` (this plan's km-equivalent and euros
        minus those of the plan without the fairness criteria; see
        ``docs/fairness.md``).
    objective_name : {"km", "euros", "tutors"}
        What was minimised once coverage was maximal (see
        :func:`~tutormatch.solve`). With ``"euros"`` and ``"tutors"``,
        :attr:`objective` and :attr:`bound` are euros a year.
    cost_model : CostModel or None
        The cost model the plan was solved and is costed with (the default
        model when None).
    budget_eur : float or None
        The budget the plan had to keep, if any.
    """

    problem: Problem
    status: Status
    solver: str
    message: str
    tutor: IntArray
    establishment: IntArray
    mode: npt.NDArray[np.int8]
    distance_km: FloatArray
    cost_km: FloatArray
    is_fixed: npt.NDArray[np.bool_]
    uncovered_establishment: IntArray
    uncovered_reasons: tuple[UncoveredReason, ...]
    objective: float
    bound: float
    gap: float
    covered_priority: float
    priority_bound: float
    solve_seconds: float
    stats: Mapping[str, Any] = field(default_factory=dict)
    objective_name: str = "km"
    cost_model: CostModel | None = None
    budget_eur: float | None = None
    criteria: tuple[Mapping[str, Any], ...] = ()
    fairness: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        for name in (
            "tutor",
            "establishment",
            "mode",
            "distance_km",
            "cost_km",
            "is_fixed",
            "uncovered_establishment",
        ):
            getattr(self, name).setflags(write=False)

    # -- why establishments are uncovered ----------------------------------

    @property
    def uncovered_reason(self) -> npt.NDArray[np.object_]:
        """Reason code of each uncovered establishment (see :data:`tutormatch.solve.REASONS`)."""
        return np.array([why.code for why in self.uncovered_reasons], dtype=object)

    @property
    def uncovered_detail(self) -> npt.NDArray[np.object_]:
        """The explanation of each uncovered establishment, in English."""
        return self.uncovered_details("en")

    def uncovered_details(self, lang: str = "en") -> npt.NDArray[np.object_]:
        """Return the explanation of each uncovered establishment in ``lang`` (``"en"`` or ``"fr"``)."""
        return np.array([why.sentence(lang) for why in self.uncovered_reasons], dtype=object)

    # -- counts and totals -------------------------------------------------

    @property
    def n_pairs(self) -> int:
        """Number of tutored establishments."""
        return len(self.tutor)

    @property
    def n_covered(self) -> int:
        """Number of tutored establishments (same as :attr:`n_pairs`)."""
        return len(self.tutor)

    @property
    def n_uncovered(self) -> int:
        """Number of establishments left without a tutor."""
        return len(self.uncovered_establishment)

    @property
    def n_tutors_used(self) -> int:
        """Number of tutors with at least one establishment."""
        return len(np.unique(self.tutor))

    @property
    def loads(self) -> IntArray:
        """Establishments per tutor, in the problem's tutor order."""
        return np.bincount(self.tutor, minlength=self.problem.n_tutors).astype(np.int64)

    @property
    def onsite(self) -> npt.NDArray[np.bool_]:
        """Mask of on-site pairs."""
        return np.asarray(self.mode == MODE_ONSITE, dtype=bool)

    @property
    def total_distance_km(self) -> float:
        """Sum of the one-way distances of on-site pairs."""
        return float(self.distance_km[self.onsite].sum())

    @property
    def max_distance_km(self) -> float:
        """Longest on-site pair (0 when there is none)."""
        onsite = self.distance_km[self.onsite]
        return float(onsite.max()) if len(onsite) else 0.0

    @property
    def road_km(self) -> FloatArray:
        """Road km of each pair: the distance times the detour factor (or the user's matrix)."""
        p = self.problem
        return np.asarray(self.distance_km * (p.detour_factor if p.distance_matrix is None else 1.0))

    @property
    def yearly_km(self) -> FloatArray:
        """Yearly road km driven for each pair: ``2 x visits x road_km`` on-site, 0 remote."""
        visits = self.problem.establishments.visits_per_year[self.establishment]
        return np.where(self.onsite, 2.0 * visits * np.nan_to_num(self.road_km), 0.0)

    @property
    def yearly_travel_km(self) -> float:
        """Yearly road km driven in all, the sum of :attr:`yearly_km`."""
        return float(self.yearly_km.sum())

    @property
    def n_remote(self) -> int:
        """Number of remote pairs."""
        return int((self.mode == MODE_REMOTE).sum())

    # -- tables ------------------------------------------------------------

    @property
    def pairs(self) -> pd.DataFrame:
        """One row per tutored establishment, sorted by UAI.

        Columns: ``uai, tutor_id, mode, distance_km, road_km, yearly_km,
        cost_km, fixed``. ``road_km`` is the distance times the problem's
        detour factor (or the matrix distance); ``yearly_km`` the yearly road
        km driven (``2 x visits x road_km``, 0 for remote pairs); ``cost_km``
        what the optimisation counts (``2 x visits x distance_km`` on-site,
        the remote penalty otherwise).
        """
        p = self.problem
        return pd.DataFrame(
            {
                "uai": p.establishments.id[self.establishment],
                "tutor_id": p.tutors.id[self.tutor],
                "mode": np.array([MODE_NAMES[int(m)] for m in self.mode], dtype=object),
                "distance_km": self.distance_km,
                "road_km": self.road_km,
                "yearly_km": self.yearly_km,
                "cost_km": self.cost_km,
                "fixed": self.is_fixed,
            }
        )

    @property
    def uncovered(self) -> pd.DataFrame:
        """One row per establishment left without a tutor: ``uai, reason, detail``."""
        return pd.DataFrame(
            {
                "uai": self.problem.establishments.id[self.uncovered_establishment],
                "reason": self.uncovered_reason,
                "detail": self.uncovered_detail,
            }
        )

    def table(self) -> pd.DataFrame:
        """Return one row per input establishment, in UAI order, covered or not.

        Columns: ``uai, tutor_id`` (empty when uncovered), ``mode`` (``onsite``,
        ``remote`` or ``none``), ``distance_km``, ``reason_code`` and
        ``reason`` (empty when covered).
        """
        est = self.problem.establishments
        n = len(est)
        tutor_id = np.full(n, "", dtype=object)
        mode = np.full(n, "none", dtype=object)
        distance = np.full(n, np.nan)
        code = np.full(n, "", dtype=object)
        reason = np.full(n, "", dtype=object)
        tutor_id[self.establishment] = self.problem.tutors.id[self.tutor]
        mode[self.establishment] = [MODE_NAMES[int(m)] for m in self.mode]
        distance[self.establishment] = self.distance_km
        code[self.uncovered_establishment] = self.uncovered_reason
        reason[self.uncovered_establishment] = self.uncovered_detail
        return pd.DataFrame(
            {
                "uai": est.id,
                "tutor_id": tutor_id,
                "mode": mode,
                "distance_km": distance,
                "reason_code": code,
                "reason": reason,
            }
        )

    def tutor_loads(self) -> pd.DataFrame:
        """Return one row per tutor with their load and on-site distances.

        Columns: ``tutor_id, capacity, load, n_onsite, n_remote, distance_km``
        (one way, summed over on-site pairs), ``yearly_km`` (road km a year),
        ``status`` (``retained`` or ``candidate``) and ``recruited`` (a
        candidate with at least one establishment).
        """
        t = self.problem.tutors
        n = len(t)
        onsite = self.onsite
        return pd.DataFrame(
            {
                "tutor_id": t.id,
                "capacity": t.capacity,
                "load": self.loads,
                "n_onsite": np.bincount(self.tutor[onsite], minlength=n),
                "n_remote": np.bincount(self.tutor[~onsite], minlength=n),
                "distance_km": np.bincount(self.tutor[onsite], weights=self.distance_km[onsite], minlength=n),
                "yearly_km": np.bincount(self.tutor, weights=self.yearly_km, minlength=n),
                "status": np.where(t.is_candidate, "candidate", "retained").astype(object),
                "recruited": t.is_candidate & (self.loads > 0),
            }
        )

    def costs(self) -> PlanCost:
        """Return the plan's yearly cost by the cost model (:attr:`cost_model`), exact to the cent."""
        return plan_cost(
            self.problem, self.tutor, self.establishment, self.onsite, self.distance_km,
            self.cost_model or CostModel(),
        )  # fmt: skip

    def recruitment(self) -> pd.DataFrame:
        """Return the candidates to recruit (those the plan uses), by id.

        Columns: ``tutor_id, name, role, departement`` (of the tutor's own
        establishment, empty when unknown), ``load``.
        """
        from tutormatch.io._uai import uai_departement

        t = self.problem.tutors
        rows = np.flatnonzero(t.is_candidate & (self.loads > 0))
        return pd.DataFrame(
            {
                "tutor_id": t.id[rows],
                "name": t.name[rows],
                "role": t.role[rows],
                "departement": np.array(
                    [uai_departement(u) if u else "" for u in t.home_uai[rows]], dtype=object
                ),
                "load": self.loads[rows],
            }
        )

    def recruitment_counts(self) -> pd.DataFrame:
        """Return how many candidates to recruit per département and role.

        Columns: ``departement, role, n_recruited``.
        """
        frame = self.recruitment()
        counts = frame.groupby(["departement", "role"], sort=True).size()
        return counts.rename("n_recruited").reset_index()

    # -- status --------------------------------------------------------------

    def raise_for_status(self) -> Assignment:
        """Return the plan if it has one, else raise.

        Raises
        ------
        InfeasibleError
            The constraints admit no plan.
        SolveError
            No plan for another reason (limit reached, backend failure).
        """
        if self.status.has_solution:
            return self
        text = f"no plan: status {self.status.value} ({self.message})"
        if self.status is Status.INFEASIBLE:
            raise InfeasibleError(text, status=self.status.value)
        raise SolveError(text, status=self.status.value)

    def summary(self) -> dict[str, Any]:
        """Return the headline figures as a flat dict (the CLI's ``summary.json``).

        Distances are km, or minutes when the problem's matrix holds travel
        times (``distance_unit``, given in the dict). Euros (``total_cost_eur``
        and its parts ``indemnity_eur, bonus_eur, mileage_eur, remote_eur,
        fixed_cost_eur``) are those of the cost report, by :attr:`cost_model`;
        ``None`` when the distances are not km. With an ordered objective
        that has a fairness criterion: ``criteria`` (a list, in order) and
        the keys of :attr:`fairness`.
        """
        in_km = self.objective_name == "km"
        p = self.problem
        out: dict[str, Any] = {
            "status": self.status.value,
            "solver": self.solver,
            "message": self.message,
            "objective": self.objective_name,
            "n_establishments": p.n_establishments,
            "n_covered": self.n_covered,
            "n_uncovered": self.n_uncovered,
            "n_remote": self.n_remote,
            "n_tutors": p.n_tutors,
            "n_tutors_used": self.n_tutors_used,
            "covered_priority": self.covered_priority,
            "total_priority": float(p.establishments.priority.sum()),
            "priority_bound": self.priority_bound,
            "total_distance_km": round(self.total_distance_km, 3),
            "max_distance_km": round(self.max_distance_km, 3),
            "yearly_travel_km": round(self.yearly_travel_km, 3),
            "objective_km": _finite_or_none(self.objective if in_km else float(self.cost_km.sum())),
            "bound_km": _finite_or_none(self.bound) if in_km else None,
            "objective_eur": None if in_km else _finite_or_none(self.objective),
            "bound_eur": None if in_km else _finite_or_none(self.bound),
            "gap": _finite_or_none(self.gap),
            "max_distance_limit_km": p.max_distance_km if math.isfinite(p.max_distance_km) else None,
            "allow_remote": p.allow_remote,
            "distance_unit": p.distance_unit,
            "solve_seconds": round(self.solve_seconds, 4),
        }
        names = (
            "total_cost_eur",
            "indemnity_eur",
            "bonus_eur",
            "mileage_eur",
            "remote_eur",
            "fixed_cost_eur",
        )
        if p.distance_unit == "km":
            cost = self.costs()
            cents = (
                cost.total_cents, cost.indemnity_cents, cost.bonus_cents, cost.travel_cents,
                cost.remote_cents, cost.fixed_cents,
            )  # fmt: skip
            out.update({name: c / 100 for name, c in zip(names, cents, strict=True)})
            out["n_bonus_missing"] = cost.n_bonus_missing
        else:
            out.update(dict.fromkeys(names))
            out["n_bonus_missing"] = None
        out["n_recruited"] = int((p.tutors.is_candidate & (self.loads > 0)).sum())
        out["budget_eur"] = self.budget_eur
        if self.criteria:
            # An explicit order of criteria: each one's value, in order.
            out["criteria"] = [dict(c) for c in self.criteria]
        if self.fairness is not None:
            out.update(self.fairness)
        return out

    def to_dict(self) -> dict[str, Any]:
        """Return the summary plus the pairs and the uncovered establishments as records."""
        out = self.summary()
        out["pairs"] = self.pairs.to_dict(orient="records")
        out["uncovered"] = self.uncovered.to_dict(orient="records")
        return out

    def __repr__(self) -> str:
        p = self.problem
        return (
            f"<Assignment {self.status.value} by {self.solver}: {self.n_covered}/"
            f"{p.n_establishments} establishments covered, {self.n_tutors_used} tutors used, "
            f"{self.total_distance_km:.1f} {p.distance_unit} on-site, worst "
            f"{self.max_distance_km:.1f} {p.distance_unit}>"
        )

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><th style='text-align:left'>{html.escape(str(k))}</th><td>{html.escape(str(v))}</td></tr>"
            for k, v in self.summary().items()
            if k != "message"
        )
        return f"<table><caption>{html.escape(repr(self))}</caption>{rows}</table>"

    # -- answers to "why?" (tutormatch.solve._shortfall, _explain, _backups) --

    def shortfall(self, *, lang: str = "en", euros: bool = False) -> pd.DataFrame:
        """Return the smallest levers that would cover the uncovered establishments.

        Uncovered establishments are grouped where they compete for the same
        tutors (they reach a common tutor in the plan's residual graph). For
        each group, candidate levers come from that graph and each is applied
        to the problem and **solved again**: every figure is the re-solve's.

        Parameters
        ----------
        lang : {"en", "fr"}, default "en"
            Language of the ``lever`` column.
        euros : bool, default False
            Also compute ``cost_delta_eur`` with the cost report (slower);
            ``nan`` otherwise.

        Returns
        -------
        pandas.DataFrame
            One row per verified lever that gains priority (empty when all is
            covered), by group, most gain then least cost first. Columns
            ``group, kind`` (``add_tutor``, ``raise_capacity``,
            ``raise_distance_limit``, ``allow_remote``, ``relax_rule``), the
            lever's parameters (``tutor_id, capacity`` | ``max_distance_km`` |
            ``uais`` | ``tutor_id, uai, rule`` | ``at, commune, lon, lat,
            role, wave, capacity``), ``covers`` and ``uncovers`` (lists of
            UAI), ``n_covers``, ``priority_gain``, ``cost_delta_km``,
            ``cost_delta_eur`` and ``lever`` (a sentence). A row applied with
            :func:`tutormatch.solve.apply_lever` and solved gives exactly its
            ``priority_gain`` and ``cost_delta_km``.

        Examples
        --------
        >>> import tutormatch as tm
        >>> plan = tm.solve(tm.example_problem())
        >>> levers = plan.shortfall()
        >>> bool((levers["priority_gain"] > 0).all())
        True
        """
        from tutormatch.solve._shortfall import shortfall

        return shortfall(self, lang=lang, euros=euros)

    def explain(self, uai: str, *, lang: str = "en", max_tutors: int | None = 10) -> Any:
        """Explain why establishment ``uai`` has the tutor it has (or none).

        Parameters
        ----------
        uai : str
        lang : {"en", "fr"}, default "en"
        max_tutors : int or None, default 10
            Nearer tutors listed at most (nearest first); ``None``: all.

        Returns
        -------
        Explanation
            Printable (``str``), with a DataFrame (``frame``) of the tutors
            considered and the exact effect of forcing the nearest eligible
            tutor (a re-solve with that pair fixed).

        Raises
        ------
        InputError
            For a UAI not in the problem, or an unknown ``lang``.

        Examples
        --------
        >>> import tutormatch as tm
        >>> plan = tm.solve(tm.example_problem())
        >>> why = plan.explain(plan.pairs["uai"].iloc[0])
        >>> why.tutor_id == plan.pairs["tutor_id"].iloc[0]
        True
        """
        from tutormatch.solve._explain import explain

        return explain(self, uai, lang=lang, max_tutors=max_tutors)

    def backups(
        self, k: int = 3, *, uais: Sequence[str] | None = None, time_limit: float = 60.0
    ) -> pd.DataFrame:
        """Return each establishment's next ``k`` eligible tutors, ranked by the exact cost of forcing them.

        For each establishment (except those of fixed pairs) and each
        eligible tutor other than its own, the change in the optimum if that
        pair were forced, re-optimised around it: first the priority covered
        (0 or less), then the yearly cost.

        For the pure problem (km objective, capacities, minimum loads, fixed
        and forbidden pairs) this comes for all pairs at once from the plan's
        residual graph (the forced pair's cost plus the cheapest way to
        restore the flow, by Dijkstra with Bellman-Ford potentials), equal to
        re-solving with each pair fixed (``method="residual"``). With
        all-or-nothing loads, a euro objective or a budget, each
        establishment's ``2 k`` cheapest eligible pairs are each fixed and
        **solved again** with the plan's objective, cost model and budget
        (``method="re-solve"``), and ranked by what those solves give; each
        row's ``status`` is its solve's.

        Parameters
        ----------
        k : int, default 3
        uais : sequence of str, optional
            Only these establishments (default: all). With side constraints
            each row is a solve: ask for the ones you need.
        time_limit : float, default 60
            Seconds for all the re-solves (side constraints only); the rows
            not reached say ``not_solved``.

        Returns
        -------
        pandas.DataFrame
            Columns ``uai, rank, tutor_id, mode, distance_km,
            priority_delta, cost_delta_km`` (the km objective),
            ``cost_delta_eur`` (the plan's euro objective; ``nan`` for a km
            plan), ``status`` (``optimal``, ``feasible``: stopped by the time
            limit, ``infeasible``: no plan with that pair, ``not_solved``) and
            ``method`` (``residual`` or ``re-solve``); ``k`` rows per
            establishment at most, best first.

        Raises
        ------
        InputError
            For ``k < 1``, a bad ``time_limit``, an unknown UAI, a plan
            without a solution, or a pure plan that is not optimal.

        Examples
        --------
        >>> import tutormatch as tm
        >>> plan = tm.solve(tm.example_problem())
        >>> table = plan.backups(k=2)
        >>> bool((table["priority_delta"] <= 0).all())
        True
        """
        from tutormatch.solve._backups import backups

        return backups(self, k, uais=uais, time_limit=time_limit)

    def conflicts(self, *, time_limit: float = 30.0) -> Any:
        """Return which of the user's hard constraints conflict, and the least relaxation.

        Only for an ``INFEASIBLE`` plan: the fewest of the minimum loads,
        fixed pairs, all-or-nothing rules and budget to relax (then the least
        shortfall of minimum loads), by a max-flow presolve and, when its
        bound is not met, an elastic CP-SAT model; and a minimal set of
        constraints that cannot all hold (see ``docs/why.md``). The solve
        already found it (its sentence starts :attr:`message`): this returns
        that answer unless a longer ``time_limit`` could prove more.

        Parameters
        ----------
        time_limit : float, default 30
            Seconds for the elastic model and the conflict; past it the
            answer says it is not proven least (``is_proven``).

        Returns
        -------
        Infeasibility or None
            ``None`` when the plan is not infeasible. Its ``table`` lists the
            constraints, ``sentence(lang)`` says it in English or French and
            ``relaxed_problem`` / ``relaxed_budget_eur`` solve again.

        Examples
        --------
        >>> import tutormatch as tm
        >>> tm.solve(tm.example_problem()).conflicts() is None
        True
        """
        if self.status is not Status.INFEASIBLE:
            return None
        known = self.stats.get("conflicts")
        if known is not None and (known.is_proven or time_limit <= known.time_limit):
            return known  # found by the solve (see tutormatch.solve._solve.with_conflicts)
        from tutormatch.solve._conflicts import find_conflicts

        return find_conflicts(
            self.problem,
            budget_eur=self.budget_eur,
            cost_model=self.cost_model,
            time_limit=time_limit,
        )


def _finite_or_none(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None
