"""What every report column holds, declared once: its kind, and so how it is written.

A column's kind decides how its values read in documents (``1 234,50 €``,
``45,2 %``), how they are stored in CSV files (plain numbers, a decimal
comma in French) and in XLSX files (numbers with a number format). Nothing
is guessed from a column's name: a column without a declared kind is an
error (:func:`kind_of`), and a test renders every table.

Kinds
-----
``text``, ``flag`` (yes/no)
    Text; flags read ``oui``/``non``.
``count``, ``number``
    Whole counts; plain numbers as short as they can be (priorities, visits).
``km``
    Measured distances (floats): 1 decimal in documents, 3 (the metre) in files.
``km_billed``
    Yearly km rounded for the scale (``ReportOptions.km_decimals``).
``km_exact``, ``money_exact``
    Values given or derived exactly (km already driven and the km of each
    tranche, the CIA): as many decimals as the values have (at least the
    billed km's, or the cent), so that the amounts can be redone from the
    table as printed.
``money``
    Euros to the cent.
``rate``
    Euros per km (2 decimals in documents, up to 4 in files).
``share``
    A fraction shown as a percentage.
``cv``
    Fiscal horsepower (a plain number).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from tutormatch.report._format import is_missing

__all__ = ["COLUMN_KINDS", "KINDS", "TABLE_KINDS", "exact_decimals", "kind_of"]

KINDS = frozenset(
    {
        "text",
        "flag",
        "count",
        "number",
        "km",
        "km_billed",
        "km_exact",
        "money",
        "money_exact",
        "rate",
        "share",
        "cv",
    }
)

#: Kind of every column of the report tables, by column name.
COLUMN_KINDS: dict[str, str] = {
    # identifiers and labels
    "uai": "text",
    "establishment_name": "text",
    "departement": "text",
    "kind": "text",
    "tutor_id": "text",
    "tutor_name": "text",
    "mode": "text",
    "measure": "text",
    "reason_code": "text",
    "reason": "text",
    "vehicle_class": "text",
    "item": "text",
    "value": "text",
    "pseudonym": "text",
    "wave": "count",
    # the levers (plan.shortfall)
    "group": "count",
    "change": "text",
    "covers": "text",
    "uncovers": "text",
    "n_covers": "count",
    "priority_gain": "number",
    "cost_delta_eur": "money",
    "cost_delta_km": "km",
    # yes/no
    "vehicle_class_assumed": "flag",
    "bonus_known": "flag",
    "recruited": "flag",
    # counts
    "n_tutors": "count",
    "n_establishments": "count",
    "n_onsite": "count",
    "n_remote": "count",
    "n_covered": "count",
    "n_uncovered": "count",
    "n_pairs": "count",
    "n_great_circle": "count",
    "n_road": "count",
    "n_bonus_missing": "count",
    "n_establishments_bonus_missing": "count",
    "n_vehicle_class_assumed": "count",
    "n_recruited": "count",
    "n_kept": "count",
    "n_new_pairs": "count",
    "n_tutors_eligible": "count",
    "n_tutors_active": "count",
    "n_tutors_new": "count",
    "n_needing_help": "count",
    # the rollout's periods and states
    "school_year": "text",
    "year": "text",
    "status": "text",
    "max_load": "number",
    # plain numbers
    "priority": "number",
    "priority_total": "number",
    "priority_covered": "number",
    "visits_per_year": "number",
    "vehicle_cv": "cv",
    "max_cv": "cv",
    # distances
    "great_circle_km": "km",
    "road_km": "km",
    "road_km_total": "km",
    "road_km_max": "km",
    "yearly_km": "km",
    "mean_km": "km",
    "median_km": "km",
    "p90_km": "km",
    "max_km": "km",
    "threshold_km": "km",
    "prior_service_km": "km_exact",
    # money
    "indemnity_eur": "money",
    "travel_eur": "money",
    "remote_eur": "money",
    "bonus_eur": "money",
    "total_eur": "money",
    "budget_eur": "money",
    "headroom_eur": "money",
    "fixed_cost_eur": "money",
    "total_excl_travel_eur": "money",
    "cia_eur": "money_exact",
    # shares
    "share_covered": "share",
    "share_great_circle": "share",
    "share_road": "share",
    "share_priority_covered": "share",
}
# The scale's tranches and rates: as many as the scale has.
for _k in range(1, 10):
    COLUMN_KINDS[f"km_tranche_{_k}"] = "km_exact"
    COLUMN_KINDS[f"rate_{_k}_eur_per_km"] = "rate"

#: Where one table reads a column differently: the yearly km the scale is
#: applied to are each tutor's km rounded (``km_decimals``), summed.
TABLE_KINDS: dict[tuple[str, str], str] = {
    ("costs_tutors", "yearly_km"): "km_billed",
    ("costs_totals", "yearly_km"): "km_billed",
}


def kind_of(table: str, column: str) -> str:
    """Return the declared kind of ``column`` in ``table``.

    Raises
    ------
    KeyError
        If the column has no declared kind (a new column must be declared in
        :data:`COLUMN_KINDS`).

    Examples
    --------
    >>> kind_of("distances_tutors", "road_km_total"), kind_of("costs_tutors", "yearly_km")
    ('km', 'km_billed')
    """
    kind = TABLE_KINDS.get((table, column)) or COLUMN_KINDS.get(column)
    if kind is None:
        raise KeyError(f"report column {column!r} of table {table!r} has no declared kind (see COLUMN_KINDS)")
    return kind


def exact_decimals(values: Iterable[Any], *, at_least: int, at_most: int = 6) -> int:
    """Return how many decimals show every value exactly (its shortest repr), within bounds.

    Examples
    --------
    >>> exact_decimals([1200.5, 2.675, 3.0], at_least=0), exact_decimals([450.0], at_least=2)
    (3, 2)
    """
    needed = at_least
    for value in values:
        if is_missing(value):
            continue
        exponent = Decimal(repr(float(value))).normalize().as_tuple().exponent
        if isinstance(exponent, int):
            needed = max(needed, -exponent)
    return min(needed, max(at_most, at_least))
