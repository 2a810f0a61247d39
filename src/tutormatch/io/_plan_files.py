"""Write a plan's files: assignment.csv and .xlsx, tutors.csv, summary.json, summary.md.

In English (``lang="en"``) the CSV files are for tools: ``,``-separated UTF-8,
decimal point, snake_case headers. In French (``lang="fr"``, the command
line's default) they are for French Excel: ``;``-separated UTF-8 with a
byte-order mark, decimal comma, French headers and values. Either way
``tutormatch report`` and ``--fixed`` read ``assignment.csv`` and
``assignment.xlsx`` back. ``summary.json`` is the same in both languages.

These functions write into a folder as they are told; publishing that folder
safely is :mod:`tutormatch.io._output`'s job.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Collection
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from tutormatch.io._output import atomic_directory  # re-exported for the report writer

if TYPE_CHECKING:
    from tutormatch.solve._assignment import Assignment

__all__ = [
    "FORMATS",
    "LANGS",
    "atomic_directory",
    "plan_summary_markdown",
    "summary_json",
    "write_plan_files",
]

#: Languages of the plan files.
LANGS = ("fr", "en")
#: Formats of the assignment table.
FORMATS = ("csv", "xlsx")

# column -> French header; the English headers are the column names.
_FR_HEADERS = {
    "uai": "UAI",
    "tutor_id": "Tuteur",
    "mode": "Modalité",
    "distance_km": "Distance ({unit})",
    "reason_code": "Motif",
    "reason": "Détail",
    "capacity": "Capacité",
    "load": "Charge",
    "n_onsite": "Sur place",
    "n_remote": "À distance",
    "yearly_km": "Km par an",
    "status": "Statut",
    "recruited": "Recruté",
    "name": "Nom",
    "role": "Fonction",
    "departement": "Département",
    "n_recruited": "Candidats à recruter",
}
_FR_TUTOR_DISTANCE = "Distance totale, aller ({unit})"
_FR_VALUES: dict[str, dict[Any, str]] = {
    "status": {"retained": "retenu", "candidate": "candidat"},
    "recruited": {True: "oui", False: "non"},
    "mode": {"onsite": "sur place", "remote": "à distance", "none": "aucune"},
    "reason_code": {
        "no_eligible_tutor": "aucun tuteur éligible",
        "tutors_full": "tuteurs éligibles déjà pris",
        "no_plan": "aucun plan",
    },
}
_SHEET = {"fr": "Affectation", "en": "Assignment"}
_FR_STATUS = {"optimal": "optimal (prouvé)", "feasible": "réalisable, optimalité non prouvée"}

# summary.md rows: key -> (French, English)
_SUMMARY_TEXT: dict[str, tuple[str, str]] = {
    "title": ("# Plan tutormatch", "# tutormatch plan"),
    "status": ("statut", "status"),
    "solver": ("méthode", "solver"),
    "covered": ("établissements couverts", "establishments covered"),
    "remote": ("à distance", "remote"),
    "uncovered": ("établissements non couverts", "establishments uncovered"),
    "priority": ("priorité couverte", "priority covered"),
    "tutors": ("tuteurs mobilisés", "tutors used"),
    "total": (
        "distance sur place, total (aller, à vol d'oiseau)",
        "on-site distance, total (one way, great-circle)",
    ),
    "worst": ("distance sur place, binôme le plus éloigné", "on-site distance, worst pair"),
    "yearly": (
        "km routiers sur place par an (2 x visites x distance x détour)",
        "yearly on-site travel, road km (2 x visits x distance x detour)",
    ),
    "objective": (
        "objectif (équivalent km, pénalités à distance comprises)",
        "objective (km-equivalent, remote penalties included)",
    ),
    "criterion": ("critère après la couverture", "minimised after coverage"),
    "cost": ("coût annuel", "yearly cost"),
    "cost_parts": (
        "indemnités {indemnity}, part variable {bonus} ({missing} tuteurs sans CIA, non comptés), "
        "frais kilométriques {mileage}, distanciel {remote}, recrutement {fixed}",
        "indemnities {indemnity}, bonus {bonus} ({missing} tutors without cia_eur, left out), "
        "mileage {mileage}, remote {remote}, recruitment {fixed}",
    ),
    "recruited": ("candidats à recruter", "candidates to recruit"),
    "order": ("critères, dans l'ordre", "criteria, in order"),
    "fairness": (
        "prix de l'équité (face au plan sans les critères d'équité{without})",
        "price of fairness (against the plan without the fairness criteria{without})",
    ),
    "worst_without": ("; trajet le plus long {km} sans eux", "; worst trip {km} without them"),
    "budget": ("budget", "budget"),
    "gap": ("écart à l'optimum prouvé", "gap"),
    "limit": ("limite sur place", "on-site limit"),
    "remote_rule": ("tutorat à distance", "remote tutoring"),
    "allowed": ("autorisé", "allowed"),
    "not_allowed": ("non autorisé", "not allowed"),
    "time": ("temps de calcul", "solve time"),
    "inputs": ("Fichiers lus :", "Inputs read:"),
    "uncovered_title": ("## Établissements non couverts", "## Uncovered establishments"),
    "reason": ("motif", "reason"),
}


def _t(key: str, lang: str) -> str:
    french, english = _SUMMARY_TEXT[key]
    return french if lang == "fr" else english


def _number(value: float, lang: str, pattern: str = "{:,.1f}") -> str:
    text = pattern.format(value)
    if lang == "fr":
        # 1,234.5 -> 1 234,5 (narrow no-break space for thousands).
        text = text.replace(",", "\u202f").replace(".", ",")
    return text


def plan_summary_markdown(plan: Assignment, *, lang: str = "en") -> str:
    """Return the summary of a plan as Markdown, for people.

    Parameters
    ----------
    plan : Assignment
    lang : {"en", "fr"}, default "en"
        Language and number format.

    Returns
    -------
    str
    """
    return _summary_markdown(plan, plan.summary(), lang)


def _summary_markdown(plan: Assignment, s: dict[str, Any], lang: str) -> str:
    """:func:`plan_summary_markdown` from the plan's summary ``s``, already computed."""
    p = plan.problem
    unit = p.distance_unit
    km = f" {unit}"

    def optional(value: Any, pattern: str = "{:,.1f}") -> str:
        return "n/a" if value is None else _number(value, lang, pattern)

    remote = _t("allowed" if s["allow_remote"] else "not_allowed", lang)
    status = _FR_STATUS.get(s["status"], s["status"]) if lang == "fr" else s["status"]
    limit = s["max_distance_limit_km"]
    lines = [
        _t("title", lang),
        "",
        "| | |",
        "| --- | --- |",
        f"| {_t('status', lang)} | **{status}** ({_t('solver', lang)} {s['solver']}: {s['message']}) |",
        f"| {_t('covered', lang)} | {s['n_covered']} / {s['n_establishments']}"
        f" ({s['n_remote']} {_t('remote', lang)}) |",
        f"| {_t('uncovered', lang)} | {s['n_uncovered']} |",
        f"| {_t('priority', lang)} | {_number(s['covered_priority'], lang, '{:g}')}"
        f" / {_number(s['total_priority'], lang, '{:g}')} |",
        f"| {_t('tutors', lang)} | {s['n_tutors_used']} / {s['n_tutors']} |",
        f"| {_t('total', lang)} | {_number(s['total_distance_km'], lang)}{km} |",
        f"| {_t('worst', lang)} | {_number(s['max_distance_km'], lang)}{km} |",
        f"| {_t('yearly', lang)} | {_number(s['yearly_travel_km'], lang)} km |",
        f"| {_t('criterion', lang)} | {s['objective']} |",
        f"| {_t('objective', lang)} | {optional(s['objective_km'])} |",
        f"| {_t('cost', lang)} | {optional(s['total_cost_eur'], '{:,.2f}')} EUR: "
        + _t("cost_parts", lang).format(
            indemnity=optional(s["indemnity_eur"], "{:,.2f}"),
            bonus=optional(s["bonus_eur"], "{:,.2f}"),
            missing=s["n_bonus_missing"] or 0,
            mileage=optional(s["mileage_eur"], "{:,.2f}"),
            remote=optional(s["remote_eur"], "{:,.2f}"),
            fixed=optional(s["fixed_cost_eur"], "{:,.2f}"),
        )
        + " |",
        f"| {_t('recruited', lang)} | {s['n_recruited']} |",
        *_criteria_lines(s, lang, km),
        f"| {_t('budget', lang)} | {optional(s['budget_eur'], '{:,.2f}')}"
        f"{'' if s['budget_eur'] is None else ' EUR'} |",
        f"| {_t('gap', lang)} | {optional(None if s['gap'] is None else 100 * s['gap'], '{:.4f}')}"
        f"{'' if s['gap'] is None else ' %'} |",
        f"| {_t('limit', lang)} | {'n/a' if limit is None else _number(limit, lang, '{:g}') + km} |",
        f"| {_t('remote_rule', lang)} | {remote} |",
        f"| {_t('time', lang)} | {_number(s['solve_seconds'], lang, '{:.3f}')} s |",
    ]
    if p.sources:
        lines += ["", _t("inputs", lang), ""]
        lines += [f"- `{name}`: {how}" for name, how in p.sources.items()]
    uncovered = plan.uncovered
    if len(uncovered):
        details = plan.uncovered_details(lang)
        lines += ["", _t("uncovered_title", lang), "", f"| uai | {_t('reason', lang)} |", "| --- | --- |"]
        lines += [f"| {u} | {d} |" for u, d in zip(uncovered["uai"], details, strict=True)]
    return "\n".join(lines) + "\n"


def _criteria_lines(s: dict[str, Any], lang: str, km: str) -> list[str]:
    """Rows of an ordered objective: each criterion's value, and the price of fairness."""
    if "criteria" not in s:
        return []
    values = []
    for c in s["criteria"]:
        tol = ""
        if c["tolerance_rel"] or c["tolerance_abs"]:
            tol = f" (~{_number(100 * c['tolerance_rel'], lang, '{:g}')} %" if c["tolerance_rel"] else " (~"
            tol += f"{' + ' if c['tolerance_rel'] and c['tolerance_abs'] else ''}"
            tol += f"{_number(c['tolerance_abs'], lang, '{:g}')}" if c["tolerance_abs"] else ""
            tol += ")"
        values.append(f"{c['name']} = {_number(c['value'], lang, '{:,.2f}')}{tol}")
    lines = [f"| {_t('order', lang)} | {'; '.join(values)} |"]
    if "price_of_fairness_km" in s:
        eur = s["price_of_fairness_eur"]
        without = ""
        if "worst_trip_without_km" in s:
            without = _t("worst_without", lang).format(km=_number(s["worst_trip_without_km"], lang) + km)
        lines.append(
            f"| {_t('fairness', lang).format(without=without)} | "
            f"{'n/a' if eur is None else _number(eur, lang, '{:+,.2f}') + ' EUR'}, "
            f"{_number(s['price_of_fairness_km'], lang, '{:+,.1f}')} km-eq |"
        )
    return lines


def _localise(frame: pd.DataFrame, lang: str, unit: str, *, tutors: bool = False) -> pd.DataFrame:
    """Return ``frame`` with the headers and categorical values of ``lang``."""
    if lang == "en":
        return frame
    out = frame.copy()
    for column, values in _FR_VALUES.items():
        if column in out:
            out[column] = [values.get(v, v) for v in out[column]]
    headers = {c: _FR_HEADERS.get(c, c).format(unit=unit) for c in out.columns}
    if tutors:
        headers["distance_km"] = _FR_TUTOR_DISTANCE.format(unit=unit)
    return out.rename(columns=headers)


def _cell_text(value: Any, lang: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float | np.floating):
        text = f"{value:.3f}"
        return text.replace(".", ",") if lang == "fr" else text
    return str(value)


def _write_csv(frame: pd.DataFrame, path: Path, lang: str) -> None:
    if lang == "en":
        frame.to_csv(path, index=False, float_format="%.3f", encoding="utf-8", lineterminator="\n")
        return
    # What French Excel opens in columns: ';', a BOM, decimal commas.
    with path.open("w", encoding="utf-8-sig", newline="") as file:
        writer = csv.writer(file, delimiter=";", lineterminator="\r\n")
        writer.writerow(frame.columns)
        columns = [frame[c].tolist() for c in frame.columns]
        writer.writerows([_cell_text(v, lang) for v in row] for row in zip(*columns, strict=True))


def _write_xlsx(frame: pd.DataFrame, path: Path, lang: str) -> None:
    """One sheet: bold headers, frozen first row, a filter over the table, numbers as numbers.

    Written with XlsxWriter (several times faster than openpyxl, which reads
    the files back): text cells are always text (an id starting with ``=``
    is never a formula), decimals carry the format ``0.000`` (Excel shows
    it with the reader's decimal separator), empty and missing values are
    blank cells.
    """
    import xlsxwriter

    n_rows, n_columns = len(frame), len(frame.columns)
    with xlsxwriter.Workbook(str(path), {"in_memory": True}) as book:
        sheet = book.add_worksheet(_SHEET[lang])
        bold = book.add_format({"bold": True})
        decimals = book.add_format({"num_format": "0.000"})
        columns = [frame[c].tolist() for c in frame.columns]
        for c, name in enumerate(frame.columns):
            sheet.write_string(0, c, str(name), bold)
        for c, values in enumerate(columns):
            for r, value in enumerate(values, start=1):
                if value is None or value == "" or (isinstance(value, float) and math.isnan(value)):
                    continue
                if isinstance(value, str):
                    sheet.write_string(r, c, value)
                elif isinstance(value, float | np.floating):
                    sheet.write_number(r, c, float(value), decimals)
                else:
                    sheet.write_number(r, c, int(value))
        sheet.freeze_panes(1, 0)
        sheet.autofilter(0, 0, n_rows, n_columns - 1)
        for c, name in enumerate(frame.columns):
            width = max([len(str(name)), *(len(str(v)) for v in columns[c][:200])])
            # In pixels of the default font's digit (7): the stored width is
            # then exactly this number of characters.
            sheet.set_column_pixels(c, c, 7 * min(max(10, width + 2), 60))


def summary_json(summary: dict[str, Any], **dumps: Any) -> str:
    """Return ``summary`` as strict JSON: a NaN or infinite number becomes ``null``."""

    def finite(value: Any) -> Any:
        return None if isinstance(value, float) and not math.isfinite(value) else value

    clean = {k: finite(v) for k, v in summary.items()}
    return json.dumps(clean, ensure_ascii=False, allow_nan=False, **dumps)


def write_plan_files(
    plan: Assignment,
    directory: Path,
    *,
    lang: str = "en",
    shortfall: bool = False,
    levers: pd.DataFrame | None = None,
    summary: dict[str, Any] | None = None,
    formats: Collection[str] = FORMATS,
) -> list[Path]:
    """Write a plan's files into ``directory`` (an existing, e.g. staging, folder).

    Files: ``assignment.csv`` and ``assignment.xlsx`` (one row per input
    establishment, in UAI order: ``uai, tutor_id, mode, distance_km,
    reason_code, reason``), ``tutors.csv`` (one row per tutor with its load
    and ``recruited``), ``summary.json`` and ``summary.md``; with candidate
    tutors, ``recruitment.csv`` (whom to recruit: ``tutor_id, name, role,
    departement, load``) and ``recruitment_by_departement.csv`` (how many,
    per département and role); with ``shortfall=True`` and a plan,
    ``shortfall.csv`` and ``shortfall.json``
    (:func:`tutormatch.io._shortfall_files.write_shortfall`: every lever is
    verified by a re-solve, a fraction of a second for an académie but
    minutes for all of France, hence opt-in).

    Parameters
    ----------
    plan : Assignment
    directory : Path
    lang : {"en", "fr"}, default "en"
        ``"fr"``: French headers and values, ``;``, BOM, decimal comma.
    shortfall : bool, default False
        Write ``shortfall.csv`` and ``shortfall.json``.
    levers : pandas.DataFrame, optional
        The shortfall already computed (written as it is; implies
        ``shortfall``).
    summary : dict, optional
        ``plan.summary()``, when the caller has it already (it costs the
        plan's euros, tutor by tutor): computed here otherwise.
    formats : collection of {"csv", "xlsx"}, default ("csv", "xlsx")
        The formats of the assignment table (``assignment.csv``,
        ``assignment.xlsx``). The workbook costs most of the writing time
        of a large plan (about 1 s for 8,000 establishments): ``("csv",)``
        for a lean run. ``tutors.csv`` and the summaries are always written.

    Returns
    -------
    list of Path
        The files written.
    """
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {LANGS}; got {lang!r}.")
    if not formats or set(formats) - set(FORMATS):
        raise ValueError(f"formats must be a non-empty collection of {FORMATS}; got {formats!r}.")
    unit = plan.problem.distance_unit
    table = plan.table()
    if lang != "en" and plan.n_uncovered:
        # The sentences in the plan's language, like the rest of the file.
        reason = table["reason"].to_numpy(dtype=object).copy()
        reason[plan.uncovered_establishment] = plan.uncovered_details(lang)
        table["reason"] = reason
    assignment = _localise(table, lang, unit)
    paths: list[Path] = []
    if "csv" in formats:
        paths.append(directory / "assignment.csv")
        _write_csv(assignment, paths[-1], lang)
    if "xlsx" in formats:
        paths.append(directory / "assignment.xlsx")
        _write_xlsx(assignment, paths[-1], lang)
    paths.append(directory / "tutors.csv")
    _write_csv(_localise(plan.tutor_loads(), lang, unit, tutors=True), paths[-1], lang)
    summary = dict(plan.summary() if summary is None else summary)
    summary["inputs"] = dict(plan.problem.sources)
    summary["columns"] = {k: dict(v) for k, v in plan.problem.columns.items()}
    paths.append(directory / "summary.json")
    paths[-1].write_text(summary_json(summary, indent=2) + "\n", encoding="utf-8")
    paths.append(directory / "summary.md")
    paths[-1].write_text(_summary_markdown(plan, summary, lang), encoding="utf-8")
    if plan.problem.tutors.is_candidate.any():
        paths.append(directory / "recruitment.csv")
        _write_csv(_localise(plan.recruitment(), lang, unit), paths[-1], lang)
        paths.append(directory / "recruitment_by_departement.csv")
        _write_csv(_localise(plan.recruitment_counts(), lang, unit), paths[-1], lang)
    if (shortfall or levers is not None) and plan.status.has_solution:  # what would cover the rest
        from tutormatch.io._shortfall_files import write_shortfall

        paths += write_shortfall(plan, directory, lang=lang, levers=levers)
    return paths
