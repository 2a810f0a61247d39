"""Scenarios written in a TOML file, for ``tutormatch compare``.

::

    # Paths are relative to this file.
    [base]
    tutors = "tutors.csv"              # or: example = true (the shipped académie)
    establishments = "establishments.csv"
    max_distance_km = 60               # any option of Problem.from_csv
    allow_remote = true

    [report]                           # optional: the cost model (ReportOptions)
    indemnity_eur = 500

    [[scenario]]
    name = "as today"

    [[scenario]]
    name = "40 km, three each"
    max_distance_km = 40
    capacity = 3                       # or a table: capacity = { T0001 = 1 }
    withdraw = ["T0004", "T0107"]
    add_tutors = "recruits.csv"        # a tutors table
    later_waves = { "0130001F" = 5 }
    time_limit = 30
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tutormatch.errors import InputError

if TYPE_CHECKING:
    from tutormatch.model import Problem
    from tutormatch.report import ReportOptions
    from tutormatch.scenarios._scenario import Scenario

__all__ = ["ScenarioFile", "read_scenarios"]

_BASE_FILES = ("tutors", "establishments", "fixed_pairs", "forbidden_pairs")
_BASE_OPTIONS = (
    "max_distance_km",
    "allow_remote",
    "remote_penalty_km",
    "detour_factor",
    "all_or_nothing",
    "default_capacity",
    "default_visits_per_year",
    "tutor_id",
    "establishment_id",
    "sheet",
)
_SCENARIO_KEYS = (
    "name",
    "max_distance_km",
    "allow_remote",
    "withdraw",
    "add_tutors",
    "capacity",
    "later_waves",
    "objective",
    "solver",
    "time_limit",
)
_SECTIONS = ("base", "report", "scenario")


def _check_keys(where: str, table: dict[str, Any], valid: tuple[str, ...]) -> None:
    unknown = [k for k in table if k not in valid]
    if unknown:
        raise InputError(
            f"{where}: unknown key {unknown[0]!r}; valid keys: {', '.join(valid)}.",
            column=unknown[0],
        )


@dataclass(frozen=True)
class ScenarioFile:
    """What a scenarios file holds.

    Attributes
    ----------
    scenarios : list of Scenario
    report_options : ReportOptions
    files : tuple of Path
        Every file read (the scenarios file first), so that none is
        overwritten by the output.
    """

    scenarios: list[Scenario]
    report_options: ReportOptions
    files: tuple[Path, ...]


def _number(value: Any) -> Any:
    # TOML writes "no limit" as inf; a string such as "inf" is accepted too.
    if isinstance(value, str) and value.strip().lower() in {"inf", "infinity"}:
        return math.inf
    return value


def _base(path: Path, table: dict[str, Any], files_read: list[Path]) -> Problem:
    import tutormatch as tm

    where = f"{path.name}: [base]"
    _check_keys(where, table, ("example", *_BASE_FILES, *_BASE_OPTIONS))
    options = {k: _number(v) for k, v in table.items() if k in _BASE_OPTIONS}
    if table.get("example", False) is True:
        given = [k for k in _BASE_FILES if k in table]
        if given:
            raise InputError(f"{where}: example = true reads no files; remove {', '.join(given)}.")
        options.pop("sheet", None)
        return tm.datasets.example_problem(**options)
    missing = [k for k in ("tutors", "establishments") if k not in table]
    if missing:
        raise InputError(
            f"{where}: give {' and '.join(missing)} (paths to CSV or .xlsx files), or example = true."
        )
    files = {k: path.parent / str(table[k]) for k in _BASE_FILES if k in table}
    files_read.extend(files.values())
    return tm.Problem.from_csv(
        files["tutors"],
        files["establishments"],
        fixed_pairs=files.get("fixed_pairs"),
        forbidden_pairs=files.get("forbidden_pairs"),
        **options,
    )


def _scenario(
    path: Path, i: int, table: dict[str, Any], problem: Problem, files_read: list[Path]
) -> Scenario:
    from tutormatch.io._read import read_table
    from tutormatch.scenarios._scenario import Scenario

    where = f"{path.name}: [[scenario]] {i + 1}"
    _check_keys(where, table, _SCENARIO_KEYS)
    if "name" not in table:
        raise InputError(f'{where}: give it a name (name = "...").')
    changes = dict(table)
    if "max_distance_km" in changes:
        changes["max_distance_km"] = _number(changes["max_distance_km"])
    if "add_tutors" in changes:
        files_read.append(path.parent / str(changes["add_tutors"]))
        frame, _ = read_table(files_read[-1])
        changes["add_tutors"] = frame
    name = str(changes.pop("name"))
    return Scenario(name, problem, **changes)


def read_scenarios(path: str | PathLike[str]) -> ScenarioFile:
    """Read a scenarios file: a base problem, the cost model and the scenarios.

    Parameters
    ----------
    path : path
        A TOML file (format in :mod:`tutormatch.scenarios._file`).

    Returns
    -------
    ScenarioFile

    Raises
    ------
    InputError
        If the file cannot be read or parsed, holds an unknown section or
        key, or an input it names is bad.
    """
    from tutormatch.report import ReportOptions

    file = Path(path)
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"{file}: cannot read the scenarios file ({exc.strerror or exc}).") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{file.name}: not a valid TOML file ({exc}).") from None
    _check_keys(file.name, data, _SECTIONS)
    if "base" not in data:
        raise InputError(f"{file.name}: no [base] section; say which tutors and establishments to read.")
    items = data.get("scenario", [])
    if not isinstance(items, list) or not items:
        raise InputError(f"{file.name}: no [[scenario]]; add at least one.")
    try:
        report = ReportOptions(**data.get("report", {}))
    except TypeError as exc:
        raise InputError(f"{file.name}: [report]: {exc}.") from None
    files_read = [file]
    problem = _base(file, data["base"], files_read)
    scenarios = [_scenario(file, i, table, problem, files_read) for i, table in enumerate(items)]
    return ScenarioFile(scenarios, report, tuple(files_read))
