"""Cut a problem down to some establishments, with other capacities, through its public dataclasses."""

from __future__ import annotations

import dataclasses

import numpy as np
import numpy.typing as npt

from tutormatch.model._problem import Problem
from tutormatch.model._tables import EstablishmentTable

__all__ = ["restrict"]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


def _take_establishments(
    table: EstablishmentTable, rows: IntArray, visits: FloatArray | None
) -> EstablishmentTable:
    n = len(table)
    changes: dict[str, object] = {}
    for f in dataclasses.fields(table):
        value = getattr(table, f.name)
        if isinstance(value, np.ndarray) and value.ndim == 1 and len(value) == n:
            changes[f.name] = value[rows].copy()
    changes["extra"] = (
        table.extra.iloc[rows].reset_index(drop=True) if len(table.extra.columns) else table.extra
    )
    if visits is not None:
        changes["visits_per_year"] = np.asarray(visits, dtype=np.float64).copy()
    return dataclasses.replace(table, **changes)  # type: ignore[arg-type]


def _remap_pairs(pairs: IntArray, position: IntArray) -> IntArray:
    keep = position[pairs[:, 1]] >= 0 if len(pairs) else np.zeros(0, dtype=bool)
    out = np.column_stack((pairs[keep, 0], position[pairs[keep, 1]])) if keep.any() else np.empty((0, 2))
    return np.asarray(out, dtype=np.int64).reshape(-1, 2)


def restrict(
    problem: Problem,
    rows: IntArray,
    *,
    capacity: IntArray,
    visits: FloatArray | None = None,
    keep_fixed: bool = True,
) -> Problem:
    """Return ``problem`` with only the establishments ``rows`` and the given capacities.

    Every tutor stays (same rows, so tutor indices carry over); minimum loads
    are dropped (callers refuse them first); fixed and forbidden pairs, the
    tutors' own establishment and a distance matrix follow the kept
    establishments.

    Parameters
    ----------
    problem : Problem
    rows : ndarray of int
        Establishment rows to keep, increasing (the subproblem stays sorted by UAI).
    capacity : ndarray of int
        One capacity per tutor.
    visits : ndarray of float, optional
        New visits per year of the kept establishments (for costs over part of a year).
    keep_fixed : bool, default True
        Keep the fixed pairs of the kept establishments (else none).
    """
    rows = np.asarray(rows, dtype=np.int64)
    position = np.full(problem.n_establishments, -1, dtype=np.int64)
    position[rows] = np.arange(len(rows))
    tutors = problem.tutors
    home = np.where(tutors.home >= 0, position[np.maximum(tutors.home, 0)], -1)
    new_tutors = dataclasses.replace(
        tutors,
        capacity=np.asarray(capacity, dtype=np.int64).copy(),
        min_load=np.zeros(len(tutors), dtype=np.int64),
        home=np.asarray(home, dtype=np.int64),
    )
    matrix = problem.distance_matrix
    if matrix is not None:
        matrix = matrix[:, rows].tocsr()
        matrix.sort_indices()
    return dataclasses.replace(
        problem,
        tutors=new_tutors,
        establishments=_take_establishments(problem.establishments, rows, visits),
        fixed=_remap_pairs(problem.fixed, position) if keep_fixed else np.empty((0, 2), dtype=np.int64),
        forbidden=_remap_pairs(problem.forbidden, position),
        distance_matrix=matrix,
    )
