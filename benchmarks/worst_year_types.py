"""How many columns the worst-year km MIP needs, per tutor and per type of interchangeable tutors.

Usage::

    python benchmarks/worst_year_types.py

On the example académie on-site, ``objective=["coverage", "worst-year"]``
proves the worst year, but the least km after it is left with a gap: the
reduced-cost enumeration of :mod:`tutormatch.solve._worst_year_exact` has
too many columns for its MIP. This script counts them at the exact slack
(the km plan minus the km LP's bound), once per tutor and once per *type*
(tutors with the same candidate pairs, yearly metres, km costs, fixed
metres and places: interchangeable, so one type's columns serve all its
tutors), to measure what aggregating tutors would save.
"""

from __future__ import annotations

import importlib
import time
from typing import Any

import numpy as np


def main() -> None:
    import tutormatch as tm
    from tutormatch.datasets import example_frames

    wy: Any = importlib.import_module("tutormatch.solve._worst_year_exact")
    seen: dict[str, Any] = {}
    enumerate_, least_km = wy._enumerate, wy._least_km

    def spy_enumerate(items: Any, value: Any, room: Any, floor: Any) -> Any:
        if seen.get("km") and "floor" not in seen:  # the km phase's first call: the exact slack
            seen.update(items=items, value=value, room=room, floor=floor)
        return enumerate_(items, value, room, floor)

    def spy_least_km(*args: Any) -> Any:
        seen["km"] = True
        return least_km(*args)

    wy._enumerate, wy._least_km = spy_enumerate, spy_least_km
    tutors, establishments = example_frames()
    problem = tm.Problem.from_frames(tutors, establishments, allow_remote=False)
    started = time.perf_counter()
    plan = tm.solve(problem, objective=["coverage", "worst-year"], time_limit=30)
    print(f"solve: {time.perf_counter() - started:.1f} s, {plan.status.value}, {plan.message}")
    wy._enumerate, wy._least_km = enumerate_, least_km
    if "floor" not in seen:
        print("the km phase enumerated nothing: nothing to count")
        return
    items = seen["items"]
    start = np.searchsorted(items.tutor, np.arange(items.n_tutors + 1))
    types: dict[tuple[Any, ...], list[int]] = {}
    for t in range(items.n_tutors):
        mine = slice(int(start[t]), int(start[t + 1]))
        key = (
            int(items.base[t]),
            int(items.places[t]),
            tuple(items.establishment[mine].tolist()),
            tuple(items.metres[mine].tolist()),
            tuple(items.cost[mine].tolist()),
        )
        types.setdefault(key, []).append(t)
    sizes = sorted((len(v) for v in types.values()), reverse=True)
    print(f"tutors {items.n_tutors}, types {len(types)}, largest types {sizes[:8]}")
    limit = wy.MAX_COLUMNS
    wy.MAX_COLUMNS = 10**9
    columns = wy._enumerate(items, seen["value"], seen["room"], seen["floor"])
    wy.MAX_COLUMNS = limit
    per_tutor = np.bincount(items.tutor[columns[:, 0]], minlength=items.n_tutors)
    first = [v[0] for v in types.values()]
    print(
        f"columns at the exact slack: {len(columns):,} per tutor, {int(per_tutor[first].sum()):,} per type "
        f"(the MIP takes at most {limit:,}); "
        f"most of one tutor: {int(per_tutor.max(initial=0)):,}"
    )


if __name__ == "__main__":
    main()
