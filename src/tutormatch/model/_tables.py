"""The tutor and establishment tables, validated and in canonical order.

Each table is a frozen dataclass of read-only NumPy arrays, sorted by id so
that the same rows in any order give the same problem (and the same plan).
Building one from a user's table checks every column and raises an
:class:`~tutormatch.errors.InputError` naming the rows at fault; nothing is
dropped or coerced silently.
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from tutormatch.errors import CRSError, InputError, TutormatchWarning
from tutormatch.io._uai import is_valid_uai, uai_check_letter, uai_departement
from tutormatch.model._columns import ColumnReader
from tutormatch.model._fields import ESTABLISHMENT_FIELDS, TUTOR_FIELDS, Field
from tutormatch.model._rules import NEED_ALIASES
from tutormatch.model._waves import FIRST_YEAR, LAST_YEAR, parse_wave_column

__all__ = ["EstablishmentTable", "TableSource", "TutorTable"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
ObjArray = npt.NDArray[np.object_]

# Boxes (lon_min, lon_max, lat_min, lat_max) around metropolitan France with
# Corsica, the overseas départements that have an académie, and the overseas
# collectivities served by a vice-rectorat or a service of the State.
_FRANCE_BOXES = np.array(
    [
        (-5.5, 9.8, 41.2, 51.3),  # metropolitan France and Corsica
        (-61.95, -60.9, 15.8, 16.6),  # Guadeloupe
        (-61.3, -60.7, 14.35, 14.95),  # Martinique
        (-54.7, -51.5, 2.0, 6.0),  # Guyane
        (55.1, 56.0, -21.5, -20.8),  # La Réunion
        (44.9, 45.4, -13.1, -12.5),  # Mayotte
        (-56.5, -56.0, 46.7, 47.2),  # Saint-Pierre-et-Miquelon
        (-63.2, -62.7, 17.8, 18.2),  # Saint-Martin, Saint-Barthélemy
        (163.5, 168.2, -22.8, -19.5),  # Nouvelle-Calédonie
        (-154.8, -134.4, -28.0, -7.8),  # Polynésie française
        (-178.3, -176.0, -14.5, -13.1),  # Wallis-et-Futuna
    ]
)


# Municipal arrondissements (first code, last code, commune): Marseille, Lyon, Paris.
_ARRONDISSEMENTS = (
    (13201, 13216, "13055"),
    (69381, 69389, "69123"),
    (75101, 75120, "75056"),
)
_PACKAGE_DIR = str(Path(__file__).parent.parent) + os.sep


@dataclass(frozen=True, slots=True)
class TableSource:
    """A user's table and how to name its rows in messages.

    Attributes
    ----------
    frame : pandas.DataFrame
        The table (a GeoDataFrame is accepted).
    name : str
        How messages name it: ``"tutors"`` or a file name.
    row_word : str
        ``"row"`` (DataFrame index labels) or ``"line"`` (CSV line numbers).
    """

    frame: pd.DataFrame
    name: str
    row_word: str = "row"


def in_france(lon: FloatArray, lat: FloatArray) -> BoolArray:
    """Tell which points fall in metropolitan or overseas France (coarse boxes).

    Parameters
    ----------
    lon, lat : ndarray of float
        WGS84 degrees.

    Returns
    -------
    ndarray of bool
    """
    lon = np.asarray(lon)[:, None]
    lat = np.asarray(lat)[:, None]
    box = _FRANCE_BOXES
    inside = (lon >= box[:, 0]) & (lon <= box[:, 1]) & (lat >= box[:, 2]) & (lat <= box[:, 3])
    return np.asarray(inside.any(axis=1), dtype=bool)


def _user_stacklevel() -> int:
    """Return the ``stacklevel`` that makes a warning point at the user's line.

    Call it from the function that calls :func:`warnings.warn`; it counts the
    frames that belong to tutormatch, whichever constructor was used.
    """
    frame = sys._getframe(1)
    level = 1
    while frame.f_back is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        frame = frame.f_back
        level += 1
    return level


def _fill_optional(obj: Any, **defaults: object) -> None:
    """Give optional columns left out by a caller one default value per row."""
    for name, default in defaults.items():
        if len(getattr(obj, name)) != len(obj.id):
            dtype = object if isinstance(default, str) else bool if isinstance(default, bool) else np.float64
            object.__setattr__(obj, name, np.full(len(obj.id), default, dtype=dtype))


def _freeze(obj: Any) -> None:
    for f in fields(obj):
        value = getattr(obj, f.name)
        if isinstance(value, np.ndarray):
            value.setflags(write=False)


def _labels(index: pd.Index) -> ObjArray:
    # np.array(list(index)) would split tuple labels (a MultiIndex) into columns.
    out = np.empty(len(index), dtype=object)
    out[:] = list(index)
    return out


def _is_blank_table(frame: pd.DataFrame) -> bool:
    return len(frame) == 0 and len(frame.columns) == 0


def _geo_column(frame: pd.DataFrame) -> str | None:
    """Return the active geometry column of a GeoDataFrame, or ``None``."""
    geopandas = sys.modules.get("geopandas")
    if geopandas is None or not isinstance(frame, geopandas.GeoDataFrame):
        return None
    try:
        return str(frame.geometry.name)
    except AttributeError:  # a GeoDataFrame without an active geometry column
        return None


def _geo_lonlat(source: TableSource) -> tuple[FloatArray, FloatArray] | None:
    if _geo_column(source.frame) is None:
        return None
    from tutormatch.geo._crs import points_to_lonlat

    return points_to_lonlat(source.frame, source.name)


def _extra(reader: ColumnReader, order: IntArray) -> pd.DataFrame:
    """Return the columns ignored by the reader, as a plain DataFrame in canonical order."""
    ignored = set(reader.ignored)
    positions = [i for i, c in enumerate(reader.frame.columns) if str(c) in ignored]
    return pd.DataFrame(reader.frame.iloc[:, positions]).iloc[order].reset_index(drop=True)


def _check_ids(reader: ColumnReader, name: str, what: str, *, upper: bool = False) -> ObjArray:
    ids = reader.text(name)
    if upper and len(ids):
        ids = np.array([i.upper() for i in ids], dtype=object)
    blank = ids == ""
    if blank.any():
        raise reader.fail(name, blank, f"must give every {what} an id", "Fill in or drop these rows.")
    values, counts = np.unique(ids.astype(str), return_counts=True)
    dupes = values[counts > 1]
    if len(dupes):
        mask = np.isin(ids.astype(str), dupes)
        raise reader.fail(
            name,
            mask,
            "must hold unique ids",
            "Each id must appear once: merge or rename the duplicated rows.",
            values=ids[mask],
        )
    return ids


def _digits(text: str) -> bool:
    """Tell whether ``text`` is ASCII digits (``str.isdigit`` also accepts "²")."""
    return text.isascii() and text.isdigit()


def _uai_hint(uai: str) -> str | None:
    """Suggest the right code for a wrong UAI, when one can be guessed."""
    if len(uai) == 8 and _digits(uai[:7]):
        return f"{uai[:7]}{uai_check_letter(uai[:7])} instead of {uai}"
    if len(uai) == 7 and _digits(uai):
        return f"{uai}{uai_check_letter(uai)} (check letter missing) instead of {uai}"
    if len(uai) == 7 and _digits(uai[:6]) and is_valid_uai("0" + uai):
        return f"0{uai} (leading zero lost) instead of {uai}"
    return None


def _check_uai(reader: ColumnReader, name: str, uais: ObjArray, *, allow_blank: bool) -> None:
    bad = np.array(
        [not (allow_blank and u == "") and not is_valid_uai(u) for u in uais],
        dtype=bool,
    )
    if not bad.any():
        return
    hints = [h for h in (_uai_hint(u) for u in uais[bad][:5]) if h]
    hint = f" (right codes: {', '.join(hints)})" if hints else ""
    raise reader.fail(
        name,
        bad,
        "must hold UAI codes: 7 digits then the check letter 'ABCDEFGHJKLMNPRSTUVWXYZ'[first seven % 23]",
        f"Correct the codes{hint}.",
        values=uais[bad],
    )


def _show_points(lon: FloatArray, lat: FloatArray) -> list[str]:
    return [f"lon {x:g}, lat {y:g}" for x, y in zip(lon.tolist(), lat.tolist(), strict=True)]


def _column_lonlat(reader: ColumnReader) -> tuple[FloatArray, FloatArray]:
    """Read columns lon and lat: both or neither, on every row too, in range."""
    if reader.has("lon") != reader.has("lat"):
        given, absent = ("lon", "lat") if reader.has("lon") else ("lat", "lon")
        raise InputError(
            f"{reader.table}: column {reader.spelled(given)!r} is given without column "
            f"{absent!r}. Add column {absent!r} (WGS84 degrees), or drop "
            f"{reader.spelled(given)!r} and locate the rows another way.",
            table=reader.table,
            column=absent,
        )
    lon = reader.number("lon", expectation="must be a number (WGS84 longitude in degrees)")
    lat = reader.number("lat", expectation="must be a number (WGS84 latitude in degrees)")
    for name, other, mask in (
        ("lat", "lon", np.isnan(lat) & ~np.isnan(lon)),
        ("lon", "lat", np.isnan(lon) & ~np.isnan(lat)),
    ):
        if mask.any():
            raise reader.fail(
                name,
                mask,
                f"must be given with column {reader.spelled(other)!r} (both or neither)",
                "Fill in the missing coordinate, or leave both empty and give an INSEE commune code instead.",
            )
    for name, limit, values in (("lon", 180, lon), ("lat", 90, lat)):
        bad = np.abs(values) > limit
        if bad.any():
            projected = bool((np.abs(values[bad]) > 1000).all())
            fix = (
                "These look like projected coordinates in metres (e.g. Lambert-93): "
                "convert them to WGS84 degrees, or pass a GeoDataFrame with its CRS "
                "(set_crs) and tutormatch reprojects it."
                if projected
                else "Give WGS84 degrees: lon in [-180, 180], lat in [-90, 90]."
            )
            raise reader.fail(name, bad, f"must hold WGS84 degrees in [-{limit}, {limit}]", fix)
    return lon, lat


def _check_geometry_range(
    reader: ColumnReader,
    source: TableSource,
    lon: FloatArray,
    lat: FloatArray,
    use: BoolArray,
) -> None:
    bad = use & ((np.abs(lon) > 180) | (np.abs(lat) > 90))
    if not bad.any():
        return
    from tutormatch.geo._crs import describe_crs

    crs = describe_crs(source.frame.crs)
    raise reader.fail(
        "geometry",
        bad,
        f"holds points that are not on Earth once read in the GeoDataFrame's CRS ({crs})",
        "The CRS is probably wrong: set the right one with "
        "set_crs(..., allow_override=True) (e.g. 'EPSG:2154' for Lambert-93 "
        "metres), then tutormatch reprojects with to_crs.",
        values=list(zip(lon[bad].tolist(), lat[bad].tolist(), strict=True)),
        shown=_show_points(lon[bad], lat[bad]),
        error=CRSError,
    )


def _check_in_france(
    reader: ColumnReader, source: TableSource, lon: FloatArray, lat: FloatArray, how: ObjArray
) -> None:
    """Refuse swapped lon/lat and tables with no point in France; warn about a few points outside.

    Raises
    ------
    InputError
        If lon and lat look swapped, or every point given as lon/lat is
        outside France (e.g. all at (0, 0)).
    CRSError
        If every point given as geometry is outside France once read in the
        GeoDataFrame's CRS: the CRS is wrong.

    Warns
    -----
    TutormatchWarning
        Naming the points outside France, when others are inside.
    """
    located = how != ""
    given = (how == "lonlat") | (how == "geometry")
    inside = located & in_france(np.where(located, lon, 0.0), np.where(located, lat, 0.0))
    outside = given & ~inside
    if not outside.any():
        return
    swapped = outside & in_france(np.where(outside, lat, 0.0), np.where(outside, lon, 0.0))
    for kind, column in (("lonlat", "lon"), ("geometry", "geometry")):
        mask = swapped & (how == kind)
        if mask.any():
            what = (
                f"and column {reader.spelled('lat')!r} look swapped"
                if kind == "lonlat"
                else "holds points whose x and y look swapped"
            )
            raise reader.fail(
                column,
                mask,
                f"{what}: these points are outside France but would be inside with lon and lat exchanged",
                "Exchange lon and lat on these rows: lon (x) is about -5 to 10 in "
                "metropolitan France, lat (y) about 41 to 51.",
                values=list(zip(lon[mask].tolist(), lat[mask].tolist(), strict=True)),
                shown=_show_points(lon[mask], lat[mask]),
            )
    null = outside & (lon == 0.0) & (lat == 0.0)
    hint = (
        " (0, 0) is what a missing coordinate often becomes: leave both cells empty and "
        "give an INSEE commune code instead."
        if null.any()
        else ""
    )
    if inside.any():
        where = reader.where(outside, _show_points(lon[outside], lat[outside]))
        warnings.warn(
            f"{reader.table}: points outside France while the others are inside, in "
            f"{where}. Check these coordinates (WGS84 degrees, lon first); ignore this "
            f"warning if they are right.{hint}",
            TutormatchWarning,
            stacklevel=_user_stacklevel(),
        )
        return
    by_geometry = outside & (how == "geometry")
    if by_geometry.any():
        from tutormatch.geo._crs import describe_crs

        crs = describe_crs(getattr(source.frame, "crs", None))
        raise reader.fail(
            "geometry",
            by_geometry,
            f"holds no point in France once read in the GeoDataFrame's CRS ({crs})",
            "The CRS is probably wrong (e.g. lon/lat degrees labelled as Lambert-93 "
            "metres land in the Atlantic): set the right one with "
            "set_crs(..., allow_override=True), e.g. 'EPSG:4326' for degrees or "
            "'EPSG:2154' for Lambert-93 metres, and tutormatch reprojects with to_crs.",
            values=list(zip(lon[by_geometry].tolist(), lat[by_geometry].tolist(), strict=True)),
            shown=_show_points(lon[by_geometry], lat[by_geometry]),
            error=CRSError,
        )
    raise reader.fail(
        "lon",
        outside,
        f"and column {reader.spelled('lat')!r} must locate points in France, but none of "
        "this table's points is in France",
        f"Give WGS84 degrees, lon first (metropolitan France: lon about -5 to 10, lat about 41 to 51).{hint}",
        values=list(zip(lon[outside].tolist(), lat[outside].tolist(), strict=True)),
        shown=_show_points(lon[outside], lat[outside]),
    )


def _commune_code(code: str, known: pd.Index) -> str:
    """Return the gazetteer code of an INSEE code as users write it.

    Spreadsheets drop the leading zero of 01xxx-09xxx codes, and HR files
    give the municipal arrondissements of Paris, Lyon and Marseille, which the
    gazetteer lists as their commune.
    """
    if _digits(code) and len(code) == 4:
        code = code.zfill(5)
    if code in known or not _digits(code):
        return code
    number = int(code)
    for first, last, commune in _ARRONDISSEMENTS:
        if first <= number <= last:
            return commune
    return code


def _resolve_insee(
    reader: ColumnReader, codes: ObjArray, need: BoolArray, gazetteer: pd.DataFrame
) -> tuple[FloatArray, FloatArray]:
    lon = np.full(len(codes), np.nan)
    lat = np.full(len(codes), np.nan)
    if not need.any():
        return lon, lat
    index = pd.Index(gazetteer.index)
    fixed = np.array([_commune_code(str(c), index) for c in codes[need]], dtype=object)
    position = index.get_indexer(fixed)
    unknown = need.copy()
    unknown[need] = position < 0
    if unknown.any():
        raise reader.fail(
            "insee",
            unknown,
            "must hold INSEE commune codes known to the gazetteer (5 characters, e.g. 13055)",
            "Correct the codes, give lon/lat instead, or pass your own gazetteer.",
        )
    coords = gazetteer[["lon", "lat"]].to_numpy(dtype=np.float64)[position]
    no_point = np.isnan(coords).any(axis=1)
    if no_point.any():
        mask = need.copy()
        mask[need] = no_point
        raise reader.fail(
            "insee",
            mask,
            "names communes without coordinates in the gazetteer",
            "Give lon and lat for these rows.",
        )
    lon[need], lat[need] = coords[:, 0], coords[:, 1]
    return lon, lat


def _require_location_columns(reader: ColumnReader, source: TableSource, also: tuple[str, ...]) -> None:
    if len(reader) == 0 or _geo_column(source.frame) is not None:
        return
    if any(reader.has(name) for name in ("lon", "lat", "insee", *also)):
        return
    present = ", ".join(repr(str(c)) for c in source.frame.columns)
    extra = "".join(f", or {name!r}" for name in also)
    raise InputError(
        f"{reader.table}: no location column; columns found: {present}. Add columns "
        f"'lon' and 'lat' (WGS84 degrees), or 'insee' (INSEE commune codes){extra}; "
        "or pass a GeoDataFrame of points.",
        table=reader.table,
        column="lon",
    )


def _locate(
    reader: ColumnReader, source: TableSource, gazetteer: pd.DataFrame
) -> tuple[FloatArray, FloatArray, ObjArray]:
    """Return lon, lat and how each row was located.

    How is ``"lonlat"``, ``"geometry"``, ``"insee"`` or ``""`` (not located).
    """
    lon, lat = _column_lonlat(reader)
    how = np.full(len(reader), "", dtype=object)
    how[~np.isnan(lon) & ~np.isnan(lat)] = "lonlat"
    # Point geometries locate the rows without lon/lat; a GeoDataFrame whose
    # rows all have lon/lat needs no CRS.
    geo = _geo_lonlat(source) if (how == "").any() else None
    if geo is not None:
        use = (how == "") & ~np.isnan(geo[0])
        _check_geometry_range(reader, source, geo[0], geo[1], use)
        lon[use], lat[use] = geo[0][use], geo[1][use]
        how[use] = "geometry"
    codes = reader.text("insee")
    need = (how == "") & (codes != "")
    ilon, ilat = _resolve_insee(reader, codes, need, gazetteer)
    lon[need], lat[need] = ilon[need], ilat[need]
    how[need] = "insee"
    _check_in_france(reader, source, lon, lat, how)
    return lon, lat, how


def _reader(
    source: TableSource, canonical_id: str, id_column: str, fields: Mapping[str, Field]
) -> ColumnReader:
    """Open a table for typed reading; the user's name of the id column wins."""
    reader = ColumnReader(
        source.frame,
        table=source.name,
        id_column=canonical_id,
        row_word=source.row_word,
        fields=fields,
        names={canonical_id: (id_column,)} if id_column != canonical_id else None,
        geometry=_geo_column(source.frame),
    )
    reader.require(canonical_id)
    return reader


@dataclass(frozen=True, eq=False)
class EstablishmentTable:
    """Establishments to tutor, sorted by UAI. Arrays are read-only.

    Attributes
    ----------
    id : ndarray of str
        UAI codes (or other ids for problems built from arrays), sorted.
    name, kind, departement : ndarray of str
        ``""`` when unknown.
    lon, lat : ndarray of float
        WGS84 degrees (``nan`` for problems built from a distance matrix alone).
    wave : ndarray of float
        Deployment wave (``nan`` when unknown): the number given, or for a
        month (``2025-01``) the months since year 0 (``year x 12 + month - 1``).
    priority : ndarray of float
        Weight of covering the establishment (> 0).
    need : ndarray of str
        ``"management"``, ``"accounting"``, ``"both"`` or ``""`` (unknown).
    remote_ok : ndarray of bool
    visits_per_year : ndarray of float
    agence_comptable : ndarray of str
    source_row : ndarray
        Row label of each establishment in the user's table.
    extra : pandas.DataFrame
        The columns that matched no field (ignored), in canonical order, kept
        for reports.
    commune : ndarray of str
        Name of the commune (``""`` when not given), for reports.
    columns : mapping
        Which columns were read and which ignored (see
        :attr:`Problem.columns <tutormatch.Problem.columns>`).
    wave_is_date : bool
        Whether the waves were given as months (see :mod:`tutormatch.model._waves`).
    """

    id: ObjArray
    name: ObjArray
    kind: ObjArray
    departement: ObjArray
    lon: FloatArray
    lat: FloatArray
    wave: FloatArray
    priority: FloatArray
    need: ObjArray
    remote_ok: BoolArray
    visits_per_year: FloatArray
    agence_comptable: ObjArray
    source_row: ObjArray
    extra: pd.DataFrame = field(repr=False)
    commune: ObjArray = field(default_factory=lambda: np.empty(0, dtype=object), repr=False)
    columns: Mapping[str, Any] = field(default_factory=dict, repr=False)
    wave_is_date: bool = False

    def __post_init__(self) -> None:
        _fill_optional(self, commune="")
        _freeze(self)

    def __len__(self) -> int:
        return len(self.id)

    def to_frame(self) -> pd.DataFrame:
        """Return the table as a DataFrame (one row per establishment, in order)."""
        frame = pd.DataFrame(
            {
                "uai": self.id,
                "name": self.name,
                "kind": self.kind,
                "departement": self.departement,
                "lon": self.lon,
                "lat": self.lat,
                "wave": self.wave,
                "priority": self.priority,
                "need": self.need,
                "remote_ok": self.remote_ok,
                "visits_per_year": self.visits_per_year,
                "agence_comptable": self.agence_comptable,
                "commune": self.commune,
            }
        )
        return frame

    @classmethod
    def from_source(
        cls,
        source: TableSource,
        *,
        id_column: str,
        gazetteer: pd.DataFrame,
        default_visits_per_year: float,
        check_uai: bool = True,
        locate: bool = True,
    ) -> EstablishmentTable:
        """Validate a user's establishments table (see :meth:`Problem.from_frames`).

        Parameters
        ----------
        source : TableSource
            The table and how to name its rows.
        id_column : str
            The user's name of the UAI column.
        gazetteer : pandas.DataFrame
            Communes indexed by INSEE code, with ``lon`` and ``lat``.
        default_visits_per_year : float
            Visits of an establishment whose ``visits_per_year`` is blank.
        check_uai : bool, default True
            Verify the UAI check letters (ids are upper-cased first).
        locate : bool, default True
            Read and check the locations; ``False`` (for problems built from a
            distance matrix) leaves ``lon`` and ``lat`` at ``nan``.

        Returns
        -------
        EstablishmentTable

        Raises
        ------
        InputError
            Naming the table, column and rows of the first problem found.
        """
        if _is_blank_table(source.frame):
            return cls._empty()
        reader = _reader(source, "uai", id_column, ESTABLISHMENT_FIELDS)
        ids = _check_ids(reader, "uai", "establishment", upper=check_uai)
        reader.set_ids(ids)
        if check_uai:
            _check_uai(reader, "uai", ids, allow_blank=False)
        if locate:
            _require_location_columns(reader, source, ())
            lon, lat, how = _locate(reader, source, gazetteer)
            missing = how == ""
            if missing.any():
                raise reader.fail_rows(
                    missing,
                    "no location (neither lon/lat nor an INSEE code)",
                    "Give lon and lat (WGS84 degrees), or an INSEE commune code in column 'insee'.",
                )
        else:
            lon, lat = np.full(len(ids), np.nan), np.full(len(ids), np.nan)
        wave, wave_is_date = read_waves(reader)
        columns = dict(  # noqa: C408 - keyword names match the fields
            id=ids,
            name=reader.text("name"),
            kind=reader.text("kind"),
            departement=np.array(
                [uai_departement(u) if is_valid_uai(u) else "" for u in ids],
                dtype=object,
            ),
            lon=lon,
            lat=lat,
            wave=wave,
            priority=reader.ranged("priority", default=1.0),
            need=reader.choice("need", NEED_ALIASES, what="the kind of help needed"),
            remote_ok=reader.boolean("remote_ok", default=True),
            visits_per_year=reader.ranged("visits_per_year", default=default_visits_per_year),
            agence_comptable=reader.text("agence_comptable"),
            source_row=_labels(source.frame.index),
            commune=reader.text("commune"),
        )
        order = np.argsort(ids.astype(str), kind="stable")
        arrays = {k: np.asarray(v)[order] for k, v in columns.items()}
        return cls(**arrays, extra=_extra(reader, order), columns=reader.report(), wave_is_date=wave_is_date)

    @classmethod
    def _empty(cls) -> EstablishmentTable:
        o = np.empty(0, dtype=object)
        f = np.empty(0, dtype=np.float64)
        return cls(
            o, o.copy(), o.copy(), o.copy(), f, f.copy(), f.copy(), f.copy(), o.copy(),
            np.empty(0, dtype=bool), f.copy(), o.copy(), o.copy(), pd.DataFrame(), o.copy(),
        )  # fmt: skip


@dataclass(frozen=True, eq=False)
class TutorTable:
    """Tutors, sorted by id. Arrays are read-only.

    Attributes
    ----------
    id : ndarray of str
    name : ndarray of str
    role : ndarray of str
        One of the known roles, or ``""`` (unknown: may give any help).
    lon, lat : ndarray of float
        Résidence administrative, WGS84 degrees.
    capacity : ndarray of int
        Most establishments the tutor can take.
    min_load : ndarray of int
        Fewest establishments the tutor must take (0 by default).
    wave : ndarray of float
        Wave of the tutor's own establishment (``nan`` when unknown), stored
        as for establishments (months since year 0 for a month).
    remote_ok : ndarray of bool
    max_km : ndarray of float
        Personal on-site distance limit (``inf`` when none).
    home_uai : ndarray of str
        The tutor's own establishment, ``""`` when unknown.
    home : ndarray of int
        Index of ``home_uai`` in the establishments table, -1 if absent.
    vehicle_cv : ndarray of float
        Fiscal horsepower of the tutor's car (``nan``: not given).
    cia_eur : ndarray of float
        Variable part of the annual bonus (``nan``: not given).
    source_row : ndarray
    extra : pandas.DataFrame
        The columns that matched no field (ignored), kept for reports.
    prior_service_km : ndarray of float
        Km already driven for the service this year, before this plan's
        travel (0 when not given): shifts the tranches of the mileage scale.
    is_candidate : ndarray of bool
        Column ``status``: ``candidate`` (applied; recruited only if the plan
        uses them) or ``retained`` (already in the network: the default).
    fixed_cost_eur : ndarray of float
        Yearly fixed cost of recruiting a candidate (training, mission order);
        ``nan``: not given (the cost model's default applies). Only candidates
        may have one.
    commune : ndarray of str
        Name of the commune of residence (``""`` when not given).
    columns : mapping
        Which columns were read and which ignored.
    wave_is_date : bool
        Whether the waves were given as months.
    """

    id: ObjArray
    name: ObjArray
    role: ObjArray
    lon: FloatArray
    lat: FloatArray
    capacity: IntArray
    min_load: IntArray
    wave: FloatArray
    remote_ok: BoolArray
    max_km: FloatArray
    home_uai: ObjArray
    home: IntArray
    vehicle_cv: FloatArray
    cia_eur: FloatArray
    source_row: ObjArray
    extra: pd.DataFrame = field(repr=False)
    prior_service_km: FloatArray = field(default_factory=lambda: np.empty(0), repr=False)
    is_candidate: BoolArray = field(default_factory=lambda: np.empty(0, dtype=bool), repr=False)
    fixed_cost_eur: FloatArray = field(default_factory=lambda: np.empty(0), repr=False)
    commune: ObjArray = field(default_factory=lambda: np.empty(0, dtype=object), repr=False)
    columns: Mapping[str, Any] = field(default_factory=dict, repr=False)
    wave_is_date: bool = False

    def __post_init__(self) -> None:
        _fill_optional(self, commune="", prior_service_km=0.0, is_candidate=False, fixed_cost_eur=np.nan)
        _freeze(self)

    def __len__(self) -> int:
        return len(self.id)

    def to_frame(self) -> pd.DataFrame:
        """Return the table as a DataFrame (one row per tutor, canonical order)."""
        return pd.DataFrame(
            {
                "tutor_id": self.id,
                "name": self.name,
                "role": self.role,
                "lon": self.lon,
                "lat": self.lat,
                "capacity": self.capacity,
                "min_load": self.min_load,
                "wave": self.wave,
                "remote_ok": self.remote_ok,
                "max_km": self.max_km,
                "home_uai": self.home_uai,
                "vehicle_cv": self.vehicle_cv,
                "cia_eur": self.cia_eur,
                "prior_service_km": self.prior_service_km,
                "commune": self.commune,
                "status": np.where(self.is_candidate, "candidate", "retained").astype(object),
                "fixed_cost_eur": self.fixed_cost_eur,
            }
        )

    @classmethod
    def from_source(
        cls,
        source: TableSource,
        *,
        id_column: str,
        establishments: EstablishmentTable,
        gazetteer: pd.DataFrame,
        roles: Mapping[str, frozenset[str]],
        default_capacity: int,
        locate: bool = True,
    ) -> TutorTable:
        """Validate a user's tutors table (see :meth:`Problem.from_frames`).

        Parameters
        ----------
        source : TableSource
            The table and how to name its rows.
        id_column : str
            The user's name of the tutor id column.
        establishments : EstablishmentTable
            The validated establishments, to locate tutors by ``home_uai``.
        gazetteer : pandas.DataFrame
            Communes indexed by INSEE code, with ``lon`` and ``lat``.
        roles : mapping
            Known roles (keys) and the help they give.
        default_capacity : int
            Capacity of a tutor whose ``capacity`` is blank.
        locate : bool, default True
            Read and check the locations; ``False`` leaves them at ``nan``.

        Returns
        -------
        TutorTable

        Raises
        ------
        InputError
            Naming the table, column and rows of the first problem found.
        """
        if _is_blank_table(source.frame):
            return cls._empty()
        reader = _reader(source, "tutor_id", id_column, TUTOR_FIELDS)
        ids = _check_ids(reader, "tutor_id", "tutor")
        reader.set_ids(ids)
        role = reader.choice("role", {r.lower(): r for r in roles}, what="the tutor's function")
        home_uai = np.array([u.upper() for u in reader.text("home_uai")], dtype=object)
        _check_uai(reader, "home_uai", home_uai, allow_blank=True)
        home = _home_index(home_uai, establishments)
        if locate:
            _require_location_columns(reader, source, ("home_uai",))
            lon, lat, how = _locate(reader, source, gazetteer)
            by_home = (how == "") & (home >= 0)
            lon[by_home] = establishments.lon[home[by_home]]
            lat[by_home] = establishments.lat[home[by_home]]
            _check_tutor_located(reader, (how == "") & ~by_home, home_uai)
        else:
            lon, lat = np.full(len(ids), np.nan), np.full(len(ids), np.nan)
        capacity = reader.ranged("capacity", default=default_capacity).astype(np.int64)
        min_load = reader.ranged("min_load", default=0).astype(np.int64)
        over = min_load > capacity
        if over.any():
            raise reader.fail("min_load", over, "must not exceed the tutor's capacity")
        wave, wave_is_date = read_waves(reader)
        _check_same_wave_kind(reader, wave, wave_is_date, establishments)
        columns = dict(
            id=ids,
            name=reader.text("name"),
            role=role,
            lon=lon,
            lat=lat,
            capacity=capacity,
            min_load=min_load,
            wave=wave,
            remote_ok=reader.boolean("remote_ok", default=True),
            max_km=reader.ranged("max_km", default=np.inf),
            home_uai=home_uai,
            home=home,
            vehicle_cv=reader.ranged("vehicle_cv"),
            cia_eur=reader.ranged("cia_eur"),
            source_row=_labels(source.frame.index),
            prior_service_km=reader.ranged("prior_service_km", default=0.0),
            commune=reader.text("commune"),
            **_recruitment(reader),
        )
        order = np.argsort(ids.astype(str), kind="stable")
        arrays = {k: np.asarray(v)[order] for k, v in columns.items()}
        return cls(**arrays, extra=_extra(reader, order), columns=reader.report(), wave_is_date=wave_is_date)

    @classmethod
    def _empty(cls) -> TutorTable:
        o = np.empty(0, dtype=object)
        f = np.empty(0, dtype=np.float64)
        i = np.empty(0, dtype=np.int64)
        b = np.empty(0, dtype=bool)
        return cls(
            o, o.copy(), o.copy(), f, f.copy(), i, i.copy(), f.copy(), b, f.copy(),
            o.copy(), i.copy(), f.copy(), f.copy(), o.copy(), pd.DataFrame(), f.copy(), o.copy(),
        )  # fmt: skip


_WAVE_FORMATS = (
    f"a month (YYYY-MM, MM/YYYY or 'janvier 2025', years {FIRST_YEAR} to {LAST_YEAR}) "
    "or a whole number from 0 to 999,999"
)


def read_waves(reader: ColumnReader) -> tuple[FloatArray, bool]:
    """Read the ``wave`` column: numbers, or months stored as months since year 0.

    Returns
    -------
    wave : ndarray of float
        ``nan`` where blank.
    is_date : bool
        Whether the waves are months (all of them: a column mixing months
        and numbers is refused).
    """
    if not reader.has("wave"):
        return np.full(len(reader), np.nan), False
    kinds, months = parse_wave_column(reader._raw("wave"))
    bad = kinds == "bad"
    if bad.any():
        raise reader.fail("wave", bad, f"must be {_WAVE_FORMATS}")
    dates, numbers = kinds == "date", kinds == "number"
    if dates.any() and numbers.any():
        raise reader.fail(
            "wave",
            numbers,
            "mixes months (e.g. 2025-01) and wave numbers; it must hold one kind",
            "Write every wave as a month (YYYY-MM), or every wave as a number.",
        )
    if dates.any():
        return months, True
    return reader.ranged("wave"), False


def _check_same_wave_kind(
    reader: ColumnReader, wave: FloatArray, is_date: bool, establishments: EstablishmentTable
) -> None:
    """Refuse tutors' waves as numbers against establishments' as months, or the reverse."""
    known = ~np.isnan(wave)
    if not known.any() or not len(establishments) or np.isnan(establishments.wave).all():
        return
    if is_date != establishments.wave_is_date:
        mine, theirs = ("months", "numbers") if is_date else ("numbers", "months")
        raise reader.fail(
            "wave",
            known,
            f"gives waves as {mine} but the establishments give them as {theirs}; "
            "both tables must use one kind",
            "Write every wave as a month (YYYY-MM) in both tables, or as a number in both.",
        )


def _recruitment(reader: ColumnReader) -> dict[str, npt.NDArray[Any]]:
    """Read columns ``status`` (retained or candidate) and ``fixed_cost_eur``."""
    status = reader.choice(
        "status", {"retained": "retained", "candidate": "candidate"}, what="retained by default"
    )
    is_candidate = status == "candidate"
    fixed = reader.ranged("fixed_cost_eur")
    wrong = ~is_candidate & ~np.isnan(fixed)
    if wrong.any():
        raise reader.fail(
            "fixed_cost_eur",
            wrong,
            "must be empty for retained tutors (only candidates pay a recruitment cost)",
            "Empty these cells, or set status to candidate.",
        )
    return {"is_candidate": is_candidate, "fixed_cost_eur": fixed}


def _home_index(home_uai: ObjArray, establishments: EstablishmentTable) -> IntArray:
    """Return the row of each tutor's own establishment, -1 when absent."""
    if not len(establishments) or not len(home_uai):
        return np.full(len(home_uai), -1, dtype=np.int64)
    return np.asarray(pd.Index(establishments.id).get_indexer(pd.Index(home_uai)), dtype=np.int64)


def _check_tutor_located(reader: ColumnReader, missing: BoolArray, home_uai: ObjArray) -> None:
    unknown_home = missing & (home_uai != "")
    if unknown_home.any():
        raise reader.fail(
            "home_uai",
            unknown_home,
            "must name an establishment of the establishments table when it is the tutor's only location",
            "Add these establishments to the establishments table, or give lon and lat "
            "or an INSEE code for these tutors.",
        )
    if missing.any():
        raise reader.fail_rows(
            missing,
            "no location (neither lon/lat, an INSEE code nor a known home_uai)",
            "Give lon and lat (WGS84 degrees), an INSEE commune code in column "
            "'insee', or the UAI of the tutor's own establishment in 'home_uai' "
            "when that establishment is in the establishments table.",
        )
