"""The Markdown and the self-contained HTML report."""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from tutormatch.report._format import format_eur, format_number
from tutormatch.report._labels import label, value_label
from tutormatch.report._notes import method_notes, notes, worked_example
from tutormatch.report._options import ReportOptions
from tutormatch.report._parameters import parameter_cells
from tutormatch.report._render import DOCUMENT_TABLES, ReportTables, build_tables, display, table_cells

if TYPE_CHECKING:
    import pandas as pd

    from tutormatch.solve._assignment import Assignment

__all__ = [
    "html_document",
    "html_report",
    "markdown_document",
    "markdown_report",
    "md_escape",
    "render_table",
]

_SECTIONS = (("costs", "costs_"), ("distances", "distances_"), ("coverage", "coverage_"))
_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; margin: 2rem auto;
       max-width: 72rem; padding: 0 1rem; color: #222; line-height: 1.45; }
h1 { font-size: 1.6rem; } h2 { border-bottom: 2px solid #0072B2; padding-bottom: .2rem; margin-top: 2.2rem; }
h3 { font-size: 1.05rem; margin-top: 1.4rem; }
table { border-collapse: collapse; margin: .5rem 0 1rem; font-size: .85rem; }
th, td { border: 1px solid #ccc; padding: .25rem .5rem; vertical-align: top; }
th { background: #eef4fa; text-align: left; }
td.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
tbody tr:nth-child(even) { background: #f8f8f8; }
.notes { background: #fff8e6; border-left: 4px solid #E69F00; padding: .5rem 1rem; }
figure { margin: 1rem 0; } figure img { max-width: 100%; height: auto; border: 1px solid #ddd; }
.scroll { max-height: 32rem; overflow: auto; }
footer { margin-top: 3rem; font-size: .8rem; color: #666; }
"""


def _headline(report: ReportTables) -> list[tuple[str, str]]:
    """Return the summary rows: (label, value) as text."""
    lang = report.options.lang
    plan = report.plan
    s = plan.summary()
    totals = report.costs.totals.iloc[0]

    def n(x: float) -> str:
        return format_number(x, 0, lang)

    remote = f"{n(s['n_remote'])} {'à distance' if lang == 'fr' else 'remote'}"
    total = format_eur(float(totals["total_eur"]), lang)
    if int(totals["n_bonus_missing"]):
        total += " (" + ("minimum" if lang == "fr" else "lower bound") + ")"
    return [
        (
            label("status", lang),
            f"{value_label('status', s['status'], lang)} ({value_label('solver', s['solver'], lang)})",
        ),
        (
            label("establishments_covered", lang),
            f"{n(s['n_covered'])} / {n(s['n_establishments'])} ({remote})",
        ),
        (label("tutors_used", lang), f"{n(s['n_tutors_used'])} / {n(s['n_tutors'])}"),
        (label("total_cost", lang), total),
    ]


def _parameters(report: ReportTables) -> tuple[list[str], list[list[str]], list[bool]]:
    header, cells = parameter_cells(report)
    return header, [[display(c, report.options.lang) for c in row] for row in cells], [False, False]


def _tables_of(prefix: str, report: ReportTables) -> list[str]:
    """Return a section's tables; the levers close the coverage section when they were computed."""
    return [
        k
        for k in DOCUMENT_TABLES
        if k in report.tables
        and (
            k.startswith(prefix)
            or (prefix == "costs_" and k == "mileage_scale")
            or (prefix == "coverage_" and k == "levers")
        )
    ]


def _intro(report: ReportTables, key: str) -> str | None:
    """Return the sentence under a table's heading, if it has one."""
    if key != "levers":
        return None
    return label("levers_intro", report.options.lang)


# -- Markdown -----------------------------------------------------------------


# Characters that Markdown (CommonMark and GFM tables) would read as markup.
_MD_PUNCTUATION = re.compile(r"([\\`*_\[\]|~])")
_MD_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


def md_escape(text: str) -> str:
    r"""Return text that Markdown prints as it is: no HTML, no emphasis, no link, no table cell break.

    ``&``, ``<`` and ``>`` become entities (so raw HTML never passes
    through), Markdown punctuation is backslash-escaped, line breaks become
    spaces.

    Examples
    --------
    >>> md_escape("<script>alert(1)</script> a|b *c*")
    '&lt;script&gt;alert(1)&lt;/script&gt; a\\|b \\*c\\*'
    """
    text = "".join(_MD_ENTITIES.get(ch, ch) for ch in text)
    text = _MD_PUNCTUATION.sub(r"\\\1", text)
    return " ".join(text.splitlines()) if "\n" in text or "\r" in text else text


def _md_table(header: list[str], rows: list[list[str]], numeric: list[bool]) -> list[str]:
    lines = ["| " + " | ".join(md_escape(h) for h in header) + " |"]
    lines.append("| " + " | ".join("---:" if num else "---" for num in numeric) + " |")
    lines += ["| " + " | ".join(md_escape(c) for c in row) + " |" for row in rows]
    return lines


def _rendered(report: ReportTables, key: str) -> tuple[list[str], list[list[str]], list[bool]]:
    return render_table(key, report.tables[key], report.options)


def render_table(
    key: str, frame: Any, options: ReportOptions
) -> tuple[list[str], list[list[str]], list[bool]]:
    """Return a table as document text: header labels, cells as read, and which columns are numbers."""
    lang = options.lang
    header, cells = table_cells(key, frame, options)
    # Amounts read "1 234,50 €" in documents: the unit in the header is redundant.
    header = [h.removesuffix(" (€)") for h in header]
    rows = [[display(c, lang) for c in row] for row in cells]
    numeric = [
        bool(cells) and all(row[i].kind != "text" or row[i].value is None for row in cells)
        for i in range(len(header))
    ]
    if key.endswith("_totals"):
        numeric = [False, True]
    return header, rows, numeric


def markdown_document(report: ReportTables, *, images: dict[str, str] | None = None) -> str:
    """Return the report as Markdown; ``images`` maps ``"map"``/``"histogram"`` to relative file names."""
    options = report.options
    lang = options.lang
    images = images or {}
    title = md_escape(options.title or label("report_title", lang))
    lines = [f"# {title}", "", f"## {label('summary', lang)}", ""]
    lines += _md_table(["", ""], [[a, b] for a, b in _headline(report)], [False, False])
    lines += [""] + [f"- {md_escape(text)}" for text in notes(report)]
    if "map" in images:
        lines += ["", f"![{label('map', lang)}]({images['map']})"]
    for section, prefix in _SECTIONS:
        lines += ["", f"## {label(section, lang)}"]
        if section == "distances" and "histogram" in images:
            lines += ["", f"![{label('histogram', lang)}]({images['histogram']})"]
        for key in _tables_of(prefix, report):
            header, rows, numeric = _rendered(report, key)
            lines += ["", f"### {label(key, lang)}", ""]
            if key == "mileage_scale":
                lines += [md_escape(_tranche_line(report)), ""]
            if (intro := _intro(report, key)) is not None:
                lines += [md_escape(intro), ""]
            lines += _md_table(header, rows, numeric) if rows else ["–"]
    lines += ["", f"## {label('method', lang)}", ""] + [f"- {md_escape(t)}" for t in method_notes(report)]
    example = worked_example(report)
    if example:
        lines += ["", md_escape(example)]
    header, rows, numeric = _parameters(report)
    lines += ["", f"## {label('parameters', lang)}", "", *_md_table(header, rows, numeric)]
    return "\n".join(lines) + "\n"


def _tranche_line(report: ReportTables) -> str:
    lang = report.options.lang
    names = report.options.scale.tranche_names(lang)
    colon = "\u00a0:" if lang == "fr" else ":"
    joiner = "\u00a0; " if lang == "fr" else "; "
    return joiner.join(f"Tranche {k}{colon} {name}" for k, name in enumerate(names, start=1)) + "."


def markdown_report(
    plan: Assignment, *, options: ReportOptions | None = None, shortfall: pd.DataFrame | None = None
) -> str:
    """Return the costs, distances and coverage reports as one Markdown document.

    Parameters
    ----------
    plan : Assignment
    options : ReportOptions, optional
        Cost parameters, ``lang`` (French by default, with French number
        format), ``pseudonymise``, ``title``.
    shortfall : pandas.DataFrame, optional
        The plan's :meth:`~tutormatch.Assignment.shortfall` (best with
        ``euros=True``): the coverage section then lists the levers that
        would cover the establishments left out. Not computed here (each
        lever is a re-solve); without it, a note says so when some are
        uncovered.

    Returns
    -------
    str

    Examples
    --------
    >>> import tutormatch as tm
    >>> text = tm.report.markdown_report(tm.solve(tm.example_problem()))
    >>> text.splitlines()[0]
    "# Tutorat Op@le : rapport du plan d'affectation"
    """
    return markdown_document(build_tables(plan, options or ReportOptions.for_plan(plan), shortfall=shortfall))


# -- HTML -------------------------------------------------------------------------


def _html_table(header: list[str], rows: list[list[str]], numeric: list[bool], *, head: bool = True) -> str:
    e = html.escape
    out = ["<table>"]
    if head:
        out.append("<thead><tr>" + "".join(f"<th>{e(h)}</th>" for h in header) + "</tr></thead>")
    out.append("<tbody>")
    for row in rows:
        cells = "".join(
            f'<td class="num">{e(c)}</td>' if num else f"<td>{e(c)}</td>"
            for c, num in zip(row, numeric, strict=True)
        )
        out.append(f"<tr>{cells}</tr>")
    out.append("</tbody></table>")
    return "\n".join(out)


def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def html_document(report: ReportTables, *, images: dict[str, bytes] | None = None) -> str:
    """Return the report as one HTML page with inline CSS and the PNG ``images`` embedded."""
    options = report.options
    lang = options.lang
    e = html.escape
    images = images or {}
    title = options.title or label("report_title", lang)
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{lang}"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{e(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{e(title)}</h1>",
        f"<h2>{e(label('summary', lang))}</h2>",
        _html_table(["", ""], [[a, b] for a, b in _headline(report)], [False, True], head=False),
    ]
    items = notes(report)
    if items:
        parts.append('<div class="notes"><ul>' + "".join(f"<li>{e(t)}</li>" for t in items) + "</ul></div>")
    if "map" in images:
        parts.append(f'<figure><img alt="{e(label("map", lang))}" src="{_data_uri(images["map"])}"></figure>')
    for section, prefix in _SECTIONS:
        parts.append(f"<h2>{e(label(section, lang))}</h2>")
        if section == "distances" and "histogram" in images:
            alt = e(label("histogram", lang))
            parts.append(f'<figure><img alt="{alt}" src="{_data_uri(images["histogram"])}"></figure>')
        for key in _tables_of(prefix, report):
            header, rows, numeric = _rendered(report, key)
            parts.append(f"<h3>{e(label(key, lang))}</h3>")
            if key == "mileage_scale":
                parts.append(f"<p>{e(_tranche_line(report))}</p>")
            if (intro := _intro(report, key)) is not None:
                parts.append(f"<p>{e(intro)}</p>")
            table = _html_table(header, rows, numeric) if rows else "<p>–</p>"
            parts.append(f'<div class="scroll">{table}</div>' if len(rows) > 25 else table)
    parts.append(f"<h2>{e(label('method', lang))}</h2>")
    parts.append("<ul>" + "".join(f"<li>{e(t)}</li>" for t in method_notes(report)) + "</ul>")
    example = worked_example(report)
    if example:
        parts.append(f"<p>{e(example)}</p>")
    parts.append(f"<h2>{e(label('parameters', lang))}</h2>")
    parts.append(_html_table(*_parameters(report)))
    parts.append("<footer>tutormatch</footer></body></html>")
    return "\n".join(parts) + "\n"


def pictures(
    report: ReportTables, *, outlines: Any = None, render: Callable[[Any], bytes] | None = None
) -> dict[str, bytes]:
    """Return the PNG map and histogram of a report (none when the problem has no coordinates)."""
    from tutormatch.report._geo import has_coordinates
    from tutormatch.report._plots import distance_histogram, figure_png, static_map

    to_png = render or figure_png
    out: dict[str, bytes] = {}
    if has_coordinates(report.plan):
        out["map"] = to_png(static_map(report.plan, options=report.options, outlines=outlines))
    out["histogram"] = to_png(distance_histogram(report.plan, options=report.options))
    return out


def html_report(
    plan: Assignment,
    *,
    options: ReportOptions | None = None,
    outlines: Any = None,
    shortfall: pd.DataFrame | None = None,
) -> str:
    """Return the costs, distances and coverage reports as one self-contained HTML page.

    The CSS is inline and the map and histogram are embedded as PNG
    ``data:`` URIs: the page can be mailed or archived alone and opens
    offline.

    Parameters
    ----------
    plan : Assignment
    options : ReportOptions, optional
        Cost parameters, ``lang``, ``pseudonymise``, ``title``.
    outlines : geopandas.GeoDataFrame, optional
        Your own polygons for the map, in any CRS, instead of the
        département outlines shipped with tutormatch.
    shortfall : pandas.DataFrame, optional
        The plan's :meth:`~tutormatch.Assignment.shortfall`, shown as the
        levers that would cover the establishments left out (see
        :func:`markdown_report`).

    Returns
    -------
    str

    Examples
    --------
    >>> import tutormatch as tm
    >>> page = tm.report.html_report(tm.solve(tm.example_problem()))
    >>> page.startswith("<!DOCTYPE html>"), "data:image/png;base64," in page
    (True, True)
    """
    report = build_tables(plan, options or ReportOptions.for_plan(plan), shortfall=shortfall)
    return html_document(report, images=pictures(report, outlines=outlines))
