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
# Each scenario is a set of `Problem.from_frames` options. Solves are
# independent, so any `concurrent.futures` executor runs them in parallel
# (threads are enough: OR-Tools releases the GIL while it solves).

# %%
SCENARIOS = {
    "60 km, remote allowed": {"max_distance_km": 60},
    "40 km, remote allowed": {"max_distance_km": 40},
    "80 km, remote allowed": {"max_distance_km": 80},
    "60 km, on-site only": {"max_distance_km": 60, "allow_remote": False},
    "60 km, two or none": {"max_distance_km": 60, "all_or_nothing": True},
}


def run(options: dict) -> dict:
    plan = tm.solve(tm.Problem.from_frames(tutors, establishments, **options))
    totals = tm.report.costs(plan).totals.iloc[0]
    return {
        "status": plan.status.value,
        "solver": plan.solver,
        "covered": plan.n_covered,
        "remote": plan.n_remote,
        "tutors used": plan.n_tutors_used,
        "worst km": round(plan.max_distance_km, 1),
        "yearly road km": round(plan.yearly_travel_km),
        "total EUR": totals["total_eur"],
    }


with ThreadPoolExecutor(max_workers=2) as pool:
    rows = dict(zip(SCENARIOS, pool.map(run, SCENARIOS.values()), strict=True))
comparison = pd.DataFrame.from_dict(rows, orient="index")
print(comparison.to_string())

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
