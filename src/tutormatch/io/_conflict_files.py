"""Write why a problem has no plan as ``conflicts.csv`` and ``conflicts.json``."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tutormatch.io._plan_files import _write_csv

if TYPE_CHECKING:
    from tutormatch.solve._conflicts import Infeasibility

__all__ = ["write_conflicts"]


def _plain(value: Any) -> Any:
    if hasattr(value, "item"):  # numpy scalars
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def write_conflicts(why: Infeasibility, directory: Path, *, lang: str = "en") -> list[Path]:
    """Write ``conflicts.csv`` and ``conflicts.json`` for an infeasible problem into ``directory``.

    The CSV is :attr:`Infeasibility.table` (one row per constraint that can
    take part: ``kind, tutor_id, uai, value, in_conflict, relaxed,
    relaxed_to``; English headers, French conventions with ``lang="fr"``).
    The JSON holds the same rows under ``constraints``, with the sentence in
    English and French, ``n_relaxed``, ``is_proven`` and
    ``relaxed_budget_eur``.

    Returns
    -------
    list of Path
    """
    table = why.table.copy()
    table["value"] = table["value"].astype(str)
    csv_path = directory / "conflicts.csv"
    json_path = directory / "conflicts.json"
    _write_csv(table, csv_path, lang)
    records = [{k: _plain(v) for k, v in row.items()} for row in why.table.to_dict(orient="records")]
    data = {
        "sentence": why.sentence("en"),
        "sentence_fr": why.sentence("fr"),
        "n_relaxed": why.n_relaxed,
        "is_proven": why.is_proven,
        "relaxed_budget_eur": why.relaxed_budget_eur,
        "constraints": records,
    }
    json_path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return [csv_path, json_path]
