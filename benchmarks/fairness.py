"""Benchmark the worst trip (bottleneck) criterion, against a naive CP-SAT min-max model.

Usage::

    python benchmarks/fairness.py                # académie example + national 8,000 x 4,000
    python benchmarks/fairness.py --no-baseline  # tutormatch only
    python benchmarks/fairness.py --national-only
    python benchmarks/fairness.py --criteria     # every criterion of the ordered engine, timed
    python benchmarks/fairness.py --criteria --national --time-limit 60
    python benchmarks/fairness.py --criteria --only full-loads --no-baseline --time-limit 30
    python benchmarks/fairness.py --orders --national-only --time-limit 30   # orders with euros/tutors
    python benchmarks/fairness.py --orders --national-only --time-limit 30 --order coverage,worst-trip,tutors

Cases: the example académie (500 x 260, remote allowed, priorities 1-3) and
a national synthetic instance (8,000 establishments x 4,000 tutors on real
communes, 60 km limit, no remote). Rows give the time of
``tm.solve(problem, objective="worst-trip")`` (coverage, then the least worst
trip, then the least km, each proven), the worst trip found, the number of
max-flow and exact tests, and the same for what a user would write: PuLP +
CBC (in its own process) and a naive CP-SAT model, each with one boolean per
eligible on-site pair, coverage fixed at its optimum (given to them:
generous), a max variable minimised, zero gap (académie on-site only: they
do not fit the national case), with the ratio of times.
"""

from __future__ import annotations

import argparse
import math
import time
from typing import Any

import numpy as np


def _naive_cpsat(problem: Any, covered: float, time_limit: float) -> tuple[float, str, float]:
    from ortools.sat.python import cp_model

    c = problem.candidates
    started = time.perf_counter()
    m = cp_model.CpModel()
    x = [m.new_bool_var(f"x{i}") for i in range(c.n_pairs)]
    cap = problem.tutors.capacity
    by_t: dict[int, list[Any]] = {}
    by_e: dict[int, list[Any]] = {}
    for i, (t, e) in enumerate(zip(c.tutor.tolist(), c.establishment.tolist(), strict=True)):
        by_t.setdefault(t, []).append(x[i])
        by_e.setdefault(e, []).append(x[i])
    for t, xs in by_t.items():
        m.add(sum(xs) <= int(cap[t]))
    prio = np.round(problem.establishments.priority * 1000).astype(int)
    cov = []
    for e, xs in by_e.items():
        m.add(sum(xs) <= 1)
        cov.append(int(prio[e]) * sum(xs))
    m.add(sum(cov) >= round(covered * 1000))
    d = np.round(c.distance_km * 1000).astype(int)
    worst = m.new_int_var(0, int(d.max()), "worst")
    for i in range(c.n_pairs):
        m.add(worst >= int(d[i])).only_enforce_if(x[i])
    m.minimize(worst)
    s = cp_model.CpSolver()
    s.parameters.max_time_in_seconds = time_limit
    s.parameters.num_workers = 2
    status = s.solve(m)
    found = status in (cp_model.OPTIMAL, cp_model.FEASIBLE)
    return (
        time.perf_counter() - started,
        s.status_name(status),
        s.objective_value / 1000 if found else math.nan,
    )


_PULP = """
import json, sys, time
import numpy as np
import pulp
data = np.load(sys.argv[1])
t, e, d, cap, prio = data["t"], data["e"], data["d"], data["cap"], data["prio"]
covered, limit = float(sys.argv[2]), float(sys.argv[3])
started = time.perf_counter()
m = pulp.LpProblem("worst_trip", pulp.LpMinimize)
x = [pulp.LpVariable(f"x{i}", cat="Binary") for i in range(len(t))]
z = pulp.LpVariable("z", lowBound=0)
m += z
by_t, by_e = {}, {}
for i, (a, b) in enumerate(zip(t.tolist(), e.tolist())):
    by_t.setdefault(a, []).append(x[i])
    by_e.setdefault(b, []).append(x[i])
for a, xs in by_t.items():
    m += pulp.lpSum(xs) <= int(cap[a])
for b, xs in by_e.items():
    m += pulp.lpSum(xs) <= 1
m += pulp.lpSum(float(prio[b]) * v for b, xs in by_e.items() for v in xs) >= covered - 1e-6
for i in range(len(t)):
    m += z >= float(d[i]) * x[i]
m.solve(pulp.PULP_CBC_CMD(msg=False, timeLimit=limit, gapRel=0))
print(json.dumps({"seconds": time.perf_counter() - started, "status": pulp.LpStatus[m.status],
                  "value": pulp.value(z)}))
"""


def _pulp_cbc(problem: Any, covered: float, time_limit: float) -> tuple[float, str, float]:
    """PuLP + CBC in its own process (never beside OR-Tools: a crash was measured)."""
    import json
    import subprocess
    import sys
    import tempfile
    from pathlib import Path

    c = problem.candidates
    with tempfile.TemporaryDirectory() as work:
        path = Path(work) / "case.npz"
        np.savez(
            path, t=c.tutor, e=c.establishment, d=c.distance_km, cap=problem.tutors.capacity,
            prio=problem.establishments.priority,
        )  # fmt: skip
        started = time.perf_counter()
        try:
            done = subprocess.run(
                [sys.executable, "-c", _PULP, str(path), repr(covered), repr(time_limit)],
                capture_output=True, text=True, timeout=time_limit * 3 + 60, check=True,
            )  # fmt: skip
            out = json.loads(done.stdout.strip().splitlines()[-1])
        except (subprocess.SubprocessError, IndexError, json.JSONDecodeError) as exc:
            return time.perf_counter() - started, f"failed: {type(exc).__name__}", math.nan
    value = out["value"] if out["status"] == "Optimal" else math.nan
    return time.perf_counter() - started, out["status"], math.nan if value is None else float(value)


def _row(name: str, problem: Any, baseline: bool, time_limit: float) -> None:
    import tutormatch as tm

    started = time.perf_counter()
    base = tm.solve(problem)
    t_base = time.perf_counter() - started
    started = time.perf_counter()
    plan = tm.solve(problem, objective="worst-trip")
    seconds = time.perf_counter() - started
    s = plan.stats
    print(
        f"| {name} | tutormatch worst-trip | {seconds:.2f} s | {plan.status.value} | "
        f"{plan.max_distance_km:.3f} km (km plan: {base.max_distance_km:.3f} km, {t_base:.2f} s) | "
        f"{s['worst_trip_thresholds']:,} thresholds, {s['worst_trip_flow_tests']} max flows, "
        f"{s['worst_trip_exact_tests']} exact solves | "
        f"price {plan.fairness['price_of_fairness_km']:+,.0f} km-eq, "
        f"{plan.fairness['price_of_fairness_eur'] or 0:+,.2f} EUR |",
        flush=True,
    )
    if baseline and not problem.allow_remote:
        t, status, value = _pulp_cbc(problem, plan.covered_priority, time_limit)
        print(
            f"| {name} | PuLP + CBC min-max | {t:.2f} s | {status} | "
            f"{f'{value:.3f} km' if math.isfinite(value) else 'no proven plan'} | "
            f"x{t / seconds:.1f} the time |",
            flush=True,
        )
        t, status, value = _naive_cpsat(problem, plan.covered_priority, time_limit)
        print(
            f"| {name} | naive CP-SAT min-max | {t:.2f} s | {status} | "
            f"{f'{value:.3f} km' if math.isfinite(value) else 'no plan'} | x{t / seconds:.1f} the time |"
        )


def _naive_criterion(problem: Any, name: str, covered: float, time_limit: float) -> tuple[float, str, float]:
    """What a user would write for one criterion: one boolean per eligible pair, coverage fixed."""
    from ortools.sat.python import cp_model

    c = problem.candidates
    started = time.perf_counter()
    m = cp_model.CpModel()
    x = [m.new_bool_var(f"x{i}") for i in range(c.n_pairs)]
    cap = problem.tutors.capacity
    by_t: dict[int, list[int]] = {}
    by_e: dict[int, list[int]] = {}
    for i, (t, e) in enumerate(zip(c.tutor.tolist(), c.establishment.tolist(), strict=True)):
        by_t.setdefault(t, []).append(i)
        by_e.setdefault(e, []).append(i)
    prio = np.round(problem.establishments.priority * 1000).astype(int)
    if name != "groups-hard":  # hard groups: the coverage is the objective (each group with one tutor)
        m.add(sum(int(prio[e]) * x[i] for e, ii in by_e.items() for i in ii) >= round(covered * 1000))
    for ii in by_e.values():
        m.add(sum(x[i] for i in ii) <= 1)
    loads = {t: sum(x[i] for i in ii) for t, ii in by_t.items()}
    for t, load in loads.items():
        m.add(load <= int(cap[t]))
    if name == "worst-year":
        visits = problem.establishments.visits_per_year[c.establishment]
        metres = np.round(2 * visits * c.distance_km * problem.detour_factor * 1000).astype(int)
        worst = m.new_int_var(0, int(metres.sum()), "worst")
        for ii in by_t.values():
            m.add(worst >= sum(int(metres[i]) * x[i] for i in ii))
        m.minimize(worst)
        scale = 1000.0
    elif name == "full-loads":
        full = []
        for t, load in loads.items():
            f = m.new_bool_var(f"f{t}")
            m.add(load == int(cap[t])).only_enforce_if(f)
            full.append(f)
        m.maximize(sum(full))
        scale = 1.0
    elif name == "groups-hard":
        labels = problem.establishments.agence_comptable
        owner: dict[tuple[str, int], Any] = {}
        for i, (t, e) in enumerate(zip(c.tutor.tolist(), c.establishment.tolist(), strict=True)):
            if labels[e]:
                key = (str(labels[e]), t)
                if key not in owner:
                    owner[key] = m.new_bool_var(f"u{len(owner)}")
                m.add_implication(x[i], owner[key])
        for g in sorted({g for g, _ in owner}):
            m.add_at_most_one([v for (h, _), v in owner.items() if h == g])
        m.maximize(sum(int(prio[e]) * x[i] for e, ii in by_e.items() for i in ii))
        scale = 1000.0
    else:  # groups
        labels = problem.establishments.agence_comptable
        serve: dict[tuple[str, int], Any] = {}
        for i, (t, e) in enumerate(zip(c.tutor.tolist(), c.establishment.tolist(), strict=True)):
            g = labels[e]
            if g:
                key = (g, t)
                if key not in serve:
                    serve[key] = m.new_bool_var(f"u{len(serve)}")
                m.add_implication(x[i], serve[key])
        split = []
        for g in sorted({g for g, _ in serve}):
            us = [v for (h, _), v in serve.items() if h == g]
            s_g = m.new_bool_var(f"s{g}")
            m.add(sum(us) <= 1 + len(us) * s_g)
            split.append(s_g)
        m.minimize(sum(split))
        scale = 1.0
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = time_limit
    solver.parameters.num_workers = 2
    status = solver.solve(m)
    found = status in (cp_model.OPTIMAL, cp_model.FEASIBLE)
    return (
        time.perf_counter() - started,
        solver.status_name(status),
        solver.objective_value / scale if found else math.nan,
    )


_PULP_CRITERION = """
import json, sys, time
import numpy as np
import pulp
data = np.load(sys.argv[1], allow_pickle=False)
t, e, cap, prio, group = data["t"], data["e"], data["cap"], data["prio"], data["group"]
mode, covered, limit = sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
started = time.perf_counter()
m = pulp.LpProblem("criterion", pulp.LpMaximize)
x = [pulp.LpVariable(f"x{i}", cat="Binary") for i in range(len(t))]
by_t, by_e = {}, {}
for i, (a, b) in enumerate(zip(t.tolist(), e.tolist())):
    by_t.setdefault(a, []).append(i)
    by_e.setdefault(b, []).append(i)
for b, ii in by_e.items():
    m += pulp.lpSum(x[i] for i in ii) <= 1
covered_expr = pulp.lpSum(float(prio[e[i]]) * x[i] for i in range(len(t)))
if mode == "full-loads":
    m += covered_expr >= covered - 1e-6
    full = []
    for a, ii in by_t.items():
        load = pulp.lpSum(x[i] for i in ii)
        m += load <= int(cap[a])
        f = pulp.LpVariable(f"f{a}", cat="Binary")
        m += load >= int(cap[a]) * f
        full.append(f)
    m += pulp.lpSum(full)
else:  # hard groups: the most priority with each group's establishments with one tutor
    for a, ii in by_t.items():
        m += pulp.lpSum(x[i] for i in ii) <= int(cap[a])
    owner = {}
    for i in range(len(t)):
        g = int(group[e[i]])
        if g < 0:
            continue
        key = (g, int(t[i]))
        if key not in owner:
            owner[key] = pulp.LpVariable(f"u{g}_{key[1]}", cat="Binary")
        m += x[i] <= owner[key]
    for g in sorted({g for g, _ in owner}):
        m += pulp.lpSum(v for (h, _), v in owner.items() if h == g) <= 1
    m += covered_expr
m.solve(pulp.PULP_CBC_CMD(msg=False, timeLimit=limit, gapRel=0))
# sol_status: 1 optimal, 2 a feasible plan (limit reached); else the values are no plan.
print(json.dumps({"seconds": time.perf_counter() - started, "status": pulp.LpStatus[m.status],
                  "sol_status": m.sol_status, "value": pulp.value(m.objective)}))
"""


def _pulp_criterion(problem: Any, mode: str, covered: float, time_limit: float) -> tuple[float, str, float]:
    """PuLP + CBC for full loads or hard groups (coverage phase only), in its own process."""
    import json
    import subprocess
    import sys
    import tempfile
    from pathlib import Path

    c = problem.candidates
    labels = problem.establishments.agence_comptable
    names = sorted({str(v) for v in labels if v})
    group = np.array([names.index(str(v)) if v else -1 for v in labels], dtype=np.int64)
    with tempfile.TemporaryDirectory() as work:
        path = Path(work) / "case.npz"
        np.savez(
            path, t=c.tutor, e=c.establishment, cap=problem.tutors.capacity,
            prio=problem.establishments.priority, group=group,
        )  # fmt: skip
        started = time.perf_counter()
        try:
            done = subprocess.run(
                [sys.executable, "-c", _PULP_CRITERION, str(path), mode, repr(covered), repr(time_limit)],
                capture_output=True, text=True, timeout=time_limit * 3 + 60, check=True,
            )  # fmt: skip
            out = json.loads(done.stdout.strip().splitlines()[-1])
        except (subprocess.SubprocessError, IndexError, json.JSONDecodeError) as exc:
            return time.perf_counter() - started, f"failed: {type(exc).__name__}", math.nan
    value = out["value"] if out.get("sol_status") in (1, 2) else None
    status = {1: "Optimal", 2: "feasible (limit)"}.get(out.get("sol_status"), out["status"])
    return time.perf_counter() - started, status, math.nan if value is None else float(value)


ALL_CRITERIA = ("worst-trip", "worst-year", "full-loads", "groups", "tutors", "euros", "km")


def _criteria_rows(
    name: str,
    problem: Any,
    baseline: bool,
    time_limit: float,
    groups_hard: bool,
    only: tuple[str, ...] = ALL_CRITERIA,
    against_km: bool = False,
) -> None:
    """One row per criterion: ``[coverage, criterion]`` (then the least km), its value and proof.

    ``against_km``: each value beside the plain km plan's (national rows).
    """
    import tutormatch as tm
    from tutormatch.solve._fair import criterion_value

    km_plan = tm.solve(problem) if against_km else None
    for criterion in only:
        started = time.perf_counter()
        plan = tm.solve(problem, objective=["coverage", criterion], time_limit=time_limit)
        seconds = time.perf_counter() - started
        entry = next((c for c in plan.criteria if c["name"] == criterion), None)
        value = f"{entry['value']:,.3f}" if entry else "n/a"
        if km_plan is not None and criterion in ("worst-year", "full-loads", "groups", "worst-trip"):
            value += f" (km plan: {criterion_value(km_plan, criterion):,.3f})"
        bound = entry.get("bound") if entry else None
        if entry and entry.get("proven", plan.status is tm.Status.OPTIMAL):
            proof = "proven"
        elif bound is not None and math.isfinite(bound):
            proof = f"bound {bound:,.3f}"
        else:
            proof = "not proven, no bound"
        proven_at = plan.stats.get("worst_year_proven_at")
        if (
            proven_at is not None
        ):  # the worst-year columns: when the worst year was proven, and the km's bound
            km = next((c for c in plan.criteria if c["name"] == "km"), {})
            proof += f" after {float(proven_at) - started:.1f} s"
            if not km.get("proven", True):
                proof += f"; km {km['value']:,.3f} >= {km.get('bound', math.nan):,.3f}"
        print(
            f"| {name} | {criterion} | {seconds:.2f} s | {plan.status.value} | {value} | {proof} | "
            f"{plan.solver}; {plan.message[:120]} |",
            flush=True,
        )
        if baseline and criterion in ("worst-year", "full-loads", "groups") and not problem.allow_remote:
            t, status, found = _naive_criterion(problem, criterion, plan.covered_priority, time_limit)
            print(
                f"| {name} | naive CP-SAT {criterion} | {t:.2f} s | {status} | "
                f"{f'{found:,.3f}' if math.isfinite(found) else 'no plan'} | | x{t / seconds:.1f} the time |",
                flush=True,
            )
        if baseline and criterion == "full-loads" and not problem.allow_remote:
            t, status, found = _pulp_criterion(problem, criterion, plan.covered_priority, time_limit)
            print(
                f"| {name} | PuLP + CBC {criterion} | {t:.2f} s | {status} | "
                f"{f'{found:,.3f}' if math.isfinite(found) else 'no plan'} | | x{t / seconds:.1f} the time |",
                flush=True,
            )
    if groups_hard:
        started = time.perf_counter()
        plan = tm.solve(problem, groups="hard", time_limit=time_limit)
        seconds = time.perf_counter() - started
        print(
            f"| {name} | groups='hard' | {seconds:.2f} s | {plan.status.value} | "
            f"{plan.n_covered} covered, priority {plan.covered_priority:,.0f} | | {plan.message[:120]} |",
            flush=True,
        )
        if baseline:
            t, status, found = _naive_criterion(problem, "groups-hard", plan.covered_priority, time_limit)
            print(
                f"| {name} | naive CP-SAT groups='hard' (coverage only) | {t:.2f} s | {status} | "
                f"priority {f'{found:,.0f}' if math.isfinite(found) else 'no plan'} | | "
                f"x{t / seconds:.1f} the time |",
                flush=True,
            )
            t, status, found = _pulp_criterion(problem, "groups-hard", plan.covered_priority, time_limit)
            print(
                f"| {name} | PuLP + CBC groups='hard' (coverage only) | {t:.2f} s | {status} | "
                f"priority {f'{found:,.0f}' if math.isfinite(found) else 'no plan'} | | "
                f"x{t / seconds:.1f} the time |",
                flush=True,
            )


#: Orders with euros or tutors (``--orders``): the issue's example and its neighbours.
ORDERS = (
    "coverage,worst-trip,euros",
    "coverage,worst-trip~5%,euros",
    "coverage,euros,worst-trip",
    "coverage,euros~2%,worst-trip",
    "coverage,worst-trip,tutors",
    "coverage,full-loads,euros",
    "coverage,groups,euros",
    "coverage,worst-trip,full-loads,euros",
)


def _order_rows(name: str, problem: Any, time_limit: float, orders: tuple[str, ...]) -> None:
    """One row per order: time, status, each criterion's value (proven, or its proven bound)."""
    import tutormatch as tm

    for order in orders:
        started = time.perf_counter()
        plan = tm.solve(problem, objective=order, time_limit=time_limit)
        seconds = time.perf_counter() - started
        parts = []
        for c in plan.criteria or ():
            text = f"{c['name']} {c['value']:,.3f}"
            if c.get("proven", plan.status is tm.Status.OPTIMAL):
                text += " proven"
            elif math.isfinite(c.get("bound", math.nan)):
                text += f" (bound {c['bound']:,.3f})"
            parts.append(text)
        print(
            f"| {name} | `{order}` | {seconds:.2f} s | {plan.status.value} | {'; '.join(parts)} | "
            f"{plan.solver}; {plan.message[:110]} |",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--national-only", action="store_true")
    parser.add_argument("--criteria", action="store_true", help="every criterion of the ordered engine")
    parser.add_argument("--national", action="store_true", help="with --criteria: the national case too")
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--only", default=",".join(ALL_CRITERIA), help="with --criteria: these criteria")
    parser.add_argument("--orders", action="store_true", help="orders with euros or tutors (ORDERS)")
    parser.add_argument(
        "--order", action="append", help="with --orders: only this order (repeatable, e.g. coverage,euros)"
    )
    args = parser.parse_args()
    only = tuple(args.only.split(","))
    import tutormatch as tm
    from tutormatch.datasets import example_frames, synthetic_instance

    if args.orders:
        orders = tuple(args.order) if args.order else ORDERS
        print("| case | order | time | status | criteria | method |")
        print("| --- | --- | --- | --- | --- | --- |")
        if not args.national_only:
            tutors, est = example_frames()
            onsite = tm.Problem.from_frames(tutors, est, allow_remote=False)
            _order_rows("académie, on-site", onsite, args.time_limit, orders)
        tutors, est = synthetic_instance(8000, 4000, structure="communes", seed=0, capacity=2)
        national = tm.Problem.from_frames(tutors, est, max_distance_km=60.0, allow_remote=False)
        national.candidates  # noqa: B018 - the spatial index is not part of the solve
        _order_rows("national 8,000 x 4,000", national, args.time_limit, orders)
        return

    if args.criteria:
        print("| case | criterion | time | status | value | proof | method |")
        print("| --- | --- | --- | --- | --- | --- | --- |")
        tutors, est = example_frames()
        if not args.national_only:
            onsite = tm.Problem.from_frames(tutors, est, allow_remote=False)
            _criteria_rows(
                "académie, on-site", onsite, not args.no_baseline, args.time_limit, "groups" in only, only
            )
            _criteria_rows(
                "académie, remote allowed", tm.example_problem(), False, args.time_limit, False, only
            )
        if args.national or args.national_only:
            tutors, est = synthetic_instance(8000, 4000, structure="communes", seed=0, capacity=2)
            national = tm.Problem.from_frames(tutors, est, max_distance_km=60.0, allow_remote=False)
            _criteria_rows(
                "national 8,000 x 4,000",
                national,
                False,
                args.time_limit,
                "groups" in only,
                only,
                against_km=True,
            )
        return

    print("| case | method | time | status | worst trip | notes |")
    print("| --- | --- | --- | --- | --- | --- |")
    if not args.national_only:
        tutors, est = example_frames()
        onsite = tm.Problem.from_frames(tutors, est, allow_remote=False)
        _row("académie example, on-site only", onsite, not args.no_baseline, args.time_limit)
        _row("académie example, remote allowed", tm.example_problem(), False, args.time_limit)
    tutors, est = synthetic_instance(8000, 4000, structure="communes", seed=0, capacity=2)
    national = tm.Problem.from_frames(tutors, est, max_distance_km=60.0, allow_remote=False)
    national.candidates  # noqa: B018 - the spatial index is not part of the solve
    _row("national 8,000 x 4,000, 60 km", national, False, args.time_limit)


if __name__ == "__main__":
    main()
