"""Pseudonymised reports: stable within a key, no real id or name in any shareable file."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from tests.conftest import random_frames

import tutormatch as tm
from tutormatch.report import ReportOptions
from tutormatch.report._pseudonyms import make_pseudonyms

IDS = [f"AGENT-{name}" for name in ("ALPHA", "BRAVO", "CHARLIE", "DELTA", "ECHO", "FOXTROT", "GOLF", "HOTEL")]
NAMES = [f"Zéphyrine Quibble{i}" for i in range(len(IDS))]


@pytest.fixture(scope="module")
def plan() -> tm.Assignment:
    tutors, establishments = random_frames(len(IDS), 12, seed=4)
    tutors["tutor_id"] = IDS
    tutors["name"] = NAMES
    return tm.solve(tm.Problem.from_frames(tutors, establishments, max_distance_km=200))


def _text_of(path: Path) -> str:
    """All the text a file holds, XLSX parts unzipped, binaries as Latin-1."""
    if path.suffix == ".xlsx":
        with zipfile.ZipFile(path) as z:
            return "\n".join(z.read(n).decode("utf-8") for n in z.namelist())
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "latin-1"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return ""  # pragma: no cover - latin-1 decodes anything


def test_no_real_id_or_name_in_shareable_files(plan: tm.Assignment, tmp_path: Path) -> None:
    shared, private = tmp_path / "shared", tmp_path / "private"
    written = tm.report.write_reports(
        plan, shared, options=ReportOptions(pseudonymise=True), private_directory=private
    )
    assert written[-1] == private / "pseudonyms_PRIVATE.csv"
    files = list(shared.iterdir())
    assert len(files) > 20
    assert not (shared / "pseudonyms_PRIVATE.csv").exists()
    for path in files:
        text = _text_of(path)
        for secret in (*IDS, *NAMES, "Quibble", "AGENT-"):
            assert secret not in text, f"{secret} in {path.name}"
    assert "TUT-" in (shared / "costs_tutors.csv").read_text(encoding="utf-8-sig")
    key = pd.read_csv(private / "pseudonyms_PRIVATE.csv", sep=";", encoding="utf-8-sig")
    assert sorted(key["tutor_id"]) == sorted(IDS)
    assert sorted(key["tutor_name"]) == sorted(NAMES)
    assert key["pseudonym"].str.fullmatch(r"TUT-[0-9A-F]{10}").all()


def _pseudonyms_in(folder: Path) -> list[str]:
    rows = list(
        csv.reader(io.StringIO((folder / "costs_tutors.csv").read_text(encoding="utf-8-sig")), delimiter=";")
    )
    return sorted(row[0] for row in rows[1:])


def test_stable_within_a_key(plan: tm.Assignment, tmp_path: Path) -> None:
    runs = {}
    for name, key in (("a", "secret"), ("b", "secret"), ("c", "other"), ("d", None)):
        options = ReportOptions(pseudonymise=True, pseudonym_key=key)
        tm.report.write_reports(
            plan, tmp_path / name, options=options, private_directory=tmp_path / f"{name}-key"
        )
        runs[name] = _pseudonyms_in(tmp_path / name)
    assert runs["a"] == runs["b"]
    assert not set(runs["a"]) & set(runs["c"])
    assert not set(runs["a"]) & set(runs["d"])
    p = make_pseudonyms(IDS, key="secret")
    assert sorted(p(t) for t in plan.problem.tutors.id[plan.loads > 0]) == runs["a"]


def test_the_key_table_needs_a_private_folder(plan: tm.Assignment, tmp_path: Path) -> None:
    options = ReportOptions(pseudonymise=True)
    with pytest.raises(tm.InputError, match=r"pseudonymise=True needs private_directory"):
        tm.report.write_reports(plan, tmp_path / "shared", options=options)
    with pytest.raises(tm.InputError, match=r"is inside the report folder"):
        tm.report.write_reports(
            plan, tmp_path / "shared", options=options, private_directory=tmp_path / "shared" / "k"
        )
    assert not (tmp_path / "shared").exists() or not any((tmp_path / "shared").iterdir())


def test_notebook_frames_keep_real_ids(plan: tm.Assignment) -> None:
    # Only rendered outputs are pseudonymised; the DataFrames are the user's own.
    report = tm.report.costs(plan, options=ReportOptions(pseudonymise=True))
    assert set(report.tutors["tutor_id"]) <= set(IDS)
    lines = tm.report.pair_lines(plan, options=ReportOptions(pseudonymise=True, pseudonym_key="k"))
    assert lines["tutor_id"].str.startswith("TUT-").all()
    assert "tutor_name" not in lines.columns
