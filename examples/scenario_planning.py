# %% [markdown]
# # Scenario planning with tutormatch
#
# A notebook in plain Python (`# %%` cells: open it in Jupyter with jupytext,
# or run the cells in VS Code; `python examples/scenario_planning.py` runs it
# all). It uses the built-in example académie; replace `example_frames()` by
# your own tables (`pd.read_csv`, or `tm.Problem.from_csv`).

# %%
from concurrent.futures import ThreadPoolExecutor

import pandas as pd

import tutormatch as tm

tutors, establishments = tm.example_frames()
print(len(tutors), "tutors,", len(establishments), "establishments")

# %% [markdown]
# ## One plan

# %%
plan = tm.solve(tm.Problem.from_frames(tutors, establishments, max_distance_km=60))
print(plan)
print(plan.uncovered[["uai", "reason"]].value_counts("reason"))
costs = tm.report.costs(plan)
print(costs.totals.T)

# %% [markdown]
# ## Scenarios side by side
#
# A `tm.Scenario` is a name, a base problem and its changes; `tm.compare`
# solves each and gives the reports' figures, one row each. `tm.sweep` does
# the same on any `concurrent.futures` executor (threads are enough here:
# OR-Tools releases the GIL while it solves; a Dask cluster through
# `client.get_executor()`). See docs/scenarios.md.

# %%
base = tm.Problem.from_frames(tutors, establishments, max_distance_km=60)
scenarios = [
    tm.Scenario("60 km, remote allowed", base),
    tm.Scenario("40 km, remote allowed", base, max_distance_km=40),
    tm.Scenario("80 km, remote allowed", base, max_distance_km=80),
    tm.Scenario("60 km, on-site only", base, allow_remote=False),
    tm.Scenario("60 km, two or none", base.replace(all_or_nothing=True)),
]
with ThreadPoolExecutor(max_workers=2) as pool:
    comparison = tm.sweep(scenarios, pool, progress=False)
columns = ["scenario", "status", "solver", "n_covered", "n_remote", "n_tutors_used", "max_distance_km"]
print(comparison[[*columns, "yearly_km", "total_eur"]].to_string(index=False))

# %% [markdown]
# ## Wave after wave, with continuity
#
# Plan the January 2025 wave (5) first; then plan wave 6 keeping last year's
# pairs of tutors who carry on (fixed pairs) and the tutors' remaining places.

# %%
waves = pd.to_numeric(establishments["wave"])
first = tm.solve(tm.Problem.from_frames(tutors, establishments[waves == 5], max_distance_km=60))
print("wave 5:", first)
kept = first.pairs.loc[first.pairs["mode"] == "onsite", ["tutor_id", "uai"]].head(20)
both_waves = establishments[waves.isin([5, 6])]
second = tm.solve(tm.Problem.from_frames(tutors, both_waves, max_distance_km=60, fixed_pairs=kept))
print("waves 5 and 6, 20 pairs kept:", second)
chosen = set(zip(second.pairs.tutor_id, second.pairs.uai, strict=True))
print("kept pairs are all there:", set(map(tuple, kept.to_numpy())) <= chosen)
