"""The shortfall in the reports: the levers that would cover what a plan leaves out.

The levers come from :meth:`Assignment.shortfall` (each verified by a
re-solve); this module lays them out as a report table in the report's
language, with tutor ids pseudonymised when the report is.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from tutormatch.solve._assignment import Assignment

__all__ = ["LEVER_COLUMNS", "lever_table"]

#: Columns of the report's levers table, in order.
LEVER_COLUMNS = (
    "group",
    "kind",
    "change",
    "covers",
    "uncovers",
    "n_covers",
    "priority_gain",
    "cost_delta_eur",
    "cost_delta_km",
)


def _uai_list(value: Any) -> str:
    return ", ".join(str(v) for v in value) if isinstance(value, list | tuple) else ""


def lever_table(
    levers: pd.DataFrame, plan: Assignment, lang: str, tutor_label: Callable[[str], str]
) -> pd.DataFrame:
    """Return the levers as a report table: what each changes (a phrase in ``lang``), covers and gains.

    ``tutor_label`` names tutors (their id, or a pseudonym): in the lever's
    tutor and, for a tutor added at another tutor's place, in ``at``.
    """
    from tutormatch.solve._shortfall import describe_change

    is_date = bool(plan.problem.establishments.wave_is_date)
    tutors = set(plan.problem.tutors.id.tolist())
    rows = []
    for row in levers.to_dict(orient="records"):
        shown: dict[str, Any] = {str(k): v for k, v in row.items()}
        if isinstance(row.get("tutor_id"), str):
            shown["tutor_id"] = tutor_label(row["tutor_id"])
        if row.get("kind") == "add_tutor" and row.get("at") in tutors:
            shown["at"] = tutor_label(str(row["at"]))
        rows.append(
            {
                "group": int(row["group"]),
                "kind": str(row["kind"]),
                "change": describe_change(shown, lang, is_date),
                "covers": _uai_list(row["covers"]),
                "uncovers": _uai_list(row["uncovers"]),
                "n_covers": int(row["n_covers"]),
                "priority_gain": float(row["priority_gain"]),
                "cost_delta_eur": float(row["cost_delta_eur"]) if pd.notna(row["cost_delta_eur"]) else None,
                "cost_delta_km": float(row["cost_delta_km"]),
            }
        )
    return pd.DataFrame(rows, columns=list(LEVER_COLUMNS))
