"""Output folders that never lose a user's file, published as one unit.

An output folder (``--out``) holds tutormatch's files only. Every run:

1. checks the folder **before any solve**: it must be new, empty, or hold
   nothing but the files listed in its manifest (``.tutormatch-manifest.json``,
   with their size and SHA-256), unchanged since tutormatch wrote them; no
   input of the run may lie inside it. Anything else is an
   :class:`~tutormatch.errors.InputError` and nothing is written;
2. recovers what a killed run left (leftover folders are recognised by their
   names, beside the output folder) and creates a staging folder beside the
   output folder, on the same filesystem, which also proves it writable;
3. once every file of the new plan is complete in the staging folder, writes
   the manifest and switches the two folders by renames.

On Linux the switch is one atomic ``renameat2(RENAME_EXCHANGE)``: at any
instant the folder holds the complete old plan or the complete new one.
Elsewhere it is two renames (old folder aside, staging folder in); a run
killed between them leaves the old folder aside, and the next run puts it
back before anything else.

Leftover names, for an output folder ``plan``: ``.plan.tutormatch-staging-*``
(a plan being written, or an old plan being deleted) and
``.plan.tutormatch-old-*`` (an old plan moved aside), both in the parent
folder of ``plan``; and ``.tutormatch-*`` folders inside ``plan`` (scratch
folders of the report writer).
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import functools
import hashlib
import json
import logging
import os
import re
import secrets
import shutil
import sys
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from types import TracebackType
from typing import Any

from tutormatch.errors import InputError

__all__ = ["MANIFEST", "OutputFolder", "atomic_directory", "leftovers"]

logger = logging.getLogger(__name__)

#: Name of the manifest, inside an output folder.
MANIFEST = ".tutormatch-manifest.json"
_STAGING, _OLD = "staging", "old"
#: Files that the operating system drops in any folder: not the user's work.
_SYSTEM_FILES = frozenset({".DS_Store", "Thumbs.db", "desktop.ini"})
_SCRATCH_INSIDE = re.compile(r"^\.tutormatch-[A-Za-z0-9_]+$")
_SHOWN = 5  # files named in a message
#: Staging folders of this process, never taken for leftovers.
_ACTIVE: set[Path] = set()


def _leftover_pattern(name: str) -> re.Pattern[str]:
    return re.compile(rf"^\.{re.escape(name)}\.tutormatch-({_STAGING}|{_OLD})-(\d+)-[0-9a-f]+$")


def _sibling(target: Path, kind: str) -> Path:
    return target.parent / f".{target.name}.tutormatch-{kind}-{os.getpid()}-{secrets.token_hex(4)}"


def _is_running(pid: int) -> bool:
    """Tell whether process ``pid`` still runs (POSIX; elsewhere assume not)."""
    if pid == os.getpid() or os.name != "posix":
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def leftovers(directory: str | PathLike[str]) -> list[Path]:
    """Return what killed runs left around output folder ``directory``.

    Parameters
    ----------
    directory : path
        An output folder (it need not exist).

    Returns
    -------
    list of Path
        Staging and old-plan folders beside ``directory`` and scratch folders
        inside it, sorted; folders of a run still going are left out.
    """
    target = Path(directory).absolute()
    found: list[Path] = []
    pattern = _leftover_pattern(target.name)
    with contextlib.suppress(OSError):
        for entry in target.parent.iterdir():
            match = pattern.match(entry.name)
            if match and entry not in _ACTIVE and not _is_running(int(match.group(2))):
                found.append(entry)
    with contextlib.suppress(OSError):
        found += [e for e in target.iterdir() if _SCRATCH_INSIDE.match(e.name) and e.is_dir()]
    return sorted(found)


def _sha256(path: Path) -> str:
    with path.open("rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()


def _read_manifest(target: Path) -> tuple[dict[str, Any], bool]:
    """Return the manifest's file table, and whether a manifest was there but unreadable."""
    path = target / MANIFEST
    if not path.exists():
        return {}, False
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        files = data["files"]
        if not isinstance(files, dict):
            raise TypeError
    except (OSError, ValueError, KeyError, TypeError):
        return {}, True
    return files, False


def _listed(items: list[str]) -> str:
    shown = ", ".join(items[:_SHOWN])
    return shown + (f" (and {len(items) - _SHOWN} more)" if len(items) > _SHOWN else "")


@dataclass
class _Scan:
    """What an existing output folder holds."""

    foreign: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    locks: list[str] = field(default_factory=list)


def _scan(target: Path) -> _Scan:
    files, _ = _read_manifest(target)
    scan = _Scan()
    ours_dirs = {"."} | {str(p) for name in files for p in Path(name).parents}
    for root, dirs, names in os.walk(target):
        dirs.sort()
        here = Path(root)
        rel_root = here.relative_to(target)
        for d in list(dirs):
            rel = (rel_root / d).as_posix()
            if here == target and _SCRATCH_INSIDE.match(d):
                dirs.remove(d)  # a report writer's scratch folder: a leftover
            elif (here / d).is_symlink():
                dirs.remove(d)
                scan.foreign.append(rel)
        if str(rel_root) not in ours_dirs and not names and not dirs:
            scan.foreign.append(rel_root.as_posix() + "/")
        for name in sorted(names):
            rel = (rel_root / name).as_posix()
            path = here / name
            if rel == MANIFEST or name in _SYSTEM_FILES:
                continue
            if name.startswith("~$"):
                scan.locks.append(rel)
                continue
            entry = files.get(rel)
            if entry is None or path.is_symlink():
                scan.foreign.append(rel)
            elif not isinstance(entry, dict) or (
                entry.get("bytes") != path.stat().st_size or entry.get("sha256") != _sha256(path)
            ):
                scan.changed.append(rel)
    for found in (scan.foreign, scan.changed, scan.locks):
        found.sort()
    return scan


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


@functools.cache
def _libc_exchange() -> Any:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        function = libc.renameat2
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    function.restype = ctypes.c_int
    return function


_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def exchange(a: Path, b: Path) -> bool:
    """Swap two folders atomically; return False when the system cannot.

    Raises
    ------
    OSError
        When the system can swap but this swap failed.
    """
    function = _libc_exchange()
    if function is None:
        return False
    result = function(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False  # old kernel, or a filesystem without the flag
    raise OSError(code, os.strerror(code), str(a))


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(OSError):
            path.unlink()


class OutputFolder:
    """A checked output folder with a staging folder beside it.

    Use :meth:`prepare`, write every file into :attr:`staging`, then call
    :meth:`publish`; or :meth:`discard` (also done on leaving a ``with``
    block unpublished) to leave the folder as it was.

    Parameters
    ----------
    target : Path
        The output folder, absolute.
    staging : Path
        The staging folder beside it.
    option : str
        How messages name the folder (``"--out plan"``).
    created : list of Path
        Parent folders made to hold the staging folder, removed by
        :meth:`discard` when still empty.
    """

    def __init__(self, target: Path, staging: Path, option: str, created: list[Path]) -> None:
        self.target = target
        self.staging = staging
        self.option = option
        self._created = created
        self._published = False

    @classmethod
    def prepare(
        cls,
        directory: str | PathLike[str],
        *,
        inputs: Iterable[str | PathLike[str] | None] = (),
        option: str | None = None,
    ) -> OutputFolder:
        """Check ``directory`` as an output folder, clean leftovers, create the staging folder.

        Parameters
        ----------
        directory : path
            The output folder: new, empty, or a previous output of tutormatch.
        inputs : iterable of path or None
            The run's input files; none may lie inside ``directory``.
        option : str, optional
            How messages name the folder; default ``"--out DIRECTORY"``.

        Returns
        -------
        OutputFolder

        Raises
        ------
        InputError
            When the folder is a file, the current folder, unwritable, holds a
            file tutormatch did not write (or wrote and someone changed), or
            holds an input; nothing is written then.
        """
        given = Path(directory)
        where = option or f"--out {given}"
        target = given.absolute()
        with contextlib.suppress(OSError):
            target = target.resolve()  # the real folder behind a symlink
        _check_place(target, where)
        _check_inputs(target, inputs, where)
        _recover(target)
        if target.exists():
            _check_contents(target, where)
        created: list[Path] = []
        parent = target.parent
        try:
            for folder in reversed([parent, *parent.parents]):
                if not folder.exists():
                    folder.mkdir()
                    created.append(folder)
            staging = _sibling(target, _STAGING)
            staging.mkdir()
        except OSError as exc:
            for folder in reversed(created):
                with contextlib.suppress(OSError):
                    folder.rmdir()
            raise InputError(
                f"{where}: cannot create a folder in {parent} ({exc.strerror}). "
                "Choose a folder you can write to."
            ) from None
        _ACTIVE.add(staging)
        logger.debug("staging folder %s", staging)
        return cls(target, staging, where, created)

    def __enter__(self) -> OutputFolder:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        if not self._published:
            self.discard()

    def discard(self) -> None:
        """Remove the staging folder (and parent folders made for it); the output folder is untouched."""
        _remove(self.staging)
        _ACTIVE.discard(self.staging)
        for folder in reversed(self._created):
            with contextlib.suppress(OSError):
                folder.rmdir()

    def publish(self, *, command: str = "") -> list[Path]:
        """Switch the staging folder in as the output folder, all files at once.

        Parameters
        ----------
        command : str
            Recorded in the manifest (``"solve"``, ``"demo"``...).

        Returns
        -------
        list of Path
            The files now in the output folder, sorted (manifest excluded).

        Raises
        ------
        InputError
            When the switch fails (a file of the old plan held open on
            Windows, a folder of that name appearing meanwhile); the old
            folder is then left as it was.
        """
        names = _write_manifest(self.staging, command)
        target, staging = self.target, self.staging
        try:
            _switch(target, staging)
        except OSError as exc:
            self.discard()
            raise InputError(
                f"{self.option}: cannot replace the folder ({exc.strerror}); it is left as it was. "
                "Close any file of it that is open, and run again."
            ) from None
        self._published = True
        _ACTIVE.discard(staging)
        return [target / name for name in names]


def _check_place(target: Path, where: str) -> None:
    if target.parent == target:
        raise InputError(f"{where}: a filesystem root cannot be an output folder. Give a subfolder.")
    for folder in [target, *target.parents]:
        if folder.exists() and not folder.is_dir():
            what = "" if folder == target else f" ({folder} is a file)"
            raise InputError(f"{where}: not a folder{what}. Give the name of a new folder, e.g. --out plan.")
    try:
        cwd = Path.cwd().resolve()
    except OSError:  # the current folder was deleted: it cannot be the target
        return
    if _inside(cwd, target):
        raise InputError(
            f"{where}: this is the current folder (or holds it); tutormatch replaces its output "
            "folder as a whole. Give a subfolder of its own, e.g. --out plan."
        )


def _check_inputs(target: Path, inputs: Iterable[str | PathLike[str] | None], where: str) -> None:
    for given in inputs:
        if given is None:
            continue
        path = Path(given).absolute()
        with contextlib.suppress(OSError):
            path = path.resolve()
        if _inside(path, target):
            raise InputError(
                f"{where}: the input file {given} is inside the output folder, which tutormatch "
                "replaces as a whole. Copy it out of the folder first, or choose another --out."
            )


def _check_contents(target: Path, where: str) -> None:
    scan = _scan(target)
    if scan.locks:
        opened = [Path(p).with_name(Path(p).name[2:]).as_posix() for p in scan.locks]
        raise InputError(
            f"{where}: {_listed(opened)} seems open in a spreadsheet (lock file {scan.locks[0]}). "
            "Close it and run again."
        )
    problems = []
    if scan.foreign:
        _, damaged = _read_manifest(target)
        if damaged:
            note = f" (its manifest {MANIFEST} is unreadable)"
        elif not (target / MANIFEST).exists():
            note = f" (it has no {MANIFEST}: tutormatch did not write it, or an older version did)"
        else:
            note = ""
        problems.append(f"files that tutormatch did not write{note}: {_listed(scan.foreign)}")
    if scan.changed:
        problems.append(f"files changed since tutormatch wrote them (your edits?): {_listed(scan.changed)}")
    if problems:
        raise InputError(
            f"{where}: the folder holds {'; and '.join(problems)}. An output folder holds tutormatch's "
            "files only, and is replaced as a whole; tutormatch never replaces a file it did not write. "
            "Move these files out, or choose another --out (a new folder)."
        )


def _recover(target: Path) -> None:
    """Put back an old plan that a killed run left aside, and delete other leftovers."""
    found = leftovers(target)
    olds = sorted((p for p in found if f".tutormatch-{_OLD}-" in p.name), key=lambda p: p.stat().st_mtime)
    if olds and not target.exists():
        # Killed between "old folder aside" and "new folder in": the old plan
        # is complete (only whole folders are moved aside).
        logger.info("putting back %s, left aside by a run that was stopped", target)
        olds[-1].rename(target)
        found.remove(olds[-1])
    for path in found:
        logger.info("removing %s, left by a run that was stopped", path)
        _remove(path)


def _write_manifest(staging: Path, command: str) -> list[str]:
    from tutormatch import __version__

    names = sorted(p.relative_to(staging).as_posix() for p in staging.rglob("*") if p.is_file())
    names = [n for n in names if n != MANIFEST]
    files = {n: {"bytes": (staging / n).stat().st_size, "sha256": _sha256(staging / n)} for n in names}
    manifest = {
        "written_by": "tutormatch",
        "version": __version__,
        "command": command,
        "note": "The files tutormatch wrote in this folder. Any other file makes it refuse the folder.",
        "files": files,
    }
    (staging / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return names


def _switch(target: Path, staging: Path) -> None:
    if not target.exists():
        staging.rename(target)
        return
    if exchange(staging, target):
        # ``staging`` now holds the old plan; a kill while deleting it leaves
        # a staging leftover, deleted by the next run.
        _remove(staging)
        return
    old = _sibling(target, _OLD)
    target.rename(old)
    try:
        staging.rename(target)
    except OSError:
        old.rename(target)  # put the old plan back before saying why
        raise
    _remove(old)


@contextmanager
def atomic_directory(directory: str | PathLike[str]) -> Iterator[Path]:
    """Yield a scratch folder whose files are moved into ``directory`` on success.

    For library writers that add files to a folder of the user's (e.g.
    :func:`tutormatch.report.write_reports`). Existing files of the same names
    are replaced; other files in ``directory`` are left alone. On an exception
    nothing is moved. The scratch folder is named ``.tutormatch-*``: an output
    folder check takes one left by a killed run for a leftover.
    """
    target = Path(directory)
    target.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".tutormatch-", dir=target))
    try:
        yield scratch
        for path in sorted(scratch.rglob("*")):
            if path.is_file():
                destination = target / path.relative_to(scratch)
                destination.parent.mkdir(parents=True, exist_ok=True)
                path.replace(destination)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def manifest_files(directory: str | PathLike[str]) -> Mapping[str, Any]:
    """Return the files listed in the manifest of ``directory`` (empty when none)."""
    return _read_manifest(Path(directory))[0]
