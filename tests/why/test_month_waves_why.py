"""Month waves read as months in the shortfall and in explanations, never as stored numbers."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

import tutormatch as tm
from tests.conftest import random_frames
from tutormatch.io._plan_files import write_plan_files

_STORED = re.compile(r"\b24\d{3}\b")


def _month_problem() -> tm.Problem:
    tutors, establishments = random_frames(25, 60, 0)
    tutors["wave"] = [f"2024-{int(w):02d}" for w in tutors["wave"]]
    establishments["wave"] = [f"2024-{int(w):02d}" for w in establishments["wave"]]
    return tm.Problem.from_frames(tutors, establishments, max_distance_km=35)


def test_shortfall_and_explain_show_month_waves(tmp_path: Path) -> None:
    plan = tm.solve(_month_problem())
    levers = plan.shortfall()
    assert len(levers), "the instance must leave establishments uncovered"
    for text in [*levers["lever"], *plan.shortfall(lang="fr")["lever"]]:
        assert not _STORED.search(text), text
    added = levers[levers["kind"] == "add_tutor"]
    assert all(re.search(r"wave 2024-\d\d", text) for text in added["lever"])
    write_plan_files(plan, tmp_path, lang="en", shortfall=True)
    frame = pd.read_csv(tmp_path / "shortfall.csv", dtype=str, keep_default_na=False)
    assert all(w == "" or re.fullmatch(r"2024-\d\d", w) for w in frame["wave"])
    for uai in plan.problem.establishments.id[:10]:
        assert not _STORED.search(str(plan.explain(str(uai)))), uai
