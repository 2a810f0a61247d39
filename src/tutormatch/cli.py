"""The ``tutormatch`` command line.

::

    tutormatch solve TUTORS.csv ESTABLISHMENTS.csv --max-km 60 --out DIR
                     [--no-remote] [--time-limit S] [--fixed F] [--forbidden F]
                     [--report [--lang fr|en] [--pseudonymise] [--budget-eur X]]
    tutormatch demo [--out DIR]          solve the built-in example académie (with reports)
    tutormatch report TUTORS.csv ESTABLISHMENTS.csv ASSIGNMENT.csv --out DIR
                                         check and report on a given (hand-edited) plan
    tutormatch example --out DIR         write the example's input files
    tutormatch bench                     moved: `python benchmarks/run.py` in a source checkout

Reports go to ``DIR/report/`` (the files to share); with ``--pseudonymise``
the key table ``pseudonyms_PRIVATE.csv`` goes to ``DIR/``, beside the plan
files, which keep the real ids.

Exit status: 0 with a plan, 1 when the solve produced none (infeasible,
limit reached), 2 on bad input or usage (nothing is written then).
"""

from __future__ import annotations

import argparse
import math
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tutormatch.errors import InputError, TutormatchError

# tutormatch.solve.SOLVERS, spelt out so that the command line starts without
# loading the solvers (a test keeps the two equal).
_SOLVERS = ("auto", "flow", "matching", "flow-bb", "cpsat")

if TYPE_CHECKING:
    from tutormatch.model import Problem
    from tutormatch.report import ReportOptions
    from tutormatch.solve import Assignment

__all__ = ["main"]


def _add_report_options(parser: argparse.ArgumentParser, *, by_default: bool) -> None:
    group = parser.add_argument_group("reports")
    if by_default:
        group.add_argument("--no-report", dest="report", action="store_false", help="write no reports")
    else:
        group.add_argument(
            "--report",
            action="store_true",
            help="also write the reports (HTML, maps, XLSX, CSV) to OUT/report/",
        )
    group.add_argument(
        "--lang", choices=("fr", "en"), default="fr", help="language of the reports (default fr)"
    )
    group.add_argument(
        "--pseudonymise", action="store_true",
        help="pseudonyms instead of tutor ids and names in the reports; key table in OUT/",
    )  # fmt: skip
    group.add_argument(
        "--pseudonym-key-file", type=Path, default=None,
        help="file holding a secret key, for the same pseudonyms run after run (default: a random key)",
    )  # fmt: skip
    group.add_argument("--budget-eur", type=float, default=None, help="yearly budget, to show the headroom")
    group.add_argument(
        "--indemnity-eur", type=float, default=500.0, help="per tutored establishment (default 500)"
    )
    group.add_argument(
        "--remote-pair-cost-eur", type=float, default=0.0, help="fixed cost per remote pair (default 0)"
    )
    group.add_argument(
        "--outlines",
        type=Path,
        default=None,
        help="département polygons for the maps (any file geopandas reads)",
    )


def _add_solve_options(parser: argparse.ArgumentParser) -> None:
    _add_problem_options(parser)
    parser.add_argument(
        "--time-limit",
        type=float,
        default=None,
        help="seconds for cpsat, flow-bb and matching blocks (the flow always finishes)",
    )
    parser.add_argument(
        "--solver", choices=_SOLVERS, default="auto", help="backend (default auto: see docs/model.md)"
    )


def _add_problem_options(parser: argparse.ArgumentParser) -> None:
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
    parser.add_argument(
        "--detour-factor",
        type=float,
        default=1.3,
        help="road km per great-circle km, for the reports (default 1.3)",
    )
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
    _add_report_options(solve, by_default=False)
    demo = commands.add_parser("demo", help="solve the built-in example académie (Aix-Marseille, synthetic)")
    _add_solve_options(demo)
    _add_report_options(demo, by_default=True)
    report = commands.add_parser(
        "report", help="check a given plan (e.g. edited by hand) and write its reports"
    )
    report.add_argument("tutors", type=Path, help="tutors CSV")
    report.add_argument("establishments", type=Path, help="establishments CSV")
    report.add_argument(
        "assignment", type=Path, help="CSV of tutor_id,uai pairs (e.g. an edited assignment.csv)"
    )
    report.add_argument(
        "--fixed", type=Path, default=None, help="CSV of tutor_id,uai pairs that must be kept"
    )
    report.add_argument(
        "--forbidden", type=Path, default=None, help="CSV of tutor_id,uai pairs never to make"
    )
    _add_problem_options(report)
    _add_report_options(report, by_default=True)
    example = commands.add_parser("example", help="write the example's input CSV files")
    example.add_argument(
        "--out", type=Path, required=True, help="folder for tutors.csv and establishments.csv"
    )
    bench = commands.add_parser("bench", help="moved: run benchmarks/run.py in a source checkout")
    bench.add_argument("--quick", action="store_true", help="the short suite, about a minute")
    bench.add_argument(
        "--out", type=Path, default=Path("bench-results"), help="results folder (default: bench-results)"
    )
    return parser


def _settings(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "max_distance_km": args.max_km,
        "allow_remote": not args.no_remote,
        "remote_penalty_km": args.remote_penalty_km,
        "all_or_nothing": args.all_or_nothing,
        "detour_factor": args.detour_factor,
    }


def _report_options(args: argparse.Namespace) -> ReportOptions:
    """Return the ReportOptions of the command line (before anything is solved or written)."""
    from tutormatch.report import ReportOptions

    key = None
    if args.pseudonym_key_file is not None:
        try:
            key = args.pseudonym_key_file.read_bytes().strip()
        except OSError as exc:
            raise InputError(
                f"--pseudonym-key-file: cannot read {args.pseudonym_key_file} ({exc})."
            ) from None
        if not key:
            raise InputError(f"--pseudonym-key-file: {args.pseudonym_key_file} is empty.")
    return ReportOptions(
        indemnity_eur=args.indemnity_eur,
        remote_pair_cost_eur=args.remote_pair_cost_eur,
        budget_eur=args.budget_eur,
        lang=args.lang,
        pseudonymise=args.pseudonymise,
        pseudonym_key=key,
    )


def _read_outlines(path: Path | None) -> Any:
    if path is None:
        return None
    import geopandas as gpd

    try:
        return gpd.read_file(path)
    except Exception as exc:  # GDAL raises many types; its message is what matters
        raise InputError(f"--outlines: cannot read {path} ({exc}).") from None


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


def _print_costs(plan: Assignment, options: ReportOptions) -> None:
    from tutormatch.report import costs

    report = costs(plan, options=options)
    missing = report.n_bonus_missing
    note = f" (bonus not included for {missing} tutors)" if missing else ""
    print(f"yearly cost: {report.total_eur:,.2f} EUR{note}")


def _write(args: argparse.Namespace, plan: Assignment, started: float, inputs: Sequence[Path] = ()) -> int:
    """Write the plan (with its reports, and ``inputs`` copied to OUT/input/) all at once, or nothing."""
    from tutormatch.io._plan_files import write_plan

    want_report = getattr(args, "report", False) and plan.status.has_solution
    if want_report:
        from tutormatch.report._write import write_report_files

        options = _report_options(args)
        outlines = _read_outlines(args.outlines)

    def extra(scratch: Path) -> None:
        if inputs:
            (scratch / "input").mkdir()
            for path in inputs:
                shutil.copyfile(path, scratch / "input" / path.name)
        if want_report:
            # Shared reports in OUT/report/; the key table of pseudonyms in OUT/,
            # beside the plan files that hold the real ids anyway.
            write_report_files(
                plan, scratch / "report", options=options, outlines=outlines, private_directory=scratch
            )

    written = write_plan(plan, args.out, extra=extra)
    if not args.quiet:
        _print_summary(plan, time.perf_counter() - started)
        if want_report:
            _print_costs(plan, options)
        top = [p for p in written if p.parent == args.out]
        print(f"wrote {len(top)} files to {args.out}/: {', '.join(p.name for p in top)}")
        if inputs:
            print(f"wrote the input files to {args.out / 'input'}/: {', '.join(p.name for p in inputs)}")
        if want_report:
            shown = ("report.html", "map.png", "report.xlsx", "map.html")
            n_report = sum(p.parent == args.out / "report" for p in written)
            print(f"wrote {n_report} report files to {args.out / 'report'}/, among them {', '.join(shown)}")
    return 0 if plan.status.has_solution else 1


def _run_solve(
    args: argparse.Namespace, problem_factory: Callable[[], Problem], inputs: Sequence[Path] = ()
) -> int:
    import tutormatch as tm

    started = time.perf_counter()
    if getattr(args, "report", False):
        _report_options(args)  # bad report options fail before the solve
    problem = problem_factory()
    plan = tm.solve(problem, solver=args.solver, time_limit=args.time_limit)
    return _write(args, plan, started, inputs)


def _run_report(args: argparse.Namespace) -> int:
    import tutormatch as tm
    from tutormatch.io._csv import read_csv_table

    started = time.perf_counter()
    _report_options(args)
    problem = tm.Problem.from_csv(
        args.tutors,
        args.establishments,
        fixed_pairs=args.fixed,
        forbidden_pairs=args.forbidden,
        **_settings(args),
    )
    frame, _ = read_csv_table(args.assignment)
    plan = tm.evaluate(problem, frame, name=args.assignment.name)
    return _write(args, plan, started)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "example":
            from tutormatch.scenarios import write_example

            paths = write_example(args.out)
            print(f"wrote {', '.join(str(p) for p in paths)}")
            return 0
        if args.command == "bench":
            print(
                "tutormatch bench: the benchmark suite is not part of the installed package; in a "
                "source checkout run `make bench` or `python benchmarks/run.py --quick` "
                "(see benchmarks/README.md).",
                file=sys.stderr,
            )
            return 2
        if args.max_km < 0 or math.isnan(args.max_km):
            raise InputError(f"--max-km must be >= 0 (or inf); got {args.max_km}.")
        import tutormatch as tm

        if args.command == "report":
            return _run_report(args)
        if args.command == "demo":
            from tutormatch.scenarios import write_example

            # Read from a scratch folder, and copied to OUT/input/ with the
            # plan: a failure leaves nothing behind.
            with tempfile.TemporaryDirectory(prefix="tutormatch-demo-") as scratch:
                tutors_csv, establishments_csv = write_example(scratch)
                return _run_solve(
                    args,
                    lambda: tm.Problem.from_csv(tutors_csv, establishments_csv, **_settings(args)),
                    inputs=(tutors_csv, establishments_csv),
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
