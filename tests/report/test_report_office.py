"""Reports for the office: typed columns, amounts redone from the tables, parameters, escaping."""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from tests.conftest import random_frames

import tutormatch as tm
from tutormatch.report import ReportOptions
from tutormatch.report._document import md_escape
from tutormatch.report._kinds import kind_of
from tutormatch.report._labels import label
from tutormatch.report._render import build_tables

NUMBER_KINDS = {
    "count",
    "number",
    "km",
    "km_billed",
    "km_exact",
    "money",
    "money_exact",
    "rate",
    "share",
    "cv",
}


@pytest.fixture(scope="module")
def example_plan() -> tm.Assignment:
    return tm.solve(tm.example_problem())


@pytest.fixture(scope="module")
def example_files(example_plan: tm.Assignment, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("office")
    tm.report.write_reports(example_plan, folder, options=ReportOptions(report_date=date(2026, 9, 1)))
    return folder


def _fractional_plan() -> tm.Assignment:
    tutors, establishments = random_frames(6, 8, seed=3)
    tutors["prior_service_km"] = [1200.5, 1999.25, 0.125, 9999.5, 0, 350.75]
    tutors["cia_eur"] = [2.675, 450, 1000.125, 12.5, 300, 99.995]
    tutors["vehicle_cv"] = [5, 6, 8, 7, 4, 9]
    establishments["visits_per_year"] = 40  # enough km to cross the tranches
    return tm.solve(tm.Problem.from_frames(tutors, establishments, max_distance_km=300))


@pytest.fixture(scope="module")
def fractional_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("fractional")
    tm.report.write_reports(_fractional_plan(), folder)
    return folder


def _french_csv(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig")), delimiter=";"))


def _number(text: str) -> Decimal:
    return Decimal(text.replace("\u202f", "").replace("\u00a0€", "").replace(" €", "").replace(",", "."))


# -- types declared -------------------------------------------------------------------


def test_every_report_column_has_a_declared_kind(example_plan: tm.Assignment) -> None:
    report = build_tables(example_plan, ReportOptions())
    for key, frame in report.tables.items():
        for column in frame.columns:
            kind_of(key, column)  # raises KeyError when undeclared
    with pytest.raises(
        KeyError, match=r"report column 'mystery' of table 'costs_tutors' has no declared kind"
    ):
        kind_of("costs_tutors", "mystery")


def test_xlsx_numbers_are_numbers_with_a_format(example_files: Path, example_plan: tm.Assignment) -> None:
    book = openpyxl.load_workbook(example_files / "report.xlsx")
    sheet = book["Distances - tuteurs"]
    header = [c.value for c in sheet[1]]
    column = header.index(label("road_km_total", "fr")) + 1
    values = [sheet.cell(row=r, column=column) for r in range(2, sheet.max_row + 1)]
    assert values
    assert all(isinstance(c.value, int | float) for c in values)
    assert any(isinstance(c.value, float) and not c.value.is_integer() for c in values)
    assert {c.number_format for c in values} == {"#,##0.0"}
    # Every numeric column of every table sheet holds numbers (or a stated "unknown").
    report = build_tables(example_plan, ReportOptions())
    allowed_text = {label("not_included", "fr"), label("unknown", "fr")}
    for key, frame in report.tables.items():
        if key.endswith("_totals"):
            continue
        sheet = book[label(f"sheet_{key}", "fr")[:31]]
        for j, name in enumerate(frame.columns, start=1):
            if kind_of(key, name) not in NUMBER_KINDS:
                continue
            for r in range(2, sheet.max_row + 1):
                value = sheet.cell(row=r, column=j).value
                assert value is None or isinstance(value, int | float) or value in allowed_text, (
                    key,
                    name,
                    value,
                )


def test_french_csv_distances_are_numbers_to_the_metre(example_files: Path) -> None:
    rows = _french_csv(example_files / "distances_tutors.csv")
    for row in rows:
        for name in ("road_km_total", "road_km_max"):
            text = row[label(name, "fr")]
            if text:
                assert re.fullmatch(r"\d+(,\d{3})?", text), (name, text)


def test_amounts_can_be_redone_from_the_per_tutor_table_as_printed(fractional_files: Path) -> None:
    scale = tm.report.mileage_scale()
    rates = {c.label("fr"): c.rates_eur_per_km for c in scale.classes}
    rows = _french_csv(fractional_files / "costs_tutors.csv")
    assert any(Decimal(row[label("km_tranche_1", "fr")].replace(",", ".")) % 1 for row in rows)
    for row in rows:
        travel = sum(
            _number(row[label(f"km_tranche_{k}", "fr")]) * rate
            for k, rate in enumerate(rates[row[label("vehicle_class", "fr")]], start=1)
        )
        assert Decimal(travel).quantize(Decimal("0.01"), ROUND_HALF_UP) == _number(
            row[label("travel_eur", "fr")]
        )
        bonus = row[label("bonus_eur", "fr")]
        assert (3 * _number(row[label("cia_eur", "fr")])).quantize(Decimal("0.01"), ROUND_HALF_UP) == _number(
            bonus
        )
    cias = {row[label("cia_eur", "fr")] for row in _french_csv(fractional_files / "costs_tutors.csv")}
    assert "2,675" in cias
    assert "99,995" in cias


def test_the_worked_example_adds_up_as_printed(fractional_files: Path) -> None:
    text = (fractional_files / "report.md").read_text(encoding="utf-8")
    line = next(x for x in text.splitlines() if x.startswith("Exemple :"))
    terms, total = line.rsplit(" = ", 1)
    products = re.findall(r"([\d\u202f]+(?:,\d+)?) × (\d+,\d+)", terms)
    assert products
    redone = sum(_number(a) * _number(b) for a, b in products)
    assert Decimal(redone).quantize(Decimal("0.01"), ROUND_HALF_UP) == _number(total.rstrip("."))


def test_yearly_km_totals_say_which_is_which(example_files: Path) -> None:
    totals = {r["Poste"]: r["Valeur"] for r in _french_csv(example_files / "costs_totals.csv")}
    by_dep = _french_csv(example_files / "costs_by_departement.csv")
    billed = _number(totals[label("costs_totals:yearly_km", "fr")])
    unrounded = sum(_number(r[label("costs_by_departement:yearly_km", "fr")]) for r in by_dep)
    assert billed != unrounded  # two different quantities, named differently
    text = (example_files / "report.md").read_text(encoding="utf-8")
    assert "km retenus" in text
    assert "km non arrondis" in text


# -- parameters and filters -----------------------------------------------------------------


def _plan_from_csv(tmp_path: Path) -> tm.Assignment:
    tutors, establishments = random_frames(5, 6, seed=4)
    tutors.to_csv(tmp_path / "tuteurs.csv", sep=";", decimal=",", index=False, encoding="utf-8-sig")
    establishments.to_csv(tmp_path / "etablissements.csv", index=False)
    problem = tm.Problem.from_csv(
        tmp_path / "tuteurs.csv", tmp_path / "etablissements.csv", max_distance_km=42.5
    )
    return tm.solve(problem)


def test_every_report_states_its_parameters(tmp_path: Path) -> None:
    plan = _plan_from_csv(tmp_path)
    options = ReportOptions(report_date=date(2026, 9, 1), budget_eur=1000, indemnity_eur=450)
    tm.report.write_reports(plan, tmp_path / "out", options=options)
    markdown = (tmp_path / "out" / "report.md").read_text(encoding="utf-8")
    page = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "## Paramètres" in markdown
    assert "<h2>Paramètres</h2>" in page
    for expected in (
        "| Date du rapport | 01/09/2026 |",
        f"| Version | tutormatch {tm.__version__} |",
        "| Distance maximale sur place (km, à vol d'oiseau) | 42,5 |",
        "| Tutorat à distance permis | oui |",
        "| Objectif | couverture (priorité) d'abord, puis le moins de km annuels |",
        "| Indemnité (€) | 450,00\u00a0€ |",
        "| Budget (€) | 1\u202f000,00\u00a0€ |",
    ):
        assert expected in markdown, expected
    inputs = [line for line in markdown.splitlines() if line.startswith("| Fichier d'entrée |")]
    assert len(inputs) == 2
    assert "tuteurs.csv" in inputs[0] or "tuteurs.csv" in inputs[1]
    assert any("';'-separated, decimal comma" in line for line in inputs)
    book = openpyxl.load_workbook(tmp_path / "out" / "report.xlsx")
    assert book.sheetnames[:2] == ["Lisez-moi", "Paramètres"]
    values = {row[0].value: row[1].value for row in book["Paramètres"].iter_rows(min_row=2)}
    assert values["Distance maximale sur place (km, à vol d'oiseau)"] == 42.5
    assert values["Indemnité (€)"] == 450
    tm.report.write_reports(plan, tmp_path / "en", options=ReportOptions(lang="en"))
    assert "## Parameters" in (tmp_path / "en" / "report.md").read_text(encoding="utf-8")


def test_every_xlsx_table_sheet_has_filters(example_files: Path) -> None:
    book = openpyxl.load_workbook(example_files / "report.xlsx")
    for sheet in book.worksheets[1:]:
        assert sheet.auto_filter.ref, sheet.title
        assert sheet.auto_filter.ref.startswith("A1:"), sheet.title
        assert sheet.auto_filter.ref.endswith(str(sheet.max_row)), sheet.title


# -- Markdown escaping ----------------------------------------------------------------------


def test_markdown_escapes_what_it_prints() -> None:
    tutors, establishments = random_frames(4, 5, seed=5)
    tutors["name"] = ["<script>alert(1)</script>", "a|b", "*bold* [x](http://evil.example)", "_u_"]
    establishments["name"] = ["<img src=x onerror=alert(1)>", "x | y", "`code`", "&amp;", "ok"]
    plan = tm.solve(tm.Problem.from_frames(tutors, establishments, max_distance_km=300))
    options = ReportOptions(title="<b>Plan</b> | *test*")
    text = tm.report.markdown_report(plan, options=options)
    rendered = MarkdownIt("commonmark", {"html": True}).enable("table").render(text)
    assert "<script" not in rendered
    assert "<img" not in rendered
    assert "<b>" not in rendered
    assert "<em>" not in rendered
    assert 'href="http://evil.example"' not in rendered
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in rendered
    assert "<h1>&lt;b&gt;Plan&lt;/b&gt; | *test*</h1>" in rendered
    # Every table row has as many cells as its header.
    tokens = MarkdownIt("commonmark").enable("table").parse(text)
    widths: list[int] = []
    count = 0
    for token in tokens:
        if token.type == "tr_open":
            count = 0
        elif token.type in ("th_open", "td_open"):
            count += 1
        elif token.type == "thead_open":
            widths = []
        elif token.type == "tr_close":
            widths.append(count)
        elif token.type == "table_close":
            assert len(set(widths)) == 1, widths
    names = pd.Series(tutors["name"])
    assert names.isin(["a|b"]).any()


@given(st.text(alphabet=st.characters(codec="utf-8", categories=["L", "N", "P", "S", "Zs"]), max_size=40))
def test_markdown_table_cells_print_their_text_as_is(text: str) -> None:
    source = f"| h |\n| --- |\n| {md_escape(text)} |\n"
    rendered = MarkdownIt("commonmark").enable("table").render(source)
    cell = re.search(r"<td>(.*?)</td>", rendered, flags=re.DOTALL)
    shown = "" if cell is None else html.unescape(cell.group(1))
    assert " ".join(shown.split()) == " ".join(text.split())
