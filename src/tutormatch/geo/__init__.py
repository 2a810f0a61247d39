"""Geography: great-circle distances, candidate pairs from a spatial index, CRS handling."""

from tutormatch.geo._candidates import k_nearest_pairs, pairs_within_km
from tutormatch.geo._distance import EARTH_RADIUS_KM, haversine_km

__all__ = ["EARTH_RADIUS_KM", "haversine_km", "k_nearest_pairs", "pairs_within_km"]


def __dir__() -> list[str]:
    return list(__all__)
