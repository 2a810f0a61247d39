"""Output folders: nothing of the user's is lost, a plan is published whole, errors come before the solve."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import tutormatch
from tutormatch.cli import main
from tutormatch.errors import InputError
from tutormatch.io import make_uai
from tutormatch.io._output import MANIFEST, OutputFolder, exchange, leftovers


def write_inputs(folder: Path, *, min_load: int = 0) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    tutors = pd.DataFrame(
        {
            "tutor_id": ["T1", "T2"],
            "lon": [5.0, 5.3],
            "lat": [43.5, 43.5],
            "capacity": [2, 1],
            "min_load": [min_load, 0],
        }
    )
    establishments = pd.DataFrame(
        {
            "uai": [make_uai("0130002"), make_uai("0130001"), make_uai("0130003")],
            "lon": [5.31, 5.01, 7.0],
            "lat": [43.5, 43.5, 43.5],
        }
    )
    t, e = folder / "tutors.csv", folder / "establishments.csv"
    tutors.to_csv(t, index=False)
    establishments.to_csv(e, index=False)
    return t, e


@pytest.fixture
def inputs(tmp_path: Path) -> tuple[Path, Path]:
    return write_inputs(tmp_path / "in")


def state(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (hidden ones included) with its SHA-256."""
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def solve(inputs: tuple[Path, Path], out: Path, *extra: str) -> int:
    return main(["solve", *map(str, inputs), "--out", str(out), "--quiet", *extra])


@pytest.fixture
def no_solve(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if anything is solved: the errors must come first."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the solve ran before the error")

    monkeypatch.setattr(tutormatch, "solve", refuse)


def refused(capsys: pytest.CaptureFixture[str], code: int) -> str:
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Nothing was written." in err
    return err


# -- what an output folder holds -----------------------------------------------------


def test_a_plan_folder_lists_its_files_in_a_manifest(inputs: tuple[Path, Path], tmp_path: Path) -> None:
    out = tmp_path / "plan"
    assert solve(inputs, out) == 0
    manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    files = state(out)
    del files[MANIFEST]
    assert {name: entry["sha256"] for name, entry in manifest["files"].items()} == files
    assert manifest["command"] == "solve"


def test_solving_again_replaces_the_previous_plan(inputs: tuple[Path, Path], tmp_path: Path) -> None:
    out = tmp_path / "plan"
    assert solve(inputs, out, "--lang", "en") == 0
    assert solve(inputs, out) == 0
    assert (out / "assignment.csv").read_text(encoding="utf-8-sig").startswith("UAI;Tuteur")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in", "plan"]  # nothing left beside it


def test_solve_without_report_leaves_no_stale_report(inputs: tuple[Path, Path], tmp_path: Path) -> None:
    out = tmp_path / "plan"
    assert solve(inputs, out, "--report") == 0
    assert (out / "report" / "report.html").exists()
    assert solve(inputs, out) == 0
    assert not (out / "report").exists()


def test_system_files_do_not_block_a_folder(inputs: tuple[Path, Path], tmp_path: Path) -> None:
    out = tmp_path / "plan"
    assert solve(inputs, out) == 0
    (out / ".DS_Store").write_bytes(b"\0")
    assert solve(inputs, out) == 0


# -- the user's files are never replaced (issue 8) -------------------------------------


def test_out_dot_beside_the_inputs_is_refused(
    inputs: tuple[Path, Path],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    no_solve: None,
) -> None:
    monkeypatch.chdir(inputs[0].parent)
    before = state(inputs[0].parent)
    err = refused(capsys, main(["solve", "tutors.csv", "establishments.csv", "--out", "."]))
    assert "--out .: this is the current folder (or holds it)" in err
    assert state(inputs[0].parent) == before


def test_report_onto_its_own_assignment_is_refused(
    inputs: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "plan"
    assert solve(inputs, out) == 0
    before = state(out)
    code = main(["report", *map(str, inputs), str(out / "assignment.csv"), "--out", str(out)])
    err = refused(capsys, code)
    assert "the input file" in err
    assert "is inside the output folder, which tutormatch replaces as a whole" in err
    assert state(out) == before


def test_a_hand_edited_file_is_never_replaced(
    inputs: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "plan"
    assert solve(inputs, out) == 0
    with (out / "assignment.csv").open("a", encoding="utf-8") as file:
        file.write("my note\n")
    before = state(out)
    err = refused(capsys, solve(inputs, out))
    assert "files changed since tutormatch wrote them (your edits?): assignment.csv" in err
    assert state(out) == before


def test_a_file_tutormatch_did_not_write_is_never_replaced(
    inputs: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str], no_solve: None
) -> None:
    out = tmp_path / "plan"
    out.mkdir()
    (out / "tutors.csv").write_text("my own tutors\n", encoding="utf-8")
    (out / "report").write_text("a file named report\n", encoding="utf-8")
    before = state(out)
    err = refused(capsys, solve(inputs, out))
    assert (
        "the folder holds files that tutormatch did not write (it has no .tutormatch-manifest.json: "
        "tutormatch did not write it, or an older version did): report, tutors.csv"
    ) in err
    assert state(out) == before


def test_example_never_replaces_the_users_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    sample = tmp_path / "sample"
    sample.mkdir()
    (sample / "tutors.csv").write_text("mine\n", encoding="utf-8")
    err = refused(capsys, main(["example", "--out", str(sample)]))
    assert (
        "did not write (it has no .tutormatch-manifest.json: tutormatch did not write it, "
        "or an older version did): tutors.csv" in err
    )
    assert (sample / "tutors.csv").read_text(encoding="utf-8") == "mine\n"
    monkeypatch.chdir(sample)
    refused(capsys, main(["example", "--out", "."]))
    assert sorted(p.name for p in sample.iterdir()) == ["tutors.csv"]


def test_example_twice_into_its_own_folder(tmp_path: Path) -> None:
    sample = tmp_path / "sample"
    assert main(["example", "--out", str(sample), "--quiet"]) == 0
    assert main(["example", "--out", str(sample), "--quiet"]) == 0
    assert sorted(state(sample)) == [MANIFEST, "establishments.csv", "tutors.csv"]


def test_demo_never_replaces_the_users_inputs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], no_solve: None
) -> None:
    out = tmp_path / "demo"
    (out / "input").mkdir(parents=True)
    (out / "input" / "tutors.csv").write_text("mine\n", encoding="utf-8")
    err = refused(capsys, main(["demo", "--out", str(out)]))
    assert "older version did): input/tutors.csv" in err
    assert (out / "input" / "tutors.csv").read_text(encoding="utf-8") == "mine\n"


def test_a_run_without_a_plan_never_replaces_a_plan(
    inputs: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "plan"
    assert solve(inputs, out, "--no-remote") == 0
    before = state(out)
    # T1 must take 2 establishments but only one is within 1 km: infeasible.
    impossible = write_inputs(tmp_path / "impossible", min_load=2)
    assert solve(impossible, out, "--no-remote", "--max-km", "1") == 1
    err = capsys.readouterr().err
    assert "tutormatch: no plan: status infeasible" in err
    assert "is left as it was" in err
    assert state(out) == before
    fresh = tmp_path / "fresh"
    assert solve(impossible, fresh, "--no-remote", "--max-km", "1") == 1
    # A new folder gets why (conflicts.csv/.json), and no plan files.
    assert sorted(p.name for p in fresh.iterdir() if not p.name.startswith(".")) == [
        "conflicts.csv",
        "conflicts.json",
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fresh", "impossible", "in", "plan"]


def test_an_open_spreadsheet_is_named(
    inputs: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "plan"
    assert solve(inputs, out) == 0
    (out / "~$assignment.xlsx").write_bytes(b"lock")
    err = refused(capsys, solve(inputs, out))
    assert "assignment.xlsx seems open in a spreadsheet (lock file ~$assignment.xlsx)" in err


def test_a_damaged_manifest_is_named(
    inputs: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "plan"
    assert solve(inputs, out) == 0
    (out / MANIFEST).write_text("{", encoding="utf-8")
    err = refused(capsys, solve(inputs, out))
    assert f"(its manifest {MANIFEST} is unreadable)" in err


# -- every wrong --out is a clear error before the solve ----------------------------------


def test_out_naming_a_file_is_refused_before_the_solve(
    inputs: tuple[Path, Path], capsys: pytest.CaptureFixture[str], no_solve: None
) -> None:
    err = refused(capsys, solve(inputs, inputs[0]))
    assert f"--out {inputs[0]}: not a folder. Give the name of a new folder" in err
    err = refused(capsys, solve(inputs, inputs[0] / "plan"))
    assert f"not a folder ({inputs[0]} is a file)" in err


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs /proc")
def test_out_in_an_unwritable_place_is_refused_before_the_solve(
    inputs: tuple[Path, Path], capsys: pytest.CaptureFixture[str], no_solve: None
) -> None:
    err = refused(capsys, solve(inputs, Path("/proc/tutormatch-plan")))
    assert "--out /proc/tutormatch-plan: cannot create a folder in /proc" in err


def test_bad_input_leaves_no_folder_behind(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "a" / "b" / "plan"
    refused(capsys, solve((tmp_path / "missing.csv", tmp_path / "missing2.csv"), out))
    assert sorted(p.name for p in tmp_path.iterdir()) == []


# -- leftovers of killed runs -------------------------------------------------------------


def test_leftovers_of_a_killed_run_are_cleaned(inputs: tuple[Path, Path], tmp_path: Path) -> None:
    out = tmp_path / "plan"
    assert solve(inputs, out) == 0
    dead = 2**22 + 12345  # above any pid_max: no such process
    staging = tmp_path / f".plan.tutormatch-staging-{dead}-0a1b2c3d"
    (staging / "report").mkdir(parents=True)
    (staging / "assignment.csv").write_text("half", encoding="utf-8")
    scratch = out / ".tutormatch-k1x_9"
    scratch.mkdir()
    (scratch / "costs.csv").write_text("half", encoding="utf-8")
    assert leftovers(out) == sorted([staging, scratch])
    assert solve(inputs, out) == 0
    assert leftovers(out) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in", "plan"]


def test_an_old_plan_left_aside_is_put_back(inputs: tuple[Path, Path], tmp_path: Path) -> None:
    out = tmp_path / "plan"
    assert solve(inputs, out, "--lang", "en") == 0
    before = state(out)
    aside = tmp_path / f".plan.tutormatch-old-{2**22 + 1}-00ff00ff"
    out.rename(aside)  # a run killed between its two renames
    folder = OutputFolder.prepare(out)
    folder.discard()
    assert state(out) == before
    assert leftovers(out) == []


def test_a_running_runs_staging_folder_is_left_alone(tmp_path: Path) -> None:
    out = tmp_path / "plan"
    with OutputFolder.prepare(out) as first:
        other = tmp_path / f".plan.tutormatch-staging-{os.getppid()}-12345678"
        other.mkdir()
        assert leftovers(out) == []  # its process (our parent) is running
        with OutputFolder.prepare(out) as second:
            assert first.staging.exists()
            assert second.staging != first.staging
    assert not first.staging.exists()
    assert other.exists()


def test_publish_switches_the_whole_folder(tmp_path: Path) -> None:
    out = tmp_path / "plan"
    with OutputFolder.prepare(out) as folder:
        (folder.staging / "a.txt").write_text("1", encoding="utf-8")
        assert folder.publish(command="test") == [out / "a.txt"]
    with OutputFolder.prepare(out) as folder:
        (folder.staging / "b.txt").write_text("2", encoding="utf-8")
        folder.publish()
    assert sorted(state(out)) == [MANIFEST, "b.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan"]


def test_prepare_names_the_input_inside_the_folder(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"the input file .*x\.csv is inside the output folder"):
        OutputFolder.prepare(tmp_path, inputs=[tmp_path / "x.csv"], option="--out here")


def test_root_is_not_an_output_folder() -> None:
    with pytest.raises(InputError, match="a filesystem root cannot be an output folder"):
        OutputFolder.prepare(Path("/"))


def test_exchange_swaps_two_folders_or_says_it_cannot(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "x").write_text("a", encoding="utf-8")
    if exchange(a, b):
        assert (b / "x").read_text(encoding="utf-8") == "a"
        assert not (a / "x").exists()
    else:  # pragma: no cover - systems without renameat2
        assert (a / "x").exists()


# -- a run killed (SIGKILL) while it publishes ----------------------------------------------
#
# Each case runs the command line in a subprocess that kills itself at one point
# of the publication, checks the folder, then checks that the next run puts
# everything in order and leaves nothing behind.


# Kills the process at the point named by argv[1], then runs the command line.
DRIVER = r"""
import os, signal, sys
from pathlib import Path

import tutormatch.io._output as output
import tutormatch.io._plan_files as plan_files
from tutormatch.cli import main

point, argv = sys.argv[1], sys.argv[2:]


def die():
    os.kill(os.getpid(), signal.SIGKILL)


def wrap(module, name, *, before=False):
    original = getattr(module, name)

    def wrapper(*args, **kwargs):
        if before:
            die()
        value = original(*args, **kwargs)
        die()
        return value

    setattr(module, name, wrapper)


if point == "writing":
    wrap(plan_files, "_write_csv")  # after the first file of the staging folder
elif point == "manifest":
    wrap(output, "_write_manifest")
elif point == "exchange-before":
    wrap(output, "exchange", before=True)
elif point == "exchange-after":
    wrap(output, "exchange")
elif point == "deleting-old":
    def remove_one_then_die(path):
        next(p for p in sorted(Path(path).rglob("*")) if p.is_file()).unlink()
        die()
    output._remove = remove_one_then_die
elif point in ("aside", "moved-in"):
    # Systems without an atomic exchange: two renames.
    output.exchange = lambda a, b: False
    original, calls = Path.rename, []

    def rename(self, target):
        value = original(self, target)
        calls.append(target)
        if len(calls) == (1 if point == "aside" else 2):
            die()
        return value

    Path.rename = rename
sys.exit(main(argv))
"""

# point -> the plan the folder holds once the next run has recovered it
# (with an atomic exchange, also the plan it holds right after the kill).
POINTS = {
    "writing": "old",
    "manifest": "old",
    "exchange-before": "old",
    "exchange-after": "new",
    "deleting-old": "new",
    "aside": "old",
    "moved-in": "new",
}
WHOLE_AT_ONCE = {"writing", "manifest", "exchange-before", "exchange-after", "deleting-old", "moved-in"}


def complete(folder: Path) -> bool:
    """The folder holds exactly the files of its manifest, as written."""
    files = state(folder)
    manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    del files[MANIFEST]
    return files == {name: entry["sha256"] for name, entry in manifest["files"].items()}


@pytest.fixture(scope="module")
def old_plan(tmp_path_factory: pytest.TempPathFactory) -> tuple[tuple[Path, Path], Path]:
    """An English plan with reports: what the killed runs replace."""
    base = tmp_path_factory.mktemp("kill")
    inputs = write_inputs(base / "in")
    plan = base / "old"
    argv = ["solve", *map(str, inputs), "--out", str(plan), "--report", "--lang", "en", "--quiet"]
    assert main(argv) == 0
    return inputs, plan


def supports_exchange(folder: Path) -> bool:
    a, b = folder / "probe-a", folder / "probe-b"
    a.mkdir()
    b.mkdir()
    try:
        return exchange(a, b)
    finally:
        a.rmdir()
        b.rmdir()


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
@pytest.mark.parametrize("point", list(POINTS))
def test_a_killed_publication_leaves_a_whole_plan(
    point: str, old_plan: tuple[tuple[Path, Path], Path], tmp_path: Path
) -> None:
    inputs, template = old_plan
    atomic = supports_exchange(tmp_path)
    if point in ("exchange-after", "deleting-old") and not atomic:  # pragma: no cover
        pytest.skip("no atomic exchange on this filesystem")
    work = tmp_path / "work"
    work.mkdir()
    out = work / "plan"
    shutil.copytree(template, out)
    old = state(out)
    assert complete(out)
    # The new plan: French, without reports.
    argv = ["solve", *map(str, inputs), "--out", str(out), "--quiet"]
    run = subprocess.run(
        [sys.executable, "-c", DRIVER, point, *argv],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert run.returncode == -signal.SIGKILL, run.stderr  # the point was reached

    def holds(expected: str) -> bool:
        if expected == "old":
            return state(out) == old
        header = (out / "assignment.csv").read_text(encoding="utf-8-sig").splitlines()[0]
        return complete(out) and header.startswith("UAI;Tuteur") and not (out / "report").exists()

    if point in WHOLE_AT_ONCE:
        # Nothing to recover: the folder already is one whole plan.
        assert out.is_dir()
        assert holds(POINTS[point])
    else:
        assert not out.exists()  # between the two renames
    OutputFolder.prepare(out).discard()  # what the next run does first
    assert holds(POINTS[point])
    assert leftovers(out) == []
    assert main(argv) == 0
    assert holds("new")
    assert [p.name for p in work.iterdir()] == ["plan"]


def test_a_failed_switch_leaves_the_old_plan(
    inputs: tuple[Path, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import tutormatch.io._output as output

    out = tmp_path / "plan"
    assert solve(inputs, out) == 0
    before = state(out)
    monkeypatch.setattr(output, "exchange", lambda a, b: False)
    original = Path.rename

    def rename(self: Path, target: Path) -> Path:
        if ".tutormatch-staging-" in self.name:  # e.g. a file held open on Windows
            raise PermissionError(13, "Permission denied", str(self))
        return original(self, target)

    monkeypatch.setattr(Path, "rename", rename)
    err = refused(capsys, solve(inputs, out, "--lang", "en"))
    assert f"--out {out}: cannot replace the folder (Permission denied); it is left as it was" in err
    assert state(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in", "plan"]
