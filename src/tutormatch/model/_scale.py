"""The State mileage scale (*barème kilométrique*), as data, applied by tranches."""

from __future__ import annotations

import functools
import itertools
import json
import math
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from importlib import resources
from os import PathLike
from pathlib import Path
from typing import Any

import pandas as pd

from tutormatch.errors import InputError
from tutormatch.model._money import round_cents, to_decimal

__all__ = ["MileageScale", "VehicleClass", "mileage_scale"]

_SHIPPED = "mileage_scale.json"
_ZERO = Decimal(0)


@functools.lru_cache(maxsize=16)
def _decimal_bounds(upper_km: tuple[int, ...]) -> tuple[tuple[Decimal, ...], tuple[Decimal | None, ...]]:
    """Return the low and high km of each tranche as Decimals (high None: unbounded)."""
    bounds = tuple(Decimal(b) for b in upper_km)
    return (_ZERO, *bounds), (*bounds, None)


@dataclass(frozen=True, slots=True)
class VehicleClass:
    """One row of the scale: a band of fiscal horsepower and its rates.

    Attributes
    ----------
    key : str
        ``"5cv"``, ``"6-7cv"`` or ``"8cv"`` in the shipped scale.
    max_cv : float
        Highest fiscal horsepower of the band (``inf`` for the last one).
    label_fr, label_en : str
        How reports name the band.
    rates_eur_per_km : tuple of Decimal
        One rate per tranche of the yearly distance.
    """

    key: str
    max_cv: float
    label_fr: str
    label_en: str
    rates_eur_per_km: tuple[Decimal, ...]

    def label(self, lang: str) -> str:
        """Return the band's name in ``"fr"`` or ``"en"``."""
        return self.label_fr if lang == "fr" else self.label_en


@dataclass(frozen=True, slots=True)
class MileageScale:
    """A mileage allowance scale: tranches of yearly km, and a rate per tranche and vehicle class.

    Build it with :func:`mileage_scale` (the shipped scale, or your own file
    for a new decree).

    Attributes
    ----------
    reference : str
        The legal text.
    in_force_from : datetime.date
        First day the rates apply.
    checked_on : datetime.date
        When the shipped values were last checked against the text.
    tranche_upper_km : tuple of int
        Upper bounds of all tranches but the last (``(2000, 10000)``: up to
        2,000 km, from 2,001 to 10,000 km, beyond).
    classes : tuple of VehicleClass
        Ordered by ``max_cv``.
    title_fr, title_en : str
    """

    reference: str
    in_force_from: date
    checked_on: date
    tranche_upper_km: tuple[int, ...]
    classes: tuple[VehicleClass, ...]
    title_fr: str = ""
    title_en: str = ""

    def __post_init__(self) -> None:
        bounds = list(self.tranche_upper_km)
        if any(b <= 0 for b in bounds) or bounds != sorted(set(bounds)):
            raise InputError(f"mileage scale: tranche bounds must be increasing and > 0; got {bounds}.")
        if not self.classes:
            raise InputError("mileage scale: no vehicle class.")
        for c in self.classes:
            if len(c.rates_eur_per_km) != len(bounds) + 1:
                raise InputError(
                    f"mileage scale: class {c.key!r} has {len(c.rates_eur_per_km)} rates; "
                    f"expected {len(bounds) + 1} (one per tranche)."
                )
        maxima = [c.max_cv for c in self.classes]
        if maxima != sorted(maxima) or not math.isinf(maxima[-1]):
            raise InputError("mileage scale: classes must be ordered by max_cv, the last one unbounded.")

    @property
    def n_tranches(self) -> int:
        """Number of tranches (one more than the bounds)."""
        return len(self.tranche_upper_km) + 1

    @property
    def keys(self) -> tuple[str, ...]:
        """The vehicle class keys."""
        return tuple(c.key for c in self.classes)

    def vehicle_class(self, key: str) -> VehicleClass:
        """Return the class of key ``key``.

        Raises
        ------
        InputError
            If no class has this key; the message lists the keys.
        """
        for c in self.classes:
            if c.key == key:
                return c
        raise InputError(f"unknown vehicle class {key!r}; expected one of {', '.join(map(repr, self.keys))}.")

    def class_of_cv(self, cv: float) -> VehicleClass:
        """Return the class of a car of ``cv`` fiscal horsepower (the first band that holds it)."""
        for c in self.classes:
            if cv <= c.max_cv:
                return c
        return self.classes[-1]

    def km_by_tranche(self, yearly_km: Decimal, *, prior_km: Decimal = Decimal(0)) -> tuple[Decimal, ...]:
        """Split ``yearly_km`` over the tranches, starting after ``prior_km`` already driven.

        Examples
        --------
        >>> from decimal import Decimal
        >>> scale = mileage_scale()
        >>> scale.km_by_tranche(Decimal(12000))
        (Decimal('2000'), Decimal('8000'), Decimal('2000'))
        >>> scale.km_by_tranche(Decimal(1000), prior_km=Decimal(1500))
        (Decimal('500'), Decimal('500'), Decimal('0'))
        """
        start, stop = prior_km, prior_km + yearly_km
        lows, highs = _decimal_bounds(self.tranche_upper_km)
        out = []
        for low, high in zip(lows, highs, strict=True):
            top = stop if high is None or stop <= high else high
            km = top - (start if start >= low else low)
            out.append(km if km > 0 else _ZERO)
        return tuple(out)

    def travel_cost_cents(self, yearly_km: Decimal, key: str, *, prior_km: Decimal = Decimal(0)) -> int:
        """Return the yearly travel cost in cents: ``round(sum of km_in_tranche x rate)``, half up.

        Examples
        --------
        >>> from decimal import Decimal
        >>> mileage_scale().travel_cost_cents(Decimal(2500), "5cv")  # 2000 x 0.32 + 500 x 0.40
        84000
        """
        return self.tranches_cost_cents(self.km_by_tranche(yearly_km, prior_km=prior_km), key)

    def tranches_cost_cents(self, km_by_tranche: tuple[Decimal, ...], key: str) -> int:
        """Return the travel cost in cents of km already split by :meth:`km_by_tranche`."""
        rates = self.vehicle_class(key).rates_eur_per_km
        return round_cents(sum((k * r for k, r in zip(km_by_tranche, rates, strict=True)), Decimal(0)))

    def to_frame(self) -> pd.DataFrame:
        """Return the scale as a table: one row per vehicle class, one rate column per tranche.

        Columns ``vehicle_class`` (the key), ``max_cv`` and
        ``rate_k_eur_per_km``, the rate of tranche ``k`` (named in
        :meth:`tranche_names`).

        Examples
        --------
        >>> frame = mileage_scale().to_frame()
        >>> frame["vehicle_class"].tolist(), frame["rate_2_eur_per_km"].tolist()
        (['5cv', '6-7cv', '8cv'], [0.4, 0.51, 0.55])
        """
        rows: list[dict[str, Any]] = []
        for c in self.classes:
            row: dict[str, Any] = {"vehicle_class": c.key, "max_cv": c.max_cv}
            for k, rate in enumerate(c.rates_eur_per_km, start=1):
                row[f"rate_{k}_eur_per_km"] = float(rate)
            rows.append(row)
        return pd.DataFrame(rows)

    def tranche_names(self, lang: str = "en") -> list[str]:
        """Return how each tranche reads (``"up to 2,000 km"``, ...)."""
        bounds = self.tranche_upper_km
        sep = "\u202f" if lang == "fr" else ","

        def n(x: int) -> str:
            return f"{x:,}".replace(",", sep)

        if lang == "fr":
            names = [f"jusqu'à {n(bounds[0])} km"]
            names += [f"de {n(a + 1)} à {n(b)} km" for a, b in itertools.pairwise(bounds)]
            names.append(f"au-delà de {n(bounds[-1])} km")
        else:
            names = [f"up to {n(bounds[0])} km"]
            names += [f"{n(a + 1)} to {n(b)} km" for a, b in itertools.pairwise(bounds)]
            names.append(f"beyond {n(bounds[-1])} km")
        return names


def mileage_scale(path: str | PathLike[str] | None = None) -> MileageScale:
    """Load a mileage scale: the shipped one, or a JSON file in the same format.

    The shipped scale is the State's (arrêté du 3 juillet 2006 as amended
    by the arrêté du 14 mars 2022, in force since 1 January 2022). When a
    new decree changes the rates, copy ``tutormatch/data/mileage_scale.json``,
    change the rates, the reference and the date, and pass the file here (or
    in :class:`ReportOptions`).

    Parameters
    ----------
    path : path, optional
        A JSON file with keys ``reference``, ``in_force_from``,
        ``checked_on`` (ISO dates), ``tranche_upper_km`` and ``classes``
        (each with ``key``, ``max_cv`` (null for the last), ``label_fr``,
        ``label_en`` and ``rates_eur_per_km`` as strings). Default: the
        shipped scale.

    Returns
    -------
    MileageScale

    Raises
    ------
    InputError
        If the file misses a key or holds an inconsistent scale.

    Examples
    --------
    >>> from tutormatch.report import mileage_scale
    >>> scale = mileage_scale()
    >>> scale.tranche_upper_km, [str(r) for r in scale.vehicle_class("5cv").rates_eur_per_km]
    ((2000, 10000), ['0.32', '0.40', '0.23'])
    """
    if path is None:
        text = resources.files("tutormatch").joinpath("data", _SHIPPED).read_text(encoding="utf-8")
        name = _SHIPPED
    else:
        text = Path(path).read_text(encoding="utf-8")
        name = str(path)
    try:
        data = json.loads(text)
        classes = tuple(
            VehicleClass(
                key=str(c["key"]),
                max_cv=math.inf if c["max_cv"] is None else float(c["max_cv"]),
                label_fr=str(c["label_fr"]),
                label_en=str(c["label_en"]),
                rates_eur_per_km=tuple(
                    to_decimal(r, f"{name}: rate of {c['key']}", minimum=Decimal(0))
                    for r in c["rates_eur_per_km"]
                ),
            )
            for c in data["classes"]
        )
        return MileageScale(
            reference=str(data["reference"]),
            in_force_from=date.fromisoformat(data["in_force_from"]),
            checked_on=date.fromisoformat(data["checked_on"]),
            tranche_upper_km=tuple(int(b) for b in data["tranche_upper_km"]),
            classes=classes,
            title_fr=str(data.get("title_fr", "")),
            title_en=str(data.get("title_en", "")),
        )
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, InputError):
            raise
        raise InputError(
            f"{name}: not a mileage scale ({type(exc).__name__}: {exc}). Follow the format of "
            "tutormatch/data/mileage_scale.json.",
            table=name,
        ) from None
