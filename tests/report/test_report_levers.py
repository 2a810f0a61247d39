"""The shortfall in the reports: each lever, what it changes, what it covers, its gain and euros."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook
from tests.conftest import random_frames

import tutormatch as tm
from tutormatch.report import ReportOptions
from tutormatch.report._labels import LABELS
from tutormatch.report._levers import LEVER_COLUMNS
from tutormatch.report._render import build_tables


@pytest.fixture(scope="module")
def plan_and_levers() -> tuple[tm.Assignment, pd.DataFrame]:
    tutors, establishments = random_frames(25, 60, 0)
    plan = tm.solve(tm.Problem.from_frames(tutors, establishments, max_distance_km=35))
    levers = plan.shortfall(euros=True)
    assert len(levers) > 0
    return plan, levers


def test_levers_table_has_every_lever_with_labels_in_both_languages(
    plan_and_levers: tuple[tm.Assignment, pd.DataFrame],
) -> None:
    plan, levers = plan_and_levers
    table = build_tables(plan, ReportOptions(lang="en"), shortfall=levers).tables["levers"]
    assert list(table.columns) == list(LEVER_COLUMNS)
    assert table["covers"].tolist() == [", ".join(c) for c in levers["covers"]]
    assert table["priority_gain"].tolist() == levers["priority_gain"].tolist()
    assert table["cost_delta_eur"].tolist() == levers["cost_delta_eur"].tolist()
    # The change is the lever's sentence without what it covers.
    assert all(s.startswith(c) for s, c in zip(levers["lever"], table["change"], strict=True))
    for column in LEVER_COLUMNS:
        key = "levers:kind" if column == "kind" else column
        fr, en = LABELS[key]
        assert fr
        assert en
    for key in ("levers", "levers_intro", "sheet_levers"):
        assert key in LABELS


@pytest.mark.parametrize(
    ("lang", "heading", "word"),
    [("fr", "Leviers pour couvrir", "couvre"), ("en", "Levers to cover", "Covers")],
)
def test_documents_show_the_levers(
    plan_and_levers: tuple[tm.Assignment, pd.DataFrame], lang: str, heading: str, word: str
) -> None:
    plan, levers = plan_and_levers
    options = ReportOptions(lang=lang)
    md = tm.report.markdown_report(plan, options=options, shortfall=levers)
    assert f"### {heading}" in md
    first = levers.iloc[0]["covers"][0]
    section = md[md.index(f"### {heading}") :]
    assert first in section
    assert word.lower() in section.lower()
    without = tm.report.markdown_report(plan, options=options)
    assert f"### {heading}" not in without
    assert "shortfall=plan.shortfall(euros=True)" in without  # a note says they were not computed


def test_files_have_a_levers_sheet_and_csv(
    plan_and_levers: tuple[tm.Assignment, pd.DataFrame], tmp_path: Path
) -> None:
    plan, levers = plan_and_levers
    written = tm.report.write_reports(plan, tmp_path, options=ReportOptions(lang="fr"), shortfall=levers)
    assert tmp_path / "levers.csv" in written
    frame = pd.read_csv(tmp_path / "levers.csv", sep=";", encoding="utf-8-sig")
    assert len(frame) == len(levers)
    assert "Gain de priorité couverte" in frame.columns
    book = load_workbook(tmp_path / "report.xlsx")
    assert "Leviers" in book.sheetnames
    assert "Leviers pour couvrir" in (tmp_path / "report.html").read_text(encoding="utf-8")


def test_pseudonymised_levers_name_no_tutor(plan_and_levers: tuple[tm.Assignment, pd.DataFrame]) -> None:
    plan, levers = plan_and_levers
    named = levers[levers["tutor_id"].notna()]
    assert len(named) > 0
    options = ReportOptions(lang="en", pseudonymise=True, pseudonym_key="k")
    table = build_tables(plan, options, shortfall=levers).tables["levers"]
    for tutor in set(plan.problem.tutors.id.tolist()):
        assert not any(f"{tutor} " in c or f"{tutor}'" in c or c.endswith(tutor) for c in table["change"])
    assert table["change"].str.contains("TUT-").sum() >= len(named)
