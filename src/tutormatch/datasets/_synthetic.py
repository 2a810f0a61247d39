"""Synthetic instances: the example académie and the benchmark generators.

Both draw every random number from one :func:`numpy.random.default_rng`
seeded by the caller, in a fixed order, so the same arguments give the same
tables whatever else the process did; no global random state is read or
changed. Points are placed on the real communes of the shipped gazetteer
(:func:`tutormatch.io.load_communes`), weighted by population, or uniformly
or in clusters over metropolitan France.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from tutormatch.datasets._names import (
    COLLEGE_PATRONS,
    FIRST_NAMES,
    LYCEE_PATRONS,
    MARSEILLE_LYCEES,
    MARSEILLE_PROS,
    MARSEILLE_QUARTERS,
    PLACE_NAMES,
    PRO_PATRONS,
    SURNAMES,
)
from tutormatch.errors import InputError
from tutormatch.io import load_communes, make_uai

__all__ = ["STRUCTURES", "example_academie", "synthetic_instance"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
ObjArray = npt.NDArray[np.object_]

#: How :func:`synthetic_instance` places its points.
STRUCTURES = ("clustered", "communes", "uniform")

_LETTERS = np.array(list("ABCDEFGHJKLMNPRSTUVWXYZ"), dtype=object)
# Mean Earth radius (IUGG), as in the great-circle distances of tutormatch.geo.
_KM_PER_DEGREE = 6371.0088 * math.pi / 180.0
# Projection for nearest-commune queries: equirectangular at this latitude.
# Only neighbour order matters there, and it is barely changed by the
# projection over a few tens of km.
_COS_REFERENCE = math.cos(math.radians(46.5))
# Four digits follow the département prefix: 0001 to 9999.
_N_SERIALS = 9999
# (lon_min, lon_max, lat_min, lat_max) of metropolitan France, WGS84 degrees.
_FRANCE_BOX = (-4.5, 7.5, 43.0, 50.5)
_N_CLUSTERS = 40
_CLUSTER_SPREAD_KM = 20.0
_CORSICA_PREFIX = {"2A": 620, "2B": 720}
_MAX_AGENCE_SIZE = 10
_NEIGHBOURS = 6  # a point drifts towards up to this many neighbouring communes

_KINDS = ("collège", "lycée", "lycée polyvalent", "lycée professionnel", "EREA")
_KIND_SHARES = (0.60, 0.14, 0.07, 0.18, 0.01)
_KIND_LABELS = {
    "collège": "Collège",
    "lycée": "Lycée",
    "lycée polyvalent": "Lycée polyvalent",
    "lycée professionnel": "Lycée professionnel",
    "EREA": "EREA",
}
_ROLES = ("SG", "AG", "SGAC", "FPAC", "AC")
_ROLE_SHARES = (0.30, 0.25, 0.15, 0.10, 0.20)
_NEEDS = ("management", "accounting", "both")
_NEED_SHARES = (0.52, 0.34, 0.14)
_ESTABLISHMENT_WAVES = (5, 6, 7, 8)
_ESTABLISHMENT_WAVE_SHARES = (0.46, 0.42, 0.07, 0.05)
_TUTOR_WAVES = (1, 2, 3, 4)
_TUTOR_WAVE_SHARES = (0.10, 0.20, 0.30, 0.40)
_PRIORITIES = (1, 2, 3)
_PRIORITY_SHARES = (0.60, 0.30, 0.10)
_VISITS = (4, 5, 6, 7, 8)
_VISIT_SHARES = (0.08, 0.14, 0.56, 0.12, 0.10)
_VEHICLE_CV = (3, 4, 5, 6, 7, 8, 9)
_VEHICLE_SHARES = (0.04, 0.18, 0.26, 0.22, 0.16, 0.09, 0.05)
_REMOTE_OK_SHARE = 0.88
_TUTOR_REMOTE_OK_SHARE = 0.85
_MAX_KM_SHARE = 0.15
_CIA_SHARE = 0.70

# The example académie d'Aix-Marseille.
_ACADEMIE = ("04", "05", "13", "84")
_EXAMPLE_KIND_COUNTS = (302, 70, 34, 88, 6)  # 500 establishments, shares above
_EXAMPLE_ROLE_COUNTS = (78, 65, 39, 26, 52)  # 260 tutors
_EXAMPLE_CAPACITY = ((1, 26), (2, 208), (3, 26))  # 520 slots
_EXAMPLE_TUTOR_WAVE_COUNTS = (26, 52, 78, 104)
_EXAMPLE_PRIORITY_COUNTS = (300, 150, 50)
_EXAMPLE_NEED_COUNTS = (260, 170, 70)
_MARSEILLE = "13055"
_COLLEGE_EXPONENT = 0.85
_LYCEE_EXPONENT = 0.9
_TUTOR_MIN_POPULATION = 5000
_MOUNTAINS = ("04", "05")
_MOUNTAIN_TUTOR_FACTOR = 0.5


@dataclass(frozen=True, eq=False)
class _Gazetteer:
    """The located communes as arrays, with a KD-tree on projected km."""

    insee: ObjArray
    name: ObjArray
    departement: ObjArray
    population: FloatArray
    lon: FloatArray
    lat: FloatArray
    tree: Any


def _project(lon: FloatArray, lat: FloatArray) -> FloatArray:
    return np.column_stack((lon * _COS_REFERENCE * _KM_PER_DEGREE, lat * _KM_PER_DEGREE))


def _tree(points: FloatArray) -> Any:
    from scipy.spatial import cKDTree  # imported on use: `import tutormatch` stays cheap

    return cKDTree(points)


@functools.cache
def _gazetteer() -> _Gazetteer:
    communes = load_communes()
    located = communes[communes["lon"].notna() & communes["lat"].notna()]
    lon = located["lon"].to_numpy(dtype=np.float64)
    lat = located["lat"].to_numpy(dtype=np.float64)
    gazetteer = _Gazetteer(
        insee=located["insee_code"].to_numpy(dtype=object),
        name=located["name"].to_numpy(dtype=object),
        departement=located["departement_code"].to_numpy(dtype=object),
        population=located["population"].to_numpy(dtype=np.float64, na_value=0.0),
        lon=lon,
        lat=lat,
        tree=_tree(_project(lon, lat)),
    )
    for array in (gazetteer.insee, gazetteer.departement, gazetteer.population):
        array.setflags(write=False)
    return gazetteer


# -- checks -----------------------------------------------------------------


def _check_count(name: str, value: object, *, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise InputError(f"{name} must be a whole number >= {minimum}; got {value!r}.")
    if value < minimum:
        raise InputError(f"{name} must be >= {minimum}; got {value}.")
    return int(value)


def _region(departements: Sequence[str] | str | None) -> BoolArray:
    """Return a mask of the gazetteer's communes in the chosen départements."""
    g = _gazetteer()
    if departements is None:
        return np.asarray(~pd.Series(g.departement).str.startswith("97").to_numpy(), dtype=bool)
    codes = [departements] if isinstance(departements, str) else list(departements)
    if not codes:
        raise InputError("departements must name at least one département, or be None for all.")
    wanted = []
    for code in codes:
        text = str(code).strip().upper()
        wanted.append(text.zfill(2) if text.isdigit() else text)
    known = set(np.unique(g.departement).tolist())
    unknown = [c for c, w in zip(codes, wanted, strict=True) if w not in known]
    if unknown:
        raise InputError(
            "departements: unknown département code(s) "
            f"{', '.join(map(repr, unknown))}; "
            "expected codes of the shipped gazetteer such as '04', '13', '2A' or '971'."
        )
    return np.isin(g.departement, wanted)


# -- placing points ----------------------------------------------------------


def _nearest(tree: Any, lon: FloatArray, lat: FloatArray) -> IntArray:
    if len(lon) == 0:
        return np.empty(0, dtype=np.int64)
    _, index = tree.query(_project(lon, lat))
    return np.asarray(index, dtype=np.int64)


def _place(commune: IntArray, rng: np.random.Generator) -> tuple[FloatArray, FloatArray]:
    """Place one point per entry of ``commune`` (gazetteer rows) near that commune.

    A point drifts from the commune's point towards a random mix of its
    nearest neighbours of the same département (further in big communes:
    up to 30 % of the way, a few km for Marseille, a few hundred m for a
    village), plus about 200 m of noise. Drifting towards neighbours rather
    than in any direction keeps coastal cities' points on land. Points whose
    nearest commune then lies in another département are pulled back.
    """
    g = _gazetteer()
    n = len(commune)
    if n == 0:
        return np.empty(0), np.empty(0)
    lon0, lat0 = g.lon[commune], g.lat[commune]
    population = g.population[commune]
    unique, inverse = np.unique(commune, return_inverse=True)
    k = min(3 * _NEIGHBOURS, len(g.lon))
    _, found = g.tree.query(_project(g.lon[unique], g.lat[unique]), k=k)
    found = np.asarray(found, dtype=np.int64).reshape(len(unique), k)
    usable = (g.departement[found] == g.departement[unique][:, None]) & (found != unique[:, None])
    usable &= np.cumsum(usable, axis=1) <= _NEIGHBOURS
    found, usable = found[inverse], usable[inverse]
    # Dirichlet weights over the usable neighbours, from gamma draws.
    weights = rng.gamma(0.4, size=(n, k)) * usable
    total = weights.sum(axis=1)
    has_neighbour = total > 0
    weights[has_neighbour] /= total[has_neighbour, None]
    toward_lon = (weights * (g.lon[found] - lon0[:, None])).sum(axis=1)
    toward_lat = (weights * (g.lat[found] - lat0[:, None])).sum(axis=1)
    reach = np.clip(0.08 + 0.1 * np.log10(np.maximum(population, 1.0) / 1000.0), 0.05, 0.3)
    share = rng.random(n) ** 0.7 * reach
    # An isolated commune (Paris has no neighbour in its département) spreads
    # around its point instead, in proportion to its size.
    sigma_km = np.where(has_neighbour, 0.2, np.clip(0.06 * np.sqrt(population / 1000.0), 0.15, 3.0))
    noise = rng.normal(size=(n, 2)) * sigma_km[:, None] / _KM_PER_DEGREE
    offset_lon = share * toward_lon + noise[:, 0] / np.cos(np.radians(lat0))
    offset_lat = share * toward_lat + noise[:, 1]
    for attempt in range(9):
        lon = np.round(lon0 + offset_lon, 5)
        lat = np.round(lat0 + offset_lat, 5)
        stray = g.departement[_nearest(g.tree, lon, lat)] != g.departement[commune]
        if not stray.any():
            break
        factor = 0.5 if attempt < 7 else 0.0
        offset_lon[stray] *= factor
        offset_lat[stray] *= factor
    return lon, lat


def _uai_numbers(prefix: IntArray, rng: np.random.Generator) -> IntArray:
    """Return distinct first-seven-digit numbers: ``prefix`` then four random digits.

    Serials are drawn without replacement within each prefix (département),
    so codes are distinct; one draw per département, not per row.
    """
    n = len(prefix)
    numbers = np.empty(n, dtype=np.int64)
    if n == 0:
        return numbers
    values, inverse, counts = np.unique(prefix, return_inverse=True, return_counts=True)
    full = counts > _N_SERIALS
    if full.any():
        raise InputError(
            "too many establishments and tutors in département prefix "
            f"{values[full][0]:03d}: {counts[full][0]}, while a département has at "
            f"most {_N_SERIALS} UAI codes. "
            "Ask for fewer, or spread them over more départements."
        )
    order = np.argsort(inverse, kind="stable")
    serial = np.concatenate([rng.choice(_N_SERIALS, size=c, replace=False) + 1 for c in counts.tolist()])
    numbers[order] = np.asarray(prefix, dtype=np.int64)[order] * 10_000 + serial
    return numbers


def _uai_strings(numbers: IntArray) -> ObjArray:
    """Format first-seven numbers as UAIs with their check letter, vectorised."""
    if len(numbers) == 0:
        return np.empty(0, dtype=object)
    digits = pd.Series(numbers).astype(str).str.zfill(7).to_numpy(dtype=object)
    return np.asarray(digits + _LETTERS[numbers % 23], dtype=object)


def _uai_prefix(departement: ObjArray) -> IntArray:
    codes, inverse = np.unique(departement.astype(str), return_inverse=True)
    prefixes = np.array([_CORSICA_PREFIX.get(c, 0) or int(c) for c in codes], dtype=np.int64)
    return prefixes[inverse] if len(departement) else np.empty(0, dtype=np.int64)


def _agences_comptables(lon: FloatArray, lat: FloatArray, prefix: IntArray) -> ObjArray:
    """Group neighbouring establishments of each département by recursive bisection.

    Every group larger than ten is cut in two halves at the median of its
    wider side, level by level (vectorised), which leaves groups of six to
    ten neighbours (fewer only in départements with few establishments).
    Groups are numbered within their département: ``AC-013-07``.
    """
    n = len(lon)
    if n == 0:
        return np.empty(0, dtype=object)
    x = lon * np.cos(np.radians(lat))
    y = np.asarray(lat, dtype=np.float64)
    labels = np.unique(prefix, return_inverse=True)[1].astype(np.int64)
    while True:
        n_groups = int(labels.max()) + 1
        sizes = np.bincount(labels, minlength=n_groups)
        split = sizes > _MAX_AGENCE_SIZE
        if not split.any():
            break
        x_span = np.full(n_groups, -np.inf)
        y_span = np.full(n_groups, -np.inf)
        np.maximum.at(x_span, labels, x)
        np.maximum.at(y_span, labels, y)
        x_low = np.full(n_groups, np.inf)
        y_low = np.full(n_groups, np.inf)
        np.minimum.at(x_low, labels, x)
        np.minimum.at(y_low, labels, y)
        wide = (x_span - x_low) >= (y_span - y_low)
        key = np.where(wide[labels], x, y)
        order = np.lexsort((key, labels))
        starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
        rank = np.empty(n, dtype=np.int64)
        rank[order] = np.arange(n) - starts[labels[order]]
        upper = split[labels] & (rank >= sizes[labels] // 2)
        labels = np.unique(2 * labels + upper, return_inverse=True)[1].astype(np.int64)
    group_prefix = np.zeros(int(labels.max()) + 1, dtype=np.int64)
    group_prefix[labels] = prefix
    # Groups of a département are consecutive labels: number them from 1.
    first = np.unique(group_prefix, return_index=True)
    first_of = dict(zip(first[0].tolist(), first[1].tolist(), strict=True))
    ids = [f"AC-{p:03d}-{g - first_of[p] + 1:02d}" for g, p in enumerate(group_prefix.tolist())]
    return np.asarray(np.array(ids, dtype=object)[labels], dtype=object)


def _shuffled(rng: np.random.Generator, values: Sequence[Any], counts: Sequence[int]) -> npt.NDArray[Any]:
    return rng.permutation(np.repeat(np.asarray(values), counts))


def _choice(
    rng: np.random.Generator, values: Sequence[Any], shares: Sequence[float], n: int
) -> npt.NDArray[Any]:
    return rng.choice(np.asarray(values), size=n, p=np.asarray(shares) / np.sum(shares))


def _group_waves(rng: np.random.Generator, agence: ObjArray) -> IntArray:
    """Draw one wave per agence comptable: its establishments switch together."""
    groups, inverse = np.unique(agence.astype(str), return_inverse=True)
    waves = _choice(rng, _ESTABLISHMENT_WAVES, _ESTABLISHMENT_WAVE_SHARES, len(groups))
    return np.asarray(waves[inverse] if len(agence) else np.empty(0), dtype=np.int64)


# -- the example académie ----------------------------------------------------


def _patron_pool(kind: str, insee: str) -> tuple[str, ...]:
    in_marseille = insee == _MARSEILLE
    if kind in ("lycée", "lycée polyvalent"):
        return LYCEE_PATRONS + MARSEILLE_LYCEES if in_marseille else LYCEE_PATRONS
    if kind == "lycée professionnel":
        return PRO_PATRONS + MARSEILLE_PROS if in_marseille else PRO_PATRONS
    pool = COLLEGE_PATRONS + PLACE_NAMES
    return pool + MARSEILLE_QUARTERS if in_marseille else pool


def _establishment_names(kind: ObjArray, insee: ObjArray, rng: np.random.Generator) -> ObjArray:
    """Name each establishment after a patron its kind has not used in its commune."""
    used: dict[tuple[str, str], set[str]] = {}
    names = []
    for k, code in zip(kind.tolist(), insee.tolist(), strict=True):
        pool = _patron_pool(k, code)
        taken = used.setdefault((k, code), set())
        free = [p for p in pool if p not in taken] or [f"{p} II" for p in pool if f"{p} II" not in taken]
        patron = free[int(rng.integers(len(free)))]
        taken.add(patron)
        names.append(f"{_KIND_LABELS[k]} {patron}")
    return np.array(names, dtype=object)


def _tutor_names(n: int, rng: np.random.Generator) -> ObjArray:
    """Draw distinct fictitious "Prénom Nom" names."""
    pick = rng.choice(len(FIRST_NAMES) * len(SURNAMES), size=n, replace=False)
    first = np.array(FIRST_NAMES, dtype=object)[pick // len(SURNAMES)]
    last = np.array(SURNAMES, dtype=object)[pick % len(SURNAMES)]
    return np.asarray(first + " " + last, dtype=object)


def example_academie(seed: int = 2024) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Generate the example académie d'Aix-Marseille: 260 tutors, 500 establishments.

    A synthetic but realistic académie on the real communes of the
    départements 04, 05, 13 and 84: establishments and tutors' résidences
    administratives are drawn in proportion to the communes' population
    (many in Marseille, Aix-en-Provence and Avignon; few in the mountain
    villages of 04 and 05), so that with a 60 km limit some mountain
    establishments are far from every tutor and go remote or uncovered.
    Supply is near-balanced: 520 tutor slots for 500 establishments. The
    tables shipped with tutormatch (:func:`example_frames`) are this
    function's output for the default seed.

    Parameters
    ----------
    seed : int, default 2024
        Seed of :func:`numpy.random.default_rng`; the same seed always gives
        the same tables.

    Returns
    -------
    tutors : pandas.DataFrame
        260 rows: ``tutor_id`` (``T0001``...), ``name`` (fictitious),
        ``role`` (SG, AG, SGAC, FPAC, AC), ``wave`` (1-4), ``home_uai`` (their
        own establishment, not in ``establishments``), ``insee`` (résidence
        administrative: a town of 5,000 inhabitants or more, drawn in
        proportion to population, at half that rate in 04 and 05),
        ``capacity`` (1-3, mostly 2), ``remote_ok``,
        ``max_km`` (personal limit in km, mostly missing), ``vehicle_cv``
        (fiscal horsepower, 3-9) and ``cia_eur`` (variable bonus in €,
        missing for about 30 %).
    establishments : pandas.DataFrame
        500 rows sorted by ``uai``: ``uai``, ``name``, ``kind`` (collège,
        lycée, lycée polyvalent, lycée professionnel, EREA), ``commune``,
        ``insee``, ``lon`` and ``lat`` (WGS84 degrees, 5 decimals), ``wave``
        (5 = January 2025, 6 = January 2026, 7 = September 2026,
        8 = January 2027; one per agence comptable), ``priority`` (1 normal,
        2 some difficulty, 3 struggling), ``need`` (management, accounting,
        both), ``remote_ok``, ``visits_per_year`` (4-8) and
        ``agence_comptable`` (groups of about 6-10 neighbours, ``AC-013-07``).

    See Also
    --------
    example_frames : the shipped tables, read from the package.
    synthetic_instance : instances of any size, for benchmarks.

    Examples
    --------
    >>> from tutormatch.datasets import example_academie
    >>> tutors, establishments = example_academie()
    >>> len(tutors), len(establishments), int(tutors["capacity"].sum())
    (260, 500, 520)
    >>> sorted(establishments["uai"].str[:3].unique())
    ['004', '005', '013', '084']
    """
    rng = np.random.default_rng(seed)
    g = _gazetteer()
    region = np.flatnonzero(np.isin(g.departement, _ACADEMIE))
    population = g.population[region]
    # Collèges are in towns of some size, rarely in villages; lycées in towns
    # of a few thousand inhabitants or more. Rural areas have more
    # establishments per inhabitant than cities: the weights grow a little
    # slower than population.
    college_weight = np.where(population >= 1500, 1.0, 0.25) * population**_COLLEGE_EXPONENT
    lycee_weight = np.where(population >= 3000, 1.0, 0.02) * population**_LYCEE_EXPONENT

    kind = np.repeat(np.array(_KINDS, dtype=object), _EXAMPLE_KIND_COUNTS)
    n_e = len(kind)
    n_colleges = _EXAMPLE_KIND_COUNTS[0]
    commune = np.concatenate(
        (
            rng.choice(region, size=n_colleges, p=college_weight / college_weight.sum()),
            rng.choice(region, size=n_e - n_colleges, p=lycee_weight / lycee_weight.sum()),
        )
    )
    lon, lat = _place(commune, rng)

    capacity = _shuffled(rng, [c for c, _ in _EXAMPLE_CAPACITY], [m for _, m in _EXAMPLE_CAPACITY])
    n_t = len(capacity)
    # Tutors' own establishments switched in the early waves: mostly urban
    # establishments and agences comptables, and few in the mountains of 04
    # and 05, which therefore have some establishments far from any tutor.
    mountain = np.isin(g.departement[region], _MOUNTAINS)
    tutor_weight = np.where(population >= _TUTOR_MIN_POPULATION, population, 0.0)
    tutor_weight *= np.where(mountain, _MOUNTAIN_TUTOR_FACTOR, 1.0)
    tutor_commune = rng.choice(region, size=n_t, p=tutor_weight / tutor_weight.sum())

    prefix = _uai_prefix(g.departement[np.concatenate((commune, tutor_commune))])
    uai = np.array(
        [make_uai(f"{number:07d}") for number in _uai_numbers(prefix, rng).tolist()],
        dtype=object,
    )
    agence = _agences_comptables(lon, lat, prefix[:n_e])
    insee = g.insee[commune]
    wave = _group_waves(rng, agence)
    establishments = pd.DataFrame(
        {
            "uai": uai[:n_e],
            "name": _establishment_names(kind, insee, rng),
            "kind": kind,
            "commune": g.name[commune],
            "insee": insee,
            "lon": lon,
            "lat": lat,
            "wave": wave,
            "priority": _shuffled(rng, _PRIORITIES, _EXAMPLE_PRIORITY_COUNTS),
            "need": _shuffled(rng, _NEEDS, _EXAMPLE_NEED_COUNTS),
            "remote_ok": rng.random(n_e) < _REMOTE_OK_SHARE,
            "visits_per_year": _choice(rng, _VISITS, _VISIT_SHARES, n_e),
            "agence_comptable": agence,
        }
    )
    establishments = establishments.sort_values("uai", ignore_index=True)

    has_limit = rng.random(n_t) < _MAX_KM_SHARE
    has_cia = rng.random(n_t) < _CIA_SHARE
    tutors = pd.DataFrame(
        {
            "tutor_id": [f"T{i:04d}" for i in range(1, n_t + 1)],
            "name": _tutor_names(n_t, rng),
            "role": _shuffled(rng, _ROLES, _EXAMPLE_ROLE_COUNTS),
            "wave": _shuffled(rng, _TUTOR_WAVES, _EXAMPLE_TUTOR_WAVE_COUNTS),
            "home_uai": uai[n_e:],
            "insee": g.insee[tutor_commune],
            "capacity": capacity,
            "remote_ok": rng.random(n_t) < _TUTOR_REMOTE_OK_SHARE,
            "max_km": pd.arrays.IntegerArray(5 * rng.integers(6, 11, size=n_t), ~has_limit),
            "vehicle_cv": _choice(rng, _VEHICLE_CV, _VEHICLE_SHARES, n_t),
            "cia_eur": pd.arrays.IntegerArray(50 * rng.integers(6, 19, size=n_t), ~has_cia),
        }
    )
    return tutors, establishments


# -- benchmark instances -----------------------------------------------------


def synthetic_instance(
    n_establishments: int,
    n_tutors: int,
    *,
    structure: str = "communes",
    departements: Sequence[str] | None = None,
    seed: int = 0,
    capacity: int = 2,
    waves: bool = True,
    roles: bool = True,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Generate a synthetic instance of any size, from an académie to all of France.

    Vectorised: the national case (8,000 establishments, 4,000 tutors) takes
    a fraction of a second. The columns are those of :func:`example_academie`
    (names are simply ``EPLE 0130001F``), and tutors are located by ``lon``
    and ``lat`` as well as by ``insee``.

    Parameters
    ----------
    n_establishments, n_tutors : int
        Table sizes, >= 0.
    structure : {"communes", "uniform", "clustered"}, default "communes"
        How points are placed. ``"communes"``: on real communes, drawn in
        proportion to population, a little around the commune's point.
        ``"uniform"``: uniformly over metropolitan France's bounding box
        (lon -4.5 to 7.5, lat 43 to 50.5; some points fall at sea), or the
        box of ``departements``. ``"clustered"``: around 40 random centres
        in the same box, with a gaussian spread of 20 km. Tutors and
        establishments follow the same density. For the last two, ``insee``
        is the nearest commune of the chosen départements, which also gives
        the UAI's département.
    departements : sequence of str, optional
        Département codes (``"13"``, ``"04"``, ``"2A"``...; a single string
        is one code). Default: all metropolitan départements, Corsica
        included.
    seed : int, default 0
        Seed of :func:`numpy.random.default_rng`.
    capacity : int, default 2
        Capacity of every tutor, >= 0.
    waves : bool, default True
        Include ``wave`` columns (tutors 1-4, establishments 5-8, one wave
        per agence comptable).
    roles : bool, default True
        Include the tutors' ``role`` and the establishments' ``need``.

    Returns
    -------
    tutors, establishments : pandas.DataFrame
        Tutors: ``tutor_id``, ``name``, [``role``], [``wave``], ``home_uai``,
        ``insee``, ``lon``, ``lat``, ``capacity``, ``remote_ok``, ``max_km``,
        ``vehicle_cv``, ``cia_eur`` (missing values are NaN).
        Establishments: ``uai``, ``name``, ``kind``, ``insee``, ``lon``,
        ``lat``, [``wave``], ``priority``, [``need``], ``remote_ok``,
        ``visits_per_year``, ``agence_comptable``. UAIs (establishments and
        tutors' own) are valid and distinct.

    Raises
    ------
    InputError
        On a negative or non-integer size or capacity, an unknown
        ``structure`` or an unknown département code, or more than 9,999
        establishments and tutors in one département.

    See Also
    --------
    example_academie : the realistic example académie.

    Examples
    --------
    >>> from tutormatch.datasets import synthetic_instance
    >>> tutors, establishments = synthetic_instance(100, 50, departements=["13"])
    >>> len(tutors), len(establishments)
    (50, 100)
    >>> establishments["uai"].str[:3].unique().tolist()
    ['013']
    """
    n_e = _check_count("n_establishments", n_establishments)
    n_t = _check_count("n_tutors", n_tutors)
    capacity = _check_count("capacity", capacity)
    if structure not in STRUCTURES:
        raise InputError(f"structure must be one of {', '.join(map(repr, STRUCTURES))}; got {structure!r}.")
    region = _region(departements)
    g = _gazetteer()
    rng = np.random.default_rng(seed)
    n = n_e + n_t
    if structure == "communes":
        candidates = np.flatnonzero(region)
        weight = g.population[candidates]
        if weight.sum() <= 0:
            weight = np.ones(len(candidates))
        commune = rng.choice(candidates, size=n, p=weight / weight.sum())
        lon, lat = _place(commune, rng)
    else:
        if departements is None:
            box = _FRANCE_BOX
        else:
            box = (
                g.lon[region].min(),
                g.lon[region].max(),
                g.lat[region].min(),
                g.lat[region].max(),
            )
        if structure == "uniform":
            lon = rng.uniform(box[0], box[1], size=n)
            lat = rng.uniform(box[2], box[3], size=n)
        else:
            centre_lon = rng.uniform(box[0], box[1], size=_N_CLUSTERS)
            centre_lat = rng.uniform(box[2], box[3], size=_N_CLUSTERS)
            cluster = rng.choice(
                _N_CLUSTERS,
                size=n,
                p=_normalised(rng.uniform(0.5, 1.5, size=_N_CLUSTERS)),
            )
            spread = rng.normal(size=(n, 2)) * _CLUSTER_SPREAD_KM / _KM_PER_DEGREE
            lat = np.clip(centre_lat[cluster] + spread[:, 1], -89.0, 89.0)
            lon = centre_lon[cluster] + spread[:, 0] / np.cos(np.radians(lat))
        lon, lat = np.round(lon, 5), np.round(lat, 5)
        candidates = np.flatnonzero(region)
        subset = _tree(_project(g.lon[candidates], g.lat[candidates]))
        commune = candidates[_nearest(subset, lon, lat)]

    prefix = _uai_prefix(g.departement[commune])
    uai = _uai_strings(_uai_numbers(prefix, rng))
    agence = _agences_comptables(lon[:n_e], lat[:n_e], prefix[:n_e])
    establishments: dict[str, Any] = {
        "uai": uai[:n_e],
        "name": np.asarray("EPLE " + uai[:n_e].astype(str), dtype=object),
        "kind": _choice(rng, _KINDS, _KIND_SHARES, n_e),
        "insee": g.insee[commune[:n_e]],
        "lon": lon[:n_e],
        "lat": lat[:n_e],
        "wave": _group_waves(rng, agence),
        "priority": _choice(rng, _PRIORITIES, _PRIORITY_SHARES, n_e),
        "need": _choice(rng, _NEEDS, _NEED_SHARES, n_e),
        "remote_ok": rng.random(n_e) < _REMOTE_OK_SHARE,
        "visits_per_year": _choice(rng, _VISITS, _VISIT_SHARES, n_e),
        "agence_comptable": agence,
    }
    width = max(4, len(str(n_t)))
    max_km = np.where(rng.random(n_t) < _MAX_KM_SHARE, 5.0 * rng.integers(6, 11, size=n_t), np.nan)
    cia_eur = np.where(rng.random(n_t) < _CIA_SHARE, 50.0 * rng.integers(6, 19, size=n_t), np.nan)
    first = np.array(FIRST_NAMES, dtype=object)[rng.integers(len(FIRST_NAMES), size=n_t)]
    last = np.array(SURNAMES, dtype=object)[rng.integers(len(SURNAMES), size=n_t)]
    tutors: dict[str, Any] = {
        "tutor_id": pd.Series(np.arange(1, n_t + 1))
        .astype(str)
        .str.zfill(width)
        .radd("T")
        .to_numpy(dtype=object),
        "name": np.asarray(first + " " + last, dtype=object),
        "role": _choice(rng, _ROLES, _ROLE_SHARES, n_t),
        "wave": _choice(rng, _TUTOR_WAVES, _TUTOR_WAVE_SHARES, n_t),
        "home_uai": uai[n_e:],
        "insee": g.insee[commune[n_e:]],
        "lon": lon[n_e:],
        "lat": lat[n_e:],
        "capacity": np.full(n_t, capacity, dtype=np.int64),
        "remote_ok": rng.random(n_t) < _TUTOR_REMOTE_OK_SHARE,
        "max_km": max_km,
        "vehicle_cv": _choice(rng, _VEHICLE_CV, _VEHICLE_SHARES, n_t),
        "cia_eur": cia_eur,
    }
    # Draw every column whatever the flags, then drop: the flags must not
    # change the other columns of the same seed.
    if not waves:
        del establishments["wave"], tutors["wave"]
    if not roles:
        del establishments["need"], tutors["role"]
    return pd.DataFrame(tutors), pd.DataFrame(establishments)


def _normalised(weight: FloatArray) -> FloatArray:
    return np.asarray(weight / weight.sum(), dtype=np.float64)
