"""Stable pseudonyms of tutors for shareable reports (personal data)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import pandas as pd

from tutormatch.errors import InputError

__all__ = ["Pseudonyms", "make_pseudonyms"]

_PREFIX = "TUT-"
_DIGITS = 10  # 40 bits: among 4,000 tutors a clash has odds of about 1 in 140,000
_KEY_BYTES = 32


@dataclass(frozen=True, slots=True)
class Pseudonyms:
    """Tutor id -> pseudonym, and back. Holding this object re-identifies tutors: keep it private.

    Attributes
    ----------
    by_id : mapping
        Tutor id -> pseudonym.
    names : mapping
        Tutor id -> name (``""`` when unknown), for the key table.
    """

    by_id: Mapping[str, str]
    names: Mapping[str, str]

    def __call__(self, tutor_id: str) -> str:
        """Return the pseudonym of ``tutor_id``."""
        return self.by_id[tutor_id]

    def key_table(self) -> pd.DataFrame:
        """Return the private key table: ``pseudonym, tutor_id, tutor_name``, by pseudonym."""
        rows = [(p, t, self.names.get(t, "")) for t, p in self.by_id.items()]
        return pd.DataFrame(sorted(rows), columns=["pseudonym", "tutor_id", "tutor_name"])


def _digest(key: bytes, tutor_id: str, digits: int) -> str:
    mac = hmac.new(key, tutor_id.encode("utf-8"), hashlib.sha256).hexdigest()
    return _PREFIX + mac[:digits].upper()


def make_pseudonyms(
    tutor_ids: Iterable[str], names: Iterable[str] | None = None, *, key: bytes | str | None = None
) -> Pseudonyms:
    """Return pseudonyms ``TUT-`` + the first ten hex digits of HMAC-SHA256(key, tutor id).

    The same key and id always give the same pseudonym; without the key
    nobody can recompute or reverse them. ``key=None`` draws a random key
    used for this call only. On the (rare) clash of two prefixes, both
    pseudonyms take more digits.

    Examples
    --------
    >>> p = make_pseudonyms(["T1", "T2"], key="secret")
    >>> p("T1") == make_pseudonyms(["T1"], key="secret")("T1"), p("T1") != p("T2")
    (True, True)
    >>> p("T1")[:4], len(p("T1"))
    ('TUT-', 14)
    """
    if key is None:
        raw = secrets.token_bytes(_KEY_BYTES)
    elif isinstance(key, str):
        raw = key.encode("utf-8")
    else:
        raw = bytes(key)
    if not raw:
        raise InputError("pseudonym_key must not be empty.")
    all_ids = [str(t) for t in tutor_ids]
    labels = [str(n) for n in names] if names is not None else [""] * len(all_ids)
    named = dict(zip(all_ids, labels, strict=True))
    ids = list(named)
    by_id: dict[str, str] = {}
    digits = dict.fromkeys(ids, _DIGITS)
    while True:
        by_id = {t: _digest(raw, t, digits[t]) for t in ids}
        seen: dict[str, list[str]] = {}
        for t, p in by_id.items():
            seen.setdefault(p, []).append(t)
        clashes = [ts for ts in seen.values() if len(ts) > 1]
        if not clashes:
            break
        for ts in clashes:
            for t in ts:
                digits[t] = min(digits[t] + 4, 64)  # distinct ids never clash on all 64
    return Pseudonyms(by_id=by_id, names=named)
