"""tutormatch waves and tutormatch repair."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import tutormatch as tm
from tutormatch.cli import main


@pytest.fixture
def inputs(tmp_path: Path) -> tuple[Path, Path]:
    tutors, establishments = tm.waves.example_rollout_frames()
    tutors.to_csv(tmp_path / "tutors.csv", index=False)
    establishments.to_csv(tmp_path / "establishments.csv", index=False)
    return tmp_path / "tutors.csv", tmp_path / "establishments.csv"


def test_waves_then_repair(
    inputs: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "rollout"
    assert main(["waves", str(inputs[0]), str(inputs[1]), "--out", str(out), "--lang", "en", "-q"]) == 0
    waves = pd.read_csv(out / "waves.csv")
    assert waves["wave"].tolist() == ["2025-01", "2025-09", "2026-01", "2026-09", "2027-01"]
    for label in waves["wave"]:
        assert (out / f"wave-{label}" / "assignment.csv").is_file()
    for name in (
        "school_years.csv",
        "wave_costs.csv",
        "pairs.csv",
        "uncovered.csv",
        "recruits.csv",
        "waves.json",
    ):
        assert (out / name).is_file(), name
    plan = tm.plan_waves(tm.waves.example_rollout())
    assert waves["n_covered"].tolist() == plan.summary["n_covered"].tolist()
    repaired = tmp_path / "repaired"
    assert (
        main(
            [
                "repair",
                str(out),
                "--withdraw",
                "T0012",
                "--at",
                "2025-09",
                "--out",
                str(repaired),
                "--lang",
                "en",
            ]
        )
        == 0
    )
    changes = pd.read_csv(repaired / "changes.csv")
    expected = tm.repair(plan, withdraw="T0012", at="2025-09")
    assert len(changes) == expected.n_changed
    assert "WaveRepair at 2025-09" in capsys.readouterr().out


def test_repair_unknown_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "nothing").mkdir()
    code = main(["repair", str(tmp_path / "nothing"), "--withdraw", "T1", "--out", str(tmp_path / "o")])
    assert code == 2
    err = capsys.readouterr().err
    assert "no waves.json; give a folder written by 'tutormatch waves'" in err
    assert "Nothing was written." in err
    assert not (tmp_path / "o").exists()


def test_waves_refuses_wave_numbers(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tutors, establishments = tm.example_frames()
    tutors.to_csv(tmp_path / "t.csv", index=False)
    establishments.to_csv(tmp_path / "e.csv", index=False)
    assert (
        main(["waves", str(tmp_path / "t.csv"), str(tmp_path / "e.csv"), "--out", str(tmp_path / "o")]) == 2
    )
    assert "plan_waves needs each establishment's wave as a month" in capsys.readouterr().err
