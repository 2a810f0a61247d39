"""Split remote class loads back into (tutor, establishment) pairs.

The backends decide *which* establishments of a remote class are tutored
remotely (``z``) and *how many* each linked tutor takes (``y``), not who
tutors whom: every pair of the class costs the same. Any split is optimal as
long as it avoids the few pairs a class link does not rule out (a tutor's own
establishment, forbidden pairs, near pairs that must stay on-site). Such a
split almost always exists; when it does not, the class is reported so that
the caller re-solves with that class expanded into explicit pairs, which is
exact in every case.

A remote pair that happens to be within the tutor's on-site limit is reported
on-site: it then costs at most the remote penalty, so the plan's cost does
not increase (and stays optimal).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tutormatch.solve._network import Network

__all__ = ["RemoteSplit", "split_remote"]

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class RemoteSplit:
    """Pairs made from the class loads, or the classes that could not be split."""

    tutor: IntArray
    establishment: IntArray
    failed_classes: frozenset[int]


def _split_class(
    members: IntArray, tutors: IntArray, slots: IntArray, bad: set[tuple[int, int]]
) -> IntArray | None:
    """Give each member a tutor, tutor i at most slots[i] times; None if impossible."""
    remaining = slots.copy()
    out = np.full(len(members), -1, dtype=np.int64)
    bad_count: dict[int, int] = {}
    for _, m in bad:
        bad_count[m] = bad_count.get(m, 0) + 1
    hard = [i for i, m in enumerate(members.tolist()) if m in bad_count]
    # Members with a forbidden tutor first, most constrained first; each takes
    # the allowed tutor with most room left (lowest index on ties).
    hard.sort(key=lambda i: (-bad_count[int(members[i])], int(members[i])))
    for i in hard:
        m = int(members[i])
        for j in np.lexsort((tutors, -remaining)).tolist():
            if remaining[j] == 0:
                return _match_class(members, tutors, slots, bad)
            if (int(tutors[j]), m) not in bad:
                out[i] = tutors[j]
                remaining[j] -= 1
                break
        else:
            return _match_class(members, tutors, slots, bad)
    # The others have no forbidden tutor: hand out the remaining slots in order.
    free = out < 0
    out[free] = np.repeat(tutors, remaining)[: int(free.sum())]
    return out


def _match_class(
    members: IntArray, tutors: IntArray, slots: IntArray, bad: set[tuple[int, int]]
) -> IntArray | None:
    """Exact split by bipartite matching on slot-expanded tutors (rarely needed)."""
    import scipy.sparse as sp
    from scipy.sparse.csgraph import maximum_bipartite_matching

    slot_tutor = np.repeat(tutors, slots)
    rows, cols = [], []
    for i, m in enumerate(members.tolist()):
        for j, t in enumerate(slot_tutor.tolist()):
            if (t, m) not in bad:
                rows.append(i)
                cols.append(j)
    graph = sp.csr_array(
        (np.ones(len(rows), dtype=np.int8), (rows, cols)), shape=(len(members), len(slot_tutor))
    )
    match = maximum_bipartite_matching(graph, perm_type="column")
    if (match < 0).any():
        return None
    return np.asarray(slot_tutor[match], dtype=np.int64)


def split_remote(network: Network, z: npt.NDArray[np.bool_], y: IntArray) -> RemoteSplit:
    """Turn class-level remote decisions into pairs.

    Parameters
    ----------
    network : Network
    z : ndarray of bool, per establishment
        Tutored remotely through its class.
    y : ndarray of int, per link
        Remote load of the link's tutor from the link's class.
    """
    n_e = network.n_establishments
    bad_keys = network.bad_remote_keys
    out_t: list[IntArray] = []
    out_e: list[IntArray] = []
    failed: set[int] = set()
    remote = np.flatnonzero(z)
    classes = network.remote_class[remote]
    for c in np.unique(classes).tolist():
        members = remote[classes == c]
        links = np.flatnonzero((network.link_class == c) & (y > 0))
        tutors, slots = network.link_tutor[links], y[links].astype(np.int64)
        # Only the bad pairs that can occur in this class matter.
        bad_t, bad_e = bad_keys // max(n_e, 1), bad_keys % max(n_e, 1)
        hit = np.isin(bad_t, tutors) & np.isin(bad_e, members)
        bad = set(zip(bad_t[hit].tolist(), bad_e[hit].tolist(), strict=True))
        chosen = _split_class(members, tutors, slots, bad)
        if chosen is None:
            failed.add(int(c))
            continue
        out_t.append(chosen)
        out_e.append(members.astype(np.int64))
    empty = np.empty(0, dtype=np.int64)
    return RemoteSplit(
        tutor=np.concatenate(out_t) if out_t else empty,
        establishment=np.concatenate(out_e) if out_e else empty,
        failed_classes=frozenset(failed),
    )
