"""Variants of a problem: the edits a scenario applies, each one validated.

Each function returns a new :class:`~tutormatch.Problem` and leaves its
argument as it was. Tutors and establishments are named by id; an unknown id
is an :class:`~tutormatch.InputError` that names it. The tables stay sorted
by id and the fixed and forbidden pairs follow their tutors, so a variant is
the problem one would have built from edited input files.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from tutormatch.errors import InputError

if TYPE_CHECKING:
    from tutormatch.model import Problem
    from tutormatch.model._tables import TutorTable

__all__ = ["with_capacity", "with_later_waves", "with_tutors", "without_tutors"]

IntArray = npt.NDArray[np.int64]
_SHOWN = 5


def _listed(values: Iterable[Any]) -> str:
    items = [str(v) for v in values]
    more = f" and {len(items) - _SHOWN} more" if len(items) > _SHOWN else ""
    return ", ".join(items[:_SHOWN]) + more


def _rows_of(ids: npt.NDArray[np.object_], wanted: Iterable[Any], *, what: str, option: str) -> IntArray:
    """Return the rows of ``wanted`` ids in a table sorted by id; unknown ids are an error."""
    wanted = [str(w) for w in wanted]
    position = {str(v): i for i, v in enumerate(ids.tolist())}
    unknown = sorted({w for w in wanted if w not in position})
    if unknown:
        raise InputError(
            f"{option}: unknown {what} {_listed(unknown)}; give ids of the problem's {what}s.",
            column=option,
            values=unknown,
        )
    return np.array([position[w] for w in wanted], dtype=np.int64)


def _replace_tutors(problem: Problem, tutors: TutorTable, old_rows: IntArray) -> Problem:
    """Swap the tutors table; ``old_rows[i]`` is the old row of new tutor ``i``, or -1 if new."""
    new_row = np.full(problem.n_tutors, -1, dtype=np.int64)
    kept = old_rows >= 0
    new_row[old_rows[kept]] = np.flatnonzero(kept)

    def follow(pairs: IntArray) -> IntArray:
        # Pairs of a tutor who left go with them.
        t = new_row[pairs[:, 0]] if len(pairs) else np.empty(0, dtype=np.int64)
        keep = t >= 0
        return np.column_stack([t[keep], pairs[keep, 1]]).astype(np.int64).reshape(-1, 2)

    changes: dict[str, Any] = {"tutors": tutors, "fixed": follow(problem.fixed)}
    changes["forbidden"] = follow(problem.forbidden)
    if problem.distance_matrix is not None:
        if not kept.all():
            raise InputError(
                "tutors cannot be added to a problem built from a distance matrix: their distances "
                "are unknown. Build the problem again with a matrix that holds their rows."
            )
        changes["distance_matrix"] = problem.distance_matrix[old_rows]
    return dataclasses.replace(problem, **changes)


def _take(table: TutorTable, rows: IntArray) -> TutorTable:
    arrays: dict[str, Any] = {}
    for f in dataclasses.fields(table):
        value = getattr(table, f.name)
        if isinstance(value, np.ndarray):
            arrays[f.name] = value[rows].copy()
        elif isinstance(value, pd.DataFrame):
            arrays[f.name] = value.iloc[rows].reset_index(drop=True)
        # Other fields (the record of the columns read) are kept as they are.
    return dataclasses.replace(table, **arrays)


def without_tutors(problem: Problem, tutor_ids: Iterable[Any]) -> Problem:
    """Return the problem without some tutors (withdrawn), and without their fixed or forbidden pairs.

    Parameters
    ----------
    problem : Problem
    tutor_ids : iterable of str
        Ids of tutors of ``problem``.

    Returns
    -------
    Problem

    Raises
    ------
    InputError
        If an id is not a tutor of the problem.

    Examples
    --------
    >>> import tutormatch as tm
    >>> from tutormatch.scenarios import without_tutors
    >>> problem = tm.example_problem()
    >>> without_tutors(problem, [problem.tutors.id[0]]).n_tutors
    259
    """
    gone = _rows_of(problem.tutors.id, tutor_ids, what="tutor", option="withdraw")
    keep = np.setdiff1d(np.arange(problem.n_tutors, dtype=np.int64), gone)
    return _replace_tutors(problem, _take(problem.tutors, keep), keep)


def with_tutors(problem: Problem, tutors: pd.DataFrame) -> Problem:
    """Return the problem with more tutors (recruits), read as :meth:`Problem.from_frames` reads them.

    Parameters
    ----------
    problem : Problem
    tutors : pandas.DataFrame
        New tutors, with the columns of a tutors table (``tutor_id``, a
        location, ``capacity``...); ids must be new.

    Returns
    -------
    Problem

    Raises
    ------
    InputError
        On a bad table (as :meth:`Problem.from_frames`), an id the problem
        already has, or a problem built from a distance matrix.

    Examples
    --------
    >>> import pandas as pd, tutormatch as tm
    >>> from tutormatch.scenarios import with_tutors
    >>> recruit = pd.DataFrame({"tutor_id": ["NEW1"], "insee": ["04070"], "role": ["SGAC"], "wave": [1]})
    >>> with_tutors(tm.example_problem(), recruit).n_tutors
    261
    """
    from tutormatch.model._problem import _gazetteer_frame
    from tutormatch.model._rules import DEFAULT_CAPACITY
    from tutormatch.model._tables import TableSource, TutorTable

    added = TutorTable.from_source(
        TableSource(tutors, "added tutors"),
        id_column="tutor_id",
        establishments=problem.establishments,
        gazetteer=_gazetteer_frame(None),
        roles=problem.role_help,
        default_capacity=DEFAULT_CAPACITY,
    )
    clash = sorted(set(map(str, added.id)) & set(map(str, problem.tutors.id)))
    if clash:
        raise InputError(
            f"added tutors: tutor_id {_listed(clash)} already in the problem; give new ids.",
            table="added tutors",
            column="tutor_id",
            values=clash,
        )
    old = problem.tutors
    arrays: dict[str, Any] = {}
    for f in dataclasses.fields(old):
        a, b = getattr(old, f.name), getattr(added, f.name)
        if isinstance(a, np.ndarray):
            arrays[f.name] = np.concatenate([a, b.astype(a.dtype, copy=False)])
        elif isinstance(a, pd.DataFrame):
            arrays[f.name] = pd.concat([a, b], ignore_index=True)
        # Other fields (the record of the columns read) stay the base table's.
    order = np.argsort(arrays["id"].astype(str), kind="stable")
    joined = dataclasses.replace(old, **arrays)
    old_rows = np.concatenate([np.arange(len(old)), np.full(len(added), -1)]).astype(np.int64)[order]
    variant = _replace_tutors(problem, _take(joined, order), old_rows)
    # Which columns of the added table were read, and which ignored, for the record.
    return dataclasses.replace(variant, columns={**problem.columns, "added tutors": dict(added.columns)})


def with_capacity(problem: Problem, capacity: int | Mapping[str, int]) -> Problem:
    """Return the problem with other capacities: one for every tutor, or some tutors' by id.

    Parameters
    ----------
    problem : Problem
    capacity : int or mapping of str to int
        Establishments per tutor (>= 0, and at least the tutor's
        ``min_load``).

    Returns
    -------
    Problem

    Raises
    ------
    InputError
        On a negative or non-integer capacity, an unknown tutor, a capacity
        below a tutor's minimum load or their fixed pairs.

    Examples
    --------
    >>> import tutormatch as tm
    >>> from tutormatch.scenarios import with_capacity
    >>> int(with_capacity(tm.example_problem(), 3).tutors.capacity.sum())
    780
    """
    t = problem.tutors
    new = t.capacity.copy()
    if isinstance(capacity, Mapping):
        rows = _rows_of(t.id, capacity.keys(), what="tutor", option="capacity")
        values = list(capacity.values())
    else:
        rows, values = np.arange(len(t), dtype=np.int64), [capacity] * len(t)
    bad = [v for v in values if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < 0]
    if bad:
        raise InputError(f"capacity must be an integer >= 0; got {bad[0]!r}.", column="capacity", values=bad)
    new[rows] = np.asarray(values, dtype=np.int64)
    below = np.flatnonzero(new < t.min_load)
    if len(below):
        raise InputError(
            f"capacity: below the minimum load of tutor {_listed(t.id[below])} "
            f"(min_load {t.min_load[below[0]]}); give at least their min_load.",
            column="capacity",
            values=[str(v) for v in t.id[below]],
        )
    return dataclasses.replace(problem, tutors=dataclasses.replace(t, capacity=new))


def with_later_waves(problem: Problem, waves: Mapping[str, float]) -> Problem:
    """Return the problem with some establishments moved to a later deployment wave.

    Parameters
    ----------
    problem : Problem
    waves : mapping of str to number
        UAI -> its new wave, later than its present one.

    Returns
    -------
    Problem

    Raises
    ------
    InputError
        On an unknown UAI, an establishment without a wave, or a wave that
        is not later.

    Examples
    --------
    >>> import tutormatch as tm
    >>> from tutormatch.scenarios import with_later_waves
    >>> problem = tm.example_problem()
    >>> uai = problem.establishments.id[0]
    >>> float(with_later_waves(problem, {uai: 9}).establishments.wave[0])
    9.0
    """
    e = problem.establishments
    rows = _rows_of(e.id, waves.keys(), what="establishment", option="later_waves")
    new = e.wave.copy()
    for row, (uai, value) in zip(rows.tolist(), waves.items(), strict=True):
        if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
            raise InputError(f"later_waves: the wave of {uai} must be a number; got {value!r}.")
        if math.isnan(new[row]):
            raise InputError(
                f"later_waves: {uai} has no wave to move from; give its wave in the establishments table."
            )
        if not value > new[row]:
            raise InputError(
                f"later_waves: {uai} is in wave {new[row]:g}; {value!r} is not a later one.",
                column="later_waves",
                values=[str(uai)],
            )
        new[row] = float(value)
    return dataclasses.replace(problem, establishments=dataclasses.replace(e, wave=new))
