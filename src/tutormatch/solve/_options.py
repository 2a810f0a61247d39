"""Solver tuning, in one small frozen object."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from tutormatch.errors import InputError

__all__ = ["AUTO_PAIR_BUDGET", "SolveOptions"]

#: With ``candidate_k="auto"``, model every pair within the limit when there
#: are at most this many (counted before the eligibility rules; about 0.7 GB
#: at the most); beyond, start from a nearest-k pool and price the others.
AUTO_PAIR_BUDGET = 8_000_000


@dataclass(frozen=True, slots=True)
class SolveOptions:
    """Tuning for the backends; the defaults give a proven optimum.

    Parameters
    ----------
    time_limit : float, default inf
        Wall-clock seconds for the search (``cpsat``, ``flow-bb``, the block
        passes of ``matching``). On reaching it the best plan found is kept
        with status ``FEASIBLE`` and its gap.
    relative_gap : float, default 0
        Stop when the relative gap falls below this. 0 proves optimality.
    num_workers : int, default 2
        CP-SAT search threads.
    deterministic : bool, default True
        Make parallel CP-SAT runs repeatable (interleaved search): the same
        input gives the same plan. Slightly slower.
    random_seed : int, default 0
    log : bool, default False
        Print the backend's search log.
    cost_resolution_km : float, default 0.001
        Costs are scaled to integers in units of this many km of yearly travel
        (1 m by default). The optimum is exact for the rounded costs; every
        reported figure is recomputed from the chosen pairs in floating point.
    candidate_k : int, None or "auto", default "auto"
        Which on-site pairs the min-cost flow starts from; the plan is optimal
        over *every* eligible pair whatever the choice. An integer: each
        establishment's ``candidate_k`` nearest eligible tutors, then any
        other pair within the limit that the flow's dual prices show could
        improve the plan is added and the flow solved again, until none can
        (column generation; fewer pairs in memory, several solves). ``None``:
        every pair within the limit from the start (one solve). ``"auto"``:
        every pair when there are at most :data:`AUTO_PAIR_BUDGET` of them,
        else the 32 nearest and pricing (always when there is no limit).
    """

    time_limit: float = math.inf
    relative_gap: float = 0.0
    num_workers: int = 2
    deterministic: bool = True
    random_seed: int = 0
    log: bool = False
    cost_resolution_km: float = 0.001
    candidate_k: int | Literal["auto"] | None = "auto"

    def __post_init__(self) -> None:
        if not self.time_limit > 0:
            raise InputError(f"time_limit must be > 0 seconds; got {self.time_limit!r}.")
        if not 0 <= self.relative_gap < 1:
            raise InputError(f"relative_gap must be in [0, 1); got {self.relative_gap!r}.")
        if self.num_workers < 1:
            raise InputError(f"num_workers must be >= 1; got {self.num_workers!r}.")
        if self.candidate_k == "auto":
            pass
        elif self.candidate_k is not None and (not isinstance(self.candidate_k, int) or self.candidate_k < 1):
            raise InputError(f"candidate_k must be >= 1 or None; got {self.candidate_k!r}.")
        if not self.cost_resolution_km > 0:
            raise InputError(f"cost_resolution_km must be > 0; got {self.cost_resolution_km!r}.")
