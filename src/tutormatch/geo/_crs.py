"""Coordinate reference systems: everything inside tutormatch is WGS84 lon/lat."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from tutormatch.errors import CRSError

__all__ = ["points_to_lonlat"]


def _short(crs: Any) -> str:
    try:
        epsg = crs.to_epsg()
    except Exception:
        epsg = None
    return f"EPSG:{epsg}" if epsg else str(crs.name)


def points_to_lonlat(frame: Any, table: str) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Return WGS84 lon/lat of a GeoDataFrame's point geometries.

    Any projected or geographic CRS is accepted and reprojected; a missing CRS
    is an error because guessing would place every point wrongly.

    Raises
    ------
    CRSError
        If the frame has no CRS, or a geometry is not a point.
    """
    if frame.crs is None:
        raise CRSError(
            f"{table}: the GeoDataFrame has no CRS, so its coordinates cannot be "
            "interpreted. Set it with `set_crs` (e.g. set_crs('EPSG:2154') for "
            "Lambert-93 or 'EPSG:4326' for lon/lat).",
            table=table,
            column="geometry",
        )
    geometry = frame.geometry
    if not frame.crs.equals("EPSG:4326"):
        geometry = geometry.to_crs("EPSG:4326")
    kinds = np.asarray(geometry.geom_type, dtype=object)
    bad = (kinds != "Point") & np.asarray(~geometry.is_empty & geometry.notna(), dtype=bool)
    if bad.any():
        rows = list(frame.index[bad])[:5]
        raise CRSError(
            f"{table}: column 'geometry' must hold points; found {kinds[bad][0]} in "
            f"{int(bad.sum())} rows (e.g. rows {rows}). Use `.centroid` or "
            "`.representative_point()` first.",
            table=table,
            column="geometry",
            rows=rows,
        )
    missing = np.asarray(geometry.isna() | geometry.is_empty, dtype=bool)
    lon = np.full(len(frame), np.nan)
    lat = np.full(len(frame), np.nan)
    lon[~missing] = geometry[~missing].x.to_numpy()
    lat[~missing] = geometry[~missing].y.to_numpy()
    return lon, lat


def describe_crs(crs: Any) -> str:
    """Return a short name for a CRS (``EPSG:2154``), for messages."""
    return _short(crs)
