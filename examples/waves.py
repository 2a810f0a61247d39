# %% [markdown]
# # A rollout wave after wave, and a withdrawal repaired
#
# A notebook in plain Python (`# %%` cells: open it in Jupyter with jupytext,
# or run the cells in VS Code; `python examples/waves.py` runs it all). The
# example académie switches to Op@le in five waves (2025-01 to 2027-01);
# replace `example_rollout_frames()` by your own tables, with `wave` written
# as a month (`2025-01`, `01/2025` or `janvier 2025`). See docs/waves.md.

# %%
import pandas as pd

import tutormatch as tm

pd.set_option("display.width", 160)
tutors, establishments = tm.waves.example_rollout_frames()
problem = tm.Problem.from_frames(tutors, establishments, max_distance_km=60)
print(establishments["wave"].value_counts().sort_index())

# %% [markdown]
# ## Every wave, in date order
#
# Pairs still within their 12 months of support are kept; a tutor's capacity
# holds per school year; users tutor once live for 6 months.

# %%
plan = tm.plan_waves(problem)
print(plan)
print(plan.summary.to_string(index=False))

# %% [markdown]
# ## What each wave needs: the uncovered, and the tutors to recruit

# %%
print(plan.uncovered.groupby(["wave", "reason", "rollout"]).size())
print(plan.recruits.pivot_table(index="departement", columns="wave", values="n_tutors_new", fill_value=0))

# %% [markdown]
# ## What it costs: per school year (letters, indemnities, bonus) and calendar year (mileage)

# %%
print(plan.school_years().to_string(index=False))

# %% [markdown]
# ## Other parameters: support for 18 months, tutors live for a year first

# %%
longer = tm.plan_waves(problem, calendar=tm.waves.WaveCalendar(support_months=18, live_months=12))
print(
    longer.summary[["wave", "n_covered", "n_uncovered", "n_kept", "n_tutors_eligible"]].to_string(index=False)
)

# %% [markdown]
# ## A tutor withdraws in September 2025: the fewest changed pairs

# %%
fixed = tm.repair(plan, withdraw="T0012", at="2025-09")
print(fixed)
print(fixed.changes.to_string(index=False))
for repair in fixed.repairs:
    if repair.n_changed:
        print(repair.summary.to_string(index=False))
print("statuses of the waves planned:", sorted({w.plan.status.value for w in plan.waves}))
