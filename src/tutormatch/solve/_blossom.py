r"""Maximum-weight matching in a general graph, warm-started, with its dual certificate.

Notes
-----
Edmonds' primal-dual blossom algorithm, in the formulation of Joris van
Rantwijk's ``mwmatching.py`` as adapted in networkx's
``max_weight_matching`` (networkx: BSD-3-Clause, Copyright (C) 2004-2024,
NetworkX Developers; the labelling, blossom and augmentation routines below
are derived from it), with changes that fit the all-or-nothing gadget of
:mod:`tutormatch.solve._matching`:

- **Warm start.** It starts from any matching and any vertex duals that are
  feasible (:math:`u \ge 0`, :math:`u_a + u_b \ge w_{ab}` on every edge) and
  tight on the matched edges, with no blossom. The flow relaxation gives one:
  its pairs and its optimal potentials; only its partly loaded tutors leave
  an exposed vertex of positive dual. A stage grows alternating trees from
  those vertices only; exposed vertices of zero dual are free ends (reaching
  one augments), and an S-vertex whose dual falls to zero takes the root's
  place as the exposed one (the path between them flips). Each stage ends
  with one fewer exposed vertex of positive dual, so the work is a few
  stages, not one per vertex as from scratch.
- **Vectorised bookkeeping.** A scanned vertex's tight edges and
  least-slack keys come from numpy over its adjacency; the dual step is the
  least key (keys never overstate a slack and the least one is recomputed
  exactly before it decides), in place of the original's per-edge Python
  loops and least-slack edge lists. Duals are lazy (a vertex's dual is its
  value when its label last changed plus its sign times the steps since),
  so a dual step moves no array.
- **Trees persist.** An augmentation dissolves only the trees it went
  through (their vertices free, their S-blossoms of zero dual expanded);
  the others keep growing, where the original restarts every tree.
- **The dual is returned** (vertex duals and the blossoms with their
  duals), and :func:`certify` checks it, independently of the algorithm,
  on a possibly larger edge set: feasibility on every edge and a dual
  objective equal to the matching's weight prove the matching maximum by
  weak duality. Nothing is reported optimal without that check.

Weights are integers; as in the original, ``dual`` holds :math:`2u` and a
blossom's dual :math:`z` is such that an edge inside blossoms has slack
:math:`2u_a + 2u_b + 2\sum z - 2w`, so every quantity stays an integer.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Iterator

import numpy as np
import numpy.typing as npt

__all__ = ["BlossomDual", "StuckError", "certify", "max_weight_matching"]

IntArray = npt.NDArray[np.int64]


@dataclasses.dataclass(frozen=True)
class BlossomDual:
    """A matching and its dual: ``dual`` is :math:`2u` per vertex; ``blossoms`` (leaves, :math:`z`)."""

    mate: IntArray
    dual: IntArray
    blossoms: tuple[tuple[IntArray, int], ...]
    stages: int


_INF = np.iinfo(np.int64).max // 4


class StuckError(RuntimeError):
    """The search met a state the algorithm cannot be in (a bug or a bad start)."""


def max_weight_matching(
    n: int,
    a: IntArray,
    b: IntArray,
    w: IntArray,
    mate: IntArray,
    dual: IntArray,
    deadline: float = math.inf,
) -> BlossomDual | None:
    r"""Return a maximum-weight matching of the graph ``(a, b, w)``, from a warm start.

    Parameters
    ----------
    n : int
        Number of vertices.
    a, b, w : ndarray of int
        Edges (no loops, no duplicates) and their integer weights.
    mate : ndarray of int
        A starting matching (``-1``: exposed), every matched edge tight.
    dual : ndarray of int
        Doubled vertex duals :math:`2u \ge 0`, feasible on every edge.
    deadline : float
        ``time.perf_counter()`` value after which no new stage starts.

    Returns
    -------
    BlossomDual or None
        The matching and its dual (check it with :func:`certify`); None if
        the deadline came first.

    Raises
    ------
    ValueError
        If the start is not dual feasible or a matched edge is not tight.
    """
    return _Search(n, a, b, w, mate, dual).run(deadline)


class _Search:
    def __init__(self, n: int, a: IntArray, b: IntArray, w: IntArray, mate: IntArray, dual: IntArray) -> None:
        a, b, w = np.asarray(a, np.int64), np.asarray(b, np.int64), np.asarray(w, np.int64)
        self.n = n
        ew2 = 2 * w
        # Adjacency (both directions), for scanning one vertex: a CSR array
        # sorts the edges by a counting pass.
        import scipy.sparse as sp

        adjacency = sp.csr_array(
            (np.concatenate((ew2, ew2)), (np.concatenate((a, b)), np.concatenate((b, a)))),
            shape=(n, n),
        )
        self.adj = adjacency.indices.astype(np.int64)
        self.adj_w2 = adjacency.data.astype(np.int64)
        self.indptr = adjacency.indptr.astype(np.int64)
        if len(self.adj) != 2 * len(a):
            raise ValueError("the graph has a repeated edge")
        self.mate = np.array(mate, dtype=np.int64)
        self.dual = np.array(dual, dtype=np.int64)
        if len(a) and (self.dual.min(initial=0) < 0 or (self.dual[a] + self.dual[b] - ew2 < 0).any()):
            raise ValueError("the starting duals are not feasible")
        matched = self.mate[a] == b
        if (self.dual[a[matched]] + self.dual[b[matched]] - ew2[matched] != 0).any():
            raise ValueError("a matched edge of the start is not tight")
        if ((self.mate >= 0) & (self.mate[np.maximum(self.mate, 0)] != np.arange(n))).any():
            raise ValueError("the starting matching is not symmetric")
        size = 2 * n
        self.inblossom = np.arange(n, dtype=np.int64)
        self.parent = np.full(size, -1, dtype=np.int64)
        self.base = np.concatenate((np.arange(n), np.full(n, -1))).astype(np.int64)
        self.z = np.zeros(size, dtype=np.int64)
        self.childs: list[list[int]] = [[] for _ in range(size)]
        self.leafs: list[IntArray] = [np.array([v], dtype=np.int64) for v in range(n)] + [
            np.empty(0, dtype=np.int64) for _ in range(n)
        ]
        self.edges: list[list[tuple[int, int]]] = [[] for _ in range(size)]
        self.label = np.zeros(size, dtype=np.int64)
        self.tree = np.full(size, -1, dtype=np.int64)  # root of a labelled top-level blossom's tree
        self.hit: list[int] = []  # trees that the last augmentation went through
        self.labeledge: list[tuple[int, int] | None] = [None] * size
        self.free_ids = list(range(size - 1, n - 1, -1))
        self.queue: list[int] = []
        # Lazy duals: a vertex's dual is dval + sign * (moved - since), sign
        # -1 in an S-blossom, +1 in a T-blossom, 0 when free (sync() keeps
        # it so whenever a label changes), so a dual step costs nothing.
        self.dval = self.dual
        self.sign = np.zeros(n, dtype=np.int64)
        self.since = np.zeros(n, dtype=np.int64)
        self.s_key = np.full(n, _INF, dtype=np.int64)  # dval + since of S-vertices: least dual + moved
        self.moved = 0  # sum of this stage's dual steps
        self.key2 = np.full(n, _INF, dtype=np.int64)
        self.arg2 = np.full(n, -1, dtype=np.int64)
        self.key3 = np.full(n, _INF, dtype=np.int64)

    # -- helpers -------------------------------------------------------------

    def leaves(self, b: int) -> IntArray:
        return self.leafs[b]

    def duals(self, vertices: IntArray | int) -> IntArray:
        """Return the current doubled duals of ``vertices``."""
        return self.dval[vertices] + self.sign[vertices] * (self.moved - self.since[vertices])

    def tight(self, u: int, v: int) -> bool:
        """Whether the edge ``(u, v)`` has no slack now (``u`` outside ``v``'s blossom)."""
        lo, hi = self.indptr[u], self.indptr[u + 1]
        at = lo + np.flatnonzero(self.adj[lo:hi] == v)
        return len(at) == 1 and int(self.duals(u)) + int(self.duals(v)) == int(self.adj_w2[at[0]])

    def sync(self, vertices: IntArray) -> None:
        """Fold the dual steps into ``vertices``' duals and take their signs from their labels now."""
        if len(vertices) == 1:
            v = int(vertices[0])
            dual = int(self.dval[v]) + int(self.sign[v]) * (self.moved - int(self.since[v]))
            top = int(self.label[self.inblossom[v]])
            self.dval[v], self.since[v] = dual, self.moved
            self.sign[v] = -1 if top == 1 else (1 if top == 2 else 0)
            self.s_key[v] = dual + self.moved if top == 1 else _INF
            return
        self.dval[vertices] = self.duals(vertices)
        self.since[vertices] = self.moved
        lab = self.label[self.inblossom[vertices]]
        self.sign[vertices] = np.where(lab == 1, -1, np.where(lab == 2, 1, 0))
        self.s_key[vertices] = np.where(lab == 1, self.dval[vertices] + self.moved, _INF)

    def settle(self) -> None:
        """Fold every dual step in and make every vertex free (the end of a stage)."""
        self.dval = self.duals(np.arange(self.n))
        self.sign[:] = 0
        self.since[:] = 0
        self.s_key[:] = _INF
        self.moved = 0

    def assign_label(self, w: int, t: int, v: int) -> None:
        b = int(self.inblossom[w])
        if self.label[w] or self.label[b]:
            raise StuckError("labelling a labelled blossom")
        self.label[w] = self.label[b] = t
        edge = (v, w) if v >= 0 else None
        self.labeledge[w] = self.labeledge[b] = edge
        self.tree[b] = w if v < 0 else self.tree[self.inblossom[v]]
        self.sync(self.leafs[b])
        if t == 1:
            self.queue.extend(self.leafs[b].tolist())
        else:
            base = int(self.base[b])
            self.assign_label(int(self.mate[base]), 1, base)

    def scan_blossom(self, v: int, w: int) -> int:
        path: list[int] = []
        base = -1
        while v != -1:
            b = int(self.inblossom[v])
            if self.label[b] & 4:
                base = int(self.base[b])
                break
            path.append(b)
            self.label[b] = 5
            edge = self.labeledge[b]
            if edge is None:
                v = -1
            else:
                v = edge[0]
                bt = int(self.inblossom[v])
                edge_t = self.labeledge[bt]
                assert edge_t is not None
                v = edge_t[0]
            if w != -1:
                v, w = w, v
        for b in path:
            self.label[b] = 1
        return base

    def add_blossom(self, base: int, v: int, w: int) -> None:
        bb = int(self.inblossom[base])
        bv = int(self.inblossom[v])
        bw = int(self.inblossom[w])
        b = self.free_ids.pop()
        self.base[b] = base
        self.parent[b] = -1
        self.parent[bb] = b
        path: list[int] = []
        edgs: list[tuple[int, int]] = [(v, w)]
        while bv != bb:
            self.parent[bv] = b
            path.append(bv)
            edge = self.labeledge[bv]
            assert edge is not None
            edgs.append(edge)
            v = edge[0]
            bv = int(self.inblossom[v])
        path.append(bb)
        path.reverse()
        edgs.reverse()
        while bw != bb:
            self.parent[bw] = b
            path.append(bw)
            edge = self.labeledge[bw]
            assert edge is not None
            edgs.append((edge[1], edge[0]))
            w = edge[0]
            bw = int(self.inblossom[w])
        self.childs[b] = path
        self.edges[b] = edgs
        self.label[b] = 1
        self.tree[b] = self.tree[bb]
        self.labeledge[b] = self.labeledge[bb]
        self.z[b] = 0
        leafs = np.concatenate([self.leafs[c] for c in path])
        self.leafs[b] = leafs
        self.queue.extend(leafs[self.label[self.inblossom[leafs]] == 2].tolist())
        self.inblossom[leafs] = b
        self.sync(leafs)

    def expand_blossom(self, b: int, endstage: bool) -> None:
        stack = [self._expand(b, endstage)]
        while stack:
            top = stack[-1]
            for args in top:
                stack.append(self._expand(*args))
                break
            else:
                stack.pop()

    def _expand(self, b: int, endstage: bool) -> Iterator[tuple[int, bool]]:
        for s in self.childs[b]:
            self.parent[s] = -1
            if s >= self.n:
                if endstage and self.z[s] == 0:
                    yield (s, endstage)
                else:
                    self.inblossom[self.leafs[s]] = s
            else:
                self.inblossom[s] = s
        if not endstage and self.label[b] == 2:
            edge = self.labeledge[b]
            assert edge is not None
            entrychild = int(self.inblossom[edge[1]])
            childs = self.childs[b]
            j = childs.index(entrychild)
            if j & 1:
                j -= len(childs)
                jstep = 1
            else:
                jstep = -1
            v, w = edge
            while j != 0:
                q = self.edges[b][j][1] if jstep == 1 else self.edges[b][j - 1][0]
                self.label[w] = 0
                self.label[q] = 0
                self.assign_label(w, 2, v)
                j += jstep
                if jstep == 1:
                    v, w = self.edges[b][j]
                else:
                    w, v = self.edges[b][j - 1]
                j += jstep
            bw = childs[j]
            self.label[w] = self.label[bw] = 2
            self.labeledge[w] = self.labeledge[bw] = (v, w)
            self.tree[bw] = self.tree[b]
            j += jstep
            while childs[j] != entrychild:
                bv = childs[j]
                if self.label[bv] == 1:
                    j += jstep
                    continue
                reached = -1
                for leaf in self.leafs[bv][self.label[self.leafs[bv]] != 0].tolist():
                    mark = self.labeledge[leaf]
                    if mark is not None and self.label[self.inblossom[mark[0]]] == 1 and self.tight(*mark):
                        reached = leaf
                        break
                    # A mark from a tree dissolved since is no reach: erase it.
                    self.label[leaf] = 0
                    self.labeledge[leaf] = None
                if reached >= 0:
                    if self.label[reached] != 2 or self.inblossom[reached] != bv:
                        raise StuckError("expanding a T-blossom")
                    self.label[reached] = 0
                    self.label[self.mate[self.base[bv]]] = 0
                    edge_r = self.labeledge[reached]
                    assert edge_r is not None
                    self.assign_label(reached, 2, edge_r[0])
                j += jstep
        self.label[b] = 0
        self.labeledge[b] = None
        self.base[b] = -1
        self.z[b] = 0
        self.childs[b] = []
        self.edges[b] = []
        self.free_ids.append(b)
        self.leafs[b] = np.empty(0, dtype=np.int64)

    def augment_blossom(self, b: int, v: int) -> None:
        stack = [self._augment(b, v)]
        while stack:
            top = stack[-1]
            for args in top:
                stack.append(self._augment(*args))
                break
            else:
                stack.pop()

    def _augment(self, b: int, v: int) -> Iterator[tuple[int, int]]:
        t = v
        while self.parent[t] != b:
            t = int(self.parent[t])
        if t >= self.n:
            yield (t, v)
        childs = self.childs[b]
        i = j = childs.index(t)
        if i & 1:
            j -= len(childs)
            jstep = 1
        else:
            jstep = -1
        while j != 0:
            j += jstep
            t = childs[j]
            if jstep == 1:
                w, x = self.edges[b][j]
            else:
                x, w = self.edges[b][j - 1]
            if t >= self.n:
                yield (t, w)
            j += jstep
            t = childs[j]
            if t >= self.n:
                yield (t, x)
            self.mate[w] = x
            self.mate[x] = w
        self.childs[b] = childs[i:] + childs[:i]
        self.edges[b] = self.edges[b][i:] + self.edges[b][:i]
        self.base[b] = self.base[self.childs[b][0]]

    def walk(self, s: int, j: int) -> None:
        """Match ``s`` to ``j`` (-1: expose it) and flip the tree path from ``s`` to its root."""
        while True:
            bs = int(self.inblossom[s])
            if bs >= self.n:
                self.augment_blossom(bs, s)
            self.mate[s] = j
            edge = self.labeledge[bs]
            if edge is None:
                break
            t = edge[0]
            bt = int(self.inblossom[t])
            edge_t = self.labeledge[bt]
            assert edge_t is not None
            s, j = edge_t
            if bt >= self.n:
                self.augment_blossom(bt, j)
            self.mate[j] = s

    # -- the search ------------------------------------------------------------

    def scan(self, v: int) -> bool:
        """Scan an S-vertex's edges: act on the tight ones, note the least slacks; True if augmented."""
        if self.label[self.inblossom[v]] != 1:
            return False  # queued in a tree dissolved since
        lo, hi = self.indptr[v], self.indptr[v + 1]
        nbrs = self.adj[lo:hi]
        moved = self.moved
        sign = self.sign[nbrs]
        own = int(self.dval[v]) + int(self.sign[v]) * (moved - int(self.since[v]))
        slack = (own - self.adj_w2[lo:hi]) + self.dval[nbrs] + sign * (moved - self.since[nbrs])
        # Least slacks, as keys that do not move while the duals do: an edge
        # from an S-vertex to a free one loses delta a step, between two
        # S-vertices twice that (see step()).
        s_nbr = sign == -1
        key = slack + moved
        better = ~s_nbr & (key < self.key2[nbrs])
        if better.any():
            w = nbrs[better]
            self.key2[w] = key[better]
            self.arg2[w] = v
        if s_nbr.any():
            s_other = s_nbr & (self.inblossom[nbrs] != self.inblossom[v])
            if s_other.any():
                self.key3[v] = min(int(self.key3[v]), int(slack[s_other].min()) + 2 * moved)
        for w in nbrs[slack <= 0].tolist():
            bv = int(self.inblossom[v])
            bw = int(self.inblossom[w])
            if bv == bw:
                continue
            if self.label[bw] == 0:
                if self.mate[self.base[bw]] < 0:
                    # A free exposed end (zero dual): augment to it.
                    self.hit = [int(self.tree[bv])]
                    self.walk(v, w)
                    if bw >= self.n:
                        self.augment_blossom(bw, w)
                    self.mate[w] = v
                    return True
                self.assign_label(w, 2, v)
            elif self.label[bw] == 1:
                base = self.scan_blossom(v, w)
                if base >= 0:
                    self.add_blossom(base, v, w)
                else:
                    self.hit = [int(self.tree[bv]), int(self.tree[bw])]
                    self.walk(v, w)
                    self.walk(w, v)
                    return True
            elif self.label[w] == 0:
                self.label[w] = 2
                self.labeledge[w] = (v, w)
        return False

    def exact_slacks(self, u: int) -> tuple[IntArray, IntArray]:
        """Slacks of ``u``'s edges to S-vertices of other top-level blossoms, and those vertices."""
        lo, hi = self.indptr[u], self.indptr[u + 1]
        nbrs = self.adj[lo:hi]
        top = self.inblossom[nbrs]
        ok = (self.label[top] == 1) & (top != self.inblossom[u])
        return self.duals(u) + self.duals(nbrs[ok]) - self.adj_w2[lo:hi][ok], nbrs[ok]

    def refresh(self, vertices: IntArray) -> None:
        """Recompute the least-slack keys of vertices that just became free; queue their tight S-ends."""
        free = vertices[self.label[self.inblossom[vertices]] == 0]
        self.key2[free] = _INF
        if len(free) == 0:
            return
        starts = self.indptr[free]
        counts = self.indptr[free + 1] - starts
        owner = np.repeat(free, counts)
        arcs = np.arange(len(owner), dtype=np.int64) + np.repeat(starts - np.cumsum(counts) + counts, counts)
        nbrs = self.adj[arcs]
        ok = self.sign[nbrs] == -1
        owner, nbrs, arcs = owner[ok], nbrs[ok], arcs[ok]
        if len(owner) == 0:
            return
        slack = self.duals(owner) + self.duals(nbrs) - self.adj_w2[arcs]
        order = np.lexsort((slack, owner))
        first = order[np.r_[True, owner[order][1:] != owner[order][:-1]]]
        self.key2[owner[first]] = slack[first] + self.moved
        self.arg2[owner[first]] = nbrs[first]
        self.queue.extend(nbrs[first][slack[first] <= 0].tolist())

    def step(self) -> bool:
        """Change the duals by the least step; return whether the stage ended (augmented).

        The keys of :meth:`scan` never overstate a slack (a vertex that was
        in a T-blossom, an edge now inside a blossom), so the least one is
        recomputed exactly before it decides the step.
        """
        at1 = int(np.argmin(self.s_key))
        if self.s_key[at1] >= _INF:
            raise StuckError("no S-vertex left in a stage")
        key2 = np.where(self.sign == 0, self.key2, _INF)
        key3 = np.where(self.sign == -1, self.key3, _INF)
        blossoms = np.flatnonzero((self.base[self.n :] >= 0) & (self.parent[self.n :] < 0)) + self.n
        t_blossoms = blossoms[self.label[blossoms] == 2]
        while True:
            delta, kind, at = int(self.s_key[at1]) - self.moved, 1, at1
            i = int(np.argmin(key2))
            if key2[i] < _INF and key2[i] - self.moved < delta:
                delta, kind, at = int(key2[i]) - self.moved, 2, i
            i = int(np.argmin(key3))
            if key3[i] < _INF and (key3[i] - 2 * self.moved) // 2 < delta:
                delta, kind, at = (int(key3[i]) - 2 * self.moved) // 2, 3, i
            if len(t_blossoms):
                i = int(np.argmin(self.z[t_blossoms]))
                if self.z[t_blossoms[i]] < delta:
                    delta, kind, at = int(self.z[t_blossoms[i]]), 4, int(t_blossoms[i])
            if kind == 2:
                slack, nbrs = self.exact_slacks(at)
                j = int(np.argmin(slack)) if len(slack) else -1
                exact = int(slack[j]) + self.moved if j >= 0 else _INF
                if exact != key2[at]:
                    key2[at] = self.key2[at] = exact
                    continue
                self.arg2[at] = int(nbrs[j])
            elif kind == 3:
                slack, _ = self.exact_slacks(at)
                exact = int(slack.min()) + 2 * self.moved if len(slack) else _INF
                if exact != key3[at]:
                    key3[at] = self.key3[at] = exact
                    continue
                if exact % 2:
                    raise StuckError("an odd slack between two S-blossoms")
            break
        if delta < 0:
            raise StuckError("a negative dual step")
        self.z[blossoms[self.label[blossoms] == 1]] += delta
        self.z[t_blossoms] -= delta
        self.moved += delta
        if kind == 1:
            # An S-vertex's dual reached zero: it becomes the exposed one.
            self.hit = [int(self.tree[self.inblossom[at]])]
            if self.mate[at] >= 0 or self.inblossom[at] >= self.n:
                self.walk(at, -1)
            return True
        if kind == 2:
            self.queue.append(int(self.arg2[at]))
            return False
        if kind == 3:
            self.queue.append(at)
            return False
        leafs = self.leafs[at].copy()
        self.expand_blossom(at, False)
        self.sync(leafs)
        self.refresh(leafs)
        return False

    def dissolve(self, trees: list[int]) -> None:
        """Unlabel the trees an augmentation went through; the others keep growing.

        Their vertices become free (duals folded in, least-slack keys
        recomputed, tight edges to S-vertices queued), their S-blossoms of
        zero dual are expanded, as at the end of a stage of the original.
        """
        tops = np.unique(self.inblossom)
        tops = tops[(self.label[tops] != 0) & np.isin(self.tree[tops], trees)]
        if len(tops) == 0:
            return
        leafs = np.concatenate([self.leafs[b] for b in tops.tolist()])
        empty = tops[(self.label[tops] == 1) & (tops >= self.n)]
        empty = empty[self.z[empty] == 0]
        self.label[tops] = 0
        self.label[leafs] = 0
        self.tree[tops] = -1
        # Sub-blossoms too: a blossom formed in a tree keeps its parts' labels.
        stack = tops[tops >= self.n].tolist()
        while stack:
            b = stack.pop()
            self.label[b] = 0
            self.labeledge[b] = None
            stack.extend(c for c in self.childs[b] if c >= self.n)
        for b in tops.tolist():
            self.labeledge[b] = None
        for v in leafs.tolist():
            self.labeledge[v] = None
        self.sync(leafs)
        self.key3[leafs] = _INF
        for b in empty.tolist():
            self.expand_blossom(b, True)
        self.refresh(leafs)

    def run(self, deadline: float) -> BlossomDual | None:
        stages = 0
        self.label[:] = 0
        roots = np.flatnonzero((self.mate < 0) & (self.dval > 0))
        while len(roots):
            if time.perf_counter() > deadline:
                return None
            for v in roots.tolist():
                if self.label[self.inblossom[v]] == 0:
                    self.assign_label(v, 1, -1)
            while True:
                augmented = False
                while self.queue and not augmented:
                    augmented = self.scan(self.queue.pop())
                if augmented or self.step():
                    break
            stages += 1
            self.dissolve(self.hit)
            exposed = np.flatnonzero(self.mate < 0)
            roots = exposed[self.duals(exposed) > 0]
        self.settle()
        out = []
        for b in range(self.n, 2 * self.n):
            if self.base[b] >= 0 and self.z[b] > 0:
                out.append((self.leafs[b].copy(), int(self.z[b])))
        return BlossomDual(self.mate.copy(), self.dval.copy(), tuple(out), stages)


def certify(n: int, a: IntArray, b: IntArray, w: IntArray, solution: BlossomDual) -> bool:
    r"""Whether ``solution``'s dual proves its matching maximum on the edges ``(a, b, w)``.

    Checks, in integers and independently of how the solution was found:
    the matching is one (symmetric, along listed edges); every vertex dual
    and blossom dual is :math:`\ge 0`, the blossoms are nested (as a
    blossom algorithm's are); every edge has a non-negative slack
    :math:`2u_a + 2u_b + 2\sum_{B \ni a, b} z_B - 2w_{ab}`; and the dual
    objective :math:`\sum_v u_v + \sum_B z_B \lfloor |B|/2 \rfloor` equals
    the matching's weight. By weak duality of the matching polytope's
    description (degree and odd-set constraints), no matching weighs more.
    """
    a, b, w = np.asarray(a, np.int64), np.asarray(b, np.int64), np.asarray(w, np.int64)
    mate, dual = solution.mate, solution.dual
    if len(mate) != n or len(dual) != n or (dual < 0).any():
        return False
    matched = mate >= 0
    if (mate[mate[matched]] != np.flatnonzero(matched)).any():
        return False
    slack = dual[a] + dual[b] - 2 * w
    dual_objective2 = int(dual.sum())  # 2 * sum u
    for leaves, z in solution.blossoms:
        # Any node set S gives a valid x(E(S)) <= floor(|S|/2); a repeated
        # node only raises the right-hand side (a stricter check).
        if z < 0:
            return False
        dual_objective2 += 2 * z * (len(leaves) // 2)
    inside = _blossom_sums(n, solution.blossoms, a, b)
    if inside is None:
        return False
    slack += 2 * inside
    if (slack < 0).any():
        return False
    used = mate[a] == b
    if int(used.sum()) * 2 != int(matched.sum()):
        return False  # a matched pair that is not a listed edge
    return dual_objective2 == 2 * int(w[used].sum())


def _blossom_sums(
    n: int, blossoms: tuple[tuple[IntArray, int], ...], a: IntArray, b: IntArray
) -> IntArray | None:
    """Sum of the duals of the blossoms that hold both ends of each edge; None if they are not nested.

    Blossoms from the largest down: each must lie inside one class of those
    before it (all its nodes in the same smallest blossom so far), which
    makes the family laminar and gives its tree; the blossoms holding both
    ends of an edge are then the ancestors of the two ends' lowest common
    one (binary lifting, vectorised over the edges).
    """
    k = len(blossoms)
    total = np.zeros(len(a), dtype=np.int64)
    if k == 0:
        return total
    root = k  # a virtual blossom holding everything
    order = sorted(range(k), key=lambda i: -len(blossoms[i][0]))
    deep = np.full(n, root, dtype=np.int64)
    parent = np.full(k + 1, root, dtype=np.int64)
    depth = np.zeros(k + 1, dtype=np.int64)
    summed = np.zeros(k + 1, dtype=np.int64)
    for i in order:
        leaves, z = blossoms[i]
        before = deep[leaves]
        if len(before) == 0 or (before != before[0]).any():
            return None
        p = int(before[0])
        parent[i], depth[i], summed[i] = p, depth[p] + 1, summed[p] + z
        deep[leaves] = i
    x, y = deep[a], deep[b]
    both = np.flatnonzero((x != root) & (y != root))
    x, y = x[both], y[both]
    swap = depth[x] < depth[y]
    x, y = np.where(swap, y, x), np.where(swap, x, y)
    levels = max(int(depth.max()).bit_length(), 1)
    up = [parent]
    for _ in range(levels - 1):
        up.append(up[-1][up[-1]])
    diff = depth[x] - depth[y]
    for j in range(levels):
        lift = ((diff >> j) & 1).astype(bool)
        x[lift] = up[j][x[lift]]
    for j in range(levels - 1, -1, -1):
        differ = up[j][x] != up[j][y]
        x[differ], y[differ] = up[j][x[differ]], up[j][y[differ]]
    common = np.where(x == y, x, parent[x])
    total[both] = summed[common]
    return total
