"""A rollout's folder: what ``tutormatch waves`` writes and ``tutormatch repair`` reads back.

Layout (``DIR`` is an output folder of :mod:`tutormatch.io._output`)::

    waves.csv            one row per wave (WavePlan.summary)
    school_years.csv     per school year and per calendar year (WavePlan.school_years)
    wave_costs.csv       euros of each wave's new pairs for a year (WavePlan.wave_costs)
    pairs.csv            every pair: wave, tutor_id, uai, mode, distance_km, start, end
    uncovered.csv        wave, uai, reason, detail, rollout
    recruits.csv         wave, departement, n_tutors_new (tutors to recruit)
    rollout.html, .md    the rollout report: every wave, school year and calendar year
    rollout.png          its chart: coverage per wave, euros per school year and calendar year
    school-year-YYYY-YY.html, .md   one report page per school year
    wave-YYYY-MM/        the wave's plan files (assignment.csv, tutors.csv, summary.json...)
    waves.json           calendar, problem settings, input file names: to read it back
    input/               copies of the tutors and establishments files

Headers are the canonical English names in every language; ``--lang fr``
formats the cells for French Excel (``;``, BOM, decimal comma).
"""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd

from tutormatch.errors import InputError
from tutormatch.waves._calendar import WaveCalendar
from tutormatch.waves._plan import WavePlan, plan_from_pairs

__all__ = ["read_wave_folder", "write_wave_files"]

_MANIFEST = "waves.json"


def write_wave_files(
    plan: WavePlan,
    directory: Path,
    *,
    lang: str = "en",
    settings: dict[str, Any] | None = None,
    inputs: dict[str, Path] | None = None,
    sheet: str | None = None,
    options: Any = None,
) -> list[Path]:
    """Write a rollout's files into ``directory`` (an existing, e.g. staging, folder).

    Parameters
    ----------
    plan : WavePlan
    directory : Path
    lang : {"en", "fr"}
    settings : dict, optional
        The problem's settings (``max_distance_km``...), recorded to read the folder back.
    inputs : dict, optional
        ``{"tutors": path, "establishments": path}``: copied to ``input/``.
    sheet : str, optional
        The sheet read in ``.xlsx`` inputs.
    options : ReportOptions, optional
        The cost model of ``school_years.csv``, ``wave_costs.csv`` and the
        rollout report (its ``lang`` is set to ``lang``).

    Returns
    -------
    list of Path
    """
    from tutormatch.io._plan_files import _write_csv, write_plan_files
    from tutormatch.report._options import ReportOptions
    from tutormatch.report._rollout import rollout_tables, write_rollout_files

    paths = []
    options = replace(options, lang=lang) if options is not None else ReportOptions(lang=lang)
    school_years = plan.school_years(options=options)
    wave_costs = plan.wave_costs(options=options)
    tables = {
        "waves.csv": plan.summary,
        "school_years.csv": school_years,
        "wave_costs.csv": wave_costs,
        "pairs.csv": plan.pairs,
        "uncovered.csv": plan.uncovered,
        "recruits.csv": plan.recruits,
    }
    for name, frame in tables.items():
        _write_csv(frame, directory / name, lang)
        paths.append(directory / name)
    report = rollout_tables(plan, options=options, school_years=school_years, wave_costs=wave_costs)
    paths += write_rollout_files(report, directory)
    for wave in plan.waves:
        folder = directory / f"wave-{wave.label}"
        folder.mkdir()
        paths += write_plan_files(wave.plan, folder, lang=lang)
    copied = {}
    if inputs:
        (directory / "input").mkdir(exist_ok=True)
        for name, path in inputs.items():
            target = directory / "input" / f"{name}{path.suffix.lower()}"
            shutil.copyfile(path, target)
            copied[name] = target.name
            paths.append(target)
    cal = plan.calendar
    manifest = {
        "calendar": {
            "support_months": cal.support_months,
            "live_months": cal.live_months,
            "school_year_start": cal.school_year_start,
        },
        "settings": settings or {},
        "inputs": copied,
        "sheet": sheet,
        "objective": plan.objective,
    }
    (directory / _MANIFEST).write_text(
        json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    paths.append(directory / _MANIFEST)
    return paths


def read_wave_folder(directory: Path) -> WavePlan:
    """Read back a folder written by ``tutormatch waves`` (see the module docstring).

    Raises
    ------
    InputError
        When the folder lacks ``waves.json``, its inputs or ``pairs.csv``, or
        the pairs no longer fit the inputs.
    """
    import tutormatch as tm
    from tutormatch.io._read import read_table

    manifest_path = directory / _MANIFEST
    if not manifest_path.is_file():
        raise InputError(
            f"{directory}: no {_MANIFEST}; give a folder written by 'tutormatch waves'.",
            table=str(directory),
        )
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    inputs = manifest.get("inputs", {})
    missing = [n for n in ("tutors", "establishments") if n not in inputs]
    if missing:
        raise InputError(f"{manifest_path}: no copy of the {missing[0]} file; run 'tutormatch waves' again.")
    problem = tm.Problem.from_csv(
        directory / "input" / inputs["tutors"],
        directory / "input" / inputs["establishments"],
        sheet=manifest.get("sheet"),
        **manifest.get("settings", {}),
    )
    frame, _ = read_table(directory / "pairs.csv")
    frame = pd.DataFrame(frame)
    if not {"tutor_id", "uai"} <= set(frame.columns):
        raise InputError(f"{directory / 'pairs.csv'}: columns tutor_id and uai are needed.")
    return plan_from_pairs(problem, frame, WaveCalendar(**manifest["calendar"]))
