"""Benchmark: a national rollout of five waves planned, then one withdrawal repaired.

Usage::

    .venv/bin/python benchmarks/waves.py            # writes benchmarks/results/waves.md

Targets (issue 13): the five waves of 8,000 establishments and 4,000 tutors
planned in <= 10 s; a repair in <= 0.5 s. Also timed, in the same run, the
baseline a user would otherwise write for the repair: solving the wave again
from scratch without the withdrawn tutor (fast, but it moves many more
pairs).
"""

from __future__ import annotations

import platform
import time
from pathlib import Path

import numpy as np
import pandas as pd

import tutormatch as tm
from tutormatch.datasets import synthetic_instance
from tutormatch.waves._example import dated_waves

OUT = Path(__file__).parent / "results" / "waves.md"


def markdown(frame: pd.DataFrame) -> str:
    """A Markdown table (pandas' to_markdown needs tabulate, not a dependency)."""

    def cell(value: object) -> str:
        if isinstance(value, float):
            return "" if np.isnan(value) else f"{value:,.1f}"
        return "" if value is pd.NA else str(value)

    rows = [" | ".join(map(str, frame.columns)), " | ".join("---" for _ in frame.columns)]
    rows += [" | ".join(cell(v) for v in row) for row in frame.itertuples(index=False)]
    return "\n".join(f"| {r} |" for r in rows)


def main() -> None:
    started = time.perf_counter()
    tutors, establishments = dated_waves(*synthetic_instance(8000, 4000, seed=0))
    problem = tm.Problem.from_frames(tutors, establishments)
    built = time.perf_counter() - started
    started = time.perf_counter()
    plan = tm.plan_waves(problem)
    planned = time.perf_counter() - started
    started = time.perf_counter()
    years = plan.school_years()
    costed = time.perf_counter() - started
    # Withdraw the busiest tutor of the second wave, in that wave.
    wave = plan.waves[1]
    loads = np.bincount(wave.plan.tutor, minlength=problem.n_tutors)
    gone = str(problem.tutors.id[int(np.argmax(loads))])
    tm.repair(wave.plan, withdraw=gone)  # warm: candidates are cached on the wave's problem
    started = time.perf_counter()
    fixed = tm.repair(wave.plan, withdraw=gone)
    repaired = time.perf_counter() - started
    started = time.perf_counter()
    rollout = tm.repair(plan, withdraw=gone, at=wave.label)
    repaired_all = time.perf_counter() - started
    # Baseline: solve the wave again without the tutor.
    import dataclasses

    capacity = wave.plan.problem.tutors.capacity.copy()
    capacity[problem.tutors.id == gone] = 0
    again_problem = dataclasses.replace(
        wave.plan.problem, tutors=dataclasses.replace(wave.plan.problem.tutors, capacity=capacity)
    )
    started = time.perf_counter()
    again = tm.solve(again_problem)
    resolved = time.perf_counter() - started
    before = dict(zip(wave.plan.establishment.tolist(), wave.plan.tutor.tolist(), strict=True))
    after = dict(zip(again.establishment.tolist(), again.tutor.tolist(), strict=True))
    moved_again = sum(before.get(e) != after.get(e) for e in before)
    lines = [
        "# Benchmark: a national rollout in five waves",
        "",
        f"Machine: {platform.machine()}, {platform.python_version()}; run by `benchmarks/waves.py`.",
        f"Instance: `synthetic_instance(8000, 4000, seed=0)` with dated waves; built in {built:.2f} s.",
        "",
        "| step | seconds | target |",
        "| --- | ---: | ---: |",
        f"| plan 5 waves (`tm.plan_waves`) | {planned:.2f} | <= 10 |",
        f"| euros per school and calendar year (`school_years()`) | {costed:.2f} | |",
        f"| repair one withdrawal in a wave (`tm.repair(wave.plan, ...)`) | {repaired:.3f} | <= 0.5 |",
        f"| repair it over the rollout (`tm.repair(plan, at=...)`) | {repaired_all:.3f} | |",
        f"| baseline: solve the wave again without the tutor | {resolved:.3f} | |",
        "",
        f"Withdrawn: {gone} ({int(loads.max())} establishments in wave {wave.label}). Repair: "
        f"{fixed.n_changed} pairs changed, {len(fixed.tutors_touched)} tutors touched, "
        f"{len(fixed.uncovered)} left uncovered, proven: {fixed.is_optimal}. Solving again from "
        f"scratch instead changes {moved_again} pairs (ratio {moved_again / max(fixed.n_changed, 1):.0f}x).",
        f"Over the rollout: {rollout.n_changed} pairs changed in {len(rollout.repairs)} waves.",
        "",
        "## Waves",
        "",
        markdown(plan.summary),
        "",
        "## Per school year and calendar year",
        "",
        markdown(years),
        "",
    ]
    OUT.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
