"""``tutormatch explain``: one establishment of a plan, explained on the standard output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tutormatch.cli import main


@pytest.fixture(scope="module")
def plan_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("plan") / "out"
    assert main(["demo", "--out", str(out), "--no-report", "--lang", "en", "-q"]) == 0
    return out


def _args(plan_dir: Path, uai: str) -> list[str]:
    inputs = plan_dir / "input"
    return [
        "explain",
        str(inputs / "tutors.csv"),
        str(inputs / "establishments.csv"),
        str(plan_dir / "assignment.csv"),
        uai,
    ]


def test_explain_prints_the_explanation(plan_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*_args(plan_dir, "0045871K"), "--lang", "en", "-q"]) == 0
    assert capsys.readouterr().out == ""
    assert main([*_args(plan_dir, "0045871K"), "--lang", "en"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("0045871K is not tutored")
    assert "Forcing the nearest eligible tutor" in out


def test_explain_json(plan_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*_args(plan_dir, "0045871K"), "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["uai"] == "0045871K"
    assert record["tutor_id"] is None


def test_explain_unknown_uai_exits_2(plan_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(_args(plan_dir, "NOPE")) == 2
    assert "unknown uai 'NOPE'" in capsys.readouterr().err
