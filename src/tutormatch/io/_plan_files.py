"""Write a plan as files: assignment.csv, tutors.csv, summary.json, summary.md.

All files are written to a temporary folder next to the target and moved in
only when every one of them is complete, so a failure never leaves a
half-written plan behind.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from tutormatch.solve._assignment import Assignment

__all__ = ["atomic_directory", "plan_summary_markdown", "write_plan"]


@contextmanager
def atomic_directory(directory: str | PathLike[str]) -> Iterator[Path]:
    """Yield a scratch folder whose files are moved into ``directory`` on success.

    Existing files of the same names are replaced; other files in
    ``directory`` are left alone. On an exception nothing is moved.
    """
    target = Path(directory)
    target.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".tutormatch-", dir=target))
    try:
        yield scratch
        for path in sorted(scratch.rglob("*")):
            if path.is_file():
                destination = target / path.relative_to(scratch)
                destination.parent.mkdir(parents=True, exist_ok=True)
                path.replace(destination)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _fmt_km(value: float) -> str:
    return f"{value:,.1f} km"


def plan_summary_markdown(plan: Assignment) -> str:
    """Return the summary of a plan as Markdown, for people."""
    s = plan.summary()
    p = plan.problem
    lines = [
        "# tutormatch plan",
        "",
        "| | |",
        "| --- | --- |",
        f"| status | **{s['status']}** (solver {s['solver']}: {s['message']}) |",
        f"| establishments covered | {s['n_covered']} / {s['n_establishments']} ({s['n_remote']} remote) |",
        f"| establishments uncovered | {s['n_uncovered']} |",
        f"| priority covered | {s['covered_priority']:g} / {s['total_priority']:g} |",
        f"| tutors used | {s['n_tutors_used']} / {s['n_tutors']} |",
        f"| on-site distance, total (one way, great-circle) | {_fmt_km(s['total_distance_km'])} |",
        f"| on-site distance, worst pair | {_fmt_km(s['max_distance_km'])} |",
        "| yearly on-site travel, road km (2 x visits x distance x detour) | "
        f"{_fmt_km(s['yearly_travel_km'])} |",
        f"| objective | {s['objective']} (then coverage first) |",
        f"| km-equivalent (remote penalties included) | {_fmt_optional(s['objective_km'])} |",
        f"| yearly cost | {_fmt_optional(s['total_cost_eur'], '{:,.2f} EUR')}: indemnities "
        f"{_fmt_optional(s['indemnity_eur'], '{:,.2f}')}, bonus {_fmt_optional(s['bonus_eur'], '{:,.2f}')}"
        f" ({s['n_bonus_missing'] or 0} tutors' unknown, left out), mileage "
        f"{_fmt_optional(s['mileage_eur'], '{:,.2f}')}, remote {_fmt_optional(s['remote_eur'], '{:,.2f}')}, "
        f"recruitment {_fmt_optional(s['fixed_cost_eur'], '{:,.2f}')} |",
        f"| candidates to recruit | {s['n_recruited']} |",
        f"| budget | {_fmt_optional(s['budget_eur'], '{:,.2f} EUR')} |",
        f"| gap | {_fmt_optional(s['gap'], '{:.4%}')} |",
        f"| on-site limit | {_fmt_optional(s['max_distance_limit_km'], '{:g} km')} |",
        f"| remote tutoring | {'allowed' if s['allow_remote'] else 'not allowed'} |",
        f"| solve time | {s['solve_seconds']:.3f} s |",
    ]
    if p.sources:
        lines += ["", "Inputs read:", ""]
        lines += [f"- `{name}`: {how}" for name, how in p.sources.items()]
    uncovered = plan.uncovered
    if len(uncovered):
        lines += ["", "## Uncovered establishments", "", "| uai | reason |", "| --- | --- |"]
        lines += [f"| {u} | {d} |" for u, d in zip(uncovered["uai"], uncovered["detail"], strict=True)]
    return "\n".join(lines) + "\n"


def _fmt_optional(value: Any, pattern: str = "{:,.1f}") -> str:
    return "n/a" if value is None else pattern.format(value)


def _csv(frame: pd.DataFrame, path: Path) -> None:
    frame.to_csv(path, index=False, float_format="%.3f", encoding="utf-8", lineterminator="\n")


def write_plan(
    plan: Assignment,
    directory: str | PathLike[str],
    *,
    extra: Callable[[Path], None] | None = None,
) -> list[Path]:
    """Write a plan's files into ``directory``, all or nothing.

    Files: ``assignment.csv`` (one row per input establishment, in UAI order:
    ``uai, tutor_id, mode, distance_km, reason_code, reason``),
    ``tutors.csv`` (one row per tutor with its load and ``recruited``),
    ``summary.json`` and ``summary.md``; with candidate tutors,
    ``recruitment.csv`` (the candidates to recruit: ``tutor_id, name, role,
    departement, load``) and ``recruitment_by_departement.csv`` (counts per
    département and role).

    Parameters
    ----------
    plan : Assignment
    directory : path
        Created if needed.
    extra : callable, optional
        Called with the scratch folder to add more files (reports) to the
        same all-or-nothing write.

    Returns
    -------
    list of Path
        The files written, in ``directory``.
    """
    with atomic_directory(directory) as scratch:
        _csv(plan.table(), scratch / "assignment.csv")
        _csv(plan.tutor_loads(), scratch / "tutors.csv")
        summary = plan.summary()
        summary["inputs"] = dict(plan.problem.sources)
        (scratch / "summary.json").write_text(
            json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        (scratch / "summary.md").write_text(plan_summary_markdown(plan), encoding="utf-8")
        if plan.problem.tutors.is_candidate.any():
            _csv(plan.recruitment(), scratch / "recruitment.csv")
            _csv(plan.recruitment_counts(), scratch / "recruitment_by_departement.csv")
        if extra is not None:
            extra(scratch)
        names = sorted(str(p.relative_to(scratch)) for p in scratch.rglob("*") if p.is_file())
    return [Path(directory) / name for name in names]
