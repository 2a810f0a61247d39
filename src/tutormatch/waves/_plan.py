"""``tm.plan_waves``: plan every wave in date order, keeping the pairs that still run."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from tutormatch.errors import InputError
from tutormatch.model._eligibility import MODE_NAMES
from tutormatch.model._problem import Problem
from tutormatch.solve._assignment import Assignment
from tutormatch.solve._options import SolveOptions
from tutormatch.waves._calendar import WaveCalendar
from tutormatch.waves._subproblem import restrict

__all__ = ["Wave", "WavePlan", "build_waves", "plan_from_pairs", "plan_waves"]

IntArray = npt.NDArray[np.int64]
logger = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class Wave:
    """One wave of a :class:`WavePlan`.

    Attributes
    ----------
    month : int
        The switch date, in months since year 0.
    label : str
        The same as ``YYYY-MM``.
    establishments : ndarray of int
        Rows (in the whole problem) of the establishments switching then.
    plan : Assignment
        The wave's own plan, on a problem of those establishments only, each
        tutor's capacity being what the pairs still running leave for the
        school years the wave's support spans (0 for a tutor not live long
        enough yet).
    n_kept : int
        Pairs of earlier waves still within their support at this date: kept
        as they are.
    n_tutors_eligible : int
        Tutors live long enough and with room left.
    n_not_live : int
        Tutors not live ``live_months`` yet at this date.
    """

    month: int
    label: str
    establishments: IntArray
    plan: Assignment
    n_kept: int
    n_tutors_eligible: int
    n_not_live: int = field(repr=False)

    def __repr__(self) -> str:
        return (
            f"<Wave {self.label}: {len(self.establishments)} establishments, "
            f"{self.plan.n_covered} covered, {self.n_kept} pairs kept>"
        )


@dataclass(frozen=True, eq=False)
class WavePlan:
    """Plans of every wave of a rollout, made in date order around the pairs already running.

    Attributes
    ----------
    problem : Problem
        The whole rollout: establishments of every wave, every tutor.
    calendar : WaveCalendar
        Support period, time live before tutoring, school year.
    waves : tuple of Wave
        In date order.
    seconds : float
        Time to plan every wave.
    objective : str or None
        The ``objective`` passed to :func:`tutormatch.solve` (``None``: its default).
    """

    problem: Problem
    calendar: WaveCalendar
    waves: tuple[Wave, ...]
    seconds: float
    objective: str | None = None

    # -- pairs --------------------------------------------------------

    @property
    def pair_arrays(self) -> tuple[IntArray, IntArray, IntArray, npt.NDArray[np.int8]]:
        """Every pair of the rollout: (tutor row, establishment row, start month, mode)."""
        if not self.waves:
            empty = np.empty(0, dtype=np.int64)
            return empty, empty.copy(), empty.copy(), np.empty(0, dtype=np.int8)
        tutor = np.concatenate([w.plan.tutor for w in self.waves])
        establishment = np.concatenate([w.establishments[w.plan.establishment] for w in self.waves])
        start = np.concatenate([np.full(w.plan.n_pairs, w.month, dtype=np.int64) for w in self.waves])
        mode = np.concatenate([w.plan.mode for w in self.waves])
        return tutor, establishment, start, mode

    @property
    def pairs(self) -> pd.DataFrame:
        """One row per pair: ``wave, tutor_id, uai, mode, distance_km, start, end``.

        Months as ``YYYY-MM``; ``end`` is the last month of support.
        """
        rows = []
        for w in self.waves:
            p = w.plan
            rows.append(
                pd.DataFrame(
                    {
                        "wave": w.label,
                        "tutor_id": self.problem.tutors.id[p.tutor],
                        "uai": self.problem.establishments.id[w.establishments[p.establishment]],
                        "mode": [MODE_NAMES[int(m)] for m in p.mode],
                        "distance_km": p.distance_km,
                        "start": w.label,
                        "end": WaveCalendar.label(w.month + self.calendar.support_months - 1),
                    }
                )
            )
        columns = ["wave", "tutor_id", "uai", "mode", "distance_km", "start", "end"]
        return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=columns)

    @property
    def uncovered(self) -> pd.DataFrame:
        """One row per establishment left uncovered: ``wave, uai, reason, detail, rollout``.

        ``reason`` and ``detail`` are the wave's plan's (see
        :attr:`Assignment.uncovered <tutormatch.Assignment.uncovered>`), said
        of the places the wave had. ``rollout`` adds, where the wave's plan
        finds no tutor at all, why in the rollout: ``"tutors_busy"`` (tutors
        who may tutor it hold pairs of earlier waves still running, up to
        their capacity), ``"tutors_not_live"`` (the only tutors who may tutor
        it have not been live ``live_months`` yet), else ``""``.
        """
        rows = []
        for w in self.waves:
            table = w.plan.uncovered
            if len(table):
                note = self._rollout_reasons(w, table)
                rows.append(table.assign(wave=w.label, rollout=note)[["wave", *table.columns, "rollout"]])
        columns = ["wave", "uai", "reason", "detail", "rollout"]
        return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=columns)

    def _rollout_reasons(self, wave: Wave, table: pd.DataFrame) -> list[str]:
        from tutormatch.solve._reasons import eligible_tutor_counts

        plan = wave.plan
        none = np.array([r.code == "no_eligible_tutor" for r in plan.uncovered_reasons], dtype=bool)
        notes = [""] * len(table)
        if not none.any():
            return notes
        t = self.problem.tutors
        live = _live_enough(self.problem, wave.month, self.calendar)
        rows = plan.uncovered_establishment[none]
        if_free = restrict(self.problem, wave.establishments, capacity=np.where(live, t.capacity, 0))
        if_live = restrict(self.problem, wave.establishments, capacity=t.capacity)
        busy = eligible_tutor_counts(if_free, rows) > 0
        waiting = eligible_tutor_counts(if_live, rows) > 0
        for k, i in enumerate(np.flatnonzero(none).tolist()):
            notes[i] = "tutors_busy" if busy[k] else "tutors_not_live" if waiting[k] else ""
        return notes

    # -- summaries ----------------------------------------------------

    @property
    def summary(self) -> pd.DataFrame:
        """One row per wave (see ``docs/waves.md``).

        Columns: ``wave, n_establishments, n_covered, n_uncovered,
        coverage_pct`` (share of priority covered), ``n_kept`` (pairs of
        earlier waves still running, kept), ``n_new_pairs,
        n_tutors_eligible, n_tutors_active`` (with a kept or a new pair),
        ``n_tutors_new`` (taking their first establishment: to recruit),
        ``yearly_km`` (the new pairs' yearly travel), ``status``.
        """
        tutor, _, start, _ = self.pair_arrays
        seen: set[int] = set()
        rows = []
        for w in self.waves:
            p = w.plan
            new = set(p.tutor.tolist())
            running = (start < w.month) & (start + self.calendar.support_months > w.month)
            active = new | set(tutor[running].tolist())
            total = float(self.problem.establishments.priority[w.establishments].sum())
            rows.append(
                {
                    "wave": w.label,
                    "n_establishments": len(w.establishments),
                    "n_covered": p.n_covered,
                    "n_uncovered": p.n_uncovered,
                    "coverage_pct": 100.0 * p.covered_priority / total if total else 100.0,
                    "n_kept": w.n_kept,
                    "n_new_pairs": p.n_pairs,
                    "n_tutors_eligible": w.n_tutors_eligible,
                    "n_tutors_active": len(active),
                    "n_tutors_new": len(new - seen),
                    "yearly_km": p.yearly_travel_km,
                    "status": p.status.value,
                }
            )
            seen |= new
        return pd.DataFrame(rows)

    @property
    def recruits(self) -> pd.DataFrame:
        """Tutors taking their first establishment, by wave and département.

        Columns ``wave, departement, n_tutors_new``. The département is
        that of the tutor's own establishment (from its UAI), ``""`` when the
        tutor has no ``home_uai``.
        """
        from tutormatch.io._uai import is_valid_uai, uai_departement

        seen: set[int] = set()
        rows = []
        for w in self.waves:
            new = sorted(set(w.plan.tutor.tolist()) - seen)
            seen |= set(new)
            homes = [str(self.problem.tutors.home_uai[t]) for t in new]
            deps = [uai_departement(h) if is_valid_uai(h) else "" for h in homes]
            for dep, count in sorted(pd.Series(deps, dtype=object).value_counts().items()):
                rows.append({"wave": w.label, "departement": dep, "n_tutors_new": int(count)})
        return pd.DataFrame(rows, columns=["wave", "departement", "n_tutors_new"])

    def wave_costs(self, *, options: Any = None) -> pd.DataFrame:
        """Euros of each wave's new pairs for one year, by component.

        From :func:`tutormatch.report.costs` on each wave's plan alone: the
        pairs' first year, each tutor's km laid on the scale from their
        ``prior_service_km`` without the other waves' km (those are in
        :meth:`school_years`, by period).

        Returns
        -------
        pandas.DataFrame
            ``wave, n_pairs, yearly_km, indemnity_eur, travel_eur, remote_eur,
            bonus_eur, n_bonus_missing, total_eur``.
        """
        import tutormatch as tm

        rows = []
        for w in self.waves:
            totals = tm.report.costs(w.plan, options=options).totals.iloc[0]
            row: dict[str, Any] = {"wave": w.label, "n_pairs": w.plan.n_pairs}
            for key in ("yearly_km", "indemnity_eur", "travel_eur", "remote_eur", "bonus_eur"):
                row[key] = float(totals[key])
            row["n_bonus_missing"] = int(totals["n_bonus_missing"])
            row["total_eur"] = float(totals["total_eur"])
            rows.append(row)
        return pd.DataFrame(rows)

    def school_years(self, *, options: Any = None) -> pd.DataFrame:
        """Count establishments, tutors and euros per school year, and travel per calendar year.

        Parameters
        ----------
        options : tutormatch.report.ReportOptions, optional
            The cost model (indemnity, bonus multiplier, scale...).

        Returns
        -------
        pandas.DataFrame
            One row per school year: ``school_year, n_establishments``
            (tutored that school year), ``n_uncovered`` (needing help that
            school year, left uncovered), ``n_tutors_active, max_load, indemnity_eur, remote_eur,
            bonus_eur`` (from :func:`tutormatch.report.costs` on the pairs
            running that school year), then one row per calendar year with
            ``year, yearly_km, travel_eur`` filled instead (the scale counts
            km from 1 January: see :func:`calendar_costs`).
        """
        from tutormatch.waves._costs import period_costs

        return period_costs(self, options=options)

    def __repr__(self) -> str:
        n_e = sum(len(w.establishments) for w in self.waves)
        covered = sum(w.plan.n_covered for w in self.waves)
        labels = ", ".join(w.label for w in self.waves)
        return (
            f"<WavePlan: {len(self.waves)} waves ({labels}), {covered:,} of {n_e:,} establishments covered>"
        )

    def _repr_html_(self) -> str:
        from html import escape

        return f"<p>{escape(repr(self))}</p>{self.summary.to_html(index=False)}"


def _check_rollout(problem: Problem) -> None:
    e, t = problem.establishments, problem.tutors
    if not e.wave_is_date and len(e):
        raise InputError(
            "plan_waves needs each establishment's wave as a month (e.g. 2025-01); the "
            "establishments give wave numbers or none. Write the waves as YYYY-MM.",
            table="establishments",
            column="wave",
        )
    missing = np.isnan(e.wave)
    if missing.any():
        shown = ", ".join(map(str, e.id[missing][:5]))
        raise InputError(
            f"plan_waves needs each establishment's wave; {int(missing.sum())} have none ({shown}). "
            "Give their wave (YYYY-MM), or drop them from the rollout.",
            table="establishments",
            column="wave",
            values=list(e.id[missing]),
        )
    if (t.min_load > 0).any() or problem.all_or_nothing:
        raise InputError(
            "plan_waves does not carry minimum loads or all_or_nothing across waves (a tutor's "
            "load builds up wave after wave); drop min_load and all_or_nothing for a rollout."
        )


def _live_enough(problem: Problem, month: int, calendar: WaveCalendar) -> npt.NDArray[np.bool_]:
    """Tutors who may tutor at ``month``: live ``live_months`` before, or wave unknown (as the base rule)."""
    wave = problem.tutors.wave
    return np.asarray(np.isnan(wave) | (wave + calendar.live_months <= month), dtype=bool)


def plan_waves(
    problem: Problem,
    *,
    calendar: WaveCalendar | None = None,
    objective: str | None = None,
    solver: str = "auto",
    time_limit: float | None = None,
    options: SolveOptions | None = None,
    cost_model: Any = None,
) -> WavePlan:
    r"""Plan every wave of a rollout in date order, keeping the pairs that still run.

    Parameters
    ----------
    problem : Problem
        Every establishment of the rollout with its wave as a month
        (``YYYY-MM``), every tutor with the month their own establishment
        switched.
    calendar : WaveCalendar, optional
        Support period (12 months), time live before tutoring (6 months),
        school year (September-August).
    objective : str, optional
        Passed to :func:`tutormatch.solve` for each wave when given (e.g.
        ``"euros"`` where supported); default: the solve's own.
    solver, time_limit, options
        Passed to :func:`tutormatch.solve` for each wave.
    cost_model : CostModel, optional
        Passed to :func:`tutormatch.solve` when given (the euros objective's prices).

    Returns
    -------
    WavePlan

    Raises
    ------
    InputError
        When waves are not months, an establishment has no wave, or the
        problem has minimum loads or all-or-nothing loads.

    Notes
    -----
    Waves are planned one after the other. At a wave's month *d*, a pair
    made at month *s* still runs when :math:`s \le d < s + S` (*S* the
    support period): it is kept, and it counts against its tutor's capacity
    in every school year its support spans. A tutor *t* with capacity
    :math:`k_t` has for the wave :math:`k_t - \max_{y} \ell_{t,y}` places,
    the maximum over the school years *y* that the wave's support spans,
    :math:`\ell_{t,y}` the pairs already made that run in *y*; a tutor not
    live for ``live_months`` by *d* has none. Each wave's new pairs are then
    the exact optimum of :func:`tutormatch.solve` on that wave's
    establishments: wave by wave, not jointly over all waves.

    Examples
    --------
    >>> import tutormatch as tm
    >>> plan = tm.plan_waves(tm.waves.example_rollout())
    >>> [w.label for w in plan.waves]
    ['2025-01', '2025-09', '2026-01', '2026-09', '2027-01']
    """
    import tutormatch as tm

    extra: dict[str, Any] = {"objective": objective} if objective is not None else {}
    if cost_model is not None:
        extra["cost_model"] = cost_model

    def decide(sub: Problem, label: str) -> Assignment:
        return tm.solve(sub, solver=solver, time_limit=time_limit, options=options, **extra)  # type: ignore[arg-type]

    return build_waves(problem, calendar or WaveCalendar(), decide, objective)


def build_waves(
    problem: Problem,
    calendar: WaveCalendar,
    decide: Callable[[Problem, str], Assignment],
    objective: str | None,
) -> WavePlan:
    """Run the waves in date order; ``decide(subproblem, label)`` makes each wave's plan.

    :func:`plan_waves` solves; :func:`plan_from_pairs` evaluates given pairs.
    """
    started = time.perf_counter()
    _check_rollout(problem)
    e, t = problem.establishments, problem.tutors
    months = np.unique(e.wave).astype(np.int64)
    if not len(months):
        return WavePlan(problem, calendar, (), 0.0, objective)
    first_year = calendar.school_year(int(months[0]))
    last_year = calendar.school_year(int(months[-1]) + calendar.support_months - 1)
    load = np.zeros((len(t), last_year - first_year + 1), dtype=np.int64)
    starts: list[IntArray] = []
    waves = []
    for month in months.tolist():
        rows = np.flatnonzero(e.wave == month)
        years = calendar.school_years_of(month) - first_year
        live = _live_enough(problem, month, calendar)
        room = np.maximum(t.capacity - load[:, years].max(axis=1), 0)
        room[~live] = 0
        sub = restrict(problem, rows, capacity=room)
        label = WaveCalendar.label(month)
        plan = decide(sub, label)
        start = np.concatenate(starts) if starts else np.empty(0, dtype=np.int64)
        n_kept = int(((start < month) & (start + calendar.support_months > month)).sum())
        for y in years:
            np.add.at(load[:, y], plan.tutor, 1)
        starts.append(np.full(plan.n_pairs, month, dtype=np.int64))
        waves.append(
            Wave(
                month=month,
                label=label,
                establishments=rows,
                plan=plan,
                n_kept=n_kept,
                n_tutors_eligible=int((room > 0).sum()),
                n_not_live=int((~live).sum()),
            )
        )
        logger.info(
            "wave %s: %d establishments, %d covered, %d kept", label, len(rows), plan.n_covered, n_kept
        )
    return WavePlan(problem, calendar, tuple(waves), time.perf_counter() - started, objective)


def plan_from_pairs(problem: Problem, pairs: pd.DataFrame, calendar: WaveCalendar | None = None) -> WavePlan:
    """Rebuild a rollout from its pairs (e.g. a ``pairs.csv`` written by ``tutormatch waves``).

    Each wave's pairs are checked by :func:`tutormatch.evaluate` against the
    places the earlier waves leave, as :func:`plan_waves` planned them.

    Parameters
    ----------
    problem : Problem
    pairs : pandas.DataFrame
        Columns ``tutor_id, uai`` (others ignored); each establishment's wave is the problem's.
    calendar : WaveCalendar, optional

    Returns
    -------
    WavePlan
    """
    import tutormatch as tm

    def decide(sub: Problem, label: str) -> Assignment:
        mine = pairs[pairs["uai"].astype(str).str.upper().isin(set(sub.establishments.id))]
        return tm.evaluate(sub, mine[["tutor_id", "uai"]], name=f"pairs of wave {label}")

    return build_waves(problem, calendar or WaveCalendar(), decide, None)
