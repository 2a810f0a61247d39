"""The command line: what a user types, the files they get, the errors they see."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pandas as pd
import pytest

import tutormatch as tm
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
    assert "tutors.csv: column 'capacity' must be a whole number from 0 to 10,000" in err
    assert "line 3 (tutor_id T2)" in err
    assert "Nothing was written." in err
    assert not out.exists() or not any(out.iterdir())


def test_negative_max_km_is_refused(
    files: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["solve", *map(str, files), "--out", str(tmp_path / "o"), "--max-km", "-5"]) == 2
    err = capsys.readouterr().err
    assert "--max-km must be a number from 0 to 40,000 km (or inf for no limit); got -5.0." in err


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--detour-factor", "0,5", "--detour-factor must be a number from 1 to 10; got 0.5."),
        ("--indemnity-eur", "-1", "--indemnity-eur must be a number from 0 to 1,000,000 EUR; got -1.0."),
        ("--max-km", "nan", "--max-km must be a number from 0 to 40,000 km (or inf for no limit); got nan."),
    ],
)
def test_an_option_out_of_range_is_refused_by_its_name(
    files: tuple[Path, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    option: str,
    value: str,
    message: str,
) -> None:
    assert main(["solve", *map(str, files), "--out", str(tmp_path / "o"), option, value]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Nothing was written." in err
    assert not (tmp_path / "o").exists()


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


# -- files for a French office (issue 15) --------------------------------------------------


def test_plan_files_are_french_by_default(files: tuple[Path, Path], tmp_path: Path) -> None:
    out = tmp_path / "plan"
    assert main(["solve", *map(str, files), "--out", str(out), "--no-remote", "--quiet"]) == 0
    raw = (out / "assignment.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # the BOM that French Excel needs
    lines = raw.decode("utf-8-sig").splitlines()
    assert lines[0] == "UAI;Tuteur;Modalité;Distance (km);Motif;Détail"
    assert lines[1] == f"{make_uai('0130001')};T1;sur place;0,807;;"
    assert lines[3].startswith(f"{make_uai('0130003')};;aucune;;aucun tuteur éligible;")
    tutors = (out / "tutors.csv").read_text(encoding="utf-8-sig").splitlines()
    assert tutors[0] == (
        "Tuteur;Capacité;Charge;Sur place;À distance;Distance totale, aller (km);Km par an;Statut;Recruté"
    )
    assert tutors[1].startswith("T1;1;1;1;0;0,807;")
    assert (out / "summary.md").read_text(encoding="utf-8").startswith("# Plan tutormatch")
    assert "| établissements couverts | 2 / 3 (0 à distance) |" in (out / "summary.md").read_text(
        encoding="utf-8"
    )


def test_assignment_xlsx_holds_numbers_with_a_filter(files: tuple[Path, Path], tmp_path: Path) -> None:
    from openpyxl import load_workbook

    out = tmp_path / "plan"
    assert main(["solve", *map(str, files), "--out", str(out), "--no-remote", "--quiet"]) == 0
    sheet = load_workbook(out / "assignment.xlsx").active
    assert sheet.title == "Affectation"
    assert [c.value for c in sheet[1]] == ["UAI", "Tuteur", "Modalité", "Distance (km)", "Motif", "Détail"]
    assert sheet["D2"].value == pytest.approx(0.807, abs=1e-3)
    assert sheet.auto_filter.ref == "A1:F4"
    assert sheet.freeze_panes == "A2"


@pytest.mark.parametrize("name", ["assignment.csv", "assignment.xlsx"])
def test_french_plan_files_read_back(files: tuple[Path, Path], tmp_path: Path, name: str) -> None:
    plan = tmp_path / "plan"
    assert main(["solve", *map(str, files), "--out", str(plan), "--no-remote", "--quiet"]) == 0
    checked = tmp_path / "checked"
    argv = ["report", *map(str, files), str(plan / name), "--out", str(checked), "--no-report", "--quiet"]
    assert main([*argv, "--no-remote"]) == 0
    assert (checked / "assignment.csv").read_bytes() == (plan / "assignment.csv").read_bytes()
    again = tmp_path / "again"
    argv = ["solve", *map(str, files), "--fixed", str(plan / name), "--out", str(again), "--quiet"]
    assert main([*argv, "--no-remote"]) == 0
    assert (again / "assignment.csv").read_bytes() == (plan / "assignment.csv").read_bytes()


# -- feedback and tools -------------------------------------------------------------------


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    import tutormatch

    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out == f"tutormatch {tutormatch.__version__}\n"


def test_python_dash_m_runs_the_command_line() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "tutormatch", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert run.stdout.startswith("tutormatch ")


def test_json_prints_the_summary_for_other_tools(
    files: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "plan"
    assert main(["solve", *map(str, files), "--out", str(out), "--json", "--no-remote"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed.keys() >= SUMMARY_KEYS | {"inputs", "files", "out"}
    assert printed["n_covered"] == 2
    assert "assignment.csv" in printed["files"]
    on_disk = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert {k: printed[k] for k in on_disk if k != "solve_seconds"} == {
        k: v for k, v in on_disk.items() if k != "solve_seconds"
    }


def test_json_without_a_plan_is_valid_json(
    files: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tutors = pd.read_csv(files[0], sep=";", decimal=",")
    tutors["min_load"] = [1, 1]
    tutors.to_csv(files[0], sep=";", decimal=",", index=False)
    argv = [
        "solve",
        *map(str, files),
        "--out",
        str(tmp_path / "o"),
        "--json",
        "--no-remote",
        "--max-km",
        "0,1",
    ]
    assert main(argv) == 1
    printed = json.loads(capsys.readouterr().out)  # no NaN: strict JSON
    assert printed["status"] == "infeasible"
    assert printed["files"] == ["conflicts.csv", "conflicts.json"]  # why, in a new folder
    assert "cannot" in printed["message"]


def test_progress_is_logged_to_stderr(
    files: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["solve", *map(str, files), "--out", str(tmp_path / "plan"), "--report"]
    assert main(argv) == 0
    err = capsys.readouterr().err
    for message in (
        "reading",
        "read 2 tutors and 3 establishments",
        "candidate pairs: ",
        "solve round 1: optimal",
    ):
        assert message in err
    assert "writing the reports" in err
    assert main([*argv[:-1], "-q"]) == 0
    assert capsys.readouterr() == ("", "")
    assert main([*argv[:-1], "-v"]) == 0
    assert "staging folder" in capsys.readouterr().err


# Holds the solve until a file appears, so that the test reads the progress
# while the run is still going.
HOLD = r"""
import sys, time
from pathlib import Path
import tutormatch
import tutormatch as tm
from tutormatch.cli import main

release, solve = Path(sys.argv[1]), tutormatch.solve


def held(*args, **kwargs):
    while not release.exists():
        time.sleep(0.02)
    return solve(*args, **kwargs)


tutormatch.solve = held
sys.exit(main(sys.argv[2:]))
"""


def test_piped_progress_appears_as_it_happens(files: tuple[Path, Path], tmp_path: Path) -> None:
    release = tmp_path / "release"
    argv = ["solve", *map(str, files), "--out", str(tmp_path / "plan"), "--json"]
    process = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(release), *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    watchdog = threading.Timer(60, process.kill)
    watchdog.start()
    try:
        assert process.stderr is not None
        seen = []
        for line in process.stderr:  # blocks until each line is flushed
            seen.append(line)
            if "solving" in line:
                break
        assert process.poll() is None, seen  # still held: the lines came as they happened
        release.touch()
        out, err = process.communicate(timeout=60)
    finally:
        watchdog.cancel()
    assert process.returncode == 0, err
    assert "solve round 1" in err
    assert json.loads(out)["status"] == "optimal"


def test_decimal_commas_on_the_command_line(
    files: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "plan"
    argv = [
        "solve",
        *map(str, files),
        "--out",
        str(out),
        "--max-km",
        "42,5",
        "--detour-factor",
        "1,25",
        "--json",
    ]
    assert main(argv) == 0
    assert json.loads(capsys.readouterr().out)["max_distance_limit_km"] == 42.5


def test_a_bad_number_is_a_usage_error(files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["solve", *map(str, files), "--max-km", "4x"])
    assert exit_info.value.code == 2
    assert "argument --max-km: expected a number such as 42.5 or 42,5; got '4x'" in capsys.readouterr().err


def test_license_is_mit_as_declared() -> None:
    root = Path(__file__).parents[2]
    text = (root / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License")
    assert "Copyright (c) 2026 tutormatch developers" in text
    assert 'license = "MIT"' in (root / "pyproject.toml").read_text(encoding="utf-8")


def test_a_terminated_run_removes_its_staging_folder(files: tuple[Path, Path], tmp_path: Path) -> None:
    out = tmp_path / "plan"
    argv = ["solve", *map(str, files), "--out", str(out)]
    process = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(tmp_path / "never"), *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    watchdog = threading.Timer(60, process.kill)
    watchdog.start()
    try:
        assert process.stderr is not None
        for line in process.stderr:
            if "solving" in line:
                break
        assert any(p.name.startswith(".plan.tutormatch-staging-") for p in tmp_path.iterdir())
        process.terminate()
        process.communicate(timeout=60)
    finally:
        watchdog.cancel()
    assert process.returncode == 128 + signal.SIGTERM
    assert sorted(p.name for p in tmp_path.iterdir()) == ["establishments.csv", "tutors.csv"]


def test_summary_md_says_the_status_in_french(files: tuple[Path, Path], tmp_path: Path) -> None:
    out = tmp_path / "plan"
    assert main(["solve", *map(str, files), "--out", str(out), "--quiet"]) == 0
    assert "| statut | **optimal (prouvé)** (méthode flow" in (out / "summary.md").read_text(encoding="utf-8")


def test_french_plan_files_explain_uncovered_in_french(tmp_path: Path) -> None:
    from tutormatch.io._plan_files import write_plan_files

    plan = tm.solve(tm.example_problem())
    assert plan.n_uncovered
    write_plan_files(plan, tmp_path, lang="fr")
    rows = (tmp_path / "assignment.csv").read_text(encoding="utf-8-sig").splitlines()
    uncovered = [row for row in rows if ";aucune;" in row]
    assert len(uncovered) == plan.n_uncovered
    assert all("tuteur" in row and "tutors" not in row for row in uncovered)
    summary = (tmp_path / "summary.md").read_text(encoding="utf-8")
    assert "eligible tutors" not in summary
    assert "tuteurs éligibles" in summary


def test_formats_csv_writes_no_workbook(files: tuple[Path, Path], tmp_path: Path) -> None:
    out = tmp_path / "plan"
    argv = ["solve", *map(str, files), "--out", str(out), "--quiet", "--lang", "en", "--no-shortfall"]
    assert main([*argv, "--formats", "csv"]) == 0
    written = sorted(p.name for p in out.iterdir() if not p.name.startswith("."))
    assert written == ["assignment.csv", "summary.json", "summary.md", "tutors.csv"]
    both = tmp_path / "both"
    assert main([*argv[:3], "--out", str(both), "--quiet", "--lang", "en", "--no-shortfall"]) == 0
    assert (both / "assignment.xlsx").exists()
    assert (out / "assignment.csv").read_bytes() == (both / "assignment.csv").read_bytes()


def test_an_unknown_format_is_a_usage_error(
    files: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["solve", *map(str, files), "--out", str(tmp_path / "o"), "--formats", "csv,pdf"])
    assert exit_info.value.code == 2
    assert "argument --formats: must be csv, xlsx or csv,xlsx; got 'csv,pdf'" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()
