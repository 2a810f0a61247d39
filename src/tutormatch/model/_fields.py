"""Every input column and parameter: its accepted names and its range, in one place.

Column names are matched by :func:`header_key`, which ignores case, accents,
spaces, hyphens, underscores, dots, apostrophes and any other punctuation, so
``Capacité``, ``capacite`` and ``CAPACITE`` are one name, as are ``Code UAI``
and ``code_uai``. Each table lists its fields (the canonical names used in the
code) with the other spellings accepted for them, French first.

The ranges are what the solve (64-bit integer costs) and the reports (exact
euros) can carry, with room to spare for any real académie: a value outside
is refused at the edge with a message that names the column or parameter,
the rows and the range, rather than failing deep inside a solver.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

__all__ = [
    "ESTABLISHMENT_FIELDS",
    "PAIR_FIELDS",
    "PARAMETER_RANGES",
    "TUTOR_FIELDS",
    "Field",
    "Range",
    "check_parameter",
    "header_key",
]

_PUNCTUATION = re.compile(r"[\W_]+")
_LONGEST = 40  # characters of a value shown in a message


def header_key(name: object) -> str:
    """Return the key under which a column name is matched.

    Parameters
    ----------
    name : object
        A column name as the user wrote it.

    Returns
    -------
    str
        The name without accents, case, spaces or punctuation.

    Examples
    --------
    >>> header_key("Code UAI"), header_key("code_uai"), header_key(" Capacité ")
    ('codeuai', 'codeuai', 'capacite')
    >>> header_key("Km déjà parcourus"), header_key("vague Op@le")
    ('kmdejaparcourus', 'vagueople')
    """
    text = unicodedata.normalize("NFKD", str(name))
    text = "".join(c for c in text if not unicodedata.combining(c))
    return _PUNCTUATION.sub("", text.casefold())


@dataclass(frozen=True, slots=True)
class Range:
    """The values a number may take: ``minimum <= value <= maximum``.

    Attributes
    ----------
    minimum, maximum : float
        Bounds, both included.
    integer : bool
        Whether only whole numbers are accepted.
    unit : str
        Shown after the bounds in messages (``"km"``, ``"EUR"``...).
    """

    minimum: float
    maximum: float
    integer: bool = False
    unit: str = ""

    def contains(self, value: float) -> bool:
        """Tell whether ``value`` is in the range (``nan`` is not)."""
        return bool(self.minimum <= value <= self.maximum) and (not self.integer or float(value).is_integer())

    def describe(self) -> str:
        """Say the range in words, e.g. ``a whole number from 0 to 10,000``.

        Examples
        --------
        >>> Range(0, 10_000, integer=True).describe()
        'a whole number from 0 to 10,000'
        >>> Range(1e-6, 1e6).describe()
        'a number from 0.000001 to 1,000,000'
        """
        what = "a whole number" if self.integer else "a number"
        unit = f" {self.unit}" if self.unit else ""
        return f"{what} from {_show(self.minimum)} to {_show(self.maximum)}{unit}"


def _show(value: float) -> str:
    if float(value).is_integer() and abs(value) < 1e15:
        return f"{int(value):,}"
    if 0 < abs(value) < 1:
        return np.format_float_positional(value, trim="-")
    return f"{value:g}"


@dataclass(frozen=True, slots=True)
class Field:
    """One column of an input table.

    Attributes
    ----------
    name : str
        Canonical name, used in the code and in output files.
    aliases : tuple of str
        Other accepted names (matched through :func:`header_key`).
    range : Range or None
        For numeric columns, the values accepted.
    """

    name: str
    aliases: tuple[str, ...] = ()
    range: Range | None = None

    @property
    def keys(self) -> tuple[str, ...]:
        """Every matching key: the canonical name's first, then the aliases'."""
        return tuple(dict.fromkeys(header_key(n) for n in (self.name, *self.aliases)))


def _fields(*fields: Field) -> Mapping[str, Field]:
    return MappingProxyType({f.name: f for f in fields})


# A wave is also accepted as a month (2025-01, 01/2025, janvier 2025): see
# model/_waves.py; the range below is that of wave numbers.
# Shared spellings. Spellings equal once read through header_key are listed
# once (the accented one).
_WAVE = Field(
    "wave",
    ("vague", "vague de déploiement", "vague Op@le", "vague Opale", "deployment wave"),
    Range(0, 999_999, integer=True),
)
_REMOTE = Field(
    "remote_ok",
    (
        "distanciel",
        "à distance",
        "distanciel possible",
        "accepte le distanciel",
        "tutorat à distance",
        "remote",
    ),
)
_LON = Field("lon", ("longitude", "lng"))
_LAT = Field("lat", ("latitude",))
_INSEE = Field(
    "insee",
    ("code INSEE", "insee code", "commune insee", "code commune", "code INSEE commune", "COG"),
)
_COMMUNE = Field("commune", ("ville", "nom de la commune", "libellé commune", "localité", "commune name"))
_TUTOR_ID = ("identifiant", "id", "identifiant tuteur", "id tuteur", "tuteur", "tutor", "matricule")
_UAI = ("code UAI", "RNE", "code RNE", "uai code", "numéro UAI", "établissement", "establishment")

#: Columns of the tutors table.
TUTOR_FIELDS: Mapping[str, Field] = _fields(
    Field("tutor_id", _TUTOR_ID),
    Field("name", ("nom", "nom prénom", "prénom nom", "nom et prénom", "nom du tuteur")),
    Field("role", ("rôle", "fonction", "profil")),
    _COMMUNE,
    _INSEE,
    _LON,
    _LAT,
    Field(
        "home_uai",
        (
            "UAI de rattachement",
            "UAI rattachement",
            "établissement de rattachement",
            "UAI d'exercice",
            "UAI",
            "code UAI",
            "RNE",
            "own uai",
            "uai home",
        ),
    ),
    Field(
        "capacity",
        (
            "capacité",
            "charge maximale",
            "charge max",
            "max load",
            "nombre d'établissements",
            "nb établissements",
        ),
        Range(0, 10_000, integer=True),
    ),
    Field(
        "min_load",
        ("charge minimale", "charge min", "minimum load", "nombre minimum d'établissements"),
        Range(0, 10_000, integer=True),
    ),
    _WAVE,
    _REMOTE,
    Field(
        "max_km",
        ("distance max", "distance maximale", "distance max km", "km max", "max distance km", "limite km"),
        Range(0, 40_000, unit="km"),
    ),
    Field(
        "vehicle_cv",
        ("CV", "puissance fiscale", "puissance fiscale CV", "chevaux fiscaux", "CV fiscaux"),
        Range(1, 1_000, unit="CV"),
    ),
    Field(
        "cia_eur",
        ("CIA", "montant CIA", "part variable", "complément indemnitaire annuel"),
        Range(0, 1_000_000, unit="EUR"),
    ),
    Field(
        "prior_service_km",
        ("km déjà parcourus", "km déjà effectués", "kilomètres déjà parcourus", "km parcourus", "prior km"),
        Range(0, 1_000_000, unit="km"),
    ),
    Field("status", ("statut", "statut du tuteur", "candidature")),
    Field(
        "fixed_cost_eur",
        ("coût de recrutement", "coût fixe", "frais de recrutement", "recruitment cost"),
        Range(0, 1_000_000, unit="EUR"),
    ),
)

#: Columns of the establishments table.
ESTABLISHMENT_FIELDS: Mapping[str, Field] = _fields(
    # Not "id": a file that has both an "id" and a "uai" column is common.
    Field("uai", (*_UAI[:5], "code établissement")),
    Field(
        "name",
        (
            "nom",
            "appellation",
            "appellation officielle",
            "nom de l'établissement",
            "dénomination",
            "patronyme",
        ),
    ),
    Field("kind", ("type", "nature", "type d'établissement", "nature UAI", "catégorie")),
    _COMMUNE,
    _INSEE,
    _LON,
    _LAT,
    _WAVE,
    Field(
        "priority",
        ("priorité", "poids", "difficulté", "niveau de priorité", "weight"),
        Range(1e-6, 1e6),
    ),
    Field("need", ("besoin", "type de besoin", "besoin d'aide", "aide demandée")),
    _REMOTE,
    Field(
        "visits_per_year",
        ("visites par an", "visites", "nombre de visites", "nb visites", "visites annuelles", "visits"),
        Range(0, 365),
    ),
    Field(
        "agence_comptable",
        ("agence", "UAI agence comptable", "agency", "accounting office", "group", "groupe"),
    ),
)

#: Columns of the fixed and forbidden pairs tables.
PAIR_FIELDS: Mapping[str, Field] = _fields(
    Field("tutor_id", _TUTOR_ID),
    Field("uai", _UAI),
)

#: Ranges of the parameters of :class:`~tutormatch.Problem` and of
#: :class:`~tutormatch.report.ReportOptions` (``max_distance_km`` may also be
#: ``inf``: no limit).
PARAMETER_RANGES: Mapping[str, Range] = MappingProxyType(
    {
        "max_distance_km": Range(0, 40_000, unit="km"),
        "remote_penalty_km": Range(0, 1e8, unit="km"),
        "detour_factor": Range(1, 10),
        "default_capacity": Range(0, 10_000, integer=True),
        "default_visits_per_year": Range(0, 365),
        "indemnity_eur": Range(0, 1_000_000, unit="EUR"),
        "remote_pair_cost_eur": Range(0, 1_000_000, unit="EUR"),
        "budget_eur": Range(0, 1e12, unit="EUR"),
        "fixed_cost_eur": Range(0, 1_000_000, unit="EUR"),
        "bonus_multiplier": Range(0, 1_000),
    }
)


def check_parameter(name: str, value: object, *, allow_inf: bool = False) -> None:
    """Raise an :class:`~tutormatch.errors.InputError` unless ``value`` is in its range.

    Parameters
    ----------
    name : str
        A key of :data:`PARAMETER_RANGES`.
    value : object
        The value given (a number, a ``Decimal``...).
    allow_inf : bool, default False
        Accept ``inf`` (no limit).
    """
    from tutormatch.errors import InputError

    rng = PARAMETER_RANGES[name]
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        number = math.nan
    if isinstance(value, bool | str):
        number = math.nan
    if allow_inf and number == math.inf:
        return
    if not rng.contains(number):
        also = " (or inf for no limit)" if allow_inf else ""
        got = repr(value) if isinstance(value, str) else str(value)  # Decimal('1E+3') reads 1E+3
        if len(got) > _LONGEST:
            got = f"{got[: _LONGEST - 3]}... ({len(got):,} characters)"
        raise InputError(f"{name} must be {rng.describe()}{also}; got {got}.", column=name, values=[value])
