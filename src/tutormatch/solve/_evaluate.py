"""``tutormatch.evaluate``: check and cost a plan made elsewhere (e.g. edited by hand)."""

from __future__ import annotations

import math
import time
from collections.abc import Iterable

import numpy as np
import pandas as pd

from tutormatch.errors import InputError
from tutormatch.model._columns import ColumnReader
from tutormatch.model._eligibility import MODE_NONE, classify_pairs, rejection_reason
from tutormatch.model._problem import Problem
from tutormatch.model._tables import TableSource
from tutormatch.solve._assignment import Assignment
from tutormatch.solve._solve import plan_from_pairs
from tutormatch.solve._status import Status

__all__ = ["evaluate"]


def evaluate(
    problem: Problem, pairs: pd.DataFrame | Iterable[tuple[str, str]], *, name: str = "pairs"
) -> Assignment:
    """Check a given plan against the rules and return it as an :class:`Assignment`.

    Use it to report on a plan edited by hand in a spreadsheet, or made by
    another tool: the costs, distances and coverage reports then apply to it.

    Parameters
    ----------
    problem : Problem
    pairs : DataFrame with columns ``tutor_id, uai``, or iterable of (tutor_id, uai)
        Rows with an empty ``tutor_id`` are uncovered establishments and are
        skipped, so an ``assignment.csv`` written by tutormatch can be given
        back as is.
    name : str
        How messages name the table.

    Returns
    -------
    Assignment
        Status ``FEASIBLE``, solver ``"given"``; ``bound``, ``gap`` and
        ``priority_bound`` are ``nan`` because nothing was optimised.

    Raises
    ------
    InputError
        Unknown ids, an establishment given twice, a tutor over capacity or
        under their minimum load, a pair that breaks a rule, a fixed pair
        missing or a forbidden pair present; the message names the rows.
    """
    started = time.perf_counter()
    frame = (
        pairs if isinstance(pairs, pd.DataFrame) else pd.DataFrame(list(pairs), columns=["tutor_id", "uai"])
    )
    source = TableSource(frame, name)
    reader = ColumnReader(
        frame,
        table=name,
        id_column="uai",
        row_word=source.row_word,
        aliases={"uai": ("code_uai", "rne"), "tutor_id": ("tutor", "tuteur")},
    )
    reader.require("tutor_id", "uai")
    tids = reader.text("tutor_id")
    uais = np.array([u.upper() for u in reader.text("uai")], dtype=object)
    reader.set_ids(uais)
    given = tids != ""
    t = (
        pd.Index(problem.tutors.id).get_indexer(pd.Index(tids)).astype(np.int64)
        if len(tids)
        else np.zeros(0, np.int64)
    )
    e = (
        pd.Index(problem.establishments.id).get_indexer(pd.Index(uais)).astype(np.int64)
        if len(uais)
        else np.zeros(0, np.int64)
    )
    if (given & (t < 0)).any():
        raise reader.fail("tutor_id", given & (t < 0), "must name tutors of the problem")
    if (e < 0).any():
        raise reader.fail("uai", e < 0, "must name establishments of the problem")
    values, counts = np.unique(e[given], return_counts=True)
    twice = given & np.isin(e, values[counts > 1])
    if twice.any():
        raise reader.fail("uai", twice, "must give each establishment one tutor at most")
    tutor, establishment = t[given], e[given]
    distance = problem.distance_km(tutor, establishment)
    modes = classify_pairs(problem, tutor, establishment, distance)
    if (modes == MODE_NONE).any():
        bad = np.flatnonzero(modes == MODE_NONE)
        reasons = [
            rejection_reason(problem, int(tutor[i]), int(establishment[i]), float(distance[i]))
            for i in bad[:3]
        ]
        mask = np.zeros(len(frame), dtype=bool)
        mask[np.flatnonzero(given)[bad]] = True
        raise reader.fail("tutor_id", mask, f"names pairs that break a rule ({'; '.join(map(str, reasons))})")
    _check_loads(problem, tutor, reader, given)
    chosen = set(zip(tutor.tolist(), establishment.tolist(), strict=True))
    missing = [(a, b) for a, b in problem.fixed.tolist() if (a, b) not in chosen]
    if missing:
        a, b = missing[0]
        raise InputError(
            f"{name}: the fixed pair ({problem.tutors.id[a]}, {problem.establishments.id[b]}) is missing "
            f"({len(missing)} fixed pair(s) in all). Add them back or drop them from the fixed pairs.",
            table=name,
        )
    fixed_keys = {tuple(p) for p in problem.fixed.tolist()}
    is_fixed = np.array(
        [(a, b) in fixed_keys for a, b in zip(tutor.tolist(), establishment.tolist(), strict=True)],
        dtype=bool,
    )
    plan = plan_from_pairs(
        problem,
        tutor,
        establishment,
        is_fixed,
        status=Status.FEASIBLE,
        solver="given",
        message="plan given by the user: checked against the rules, not optimised",
        stats={},
        started=started,
    )
    import dataclasses

    return dataclasses.replace(plan, bound=math.nan, gap=math.nan, priority_bound=math.nan)


def _check_loads(problem: Problem, tutor: np.ndarray, reader: ColumnReader, given: np.ndarray) -> None:
    tutors = problem.tutors
    load = np.bincount(tutor, minlength=problem.n_tutors)
    over = load > tutors.capacity
    if over.any():
        rows = given.copy()
        rows[given] = np.isin(tutor, np.flatnonzero(over))
        names = ", ".join(
            f"{tutors.id[i]} ({load[i]} > {tutors.capacity[i]})" for i in np.flatnonzero(over)[:5]
        )
        raise reader.fail("tutor_id", rows, f"gives tutors more establishments than their capacity: {names}")
    under = load < tutors.min_load
    if problem.all_or_nothing:
        under |= (load > 0) & (load < tutors.capacity)
    if under.any():
        names = ", ".join(f"{tutors.id[i]} ({load[i]})" for i in np.flatnonzero(under)[:5])
        rule = "their minimum load" + (" or the all-or-nothing rule" if problem.all_or_nothing else "")
        raise InputError(
            f"{reader.table}: {int(under.sum())} tutor(s) break {rule}: {names}. Adjust the pairs.",
            table=reader.table,
            column="tutor_id",
        )
