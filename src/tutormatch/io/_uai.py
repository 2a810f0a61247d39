"""UAI codes: the national identifier of an establishment.

A UAI is seven characters followed by a check letter. The letter is
``"ABCDEFGHJKLMNPRSTUVWXYZ"[int(first_seven) % 23]``. The first three
characters give the département: ``013`` is 13, ``004`` is 04, ``620`` and
``720`` are Corsica (2A and 2B), ``971``... are overseas.
"""

from __future__ import annotations

import re

import numpy as np
import numpy.typing as npt

__all__ = ["is_valid_uai", "make_uai", "uai_check_letter", "uai_departement"]

_LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"
_UAI_RE = re.compile(r"^[0-9]{7}[A-Z]$")
_CORSICA = {"620": "2A", "720": "2B"}


def uai_check_letter(first_seven: str) -> str:
    """Return the check letter of a UAI from its first seven characters.

    Parameters
    ----------
    first_seven : str
        Seven digits, e.g. ``"0130001"``.

    Returns
    -------
    str
        The check letter.

    Raises
    ------
    ValueError
        If ``first_seven`` is not seven digits.

    Examples
    --------
    >>> uai_check_letter("0130001")
    'F'
    """
    # isascii: str.isdigit() also accepts "²" and other digits int() refuses or reads.
    if len(first_seven) != 7 or not (first_seven.isascii() and first_seven.isdigit()):
        raise ValueError(f"a UAI starts with seven digits; got {first_seven!r}")
    return _LETTERS[int(first_seven) % 23]


def make_uai(first_seven: str) -> str:
    """Return a full UAI (with its check letter) from its first seven digits.

    Examples
    --------
    >>> make_uai("0130001")
    '0130001F'
    """
    return first_seven + uai_check_letter(first_seven)


def is_valid_uai(uai: str) -> bool:
    """Tell whether ``uai`` is eight characters with a correct check letter.

    Examples
    --------
    >>> is_valid_uai("0130001F"), is_valid_uai("0130001A")
    (True, False)
    """
    return bool(_UAI_RE.match(uai)) and uai_check_letter(uai[:7]) == uai[7]


def uai_departement(uai: str) -> str:
    """Return the département code of a UAI (``"13"``, ``"04"``, ``"2A"``, ``"971"``).

    Examples
    --------
    >>> uai_departement("0130001F"), uai_departement("6200001G")
    ('13', '2A')
    """
    head = uai[:3]
    if head in _CORSICA:
        return _CORSICA[head]
    if head.startswith("0"):
        return head[1:]
    return head


def invalid_uai_mask(uais: npt.NDArray[np.object_]) -> npt.NDArray[np.bool_]:
    """Return a mask of the entries of ``uais`` that are not valid UAI codes."""
    return np.fromiter((not is_valid_uai(u) for u in uais), dtype=bool, count=len(uais))
