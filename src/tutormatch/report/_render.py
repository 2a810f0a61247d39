"""The report's tables, ready to render: pseudonymised if asked, labelled, typed cell by cell."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from tutormatch.report._costs import CostReport, costs
from tutormatch.report._coverage import CoverageReport, coverage
from tutormatch.report._distances import DistanceReport, distances
from tutormatch.report._format import format_eur, format_general, format_number, format_share, is_missing
from tutormatch.report._kinds import exact_decimals, kind_of
from tutormatch.report._labels import LABELS, label, value_label
from tutormatch.report._options import ReportOptions
from tutormatch.report._pseudonyms import Pseudonyms, make_pseudonyms

if TYPE_CHECKING:
    from tutormatch.solve._assignment import Assignment

__all__ = [
    "DOCUMENT_TABLES",
    "Cell",
    "ReportTables",
    "build_tables",
    "column_label",
    "display",
    "table_cells",
]

#: Tables shown in the Markdown and HTML reports (the long per-pair tables
#: are in the CSV and XLSX files).
DOCUMENT_TABLES = (
    "costs_totals", "costs_by_departement", "costs_by_wave", "costs_tutors", "mileage_scale",
    "distances_distribution", "distances_within", "distances_longest",
    "coverage_totals", "coverage_by_departement", "coverage_by_wave", "coverage_by_kind",
    "coverage_by_priority", "coverage_uncovered", "levers",
)  # fmt: skip
_KEY_COLUMNS = ("departement", "wave", "kind")
_TUTOR_TABLES = ("costs_tutors", "distances_tutors")


@dataclass(frozen=True, slots=True)
class Cell:
    """One value to render: a number (``kind``, declared per column, says how it reads) or text."""

    value: Any
    kind: str
    #: Decimals in documents, and in files (CSV text, XLSX number format);
    #: ``None``: as short as the number can be.
    decimals: int | None = None
    file_decimals: int | None = None


@dataclass(frozen=True, eq=False)
class ReportTables:
    """The three reports and their tables by file name, pseudonymised when asked."""

    plan: Assignment
    options: ReportOptions
    costs: CostReport
    distances: DistanceReport
    coverage: CoverageReport
    tables: dict[str, pd.DataFrame]
    pseudonyms: Pseudonyms | None

    def tutor_label(self, tutor_id: str) -> str:
        """Return how shareable outputs name a tutor."""
        return self.pseudonyms(tutor_id) if self.pseudonyms is not None else tutor_id


def build_tables(
    plan: Assignment, options: ReportOptions, *, shortfall: pd.DataFrame | None = None
) -> ReportTables:
    """Compute the three reports and lay out their tables under their file names.

    With ``shortfall`` (a table of :meth:`Assignment.shortfall`), the table
    ``levers`` shows what would cover the establishments left out.
    """
    cost = costs(plan, options=options)
    dist = distances(plan, options=options)
    cover = coverage(plan, options=options)
    tables = {
        "costs_totals": cost.totals,
        "costs_by_departement": cost.by_departement,
        "costs_by_wave": cost.by_wave,
        "costs_tutors": cost.tutors,
        "costs_pairs": cost.pairs,
        "mileage_scale": cost.scale,
        "distances_distribution": dist.distribution,
        "distances_within": dist.within,
        "distances_longest": dist.longest,
        "distances_tutors": dist.tutors,
        "distances_pairs": dist.pairs,
        "coverage_totals": cover.totals,
        "coverage_by_departement": cover.by_departement,
        "coverage_by_wave": cover.by_wave,
        "coverage_by_kind": cover.by_kind,
        "coverage_by_priority": cover.by_priority,
        "coverage_uncovered": _reasons_in(options.lang, cover.uncovered, plan),
    }
    pseudonyms = None
    if options.pseudonymise:
        t = plan.problem.tutors
        pseudonyms = make_pseudonyms(t.id.tolist(), t.name.tolist(), key=options.pseudonym_key)
        tables = {key: _pseudonymise(key, frame, pseudonyms) for key, frame in tables.items()}
    if shortfall is not None:
        from tutormatch.report._levers import lever_table

        name = pseudonyms if pseudonyms is not None else str
        tables["levers"] = lever_table(shortfall, plan, options.lang, name)
    return ReportTables(plan, options, cost, dist, cover, tables, pseudonyms)


def _reasons_in(lang: str, uncovered: pd.DataFrame, plan: Assignment) -> pd.DataFrame:
    """Return the uncovered table with its explanations in ``lang`` (the DataFrame has English)."""
    if lang == "en" or not len(uncovered):
        return uncovered
    est = plan.problem.establishments
    sentence = dict(zip(est.id[plan.uncovered_establishment], plan.uncovered_details(lang), strict=True))
    return uncovered.assign(reason=uncovered["uai"].map(sentence))


def _pseudonymise(key: str, frame: pd.DataFrame, pseudonyms: Pseudonyms) -> pd.DataFrame:
    if "tutor_id" not in frame.columns:
        return frame
    out = frame.drop(columns=[c for c in ("tutor_name",) if c in frame.columns])
    out["tutor_id"] = [pseudonyms(t) for t in out["tutor_id"]]
    if key in _TUTOR_TABLES:
        # Sorted by real id, the rows would still give away who is who.
        out = out.sort_values("tutor_id", kind="stable").reset_index(drop=True)
    return out


def _decimals(kind: str, values: list[Any], options: ReportOptions) -> tuple[int | None, int | None]:
    """Return the decimals of a column in documents and in files (``None``: as short as it can be)."""
    if kind == "money":
        return 2, 2
    if kind in ("money_exact", "km_exact"):
        d = exact_decimals(values, at_least=2 if kind == "money_exact" else options.km_decimals)
        return d, d
    if kind == "km":
        return 1, 3  # documents to 100 m; files to the metre
    if kind == "km_billed":
        return options.km_decimals, options.km_decimals
    if kind == "rate":
        d = exact_decimals(values, at_least=2, at_most=4)
        return d, d
    if kind == "share":
        return 1, 4  # a percentage with 1 decimal; a fraction with 4
    if kind == "count":
        return 0, 0
    return None, None


def _cell(
    column: str, value: Any, kind: str, decimals: tuple[int | None, int | None], options: ReportOptions
) -> Cell:
    lang = options.lang
    if kind == "flag" or isinstance(value, bool | np.bool_):
        if is_missing(value):
            return Cell(None, "text")
        return Cell(label("yes" if value else "no", lang), "text")
    if is_missing(value):
        if column == "bonus_eur":
            return Cell(label("not_included", lang), "text")
        if column in _KEY_COLUMNS:
            return Cell(label("unknown", lang), "text")
        return Cell(None, kind)
    if column == "vehicle_class":
        return Cell(options.scale.vehicle_class(str(value)).label(lang), "text")
    if column in _KEY_COLUMNS and value == "":
        return Cell(label("unknown", lang), "text")
    if kind == "text":
        return Cell(value_label(column, str(value), lang), "text")
    if column == "wave" and isinstance(value, str):  # a month wave, already "2025-09"
        return Cell(value, "text")
    if kind == "count":
        return Cell(int(value), kind, 0, 0)
    return Cell(float(value), kind, *decimals)


def column_label(table: str, column: str, lang: str) -> str:
    """Return a column's header: the table's own label when it has one, else the column's."""
    own = f"{table}:{column}"
    return label(own if own in LABELS else column, lang)


def table_cells(key: str, frame: pd.DataFrame, options: ReportOptions) -> tuple[list[str], list[list[Cell]]]:
    """Return a table's header labels and typed cells; one-row totals turn into ``item, value`` rows.

    Each column is typed by its declared kind (:func:`~tutormatch.report._kinds.kind_of`).
    """
    lang = options.lang
    kinds = {c: kind_of(key, str(c)) for c in frame.columns}
    decimals = {c: _decimals(kinds[c], frame[c].tolist(), options) for c in frame.columns}
    if key.endswith("_totals"):
        row = frame.iloc[0] if len(frame) else pd.Series(dtype=object)
        rows = [
            [Cell(column_label(key, c, lang), "text"), _cell(c, row[c], kinds[c], decimals[c], options)]
            for c in frame.columns
        ]
        return [label("item", lang), label("value", lang)], rows
    header = [column_label(key, c, lang) for c in frame.columns]
    columns = list(frame.columns)
    rows = [
        [_cell(c, v, kinds[c], decimals[c], options) for c, v in zip(columns, values, strict=True)]
        for values in frame.itertuples(index=False, name=None)
    ]
    return header, rows


def display(cell: Cell, lang: str) -> str:
    """Return how a cell reads in a document (Markdown, HTML): ``1 234,50 €``, ``45,2 %``..."""
    value, kind = cell.value, cell.kind
    if value is None:
        return "–"
    if kind == "text":
        return str(value)
    if cell.decimals is None:
        return format_general(float(value), lang)
    if kind in ("money", "money_exact"):
        return format_eur(value, lang, cell.decimals)
    if kind == "share":
        return format_share(value, lang, cell.decimals)
    return format_number(value, cell.decimals, lang)
