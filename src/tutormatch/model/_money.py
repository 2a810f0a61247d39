"""Exact money: euros as integer cents, rounded half up at documented places."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from fractions import Fraction

from tutormatch.errors import InputError

__all__ = ["allocate_cents", "cents_to_eur", "round_cents", "round_half_up", "to_decimal"]

_ONE = Decimal(1)


def to_decimal(value: Decimal | float | str, name: str, *, minimum: Decimal | None = None) -> Decimal:
    """Return ``value`` as an exact :class:`~decimal.Decimal`.

    Floats go through their shortest repr, so ``0.1`` is ``Decimal("0.1")``
    and not the binary fraction behind it.
    """
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise InputError(f"{name} must be a number; got {value!r}.") from None
    if not number.is_finite():
        raise InputError(f"{name} must be a finite number; got {value!r}.")
    if minimum is not None and number < minimum:
        raise InputError(f"{name} must be >= {minimum}; got {value!r}.")
    return number


_QUANTA = {d: _ONE.scaleb(-d) for d in range(-2, 7)}


def round_half_up(value: Decimal, decimals: int) -> Decimal:
    """Round to ``decimals`` places, halves away from zero."""
    quantum = _QUANTA.get(decimals)
    if quantum is None:
        quantum = _ONE.scaleb(-decimals)
    return value.quantize(quantum, rounding=ROUND_HALF_UP)


def round_cents(euros: Decimal) -> int:
    """Return a euro amount as whole cents, rounded half up."""
    return int(round_half_up(euros * 100, 0))


def cents_to_eur(cents: int) -> float:
    """Return cents as a float of euros (the nearest double, which prints exactly)."""
    return cents / 100


def allocate_cents(total: int, weights: Sequence[float]) -> list[int]:
    """Share ``total`` cents in proportion to ``weights``, summing exactly to ``total``.

    Largest remainder: each share is first rounded down, then the cents left
    go one each to the largest fractional parts, ties to the first. All
    weights zero (or none positive) share equally.
    """
    n = len(weights)
    if n == 0:
        return []
    exact = [Fraction(w) for w in weights]
    if sum(exact) <= 0:
        exact = [Fraction(1)] * n
    whole = sum(exact)
    raw = [total * w / whole for w in exact]
    shares = [int(r // 1) for r in raw]
    left = total - sum(shares)
    order = sorted(range(n), key=lambda i: (-(raw[i] - shares[i]), i))
    for i in order[:left]:
        shares[i] += 1
    return shares
