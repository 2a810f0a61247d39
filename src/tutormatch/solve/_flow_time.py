"""Whether a search has the time of one more flow: a moving estimate of a flow's seconds.

Notes
-----
The best-first searches in euros and tutors (:mod:`tutormatch.solve._euros`,
:mod:`tutormatch.solve._euros_matching`, and the searches that chain them:
:mod:`tutormatch.solve._tutor_price`, :mod:`tutormatch.solve._decide`,
:mod:`tutormatch.solve._budget_price`) solve one min-cost flow (or one
matching) a node. At national scale one takes 2 to 6 seconds: a search that
checks its deadline only between nodes starts a flow just before it and
finishes it well past. The rule, one for every search: a flow starts only
when the time left is at least the estimate of one flow, the longest of the
last :data:`WINDOW` flows' seconds per unit of network size (tutors,
establishments and pairs), scaled to the network of the next flow. Searches
that follow each other share one estimate (a search on a restricted network
uses the rate measured on the full one). Before any flow is measured the
estimate is 0: a search with time left solves its first flow (without it
there is no plan). A search stopped by the rule keeps its best plan and its
proven bound (status ``FEASIBLE`` with its gap).
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from tutormatch.solve._network import Network

__all__ = ["WINDOW", "FlowTimes", "network_size", "time_for_flow"]

#: The flows the estimate remembers (their longest, per unit of size).
WINDOW = 3

_T = TypeVar("_T")


def network_size(network: Network) -> int:
    """Tutors, establishments and pairs: what a flow's time grows with."""
    return int(network.n_tutors + network.n_establishments + network.n_arcs)


def time_for_flow(deadline: float, estimate: float, now: float) -> bool:
    """Return whether a flow of ``estimate`` seconds started at ``now`` ends by ``deadline``.

    Examples
    --------
    >>> time_for_flow(10.0, 2.0, now=7.5)
    True
    >>> time_for_flow(10.0, 3.0, now=7.5)
    False
    >>> time_for_flow(float("inf"), 1e9, now=0.0)
    True
    """
    if math.isinf(deadline):
        return deadline > 0
    return now + estimate <= deadline


class FlowTimes:
    """A moving estimate of one flow's seconds, shared by the searches of one solve.

    Parameters
    ----------
    clock : callable, default time.perf_counter
        Seconds (a fake clock in tests).

    Examples
    --------
    >>> ticks = iter([0.0, 2.0, 2.0])
    >>> times = FlowTimes(clock=lambda: next(ticks))
    >>> times.timed(1000, lambda: "plan")  # one flow of 2 s on a network of size 1,000
    'plan'
    >>> times.estimate(2000)  # twice the size: twice the time
    4.0
    >>> times.has_time(5.0, 2000)  # at 2 s, 4 s more ends past 5 s
    False
    """

    def __init__(self, clock: Callable[[], float] = time.perf_counter) -> None:
        self.clock = clock
        self._rates: deque[float] = deque(maxlen=WINDOW)

    def record(self, seconds: float, size: int) -> None:
        """Remember a flow of ``seconds`` on a network of ``size``."""
        self._rates.append(max(seconds, 0.0) / max(size, 1))

    def estimate(self, size: int) -> float:
        """Seconds one flow on a network of ``size`` is expected to take (0 before any flow)."""
        return max(self._rates, default=0.0) * max(size, 1)

    def has_time(self, deadline: float, size: int) -> bool:
        """Return whether one more flow on a network of ``size`` ends by ``deadline``."""
        return time_for_flow(deadline, self.estimate(size), self.clock())

    def timed(self, size: int, flow: Callable[[], _T]) -> _T:
        """Run ``flow`` (one flow or matching on a network of ``size``) and record its seconds."""
        started = self.clock()
        out = flow()
        self.record(self.clock() - started, size)
        return out
