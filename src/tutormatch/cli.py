"""The ``tutormatch`` command line.

::

    tutormatch solve TUTORS ESTABLISHMENTS --max-km 60 --out DIR
                     [--no-remote] [--time-limit S] [--fixed F] [--forbidden F] [--sheet NAME]
                     [--objective km|euros|tutors|worst-trip|worst-year|full-loads|groups
                                  |coverage,worst-trip,euros~2%] [--groups hard]
                     [--budget-eur X] [--fixed-cost-eur X]
                     [--report [--pseudonymise]] [--lang fr|en] [--shortfall | --no-shortfall]
                     [--formats csv,xlsx]
    tutormatch demo [--out DIR]          solve the built-in example académie (with reports)
    tutormatch report TUTORS ESTABLISHMENTS ASSIGNMENT --out DIR
                                         check and report on a given (hand-edited) plan
    tutormatch explain TUTORS ESTABLISHMENTS ASSIGNMENT UAI [--lang fr|en] [--json]
                                         why UAI has its tutor (or none) in a plan
    tutormatch waves TUTORS ESTABLISHMENTS --out DIR [--support-months 12] [--live-months 6]
                                         plan a rollout wave after wave (waves as YYYY-MM)
    tutormatch repair PLAN_DIR --withdraw T0012 [--at YYYY-MM] --out DIR
                                         re-plan a rollout after tutors withdraw, fewest changes first
    tutormatch example --out DIR         write the example's input files
    tutormatch pareto TUTORS ESTABLISHMENTS --out DIR [--x worst-trip] [--y euros] [--points N]
                                         the front of two criteria (pareto.csv, pareto.png)
    tutormatch compare SCENARIOS.toml --out DIR [--jobs N] [--lang fr|en]
                                         solve scenarios and compare them (CSV, XLSX, HTML)
    tutormatch bench                     moved: `python benchmarks/run.py` in a source checkout
    tutormatch --version

Tables are CSV files or ``.xlsx`` workbooks. Numbers may be written with a
decimal comma (``--max-km 42,5``). Plan files follow ``--lang`` (French by
default: ``;``, BOM, decimal comma). Reports go to ``DIR/report/``; with
``--pseudonymise`` the key table ``pseudonyms_PRIVATE.csv`` goes to ``DIR/``,
beside the plan files, which keep the real ids.

``DIR`` is tutormatch's own: new, empty, or written by tutormatch before and
unchanged since. It is checked before anything is solved, and replaced as a
whole once the new plan is complete (see :mod:`tutormatch.io._output`).

Progress goes to the standard error through :mod:`logging` (logger
``tutormatch``; ``-v`` for more, ``-q`` for none); the summary goes to the
standard output, as text or, with ``--json``, as one JSON object.

With uncovered establishments and at most 2,000 establishments, ``solve``
and ``demo`` also write ``shortfall.csv``/``.json`` (the levers that would
cover them, each verified by a re-solve) and show them in the reports;
``--shortfall`` asks for it beyond, ``--no-shortfall`` never.

Exit status: 0 with a plan, 1 when the solve produced none (infeasible,
limit reached; an output folder holding a plan is then left as it was, a new
or empty one gets ``conflicts.csv``/``.json`` when the constraints conflict),
2 on bad input or usage (nothing is written then).
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tutormatch import __version__
from tutormatch.errors import InputError, TutormatchError

# tutormatch.solve.SOLVERS, spelt out so that the command line starts without
# loading the solvers (a test keeps the two equal).
_SOLVERS = ("auto", "flow", "matching", "flow-bb", "cpsat")
_OBJECTIVES = ("km", "euros", "tutors")
#: Criteria of a Pareto front (tutormatch.solve.CRITERIA without coverage; kept here for a cheap import).
_CRITERIA = ("km", "euros", "tutors", "worst-trip", "worst-year", "full-loads", "groups")

if TYPE_CHECKING:
    from tutormatch.io._output import OutputFolder
    from tutormatch.model import Problem
    from tutormatch.report import ReportOptions
    from tutormatch.solve import Assignment

__all__ = ["main"]

logger = logging.getLogger("tutormatch")


def _number(text: str) -> float:
    """Parse a number of the command line: ``42.5``, ``42,5`` or ``inf``."""
    value = text.strip()
    if value.count(",") == 1 and "." not in value:
        value = value.replace(",", ".")
    try:
        return float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number such as 42.5 or 42,5; got {text!r}") from None


_number.__name__ = "number"  # argparse names the type in its messages


def _add_output_options(parser: argparse.ArgumentParser, *, json_summary: bool = True) -> None:
    group = parser.add_argument_group("output")
    loud = group.add_mutually_exclusive_group()
    loud.add_argument(
        "-q", "--quiet", action="store_true", help="print nothing but errors (no progress, no summary)"
    )
    loud.add_argument("-v", "--verbose", action="store_true", help="more progress messages")
    if json_summary:
        group.add_argument(
            "--json", action="store_true", help="print the summary as one JSON object, for other tools"
        )


def _formats(text: str) -> tuple[str, ...]:
    """Read ``--formats`` (``csv``, ``xlsx`` or both, comma-separated)."""
    asked = tuple(dict.fromkeys(part.strip().lower() for part in text.split(",") if part.strip()))
    wrong = [f for f in asked if f not in ("csv", "xlsx")]
    if not asked or wrong:
        raise argparse.ArgumentTypeError(f"must be csv, xlsx or csv,xlsx; got {text!r}")
    return asked


def _add_formats_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--formats", type=_formats, default=("csv", "xlsx"), metavar="csv,xlsx",
        help="formats of the assignment table (default csv,xlsx); --formats csv skips the workbook, "
        "most of the writing time of a national plan. tutors.csv and the summaries are always written",
    )  # fmt: skip


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
        "--lang",
        choices=("fr", "en"),
        default="fr",
        help="language of the plan files and reports (default fr: ';', BOM, decimal comma for Excel)",
    )
    group.add_argument(
        "--pseudonymise", action="store_true",
        help="pseudonyms instead of tutor ids and names in the reports; key table in OUT/",
    )  # fmt: skip
    group.add_argument(
        "--pseudonym-key-file", type=Path, default=None,
        help="file holding a secret key, for the same pseudonyms run after run (default: a random key)",
    )  # fmt: skip
    group.add_argument(
        "--budget-eur", type=_number, default=None,
        help="yearly budget: a constraint of the plan (solve, demo) and the headroom in the reports",
    )  # fmt: skip
    _add_cost_options(group)
    group.add_argument(
        "--outlines",
        type=Path,
        default=None,
        help="your own polygons for the maps, instead of the shipped départements (any file geopandas reads)",
    )
    group.add_argument(
        "--map-tiles", metavar="URL", help="tile server ({z}/{x}/{y}) for map.html (default: offline)"
    )


def _add_cost_options(container: argparse._ActionsContainer) -> None:
    """Add the cost model's options (beyond the shipped scale) to a parser or an argument group."""
    container.add_argument(
        "--fixed-cost-eur", type=_number, default=0.0,
        help="yearly cost of recruiting a candidate tutor whose fixed_cost_eur is empty (default 0)",
    )  # fmt: skip
    container.add_argument(
        "--indemnity-eur", type=_number, default=500.0, help="per tutored establishment (default 500)"
    )
    container.add_argument(
        "--remote-pair-cost-eur", type=_number, default=0.0, help="fixed cost per remote pair (default 0)"
    )


def _add_solve_options(parser: argparse.ArgumentParser) -> None:
    _add_problem_options(parser)
    parser.add_argument(
        "--time-limit",
        type=_number,
        default=None,
        help="seconds for cpsat, flow-bb and matching blocks (the flow always finishes)",
    )
    parser.add_argument(
        "--solver", choices=_SOLVERS, default="auto", help="backend (default auto: see docs/model.md)"
    )
    parser.add_argument(
        "--objective", type=_objective, default="km", metavar="CRITERIA",
        help="after coverage: km (default), euros, tutors (docs/euros.md), worst-trip, worst-year, "
        "full-loads, groups, or an order such as coverage,worst-trip,euros with tolerances such as "
        "euros~2%% (docs/fairness.md)",
    )  # fmt: skip


def _add_groups_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--groups", choices=("hard",), default=None,
        help="hard: each agence comptable's covered establishments have one tutor (docs/fairness.md)",
    )  # fmt: skip


def _objective(text: str) -> str:
    """Check ``--objective`` when the command line is read (nothing is solved or written before)."""
    if text in _OBJECTIVES:
        return text
    from tutormatch.solve._criteria import parse_objective_text

    try:
        parse_objective_text(text)
    except InputError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return text


def _add_problem_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("out"),
        help="output folder, tutormatch's own: new, empty or a previous output (default: out)",
    )
    parser.add_argument(
        "--max-km",
        type=_number,
        default=60.0,
        help="on-site limit, great-circle km (default 60; 'inf' for none)",
    )
    parser.add_argument("--no-remote", action="store_true", help="never tutor remotely")
    parser.add_argument(
        "--remote-penalty-km",
        type=_number,
        default=None,
        help="cost of a remote pair in km-equivalent (default: 2 x visits x max-km)",
    )
    parser.add_argument(
        "--detour-factor",
        type=_number,
        default=1.3,
        help="road km per great-circle km, for the reports (default 1.3)",
    )
    parser.add_argument(
        "--all-or-nothing", action="store_true", help="each tutor takes 0 or exactly their capacity"
    )


def _add_sheet_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sheet", default=None, help="sheet to read in .xlsx workbooks that have several")


def _at_least_one(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1; got {text!r}")
    return value


def _add_shortfall_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--shortfall",
        action="store_true",
        default=None,
        help="write shortfall.csv/.json (and the levers in the reports): what would cover the "
        "establishments left out, each lever verified by a re-solve. Default: when some are "
        "uncovered and there are at most 2,000 establishments (about a second for an académie; "
        "minutes for all of France)",
    )
    group.add_argument(
        "--no-shortfall", dest="shortfall", action="store_false", help="never compute the shortfall"
    )
    parser.add_argument(
        "--backups",
        type=_at_least_one,
        default=None,
        metavar="K",
        help="also write backups.csv: each establishment's next K tutors, ranked by the exact change "
        "of the optimum if forced (from the residual graph; with all-or-nothing loads, euros or a "
        "budget each one is a re-solve, within --time-limit or 60 s)",
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tutormatch",
        description="Assign Op@le tutors to establishments, to proven optimality.",
    )
    parser.add_argument("--version", action="version", version=f"tutormatch {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    solve = commands.add_parser("solve", help="solve your own files (CSV or .xlsx)")
    solve.add_argument("tutors", type=Path, help="tutors table (CSV or .xlsx)")
    solve.add_argument("establishments", type=Path, help="establishments table (CSV or .xlsx)")
    solve.add_argument("--fixed", type=Path, default=None, help="table of tutor_id,uai pairs to keep")
    solve.add_argument(
        "--forbidden", type=Path, default=None, help="table of tutor_id,uai pairs never to make"
    )
    _add_sheet_option(solve)
    _add_solve_options(solve)
    _add_groups_option(solve)
    _add_report_options(solve, by_default=False)
    _add_output_options(solve)
    _add_formats_option(solve)
    _add_shortfall_options(solve)
    demo = commands.add_parser("demo", help="solve the built-in example académie (Aix-Marseille, synthetic)")
    _add_solve_options(demo)
    _add_groups_option(demo)
    _add_report_options(demo, by_default=True)
    _add_output_options(demo)
    _add_shortfall_options(demo)
    report = commands.add_parser(
        "report", help="check a given plan (e.g. edited by hand) and write its reports"
    )
    report.add_argument("tutors", type=Path, help="tutors table (CSV or .xlsx)")
    report.add_argument("establishments", type=Path, help="establishments table (CSV or .xlsx)")
    report.add_argument(
        "assignment", type=Path, help="table of tutor_id,uai pairs (e.g. an edited assignment.csv or .xlsx)"
    )
    report.add_argument(
        "--fixed", type=Path, default=None, help="table of tutor_id,uai pairs that must be kept"
    )
    report.add_argument(
        "--forbidden", type=Path, default=None, help="table of tutor_id,uai pairs never to make"
    )
    _add_sheet_option(report)
    _add_problem_options(report)
    _add_report_options(report, by_default=True)
    _add_output_options(report)
    explain = commands.add_parser(
        "explain", help="why an establishment of a plan has its tutor (or none); prints, writes nothing"
    )
    explain.add_argument("tutors", type=Path, help="tutors table (CSV or .xlsx)")
    explain.add_argument("establishments", type=Path, help="establishments table (CSV or .xlsx)")
    explain.add_argument("assignment", type=Path, help="the plan: its assignment.csv (or .xlsx)")
    explain.add_argument("uai", help="the establishment to explain")
    explain.add_argument("--fixed", type=Path, default=None, help="table of tutor_id,uai pairs kept")
    explain.add_argument(
        "--forbidden", type=Path, default=None, help="table of tutor_id,uai pairs never made"
    )
    explain.add_argument("--lang", choices=("fr", "en"), default="fr", help="language (default fr)")
    _add_sheet_option(explain)
    _add_problem_options(explain)
    _add_output_options(explain)
    waves = commands.add_parser("waves", help="plan a rollout wave after wave (waves as YYYY-MM)")
    waves.add_argument("tutors", type=Path, help="tutors table (CSV or .xlsx)")
    waves.add_argument("establishments", type=Path, help="establishments table (CSV or .xlsx)")
    waves.add_argument(
        "--support-months", type=int, default=12, help="months of help after a switch (default 12)"
    )
    waves.add_argument(
        "--live-months", type=int, default=6, help="months live before a user may tutor (default 6)"
    )
    waves.add_argument(
        "--school-year-start",
        type=int,
        default=9,
        help="first month of the school year (default 9: September)",
    )
    _add_sheet_option(waves)
    _add_solve_options(waves)
    waves.add_argument("--lang", choices=("fr", "en"), default="fr", help="format of the files (default fr)")
    _add_output_options(waves, json_summary=False)
    repair = commands.add_parser(
        "repair", help="re-plan a rollout after tutors withdraw, fewest changes first"
    )
    repair.add_argument("plan_dir", type=Path, help="a folder written by 'tutormatch waves'")
    repair.add_argument(
        "--withdraw",
        action="append",
        required=True,
        metavar="TUTOR_ID",
        help="a tutor who withdraws (repeatable)",
    )
    repair.add_argument(
        "--at", default=None, help="month of the withdrawal, YYYY-MM (default: the last wave)"
    )
    repair.add_argument(
        "--out", type=Path, required=True, help="output folder (new, empty or a previous output)"
    )
    repair.add_argument("--lang", choices=("fr", "en"), default="fr", help="format of the files (default fr)")
    _add_output_options(repair, json_summary=False)
    example = commands.add_parser("example", help="write the example's input CSV files")
    example.add_argument(
        "--out", type=Path, required=True, help="folder for tutors.csv and establishments.csv (a new one)"
    )
    _add_output_options(example, json_summary=False)
    pareto = commands.add_parser(
        "pareto", help="the front of two criteria (default the worst trip against euros): pareto.csv, .png"
    )
    pareto.add_argument("tutors", type=Path, help="tutors table (CSV or .xlsx)")
    pareto.add_argument("establishments", type=Path, help="establishments table (CSV or .xlsx)")
    pareto.add_argument("--fixed", type=Path, default=None, help="table of tutor_id,uai pairs to keep")
    pareto.add_argument(
        "--forbidden", type=Path, default=None, help="table of tutor_id,uai pairs never to make"
    )
    pareto.add_argument(
        "--x", choices=_CRITERIA, default="worst-trip", help="the criterion across (default worst-trip)"
    )
    pareto.add_argument("--y", choices=_CRITERIA, default="euros", help="the criterion up (default euros)")
    pareto.add_argument(
        "--points", type=int, default=None,
        help="at most this many thresholds, evenly spread (default: the whole front)",
    )  # fmt: skip
    _add_cost_options(pareto)
    _add_sheet_option(pareto)
    _add_problem_options(pareto)
    _add_output_options(pareto, json_summary=False)
    compare = commands.add_parser("compare", help="solve the scenarios of a TOML file and compare them")
    compare.add_argument("scenarios", type=Path, help="scenarios file (TOML; see docs/scenarios.md)")
    compare.add_argument("--out", type=Path, default=Path("out"), help="output folder (default: out)")
    compare.add_argument(
        "--lang", choices=("fr", "en"), default="fr",
        help="CSV dialect (default fr: ';', BOM, decimal comma for Excel)",
    )  # fmt: skip
    compare.add_argument(
        "--jobs", type=int, default=1, help="scenarios solved at once, in processes (default 1)"
    )
    _add_output_options(compare, json_summary=False)
    bench = commands.add_parser("bench", help="moved: run benchmarks/run.py in a source checkout")
    bench.add_argument("--quick", action="store_true", help="the short suite, about a minute")
    bench.add_argument(
        "--out", type=Path, default=Path("bench-results"), help="results folder (default: bench-results)"
    )
    return parser


# -- progress -----------------------------------------------------------------


class _Elapsed(logging.Formatter):
    """``[  1.2 s] message``: seconds since the command started."""

    def __init__(self) -> None:
        super().__init__()
        self.started = time.time()

    def format(self, record: logging.LogRecord) -> str:
        return f"[{record.created - self.started:6.1f} s] {record.getMessage()}"


@contextmanager
def _progress(args: argparse.Namespace) -> Iterator[None]:
    """Send the ``tutormatch`` logger to the standard error for one command."""
    quiet, verbose = getattr(args, "quiet", False), getattr(args, "verbose", False)
    level = logging.WARNING if quiet else logging.DEBUG if verbose else logging.INFO
    # A StreamHandler flushes after every message: progress shows as it
    # happens, also when the standard error is piped.
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_Elapsed())
    saved = logger.level, logger.propagate
    logger.setLevel(level)
    logger.propagate = False
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(saved[0])
        logger.propagate = saved[1]


@contextmanager
def _terminate_as_exit() -> Iterator[None]:
    """Turn SIGTERM into SystemExit, so that a stopped run removes its staging folder."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _say(text: str = "") -> None:
    print(text, flush=True)  # piped output appears as it happens


# -- options --------------------------------------------------------------------


#: Options whose range is a parameter's (model/_fields.PARAMETER_RANGES), by their
#: attribute on the parsed arguments.
_RANGED_OPTIONS = {
    "max_km": "max_distance_km",
    "remote_penalty_km": "remote_penalty_km",
    "detour_factor": "detour_factor",
    "budget_eur": "budget_eur",
    "fixed_cost_eur": "fixed_cost_eur",
    "indemnity_eur": "indemnity_eur",
    "remote_pair_cost_eur": "remote_pair_cost_eur",
}


def _check_option_ranges(args: argparse.Namespace) -> None:
    """Refuse an option outside its parameter's range, naming the option as the user typed it."""
    from tutormatch.model._fields import check_parameter

    for attribute, parameter in _RANGED_OPTIONS.items():
        value = getattr(args, attribute, None)
        if value is None:
            continue
        try:
            check_parameter(parameter, value, allow_inf=attribute == "max_km")
        except InputError as exc:
            option = "--" + attribute.replace("_", "-")
            raise InputError(str(exc).replace(parameter, option, 1), column=option) from None


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
        fixed_cost_eur=args.fixed_cost_eur,
        budget_eur=args.budget_eur,
        lang=args.lang,
        pseudonymise=args.pseudonymise,
        pseudonym_key=key,
        map_tiles=args.map_tiles,
    )


def _read_outlines(path: Path | None) -> Any:
    if path is None:
        return None
    import geopandas as gpd

    try:
        return gpd.read_file(path)
    except Exception as exc:  # GDAL raises many types; its message is what matters
        raise InputError(f"--outlines: cannot read {path} ({exc}).") from None


def _inputs(args: argparse.Namespace) -> list[Path | None]:
    """Every file the command reads: none may lie in the output folder."""
    names = ("tutors", "establishments", "assignment", "fixed", "forbidden", "outlines", "pseudonym_key_file")
    return [getattr(args, name, None) for name in names]


# -- summary ----------------------------------------------------------------------


def _print_summary(plan: Assignment, seconds: float, summary: dict[str, Any] | None = None) -> None:
    s = plan.summary() if summary is None else summary
    for name, how in plan.problem.sources.items():
        _say(f"read {name}: {how}")
    for table in plan.problem.columns.values():
        if table["ignored"]:
            _say(f"ignored column(s) in {table['source']}: {', '.join(table['ignored'])}")
    gap = "" if not s["gap"] else f", gap {s['gap']:.3%}"
    _say(f"status: {s['status']} (objective {s['objective']}, solver {s['solver']}{gap})")
    _say(
        f"establishments covered: {s['n_covered']} / {s['n_establishments']}"
        f" ({s['n_remote']} remote, {s['n_uncovered']} uncovered)"
    )
    _say(f"tutors used: {s['n_tutors_used']} / {s['n_tutors']}")
    if s["total_cost_eur"] is not None:
        missing = f" (not included for {s['n_bonus_missing']} tutors)" if s["n_bonus_missing"] else ""
        parts = [f"indemnities {s['indemnity_eur']:,.2f}", f"bonus {s['bonus_eur']:,.2f}{missing}"]
        parts.append(f"mileage {s['mileage_eur']:,.2f}")
        parts += [
            f"{name} {s[key]:,.2f}"
            for name, key in (("remote", "remote_eur"), ("recruitment", "fixed_cost_eur"))
            if s[key]
        ]
        _say(f"yearly cost: {s['total_cost_eur']:,.2f} EUR = {' + '.join(parts)}")
    if plan.problem.tutors.is_candidate.any():
        _say(f"candidates to recruit: {s['n_recruited']} (see recruitment.csv)")
    _say(f"on-site distance: total {s['total_distance_km']:,.1f} km, worst {s['max_distance_km']:.1f} km")
    if "criteria" in s:
        _say("criteria, in order: " + "; ".join(f"{c['name']} {c['value']:,.2f}" for c in s["criteria"]))
    if "price_of_fairness_km" in s:
        eur = s["price_of_fairness_eur"]
        _say(
            f"price of fairness: {'n/a' if eur is None else f'{eur:+,.2f} EUR'}, "
            f"{s['price_of_fairness_km']:+,.1f} km-eq"
            + (
                f" (worst trip {s['worst_trip_without_km']:.1f} km without)"
                if "worst_trip_without_km" in s
                else " (against the plan without the fairness criteria)"
            )
        )
    _say(f"time: solve {s['solve_seconds']:.3f} s, total {seconds:.2f} s")


def _json_summary(
    plan: Assignment,
    out: Path | None,
    written: Sequence[Path],
    seconds: float,
    summary: dict[str, Any] | None = None,
) -> str:
    from tutormatch.io._plan_files import summary_json

    summary = dict(plan.summary() if summary is None else summary)
    summary["inputs"] = dict(plan.problem.sources)
    summary["columns"] = {k: dict(v) for k, v in plan.problem.columns.items()}
    summary["total_seconds"] = round(seconds, 3)
    summary["out"] = None if out is None else str(out)
    summary["files"] = [p.relative_to(out).as_posix() for p in written] if out is not None else []
    return summary_json(summary)


# -- commands -------------------------------------------------------------------------


def _publish(
    args: argparse.Namespace,
    folder: OutputFolder,
    plan: Assignment,
    started: float,
    *,
    options: ReportOptions | None = None,
    outlines: Any = None,
) -> int:
    """Publish the plan (with its reports) as the output folder, or leave the folder as it was."""
    if not plan.status.has_solution:
        return _no_plan(args, folder, plan, started)
    from tutormatch.io._plan_files import write_plan_files

    levers = _levers(args, plan)
    logger.info("writing the plan files")
    summary = plan.summary()  # once: it costs the plan's euros tutor by tutor
    formats = getattr(args, "formats", ("csv", "xlsx"))
    write_plan_files(plan, folder.staging, lang=args.lang, levers=levers, summary=summary, formats=formats)
    if getattr(args, "backups", None) is not None:
        _write_backups(args, plan, folder.staging)
    if options is not None:
        from tutormatch.report._write import write_report_files

        logger.info("writing the reports")
        # Shared reports in OUT/report/; the key table of pseudonyms in OUT/,
        # beside the plan files that hold the real ids anyway.
        write_report_files(
            plan,
            folder.staging / "report",
            options=options,
            outlines=outlines,
            private_directory=folder.staging,
            shortfall=levers,
        )
    logger.info("publishing %s", args.out)
    written = folder.publish(command=args.command)
    seconds = time.perf_counter() - started
    if args.json:
        _say(_json_summary(plan, folder.target, written, seconds, summary))
    elif not args.quiet:
        _print_summary(plan, seconds, summary)
        top = [p.name for p in written if p.parent == folder.target]
        _say(f"wrote {len(top)} files to {args.out}/: {', '.join(top)}")
        if levers is not None:
            _say(
                f"shortfall: {len(levers)} verified lever(s) for {plan.n_uncovered} uncovered "
                "establishment(s) (shortfall.csv)"
            )
        inputs = [p.name for p in written if p.parent == folder.target / "input"]
        if inputs:
            _say(f"wrote the input files to {args.out / 'input'}/: {', '.join(inputs)}")
        if options is not None:
            shown = ("report.html", "map.png", "report.xlsx", "map.html")
            n_report = sum(p.parent == folder.target / "report" for p in written)
            _say(f"wrote {n_report} report files to {args.out / 'report'}/, among them {', '.join(shown)}")
    return 0


def _levers(args: argparse.Namespace, plan: Assignment) -> Any:
    """Return the plan's shortfall when asked (``--shortfall``) or by default (a few establishments)."""
    from tutormatch.solve._shortfall import AUTO_MAX_ESTABLISHMENTS, shortfall_by_default

    asked = getattr(args, "shortfall", False)  # None: by default; `report` never re-solves
    if asked is None:
        asked = shortfall_by_default(plan)
        if not asked and plan.n_uncovered and plan.status.has_solution:
            logger.info(
                "shortfall not computed: %d establishments (more than %d; each lever is a re-solve); "
                "pass --shortfall",
                plan.problem.n_establishments,
                AUTO_MAX_ESTABLISHMENTS,
            )
    if not asked or not plan.status.has_solution:
        return None
    logger.info("verifying the levers that would cover %d uncovered establishment(s)", plan.n_uncovered)
    return plan.shortfall(lang=args.lang, euros=plan.problem.distance_unit == "km")


def _write_backups(args: argparse.Namespace, plan: Assignment, folder: Path) -> None:
    """Write backups.csv (plan.backups(K)) with the plan files."""
    from tutormatch.io._plan_files import _write_csv

    k = args.backups
    limit = args.time_limit if args.time_limit is not None else 60.0
    logger.info("ranking each establishment's next %d tutor(s) (backups.csv)", k)
    try:
        table = plan.backups(k, time_limit=limit)
    except InputError as exc:  # e.g. a plan stopped by its time limit: the plan is still written
        logger.warning("backups.csv not written: %s", exc)
        return
    _write_csv(table, folder / "backups.csv", args.lang)


_SHOWN_CONFLICTS = 20  # constraints printed; conflicts.csv has them all


def _no_plan(args: argparse.Namespace, folder: OutputFolder, plan: Assignment, started: float) -> int:
    """Say why there is no plan; write conflicts.csv/.json into a new or empty output folder."""
    why = plan.conflicts()
    backend = plan.stats.get("backend_message", plan.message)
    print(f"tutormatch: no plan: status {plan.status.value} ({backend}).", file=sys.stderr, flush=True)
    if why is not None and why.n_relaxed:
        print(f"tutormatch: {why.sentence()}.", file=sys.stderr, flush=True)
    written: list[Path] = []
    if why is not None and why.n_relaxed:
        rows = why.table[why.table["in_conflict"] | why.table["relaxed"]]
        rows = rows.assign(relaxed_to=[f"{v:g}" if v == v else "" for v in rows["relaxed_to"]])
        shown = rows.head(_SHOWN_CONFLICTS).to_string(index=False)
        more = len(rows) - _SHOWN_CONFLICTS
        lines = shown.splitlines() + ([f"... and {more} more (conflicts.csv)"] if more > 0 else [])
        print("\n".join(f"  {line}" for line in lines), file=sys.stderr, flush=True)
        target = folder.target
        if not target.exists() or not any(target.iterdir()):
            from tutormatch.io._conflict_files import write_conflicts

            write_conflicts(why, folder.staging, lang=args.lang)
            written = folder.publish(command=args.command)
            print(
                f"tutormatch: wrote conflicts.csv and conflicts.json to {args.out}/ (no plan files).",
                file=sys.stderr,
                flush=True,
            )
    if not written:
        folder.discard()
        print(f"tutormatch: Nothing was written; {args.out} is left as it was.", file=sys.stderr, flush=True)
    if args.json:
        _say(_json_summary(plan, folder.target if written else None, written, time.perf_counter() - started))
    return 1


def _run(args: argparse.Namespace, make_plan: Callable[[OutputFolder], Assignment]) -> int:
    """Check every option and the output folder, make the plan, publish it."""
    from tutormatch.io._output import OutputFolder

    started = time.perf_counter()
    options = outlines = None
    if args.report:
        options = _report_options(args)
        outlines = _read_outlines(args.outlines)
    with OutputFolder.prepare(args.out, inputs=_inputs(args)) as folder:
        plan = make_plan(folder)
        return _publish(args, folder, plan, started, options=options, outlines=outlines)


def _read_problem(args: argparse.Namespace, tutors: Path, establishments: Path) -> Problem:
    import tutormatch as tm

    problem = tm.Problem.from_csv(
        tutors,
        establishments,
        fixed_pairs=getattr(args, "fixed", None),
        forbidden_pairs=getattr(args, "forbidden", None),
        sheet=getattr(args, "sheet", None),
        **_settings(args),
    )
    logger.info("read %d tutors and %d establishments", problem.n_tutors, problem.n_establishments)
    return problem


def _solved(args: argparse.Namespace, problem: Problem) -> Assignment:
    import tutormatch as tm

    logger.info("solving (objective %s, solver %s)", args.objective, args.solver)
    plan = tm.solve(
        problem,
        objective=args.objective,
        solver=args.solver,
        time_limit=args.time_limit,
        cost_model=_report_options(args).cost_model,
        budget_eur=args.budget_eur,
        groups=getattr(args, "groups", None),
    )
    logger.info("solved: %s in %.2f s", plan.status.value, plan.solve_seconds)
    return plan


def _solve_command(args: argparse.Namespace) -> int:
    return _run(args, lambda folder: _solved(args, _read_problem(args, args.tutors, args.establishments)))


def _demo_command(args: argparse.Namespace) -> int:
    from tutormatch.datasets import write_example

    def make_plan(folder: OutputFolder) -> Assignment:
        # The inputs are written where the plan is staged: published with it,
        # or not at all.
        tutors, establishments = write_example(folder.staging / "input")
        return _solved(args, _read_problem(args, tutors, establishments))

    return _run(args, make_plan)


def _report_command(args: argparse.Namespace) -> int:
    import tutormatch as tm
    from tutormatch.io._read import read_table

    def make_plan(folder: OutputFolder) -> Assignment:
        problem = _read_problem(args, args.tutors, args.establishments)
        frame, _ = read_table(args.assignment, sheet=args.sheet)
        return tm.evaluate(problem, frame, name=args.assignment.name)

    return _run(args, make_plan)


def _pareto_command(args: argparse.Namespace) -> int:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    import tutormatch as tm
    from tutormatch.io._output import OutputFolder

    if args.points is not None and args.points < 2:
        raise InputError(f"--points must be >= 2; got {args.points}.")
    from tutormatch.report import ReportOptions

    model = ReportOptions(
        indemnity_eur=args.indemnity_eur,
        remote_pair_cost_eur=args.remote_pair_cost_eur,
        fixed_cost_eur=args.fixed_cost_eur,
    ).cost_model
    with OutputFolder.prepare(args.out, inputs=_inputs(args)) as folder:
        problem = _read_problem(args, args.tutors, args.establishments)
        front = tm.pareto(problem, x=args.x, y=args.y, points=args.points, cost_model=model)
        front.to_csv(folder.staging / "pareto.csv", index=False)
        ax = _plot(front, args.y)
        ax.figure.savefig(folder.staging / "pareto.png", dpi=120, bbox_inches="tight")
        plt.close(ax.figure)
        written = folder.publish(command="pareto")
    if not args.quiet:
        _say(f"{len(front)} points on the front of {args.x} against {args.y}")
        _say(f"wrote {', '.join(str(args.out / p.relative_to(folder.target)) for p in written)}")
    return 0 if len(front) else 1


def _plot(front: Any, y: str) -> Any:
    from tutormatch.solve import plot_pareto

    return plot_pareto(front, y=y)


def _explain_command(args: argparse.Namespace) -> int:
    import json

    import tutormatch as tm
    from tutormatch.io._read import read_table

    problem = _read_problem(args, args.tutors, args.establishments)
    frame, _ = read_table(args.assignment, sheet=args.sheet)
    why = tm.evaluate(problem, frame, name=args.assignment.name).explain(args.uai, lang=args.lang)
    if not args.quiet:
        _say(json.dumps(why.to_dict(), ensure_ascii=False, default=str) if args.json else why.text())
    return 0


def _waves_command(args: argparse.Namespace) -> int:
    import tutormatch as tm
    from tutormatch.io._output import OutputFolder
    from tutormatch.waves._files import write_wave_files

    calendar = tm.waves.WaveCalendar(args.support_months, args.live_months, args.school_year_start)
    with OutputFolder.prepare(args.out, inputs=[args.tutors, args.establishments]) as folder:
        problem = _read_problem(args, args.tutors, args.establishments)
        plan = tm.plan_waves(
            problem,
            calendar=calendar,
            objective=args.objective,
            solver=args.solver,
            time_limit=args.time_limit,
        )
        settings = _settings(args)
        write_wave_files(
            plan,
            folder.staging,
            lang=args.lang,
            settings=settings,
            inputs={"tutors": args.tutors, "establishments": args.establishments},
            sheet=args.sheet,
        )
        written = folder.publish(command="waves")
    if not args.quiet:
        _say(plan.summary.to_string(index=False))
        _say(f"wrote {len(written)} files to {args.out}/")
    return 0


def _repair_command(args: argparse.Namespace) -> int:
    import tutormatch as tm
    from tutormatch.io._output import OutputFolder
    from tutormatch.io._plan_files import _write_csv
    from tutormatch.waves._files import read_wave_folder, write_wave_files

    with OutputFolder.prepare(args.out, inputs=[args.plan_dir]) as folder:
        import json

        manifest = (
            json.loads((args.plan_dir / "waves.json").read_text(encoding="utf-8"))
            if (args.plan_dir / "waves.json").is_file()
            else {}
        )
        before = read_wave_folder(args.plan_dir)
        fixed = tm.repair(before, withdraw=args.withdraw, at=args.at)
        inputs = {k: args.plan_dir / "input" / v for k, v in manifest.get("inputs", {}).items()}
        write_wave_files(
            fixed.after,
            folder.staging,
            lang=args.lang,
            settings=manifest.get("settings"),
            inputs=inputs,
            sheet=manifest.get("sheet"),
        )
        _write_csv(fixed.changes, folder.staging / "changes.csv", args.lang)
        written = folder.publish(command="repair")
    if not args.quiet:
        _say(repr(fixed))
        _say(fixed.changes.to_string(index=False))
        _say(f"wrote {len(written)} files to {args.out}/")
    return 0


def _example_command(args: argparse.Namespace) -> int:
    from tutormatch.datasets import write_example
    from tutormatch.io._output import OutputFolder

    with OutputFolder.prepare(args.out) as folder:
        write_example(folder.staging)
        written = folder.publish(command="example")
    if not args.quiet:
        _say(f"wrote {', '.join(str(args.out / p.relative_to(folder.target)) for p in written)}")
    return 0


def _compare_command(args: argparse.Namespace) -> int:
    from tutormatch.io._output import OutputFolder
    from tutormatch.scenarios import compare, sweep
    from tutormatch.scenarios._file import read_scenarios
    from tutormatch.scenarios._write import write_comparison

    if args.jobs < 1:
        raise InputError(f"--jobs must be >= 1; got {args.jobs}.")
    read = read_scenarios(args.scenarios)
    with OutputFolder.prepare(args.out, inputs=read.files) as folder:
        logger.info("solving %d scenarios", len(read.scenarios))
        if args.jobs == 1:
            table = compare(read.scenarios, report_options=read.report_options)
        else:
            table = sweep(read.scenarios, max_workers=args.jobs, report_options=read.report_options)
        title = f"Scenarios compared: {args.scenarios.name}"
        write_comparison(table, folder.staging, title=title, lang=args.lang)
        written = folder.publish(command="compare")
    failed = table[table["error"] != ""]
    for row in failed.itertuples():
        print(f"tutormatch: {row.error}", file=sys.stderr, flush=True)
    if not args.quiet:
        shown = table[["scenario", "status", "n_covered", "n_tutors_used", "total_eur"]]
        _say(shown.to_string(index=False))
        _say(f"wrote {', '.join(p.name for p in written)} to {args.out}/")
    return 1 if len(failed) else 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status.

    Parameters
    ----------
    argv : sequence of str, optional
        The arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        0 with a plan, 1 without one, 2 on bad input or usage.
    """
    args = _parser().parse_args(argv)
    if args.command == "bench":
        print(
            "tutormatch bench: the benchmark suite is not part of the installed package; in a "
            "source checkout run `make bench` or `python benchmarks/run.py --quick` "
            "(see benchmarks/README.md).",
            file=sys.stderr,
        )
        return 2
    commands = {
        "solve": _solve_command,
        "demo": _demo_command,
        "report": _report_command,
        "explain": _explain_command,
        "example": _example_command,
        "pareto": _pareto_command,
        "compare": _compare_command,
        "waves": _waves_command,
        "repair": _repair_command,
    }
    with _progress(args), _terminate_as_exit():
        try:
            _check_option_ranges(args)
            return commands[args.command](args)
        except InputError as exc:
            print(f"tutormatch: error: {exc}", file=sys.stderr)
            print("Nothing was written.", file=sys.stderr, flush=True)
            return 2
        except TutormatchError as exc:
            print(f"tutormatch: error: {exc}", file=sys.stderr, flush=True)
            return 1


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
