"""Groups of establishments (the agence comptable): labels, and how many a plan splits.

An establishment's *group* is its ``agence_comptable`` column (a column
named ``group`` or ``groupe`` is read as it); an empty value is no group. A
group is *split* when its covered establishments have more than one tutor.
The criterion ``groups`` (fewest split) and hard groups (none split) are
solved by the engine of :mod:`tutormatch.solve._lexico`.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from tutormatch.model._problem import Problem
from tutormatch.solve._assignment import Assignment

__all__ = ["establishment_groups", "groups_split"]


def establishment_groups(problem: Problem) -> npt.NDArray[np.object_]:
    """Return each establishment's group label (``""``: no group)."""
    labels = problem.establishments.agence_comptable
    return np.array(["" if v is None else str(v).strip() for v in labels], dtype=object)


def groups_split(plan: Assignment) -> int:
    """Return how many groups of the plan's covered establishments have more than one tutor."""
    groups = establishment_groups(plan.problem)
    seen: dict[str, set[int]] = {}
    for t, e in zip(plan.tutor.tolist(), plan.establishment.tolist(), strict=True):
        g = groups[e]
        if g:
            seen.setdefault(g, set()).add(int(t))
    return sum(1 for tutors in seen.values() if len(tutors) > 1)
