r"""An exact joint plan over all waves: what planning wave by wave costs.

Notes
-----
One binary :math:`x_p` per eligible pair :math:`p = (t, e)` (the problem's
rules, plus the tutor live ``live_months`` before the establishment's wave),
with :math:`Y(e)` the school years the support of :math:`e` spans:

.. math::

    \max \; & \sum_p \pi_e x_p \quad\text{then}\quad \min \sum_p c_p x_p \\
    \text{s.t. } & \sum_{p \ni e} x_p \le 1 && \forall e \\
    & \sum_{p = (t, e) :\, y \in Y(e)} x_p \le k_t && \forall t, \forall y

solved by HiGHS (``scipy.optimize.milp``) in two phases with zero gaps:
first the most covered priority :math:`\Pi^*`, then the least yearly travel
:math:`c` subject to :math:`\sum \pi_e x_p \ge \Pi^*`. A pair spanning two
school years takes a place in both, which breaks the flow structure: hence a
MIP, for an académie (every pair is listed, remote ones included), not for
the national case.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from tutormatch.errors import InputError
from tutormatch.model._eligibility import MODE_NONE, MODE_ONSITE, classify_pairs
from tutormatch.model._problem import Problem
from tutormatch.waves._calendar import WaveCalendar
from tutormatch.waves._plan import WavePlan, _check_rollout, plan_from_pairs

__all__ = ["plan_jointly"]

IntArray = npt.NDArray[np.int64]
_MAX_PAIRS = 500_000


def _eligible_pairs(
    problem: Problem, calendar: WaveCalendar
) -> tuple[IntArray, IntArray, npt.NDArray[np.float64]]:
    n_t, n_e = problem.n_tutors, problem.n_establishments
    if n_t * n_e > _MAX_PAIRS * 4:
        raise InputError(
            f"plan_jointly lists every pair: {n_t:,} tutors x {n_e:,} establishments is too many for it "
            "(up to an académie); use plan_waves."
        )
    t, e = (g.ravel() for g in np.meshgrid(np.arange(n_t), np.arange(n_e), indexing="ij"))
    tw = problem.tutors.wave[t]
    live = np.isnan(tw) | (tw + calendar.live_months <= problem.establishments.wave[e])
    t, e = t[live], e[live]
    distance = problem.distance_km(t, e)
    mode = classify_pairs(problem, t, e, distance)
    ok = mode != MODE_NONE
    t, e, mode, distance = t[ok], e[ok], mode[ok], distance[ok]
    cost = np.where(
        mode == MODE_ONSITE,
        problem.pair_cost_km(e, np.where(np.isfinite(distance), distance, 0.0)),
        problem.remote_cost_km[e],
    )
    return t.astype(np.int64), e.astype(np.int64), np.asarray(cost, dtype=np.float64)


def plan_jointly(
    problem: Problem, *, calendar: WaveCalendar | None = None, time_limit: float = 60.0
) -> tuple[WavePlan, dict[str, object]]:
    """Plan all waves at once, exactly: the yardstick for :func:`plan_waves`.

    Parameters
    ----------
    problem : Problem
        As for :func:`plan_waves` (académie scale: every pair is listed).
    calendar : WaveCalendar, optional
    time_limit : float, default 60
        Seconds per phase for HiGHS.

    Returns
    -------
    plan : WavePlan
        The joint plan, laid out wave by wave (each wave's plan is the joint
        pairs, checked by :func:`tutormatch.evaluate`).
    proof : dict
        ``is_optimal`` (both phases proven optimal), ``covered_priority``,
        ``cost_km`` (yearly travel, remote penalty included), ``n_pairs_listed``, ``seconds``, ``message``.

    Raises
    ------
    InputError
        As :func:`plan_waves`, or a problem too large to list every pair.

    Notes
    -----
    See :mod:`tutormatch.waves._joint`.
    """
    import scipy.sparse as sp  # imported on use: `import tutormatch` stays cheap
    from scipy.optimize import Bounds, LinearConstraint, milp

    started = time.perf_counter()
    calendar = calendar or WaveCalendar()
    _check_rollout(problem)
    tutor, establishment, cost = _eligible_pairs(problem, calendar)
    n = len(tutor)
    n_e = problem.n_establishments
    # Fixed pairs: their establishment takes that pair only.
    fixed = {int(e): int(t) for t, e in problem.fixed.tolist()}
    upper = np.ones(n)
    lower = np.zeros(n)
    for k in range(n):
        f = fixed.get(int(establishment[k]))
        if f is not None:
            upper[k] = lower[k] = float(f == tutor[k])
    wave = problem.establishments.wave[establishment].astype(np.int64)
    first = calendar.school_year(int(problem.establishments.wave.min()))
    last = calendar.school_year(int(problem.establishments.wave.max()) + calendar.support_months - 1)
    n_years = last - first + 1
    rows, cols = [np.arange(n) * 0 + establishment], [np.arange(n)]
    for y in range(first, last + 1):
        runs = calendar.months_in_school_year(wave, y) > 0
        idx = np.flatnonzero(runs)
        rows.append(n_e + tutor[idx] * n_years + (y - first))
        cols.append(idx)
    r, c = np.concatenate(rows), np.concatenate(cols)
    matrix = sp.csr_array((np.ones(len(r)), (r, c)), shape=(n_e + problem.n_tutors * n_years, n))
    ub = np.concatenate([np.ones(n_e), np.repeat(problem.tutors.capacity.astype(float), n_years)])
    constraints = [LinearConstraint(matrix, -np.inf, ub)]
    priority = problem.establishments.priority[establishment]
    bounds = Bounds(lower, upper)

    def solve(objective: npt.NDArray[np.float64], cons: list[LinearConstraint]) -> tuple[Any, bool]:
        # The LP first: when its optimum is integral it is the MIP's, proven.
        relaxed = milp(objective, constraints=cons, bounds=bounds, options={"time_limit": time_limit})
        if relaxed.x is not None and np.allclose(relaxed.x, np.round(relaxed.x), atol=1e-7):
            return relaxed, relaxed.status == 0
        exact = milp(
            objective,
            constraints=cons,
            integrality=np.ones(n),
            bounds=bounds,
            options={"time_limit": time_limit, "mip_rel_gap": 0.0},
        )
        return exact, exact.status == 0

    first_phase, proven_1 = solve(-priority, constraints)
    if first_phase.x is None:
        raise InputError(f"plan_jointly: HiGHS found no plan ({first_phase.message}).")
    best = float(priority @ np.round(first_phase.x))
    # Priorities are exact decimals: allow a rounding hair, not a whole establishment.
    floor = best - 1e-7 * max(1.0, best)
    constraints.append(LinearConstraint(priority[None, :], floor, np.inf))
    second, proven_2 = solve(cost, constraints)
    chosen_x = second.x if second.x is not None else first_phase.x
    chosen = np.round(chosen_x) > 0.5
    pairs = pd.DataFrame(
        {
            "tutor_id": problem.tutors.id[tutor[chosen]],
            "uai": problem.establishments.id[establishment[chosen]],
        }
    )
    plan = plan_from_pairs(problem, pairs, calendar)
    proof: dict[str, object] = {
        "is_optimal": bool(proven_1 and proven_2 and second.x is not None),
        "covered_priority": float(priority[chosen].sum()),
        "cost_km": float(cost[chosen].sum()),
        "n_pairs_listed": n,
        "seconds": time.perf_counter() - started,
        "message": f"phase 1: {first_phase.message}; phase 2: {second.message}",
    }
    return plan, proof
