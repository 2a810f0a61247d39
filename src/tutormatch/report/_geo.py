"""The plan as geographic layers: pairs as lines, establishments and tutors as points."""

from __future__ import annotations

import functools
import gzip
import json
from importlib import resources
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from tutormatch.errors import InputError
from tutormatch.report._options import ReportOptions
from tutormatch.report._pairs import pair_frame, wave_column
from tutormatch.report._pseudonyms import Pseudonyms, make_pseudonyms

if TYPE_CHECKING:
    import geopandas as gpd

    from tutormatch.solve._assignment import Assignment

__all__ = [
    "background_outlines",
    "departement_outlines",
    "establishment_points",
    "has_coordinates",
    "outlines_lonlat",
    "pair_lines",
    "plan_bounds",
    "tutor_points",
]

_CRS = "EPSG:4326"
_OUTLINES = "departements_fr.geojson.gz"
#: Margin around the plan's points within which shipped outlines are drawn (degrees).
_MARGIN_DEGREES = 0.5


def has_coordinates(plan: Assignment) -> bool:
    """Tell whether every tutor and establishment has lon/lat (not a matrix-only problem)."""
    p = plan.problem
    arrays = (p.tutors.lon, p.tutors.lat, p.establishments.lon, p.establishments.lat)
    return all(bool(np.isfinite(a).all()) for a in arrays)


def _require_coordinates(plan: Assignment) -> None:
    if not has_coordinates(plan):
        raise InputError(
            "the problem has no coordinates for every tutor and establishment (it was built "
            "from a distance matrix): there is nothing to map. Build it with "
            "Problem.from_frames to map it."
        )


def _pseudonyms(plan: Assignment, options: ReportOptions, pseudonyms: Pseudonyms | None) -> Pseudonyms | None:
    if pseudonyms is not None or not options.pseudonymise:
        return pseudonyms
    t = plan.problem.tutors
    return make_pseudonyms(t.id.tolist(), t.name.tolist(), key=options.pseudonym_key)


def pair_lines(
    plan: Assignment, *, options: ReportOptions | None = None, pseudonyms: Pseudonyms | None = None
) -> gpd.GeoDataFrame:
    """Return the plan's pairs as lines from the tutor to the establishment, in WGS84.

    Parameters
    ----------
    plan : Assignment
    options : ReportOptions, optional
        ``detour_factor`` for road km; with ``pseudonymise=True`` tutor ids
        are replaced by pseudonyms and names left out.
    pseudonyms : Pseudonyms, optional
        Internal: the pseudonyms of a whole report, so that every file agrees.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per pair (on-site and remote), by UAI: ``uai,
        establishment_name, departement, wave, tutor_id, tutor_name, mode,
        great_circle_km, road_km, yearly_km`` and a LineString geometry,
        CRS EPSG:4326.

    Raises
    ------
    InputError
        If the problem has no coordinates (built from a distance matrix).

    Examples
    --------
    >>> import tutormatch as tm
    >>> lines = tm.report.pair_lines(tm.solve(tm.example_problem()))
    >>> lines.geom_type.unique().tolist(), str(lines.crs)
    (['LineString'], 'EPSG:4326')
    """
    import geopandas as gpd
    import shapely

    options = options or ReportOptions.for_plan(plan)
    _require_coordinates(plan)
    pseudonyms = _pseudonyms(plan, options, pseudonyms)
    p = plan.problem
    pairs = pair_frame(plan, options)
    t = pairs["tutor_row"].to_numpy()
    e = pairs["establishment_row"].to_numpy()
    coords = np.stack(
        [
            np.column_stack([p.tutors.lon[t], p.tutors.lat[t]]),
            np.column_stack([p.establishments.lon[e], p.establishments.lat[e]]),
        ],
        axis=1,
    )
    geometry = shapely.linestrings(coords) if len(pairs) else []
    columns = [
        "uai", "establishment_name", "departement", "wave", "tutor_id", "tutor_name", "mode",
        "great_circle_km", "road_km", "yearly_km",
    ]  # fmt: skip
    frame = pairs[columns].copy()
    if pseudonyms is not None:
        frame["tutor_id"] = [pseudonyms(x) for x in frame["tutor_id"]]
        frame = frame.drop(columns="tutor_name")
    return gpd.GeoDataFrame(frame, geometry=geometry, crs=_CRS)


def establishment_points(plan: Assignment) -> gpd.GeoDataFrame:
    """Return every establishment as a point with its status (``onsite``, ``remote``, ``uncovered``)."""
    import geopandas as gpd

    _require_coordinates(plan)
    est = plan.problem.establishments
    status = np.full(len(est), "uncovered", dtype=object)
    status[plan.establishment] = np.where(plan.onsite, "onsite", "remote")
    frame = pd.DataFrame(
        {
            "uai": pd.Series(est.id, dtype=object),
            "establishment_name": pd.Series(est.name, dtype=object),
            "departement": pd.Series(est.departement, dtype=object),
            "wave": wave_column(est.wave, is_date=est.wave_is_date),
            "kind": pd.Series(est.kind, dtype=object),
            "priority": est.priority,
            "status": pd.Series(status, dtype=object),
        }
    )
    return gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(est.lon, est.lat), crs=_CRS)


def tutor_points(plan: Assignment, *, pseudonyms: Pseudonyms | None = None) -> gpd.GeoDataFrame:
    """Return every tutor as a point (résidence administrative) with their load."""
    import geopandas as gpd

    _require_coordinates(plan)
    t = plan.problem.tutors
    ids: Any = t.id if pseudonyms is None else np.array([pseudonyms(x) for x in t.id], dtype=object)
    frame = pd.DataFrame(
        {
            "tutor_id": pd.Series(ids, dtype=object),
            "capacity": t.capacity,
            "load": plan.loads,
        }
    )
    if pseudonyms is None:
        frame.insert(1, "tutor_name", pd.Series(t.name, dtype=object))
    else:
        # The order of the rows must not give the real ids away.
        frame = frame.assign(_lon=t.lon, _lat=t.lat).sort_values("tutor_id").reset_index(drop=True)
        return gpd.GeoDataFrame(
            frame.drop(columns=["_lon", "_lat"]),
            geometry=gpd.points_from_xy(frame["_lon"], frame["_lat"]),
            crs=_CRS,
        )
    return gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(t.lon, t.lat), crs=_CRS)


def outlines_lonlat(outlines: Any) -> gpd.GeoSeries | None:
    """Return the user's département outlines in WGS84, or ``None`` when not given.

    Raises
    ------
    CRSError
        If the outlines have no CRS.
    InputError
        If ``outlines`` is not a GeoDataFrame or GeoSeries.
    """
    if outlines is None:
        return None
    import geopandas as gpd

    from tutormatch.errors import CRSError

    if not isinstance(outlines, gpd.GeoDataFrame | gpd.GeoSeries):
        raise InputError(
            f"outlines: expected a GeoDataFrame of département polygons; got {type(outlines).__name__}. "
            "Read them with geopandas.read_file.",
            table="outlines",
        )
    if outlines.crs is None:
        raise CRSError(
            "outlines: the GeoDataFrame has no CRS. Set it with `set_crs` (e.g. 'EPSG:2154' for "
            "Lambert-93, 'EPSG:4326' for lon/lat).",
            table="outlines",
            column="geometry",
        )
    geometry = outlines.geometry if isinstance(outlines, gpd.GeoDataFrame) else outlines
    return geometry.to_crs(_CRS)


@functools.cache
def _shipped_outlines() -> gpd.GeoDataFrame:
    import geopandas as gpd

    raw = resources.files("tutormatch").joinpath("data", _OUTLINES).read_bytes()
    features = json.loads(gzip.decompress(raw))["features"]
    return gpd.GeoDataFrame.from_features(features, crs=_CRS)


def departement_outlines() -> gpd.GeoDataFrame:
    """Return the outlines of the 101 French départements shipped with tutormatch.

    IGN / INSEE public data (Licence Ouverte / Etalab 2.0), simplified to
    about 500 m for map backgrounds: see ``docs/data.md``.

    Returns
    -------
    geopandas.GeoDataFrame
        ``departement_code``, ``name`` and a (Multi)Polygon, EPSG:4326.

    Examples
    --------
    >>> outlines = departement_outlines()
    >>> len(outlines), outlines.loc[outlines["departement_code"] == "13", "name"].item()
    (101, 'Bouches-du-Rhône')
    """
    return _shipped_outlines().copy()


def plan_bounds(plan: Assignment) -> tuple[float, float, float, float]:
    """Return the lon/lat box of the plan's tutors and establishments: ``(west, south, east, north)``."""
    p = plan.problem
    lon = np.concatenate([p.tutors.lon, p.establishments.lon])
    lat = np.concatenate([p.tutors.lat, p.establishments.lat])
    return float(np.min(lon)), float(np.min(lat)), float(np.max(lon)), float(np.max(lat))


def background_outlines(plan: Assignment, outlines: Any) -> tuple[gpd.GeoDataFrame, bool]:
    """Return the outlines a map draws and whether they are the shipped ones.

    The user's ``outlines`` (any CRS) when given, else the shipped
    départements around the plan's points.
    """
    import geopandas as gpd
    import shapely

    if outlines is not None:
        return gpd.GeoDataFrame(geometry=outlines_lonlat(outlines)), False
    west, south, east, north = plan_bounds(plan)
    m = _MARGIN_DEGREES
    shipped = _shipped_outlines()
    near = shipped.iloc[shipped.sindex.query(shapely.box(west - m, south - m, east + m, north + m))]
    return near.sort_values("departement_code").reset_index(drop=True), True
