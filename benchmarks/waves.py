"""Benchmark: a rollout of five waves planned, then one withdrawal repaired, at two sizes.

Usage::

    .venv/bin/python benchmarks/waves.py                    # both parts
    .venv/bin/python benchmarks/waves.py --part academie    # writes benchmarks/results/waves-academie.md
    .venv/bin/python benchmarks/waves.py --part national    # writes benchmarks/results/waves.md

Parts: ``academie`` is the example académie rolled out over five waves
(``tm.waves.example_rollout_frames()``: 500 establishments, 260 tutors);
``national`` is ``synthetic_instance(8000, 4000, seed=0)`` with dated waves.
Targets (issue 13, national): the five waves planned in <= 10 s; a repair in
<= 0.5 s. Also timed, in the same run, the baseline a user would otherwise
write for the repair: solving the wave again from scratch without the
withdrawn tutor (fast, but it moves many more pairs). Each time is the
median of ``--repeats`` runs (default: 5 for the académie, 1 national).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import os
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import numpy as np
import pandas as pd

import tutormatch as tm
from tutormatch.datasets import synthetic_instance
from tutormatch.waves._example import dated_waves

RESULTS = Path(__file__).parent / "results"
T = TypeVar("T")


def markdown(frame: pd.DataFrame) -> str:
    """A Markdown table (pandas' to_markdown needs tabulate, not a dependency)."""

    def cell(value: object) -> str:
        if isinstance(value, float):
            return "" if np.isnan(value) else f"{value:,.1f}"
        return "" if value is pd.NA else str(value)

    rows = [" | ".join(map(str, frame.columns)), " | ".join("---" for _ in frame.columns)]
    rows += [" | ".join(cell(v) for v in row) for row in frame.itertuples(index=False)]
    return "\n".join(f"| {r} |" for r in rows)


PARTS = {
    "academie": ("the example académie in five waves", "waves-academie.md", 5),
    "national": ("a national rollout in five waves", "waves.md", 1),
}


def rollout(part: str) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """Return the part's tutors, establishments and a line describing them."""
    if part == "academie":
        return (*tm.waves.example_rollout_frames(), "`tm.waves.example_rollout_frames()` (500 x 260)")
    instance = "`synthetic_instance(8000, 4000, seed=0)` with dated waves"
    return (*dated_waves(*synthetic_instance(8000, 4000, seed=0)), instance)


def timed(repeats: int, run: Callable[[], T]) -> tuple[T, float]:
    """Run ``run`` ``repeats`` times; return its last result and the median seconds."""
    seconds = []
    for _ in range(repeats):
        started = time.perf_counter()
        result = run()
        seconds.append(time.perf_counter() - started)
    return result, statistics.median(seconds)


def measure(part: str, repeats: int) -> str:
    """Plan, cost and repair one part's rollout; return the Markdown report."""
    title, _, _ = PARTS[part]
    started = time.perf_counter()
    tutors, establishments, instance = rollout(part)
    problem = tm.Problem.from_frames(tutors, establishments)
    built = time.perf_counter() - started
    plan, planned = timed(repeats, lambda: tm.plan_waves(problem))
    years, costed = timed(repeats, plan.school_years)
    # Withdraw the busiest tutor of the second wave, in that wave.
    wave = plan.waves[1]
    loads = np.bincount(wave.plan.tutor, minlength=problem.n_tutors)
    gone = str(problem.tutors.id[int(np.argmax(loads))])
    tm.repair(wave.plan, withdraw=gone)  # warm: candidates are cached on the wave's problem
    fixed, repaired = timed(repeats, lambda: tm.repair(wave.plan, withdraw=gone))
    whole, repaired_all = timed(repeats, lambda: tm.repair(plan, withdraw=gone, at=wave.label))
    # Baseline: solve the wave again without the tutor.
    capacity = wave.plan.problem.tutors.capacity.copy()
    capacity[problem.tutors.id == gone] = 0
    again_problem = dataclasses.replace(
        wave.plan.problem, tutors=dataclasses.replace(wave.plan.problem.tutors, capacity=capacity)
    )
    again, resolved = timed(repeats, lambda: tm.solve(again_problem))
    before = dict(zip(wave.plan.establishment.tolist(), wave.plan.tutor.tolist(), strict=True))
    after = dict(zip(again.establishment.tolist(), again.tutor.tolist(), strict=True))
    moved_again = sum(before.get(e) != after.get(e) for e in before)
    lines = [
        f"# Benchmark: {title}",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"load average {os.getloadavg()[0]:.1f}; run by `benchmarks/waves.py --part {part}` "
        f"on {dt.date.today().isoformat()}.",
        f"Instance: {instance}; built in {built:.2f} s. Times: median of {repeats} run(s).",
        "",
        "| step | seconds | target |",
        "| --- | ---: | ---: |",
        f"| plan 5 waves (`tm.plan_waves`) | {planned:.3f} | {'<= 10' if part == 'national' else ''} |",
        f"| euros per school and calendar year (`school_years()`) | {costed:.3f} | |",
        f"| repair one withdrawal in a wave (`tm.repair(wave.plan, ...)`) | {repaired:.3f} | <= 0.5 |",
        f"| repair it over the rollout (`tm.repair(plan, at=...)`) | {repaired_all:.3f} | |",
        f"| baseline: solve the wave again without the tutor | {resolved:.3f} | |",
        "",
        f"Withdrawn: {gone} ({int(loads.max())} establishments in wave {wave.label}). Repair: "
        f"{fixed.n_changed} pairs changed, {len(fixed.tutors_touched)} tutors touched, "
        f"{len(fixed.uncovered)} left uncovered, proven: {fixed.is_optimal}. Solving again from "
        f"scratch instead changes {moved_again} pairs (ratio {moved_again / max(fixed.n_changed, 1):.0f}x).",
        f"Over the rollout: {whole.n_changed} pairs changed in {len(whole.repairs)} waves.",
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
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--part", choices=[*PARTS, "all"], default="all")
    parser.add_argument("--repeats", type=int, default=None, help="runs per step (median reported)")
    args = parser.parse_args()
    for part in PARTS if args.part == "all" else [args.part]:
        _, name, repeats = PARTS[part]
        text = measure(part, args.repeats or repeats)
        (RESULTS / name).write_text(text, encoding="utf-8")
        print(text)


if __name__ == "__main__":
    main()
