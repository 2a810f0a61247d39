"""Great-circle distances on the WGS84 mean sphere, vectorised."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = [
    "EARTH_RADIUS_KM",
    "chord_for_km",
    "chord_to_km",
    "chords_for_km",
    "flatten_hits",
    "haversine_km",
    "unit_vectors",
]

#: IUGG mean Earth radius (R1) of the WGS84 ellipsoid, in km. The sphere is
#: within 0.5 % of geodesic distances everywhere, far below the spread between
#: a straight line and a road.
EARTH_RADIUS_KM = 6371.0088

FloatArray = npt.NDArray[np.float64]


def haversine_km(
    lon1: npt.ArrayLike, lat1: npt.ArrayLike, lon2: npt.ArrayLike, lat2: npt.ArrayLike
) -> FloatArray:
    """Return great-circle distances in km between points given in degrees.

    Parameters
    ----------
    lon1, lat1, lon2, lat2 : array_like
        WGS84 longitudes and latitudes in degrees; broadcast together.

    Returns
    -------
    numpy.ndarray
        Distances in km on a sphere of radius :data:`EARTH_RADIUS_KM`.

    Examples
    --------
    >>> round(float(haversine_km(5.36943, 43.2976, 4.80559, 43.94929)), 1)  # Marseille-Avignon
    85.5
    """
    lon1r, lat1r, lon2r, lat2r = (
        np.radians(np.asarray(a, dtype=np.float64)) for a in (lon1, lat1, lon2, lat2)
    )
    h = (
        np.sin((lat2r - lat1r) / 2.0) ** 2
        + np.cos(lat1r) * np.cos(lat2r) * np.sin((lon2r - lon1r) / 2.0) ** 2
    )
    # Rounding can push h a hair above 1 for antipodal points.
    return np.asarray(2.0 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0))), dtype=np.float64)


def unit_vectors(lon: npt.ArrayLike, lat: npt.ArrayLike) -> FloatArray:
    """Return points as 3-D unit vectors, where Euclidean order is great-circle order."""
    lonr = np.radians(np.asarray(lon, dtype=np.float64))
    latr = np.radians(np.asarray(lat, dtype=np.float64))
    cos_lat = np.cos(latr)
    return np.column_stack((cos_lat * np.cos(lonr), cos_lat * np.sin(lonr), np.sin(latr)))


def chord_for_km(distance_km: float) -> float:
    """Return the chord length on the unit sphere of a great-circle distance."""
    return float(chords_for_km(np.asarray([distance_km]))[0])


def chords_for_km(distance_km: npt.ArrayLike) -> FloatArray:
    """Return chord lengths on the unit sphere of great-circle distances (inf: the diameter)."""
    angle = np.minimum(np.asarray(distance_km, dtype=np.float64) / EARTH_RADIUS_KM, np.pi)
    return np.asarray(2.0 * np.sin(angle / 2.0), dtype=np.float64)


def flatten_hits(hits: npt.NDArray[np.object_]) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Flatten a KD-tree ball query's lists: (point index of each hit, hit index)."""
    import itertools

    counts = np.fromiter(map(len, hits), dtype=np.int64, count=len(hits))
    found = np.fromiter(itertools.chain.from_iterable(hits), dtype=np.int64, count=int(counts.sum()))
    return np.repeat(np.arange(len(hits), dtype=np.int64), counts), found


def chord_to_km(chord: npt.ArrayLike) -> FloatArray:
    """Return the great-circle km of chord lengths between unit vectors.

    The same distance as :func:`haversine_km` (to rounding, about 1e-12
    relative), computed from what a KD-tree query already returns.
    """
    half = np.clip(np.asarray(chord, dtype=np.float64) / 2.0, 0.0, 1.0)
    return 2.0 * EARTH_RADIUS_KM * np.arcsin(half)
