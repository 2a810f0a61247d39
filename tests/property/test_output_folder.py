"""Property: whatever an output folder holds, a publication keeps every file of the user's."""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from tutormatch.errors import InputError
from tutormatch.io._output import MANIFEST, OutputFolder, leftovers

PLAN = {"assignment.csv": "old plan", "report/costs.csv": "old report", "input/tutors.csv": "old input"}
NEW = {"assignment.csv": "new plan", "summary.md": "new summary"}
# Where a user might put a file: on a plan file, beside it, in a plan folder, a lock file, a system file.
USER_PATHS = [
    "assignment.csv",
    "notes.txt",
    "report",
    "report/mine.csv",
    "input/tutors.csv",
    "input/extra.csv",
    "~$assignment.xlsx",
    ".DS_Store",
    "deep/er/file.txt",
]

actions = st.lists(
    st.one_of(
        st.tuples(st.just("put"), st.sampled_from(USER_PATHS)),
        st.tuples(st.just("edit"), st.sampled_from(sorted(PLAN))),
        st.tuples(st.just("delete"), st.sampled_from(sorted(PLAN))),
        st.tuples(st.just("mkdir"), st.sampled_from(["empty", "report/sub"])),
    ),
    max_size=4,
)


def state(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def publish(out: Path, files: dict[str, str]) -> None:
    with OutputFolder.prepare(out) as folder:
        for name, text in files.items():
            (folder.staging / name).parent.mkdir(parents=True, exist_ok=True)
            (folder.staging / name).write_text(text, encoding="utf-8")
        folder.publish()


@given(has_plan=st.booleans(), steps=actions)
def test_a_publication_never_loses_a_users_file(has_plan: bool, steps: list[tuple[str, str]]) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "plan"
        if has_plan:
            publish(out, PLAN)
        out.mkdir(exist_ok=True)
        user_files: set[str] = set()  # files of the user's still in the folder
        user_dirs = False  # a folder the user made (it stays even when emptied)
        for action, name in steps:
            path = out / name
            if action == "put":
                if path.is_dir() or any(
                    p.is_file() for p in [*path.parents] if p != out and out in p.parents
                ):
                    continue  # cannot make a file there
                user_dirs |= not path.parent.exists()
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text("the user's", encoding="utf-8")
                if name != ".DS_Store":
                    user_files.add(name)
            elif action == "edit" and path.is_file():
                path.write_text("edited by hand", encoding="utf-8")
                user_files.add(name)
            elif action == "delete" and path.is_file():
                path.unlink()
                user_files.discard(name)  # a user's file put there and deleted is gone
            elif action == "mkdir" and not path.exists() and not path.parent.is_file():
                path.mkdir(parents=True)
                user_dirs = True  # an empty folder of the user's is theirs too
        users = bool(user_files) or user_dirs
        before = state(out)
        try:
            publish(out, NEW)
        except InputError:
            assert users
            assert state(out) == before  # refused: the folder is as it was
        else:
            assert not users
            after = state(out)
            del after[MANIFEST]
            assert after == {n: hashlib.sha256(t.encode()).hexdigest() for n, t in NEW.items()}
        assert leftovers(out) == []
        assert sorted(p.name for p in Path(scratch).iterdir()) == ["plan"]
