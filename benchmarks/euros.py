"""Benchmark the objectives in euros against PuLP + CBC and a naive CP-SAT, in the same run.

Usage::

    python benchmarks/euros.py                  # académie cases, results in benchmarks/results/euros.md
    python benchmarks/euros.py --national       # also 8,000 x 4,000
    python benchmarks/euros.py --time-limit 30

Every case is on-site only (no remote tutoring), so that the baselines can
list the pairs explicitly. The baselines are what a user would write:

- PuLP + CBC: one binary per pair, one per tutor ("used"), the scale's
  tranches as continuous variables with a binary per tranche for the
  non-convex step, coverage fixed at the optimum the flow gives (generous:
  a user would need a first solve for it), zero gap. It runs in its own
  process (never import pulp beside OR-Tools: a crash was measured);
- naive CP-SAT: the exact euro model of ``tutormatch.solve._euros_cpsat``
  without the flows' hint and bound.

Each row gives the time, the status, the euros found and the ratio of the
baseline's time to tutormatch's.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent
_ACADEMIE = ("04", "05", "13", "84")


@dataclass
class Row:
    case: str
    method: str
    seconds: float
    status: str
    euros: float
    covered: float
    tutors: int
    gap: float
    gap_on: str = ""  # what the gap is on: "priority" (coverage not proven) or "euros"


def _with_cia(tutors: Any, seed: int) -> Any:
    rng = np.random.default_rng(seed)
    n = len(tutors)
    tutors = tutors.copy()
    tutors["cia_eur"] = np.where(rng.random(n) < 0.7, rng.choice([300, 450, 600, 900], n), np.nan)
    return tutors


def cases(national: bool) -> list[tuple[str, Any, dict[str, Any]]]:
    """The cases: name, problem, solve keywords."""
    import tutormatch as tm
    from tutormatch.datasets import example_frames, synthetic_instance

    out: list[tuple[str, Any, dict[str, Any]]] = []
    example = tm.example_problem(allow_remote=False)
    out.append(("academie-example euros", example, {"objective": "euros"}))
    out.append(("academie-example tutors", example, {"objective": "tutors"}))
    tutors, establishments = example_frames()
    rng = np.random.default_rng(3)
    tutors = tutors.copy()
    tutors["status"] = np.where(rng.random(len(tutors)) < 0.4, "candidate", "retained")
    candidates = tm.Problem.from_frames(tutors, establishments, allow_remote=False)
    out.append(("academie-example candidates (40 %, 300 EUR)", candidates, {"objective": "euros"}))
    t40, e40 = synthetic_instance(500, 260, departements=list(_ACADEMIE), seed=1)
    communes = tm.Problem.from_frames(_with_cia(t40, 0), e40, max_distance_km=40, allow_remote=False)
    out.append(("academie-communes-40km euros", communes, {"objective": "euros"}))
    if national:
        tn, en = synthetic_instance(8000, 4000, seed=1)
        nat = tm.Problem.from_frames(_with_cia(tn, 0), en, max_distance_km=60, allow_remote=False)
        out.append(("national-communes 8000x4000 euros", nat, {"objective": "euros"}))
    return out


def _tm_row(case: str, method: str, plan: Any, seconds: float) -> Row:
    return Row(
        case,
        method,
        seconds,
        plan.status.value,
        float(plan.objective) if plan.status.has_solution else math.nan,
        plan.covered_priority,
        plan.n_tutors_used,
        float(plan.gap),
        "priority" if plan.priority_bound > plan.covered_priority * (1 + 1e-12) else "euros",
    )


def _export(
    problem: Any, model: Any, path: Path, *, objective: str = "euros", budget: float | None = None
) -> float:
    """Write the pairs for the PuLP worker; return the optimal covered priority.

    ``"tutors"``: every tutor's charge gains the weight W of the flows (fewest
    tutors first). A budget: the worker maximises the covered priority within
    it (one phase: a user's first solve).
    """
    import tutormatch as tm
    from tutormatch.solve._euros import euro_costs
    from tutormatch.solve._network import build_network
    from tutormatch.solve._pool import full_pool

    network = build_network(problem, full_pool(problem))
    costs = euro_costs(problem, network, model, objective)
    covered = tm.solve(problem).covered_priority
    np.savez(
        path,
        tutor=network.arc_tutor,
        establishment=network.arc_establishment,
        km=costs.arc_km,
        eur=costs.arc_eur,
        priority=problem.establishments.priority,
        capacity=network.capacity,
        used=costs.used_eur,
        prior=costs.prior_km,
        rates=costs.rates,
        bounds=costs.bounds_km,
        covered=np.array([covered]),
        budget=np.array([math.nan if budget is None else budget]),
        weight=np.array([costs.tutor_weight]),
    )
    return covered


def pulp_worker(path: str, time_limit: float) -> None:
    """Solve the exported case with PuLP + CBC; print a JSON line."""
    import pulp

    d = np.load(path)
    t, e, km, eur = d["tutor"], d["establishment"], d["km"], d["eur"]
    n_t = len(d["capacity"])
    started = time.perf_counter()
    prob = pulp.LpProblem("euros", pulp.LpMinimize)
    x = [pulp.LpVariable(f"x{a}", cat="Binary") for a in range(len(t))]
    w = [pulp.LpVariable(f"w{i}", cat="Binary") for i in range(n_t)]
    by_t: dict[int, list[int]] = {}
    by_e: dict[int, list[int]] = {}
    for a, (ti, ei) in enumerate(zip(t.tolist(), e.tolist(), strict=True)):
        by_t.setdefault(ti, []).append(a)
        by_e.setdefault(ei, []).append(a)
    for arcs in by_e.values():
        prob += pulp.lpSum(x[a] for a in arcs) <= 1
    money = [pulp.lpSum(float(eur[a]) * x[a] for a in range(len(t)))]
    bounds = [0.0, *d["bounds"].tolist(), math.inf]
    for ti, arcs in by_t.items():
        cap = int(d["capacity"][ti])
        prob += pulp.lpSum(x[a] for a in arcs) <= cap * w[ti]
        for a in arcs:
            prob += x[a] <= w[ti]
        money.append(float(d["used"][ti]) * w[ti])
        reach = float(sum(sorted((km[a] for a in arcs), reverse=True)[:cap]))
        prior = float(d["prior"][ti])
        parts = []
        for j, rate in enumerate(d["rates"][ti].tolist()):
            room = max(0.0, min(bounds[j + 1], prior + reach) - max(prior, bounds[j]))
            if room <= 0:
                continue
            part = pulp.LpVariable(f"k{ti}_{j}", 0, room)
            if parts:
                opened = pulp.LpVariable(f"o{ti}_{j}", cat="Binary")
                prob += part <= room * opened
                prob += parts[-1][0] >= parts[-1][1] * opened
            parts.append((part, room))
            money.append(rate * part)
        if parts:
            prob += pulp.lpSum(p for p, _ in parts) == pulp.lpSum(float(km[a]) * x[a] for a in arcs)
    covered = pulp.lpSum(float(d["priority"][ei]) * x[a] for a, ei in enumerate(e.tolist()))
    budget = float(d["budget"][0])
    weight = float(d["weight"][0])
    if math.isnan(budget):
        prob += covered >= float(d["covered"][0]) - 1e-6
        prob += pulp.lpSum(money)
    else:
        # Weight W is in "used" (tutors): the budget counts euros only.
        prob += pulp.lpSum(money) - weight * pulp.lpSum(w) <= budget
        prob.sense = pulp.LpMaximize
        prob += covered
    solver = pulp.PULP_CBC_CMD(msg=False, timeLimit=time_limit, gapRel=0.0)
    code = prob.solve(solver)
    seconds = time.perf_counter() - started
    solution = getattr(prob, "sol_status", 1)
    value = pulp.value(prob.objective) if solution in (1, 2) else None
    print(
        json.dumps(
            {
                "seconds": seconds,
                # CBC stopped by its time limit still says "Optimal" through
                # LpStatus: the solution status tells.
                "status": pulp.LpSolution[prob.sol_status]
                if hasattr(prob, "sol_status")
                else pulp.LpStatus[code],
                # Euros without the weight W of "tutors" (one sum for CBC, euros in the table).
                "euros": None
                if value is None
                else float(pulp.value(pulp.lpSum(money)) - weight * sum(v.value() or 0 for v in w)),
                "covered": None if value is None else float(pulp.value(covered)),
                "tutors": None if value is None else sum(round(v.value() or 0) for v in w),
            }
        )
    )


def _baselines(
    name: str, problem: Any, model: Any, objective: str, budget: float | None, time_limit: float
) -> list[Row]:
    """Naive CP-SAT and PuLP + CBC on one case (objective, budget)."""
    from tutormatch.solve import SolveOptions
    from tutormatch.solve._euros import euro_costs
    from tutormatch.solve._euros_cpsat import solve_euros_cpsat
    from tutormatch.solve._network import build_network
    from tutormatch.solve._pool import full_pool

    rows: list[Row] = []
    # Naive CP-SAT: the exact model, no hint, no bound from the flows.
    started = time.perf_counter()
    network = build_network(problem, full_pool(problem))
    costs = euro_costs(problem, network, model, objective)
    naive = solve_euros_cpsat(
        network, costs, SolveOptions(time_limit=time_limit), objective=objective, budget_eur=budget
    )
    used = np.zeros(network.n_tutors, dtype=bool)
    if naive.status.has_solution:
        used[network.arc_tutor[naive.arc_used]] = True
    covered = math.nan
    if naive.status.has_solution:
        on = np.zeros(network.n_establishments, dtype=bool)
        on[network.arc_establishment[naive.arc_used]] = True
        covered = float(problem.establishments.priority[on].sum())
    rows.append(
        Row(
            name,
            "naive CP-SAT",
            time.perf_counter() - started,
            naive.status.value,
            float(naive.stats.get("model_eur", math.nan)),
            covered,
            int(used.sum()),
            math.nan,
        )
    )
    print(rows[-1], flush=True)
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "case.npz"
        _export(problem, model, path, objective=objective, budget=budget)
        try:
            done = subprocess.run(
                [sys.executable, __file__, "--pulp-worker", str(path), "--time-limit", str(time_limit)],
                capture_output=True,
                text=True,
                timeout=time_limit * 3 + 120,
                check=False,
            )
            out = json.loads(done.stdout.strip().splitlines()[-1])
            rows.append(
                Row(
                    name,
                    "PuLP + CBC",
                    out["seconds"],
                    out["status"],
                    math.nan if out["euros"] is None else out["euros"],
                    math.nan if out["covered"] is None else out["covered"],
                    int(out["tutors"] or 0),
                    math.nan,
                )
            )
        except (subprocess.TimeoutExpired, IndexError, json.JSONDecodeError) as exc:
            rows.append(
                Row(
                    name,
                    "PuLP + CBC",
                    math.nan,
                    f"failed ({type(exc).__name__})",
                    math.nan,
                    math.nan,
                    0,
                    math.nan,
                )
            )
    print(rows[-1], flush=True)
    return rows


def run(national: bool, time_limit: float, *, only: str = "", baselines: bool = True) -> list[Row]:
    """Run every case with every method."""
    import tutormatch as tm
    from tutormatch.model import CostModel

    rows: list[Row] = []
    for name, problem, kw in cases(national):
        if only not in name:
            continue
        model = CostModel(fixed_cost_eur=300)
        objective = str(kw.get("objective"))
        started = time.perf_counter()
        plan = tm.solve(problem, cost_model=model, time_limit=time_limit, **kw)
        rows.append(_tm_row(name, "tutormatch", plan, time.perf_counter() - started))
        print(rows[-1], flush=True)
        if baselines:
            # The weight W makes the "tutors" objective one sum: what a user's MIP would minimise.
            rows.extend(_baselines(name, problem, model, objective, None, time_limit))
        if objective == "euros" and "candidates" not in name:
            budget = 0.9 * plan.objective
            case = name + ", budget -10 %"
            started = time.perf_counter()
            within = tm.solve(problem, cost_model=model, time_limit=time_limit, budget_eur=budget, **kw)
            rows.append(_tm_row(case, "tutormatch", within, time.perf_counter() - started))
            print(rows[-1], flush=True)
            if baselines:
                rows.extend(_baselines(case, problem, model, "euros", budget, time_limit))
    return rows


def markdown(rows: list[Row], time_limit: float, command: str) -> str:
    """Render the rows with the ratio of each baseline's time to tutormatch's."""
    lines = [
        "# Objectives in euros: tutormatch against PuLP + CBC and naive CP-SAT",
        "",
        f"`{command}`, time limit {time_limit:g} s, on-site only, cost model with 300 EUR per recruited",
        "candidate, bonus 3 x cia_eur (70 % known on synthetic cases). Euros are the model's (tutormatch:",
        "the report's total, yearly km rounded to whole km per tutor).",
        "Ratio = the method's time / tutormatch's. Machine: 2 cores shared with other jobs.",
        "",
        "| case | method | status | seconds | ratio | priority covered | euros | gap | tutors |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    ours = {r.case: r.seconds for r in rows if r.method == "tutormatch"}
    for r in rows:
        ratio = r.seconds / ours[r.case] if r.case in ours and math.isfinite(r.seconds) else math.nan
        # A baseline stopped by the limit would have needed longer: its ratio is a lower bound.
        proven = r.status in ("optimal", "Optimal Solution Found")
        shown = "" if r.method == "tutormatch" else f"{'' if proven else '≥ '}{ratio:.0f}x"
        lines.append(
            f"| {r.case} | {r.method} | {r.status} | {r.seconds:.2f} | {shown} | {r.covered:g} | "
            f"{r.euros:,.2f} | "
            f"{'' if not math.isfinite(r.gap) else f'{r.gap:.3%}'}"
            f"{f' ({r.gap_on})' if math.isfinite(r.gap) and r.gap > 0 else ''} | {r.tutors or ''} |"
        )
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--national", action="store_true")
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "euros.md")
    parser.add_argument("--only", default="", help="run the cases whose name holds this text")
    parser.add_argument("--no-baselines", action="store_true", help="tutormatch only")
    parser.add_argument("--pulp-worker", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.pulp_worker:
        pulp_worker(args.pulp_worker, args.time_limit)
        return 0
    rows = run(args.national, args.time_limit, only=args.only, baselines=not args.no_baselines)
    command = "python benchmarks/euros.py" + (" --national" if args.national else "")
    command += f" --time-limit {args.time_limit:g}" if args.time_limit != 60 else ""
    command += f" --only {args.only!r}" if args.only else ""
    command += " --no-baselines" if args.no_baselines else ""
    args.out.write_text(markdown(rows, args.time_limit, command), encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
