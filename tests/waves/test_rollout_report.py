"""The rollout report: a page across the waves, one per school year, a chart; offline; WavePlan's figures."""

from __future__ import annotations

import re
import socket
from pathlib import Path

import pandas as pd
import pytest

import tutormatch as tm
from tutormatch.report._format import format_eur, format_number
from tutormatch.waves._files import write_wave_files

PNG = b"\x89PNG\r\n\x1a\n"


def _no_network(*args: object, **kwargs: object) -> None:
    raise OSError("network access during a test")


@pytest.fixture(scope="module")
def plan() -> tm.waves.WavePlan:
    return tm.plan_waves(tm.waves.example_rollout())


@pytest.fixture(scope="module")
def written(plan: tm.waves.WavePlan, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folders = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(socket.socket, "connect", _no_network)
        mp.setattr(socket, "create_connection", _no_network)
        mp.setattr(socket, "getaddrinfo", _no_network)
        for lang in ("fr", "en"):
            folders[lang] = tmp_path_factory.mktemp(f"rollout-{lang}")
            write_wave_files(plan, folders[lang], lang=lang)
    return folders


def _school_years(plan: tm.waves.WavePlan) -> pd.DataFrame:
    years = plan.school_years()
    return years[years["period"] == "school_year"].reset_index(drop=True)


def test_a_page_per_school_year_and_a_chart(plan: tm.waves.WavePlan, written: dict[str, Path]) -> None:
    stems = ["rollout", *(f"school-year-{y}" for y in _school_years(plan)["school_year"])]
    assert stems[1:] == [f"school-year-{y}" for y in ("2024-25", "2025-26", "2026-27", "2027-28")]
    for folder in written.values():
        for stem in stems:
            assert (folder / f"{stem}.html").is_file(), stem
            assert (folder / f"{stem}.md").is_file(), stem
        assert (folder / "rollout.png").read_bytes().startswith(PNG)


def test_pages_are_offline(written: dict[str, Path]) -> None:
    for lang, folder in written.items():
        for page in [*folder.glob("*.html"), *folder.glob("*.md")]:
            text = page.read_text(encoding="utf-8")
            assert "http://" not in text, page.name
            assert "https://" not in text, page.name
            assert "<script" not in text, page.name
            assert "<link" not in text, page.name
            if page.suffix == ".html":
                assert text.count("data:image/png;base64,") == 1, page.name
                assert f'<html lang="{lang}">' in text
                local = r'(?:src|href)="(?!data:|school-year-[\d-]+\.html"|rollout\.html")'
                assert not re.findall(local, text), page.name
            else:
                assert "](rollout.png)" in text, page.name


def test_the_rollout_page_holds_every_wave(plan: tm.waves.WavePlan, written: dict[str, Path]) -> None:
    page = (written["en"] / "rollout.md").read_text(encoding="utf-8")
    for row in plan.summary.itertuples():
        cells = (row.wave, row.n_establishments, row.n_covered, row.n_uncovered)
        assert "| " + " | ".join(str(c) for c in cells) + " |" in page, row.wave
    for row in plan.wave_costs().itertuples():
        assert f"| {row.wave} | {row.n_pairs} |" in page
        assert format_eur(row.total_eur, "en") in page
    for row in plan.recruits.itertuples():
        assert f"| {row.wave} | {row.departement} | {row.n_tutors_new} |" in page


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_each_school_year_page_holds_its_figures(
    plan: tm.waves.WavePlan, written: dict[str, Path], lang: str
) -> None:
    years = plan.school_years()
    calendar = years[years["period"] == "calendar_year"]
    summary = plan.summary
    for row in _school_years(plan).itertuples():
        page = (written[lang] / f"school-year-{row.school_year}.html").read_text(encoding="utf-8")
        for amount in (row.indemnity_eur, row.remote_eur, row.bonus_eur):
            assert format_eur(amount, lang) in page, (row.school_year, amount)
        total = row.indemnity_eur + row.remote_eur + row.bonus_eur
        assert format_eur(total, lang) in page
        needing = row.n_establishments + int(row.n_uncovered)
        assert f"{format_number(row.n_establishments, 0, lang)} / {format_number(needing, 0, lang)}" in page
        assert f"<td>{format_number(row.n_tutors_active, 0, lang)}</td>" in page.replace(' class="num"', "")
        start = int(row.school_year[:4])
        for travel in calendar[calendar["year"].isin([start, start + 1])].itertuples():
            assert format_eur(travel.travel_eur, lang) in page
        waves = [w.label for w in plan.waves if plan.calendar.school_year(w.month) == start]
        recruits = int(summary.loc[summary["wave"].isin(waves), "n_tutors_new"].sum())
        assert f"<td>{format_number(recruits, 0, lang)}</td>" in page.replace(' class="num"', "")
        for wave in waves:
            assert f"<td>{wave}</td>" in page
        title = "Année scolaire" if lang == "fr" else "School year"
        assert title in page


def test_the_cli_writes_the_report(tmp_path: Path) -> None:
    from tutormatch.cli import main

    tutors, establishments = tm.waves.example_rollout_frames()
    establishments = establishments.groupby("wave").head(8)
    tutors.to_csv(tmp_path / "tutors.csv", index=False)
    establishments.to_csv(tmp_path / "establishments.csv", index=False)
    out = tmp_path / "rollout"
    args = ["waves", str(tmp_path / "tutors.csv"), str(tmp_path / "establishments.csv")]
    assert main([*args, "--out", str(out), "-q"]) == 0
    assert (out / "rollout.html").is_file()
    assert "Tutorat Op@le : déploiement par vagues" in (out / "rollout.md").read_text(encoding="utf-8")
