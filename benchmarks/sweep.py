"""Sweeps at scale: many scenarios on 1 and 2 worker processes, the speed-up reported.

    python benchmarks/sweep.py                      # académie: 200 scenarios
    python benchmarks/sweep.py --part national      # national: 20 scenarios
    python benchmarks/sweep.py --part all --out benchmarks/results

Each scenario withdraws tutors drawn at random (Monte-Carlo, seeded) from
the base problem: the shipped example académie (260 tutors, 500
establishments) or a synthetic national instance (4,000 tutors, 8,000
establishments). The sweep runs in one process (``tm.compare``, the
baseline a user writes as a loop), then with ``tm.sweep`` on a local
process pool of 1 and 2 workers; every run must give the same table (times
aside). Writes ``sweep-PART.md`` into ``--out``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

import tutormatch as tm
from tutormatch.datasets import synthetic_instance
from tutormatch.scenarios import withdrawals

TIMES = ["solve_seconds", "seconds"]


def base_problem(part: str) -> tuple[tm.Problem, int, int]:
    """Return the base problem, the number of scenarios and of tutors withdrawn in each."""
    if part == "academie":
        return tm.example_problem(), 200, 10
    tutors, establishments = synthetic_instance(8000, 4000, seed=0)
    return tm.Problem.from_frames(tutors, establishments, max_distance_km=60), 20, 100


def timed(label: str, run: object) -> tuple[pd.DataFrame, float]:
    started = time.perf_counter()
    table = run()  # type: ignore[operator]
    seconds = time.perf_counter() - started
    print(f"  {label}: {seconds:.1f} s", file=sys.stderr, flush=True)
    return table, seconds


def measure(part: str) -> str:
    load = os.getloadavg()
    problem, n_scenarios, n_withdrawn = base_problem(part)
    scenarios = withdrawals(problem, n_scenarios, n_withdrawn, seed=2026)
    print(f"{part}: {problem!r}, {n_scenarios} scenarios", file=sys.stderr, flush=True)
    rows = []
    serial, serial_s = timed("in one process (tm.compare)", lambda: tm.compare(scenarios))
    rows.append(("in one process: `tm.compare` (a loop)", 1, serial_s))
    for workers in (1, 2):
        table, seconds = timed(
            f"tm.sweep, {workers} worker(s)",
            lambda w=workers: tm.sweep(scenarios, max_workers=w, progress=False),
        )
        pd.testing.assert_frame_equal(serial.drop(columns=TIMES), table.drop(columns=TIMES))
        rows.append((f"`tm.sweep`, process pool of {workers}", workers, seconds))
    one = rows[1][2]
    n_failed = int((serial["status"] == "error").sum())
    solve_s = float(serial["solve_seconds"].sum())
    lines = [
        f"# Sweep: {part}",
        "",
        f"Command: `python benchmarks/sweep.py --part {part}`  ",
        f"Date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC  ",
        f"Machine: {os.cpu_count()} CPUs, {platform.processor() or platform.machine()}, "
        f"Python {platform.python_version()}, tutormatch {tm.__version__} ({_commit()})  ",
        f"Load average before the runs (1, 5, 15 min): {', '.join(f'{x:.1f}' for x in load)} "
        "(other work on the machine takes cores from the pool)",
        "",
        f"Base problem: {problem!r}. {n_scenarios} scenarios, each withdrawing {n_withdrawn} tutors "
        f"drawn at random (seed 2026). {n_failed} failed. Solver time alone (sum over scenarios): "
        f"{solve_s:.1f} s. The three runs give the same table (times aside).",
        "",
        "| how | workers | seconds | scenarios / s | speed-up vs 1 worker |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for label, workers, seconds in rows:
        lines.append(
            f"| {label} | {workers} | {seconds:.1f} | {n_scenarios / seconds:.1f} | {one / seconds:.2f} |"
        )
    lines += [
        "",
        "The pool's time includes starting its processes (forkserver) and each worker's first "
        "use of the base problem (unpickling it once, building its spatial index).",
        "",
    ]
    return "\n".join(lines)


def _commit() -> str:
    try:
        command = ["git", "rev-parse", "--short", "HEAD"]
        out = subprocess.run(command, capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return "no git"
    return out.stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--part", choices=("academie", "national", "all"), default="academie")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args()
    parts = ("academie", "national") if args.part == "all" else (args.part,)
    args.out.mkdir(parents=True, exist_ok=True)
    for part in parts:
        text = measure(part)
        (args.out / f"sweep-{part}.md").write_text(text, encoding="utf-8")
        print(text)


if __name__ == "__main__":
    main()
