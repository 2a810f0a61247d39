"""Time ``plan.conflicts()`` on the example académie made infeasible (every minimum load = capacity).

Run: ``.venv/bin/python benchmarks/conflicts.py``.
"""

from __future__ import annotations

import dataclasses
import time

import tutormatch as tm


def main() -> None:
    problem = tm.example_problem()
    tutors = dataclasses.replace(problem.tutors, min_load=problem.tutors.capacity.copy())
    stuck = dataclasses.replace(problem, tutors=tutors)
    started = time.perf_counter()
    plan = tm.solve(stuck)
    solved = time.perf_counter()
    why = plan.conflicts()
    done = time.perf_counter()
    print(f"solve: {plan.status.value}, {solved - started:.2f} s")
    print(
        f"conflicts: {done - solved:.1f} s, {why.n_relaxed} relaxed, proven={why.is_proven}, "
        f"{int(why.table['in_conflict'].sum())} in the conflict"
    )
    again = tm.solve(why.relaxed_problem)
    print(f"after the relaxation: {again.status.value}")


if __name__ == "__main__":
    main()
