"""Exact money helpers; they live in :mod:`tutormatch.model._money` (the cost model's)."""

from tutormatch.model._money import allocate_cents, cents_to_eur, round_cents, round_half_up, to_decimal

__all__ = ["allocate_cents", "cents_to_eur", "round_cents", "round_half_up", "to_decimal"]
