"""What every backend receives and returns, and what each can do."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from tutormatch.solve._network import Network
from tutormatch.solve._options import SolveOptions
from tutormatch.solve._status import Status

__all__ = ["Backend", "BackendResult", "Capabilities"]


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a backend supports; ``solver="auto"`` picks the simplest that fits.

    Attributes
    ----------
    all_or_nothing : bool
        Loads restricted to 0 or the capacity.
    time_limit : bool
        Stops at ``SolveOptions.time_limit`` with the best plan and a gap.
    """

    all_or_nothing: bool
    time_limit: bool


@dataclass(frozen=True)
class BackendResult:
    """A backend's raw answer on a :class:`~tutormatch.solve._network.Network`.

    Attributes
    ----------
    status : Status
    message : str
        The backend's own words.
    arc_used : ndarray of bool, per direct arc
    z : ndarray of bool, per establishment (remote through its class)
    y : ndarray of int, per link (remote load)
    objective : int or None
        Composite integer objective of the plan.
    bound : float
        Proven lower bound on the composite objective (``-inf`` if none).
    stats : dict
    potentials : (ndarray, ndarray) or None
        Flow potentials of the establishment and tutor nodes, certifying the
        optimum (see :mod:`tutormatch.solve._duals`); backends without duals
        give ``None``. With priorities, these are the potentials of the
        cost level (the second flow of :mod:`tutormatch.solve._flow`).
    priority_potentials : (ndarray, ndarray) or None
        Potentials of the coverage level (the first flow), when the backend
        solved the levels one after the other; a left-out pair can improve
        the plan if its reduced cost is negative at this level, or zero here
        and negative at the cost level.
    """

    status: Status
    message: str
    arc_used: npt.NDArray[np.bool_]
    z: npt.NDArray[np.bool_]
    y: npt.NDArray[np.int64]
    objective: int | None
    bound: float
    stats: dict[str, Any] = field(default_factory=dict)
    potentials: tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]] | None = None
    priority_potentials: tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]] | None = None

    @classmethod
    def without_solution(cls, network: Network, status: Status, message: str, **stats: Any) -> BackendResult:
        """Build a result that carries no plan."""
        return cls(
            status=status,
            message=message,
            arc_used=np.zeros(network.n_arcs, dtype=bool),
            z=np.zeros(network.n_establishments, dtype=bool),
            y=np.zeros(len(network.link_class), dtype=np.int64),
            objective=None,
            bound=-np.inf,
            stats=dict(stats),
        )


class Backend(Protocol):
    """A solver adapter."""

    name: str
    capabilities: Capabilities

    def solve(self, network: Network, options: SolveOptions) -> BackendResult:
        """Solve the network; never raise for a solver outcome."""
        ...
