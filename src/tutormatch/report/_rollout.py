"""The reports of a rollout: one page across the waves, one page per school year, one chart.

Built from a :class:`~tutormatch.waves.WavePlan`'s own tables (``summary``,
``school_years()``, ``wave_costs()``, ``recruits``): the pages print the
figures those tables hold, with the labels and number format of the plan
reports (:mod:`tutormatch.report._labels`, :mod:`tutormatch.report._render`).
Files (``tutormatch waves`` writes them beside its CSV files)::

    rollout.html, rollout.md     every wave, school year and calendar year
    rollout.png                  coverage per wave, euros per school year and travel per calendar year
    school-year-YYYY-YY.html/.md one page per school year

The HTML pages are self-contained (inline CSS, the chart as a ``data:``
URI); the Markdown pages link ``rollout.png``. Nothing is fetched.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from tutormatch.report._document import _CSS, _data_uri, _html_table, _md_table, md_escape, render_table
from tutormatch.report._format import format_number, format_share
from tutormatch.report._labels import label
from tutormatch.report._options import ReportOptions

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from tutormatch.waves._plan import WavePlan

__all__ = [
    "RolloutTables",
    "rollout_chart",
    "rollout_tables",
    "write_rollout_files",
    "write_rollout_report",
]

#: Colours of the chart (Okabe-Ito, as the map).
_COLOURS = {
    "covered": "#0072B2",
    "uncovered": "#D55E00",
    "indemnity_eur": "#0072B2",
    "remote_eur": "#E69F00",
    "bonus_eur": "#009E73",
    "travel_eur": "#CC79A7",
}
_SCHOOL_EUROS = ("indemnity_eur", "remote_eur", "bonus_eur")
_CHART = "rollout.png"


@dataclass(frozen=True)
class RolloutTables:
    """The tables of the rollout pages, as they are printed (one column per figure)."""

    plan: WavePlan
    options: ReportOptions
    waves: pd.DataFrame
    school_years: pd.DataFrame
    calendar_years: pd.DataFrame
    wave_costs: pd.DataFrame
    recruits: pd.DataFrame
    wave_school_year: dict[str, str]

    def waves_of(self, school_year: str) -> list[str]:
        """Return the waves that switch in ``school_year`` (``"2025-26"``)."""
        return [w for w, y in self.wave_school_year.items() if y == school_year]


def rollout_tables(
    plan: WavePlan,
    *,
    options: ReportOptions | None = None,
    school_years: pd.DataFrame | None = None,
    wave_costs: pd.DataFrame | None = None,
) -> RolloutTables:
    """Gather the rollout's tables from the plan (``school_years``/``wave_costs`` when already computed)."""
    options = options or ReportOptions()
    years = plan.school_years(options=options) if school_years is None else school_years
    costs = plan.wave_costs(options=options) if wave_costs is None else wave_costs
    summary = plan.summary
    waves = summary.assign(share_priority_covered=summary["coverage_pct"] / 100.0)[
        [
            "wave", "n_establishments", "n_covered", "n_uncovered", "share_priority_covered", "n_kept",
            "n_new_pairs", "n_tutors_eligible", "n_tutors_active", "n_tutors_new", "yearly_km", "status",
        ]
    ]  # fmt: skip
    school = years[years["period"] == "school_year"].reset_index(drop=True)
    school = school.assign(
        n_uncovered=school["n_uncovered"].astype(np.int64),
        n_needing_help=school["n_establishments"] + school["n_uncovered"].astype(np.int64),
        n_bonus_missing=school["n_bonus_missing"].astype(np.int64),
        total_excl_travel_eur=[
            round(math.fsum(0.0 if pd.isna(row[c]) else float(row[c]) for c in _SCHOOL_EUROS), 2)
            for _, row in school.iterrows()
        ],
    )[
        [
            "school_year", "n_needing_help", "n_establishments", "n_uncovered", "n_tutors_active",
            "max_load", *_SCHOOL_EUROS, "n_bonus_missing", "total_excl_travel_eur",
        ]
    ]  # fmt: skip
    calendar = years[years["period"] == "calendar_year"].reset_index(drop=True)
    calendar = calendar.assign(year=calendar["year"].astype(np.int64).astype(str))[
        ["year", "n_establishments", "n_tutors_active", "yearly_km", "travel_eur"]
    ]
    cal = plan.calendar
    wave_year = {w.label: cal.school_year_label(cal.school_year(w.month)) for w in plan.waves}
    return RolloutTables(plan, options, waves, school, calendar, costs, plan.recruits, wave_year)


# -- the chart ----------------------------------------------------------------


def rollout_chart(tables: RolloutTables) -> Figure:
    """Return the chart across the rollout: coverage per wave, euros per school year, travel per year."""
    from tutormatch.report._plots import _figure, axis_formatter

    lang = tables.options.lang
    figure = _figure((12.0, 4.2))
    cover, school, travel = figure.subplots(1, 3, width_ratios=[3, 2, 1.4])
    formatter = axis_formatter(lang)

    waves = tables.waves
    x = np.arange(len(waves))
    covered, uncovered = waves["n_covered"].to_numpy(), waves["n_uncovered"].to_numpy()
    cover.bar(x, covered, color=_COLOURS["covered"], label=label("n_covered", lang))
    cover.bar(x, uncovered, bottom=covered, color=_COLOURS["uncovered"], label=label("n_uncovered", lang))
    for i, share in enumerate(waves["share_priority_covered"]):
        cover.annotate(
            format_share(float(share), lang, 0),
            (i, covered[i] + uncovered[i]),
            ha="center",
            va="bottom",
            fontsize=8,
        )
    cover.set_xticks(x, waves["wave"].tolist())
    cover.set_title(label("rollout_waves_chart", lang))
    cover.set_ylabel(label("establishments_axis", lang))
    cover.legend(fontsize=8, loc="upper right")

    years = tables.school_years
    x = np.arange(len(years))
    bottom = np.zeros(len(years))
    for name in _SCHOOL_EUROS:
        values = np.nan_to_num(years[name].to_numpy(dtype=np.float64))
        school.bar(
            x, values, bottom=bottom, color=_COLOURS[name], label=label(name, lang).removesuffix(" (€)")
        )
        bottom += values
    school.set_xticks(x, years["school_year"].tolist())
    school.set_title(label("rollout_school_years", lang))
    school.set_ylabel(label("euros_axis", lang))
    school.legend(fontsize=8)

    calendar = tables.calendar_years
    x = np.arange(len(calendar))
    travel.bar(x, calendar["travel_eur"].to_numpy(dtype=np.float64), color=_COLOURS["travel_eur"])
    travel.set_xticks(x, calendar["year"].tolist())
    travel.set_title(label("rollout_calendar_years", lang), fontsize=10)
    for axis in (cover, school, travel):
        axis.yaxis.set_major_formatter(formatter)
        axis.grid(axis="y", alpha=0.3)
        axis.set_axisbelow(True)
    figure.suptitle(label("rollout_chart", lang))
    return figure


# -- the pages ----------------------------------------------------------------


def _page_name(school_year: str, suffix: str) -> str:
    return f"school-year-{school_year}.{suffix}"


def _notes(tables: RolloutTables) -> list[str]:
    lang = tables.options.lang
    cal = tables.plan.calendar
    calendar = label("rollout_note_calendar", lang).format(
        support=cal.support_months, live=cal.live_months, start=cal.school_year_start
    )
    return [
        calendar,
        *(label(k, lang) for k in ("rollout_note_periods", "rollout_note_spread", "rollout_note_bonus")),
    ]


@dataclass
class _Page:
    """A page as a list of blocks, rendered to Markdown and to HTML alike."""

    title: str
    options: ReportOptions
    blocks: list[tuple[str, Any]]

    def heading(self, text: str) -> None:
        self.blocks.append(("h2", text))

    def table(self, key: str, frame: pd.DataFrame, *, title: str | None = None) -> None:
        self.blocks.append(("h3", title or label(key, self.options.lang)))
        self.blocks.append(("table", render_table(key, frame, self.options)))

    def pairs(self, rows: list[tuple[str, str]]) -> None:
        self.blocks.append(("pairs", rows))

    def bullets(self, items: list[str]) -> None:
        self.blocks.append(("ul", items))

    def links(self, items: list[tuple[str, str]]) -> None:
        self.blocks.append(("links", items))

    def markdown(self) -> str:
        lines = [f"# {md_escape(self.title)}"]
        for kind, content in self.blocks:
            lines.append("")
            if kind in ("h2", "h3"):
                lines.append(f"{'##' if kind == 'h2' else '###'} {md_escape(content)}")
            elif kind == "table":
                header, rows, numeric = content
                lines += _md_table(header, rows, numeric) if rows else ["–"]
            elif kind == "pairs":
                lines += _md_table(["", ""], [[a, b] for a, b in content], [False, True])
            elif kind == "ul":
                lines += [f"- {md_escape(t)}" for t in content]
            elif kind == "links":
                lines += [f"- [{md_escape(t)}]({href})" for t, href in content]
            elif kind == "image":
                lines.append(f"![{md_escape(content[0])}]({content[1]})")
        return "\n".join(lines) + "\n"

    def html(self, chart: bytes | None) -> str:
        e = html.escape
        lang = self.options.lang
        parts = [
            "<!DOCTYPE html>",
            f'<html lang="{lang}"><head><meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{e(self.title)}</title><style>{_CSS}</style></head><body>",
            f"<h1>{e(self.title)}</h1>",
        ]
        for kind, content in self.blocks:
            if kind in ("h2", "h3"):
                parts.append(f"<{kind}>{e(content)}</{kind}>")
            elif kind == "table":
                header, rows, numeric = content
                table = _html_table(header, rows, numeric) if rows else "<p>–</p>"
                parts.append(f'<div class="scroll">{table}</div>' if len(rows) > 25 else table)
            elif kind == "pairs":
                parts.append(_html_table(["", ""], [[a, b] for a, b in content], [False, True], head=False))
            elif kind == "ul":
                parts.append(
                    '<div class="notes"><ul>' + "".join(f"<li>{e(t)}</li>" for t in content) + "</ul></div>"
                )
            elif kind == "links":
                items = "".join(f'<li><a href="{e(href)}">{e(t)}</a></li>' for t, href in content)
                parts.append(f"<ul>{items}</ul>")
            elif kind == "image" and chart is not None:
                parts.append(f'<figure><img alt="{e(content[0])}" src="{_data_uri(chart)}"></figure>')
        parts.append("<footer>tutormatch</footer></body></html>")
        return "\n".join(parts) + "\n"


def _overview(tables: RolloutTables) -> _Page:
    lang = tables.options.lang
    page = _Page(tables.options.title or label("rollout_title", lang), tables.options, [])
    page.bullets(_notes(tables))
    page.blocks.append(("image", (label("rollout_chart", lang), _CHART)))
    page.table("rollout_waves", tables.waves)
    page.table("rollout_school_years", tables.school_years)
    page.table("rollout_calendar_years", tables.calendar_years)
    page.table("rollout_wave_costs", tables.wave_costs)
    page.table("rollout_recruits", tables.recruits)
    page.heading(label("school_year_pages", lang))
    page.links([(y, _page_name(y, "{suffix}")) for y in tables.school_years["school_year"]])
    return page


def _school_year_page(tables: RolloutTables, school_year: str) -> _Page:
    lang = tables.options.lang

    def n(x: float) -> str:
        return format_number(x, 0, lang)

    row = tables.school_years[tables.school_years["school_year"] == school_year].iloc[0]
    page = _Page(label("school_year_title", lang).format(school_year), tables.options, [])
    waves = tables.waves_of(school_year)
    recruits = tables.recruits[tables.recruits["wave"].isin(waves)].reset_index(drop=True)
    needing = int(row["n_needing_help"])
    share = int(row["n_establishments"]) / needing if needing else 1.0
    page.heading(label("coverage_of_year", lang))
    page.pairs(
        [
            (
                label("covered_of_needing", lang),
                f"{n(row['n_establishments'])} / {n(needing)} ({format_share(share, lang)})",
            ),
            (label("n_tutors_active", lang), n(row["n_tutors_active"])),
            (label("max_load", lang), format_number(float(row["max_load"]), 0, lang)),
            (label("recruits_of_year", lang), n(int(recruits["n_tutors_new"].sum()))),
            (label("waves_of_year", lang), ", ".join(waves) or label("none_this_year", lang)),
        ]
    )
    page.heading(label("euros_of_year", lang))
    page.table("rollout_school_years", tables.school_years[tables.school_years["school_year"] == school_year])
    first = int(school_year[:4])
    spans = {str(first), str(first + 1)} if tables.plan.calendar.school_year_start != 1 else {str(first)}
    page.table("rollout_calendar_years", tables.calendar_years[tables.calendar_years["year"].isin(spans)])
    page.bullets(_notes(tables)[1:])
    page.heading(label("waves_of_year", lang))
    page.table("rollout_waves", tables.waves[tables.waves["wave"].isin(waves)])
    page.table("rollout_wave_costs", tables.wave_costs[tables.wave_costs["wave"].isin(waves)])
    page.table("rollout_recruits", recruits)
    page.blocks.append(("image", (label("rollout_chart", lang), _CHART)))
    page.links([(label("back_to_rollout", lang), "rollout.{suffix}")])
    return page


def _with_suffix(page: _Page, suffix: str) -> _Page:
    blocks = [
        (k, [(t, href.format(suffix=suffix)) for t, href in c]) if k == "links" else (k, c)
        for k, c in page.blocks
    ]
    return _Page(page.title, page.options, blocks)


def write_rollout_report(
    plan: WavePlan, directory: str | PathLike[str], *, options: ReportOptions | None = None
) -> list[Path]:
    """Write a rollout's report into ``directory``, all or nothing.

    Files (labels and number format in ``options.lang``, French by default):
    ``rollout.html`` and ``rollout.md`` (every wave, school year and
    calendar year, each wave's costs and recruits), ``rollout.png`` (the
    chart across the rollout) and one ``school-year-YYYY-YY.html`` and
    ``.md`` per school year (its coverage, tutors, recruits and euros by
    component). ``tutormatch waves`` writes them beside its CSV files.
    The HTML pages are self-contained and fetch nothing.

    Parameters
    ----------
    plan : tutormatch.waves.WavePlan
    directory : path
        Created if needed; other files in it are left alone.
    options : ReportOptions, optional
        The cost model and ``lang``.

    Returns
    -------
    list of Path
        The files written, sorted.

    Examples
    --------
    >>> import tempfile, tutormatch as tm
    >>> tutors, establishments = tm.waves.example_rollout_frames()
    >>> problem = tm.Problem.from_frames(tutors, establishments.groupby("wave").head(4))
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     names = [p.name for p in tm.report.write_rollout_report(tm.plan_waves(problem), folder)]
    >>> names[:4]
    ['rollout.html', 'rollout.md', 'rollout.png', 'school-year-2024-25.html']
    """
    from tutormatch.io._output import atomic_directory

    target = Path(directory)
    tables = rollout_tables(plan, options=options)
    with atomic_directory(target) as scratch:
        names = sorted(p.relative_to(scratch) for p in write_rollout_files(tables, scratch))
    return [target / n for n in names]


def write_rollout_files(tables: RolloutTables, directory: Path, *, render: Any = None) -> list[Path]:
    """Write the rollout's pages and chart into ``directory`` (see the module docstring).

    Parameters
    ----------
    tables : RolloutTables
        From :func:`rollout_tables`.
    directory : Path
        An existing (e.g. staging) folder.
    render : callable, optional
        Figure -> PNG bytes; :func:`~tutormatch.report._plots.figure_png` by default.

    Returns
    -------
    list of Path
    """
    from tutormatch.report._plots import figure_png

    chart = (render or figure_png)(rollout_chart(tables))
    (directory / _CHART).write_bytes(chart)
    pages = {"rollout": _overview(tables)}
    for year in tables.school_years["school_year"]:
        pages[f"school-year-{year}"] = _school_year_page(tables, year)
    paths = [directory / _CHART]
    for stem, page in pages.items():
        paths.append(directory / f"{stem}.html")
        paths[-1].write_text(_with_suffix(page, "html").html(chart), encoding="utf-8")
        paths.append(directory / f"{stem}.md")
        paths[-1].write_text(_with_suffix(page, "md").markdown(), encoding="utf-8")
    return paths
