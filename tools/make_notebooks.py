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
    for name, cells in (("solve_and_map", SOLVE_AND_MAP), ("compare_scenarios", COMPARE)):
        nbformat.write(notebook(cells), EXAMPLES / f"{name}.ipynb")


if __name__ == "__main__":
    main()
