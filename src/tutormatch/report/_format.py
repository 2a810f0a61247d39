"""How values read: French and English numbers, spreadsheet-safe text.

French numbers follow the Unicode CLDR: a narrow no-break space (U+202F)
groups thousands, a comma marks decimals, and a no-break space (U+00A0)
precedes the euro sign: ``1 234,50 €``.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

__all__ = [
    "FORMULA_PREFIXES",
    "GROUP_FR",
    "NBSP",
    "format_eur",
    "format_number",
    "format_share",
    "is_missing",
    "neutralise",
]

#: Thousands separator of French numbers: NARROW NO-BREAK SPACE.
GROUP_FR = "\u202f"
#: Between a French number and its unit: NO-BREAK SPACE.
NBSP = "\u00a0"
#: First characters that make a spreadsheet read a cell as a formula (the
#: four of the OWASP CSV-injection advice, plus tab and carriage return).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def is_missing(value: Any) -> bool:
    """Tell whether a cell is empty: ``None``, ``nan`` or ``pd.NA``."""
    if value is None:
        return True
    try:
        return bool(value != value)  # nan and NA are not equal to themselves
    except TypeError:  # pd.NA refuses bool(); it is missing
        return True


def format_number(value: float | int | Decimal, decimals: int, lang: str, *, group: bool = True) -> str:
    r"""Return a number with ``decimals`` decimals, grouped by thousands, the ``lang`` way.

    Examples
    --------
    >>> format_number(1234.5, 2, "fr") == "1\u202f234,50"
    True
    >>> format_number(1234.5, 2, "en")
    '1,234.50'
    """
    text = f"{value:,.{decimals}f}" if group else f"{value:.{decimals}f}"
    if lang == "fr":
        return text.replace(",", GROUP_FR).replace(".", ",")
    return text


def format_eur(value: float | int | Decimal, lang: str, decimals: int = 2) -> str:
    r"""Return an amount in euros to the cent: ``1 234,50 €`` (fr) or ``€1,234.50`` (en).

    ``decimals`` more than 2 shows an amount given to a fraction of a cent
    exactly (a CIA of 2.675 €).

    Examples
    --------
    >>> format_eur(1234.5, "fr") == "1\u202f234,50\u00a0€"
    True
    >>> format_eur(-3, "en")
    '-€3.00'
    """
    negative = value < 0
    text = format_number(-value if negative else value, decimals, lang)
    sign = "-" if negative else ""
    return f"{sign}{text}{NBSP}€" if lang == "fr" else f"{sign}€{text}"


def format_share(value: float, lang: str, decimals: int = 1) -> str:
    """Return a share as a percentage: ``45,2 %`` (fr, narrow no-break space) or ``45.2%`` (en)."""
    text = format_number(100 * value, decimals, lang)
    return f"{text}{GROUP_FR}%" if lang == "fr" else f"{text}%"


def format_general(value: float, lang: str) -> str:
    """Return a plain number as short as it can be (``6``, ``1,5``), the ``lang`` way."""
    if math.isinf(value):
        return "∞"
    if float(value).is_integer():
        return format_number(value, 0, lang)
    text = f"{value:g}"
    return text.replace(".", ",") if lang == "fr" else text


def neutralise(text: str) -> str:
    r"""Return text that a spreadsheet shows as text, never runs as a formula.

    A leading ``=``, ``+``, ``-``, ``@``, tab or carriage return is
    prefixed with an apostrophe.

    Examples
    --------
    >>> neutralise("=HYPERLINK(\"http://x\")"), neutralise("Lycée Mistral")
    ('\'=HYPERLINK("http://x")', 'Lycée Mistral')
    """
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text
