"""Write the notebooks of examples/ from the cells below (stored without outputs).

    python tools/make_notebooks.py

Edit the cells here, or edit the notebooks in Jupyter and clear their outputs
before committing (a test checks that they hold none).
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

SOLVE_AND_MAP = [
    (
        "md",
        """# Solve and map the example académie

The shipped example is a synthetic académie d'Aix-Marseille: 260 tutors,
500 establishments, on real communes. Replace `tm.example_frames()` by your
own tables (`pd.read_csv(...)`, or `tm.Problem.from_csv(...)`).""",
    ),
    (
        "code",
        """import tutormatch as tm

tutors, establishments = tm.example_frames()
problem = tm.Problem.from_frames(tutors, establishments, max_distance_km=60)
problem""",
    ),
    ("md", "## The plan\n\nProven optimal: cover the most priority, then the least yearly travel."),
    (
        "code",
        """plan = tm.solve(problem)
plan""",
    ),
    ("code", "plan.pairs.head()"),
    ("md", "Every establishment is in `plan.pairs` or in `plan.uncovered`, with its reason:"),
    ("code", 'plan.uncovered.value_counts("reason")'),
    ("md", "## What it costs\n\nIndemnities, travel under the State's mileage scale, bonus."),
    (
        "code",
        """costs = tm.report.costs(plan)
costs.totals.T""",
    ),
    ("code", "costs.by_departement"),
    ("md", "## Maps\n\nA static map (matplotlib), then an interactive one (offline: no tiles by default)."),
    ("code", "tm.report.static_map(plan)"),
    ("code", "tm.report.interactive_map(plan)"),
    ("md", "## How far tutors travel"),
    ("code", "tm.report.distances(plan).distribution"),
]

COMPARE = [
    (
        "md",
        """# Compare scenarios

What if the on-site limit were 40 km? If each tutor took three establishments?
If ten tutors withdrew? A `tm.Scenario` is a name, a base problem and the
changes; `tm.compare` solves each one and gives one row of the reports'
figures per scenario.""",
    ),
    (
        "code",
        """import tutormatch as tm
from tutormatch.scenarios import comparison_chart, grid, withdrawals

base = tm.example_problem()
scenarios = [
    tm.Scenario("as today", base),
    tm.Scenario("40 km", base, max_distance_km=40),
    tm.Scenario("on-site only", base, allow_remote=False),
    tm.Scenario("three each", base, capacity=3),
    tm.Scenario("two tutors leave", base, withdraw=["T0004", "T0107"]),
]
table = tm.compare(scenarios)
table[["scenario", "status", "coverage", "n_tutors_used", "max_distance_km", "total_eur"]]""",
    ),
    ("code", "comparison_chart(table)"),
    (
        "md",
        """## A grid of options

`grid` makes one scenario per combination; `tm.sweep` solves them in
parallel on any `concurrent.futures` executor (a local process pool by
default, or a Dask cluster with `client.get_executor()`).""",
    ),
    (
        "code",
        """from concurrent.futures import ThreadPoolExecutor

options = grid(base, max_distance_km=[30, 45, 60], capacity=[2, 3])
with ThreadPoolExecutor(2) as pool:
    swept = tm.sweep(options, pool)
swept[["scenario", "coverage", "n_tutors_used", "max_distance_km", "total_eur"]]""",
    ),
    (
        "md",
        """## How robust is the plan to withdrawals?

Monte-Carlo: 20 draws of 10 tutors withdrawn, seeded so that the same
notebook gives the same draws.""",
    ),
    (
        "code",
        """draws = withdrawals(base, 20, 10, seed=2026)
with ThreadPoolExecutor(2) as pool:
    robust = tm.sweep(draws, pool)
robust[["n_covered", "total_eur"]].describe()""",
    ),
]

EUROS = [
    (
        "md",
        """# Decide in euros

The académie does not pay km: it pays, per school year, **500 € per tutored
establishment** (indemnités), **3 × the CIA variable part** of every tutor who
tutors (the bonus), and **mileage on the State scale** (barème kilométrique)
on each tutor's yearly km. This notebook solves the example académie four
ways and shows what each choice costs. The rules and the method: `docs/euros.md`
(*Deciding in euros* in the documentation).""",
    ),
    (
        "code",
        """import pandas as pd

import tutormatch as tm

problem = tm.example_problem()
plans = {
    "least km": tm.solve(problem),
    "least euros": tm.solve(problem, objective="euros"),
    # Fewest tutors is a hard problem: stop after 3 s, the status says how far from proven.
    "fewest tutors": tm.solve(problem, objective="tutors", time_limit=3),
}
optimum = plans["least euros"].objective
budget = round(0.9 * optimum)
plans["budget -10 %"] = tm.solve(problem, objective="euros", budget_eur=budget)
assert plans["budget -10 %"].objective <= budget  # the budget is a constraint of the plan
print(f"euro optimum {optimum:,.2f} €, budget 10 % below: {budget:,} €")""",
    ),
    (
        "md",
        """## Four plans side by side

Every plan first covers the most priority it can (within the budget, for the
last one), then minimises its objective. `gap` is the proven distance to the
optimum when the status is `feasible`.""",
    ),
    (
        "code",
        """columns = [
    "status",
    "gap",
    "n_covered",
    "covered_priority",
    "n_remote",
    "n_tutors_used",
    "yearly_travel_km",
    "indemnity_eur",
    "bonus_eur",
    "mileage_eur",
    "total_cost_eur",
]
table = pd.DataFrame({name: plan.summary() for name, plan in plans.items()}).loc[columns].T
table""",
    ),
    (
        "md",
        """## The components of the yearly cost

The bonus is paid per tutor whatever their load, so the euro plan uses fewer
tutors and fills them; a remote pair pays no mileage (unless you give
`remote_pair_cost_eur`), so it tutors many establishments remotely. Under the
budget, the establishments whose coverage costs most are left out.""",
    ),
    (
        "code",
        """components = table[["indemnity_eur", "bonus_eur", "mileage_eur"]].astype(float)
components.columns = ["indemnités", "bonus (3 × CIA)", "barème kilométrique"]
ax = components.plot.barh(stacked=True, figsize=(8, 3), xlabel="€ per school year")
ax.axvline(budget, color="black", linestyle="--", label="budget")
ax.invert_yaxis()
ax.legend(loc="lower left", fontsize="small");""",
    ),
    (
        "md",
        """The same euros, by département, from the cost report (the optimiser
minimises exactly what the report prints):""",
    ),
    (
        "code",
        """costs = tm.report.costs(plans["least euros"])
assert costs.total_eur == plans["least euros"].objective
costs.by_departement""",
    ),
    (
        "md",
        """## Whom to recruit

Say some tutors are **candidates** (they applied after the call: column
`status` = `candidate`), and recruiting one costs 300 € (training, ordre de
mission). The euro plan recruits only the candidates it needs.""",
    ),
    (
        "code",
        """tutors, establishments = tm.example_frames()
tutors["status"] = ["candidate" if i % 5 == 4 else "retained" for i in range(len(tutors))]
with_candidates = tm.Problem.from_frames(tutors, establishments, max_distance_km=60)
options = tm.report.ReportOptions(fixed_cost_eur=300)
recruiting = tm.solve(with_candidates, objective="euros", cost_model=options.cost_model)
print(recruiting)
n_candidates = (tutors["status"] == "candidate").sum()
print(f"{recruiting.summary()['n_recruited']} of {n_candidates} candidates recruited")
tm.report.costs(recruiting, options=options).totals[["n_recruited", "fixed_cost_eur", "total_eur"]]""",
    ),
    ("md", "How many, per département and role (of their own establishment):"),
    (
        "code",
        """counts = recruiting.recruitment_counts()
counts.pivot_table(index="departement", columns="role", values="n_recruited", aggfunc="sum", fill_value=0)""",
    ),
    ("code", "recruiting.recruitment().head(10)"),
]

WAVES = [
    (
        "md",
        """# Roll out in waves

Op@le reaches establishments in dated waves (vagues). Each needs help for 12
months after it switches; tutors come from establishments live for at least
6 months, so the pool grows wave after wave; a lettre de mission (hence a
tutor's capacity) runs for one school year, and a pair that works is kept.
The example académie, over five waves. The calendar's rules: `docs/waves.md`
(*Waves* in the documentation).""",
    ),
    (
        "code",
        """import tutormatch as tm

tutors, establishments = tm.waves.example_rollout_frames()
problem = tm.Problem.from_frames(tutors, establishments, max_distance_km=60)
establishments["wave"].value_counts().sort_index().rename("establishments switching")""",
    ),
    (
        "md",
        """## Every wave, in date order

Each wave keeps the pairs still running and solves its own establishments
exactly (`status`) with the places tutors have left.""",
    ),
    (
        "code",
        """plan = tm.plan_waves(problem)
print(plan)
plan.summary[
    [
        "wave",
        "status",
        "n_establishments",
        "n_covered",
        "n_uncovered",
        "n_kept",
        "n_tutors_eligible",
        "n_tutors_active",
        "n_tutors_new",
    ]
]""",
    ),
    (
        "code",
        """counts = plan.summary.set_index("wave")[["n_covered", "n_uncovered"]]
counts.columns = ["covered", "uncovered"]
counts.plot.bar(stacked=True, rot=0, figsize=(7, 3), title="Establishments: what each wave needs");""",
    ),
    (
        "md",
        """## Why some stay uncovered

In January 2025 only the tutors of the first two vagues are live long
enough: the tutors are full. Later, a tutor may be busy with pairs of an
earlier wave still running (`tutors_busy`).""",
    ),
    ("code", """plan.uncovered.groupby(["wave", "reason", "rollout"]).size().rename("establishments")"""),
    (
        "md",
        """## Whom to recruit, wave by wave

Tutors taking their first establishment, by département of their own
establishment:""",
    ),
    (
        "code",
        """plan.recruits.pivot_table(
    index="wave", columns="departement", values="n_tutors_new", aggfunc="sum", fill_value=0
)""",
    ),
    (
        "md",
        """## What it costs per school year

Indemnités and bonus per school year (a lettre de mission), mileage per
calendar year (the barème counts km from 1 January).""",
    ),
    (
        "code",
        """years = plan.school_years()
school = years[years["period"] == "school_year"].set_index("school_year")
school[["n_establishments", "n_tutors_active", "max_load", "indemnity_eur", "bonus_eur"]]""",
    ),
    (
        "code",
        """euros = school[["indemnity_eur", "bonus_eur"]]
euros.columns = ["indemnités", "bonus (3 × CIA, where known)"]
euros.plot.bar(stacked=True, rot=0, figsize=(7, 3), ylabel="€", title="Euros per school year");""",
    ),
    (
        "code",
        """calendar = years[years["period"] == "calendar_year"].set_index("year")
calendar[["n_establishments", "yearly_km", "travel_eur"]]""",
    ),
    ("md", "Each wave's new pairs for one year, alone:"),
    ("code", """plan.wave_costs()[["wave", "n_pairs", "indemnity_eur", "travel_eur", "bonus_eur"]]"""),
]

REPAIR = [
    (
        "md",
        """# Repair a withdrawal

A tutor withdraws in the middle of the school year. `tm.repair` re-covers
their establishments with the **fewest changed pairs** first (a pair that
works is worth more than any saving in travel), then the least travel, and
proves it. More in `docs/waves.md` and `docs/why.md` (*Waves* and *Why?* in
the documentation).""",
    ),
    (
        "code",
        """import pandas as pd

import tutormatch as tm

problem = tm.example_problem()
plan = tm.solve(problem)
print(plan)
gone = "T0184"
plan.pairs[plan.pairs["tutor_id"] == gone]""",
    ),
    ("md", "## The repair\n\nTutor T0184 (three establishments) withdraws."),
    (
        "code",
        """fixed = tm.repair(plan, withdraw=gone)
print(
    f"{fixed.n_changed} pairs changed, {len(fixed.tutors_touched)} tutors touched,",
    f"proven fewest: {fixed.is_optimal}",
)
fixed.changes""",
    ),
    (
        "md",
        """Most priority covered comes first: T0184's establishments take the
places of establishments of lower priority (tutored remotely), which are
left uncovered. Every other pair is kept.

## Cost before and after""",
    ),
    (
        "code",
        """before = tm.report.costs(fixed.before).totals
after = tm.report.costs(fixed.after).totals
rows = [
    "n_establishments",
    "n_tutors",
    "n_remote",
    "yearly_km",
    "indemnity_eur",
    "travel_eur",
    "bonus_eur",
    "total_eur",
]
costs = pd.concat([before[rows], after[rows]]).set_axis(["before", "after"])
costs.loc["change"] = costs.loc["after"] - costs.loc["before"]
costs.T""",
    ),
    (
        "md",
        """## `tm.diff`: what changed, establishment by establishment

`kept`, `changed` (another tutor), `added`, `removed` (now uncovered), or
`uncovered` in both.""",
    ),
    (
        "code",
        """d = tm.diff(fixed.before, fixed.after)
print(d.counts())
d.table[d.table["change"].isin(["changed", "removed"])]""",
    ),
    (
        "md",
        """## What stays uncovered, and what would cover it

`plan.shortfall()` finds the smallest changes (a tutor added, one more
place, a rule relaxed for one pair...) and **solves again** for each: every
figure is a re-solve, not an estimate. The repaired plan keeps pairs rather
than saving km, so a re-solve may also find a shorter plan (a negative
`cost_delta_km`).""",
    ),
    ("code", "fixed.after.uncovered"),
    (
        "code",
        """levers = fixed.after.shortfall(lang="fr")
levers[["kind", "n_covers", "priority_gain", "cost_delta_km", "lever"]]""",
    ),
    (
        "md",
        """`plan.explain(uai)`: why this establishment is left out, which nearer
tutors a rule excludes, and what forcing the nearest eligible tutor would
cost.""",
    ),
    ("code", """print(fixed.after.explain(fixed.after.uncovered["uai"].iloc[0], max_tutors=3))"""),
    (
        "md",
        """## In a rollout

On a rollout (see *Roll out in waves*), `at=` is the month of the
withdrawal: waves already ended stay as they were, each running wave is
repaired in date order, with each tutor's places per school year.""",
    ),
    (
        "code",
        """tutors, establishments = tm.waves.example_rollout_frames()
rollout = tm.plan_waves(tm.Problem.from_frames(tutors, establishments, max_distance_km=60))
repaired = tm.repair(rollout, withdraw=gone, at="2025-09")
print(repaired)
repaired.changes""",
    ),
    (
        "code",
        """# One repair per wave where the tutor held a pair, in date order.
waves = sorted(repaired.changes["wave"].unique())
assert len(waves) == len(repaired.repairs)
pd.concat([r.summary.set_index("plan") for r in repaired.repairs], keys=waves, names=["wave"])""",
    ),
]


def notebook(cells: list[tuple[str, str]]) -> nbformat.NotebookNode:
    """Return a notebook of these cells, without outputs."""
    nb = new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    for i, (kind, text) in enumerate(cells):
        cell = new_markdown_cell(text) if kind == "md" else new_code_cell(text)
        cell["id"] = f"cell-{i}"
        nb.cells.append(cell)
    return nb


def main() -> None:
    """Write every notebook."""
    for name, cells in (
        ("solve_and_map", SOLVE_AND_MAP),
        ("compare_scenarios", COMPARE),
        ("decide_in_euros", EUROS),
        ("roll_out_waves", WAVES),
        ("repair_a_withdrawal", REPAIR),
    ):
        nbformat.write(notebook(cells), EXAMPLES / f"{name}.ipynb")


if __name__ == "__main__":
    main()
