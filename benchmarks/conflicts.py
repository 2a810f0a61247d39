"""Time the conflicts of an infeasible académie: every tutor's minimum load = its capacity.

Run: ``.venv/bin/python benchmarks/conflicts.py``. The example académie
(500 establishments x 260 tutors, 63,000 eligible pairs) with 260 minimum
loads: more places than the rules can fill. Prints the solve (which now
finds the conflict for ``plan.message``), the flow presolve's parts, and the
answer: how many relaxed, whether proven least, the size of the minimal
conflict, and that the relaxed problem solves.
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np

import tutormatch as tm
from tutormatch.solve._conflict_flow import FlowCheck
from tutormatch.solve._conflicts import _names, _pairs


def main() -> None:
    problem = tm.example_problem()
    tutors = dataclasses.replace(problem.tutors, min_load=problem.tutors.capacity.copy())
    stuck = dataclasses.replace(problem, tutors=tutors)
    started = time.perf_counter()
    plan = tm.solve(stuck)
    solved = time.perf_counter()
    why = plan.conflicts()
    print(f"solve with the conflicts: {plan.status.value}, {solved - started:.2f} s")
    print(f"message: {plan.message[:160]}...")
    print(
        f"conflicts: {why.n_relaxed} relaxed, proven={why.is_proven}, "
        f"{int(why.table['in_conflict'].sum())} in the minimal conflict"
    )
    # The parts of the flow presolve.
    t0 = time.perf_counter()
    names = _names(stuck)
    pt, pe = _pairs(stuck, np.unique(np.array([t for _, t, _ in names], dtype=np.int64)))
    t1 = time.perf_counter()
    check = FlowCheck(stuck, pt, pe, names)
    everything = np.ones(len(names), dtype=bool)
    deficit, side = check.cut(everything)
    t2 = time.perf_counter()
    greedy = check.greedy(everything)
    t3 = time.perf_counter()
    core = check.minimal_conflict(side[check.tutor])
    t4 = time.perf_counter()
    print(
        f"parts: pairs {t1 - t0:.2f} s ({len(pt):,}), one max flow + cut {t2 - t1:.3f} s "
        f"(deficit {deficit}, {int(side.sum())} tutors on the cut's side), greedy {t3 - t2:.2f} s "
        f"({int(greedy.sum())} relaxed), minimal conflict {t4 - t3:.2f} s ({len(core)})"
    )
    again = tm.solve(why.relaxed_problem)
    print(f"after the relaxation: {again.status.value}")


if __name__ == "__main__":
    main()
