"""A scenario: a name, a base problem and the changes applied to it."""

from __future__ import annotations

import dataclasses
import inspect
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import pandas as pd

from tutormatch.errors import InputError

if TYPE_CHECKING:
    from tutormatch.model import Problem
    from tutormatch.solve import Assignment, SolveOptions

__all__ = ["CHANGES", "Scenario"]

#: The changes a scenario may make, in the order they are applied.
CHANGES = (
    "max_distance_km",
    "allow_remote",
    "withdraw",
    "add_tutors",
    "capacity",
    "later_waves",
    "objective",
    "solver",
    "time_limit",
    "options",
)


@dataclass(frozen=True, eq=False)
class Scenario:
    """A variant of a problem to plan: a name, a base problem and the changes applied to it.

    Every change is optional: a scenario without any is the base problem
    solved with the defaults. The changes are checked when the scenario is
    made (names, types) and when it is built (ids, values), never silently
    dropped.

    Parameters
    ----------
    name : str
        Shown in comparisons; unique within one comparison.
    problem : Problem
        The base problem, left as it is.
    max_distance_km : float, optional
        Another on-site limit.
    allow_remote : bool, optional
        Allow or forbid remote tutoring.
    withdraw : iterable of str
        Ids of tutors who withdraw (their fixed and forbidden pairs go with
        them).
    add_tutors : pandas.DataFrame, optional
        Tutors added (recruits), a tutors table with new ids.
    capacity : int or mapping of str to int, optional
        One capacity for every tutor, or tutor id -> capacity.
    later_waves : mapping of str to number
        UAI -> a later deployment wave.
    objective : str, optional
        Passed to :func:`tutormatch.solve` as ``objective=`` when given (for
        versions of tutormatch whose ``solve`` has one); the default
        objective otherwise.
    solver : str, default "auto"
    time_limit : float, optional
        Seconds (see :func:`tutormatch.solve`).
    options : SolveOptions, optional

    Examples
    --------
    >>> import tutormatch as tm
    >>> base = tm.example_problem()
    >>> near = tm.Scenario("40 km", base, max_distance_km=40)
    >>> near.build().max_distance_km
    40.0
    >>> near
    <Scenario '40 km': max_distance_km=40>
    """

    name: str
    problem: Problem
    max_distance_km: float | None = None
    allow_remote: bool | None = None
    withdraw: Sequence[str] = ()
    add_tutors: pd.DataFrame | None = field(default=None, repr=False)
    capacity: int | Mapping[str, int] | None = None
    later_waves: Mapping[str, float] = field(default_factory=dict)
    objective: str | None = None
    solver: str = "auto"
    time_limit: float | None = None
    options: SolveOptions | None = None

    def __post_init__(self) -> None:
        from tutormatch.model import Problem

        if not isinstance(self.name, str) or not self.name.strip():
            raise InputError(f"Scenario name must be a non-empty string; got {self.name!r}.")
        if not isinstance(self.problem, Problem):
            raise InputError(
                f"Scenario {self.name!r}: problem must be a tutormatch.Problem; "
                f"got {type(self.problem).__name__}."
            )
        if self.max_distance_km is not None:
            value = self.max_distance_km
            if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
                raise InputError(
                    f"Scenario {self.name!r}: max_distance_km must be a number >= 0 (math.inf for none); "
                    f"got {value!r}."
                )
            object.__setattr__(self, "max_distance_km", float(value))
        if self.allow_remote is not None and not isinstance(self.allow_remote, bool):
            raise InputError(
                f"Scenario {self.name!r}: allow_remote must be True or False; got {self.allow_remote!r}."
            )
        if isinstance(self.withdraw, str):
            raise InputError(
                f"Scenario {self.name!r}: withdraw must be a list of tutor ids, not one string; "
                f"write withdraw=[{self.withdraw!r}]."
            )
        object.__setattr__(self, "withdraw", tuple(str(t) for t in self.withdraw))
        if self.add_tutors is not None and not isinstance(self.add_tutors, pd.DataFrame):
            raise InputError(
                f"Scenario {self.name!r}: add_tutors must be a DataFrame of tutors; "
                f"got {type(self.add_tutors).__name__}."
            )
        if isinstance(self.capacity, Mapping):
            object.__setattr__(
                self, "capacity", MappingProxyType({str(k): v for k, v in self.capacity.items()})
            )
        if not isinstance(self.later_waves, Mapping):
            raise InputError(
                f"Scenario {self.name!r}: later_waves must map UAI -> wave; "
                f"got {type(self.later_waves).__name__}."
            )
        object.__setattr__(
            self, "later_waves", MappingProxyType({str(k).upper(): v for k, v in self.later_waves.items()})
        )
        if self.time_limit is not None and not (
            isinstance(self.time_limit, int | float)
            and not isinstance(self.time_limit, bool)
            and self.time_limit > 0
        ):
            raise InputError(
                f"Scenario {self.name!r}: time_limit must be > 0 seconds; got {self.time_limit!r}."
            )

    @property
    def changes(self) -> dict[str, Any]:
        """The changes this scenario makes, by name (those left at their default are not listed)."""
        out: dict[str, Any] = {}
        for name in CHANGES:
            value = getattr(self, name)
            unset = value is None or (isinstance(value, tuple | Mapping) and not value)
            if not unset and not (name == "solver" and value == "auto"):
                out[name] = value
        return out

    def build(self) -> Problem:
        """Return the base problem with the changes applied.

        Returns
        -------
        Problem

        Raises
        ------
        InputError
            If a change names an unknown tutor or establishment, or gives a
            value the problem refuses (the message starts with the
            scenario's name).
        """
        from tutormatch.scenarios._edit import with_capacity, with_later_waves, with_tutors, without_tutors

        try:
            problem = self.problem
            settings: dict[str, Any] = {}
            if self.max_distance_km is not None:
                settings["max_distance_km"] = self.max_distance_km
            if self.allow_remote is not None:
                settings["allow_remote"] = self.allow_remote
            if settings:
                problem = dataclasses.replace(problem, **settings)
            if self.withdraw:
                problem = without_tutors(problem, self.withdraw)
            if self.add_tutors is not None:
                problem = with_tutors(problem, self.add_tutors)
            if self.capacity is not None:
                problem = with_capacity(problem, self.capacity)
            if self.later_waves:
                problem = with_later_waves(problem, self.later_waves)
        except InputError as exc:
            raise InputError(
                f"scenario {self.name!r}: {exc}",
                table=exc.table,
                column=exc.column,
                rows=exc.rows,
                values=exc.values,
            ) from None
        return problem

    def solve(self, problem: Problem | None = None) -> Assignment:
        """Build the problem and solve it with the scenario's objective and options.

        Parameters
        ----------
        problem : Problem, optional
            An already built problem (:meth:`build`), to skip building it again.

        Returns
        -------
        Assignment

        Raises
        ------
        InputError
            As :meth:`build`, or when ``objective`` is set and this version
            of :func:`tutormatch.solve` takes none.
        """
        from tutormatch.solve import solve

        keywords: dict[str, Any] = {"solver": self.solver}
        if self.time_limit is not None:
            keywords["time_limit"] = self.time_limit
        if self.options is not None:
            keywords["options"] = self.options
        if self.objective is not None:
            if "objective" not in inspect.signature(solve).parameters:
                raise InputError(
                    f"scenario {self.name!r}: objective={self.objective!r} is not supported by this "
                    "version of tutormatch.solve; leave objective unset."
                )
            keywords["objective"] = self.objective
        return solve(self.build() if problem is None else problem, **keywords)

    def describe(self) -> str:
        """Return the changes in full, as one line (the comparison's ``changes`` column).

        Examples
        --------
        >>> import tutormatch as tm
        >>> tm.Scenario("s", tm.example_problem(), max_distance_km=40, withdraw=["T0004", "T0107"]).describe()
        'max_distance_km=40; withdraw=T0004 T0107'
        """
        return "; ".join(f"{k}={_full(v)}" for k, v in self.changes.items())

    def __repr__(self) -> str:
        parts = [f"{k}={_short(v)}" for k, v in self.changes.items()]
        return f"<Scenario {self.name!r}: {', '.join(parts) or 'the base problem'}>"


def _short(value: Any) -> str:
    if isinstance(value, float) and value.is_integer() and math.isfinite(value):
        return str(int(value))
    if isinstance(value, pd.DataFrame):
        return f"{len(value)} tutors"
    if isinstance(value, Mapping):
        return f"{len(value)} given"
    if isinstance(value, tuple) and len(value) > 3:
        return f"{len(value)} tutors"
    if isinstance(value, tuple):
        return "[" + ", ".join(value) + "]"
    return repr(value)


def _full(value: Any) -> str:
    if isinstance(value, float) and value.is_integer() and math.isfinite(value):
        return str(int(value))
    if isinstance(value, pd.DataFrame):
        ids = value.iloc[:, 0].astype(str).tolist() if value.shape[1] else []
        return f"{len(value)} tutors ({' '.join(ids)})"
    if isinstance(value, Mapping):
        return " ".join(f"{k}:{_full(v)}" for k, v in value.items())
    if isinstance(value, tuple):
        return " ".join(value)
    return str(value)


def check_names(scenarios: Iterable[Scenario]) -> list[Scenario]:
    """Return the scenarios as a list; names must be unique and each a :class:`Scenario`."""
    items = list(scenarios)
    seen: set[str] = set()
    for s in items:
        if not isinstance(s, Scenario):
            raise InputError(f"expected Scenario objects; got {type(s).__name__}.")
        if s.name in seen:
            raise InputError(f"two scenarios are named {s.name!r}; give each its own name.")
        seen.add(s.name)
    return items
