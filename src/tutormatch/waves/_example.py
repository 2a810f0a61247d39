"""The example académie rolled out over five dated waves."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["dated_waves", "example_rollout", "example_rollout_frames"]

#: Establishment wave numbers of the example -> months; the last wave is split
#: in two (September 2026, January 2027), as in the field.
_ESTABLISHMENT_MONTHS = {5: "2025-01", 6: "2025-09", 7: "2026-01", 8: "2026-09"}
#: Tutor wave numbers (their own establishment's switch) -> months.
_TUTOR_MONTHS = {1: "2023-09", 2: "2024-01", 3: "2024-09", 4: "2025-01"}


def example_rollout_frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return the example's tutors and establishments with waves as months.

    Establishments switch in 2025-01, 2025-09, 2026-01, 2026-09 and 2027-01
    (the second half, by UAI, of the example's last wave); tutors' own
    establishments switched from 2023-09 to 2025-01.

    Returns
    -------
    tutors, establishments : pandas.DataFrame

    Examples
    --------
    >>> tutors, establishments = example_rollout_frames()
    >>> sorted(establishments["wave"].unique())
    ['2025-01', '2025-09', '2026-01', '2026-09', '2027-01']
    """
    import tutormatch as tm

    return dated_waves(*tm.example_frames())


def dated_waves(tutors: pd.DataFrame, establishments: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Turn the shipped generators' wave numbers into months (tutors 1-4, establishments 5-8).

    Establishments 5-8 -> 2025-01, 2025-09, 2026-01, 2026-09, the second half
    (by UAI) of wave 8 -> 2027-01; tutors 1-4 -> 2023-09, 2024-01, 2024-09,
    2025-01. Used by the example rollout and the national benchmark.

    Returns
    -------
    tutors, establishments : pandas.DataFrame
        Copies, with ``wave`` as ``YYYY-MM`` text.
    """
    waves = establishments["wave"].map(_ESTABLISHMENT_MONTHS).astype(object)
    last = establishments.index[establishments["wave"] == 8]
    late = last[np.argsort(establishments.loc[last, "uai"].to_numpy().astype(str))][len(last) // 2 :]
    waves.loc[late] = "2027-01"
    establishments = establishments.assign(wave=waves)
    tutors = tutors.assign(wave=tutors["wave"].map(_TUTOR_MONTHS).astype(object))
    return tutors, establishments


def example_rollout(**problem_options: Any) -> Any:
    """Return the example rollout as a :class:`~tutormatch.Problem` (options go to ``from_frames``).

    Examples
    --------
    >>> example_rollout().n_establishments
    500
    """
    import tutormatch as tm

    tutors, establishments = example_rollout_frames()
    return tm.Problem.from_frames(tutors, establishments, **problem_options)
