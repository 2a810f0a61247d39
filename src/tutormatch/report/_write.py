"""Write every report file at once, all or nothing."""

from __future__ import annotations

import csv
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tutormatch.errors import InputError
from tutormatch.io._plan_files import atomic_directory
from tutormatch.report._document import html_document, markdown_document, pictures
from tutormatch.report._geo import establishment_points, has_coordinates, pair_lines, tutor_points
from tutormatch.report._options import ReportOptions
from tutormatch.report._render import ReportTables, build_tables
from tutormatch.report._spreadsheet import write_csv_tables, write_xlsx
from tutormatch.report._webmap import interactive_map

if TYPE_CHECKING:
    import pandas as pd

    from tutormatch.solve._assignment import Assignment

__all__ = ["KEY_TABLE", "write_report_files", "write_reports"]

#: Name of the private key table of the pseudonyms.
KEY_TABLE = "pseudonyms_PRIVATE.csv"


def _inside(path: Path, folder: Path) -> bool:
    path, folder = path.resolve(), folder.resolve()
    return path == folder or folder in path.parents


def write_report_files(
    plan: Assignment,
    directory: Path,
    *,
    options: ReportOptions,
    outlines: Any = None,
    private_directory: Path | None = None,
    shortfall: pd.DataFrame | None = None,
) -> list[Path]:
    """Write the report files straight into ``directory`` (a scratch folder); return them.

    The all-or-nothing move is the caller's: :func:`write_reports`, or
    :func:`tutormatch.io._plan_files.write_plan` through its ``extra`` hook.
    """
    directory.mkdir(parents=True, exist_ok=True)
    report = build_tables(plan, options, shortfall=shortfall)
    written = write_csv_tables(report, directory)
    written.append(write_xlsx(report, directory / "report.xlsx"))
    images = pictures(report, outlines=outlines)
    names = {"map": "map.png", "histogram": "distances.png"}
    for key, png in images.items():
        (directory / names[key]).write_bytes(png)
        written.append(directory / names[key])
    (directory / "report.md").write_text(
        markdown_document(report, images={k: names[k] for k in images}), encoding="utf-8"
    )
    (directory / "report.html").write_text(html_document(report, images=images), encoding="utf-8")
    written += [directory / "report.md", directory / "report.html"]
    if has_coordinates(plan):
        written += _write_geo(report, directory, outlines)
    if report.pseudonyms is not None:
        if private_directory is None:  # pragma: no cover - checked by the callers
            raise InputError("pseudonymise=True needs a private_directory for the key table.")
        private_directory.mkdir(parents=True, exist_ok=True)
        key_path = private_directory / KEY_TABLE
        _write_key_table(report, key_path)
        written.append(key_path)
    return written


def _write_geo(report: ReportTables, directory: Path, outlines: Any) -> list[Path]:
    plan, options, pseudonyms = report.plan, report.options, report.pseudonyms
    lines = pair_lines(plan, options=options, pseudonyms=pseudonyms)
    geojson = directory / "pairs.geojson"
    gpkg = directory / "plan.gpkg"
    lines.to_file(geojson, driver="GeoJSON")
    lines.to_file(gpkg, layer="pairs", driver="GPKG")
    establishment_points(plan).to_file(gpkg, layer="establishments", driver="GPKG")
    tutor_points(plan, pseudonyms=pseudonyms).to_file(gpkg, layer="tutors", driver="GPKG")
    web = directory / "map.html"
    interactive_map(plan, options=options, outlines=outlines, pseudonyms=pseudonyms).save(web)
    return [geojson, gpkg, web]


def _write_key_table(report: ReportTables, path: Path) -> None:
    if report.pseudonyms is None:  # pragma: no cover - only called with pseudonyms
        return
    frame = report.pseudonyms.key_table()
    separator, encoding = (";", "utf-8-sig") if report.options.lang == "fr" else (",", "utf-8")
    with path.open("w", encoding=encoding, newline="") as file:
        writer = csv.writer(file, delimiter=separator, lineterminator="\r\n")
        writer.writerow(frame.columns)
        writer.writerows(frame.itertuples(index=False, name=None))


def check_private_directory(
    options: ReportOptions, directory: Path, private_directory: str | PathLike[str] | None
) -> Path | None:
    """Return the folder of the key table, refusing one inside the shared folder."""
    if not options.pseudonymise:
        return None if private_directory is None else Path(private_directory)
    if private_directory is None:
        raise InputError(
            "pseudonymise=True needs private_directory=...: a folder, outside the shared report "
            f"folder, where the key table {KEY_TABLE} (pseudonym -> tutor) is written."
        )
    private = Path(private_directory)
    if _inside(private, directory):
        raise InputError(
            f"private_directory ({private}) is inside the report folder ({directory}); the key "
            f"table {KEY_TABLE} would be shared with the reports. Choose a folder outside it."
        )
    return private


def write_reports(
    plan: Assignment,
    directory: str | PathLike[str],
    *,
    options: ReportOptions | None = None,
    outlines: Any = None,
    private_directory: str | PathLike[str] | None = None,
    shortfall: pd.DataFrame | None = None,
) -> list[Path]:
    """Write every report of a plan into ``directory``, all or nothing.

    Files (labels and number format in ``options.lang``, French by default):

    - ``report.html`` (self-contained: inline CSS, images embedded) and
      ``report.md`` (refers to the two PNG files);
    - ``map.png`` (static map) and ``distances.png`` (histogram);
    - ``report.xlsx``: a notes sheet, the parameters, then one sheet per
      table (numbers typed and formatted, filters on every table);
    - one CSV file per table (``costs_tutors.csv``, ``coverage_uncovered.csv``...);
    - ``pairs.geojson`` (pairs as lines), ``plan.gpkg`` (layers ``pairs``,
      ``establishments``, ``tutors``) and ``map.html`` (interactive map, one
      self-contained page that works offline),
      unless the problem has no coordinates. Their field names are English
      snake_case, for GIS tools.

    Every document states its parameters. Nothing is downloaded while
    writing, and no file fetches anything when opened (unless
    ``options.map_tiles`` names a tile server for ``map.html``). The files
    are written to a scratch folder and moved into ``directory`` only when
    all are complete.

    Parameters
    ----------
    plan : Assignment
    directory : path
        Created if needed; other files in it are left alone.
    options : ReportOptions, optional
        With ``pseudonymise=True``, tutor ids and names are replaced by
        pseudonyms in every file above, and the key table
        ``pseudonyms_PRIVATE.csv`` is written to ``private_directory``.
    outlines : geopandas.GeoDataFrame, optional
        Your own polygons for the maps, in any CRS, instead of the
        département outlines shipped with tutormatch.
    private_directory : path, optional
        Where the key table goes; required with ``pseudonymise=True`` and
        refused inside ``directory``.
    shortfall : pandas.DataFrame, optional
        The plan's :meth:`~tutormatch.Assignment.shortfall` (best with
        ``euros=True``): the documents then list the levers that would cover
        the establishments left out, the workbook has a sheet of them and
        ``levers.csv`` is written. Not computed here: each lever is a
        re-solve (about a second for an académie, minutes for all of
        France); ``tutormatch solve`` passes it for up to 2,000
        establishments.

    Returns
    -------
    list of Path
        The files written, sorted, the key table last.

    Raises
    ------
    InputError
        On ``pseudonymise=True`` without a proper ``private_directory``, or
        bad report data (see :func:`costs`).

    Examples
    --------
    >>> import tempfile, pandas as pd, tutormatch as tm
    >>> tutors = pd.DataFrame({"tutor_id": ["T1"], "insee": ["13055"], "cia_eur": [400]})
    >>> uais = [tm.io.make_uai("0130001"), tm.io.make_uai("0130002")]
    >>> establishments = pd.DataFrame({"uai": uais, "insee": ["13001", "13004"]})
    >>> plan = tm.solve(tm.Problem.from_frames(tutors, establishments))
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     names = [p.name for p in tm.report.write_reports(plan, folder)]
    >>> "report.html" in names and "map.png" in names and "report.xlsx" in names
    True
    """
    options = options or ReportOptions.for_plan(plan)
    target = Path(directory)
    private = check_private_directory(options, target, private_directory)
    if private is None or not options.pseudonymise:
        with atomic_directory(target) as scratch:
            written = write_report_files(
                plan, scratch, options=options, outlines=outlines, shortfall=shortfall
            )
            names = sorted(p.relative_to(scratch) for p in written)
        return [target / n for n in names]
    with atomic_directory(target) as scratch, atomic_directory(private) as private_scratch:
        written = write_report_files(
            plan,
            scratch,
            options=options,
            outlines=outlines,
            private_directory=private_scratch,
            shortfall=shortfall,
        )
        names = sorted(p.relative_to(scratch) for p in written if _inside(p, scratch))
    return [*(target / n for n in names), private / KEY_TABLE]
