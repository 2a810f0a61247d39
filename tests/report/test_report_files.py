"""The report files: all produced offline, readable, spreadsheet-safe, French-formatted."""

from __future__ import annotations

import csv
import io
import json
import re
import socket
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pytest
import shapely
from tests.conftest import random_frames

import tutormatch as tm
from tutormatch.report import ReportOptions
from tutormatch.report._format import format_eur, format_share
from tutormatch.report._labels import LABELS
from tutormatch.report._render import build_tables

NNBSP, NBSP = "\u202f", "\u00a0"
CSV_TABLES = {
    "costs_totals", "costs_by_departement", "costs_by_wave", "costs_tutors", "costs_pairs",
    "mileage_scale", "distances_distribution", "distances_within", "distances_longest",
    "distances_tutors", "distances_pairs", "coverage_totals", "coverage_by_departement",
    "coverage_by_wave", "coverage_by_kind", "coverage_by_priority", "coverage_uncovered",
}  # fmt: skip
OTHER_FILES = {
    "report.html", "report.md", "report.xlsx", "map.png", "distances.png", "map.html",
    "pairs.geojson", "plan.gpkg",
}  # fmt: skip


def _no_network(*args: object, **kwargs: object) -> None:
    raise OSError("network access during a test")


@pytest.fixture(scope="module")
def offline() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(socket.socket, "connect", _no_network)
        mp.setattr(socket, "create_connection", _no_network)
        mp.setattr(socket, "getaddrinfo", _no_network)
        yield


@pytest.fixture(scope="module")
def example_plan() -> tm.Assignment:
    return tm.solve(tm.example_problem())


@pytest.fixture(scope="module")
def written(offline: None, example_plan: tm.Assignment, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("report")
    tm.report.write_reports(example_plan, folder, options=ReportOptions(budget_eur=400_000))
    return folder


def test_every_file_is_written_offline(written: Path) -> None:
    names = {p.name for p in written.iterdir()}
    assert names == {f"{k}.csv" for k in CSV_TABLES} | OTHER_FILES
    assert not [p for p in written.iterdir() if p.name.startswith(".tutormatch-")]


def test_png_files_are_pictures(written: Path) -> None:
    for name in ("map.png", "distances.png"):
        data = (written / name).read_bytes()
        assert data.startswith(b"\x89PNG\r\n\x1a\n")
        assert 10_000 < len(data) < 300_000


def test_geojson_has_one_line_per_pair(written: Path, example_plan: tm.Assignment) -> None:
    lines = gpd.read_file(written / "pairs.geojson")
    assert len(lines) == example_plan.n_pairs
    assert (lines["mode"] == "onsite").sum() == int(example_plan.onsite.sum())
    assert set(lines.geom_type) == {"LineString"}
    assert lines.crs.to_epsg() == 4326
    layers = {
        name: gpd.read_file(written / "plan.gpkg", layer=name)
        for name in ("pairs", "establishments", "tutors")
    }
    assert len(layers["pairs"]) == example_plan.n_pairs
    assert len(layers["establishments"]) == example_plan.problem.n_establishments
    assert len(layers["tutors"]) == example_plan.problem.n_tutors


def test_html_is_self_contained(written: Path) -> None:
    page = (written / "report.html").read_text(encoding="utf-8")
    assert page.count("data:image/png;base64,") == 2
    assert "<link" not in page
    assert "<script" not in page
    assert "http://" not in page
    assert "https://" not in page
    assert '<html lang="fr">' in page


# The only URLs in map.html are two strings of the inlined Leaflet library that load nothing:
# the SVG namespace name, and the link of Leaflet's attribution prefix (which the map turns off).
LEAFLET_INERT_URLS = {"http://www.w3.org/2000/svg", "https://leafletjs.com"}


def test_interactive_map_works_offline(written: Path) -> None:
    page = (written / "map.html").read_text(encoding="utf-8")
    assert set(re.findall(r"https?://[A-Za-z0-9./_-]*", page)) <= LEAFLET_INERT_URLS
    body = page.split("<body>", 1)[1]
    assert "http://" not in body
    assert "https://" not in body
    assert not re.search(r"""<(script|link|img|iframe)[^>]*\s(src|href)=""", page)
    assert "@import" not in page
    assert set(re.findall(r"url\(([a-z]+):", page)) <= {"data"}
    assert "L.map(" in page  # Leaflet itself is in the page
    assert "BSD 2-Clause License" in page  # with its licence
    assert "Bouches-du-Rhône" in page  # the shipped département outlines
    assert "LineString" in page
    assert "tileLayer(data.tiles.url" in page
    assert '"tiles":null' in page


def test_interactive_map_fetches_tiles_only_from_a_named_server(example_plan: tm.Assignment) -> None:
    url = "https://tiles.example.org/{z}/{x}/{y}.png"
    m = tm.report.interactive_map(
        example_plan, options=ReportOptions(map_tiles=url, map_attribution="© <b>Example</b>")
    )
    assert json.dumps(url) in m.html
    assert "© &lt;b&gt;Example&lt;/b&gt;" in m.html
    with pytest.raises(tm.InputError, match=r"map_tiles must be a tile URL template with \{z\}"):
        ReportOptions(map_tiles="https://tiles.example.org/tile.png")


def test_static_map_has_outlines_and_french_axes(example_plan: tm.Assignment) -> None:
    figure = tm.report.static_map(example_plan)
    figure.canvas.draw()
    ax = figure.axes[0]
    ticks = [t.get_text() for t in ax.get_yticklabels() + ax.get_xticklabels()]
    assert any("," in t for t in ticks), ticks
    assert not any("." in t for t in ticks), ticks
    assert "Limites départementales" in [t.get_text() for t in ax.get_legend().get_texts()]
    english = tm.report.static_map(example_plan, options=ReportOptions(lang="en"))
    english.canvas.draw()
    assert any("." in t.get_text() for t in english.axes[0].get_yticklabels())


def test_shipped_outlines() -> None:
    outlines = tm.report.departement_outlines()
    assert len(outlines) == 101
    assert outlines.crs.to_epsg() == 4326
    assert outlines.is_valid.all()
    assert set(outlines.geom_type) <= {"Polygon", "MultiPolygon"}
    marseille = gpd.GeoSeries(gpd.points_from_xy([5.36943], [43.29760]), crs="EPSG:4326")
    assert outlines.loc[outlines.contains(marseille.iloc[0]), "departement_code"].tolist() == ["13"]


def test_markdown_report_in_french(written: Path, example_plan: tm.Assignment) -> None:
    text = (written / "report.md").read_text(encoding="utf-8")
    total = tm.report.costs(example_plan).total_eur
    assert f"| Coût annuel total | {format_eur(total, 'fr')} (minimum) |" in text
    assert "![Carte](map.png)" in text
    assert "## Méthode de calcul" in text
    assert "arrêté du 14 mars 2022" in text


def test_uncovered_explained_in_the_language_of_the_files(
    written: Path, example_plan: tm.Assignment, tmp_path: Path
) -> None:
    assert example_plan.n_uncovered > 0
    french = pd.read_csv(written / "coverage_uncovered.csv", sep=";", encoding="utf-8-sig", dtype=str)
    assert french["UAI"].tolist() == sorted(example_plan.uncovered["uai"])
    by_uai = dict(zip(example_plan.uncovered["uai"], example_plan.uncovered_details("fr"), strict=True))
    assert french["Détail"].tolist() == [by_uai[u] for u in french["UAI"]]
    assert all(" tuteur" in text and "tutor " not in text for text in french["Détail"])
    page = (written / "map.html").read_text(encoding="utf-8")
    assert json.dumps(by_uai[french["UAI"].iloc[0]], ensure_ascii=False)[1:-1] in page
    tm.report.write_reports(example_plan, tmp_path, options=ReportOptions(lang="en"))
    english = pd.read_csv(tmp_path / "coverage_uncovered.csv", dtype=str)
    by_uai = dict(zip(example_plan.uncovered["uai"], example_plan.uncovered_detail, strict=True))
    assert english["Detail"].tolist() == [by_uai[u] for u in english["UAI"]]


def test_french_numbers() -> None:
    assert format_eur(1234.5, "fr") == f"1{NNBSP}234,50{NBSP}€"
    assert format_eur(1234567.891, "fr") == f"1{NNBSP}234{NNBSP}567,89{NBSP}€"
    assert format_eur(-0.5, "fr") == f"-0,50{NBSP}€"
    assert format_eur(1234.5, "en") == "€1,234.50"
    assert format_share(0.4567, "fr") == f"45,7{NNBSP}%"


def test_french_csv_is_excel_friendly(written: Path, example_plan: tm.Assignment) -> None:
    raw = (written / "costs_tutors.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    header = rows[0]
    assert header[:2] == ["Tuteur", "Nom du tuteur"]
    total = rows[1][header.index("Total (€)")]
    assert "," in total
    assert "." not in total
    frame = pd.read_csv(written / "costs_tutors.csv", sep=";", decimal=",", encoding="utf-8-sig")
    expected = tm.report.costs(example_plan).tutors["total_eur"]
    assert frame["Total (€)"].round(2).tolist() == expected.round(2).tolist()


def test_english_csv(tmp_path: Path) -> None:
    problem = tm.Problem.from_arrays(np.array([[10.0, 20.0], [15.0, 5.0]]), capacity=1)
    tm.report.write_reports(tm.solve(problem), tmp_path, options=ReportOptions(lang="en"))
    raw = (tmp_path / "costs_totals.csv").read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8"))))
    assert rows[0] == ["Item", "Value"]
    assert ["Indemnity (€)", "1000.00"] in rows
    # No coordinates: no map nor geographic files, the rest is there.
    names = {p.name for p in tmp_path.iterdir()}
    assert "map.png" not in names
    assert "pairs.geojson" not in names
    assert {"report.html", "report.xlsx", "distances.png"} <= names


def _hostile_plan() -> tm.Assignment:
    tutors, establishments = random_frames(6, 8, seed=2)
    tutors["name"] = [
        '=HYPERLINK("http://evil.example","x")',
        "+33 6 12",
        "-2+3",
        "@SUM(A1:A9)",
        "\tTab",
        "Ok",
    ]
    tutors["tutor_id"] = ["=1+1", "T2", "T3", "T4", "T5", "T6"]
    establishments["name"] = ["=cmd|' /C calc'!A0", "-1", "@x", "+x", "Lycée", "", "Collège", "=A1"]
    tutors["cia_eur"] = 100.0
    problem = tm.Problem.from_frames(tutors, establishments, max_distance_km=300)
    return tm.solve(problem)


def test_xlsx_neutralises_formulas_without_showing_an_apostrophe(tmp_path: Path) -> None:
    plan = _hostile_plan()
    tm.report.write_reports(plan, tmp_path, options=ReportOptions(budget_eur=10))
    book = openpyxl.load_workbook(tmp_path / "report.xlsx")
    texts = {}
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    assert not cell.value.startswith("'"), (sheet.title, cell.value)
                    if cell.value.startswith(("=", "+", "-", "@", "\t")):
                        # Typed text, with Excel's quote prefix: editing the cell keeps it text.
                        assert cell.data_type == "s"
                        assert cell.quotePrefix, (sheet.title, cell.value)
                    texts[cell.value] = cell
    for name in ("=1+1", '=HYPERLINK("http://evil.example","x")', "-1", "-2+3", "@x", "+x"):
        assert name in texts, name
    totals = book["Coûts - totaux"]
    values = {row[0].value: row[1].value for row in totals.iter_rows(min_row=2)}
    headroom = values["Marge restante (€)"]
    assert isinstance(headroom, float)
    assert headroom < 0
    assert values["Budget (€)"] == 10


def test_csv_neutralises_formulas(tmp_path: Path) -> None:
    tm.report.write_reports(_hostile_plan(), tmp_path, options=ReportOptions(budget_eur=10))
    for path in tmp_path.glob("*.csv"):
        for row in csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig")), delimiter=";"):
            for cell in row:
                if cell.startswith(("=", "+", "@", "\t")):
                    pytest.fail(f"{path.name}: formula-like cell {cell!r}")
                if cell.startswith("-"):
                    float(cell.replace(",", "."))  # only negative numbers may start with a minus


def test_every_column_has_labels(example_plan: tm.Assignment) -> None:
    report = build_tables(example_plan, ReportOptions())
    for key, frame in report.tables.items():
        for name in (key, f"sheet_{key}", *frame.columns):
            fr, en = LABELS[name]
            assert fr
            assert en
    sheets = [LABELS[f"sheet_{k}"][i] for k in report.tables for i in (0, 1)]
    assert max(len(s) for s in sheets) <= 31


def test_outlines_are_drawn_and_need_a_crs(example_plan: tm.Assignment) -> None:
    box = gpd.GeoDataFrame({"code": ["13"]}, geometry=[shapely.box(4.2, 43.1, 5.8, 43.9)], crs="EPSG:4326")
    figure = tm.report.static_map(example_plan, outlines=box.to_crs("EPSG:2154"))
    assert len(figure.axes[0].collections) >= 5
    with pytest.raises(tm.CRSError, match=r"outlines: the GeoDataFrame has no CRS"):
        tm.report.static_map(example_plan, outlines=gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 1, 1)]))


def test_map_needs_coordinates() -> None:
    plan = tm.solve(tm.Problem.from_arrays(np.array([[1.0]])))
    with pytest.raises(tm.InputError, match=r"has no coordinates"):
        tm.report.static_map(plan)


def test_public_names() -> None:
    assert tm.report.__all__ == sorted(tm.report.__all__)
    assert dir(tm.report) == tm.report.__all__
    assert "report" in tm.__all__


def test_interactive_map_shows_names_as_text() -> None:
    tutors, establishments = random_frames(4, 5, seed=6)
    tutors["name"] = ["</script><script>alert(1)</script>", "<img src=x onerror=alert(1)>", "a", "b"]
    plan = tm.solve(tm.Problem.from_frames(tutors, establishments, max_distance_km=300))
    page = tm.report.interactive_map(plan).html
    assert "alert(1)" in page
    assert "<script>alert(1)" not in page
    assert "<img src=x" not in page
    assert page.count("</script>") == 3  # Leaflet, the data, the map's own script
