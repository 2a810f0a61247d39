"""Write a plan's shortfall as ``shortfall.csv`` and ``shortfall.json``."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from tutormatch.io._plan_files import _write_csv
from tutormatch.model._waves import format_wave

if TYPE_CHECKING:
    from tutormatch.solve._assignment import Assignment

__all__ = ["write_shortfall"]


def _plain(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "item"):  # numpy scalars
        return _plain(value.item())
    if value is None or (not isinstance(value, list | tuple | str) and _is_na(value)):
        return None
    return value


def _is_na(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def write_shortfall(
    plan: Assignment, directory: Path, *, lang: str = "en", levers: pd.DataFrame | None = None
) -> list[Path]:
    """Write ``shortfall.csv`` and ``shortfall.json`` for ``plan`` into ``directory``.

    Both hold the verified levers of :meth:`Assignment.shortfall` (with
    ``cost_delta_eur`` when the problem's distances are km). In the CSV, the
    lists (``covers``, ``uncovers``, ``uais``) are UAI joined by spaces; in
    the JSON they are lists. A plan without uncovered establishments gets
    the header only and ``[]``. ``lang="fr"``: French sentences, and the CSV
    as the other French plan files (``;``, BOM, decimal comma).

    ``levers``: the table already computed (``plan.shortfall(lang=lang,
    euros=...)``), not computed again.

    Returns
    -------
    list of Path
    """
    frame = (
        levers if levers is not None else plan.shortfall(lang=lang, euros=plan.problem.distance_unit == "km")
    )
    records = [{k: _plain(v) for k, v in row.items()} for row in frame.to_dict(orient="records")]
    flat = frame.copy()
    for column in ("covers", "uncovers", "uais"):
        flat[column] = [" ".join(v) if isinstance(v, list) else "" for v in flat[column]]
    csv_path = directory / "shortfall.csv"
    json_path = directory / "shortfall.json"
    is_date = bool(plan.problem.establishments.wave_is_date)
    flat["wave"] = [format_wave(float(v), is_date=is_date) if v is not None else "" for v in flat["wave"]]
    flat["capacity"] = pd.Series([None if pd.isna(v) else int(v) for v in flat["capacity"]], dtype=object)
    _write_csv(flat, csv_path, lang)
    json_path.write_text(json.dumps(records, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return [csv_path, json_path]
