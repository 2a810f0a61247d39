"""Timing of the "why?" answers: shortfall, explain, backups (issue 11).

Run: ``.venv/bin/python benchmarks/why.py`` (about a minute on 2 cores).
Prints one line per measure; the targets are shortfall of the example
académie <= 2 s and backups of every establishment of the national case
(8,000 x 4,000) <= 5 s. Each measure is the best of ``--repeats`` runs.
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from collections.abc import Callable
from typing import Any

import tutormatch as tm


def best_of(repeats: int, fn: Callable[[], Any]) -> tuple[float, Any]:
    best, out = float("inf"), None
    for _ in range(repeats):
        started = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - started)
    return best, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--skip-national", action="store_true")
    args = parser.parse_args()

    problem = tm.example_problem()
    solve_s, plan = best_of(args.repeats, lambda: tm.solve(problem))
    print(f"example académie: solve {solve_s:.3f} s, {plan.n_uncovered} uncovered")
    s, levers = best_of(args.repeats, plan.shortfall)
    print(f"example académie: shortfall {s:.3f} s ({len(levers)} verified levers; target <= 2 s)")
    s, levers = best_of(1, lambda: plan.shortfall(euros=True))
    print(f"example académie: shortfall with euros {s:.3f} s")
    uai = plan.uncovered["uai"].iloc[0]
    s, _ = best_of(args.repeats, lambda: plan.explain(uai))
    print(f"example académie: explain one establishment {s:.3f} s")
    s, table = best_of(args.repeats, lambda: plan.backups(k=3))
    print(f"example académie: backups k=3 for all {s:.3f} s ({len(table)} rows)")
    # Side constraints: each shortlisted pair (2 k) fixed and solved again.
    uais = list(plan.pairs["uai"].iloc[:10])
    aon = tm.solve(dataclasses.replace(problem, all_or_nothing=True))
    s, table = best_of(1, lambda: aon.backups(k=3, uais=uais))
    solved = int((table["status"] == "optimal").sum())
    print(
        f"example académie, all-or-nothing ({aon.solver}): backups k=3 of 10 establishments {s:.2f} s "
        f"({len(table)} rows, {solved} optimal; {s / 60:.3f} s a re-solve)"
    )
    euros = tm.solve(problem, objective="euros")
    s, table = best_of(1, lambda: euros.backups(k=1, uais=uais[:3]))
    print(
        f"example académie, euros ({euros.solver}): backups k=1 of 3 establishments {s:.2f} s "
        f"({len(table)} rows: {', '.join(table['status'])})"
    )
    # Why establishments are uncovered, for all of them (the cost of a plan without any pair).
    import numpy as np

    from tutormatch.solve._reasons import explain_uncovered

    tutors, establishments = tm.datasets.synthetic_instance(2000, 1000, seed=0)
    mid = tm.Problem.from_frames(tutors, establishments, max_distance_km=60)
    everyone = np.arange(mid.n_establishments)
    s, _ = best_of(args.repeats, lambda: explain_uncovered(mid, everyone, all_or_nothing=False))
    print(f"2,000 x 1,000: reasons for 2,000 uncovered establishments {s:.3f} s")
    if args.skip_national:
        return
    tutors, establishments = tm.datasets.synthetic_instance(8000, 4000, seed=0)
    national = tm.Problem.from_frames(tutors, establishments, max_distance_km=60)
    solve_s, plan = best_of(1, lambda: tm.solve(national))
    print(f"national 8,000 x 4,000: solve {solve_s:.2f} s, {plan.n_uncovered} uncovered")
    s, table = best_of(1, lambda: plan.backups(k=3))
    print(f"national 8,000 x 4,000: backups k=3 for all {s:.2f} s ({len(table)} rows; target <= 5 s)")
    s, levers = best_of(1, plan.shortfall)
    print(f"national 8,000 x 4,000: shortfall {s:.2f} s ({len(levers)} verified levers)")


if __name__ == "__main__":
    main()
