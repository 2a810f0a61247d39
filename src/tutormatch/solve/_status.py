"""The outcome of a solve, as a string enum with predicates."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["Status"]


class Status(StrEnum):
    """How a solve ended.

    Attributes
    ----------
    OPTIMAL
        A plan proven optimal.
    FEASIBLE
        A limit was reached; the best plan found is kept and ``gap`` > 0.
    INFEASIBLE
        The constraints admit no plan (e.g. minimum loads that cannot be met).
    NO_SOLUTION
        A limit was reached before any plan was found.
    INVALID
        The backend rejected the model (a bug in tutormatch: please report it).
    ERROR
        The backend failed; ``message`` has its own words.
    """

    OPTIMAL = "optimal"
    FEASIBLE = "feasible"
    INFEASIBLE = "infeasible"
    NO_SOLUTION = "no_solution"
    INVALID = "invalid"
    ERROR = "error"

    @property
    def has_solution(self) -> bool:
        """Whether a plan comes with this status."""
        return self in (Status.OPTIMAL, Status.FEASIBLE)

    @property
    def is_optimal(self) -> bool:
        """Whether the plan is proven optimal."""
        return self is Status.OPTIMAL
