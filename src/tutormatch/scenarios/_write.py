"""The comparison as files: CSV, XLSX and a self-contained HTML page with a chart."""

from __future__ import annotations

import base64
import html
import io
import math
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["comparison_chart", "write_comparison"]

_FILES = ("comparison.csv", "comparison.xlsx", "comparison.html")


def comparison_chart(table: pd.DataFrame) -> Figure:
    """Draw the comparison: share covered and yearly cost per scenario, side by side.

    Parameters
    ----------
    table : pandas.DataFrame
        A comparison (:func:`~tutormatch.compare`).

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.figure import Figure

    # A "$" would start matplotlib's mathtext: names are shown as written.
    names = [name.replace("$", r"\$") for name in table["scenario"].astype(str)]
    figure = Figure(figsize=(9.0, 0.5 + 0.45 * max(len(names), 2)), layout="constrained")
    cover, cost = figure.subplots(1, 2, sharey=True)
    y = list(range(len(names)))
    cover.barh(y, (table["coverage"].astype(float) * 100).fillna(0).tolist(), color="#2b6cb0")
    cover.set_xlim(0, 100)
    cover.set_xlabel("establishments covered (%)")
    cover.set_yticks(y, names)
    cover.invert_yaxis()
    cost.barh(y, (table["total_eur"].astype(float) / 1000).fillna(0).tolist(), color="#c05621")
    cost.set_xlabel("yearly cost (thousand EUR)")
    for axis in (cover, cost):
        axis.grid(axis="x", alpha=0.3)
    return figure


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110)
    return buffer.getvalue()


def _cell(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return ""
    if isinstance(value, float):
        return f"{value:,.3f}".rstrip("0").rstrip(".") if not value.is_integer() else f"{value:,.0f}"
    return str(value)


def _html(table: pd.DataFrame, title: str) -> str:
    chart = base64.b64encode(_png(comparison_chart(table))).decode("ascii")
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in table.columns)
    rows = "".join(
        "<tr>" + "".join(f"<td>{html.escape(_cell(v))}</td>" for v in row) + "</tr>"
        for row in table.itertuples(index=False)
    )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{html.escape(title)}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em; }}
table {{ border-collapse: collapse; font-size: 0.85em; }}
th, td {{ border: 1px solid #ccc; padding: 0.2em 0.5em; text-align: right; }}
th {{ background: #f0f0f0; }}
td:first-child, th:first-child {{ text-align: left; }}
</style>
</head>
<body>
<h1>{html.escape(title)}</h1>
<p>One row per scenario. Distances are on-site pairs, great-circle km; euros as in the cost reports.</p>
<img alt="Share covered and yearly cost per scenario" src="data:image/png;base64,{chart}">
<div style="overflow-x: auto"><table>
<thead><tr>{head}</tr></thead>
<tbody>{rows}</tbody>
</table></div>
</body>
</html>
"""


def write_comparison(
    table: pd.DataFrame, directory: Path, *, title: str = "Scenarios compared", lang: str = "en"
) -> list[Path]:
    """Write a comparison into ``directory``: ``comparison.csv``, ``.xlsx`` and ``.html``.

    Parameters
    ----------
    table : pandas.DataFrame
        A comparison (:func:`~tutormatch.compare` or :func:`~tutormatch.sweep`).
    directory : Path
        An existing folder (e.g. the staging folder of an output folder).
    title : str, default "Scenarios compared"
        The HTML page's title.
    lang : {"en", "fr"}, default "en"
        The CSV dialect, as for the plan files: ``"fr"`` writes ``;``, a BOM
        and decimal commas (what French Excel opens in columns).

    Returns
    -------
    list of Path
        The files written.
    """
    paths = [directory / name for name in _FILES]
    from tutormatch.io._plan_files import LANGS, _write_csv

    if lang not in LANGS:
        raise ValueError(f"lang must be one of {LANGS}; got {lang!r}.")
    # Blank cells where a figure does not apply, in either dialect.
    _write_csv(table.astype(object).where(table.notna(), None), paths[0], lang)
    table.to_excel(paths[1], index=False, sheet_name="comparison", engine="openpyxl")
    paths[2].write_text(_html(table, title), encoding="utf-8")
    return paths
