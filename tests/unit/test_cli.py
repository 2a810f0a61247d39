"""The command line: what a user types, the files they get, the errors they see."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from tutormatch.cli import main
from tutormatch.io import make_uai

SUMMARY_KEYS = {
    "status",
    "n_establishments",
    "n_covered",
    "covered_priority",
    "total_distance_km",
    "max_distance_km",
    "n_tutors_used",
    "solver",
    "solve_seconds",
}


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    tutors = pd.DataFrame(
        {"tutor_id": ["T1", "T2"], "lon": [5.0, 5.3], "lat": [43.5, 43.5], "capacity": [1, 1]}
    )
    establishments = pd.DataFrame(
        {
            "uai": [make_uai("0130002"), make_uai("0130001"), make_uai("0130003")],
            "lon": [5.31, 5.01, 7.0],
            "lat": [43.5, 43.5, 43.5],
        }
    )
    t, e = tmp_path / "tutors.csv", tmp_path / "establishments.csv"
    # A French spreadsheet export: semicolons and decimal commas.
    tutors.to_csv(t, sep=";", decimal=",", index=False)
    establishments.to_csv(e, sep=";", decimal=",", index=False)
    return t, e


def test_solve_writes_one_row_per_establishment_in_uai_order(
    files: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "plan"
    assert (
        main(["solve", *map(str, files), "--max-km", "60", "--out", str(out), "--no-remote", "--lang", "en"])
        == 0
    )
    printed = capsys.readouterr().out
    assert "read tutors.csv: UTF-8, ';'-separated, decimal comma" in printed
    assert "establishments covered: 2 / 3" in printed
    table = pd.read_csv(out / "assignment.csv", dtype=str, keep_default_na=False)
    assert table.columns.tolist() == ["uai", "tutor_id", "mode", "distance_km", "reason_code", "reason"]
    assert table["uai"].tolist() == sorted(table["uai"])
    assert table["tutor_id"].tolist() == ["T1", "T2", ""]
    assert table["mode"].tolist() == ["onsite", "onsite", "none"]
    assert table["distance_km"].iloc[0] == "0.807"  # 3 decimals
    assert table["reason_code"].tolist() == ["", "", "no_eligible_tutor"]
    assert "remote tutoring is switched off" in table["reason"].iloc[2]
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary.keys() >= SUMMARY_KEYS
    assert summary["n_covered"] == 2
    assert summary["status"] == "optimal"
    assert (out / "summary.md").read_text(encoding="utf-8").startswith("# tutormatch plan")
    assert pd.read_csv(out / "tutors.csv")["load"].tolist() == [1, 1]


def test_remote_is_allowed_by_default(files: tuple[Path, Path], tmp_path: Path) -> None:
    out = tmp_path / "plan"
    tutors = pd.read_csv(files[0], sep=";", decimal=",")
    tutors["capacity"] = 2
    tutors.to_csv(files[0], sep=";", decimal=",", index=False)
    assert main(["solve", *map(str, files), "--out", str(out), "--quiet", "--lang", "en"]) == 0
    table = pd.read_csv(out / "assignment.csv", dtype=str, keep_default_na=False)
    assert table["mode"].tolist() == ["onsite", "onsite", "remote"]


def test_fixed_and_forbidden_pairs(files: tuple[Path, Path], tmp_path: Path) -> None:
    fixed = tmp_path / "fixed.csv"
    forbidden = tmp_path / "forbidden.csv"
    fixed.write_text(f"tutor_id,uai\nT2,{make_uai('0130001')}\n", encoding="utf-8")
    forbidden.write_text(f"tutor_id,uai\nT1,{make_uai('0130002')}\n", encoding="utf-8")
    out = tmp_path / "plan"
    code = main(
        [
            "solve",
            *map(str, files),
            "--out",
            str(out),
            "--no-remote",
            "--quiet",
            "--fixed",
            str(fixed),
            "--forbidden",
            str(forbidden),
            "--time-limit",
            "10",
            "--lang",
            "en",
        ]
    )
    assert code == 0
    table = pd.read_csv(out / "assignment.csv", dtype=str, keep_default_na=False)
    assert table.set_index("uai")["tutor_id"].to_dict() == {
        make_uai("0130001"): "T2",
        make_uai("0130002"): "",
        make_uai("0130003"): "",
    }


def test_bad_input_exits_2_with_one_message_and_writes_nothing(
    files: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tutors = pd.read_csv(files[0], sep=";", decimal=",")
    tutors.loc[1, "capacity"] = -1
    tutors.to_csv(files[0], sep=";", decimal=",", index=False)
    out = tmp_path / "plan"
    assert main(["solve", *map(str, files), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "tutors.csv: column 'capacity' must be a whole number >= 0" in err
    assert "line 3 (tutor_id T2)" in err
    assert "Nothing was written." in err
    assert not out.exists() or not any(out.iterdir())


def test_negative_max_km_is_refused(
    files: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["solve", *map(str, files), "--out", str(tmp_path / "o"), "--max-km", "-5"]) == 2
    assert "--max-km must be >= 0" in capsys.readouterr().err


def test_unknown_solver_is_a_usage_error(files: tuple[Path, Path], tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["solve", *map(str, files), "--solver", "glpk"])
    assert exit_info.value.code == 2


def test_every_solver_is_offered(files: tuple[Path, Path], tmp_path: Path) -> None:
    from tutormatch.cli import _SOLVERS
    from tutormatch.solve import SOLVERS

    assert _SOLVERS == SOLVERS
    out = tmp_path / "plan"
    assert main(["solve", *map(str, files), "--out", str(out), "--solver", "flow-bb", "--quiet"]) == 0
    assert json.loads((out / "summary.json").read_text())["solver"] == "flow-bb"


def test_example_writes_the_shipped_files(tmp_path: Path) -> None:
    assert main(["example", "--out", str(tmp_path)]) == 0
    frame = pd.read_csv(tmp_path / "establishments.csv", dtype=str)
    assert len(frame) == 500
