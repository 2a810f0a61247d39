"""Scenarios: variants of a problem, compared side by side or swept at scale.

The example and synthetic generators that used to live here moved to
:mod:`tutormatch.datasets`; their old names still import from here, with a
:class:`DeprecationWarning`, for one release.
"""

from __future__ import annotations

import warnings
from typing import Any

from tutormatch.scenarios._compare import compare
from tutormatch.scenarios._edit import with_capacity, with_later_waves, with_tutors, without_tutors
from tutormatch.scenarios._scenario import Scenario
from tutormatch.scenarios._sweep import grid, iter_sweep, sweep, withdrawals
from tutormatch.scenarios._write import comparison_chart, write_comparison

__all__ = [
    "Scenario",
    "compare",
    "comparison_chart",
    "grid",
    "iter_sweep",
    "sweep",
    "with_capacity",
    "with_later_waves",
    "with_tutors",
    "withdrawals",
    "without_tutors",
    "write_comparison",
]

# Removed in the release after 0.2: import them from tutormatch.datasets.
_MOVED_TO_DATASETS = frozenset(
    {"example_academie", "example_frames", "example_problem", "synthetic_instance", "write_example"}
)


def __getattr__(name: str) -> Any:
    if name in _MOVED_TO_DATASETS:
        warnings.warn(
            f"tutormatch.scenarios.{name} moved to tutormatch.datasets.{name}; "
            "import it from there (the old name goes in the next release).",
            DeprecationWarning,
            stacklevel=2,
        )
        from tutormatch import datasets

        return getattr(datasets, name)
    raise AttributeError(f"module 'tutormatch.scenarios' has no attribute {name!r}")


def __dir__() -> list[str]:
    return list(__all__)
