"""The command line writes the reports: demo by default, solve --report, report on a given plan."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pandas as pd
import pytest

from tutormatch.cli import main


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    assert main(["demo", "--out", str(out), "--quiet"]) == 0
    return out


def test_demo_writes_the_reports(demo: Path) -> None:
    report = demo / "report"
    for name in ("report.html", "map.png", "report.xlsx", "costs_tutors.csv", "map.html", "plan.gpkg"):
        assert (report / name).stat().st_size > 0, name
    assert (demo / "assignment.csv").exists()
    assert not (demo / "pseudonyms_PRIVATE.csv").exists()
    # Some are uncovered: the verified levers, in the plan files and the reports.
    levers = pd.read_csv(demo / "shortfall.csv", sep=";", encoding="utf-8-sig")
    assert len(levers) > 0
    assert len(pd.read_csv(report / "levers.csv", sep=";", encoding="utf-8-sig")) == len(levers)
    assert "Leviers pour couvrir les établissements restants" in (report / "report.html").read_text("utf-8")


def test_demo_keeps_its_inputs_and_fails_whole(
    demo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shipped = tmp_path / "shipped"
    main(["example", "--out", str(shipped)])
    for name in ("tutors.csv", "establishments.csv"):
        assert (demo / "input" / name).read_bytes() == (shipped / name).read_bytes()
    out = tmp_path / "bad"
    assert main(["demo", "--out", str(out), "--remote-penalty-km", "-1"]) == 2
    assert "Nothing was written." in capsys.readouterr().err
    assert not out.exists() or not any(out.iterdir())


def test_report_on_an_edited_plan(demo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # The plan files are French by default: ';', BOM, French headers.
    assignment = pd.read_csv(
        demo / "assignment.csv", sep=";", encoding="utf-8-sig", dtype=str, keep_default_na=False
    )
    covered = assignment[assignment["Tuteur"] != ""]
    edited = covered.iloc[1:]  # drop one pair by hand
    path = tmp_path / "edited.csv"
    edited[["Tuteur", "UAI"]].to_csv(path, index=False)
    out = tmp_path / "out"
    argv = [
        "report", str(demo / "input" / "tutors.csv"), str(demo / "input" / "establishments.csv"), str(path),
        "--out", str(out), "--lang", "en", "--pseudonymise", "--budget-eur", "600000",
    ]  # fmt: skip
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "yearly cost:" in printed
    assert (out / "pseudonyms_PRIVATE.csv").exists()
    assert not (out / "report" / "pseudonyms_PRIVATE.csv").exists()
    totals = pd.read_csv(out / "report" / "costs_totals.csv")
    values = dict(zip(totals["Item"], totals["Value"], strict=True))
    assert values["Establishments"] == len(edited)
    assert values["Budget (€)"] == 600000


def test_report_refuses_a_broken_plan(demo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("tutor_id,uai\nNOBODY,0040138D\n", encoding="utf-8")
    out = tmp_path / "out"
    argv = [
        "report",
        str(demo / "input" / "tutors.csv"),
        str(demo / "input" / "establishments.csv"),
        str(path),
    ]
    assert main([*argv, "--out", str(out)]) == 2
    assert "must name tutors of the problem" in capsys.readouterr().err
    assert not out.exists() or not any(out.rglob("*.csv"))


def test_solve_without_report_writes_none(demo: Path, tmp_path: Path) -> None:
    inputs = demo / "input"
    out = tmp_path / "plain"
    assert (
        main(
            [
                "solve",
                str(inputs / "tutors.csv"),
                str(inputs / "establishments.csv"),
                "--out",
                str(out),
                "--quiet",
            ]
        )
        == 0
    )
    assert (out / "assignment.csv").exists()
    assert not (out / "report").exists()
    assert (out / "shortfall.csv").exists()  # by default: some are uncovered, an académie
    again = tmp_path / "again"
    argv = ["solve", str(inputs / "tutors.csv"), str(inputs / "establishments.csv"), "--out", str(again)]
    assert main([*argv, "--quiet", "--no-shortfall"]) == 0
    assert not (again / "shortfall.csv").exists()


def _docs_assets() -> ModuleType:
    path = Path(__file__).resolve().parents[2] / "tools" / "docs_assets.py"
    spec = importlib.util.spec_from_file_location("docs_assets", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_docs_excerpt_is_what_the_demo_writes(demo: Path) -> None:
    tool = _docs_assets()
    written = tool.excerpt((demo / "report" / "report.md").read_text(encoding="utf-8"))
    documented = tool.documented_excerpt(tool.DOC.read_text(encoding="utf-8"))
    assert documented == written, "docs/reports.md is out of date: run `make docs-assets`"
    for image in tool.IMAGES.values():
        assert (tool.ROOT / "docs" / "img" / image).read_bytes().startswith(b"\x89PNG")


def test_demo_report_states_its_inputs(demo: Path) -> None:
    text = (demo / "report" / "report.md").read_text(encoding="utf-8")
    inputs = [line for line in text.splitlines() if line.startswith("| Fichier d'entrée |")]
    assert [line.split(" ")[4] for line in inputs] == ["tutors.csv", "establishments.csv"]


def test_map_tiles_only_when_named(tmp_path: Path) -> None:
    url = "https://tiles.example.org/{z}/{x}/{y}.png"
    assert main(["demo", "--out", str(tmp_path), "--quiet", "--map-tiles", url]) == 0
    assert url in (tmp_path / "report" / "map.html").read_text(encoding="utf-8")
