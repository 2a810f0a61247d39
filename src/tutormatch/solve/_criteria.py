"""An explicit order of criteria: parse it and check it.

Criteria are solved as successive exact solves: each one is optimised among
the plans that keep every earlier one at its optimum, or within its
tolerance. Every order of the names in :data:`CRITERIA` is accepted: the
fast exact methods where the order fits them (a flow, the euro branch and
bound, the bottleneck search), else the CP-SAT engine of
:mod:`tutormatch.solve._lexico`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tutormatch.errors import InputError

__all__ = ["CRITERIA", "Criterion", "parse_criteria", "parse_objective_text"]

#: Names of the criteria that ``objective=`` accepts, in a list or alone.
CRITERIA = ("coverage", "km", "euros", "tutors", "worst-trip", "worst-year", "full-loads", "groups")
#: The criteria that are a cost (minimised last, or with a tolerance before the worst trip).
COST_CRITERIA = ("km", "euros", "tutors")
#: Criteria that measure fairness (their price is reported).
FAIRNESS_CRITERIA = ("worst-trip", "worst-year", "full-loads", "groups")
#: Criteria where larger is better (the others are minimised).
MAXIMISED = ("coverage", "full-loads")
#: Each criterion's unit, as the reports print it.
UNITS = {
    "coverage": "priority",
    "km": "km-eq",
    "euros": "EUR",
    "tutors": "tutors",
    "worst-trip": "km",
    "worst-year": "road km a year",
    "full-loads": "tutors",
    "groups": "groups split",
}

_TOLERANCE = re.compile(r"^\s*(?P<value>[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*(?P<pct>%?)\s*$")


@dataclass(frozen=True, slots=True)
class Criterion:
    """One criterion of an ordered objective, with the slack later criteria may use.

    Parameters
    ----------
    name : str
        One of :data:`CRITERIA`.
    tolerance_rel : float, default 0
        Later criteria may worsen this one by this fraction of its optimum
        (``0.02`` for 2 %).
    tolerance_abs : float, default 0
        ... or by this amount, in the criterion's unit (km, euros, tutors).
        Both given: their sum.

    Examples
    --------
    >>> Criterion("euros", tolerance_rel=0.02).limit(1000.0)
    1020.0
    """

    name: str
    tolerance_rel: float = 0.0
    tolerance_abs: float = 0.0

    def __post_init__(self) -> None:
        if self.name not in CRITERIA:
            raise InputError(
                f"unknown criterion {self.name!r}; criteria are {', '.join(map(repr, CRITERIA))}."
            )
        for field in ("tolerance_rel", "tolerance_abs"):
            value = getattr(self, field)
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not (math.isfinite(value) and value >= 0)
            ):
                raise InputError(
                    f"{field} of criterion {self.name!r} must be a finite number >= 0; got {value!r}."
                )

    @property
    def has_tolerance(self) -> bool:
        """Whether later criteria may worsen this one at all."""
        return self.tolerance_rel > 0 or self.tolerance_abs > 0

    @property
    def is_maximised(self) -> bool:
        """Whether larger is better (coverage, full loads)."""
        return self.name in MAXIMISED

    def limit(self, optimum: float) -> float:
        """Return the worst value later criteria may give this one.

        Examples
        --------
        >>> Criterion("full-loads", tolerance_abs=3).limit(100.0)
        97.0
        """
        slack = abs(optimum) * self.tolerance_rel + self.tolerance_abs
        return optimum - slack if self.is_maximised else optimum + slack

    def to_text(self) -> str:
        """Return the command line's spelling, e.g. ``euros~2%``."""
        parts = []
        if self.tolerance_rel:
            parts.append(f"{self.tolerance_rel * 100:g}%")
        if self.tolerance_abs:
            parts.append(f"{self.tolerance_abs:g}")
        return self.name + "".join("~" + p for p in parts)


def _tolerance(name: str, text: str) -> Criterion:
    rel = abs_ = 0.0
    for part in text.split("~"):
        match = _TOLERANCE.match(part)
        if not match:
            raise InputError(
                f"tolerance {part!r} of criterion {name!r} is not a number or a percentage "
                "(e.g. 'euros~2%' or 'worst-trip~5')."
            )
        value = float(match["value"])
        if match["pct"]:
            rel += value / 100
        else:
            abs_ += value
    return Criterion(name, tolerance_rel=rel, tolerance_abs=abs_)


def _one(item: Any) -> Criterion:
    if isinstance(item, Criterion):
        return item
    if isinstance(item, str):
        name, _, rest = item.strip().partition("~")
        return _tolerance(name.strip(), rest) if rest else Criterion(name.strip())
    if isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str):
        name, tol = item
        if isinstance(tol, str):
            return _tolerance(name, tol)
        if isinstance(tol, int | float) and not isinstance(tol, bool):
            return Criterion(name, tolerance_abs=float(tol))
    raise InputError(
        f"a criterion is a name, (name, tolerance) or a Criterion; got {item!r} "
        "(tolerances: '2%' relative, a number absolute)."
    )


def parse_objective_text(text: str) -> tuple[Criterion, ...]:
    """Parse the command line's ``--objective``, e.g. ``coverage,worst-trip,euros~2%``.

    Examples
    --------
    >>> [c.to_text() for c in parse_objective_text("coverage,worst-trip~5%,euros")]
    ['coverage', 'worst-trip~5%', 'euros']
    """
    return parse_criteria([part for part in text.split(",") if part.strip()] or [text])


def parse_criteria(objective: str | Criterion | Sequence[Any]) -> tuple[Criterion, ...]:
    """Return the ordered criteria of ``objective``, coverage first, checked.

    A single name keeps its meaning: coverage first, then it. A list without
    ``coverage`` gets it first (every plan covers the most priority first).

    Raises
    ------
    InputError
        An unknown name, a bad tolerance, a criterion twice, coverage not
        first or with a tolerance, or a tolerance on the last criterion.
    """
    items: list[Any] = [objective] if isinstance(objective, str | Criterion) else list(objective)
    if not items:
        raise InputError("objective is an empty list; give at least one criterion.")
    criteria = [_one(i) for i in items]
    names = [c.name for c in criteria]
    for name in set(names):
        if names.count(name) > 1:
            raise InputError(f"criterion {name!r} is given twice in objective={names!r}.")
    if "coverage" in names and names[0] != "coverage":
        raise InputError(
            f"coverage must come first (every plan covers the most priority first); got {names!r}."
        )
    if names[0] != "coverage":
        criteria.insert(0, Criterion("coverage"))
    if criteria[0].has_tolerance:
        raise InputError("coverage takes no tolerance: plans always cover the most priority they can.")
    rest = criteria[1:]
    if len(rest) > 1 and rest[-1].has_tolerance:
        raise InputError(
            f"the last criterion {rest[-1].name!r} has a tolerance, which no later criterion can use; "
            "drop it."
        )
    if len(rest) == 1 and rest[0].has_tolerance:
        raise InputError(
            f"the last criterion {rest[0].name!r} has a tolerance, which no later criterion can use; drop it."
        )
    return tuple(criteria)
