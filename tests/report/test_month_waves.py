"""Month waves read ``2025-09`` in every report and plan file, never as the stored 24,308."""

from __future__ import annotations

import re
import sqlite3
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import tutormatch as tm
from tutormatch.io._plan_files import write_plan_files
from tutormatch.model._waves import format_wave
from tutormatch.report import ReportOptions

MONTH = re.compile(r"^\d{4}-\d{2}$")
WAVES = ["2025-01", "2025-09", "2026-01", "2026-09", "2027-01"]


@pytest.fixture(scope="module")
def month_plan() -> tm.Assignment:
    """The five dated waves of the example rollout, some establishments left uncovered, some candidates."""
    tutors, establishments = tm.waves.example_rollout_frames()
    establishments = establishments.groupby("wave").head(25)
    tutors = tutors.assign(status=np.where(np.arange(len(tutors)) % 7 == 0, "candidate", "retained"))
    problem = tm.Problem.from_frames(tutors, establishments, max_distance_km=25)
    plan = tm.solve(problem)
    assert len(plan.uncovered)
    assert problem.establishments.wave_is_date
    return plan


def _stored_numbers(plan: tm.Assignment) -> re.Pattern[str]:
    """The stored month numbers, as a report would print them (1 234, 1,234, 1 234, 1234.0)."""
    waves = {int(w) for w in plan.problem.establishments.wave} | {int(w) for w in plan.problem.tutors.wave}
    spelled = "|".join(f"{w // 1000}[\u202f\u00a0 ,.]?{w % 1000:03d}" for w in sorted(waves))
    return re.compile(rf"(?<![\d.,])(?:{spelled})(?![\d]|[.,]\d)")


def _texts(folder: Path) -> dict[str, str]:
    """Every file's text: text files as they are, the XML inside .xlsx, the text cells of .gpkg."""
    texts = {}
    for path in sorted(folder.rglob("*")):
        if path.suffix in (".csv", ".md", ".html", ".json", ".geojson"):
            texts[path.name] = path.read_text(encoding="utf-8-sig")
        elif path.suffix == ".xlsx":
            with zipfile.ZipFile(path) as z:
                xml = [z.read(n).decode("utf-8") for n in z.namelist() if n.endswith(".xml")]
            texts[path.name] = "".join(xml)
        elif path.suffix == ".gpkg":
            with sqlite3.connect(path) as db:
                query = "SELECT wave FROM establishments UNION ALL SELECT wave FROM pairs"
                rows = db.execute(query).fetchall()
            texts[path.name] = "\n".join(str(r[0]) for r in rows)
    return texts


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_every_file_shows_month_waves_as_months(month_plan: tm.Assignment, tmp_path: Path, lang: str) -> None:
    tm.report.write_reports(month_plan, tmp_path / "report", options=ReportOptions(lang=lang))
    (tmp_path / "plan").mkdir()
    write_plan_files(month_plan, tmp_path / "plan", lang=lang)
    stored = _stored_numbers(month_plan)
    texts = _texts(tmp_path)
    assert "recruitment.csv" in texts
    assert "report.gpkg" not in texts
    assert "plan.gpkg" in texts
    for name, text in texts.items():
        assert not stored.findall(text), (name, stored.findall(text)[:3])
    for name in ("coverage_by_wave.csv", "costs_by_wave.csv", "coverage_uncovered.csv", "costs_pairs.csv"):
        sep = ";" if lang == "fr" else ","
        frame = pd.read_csv(tmp_path / "report" / name, sep=sep, dtype=str, encoding="utf-8-sig")
        column = next(c for c in frame.columns if c.casefold() in ("wave", "vague"))
        assert frame[column].map(lambda w: bool(MONTH.match(w))).all(), (name, frame[column].head())
    assert "2025-09" in texts["report.html"]
    assert "2025-09" in texts["report.md"]
    assert "2025-09" in texts["report.xlsx"]
    assert "2025-09" in texts["plan.gpkg"]


def test_report_tables_hold_months_and_integer_waves_stay_integers(month_plan: tm.Assignment) -> None:
    cover = tm.report.coverage(month_plan)
    assert cover.by_wave["wave"].tolist() == WAVES
    assert tm.report.costs(month_plan).by_wave["wave"].tolist() == WAVES
    numbered = tm.report.coverage(tm.solve(tm.example_problem())).by_wave["wave"]
    assert str(numbered.dtype) == "Int64"
    assert numbered.tolist() == [5, 6, 7, 8]


def test_one_formatter() -> None:
    assert format_wave(2025 * 12 + 8, is_date=True) == "2025-09"
    assert format_wave(np.nan, is_date=True) == ""
