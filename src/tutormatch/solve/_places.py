"""Node numbering of a matching on tutors' places, shared by the matching searches.

A tutor with capacity :math:`k` is :math:`k` *places*; a matching of
establishments to places is a plan with each tutor's load at most its
capacity. Nodes: the open establishments first, then every tutor's places in
tutor order (then whatever the caller adds: dummies, ...).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["PlaceNodes"]

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class PlaceNodes:
    """Establishment and place nodes of one matching."""

    estab: IntArray
    """Establishment of each establishment node (nodes ``0 .. n_est - 1``)."""
    e_node: IntArray
    """Node of each establishment of the network (-1: not open)."""
    first_place: IntArray
    """Node of each tutor's first place (its places follow it)."""
    owner: IntArray
    """Tutor of each place (node ``n_est + i`` is place ``i``)."""

    @classmethod
    def build(cls, open_establishments: npt.NDArray[np.bool_], places: IntArray) -> PlaceNodes:
        """Return the nodes: the open establishments, then ``places[t]`` places for each tutor ``t``."""
        estab = np.flatnonzero(open_establishments).astype(np.int64)
        e_node = np.full(len(open_establishments), -1, dtype=np.int64)
        e_node[estab] = np.arange(len(estab))
        first_place = len(estab) + np.concatenate(([0], np.cumsum(places)[:-1])).astype(np.int64)
        owner = np.repeat(np.arange(len(places), dtype=np.int64), places)
        return cls(estab=estab, e_node=e_node, first_place=first_place, owner=owner)

    @property
    def n_est(self) -> int:
        """Number of establishment nodes."""
        return len(self.estab)

    @property
    def n_places(self) -> int:
        """Number of place nodes."""
        return len(self.owner)

    def pair_edges(
        self, places: IntArray, tutor: IntArray, establishment: IntArray, weight: list[int]
    ) -> list[tuple[int, int, int]]:
        """Return one edge per place of each pair's tutor to the pair's establishment, with its weight."""
        edges: list[tuple[int, int, int]] = []
        for place in range(int(places.max(initial=0))):
            has = np.flatnonzero(places[tutor] > place)
            a = (self.first_place[tutor[has]] + place).tolist()
            b = self.e_node[establishment[has]].tolist()
            edges.extend(zip(a, b, [weight[i] for i in has.tolist()], strict=True))
        return edges

    def pair_key(self, u: int, v: int, n_establishments: int) -> int:
        """Return ``tutor * n_establishments + establishment`` of a matched edge ``u < n_est <= v``."""
        return int(self.owner[v - self.n_est]) * max(n_establishments, 1) + int(self.estab[u])
