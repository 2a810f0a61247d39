"""Candidate (tutor, establishment) pairs from a spatial index.

Never a dense loop over all pairs: both functions build a KD-tree on 3-D unit
vectors (where straight-line order is great-circle order), query it, then
compute exact great-circle distances on the pairs found only.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from tutormatch.geo._distance import chord_for_km, chord_to_km, haversine_km, unit_vectors

__all__ = ["k_nearest_pairs", "pairs_within_km"]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

# The chord query is widened by this relative margin so that rounding in the
# unit-vector arithmetic never drops a pair exactly at the limit; the exact
# haversine filter that follows decides.
_CHORD_MARGIN = 1e-9


def _sorted(
    tutor: IntArray, establishment: IntArray, distance: FloatArray, n_tutors: int
) -> tuple[IntArray, IntArray, FloatArray]:
    # One integer key sorts faster than a two-key lexsort.
    order = np.argsort(establishment * n_tutors + tutor, kind="stable")
    return tutor[order], establishment[order], distance[order]


def pairs_within_km(
    tutor_lon: FloatArray,
    tutor_lat: FloatArray,
    establishment_lon: FloatArray,
    establishment_lat: FloatArray,
    radius_km: float,
) -> tuple[IntArray, IntArray, FloatArray]:
    r"""Return every pair whose great-circle distance is at most ``radius_km``.

    Parameters
    ----------
    tutor_lon, tutor_lat, establishment_lon, establishment_lat : numpy.ndarray
        WGS84 degrees.
    radius_km : float
        The limit, inclusive.

    Returns
    -------
    tutor, establishment : numpy.ndarray of int64
        Row indices of each pair, in an order that depends only on the inputs.
    distance_km : numpy.ndarray of float64
        Great-circle km of each pair.

    Notes
    -----
    Building the trees costs :math:`O((T + E)\log(T + E))` and the query
    :math:`O(E \log T + P)` for :math:`P` pairs found, so the cost grows with
    the number of pairs within the radius, not with :math:`T \times E`.
    """
    empty = (np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.float64))
    if len(tutor_lon) == 0 or len(establishment_lon) == 0 or not radius_km >= 0:
        return empty
    from scipy.spatial import cKDTree  # imported on use: `import tutormatch` stays cheap

    chord = chord_for_km(radius_km) * (1.0 + _CHORD_MARGIN) + 1e-12
    tree_e = cKDTree(unit_vectors(establishment_lon, establishment_lat))
    tree_t = cKDTree(unit_vectors(tutor_lon, tutor_lat))
    found = tree_t.sparse_distance_matrix(tree_e, chord, output_type="ndarray")
    tutor = found["i"].astype(np.int64)
    establishment = found["j"].astype(np.int64)
    distance = chord_to_km(found["v"])
    keep = distance <= radius_km
    # The KD-tree's order is deterministic for given inputs; sorting ~1M pairs
    # would cost a quarter of a second for nothing the solvers need.
    return tutor[keep], establishment[keep], distance[keep]


def k_nearest_pairs(
    tutor_lon: FloatArray,
    tutor_lat: FloatArray,
    establishment_lon: FloatArray,
    establishment_lat: FloatArray,
    k: int,
) -> tuple[IntArray, IntArray, FloatArray]:
    r"""Return, for each establishment, its ``k`` nearest tutors.

    Returns the same arrays as :func:`pairs_within_km`. Ties at the k-th
    distance are broken by the KD-tree, deterministically for a given input
    order; callers that need exactness must prove it afterwards.

    Notes
    -----
    :math:`O((T + E)\log T + E k \log T)`.
    """
    n_t = len(tutor_lon)
    if n_t == 0 or len(establishment_lon) == 0 or k <= 0:
        return (np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.float64))
    from scipy.spatial import cKDTree

    k = min(k, n_t)
    tree_t = cKDTree(unit_vectors(tutor_lon, tutor_lat))
    _, idx = tree_t.query(unit_vectors(establishment_lon, establishment_lat), k=k)
    idx = np.asarray(idx, dtype=np.int64).reshape(len(establishment_lon), k)
    establishment = np.repeat(np.arange(len(establishment_lon), dtype=np.int64), k)
    tutor = idx.ravel()
    distance = haversine_km(
        tutor_lon[tutor], tutor_lat[tutor], establishment_lon[establishment], establishment_lat[establishment]
    )
    return _sorted(tutor, establishment, distance, n_t)
