"""The example académie shipped with tutormatch: read it, build it, write it."""

from __future__ import annotations

from importlib import resources
from os import PathLike
from pathlib import Path
from typing import Any

import pandas as pd

from tutormatch.datasets._synthetic import example_academie
from tutormatch.model import Problem

__all__ = ["example_frames", "example_problem", "write_example"]

_TUTORS_FILE = "tutors.csv"
_ESTABLISHMENTS_FILE = "establishments.csv"
_EXAMPLE_SEED = 2024
_EXAMPLE_MAX_DISTANCE_KM = 60.0


# Declared types of the shipped files' columns (codes stay text: leading zeros).
_FLOATS = frozenset({"lon", "lat"})
_INTEGERS = frozenset({"wave", "capacity", "vehicle_cv", "priority", "visits_per_year"})
_NULLABLE_INTEGERS = frozenset({"max_km", "cia_eur"})  # blank: no limit, not given
_BOOLEANS = frozenset({"remote_ok"})


def _read_shipped(name: str) -> pd.DataFrame:
    path = resources.files("tutormatch").joinpath("data", "example", name)
    with path.open("rb") as file:
        # Read as text first, so that no code loses a leading zero, then give
        # each column its declared type.
        frame = pd.read_csv(file, dtype=str, keep_default_na=False, encoding="utf-8")
    for column in frame.columns:
        cells = frame[column]
        if column in _FLOATS:
            frame[column] = cells.astype("float64")
        elif column in _INTEGERS:
            frame[column] = cells.astype("int64")
        elif column in _NULLABLE_INTEGERS:
            frame[column] = pd.array([int(c) if c else pd.NA for c in cells], dtype="Int64")
        elif column in _BOOLEANS:
            frame[column] = cells.map({"True": True, "False": False}).astype(bool)
    return frame


def example_frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return the shipped example académie as two typed tables.

    The example is a synthetic académie d'Aix-Marseille (départements 04,
    05, 13 and 84): 260 tutors with 520 slots for 500 establishments, on
    real communes. The files are the output of :func:`example_academie` for
    its default seed, with the same column types: numbers are numbers
    (``max_km`` and ``cia_eur`` are nullable integers, ``<NA>`` where not
    given), ``remote_ok`` is boolean, and codes (UAI, INSEE) are text that
    keeps its leading zeros.

    Returns
    -------
    tutors, establishments : pandas.DataFrame
        The columns are described in :func:`example_academie`.

    See Also
    --------
    example_problem : the same tables as a :class:`~tutormatch.Problem`.

    Examples
    --------
    >>> import tutormatch as tm
    >>> tutors, establishments = tm.example_frames()
    >>> tutors.loc[0, "home_uai"][:3] in {"004", "005", "013", "084"}
    True
    >>> len(tutors), len(establishments)
    (260, 500)
    >>> str(tutors["capacity"].dtype), str(establishments["remote_ok"].dtype)
    ('int64', 'bool')
    """
    return _read_shipped(_TUTORS_FILE), _read_shipped(_ESTABLISHMENTS_FILE)


def example_problem(**options: Any) -> Problem:
    """Build a :class:`~tutormatch.Problem` from the shipped example académie.

    Parameters
    ----------
    **options
        Any keyword of :meth:`Problem.from_frames <tutormatch.Problem.from_frames>`;
        ``max_distance_km`` defaults to 60 km.

    Returns
    -------
    Problem

    Raises
    ------
    InputError
        On a bad option value (see :meth:`~tutormatch.Problem.from_frames`).

    See Also
    --------
    example_frames : the tables themselves.

    Examples
    --------
    >>> import tutormatch as tm
    >>> problem = tm.example_problem()
    >>> problem.n_tutors, problem.n_establishments, int(problem.tutors.capacity.sum())
    (260, 500, 520)
    >>> tm.example_problem(max_distance_km=30).max_distance_km
    30
    """
    options.setdefault("max_distance_km", _EXAMPLE_MAX_DISTANCE_KM)
    return Problem.from_frames(*example_frames(), **options)


def write_example(directory: str | PathLike[str], *, seed: int = _EXAMPLE_SEED) -> tuple[Path, Path]:
    r"""Write the example académie as ``tutors.csv`` and ``establishments.csv``.

    The files are UTF-8, comma-separated, with a decimal point and ``\n``
    line ends; missing values are empty cells. With the default seed they
    are byte for byte the files shipped with tutormatch.

    Parameters
    ----------
    directory : str or path-like
        Where to write; created (with its parents) when missing. Existing
        files of the same names are replaced.
    seed : int, default 2024
        Seed passed to :func:`example_academie`.

    Returns
    -------
    tutors_path, establishments_path : pathlib.Path

    Examples
    --------
    >>> import tempfile
    >>> import tutormatch as tm
    >>> from tutormatch.datasets import write_example
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     tutors_csv, establishments_csv = write_example(folder)
    ...     tm.Problem.from_csv(tutors_csv, establishments_csv).n_establishments
    500
    """
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    tutors, establishments = example_academie(seed)
    paths = (folder / _TUTORS_FILE, folder / _ESTABLISHMENTS_FILE)
    for frame, path in zip((tutors, establishments), paths, strict=True):
        # lon and lat are the only float columns: always five decimals.
        frame.to_csv(
            path,
            index=False,
            encoding="utf-8",
            lineterminator="\n",
            float_format="%.5f",
        )
    return paths
