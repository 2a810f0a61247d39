"""Ordered criteria and the Pareto front on the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from tutormatch.cli import main
from tutormatch.datasets import write_example


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    tutors, establishments = write_example(tmp_path_factory.mktemp("example"))
    return tutors, establishments


def test_an_order_of_criteria_is_stated_in_summary_json(example: tuple[Path, Path], tmp_path: Path) -> None:
    out = tmp_path / "out"
    code = main(
        ["solve", *map(str, example), "--objective", "coverage,worst-trip~5%,km", "--out", str(out), "-q"]
    )
    assert code == 0
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert [c["name"] for c in summary["criteria"]] == ["coverage", "worst-trip", "km"]
    worst = summary["criteria"][1]
    assert worst["tolerance_rel"] == 0.05
    assert worst["value"] <= worst["optimum"] * 1.05 + 1e-9
    assert summary["worst_trip_km"] <= summary["worst_trip_without_km"]
    assert isinstance(summary["price_of_fairness_eur"], float)


def test_a_bad_order_writes_nothing(
    example: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as stop:
        main(["solve", *map(str, example), "--objective", "km,euros~2%", "--out", str(out), "-q"])
    assert stop.value.code == 2
    assert "the last criterion 'euros' has a tolerance" in capsys.readouterr().err
    assert not out.exists()


def test_pareto_writes_the_front_as_csv_and_png(example: tuple[Path, Path], tmp_path: Path) -> None:
    out = tmp_path / "front"
    code = main(["pareto", *map(str, example), "--y", "km", "--points", "3", "--out", str(out), "-q"])
    assert code == 0
    front = pd.read_csv(out / "pareto.csv")
    assert list(front.columns[:3]) == ["worst_trip_km", "km", "eur"]
    assert front["worst_trip_km"].is_monotonic_increasing
    assert front["km"].is_monotonic_decreasing
    assert (out / "pareto.png").read_bytes()[:4] == b"\x89PNG"


def test_pareto_refuses_too_few_points(example: tuple[Path, Path], tmp_path: Path) -> None:
    out = tmp_path / "front"
    assert main(["pareto", *map(str, example), "--points", "1", "--out", str(out), "-q"]) == 2
    assert not out.exists()


def test_hard_groups_and_any_pareto_pair_on_the_command_line(tmp_path: Path) -> None:
    tutors = pd.DataFrame(
        {"tutor_id": ["T1", "T2"], "lon": [5.0, 5.2], "lat": [43.5, 43.5], "capacity": [2, 2]}
    )
    schools = pd.DataFrame(
        {
            "uai": ["0130001F", "0130002G", "0130003H"],
            "lon": [5.01, 5.1, 5.19],
            "lat": [43.5, 43.5, 43.5],
            "group": ["G", "G", "H"],
        }
    )
    tutors.to_csv(tmp_path / "t.csv", index=False)
    schools.to_csv(tmp_path / "e.csv", index=False)
    files = [str(tmp_path / "t.csv"), str(tmp_path / "e.csv")]
    out = tmp_path / "out"
    code = main(["solve", *files, "--groups", "hard", "--objective", "worst-year", "--out", str(out), "-q"])
    assert code == 0
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert [c["name"] for c in summary["criteria"]] == ["coverage", "worst-year", "km"]
    assert "worst_year_km" in summary
    front = tmp_path / "front"
    code = main(
        ["pareto", *files, "--x", "full-loads", "--y", "km", "--points", "2", "--out", str(front), "-q"]
    )
    assert code == 0
    assert list(pd.read_csv(front / "pareto.csv").columns[:2]) == ["x", "y"]
