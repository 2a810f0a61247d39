"""The ``tutormatch`` command line.

::

    tutormatch solve TUTORS.csv ESTABLISHMENTS.csv --max-km 60 --out DIR
                     [--no-remote] [--time-limit S] [--fixed F] [--forbidden F]
    tutormatch demo [--out DIR]          solve the built-in example académie
    tutormatch example --out DIR         write the example's input files

Exit status: 0 with a plan, 1 when the solve produced none (infeasible,
limit reached), 2 on bad input or usage (nothing is written then).
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from tutormatch.errors import InputError, TutormatchError

__all__ = ["main"]


def _add_solve_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, default=Path("out"), help="output folder (default: out)")
    parser.add_argument(
        "--max-km",
        type=float,
        default=60.0,
        help="on-site limit, great-circle km (default 60; 'inf' for none)",
    )
    parser.add_argument("--no-remote", action="store_true", help="never tutor remotely")
    parser.add_argument(
        "--remote-penalty-km",
        type=float,
        default=None,
        help="cost of a remote pair in km-equivalent (default: 2 x visits x max-km)",
    )
    parser.add_argument("--time-limit", type=float, default=None, help="seconds (CP-SAT only)")
    parser.add_argument("--solver", choices=("auto", "flow", "cpsat"), default="auto")
    parser.add_argument(
        "--all-or-nothing", action="store_true", help="each tutor takes 0 or exactly their capacity"
    )
    parser.add_argument("--quiet", action="store_true", help="print nothing on success")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tutormatch",
        description="Assign Op@le tutors to establishments, to proven optimality.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    solve = commands.add_parser("solve", help="solve your own CSV files")
    solve.add_argument("tutors", type=Path, help="tutors CSV")
    solve.add_argument("establishments", type=Path, help="establishments CSV")
    solve.add_argument("--fixed", type=Path, default=None, help="CSV of tutor_id,uai pairs to keep")
    solve.add_argument("--forbidden", type=Path, default=None, help="CSV of tutor_id,uai pairs never to make")
    _add_solve_options(solve)
    demo = commands.add_parser("demo", help="solve the built-in example académie (Aix-Marseille, synthetic)")
    _add_solve_options(demo)
    example = commands.add_parser("example", help="write the example's input CSV files")
    example.add_argument(
        "--out", type=Path, required=True, help="folder for tutors.csv and establishments.csv"
    )
    return parser


def _settings(args: argparse.Namespace) -> dict[str, object]:
    return {
        "max_distance_km": args.max_km,
        "allow_remote": not args.no_remote,
        "remote_penalty_km": args.remote_penalty_km,
        "all_or_nothing": args.all_or_nothing,
    }


def _print_summary(plan: object, seconds: float) -> None:
    from tutormatch.solve._assignment import Assignment

    assert isinstance(plan, Assignment)
    s = plan.summary()
    for name, how in plan.problem.sources.items():
        print(f"read {name}: {how}")
    gap = "" if not s["gap"] else f", gap {s['gap']:.3%}"
    print(f"status: {s['status']} (solver {s['solver']}{gap})")
    print(
        f"establishments covered: {s['n_covered']} / {s['n_establishments']}"
        f" ({s['n_remote']} remote, {s['n_uncovered']} uncovered)"
    )
    print(f"tutors used: {s['n_tutors_used']} / {s['n_tutors']}")
    print(f"on-site distance: total {s['total_distance_km']:,.1f} km, worst {s['max_distance_km']:.1f} km")
    print(f"time: solve {s['solve_seconds']:.3f} s, total {seconds:.2f} s")


def _run_solve(args: argparse.Namespace, problem_factory: object) -> int:
    import tutormatch as tm

    started = time.perf_counter()
    problem = problem_factory()  # type: ignore[operator]
    plan = tm.solve(problem, solver=args.solver, time_limit=args.time_limit)
    from tutormatch.io._plan_files import write_plan

    written = write_plan(plan, args.out)
    if not args.quiet:
        _print_summary(plan, time.perf_counter() - started)
        print(f"wrote {len(written)} files to {args.out}/: {', '.join(p.name for p in written)}")
    return 0 if plan.status.has_solution else 1


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "example":
            from tutormatch.scenarios import write_example

            paths = write_example(args.out)
            print(f"wrote {', '.join(str(p) for p in paths)}")
            return 0
        if args.max_km < 0 or math.isnan(args.max_km):
            raise InputError(f"--max-km must be >= 0 (or inf); got {args.max_km}.")
        import tutormatch as tm

        if args.command == "demo":
            from tutormatch.scenarios import write_example

            inputs = args.out / "input"
            tutors_csv, establishments_csv = write_example(inputs)
            return _run_solve(
                args,
                lambda: tm.Problem.from_csv(tutors_csv, establishments_csv, **_settings(args)),
            )
        return _run_solve(
            args,
            lambda: tm.Problem.from_csv(
                args.tutors,
                args.establishments,
                fixed_pairs=args.fixed,
                forbidden_pairs=args.forbidden,
                **_settings(args),
            ),
        )
    except InputError as exc:
        print(f"tutormatch: error: {exc}", file=sys.stderr)
        print("Nothing was written.", file=sys.stderr)
        return 2
    except TutormatchError as exc:
        print(f"tutormatch: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
