"""The parameters a report was made with, so that two scenarios' reports can be told apart.

Every rendered report (Markdown, HTML, the "Paramètres" sheet of the XLSX)
lists them: when and by which tutormatch version, the plan's status and
objective, the problem's rules (limit, remote), its inputs and how each was
read, and the cost model's parameters.
"""

from __future__ import annotations

import math
from datetime import date
from typing import TYPE_CHECKING

from tutormatch.report._format import format_general
from tutormatch.report._labels import label, value_label
from tutormatch.report._pairs import detour_factor
from tutormatch.report._render import Cell

if TYPE_CHECKING:
    from tutormatch.report._render import ReportTables

__all__ = ["DEFAULT_OBJECTIVE", "parameter_cells"]

#: The objective of :func:`tutormatch.solve` when the plan does not name one.
DEFAULT_OBJECTIVE = "coverage_then_km"


def _text(value: str) -> Cell:
    return Cell(value, "text")


def _number(value: float, kind: str, decimals: int | None) -> Cell:
    return Cell(float(value), kind, decimals, decimals)


def _date(value: date, lang: str) -> str:
    return value.strftime("%d/%m/%Y") if lang == "fr" else value.isoformat()


def parameter_cells(report: ReportTables) -> tuple[list[str], list[list[Cell]]]:
    """Return the header and the ``(parameter, value)`` rows of the report's parameters."""
    from tutormatch import __version__

    options = report.options
    lang = options.lang
    plan = report.plan
    problem = plan.problem
    summary = plan.summary()
    yes_no = {True: label("yes", lang), False: label("no", lang)}
    none = label("none", lang)
    status = value_label("status", plan.status.value, lang)
    solver = value_label("solver", plan.solver, lang)
    rows: list[tuple[str, Cell]] = [
        ("param_date", _text(_date(options.report_date or date.today(), lang))),
        ("param_version", _text(f"tutormatch {__version__}")),
        ("status", _text(f"{status} ({solver})")),
        (
            "param_objective",
            _text(value_label("objective", str(summary.get("objective") or DEFAULT_OBJECTIVE), lang)),
        ),
    ]
    if math.isfinite(plan.gap) and plan.gap > 0:
        rows.append(("param_gap", Cell(float(plan.gap), "share", 3, 6)))
    for name, how in problem.sources.items():
        rows.append(("param_input", _text(f"{name} ({how})")))
    rows += [
        ("n_tutors_input", Cell(problem.n_tutors, "count", 0, 0)),
        ("n_establishments_input", Cell(problem.n_establishments, "count", 0, 0)),
    ]
    unit = problem.distance_unit
    limit = problem.max_distance_km
    rows.append(
        (
            "param_limit_" + unit,
            _number(limit, "km", None) if math.isfinite(limit) else _text(none),
        )
    )
    rows.append(("param_remote", _text(yes_no[bool(problem.allow_remote)])))
    if problem.allow_remote:
        penalty = problem.remote_penalty_km
        rows.append(
            (
                "param_remote_penalty",
                _text(label("param_remote_penalty_default", lang))
                if penalty is None
                else _number(penalty, "km", None),
            )
        )
    rows.append(("param_all_or_nothing", _text(yes_no[bool(problem.all_or_nothing)])))
    if len(problem.fixed):
        rows.append(("param_fixed", Cell(len(problem.fixed), "count", 0, 0)))
    if len(problem.forbidden):
        rows.append(("param_forbidden", Cell(len(problem.forbidden), "count", 0, 0)))
    if problem.distance_matrix is None:
        rows.append(("param_detour", _number(detour_factor(plan, options), "number", None)))
    else:
        rows.append(("param_detour", _text(label("param_matrix", lang))))
    scale = options.scale
    rows += [
        ("indemnity_eur", _number(float(options.indemnity), "money", 2)),
        ("param_bonus_multiplier", _number(float(options.multiplier), "number", None)),
        ("param_remote_pair_cost", _number(float(options.remote_cost), "money", 2)),
        ("param_fixed_cost", _number(float(options.fixed_cost_eur), "money", 2)),
        (
            "budget_eur",
            _text(none) if options.budget is None else _number(float(options.budget), "money", 2),
        ),
        ("param_default_class", _text(scale.vehicle_class(options.default_vehicle_class).label(lang))),
        ("param_km_decimals", Cell(options.km_decimals, "count", 0, 0)),
        ("param_scale", _text(f"{scale.reference} ({_date(scale.in_force_from, lang)})")),
        (
            "param_thresholds",
            _text(", ".join(format_general(t, lang) for t in options.distance_thresholds_km) + " km"),
        ),
        ("param_pseudonymise", _text(yes_no[bool(options.pseudonymise)])),
        ("param_lang", _text(lang)),
    ]
    header = [label("parameter", lang), label("value", lang)]
    return header, [[_text(label(key, lang)), value] for key, value in rows]
