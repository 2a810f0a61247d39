r"""All-or-nothing loads of at most two as a maximum-weight matching (exact, polynomial).

Notes
-----
The call's rule "each tutor coaches two establishments" with all-or-nothing
loads (0 or 2) is a degree constraint with a gap of one, which a matching in a
*general* graph captures exactly (Cornuéjols' gadget):

- each establishment is a node, free to stay unmatched (uncovered);
- a tutor with two places is two nodes :math:`t_1, t_2` joined by an edge
  ("unused"); both must be matched, either to each other (load 0) or each to
  an establishment (load 2) -- a load of one would leave one unmatched;
- a tutor who must be used (fixed pairs, minimum load) has no "unused" edge;
  a tutor with one place is one optional node.

"Must be matched" is enforced by a bonus :math:`B` per tutor node on every
edge touching one, larger than all other weights together; an edge
:math:`(t_i, e)` weighs :math:`B + M p_e - c_{te}` and :math:`(t_1, t_2)`
weighs :math:`2B`. A maximum-weight matching then maximises covered
priority, then minimises cost: the lexicographic objective of
:mod:`tutormatch.solve._network`. Remote pairs are listed explicitly (all
pairs of a remote class but those it does not rule out).

First, a blossom started from the flow relaxation's pairs and potentials
(:mod:`tutormatch.solve._warm_matching`): a few stages, one per pair of
partly loaded tutors, and a dual checked on every edge that proves the plan
optimal, at national scale too. When it cannot (turned off with
:data:`WARM_START`, a start that is no dual, a failed check, the time
limit), the blossom of ``rustworkx.max_weight_matching`` (:math:`O(n^3)`,
no dual) matches graphs up to :data:`EXACT_NODES` nodes (and
:data:`EXACT_EDGES` edges) whole; above, the flow relaxation (which drops
the all-or-nothing rule, a valid bound) is repaired around its partial
tutors, two by two, by exact matchings on regions (failing that,
geographic blocks are matched one by one), which gives a feasible plan; its
gap to the relaxation is reported and the status is ``FEASIBLE`` unless the
two meet.
"""

from __future__ import annotations

import dataclasses
import math
import time

import numpy as np
import numpy.typing as npt

from tutormatch.model._eligibility import pair_keys
from tutormatch.solve._backend import BackendResult, Capabilities
from tutormatch.solve._flow import FlowBackend
from tutormatch.solve._network import Network
from tutormatch.solve._options import SolveOptions
from tutormatch.solve._status import Status

__all__ = ["EXACT_EDGES", "EXACT_NODES", "MatchingBackend"]

IntArray = npt.NDArray[np.int64]

#: Largest graph matched in one piece, exactly (nodes, edges): about two
#: seconds of blossom on this kind of machine.
EXACT_NODES = 4_500
EXACT_EDGES = 500_000
#: Whether the blossom warm-started from the flow relaxation runs first
#: (:mod:`tutormatch.solve._warm_matching`); tests turn it off to reach the other paths.
WARM_START = True
_BLOCK_NODES = 1_200  # size of a geographic block above that
_MAX_PASSES = 4  # block passes (the first builds, the others improve across borders)
_REMOTE_PER_ESTABLISHMENT = 16  # nearest remote pairs kept per establishment inside a block
_MIN_GAIN = 1e-4  # relative objective gain below which block passes stop
_REPAIR_TUTORS = 24  # tutors re-matched around each tutor the relaxation leaves partial
_REPAIR_ESTABLISHMENTS = 48  # establishments re-matched around it
_GROUP_PAIRS = 150_000  # pairs of the tutors of merged regions, at most (a blossom of a second or two)
_PAIRED_DEFECTS = 1_500  # partial tutors paired by a blossom on their distances, at most (about a second)
_PAIR_CANDIDATES = 12  # nearest partial tutors each may be paired with
_PAIR_POINTS = 6  # points along a pair's segment around which the region is taken, at most
_PAIR_STEP = 10.0 / 6371.0  # one point every 10 km (unit-sphere chord)


def _explicit_pairs(network: Network) -> tuple[IntArray, IntArray, IntArray, npt.NDArray[np.bool_]]:
    """Every (tutor, establishment, cost) the network allows, remote classes expanded.

    The last array tells which pairs come from a remote class.
    """
    tutors = [network.arc_tutor]
    ests = [network.arc_establishment]
    costs = [network.arc_cost]
    n_e = max(network.n_establishments, 1)
    skip = np.empty(0, dtype=np.int64)
    if network.n_classes:
        near = pair_keys(network.arc_tutor, network.arc_establishment, n_e)
        skip = np.union1d(near, network.bad_remote_keys)
    for c in range(network.n_classes):
        members = np.flatnonzero((network.remote_class == c) & network.active)
        linked = network.link_tutor[network.link_class == c]
        if len(members) == 0 or len(linked) == 0:
            continue
        tt = np.repeat(linked, len(members))
        ee = np.tile(members, len(linked))
        ok = ~np.isin(pair_keys(tt, ee, n_e), skip)
        tutors.append(tt[ok])
        ests.append(ee[ok])
        costs.append(network.remote_cost[ee[ok]])
    n_direct = network.n_arcs
    tutor, establishment = np.concatenate(tutors), np.concatenate(ests)
    from_class = np.arange(len(tutor)) >= n_direct
    return tutor, establishment, np.concatenate(costs), from_class


@dataclasses.dataclass(frozen=True)
class Gadget:
    """The matching graph of a block: nodes, edges ``(a, b, w)`` and what each node stands for.

    Node ids: the block's active establishments first (``estab[i]`` is the
    establishment of node ``i``), then each tutor's places
    (``first_place[t]`` onwards, ``places[t]`` of them; ``owner`` maps a
    node to its tutor, -1 for establishments). ``must_places[t]`` of a
    tutor's places carry the bonus that makes them matched.
    """

    n_nodes: int
    a: IntArray
    b: IntArray
    w: IntArray
    estab: IntArray
    first_place: IntArray
    places: IntArray
    must_places: IntArray
    pair_gadget: npt.NDArray[np.bool_]
    owner: IntArray
    bonus: int

    def must_nodes(self) -> IntArray:
        """Return the tutor places that every plan matches."""
        t = np.repeat(np.arange(len(self.must_places)), self.must_places)
        offset = np.arange(len(t)) - np.repeat(
            np.cumsum(self.must_places) - self.must_places, self.must_places
        )
        return np.asarray(self.first_place[t] + offset, dtype=np.int64)

    def pairs(self, mate: IntArray) -> tuple[IntArray, IntArray]:
        """Return the (tutor, establishment) pairs of a matching given as ``mate`` per node."""
        e_nodes = np.flatnonzero(mate[: len(self.estab)] >= 0)
        return self.owner[mate[e_nodes]], self.estab[e_nodes]


def gadget(
    network: Network,
    tutor: IntArray,
    establishment: IntArray,
    cost: IntArray,
    tutors_in: npt.NDArray[np.bool_],
    establishments_in: npt.NDArray[np.bool_],
) -> Gadget:
    """Build the all-or-nothing matching gadget of a block (see the module notes)."""
    keep = tutors_in[tutor] & establishments_in[establishment]
    tutor, establishment, cost = tutor[keep], establishment[keep], cost[keep]
    estab = np.flatnonzero(establishments_in & network.active)
    places = np.where(tutors_in, network.capacity, 0)
    # How many of each tutor's places must be matched, and whether two free
    # places get the "unused" edge (the all-or-nothing gadget).
    if network.all_or_nothing:
        forced = (network.fixed_load > 0) | (network.min_load > 0)
        pair_gadget = tutors_in & (places == 2) & ~forced
        must_places = np.where(forced | pair_gadget, places, 0)
    else:
        pair_gadget = np.zeros(network.n_tutors, dtype=bool)
        must_places = np.minimum(network.min_load, places)
    # Node ids: establishments first, then each tutor's places.
    e_node = np.full(network.n_establishments, -1, dtype=np.int64)
    e_node[estab] = np.arange(len(estab))
    first_place = len(estab) + np.concatenate(([0], np.cumsum(places)[:-1])).astype(np.int64)
    n_nodes = len(estab) + int(places.sum())
    bonus = int(network.uncovered_cost[estab].sum()) + 1
    weight = network.uncovered_cost[establishment] - cost
    edges_a: list[IntArray] = []
    edges_b: list[IntArray] = []
    edges_w: list[IntArray] = []
    for place in range(int(places.max(initial=0))):
        has = places[tutor] > place
        edges_a.append(first_place[tutor[has]] + place)
        edges_b.append(e_node[establishment[has]])
        edges_w.append(weight[has] + np.where(must_places[tutor[has]] > place, bonus, 0))
    optional_two = np.flatnonzero(pair_gadget)
    edges_a.append(first_place[optional_two])
    edges_b.append(first_place[optional_two] + 1)
    edges_w.append(np.full(len(optional_two), 2 * bonus, dtype=np.int64))
    owner = np.full(n_nodes, -1, dtype=np.int64)
    with_places = np.flatnonzero(places)
    owner[len(estab) :] = np.repeat(with_places, places[with_places])
    return Gadget(
        n_nodes=n_nodes,
        a=np.concatenate(edges_a).astype(np.int64),
        b=np.concatenate(edges_b).astype(np.int64),
        w=np.concatenate(edges_w).astype(np.int64),
        estab=estab,
        first_place=first_place,
        places=places,
        must_places=must_places,
        pair_gadget=pair_gadget,
        owner=owner,
        bonus=bonus,
    )


def _match(
    network: Network,
    tutor: IntArray,
    establishment: IntArray,
    cost: IntArray,
    tutors_in: npt.NDArray[np.bool_],
    establishments_in: npt.NDArray[np.bool_],
) -> tuple[IntArray, IntArray, bool]:
    """Match one block; return the chosen pairs and whether every must-node was matched."""
    import rustworkx as rx

    g = gadget(network, tutor, establishment, cost, tutors_in, establishments_in)
    graph = rx.PyGraph()
    graph.add_nodes_from(range(g.n_nodes))
    graph.add_edges_from(list(zip(g.a.tolist(), g.b.tolist(), g.w.tolist(), strict=True)))
    matched = rx.max_weight_matching(graph, max_cardinality=False, weight_fn=int)
    mate = np.full(g.n_nodes, -1, dtype=np.int64)
    for u, v in matched:
        mate[u], mate[v] = v, u
    chosen_t, chosen_e = g.pairs(mate)
    complete = bool((mate[g.must_nodes()] >= 0).all())
    return chosen_t, chosen_e, complete


def _blocks(
    network: Network, xyz_t: npt.NDArray[np.float64], xyz_e: npt.NDArray[np.float64]
) -> list[tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]]:
    """Cut tutors and establishments into geographic blocks by recursive bisection."""
    points = np.vstack((xyz_t, xyz_e))
    sizes = np.concatenate((network.capacity, np.ones(len(xyz_e), dtype=np.int64)))
    out: list[npt.NDArray[np.int64]] = []
    stack = [np.arange(len(points))]
    while stack:
        idx = stack.pop()
        if sizes[idx].sum() <= _BLOCK_NODES or len(idx) < 2:
            out.append(idx)
            continue
        axis = int(np.argmax(np.ptp(points[idx], axis=0)))
        order = idx[np.argsort(points[idx, axis], kind="stable")]
        half = len(order) // 2
        stack.extend((order[half:], order[:half]))
    n_t = len(xyz_t)
    blocks = []
    for idx in out:
        t_in = np.zeros(n_t, dtype=bool)
        e_in = np.zeros(len(xyz_e), dtype=bool)
        t_in[idx[idx < n_t]] = True
        e_in[idx[idx >= n_t] - n_t] = True
        blocks.append((t_in, e_in))
    return blocks


class MatchingBackend:
    """All-or-nothing loads of at most two places per tutor, by weighted matching."""

    name = "matching"
    capabilities = Capabilities(all_or_nothing=True, time_limit=False)

    def __init__(
        self, tutor_xyz: npt.NDArray[np.float64], establishment_xyz: npt.NDArray[np.float64]
    ) -> None:
        self.tutor_xyz = tutor_xyz
        self.establishment_xyz = establishment_xyz

    @staticmethod
    def supports(network: Network) -> bool:
        """Whether every tutor has at most two places (the gadget's limit)."""
        return bool(np.all(network.capacity <= 2))

    def solve(self, network: Network, options: SolveOptions) -> BackendResult:
        """Exact matching, else the relaxation's bound and a plan by regions; see the module notes."""
        started = time.perf_counter()
        tutor, establishment, cost, from_class = _explicit_pairs(network)
        n_nodes = int(network.active.sum() + network.capacity.sum())
        exact = n_nodes <= EXACT_NODES and 2 * len(tutor) <= EXACT_EDGES
        stats: dict[str, object] = {"matching_nodes": n_nodes, "matching_edges": 2 * len(tutor)}
        bound = -math.inf  # the relaxation's optimum when the plan is not exact
        deadline = started + options.time_limit if math.isfinite(options.time_limit) else math.inf
        relaxation: BackendResult | None = None
        proven = False
        from tutormatch.solve._warm_matching import expanded, warm_matching

        warm = None
        # The relaxation with every pair listed (remote classes too) gives
        # the pairs and potentials that start a blossom which proves its plan
        # (module notes of _warm_matching); failing that (no time, no
        # check), the paths below, with the relaxation over classes.
        if WARM_START:
            flat = expanded(network, (tutor, establishment, cost))
            clock = time.perf_counter()
            warm_relaxation = FlowBackend().solve(flat.relaxed(), options)
            seconds = {"relaxation_seconds": time.perf_counter() - clock}
            if not warm_relaxation.status.has_solution or warm_relaxation.objective is None:
                return warm_relaxation
            if network.n_classes == 0:
                relaxation = warm_relaxation
            # With a time limit, the blossom leaves half of what is left to the repair.
            half = started + (deadline - started) / 2 if math.isfinite(deadline) else math.inf
            warm = warm_matching(network, (tutor, establishment, cost), flat, warm_relaxation, half, seconds)
            stats["warm_start"] = warm is not None
            stats.update({key: round(value, 3) for key, value in seconds.items()})
        if warm is not None:
            plan_t, plan_e, proven, complete, solution = warm
            stats["blossom_stages"] = solution.stages
            stats["certified"] = proven
        if proven:
            exact = True
            stats["blocks"] = 1
        elif exact:
            # The exact matching needs no bound: the relaxation only says why
            # there is no plan (its own status and words) when there is none.
            everyone = (np.ones(network.n_tutors, dtype=bool), np.ones(network.n_establishments, dtype=bool))
            plan_t, plan_e, complete = _match(network, tutor, establishment, cost, *everyone)
            stats["blocks"] = 1
            if not complete:
                if relaxation is None:
                    relaxation = FlowBackend().solve(network.relaxed(), options)
                if not relaxation.status.has_solution:
                    return relaxation
        else:
            if relaxation is None:
                relaxation = FlowBackend().solve(network.relaxed(), options)
            if not relaxation.status.has_solution or relaxation.objective is None:
                return relaxation
            stats["relaxation_objective"] = relaxation.objective
            bound = float(relaxation.objective)
            plan_t, plan_e, complete, passes, repaired = self._by_blocks(
                network, tutor, establishment, cost, from_class, deadline, relaxation
            )
            stats["block_passes"] = passes
            stats["repaired"] = repaired
        stats["seconds"] = time.perf_counter() - started
        if not complete:
            if exact:
                # The maximum-weight matching (exact or proven by its dual)
                # matches every place that can be: none fills them all.
                return BackendResult.without_solution(
                    network,
                    Status.INFEASIBLE,
                    "matching: no plan fills every tutor that must be used",
                    **stats,
                )
            return BackendResult.without_solution(
                network,
                Status.NO_SOLUTION,
                "matching by blocks: no plan fills every tutor that must be used "
                "(a block could not, or the time limit came first)",
                **stats,
            )
        result = _result_from_pairs(network, plan_t, plan_e)
        assert result.objective is not None
        optimal = exact or result.objective <= bound
        if proven:
            message = (
                "matching: optimal (blossom started from the flow relaxation, its dual checked on every edge)"
            )
        elif exact:
            message = "matching: optimal (maximum-weight matching, exact)"
        else:
            how = (
                "the flow relaxation repaired around its partial tutors (exact matching on regions)"
                if stats.get("repaired")
                else f"matching by geographic blocks ({stats['block_passes']} passes)"
            )
            message = f"{how}: feasible, bound from the flow relaxation" + (
                " (meets it: optimal)" if optimal else ""
            )
        return BackendResult(
            status=Status.OPTIMAL if optimal else Status.FEASIBLE,
            message=message,
            arc_used=result.arc_used,
            z=result.z,
            y=result.y,
            objective=result.objective,
            bound=float(result.objective) if optimal else bound,
            stats=stats,
        )

    def _by_blocks(
        self,
        network: Network,
        tutor: IntArray,
        establishment: IntArray,
        cost: IntArray,
        from_class: npt.NDArray[np.bool_],
        deadline: float,
        relaxation: BackendResult | None = None,
    ) -> tuple[IntArray, IntArray, bool, int, bool]:
        """Repair the relaxation; failing that, match block by block, then improve across borders.

        The flow relaxation is all-or-nothing but for a few tutors (95 of
        4,000 nationally); :func:`_repair` keeps its pairs elsewhere and
        re-matches exactly around those tutors (0 passes). Failing that, a
        first pass matches block by block, and each later pass re-matches,
        inside shifted geographic blocks, the tutors whose establishments all
        lie in the block and the establishments they or nobody tutor: the
        current pairs are one solution of that sub-problem, so a pass never
        makes the plan worse (large-neighbourhood search).
        """
        # Remote pairs are dense; within a block each establishment keeps its
        # nearest few class tutors (a heuristic: blocks are not exact anyway).
        remote = np.flatnonzero(from_class)
        chord = np.linalg.norm(
            self.tutor_xyz[tutor[remote]] - self.establishment_xyz[establishment[remote]], axis=1
        )
        order = np.lexsort((chord, establishment[remote]))
        starts = np.r_[0, np.flatnonzero(np.diff(establishment[remote][order])) + 1]
        rank = np.empty(len(remote), dtype=np.int64)
        rank[order] = np.arange(len(order)) - np.repeat(starts, np.diff(np.r_[starts, len(order)]))
        kept = ~from_class
        kept[remote[rank < _REMOTE_PER_ESTABLISHMENT]] = True
        light = (tutor[kept], establishment[kept], cost[kept])
        plan_t = np.empty(0, dtype=np.int64)
        plan_e = np.empty(0, dtype=np.int64)
        if relaxation is not None:
            every = (tutor, establishment, cost)  # the plan's own pairs must be in every region
            repaired = _repair(network, every, relaxation, self.tutor_xyz, self.establishment_xyz, deadline)
            if repaired is not None:
                # Block passes after the repair gained 0.0001 % nationally for
                # 8 s (each region above is matched exactly): none.
                plan_t, plan_e = repaired
                return plan_t, plan_e, _fills_forced(network, plan_t), 0, True
        rng = np.random.default_rng(0)
        passes = 0
        value: float = np.inf
        for passes in range(1, _MAX_PASSES + 1):
            rotation = np.eye(3) if passes == 1 else _random_rotation(rng)
            blocks = _blocks(network, self.tutor_xyz @ rotation.T, self.establishment_xyz @ rotation.T)
            for t_in, e_in in blocks:
                if time.perf_counter() > deadline:
                    # Blocks not reached keep their tutors at load 0, which
                    # all-or-nothing allows unless a tutor must be used.
                    break
                owner = np.full(network.n_establishments, -1, dtype=np.int64)
                owner[plan_e] = plan_t
                outside = np.zeros(network.n_tutors, dtype=bool)
                outside[plan_t[~e_in[plan_e]]] = True
                movable_t = t_in & ~outside
                movable_e = e_in & ((owner < 0) | movable_t[np.maximum(owner, 0)])
                new_t, new_e, ok = _match(network, *light, movable_t, movable_e)
                if not ok:
                    new_t, new_e, ok = _match(network, tutor, establishment, cost, movable_t, movable_e)
                if not ok:
                    if passes == 1:
                        return plan_t, plan_e, False, passes, False
                    continue
                keep = ~movable_t[plan_t]
                plan_t = np.concatenate((plan_t[keep], new_t))
                plan_e = np.concatenate((plan_e[keep], new_e))
            current = _result_from_pairs(network, plan_t, plan_e).objective
            # A pass costs seconds nationally: stop when it gains under 0.01 %.
            if current is None or current >= value * (1 - _MIN_GAIN) or time.perf_counter() > deadline:
                break
            value = current
        return plan_t, plan_e, _fills_forced(network, plan_t), passes, False


def _fills_forced(network: Network, plan_t: IntArray) -> bool:
    """Whether every tutor that must be used (fixed pairs, minimum load) is at its capacity."""
    load = np.bincount(plan_t, minlength=network.n_tutors)
    must = (network.min_load > 0) | ((network.fixed_load > 0) & (network.capacity > 0))
    return bool(np.all(load[must] == network.capacity[must]))


def _repair(
    network: Network,
    pairs: tuple[IntArray, IntArray, IntArray],
    relaxation: BackendResult,
    tutor_xyz: npt.NDArray[np.float64],
    establishment_xyz: npt.NDArray[np.float64],
    deadline: float,
) -> tuple[IntArray, IntArray] | None:
    """Build an all-or-nothing plan from the flow relaxation, re-matched around its partial tutors.

    Tutors whose relaxed load is 0 or their capacity keep their pairs; the
    other tutors (partial load, or in a remote class that could not be split
    into pairs) are paired by distance (:func:`_defect_pairs`: loads are even,
    so they are fixed two by two), and around each pair's segment its
    :data:`_REPAIR_TUTORS` nearest tutors and :data:`_REPAIR_ESTABLISHMENTS`
    nearest establishments form a region (:func:`_pair_regions`);
    overlapping regions merge up to :data:`_GROUP_PAIRS` pairs, and each is
    matched exactly (blossom) with everything else fixed. None if a region
    cannot fill a tutor that must be used, or the time is up.
    """
    from tutormatch.solve._remote import split_remote

    used = relaxation.arc_used
    split = split_remote(network, relaxation.z, relaxation.y)
    plan_t = np.concatenate((network.arc_tutor[used], split.tutor))
    plan_e = np.concatenate((network.arc_establishment[used], split.establishment))
    load = np.bincount(plan_t, minlength=network.n_tutors)
    # Tutors of classes that could not be split are re-matched (their class
    # pairs are not in the plan).
    unsplit = np.zeros(network.n_tutors, dtype=bool)
    unsplit[network.link_tutor[np.isin(network.link_class, list(split.failed_classes))]] = True
    forced = (network.fixed_load > 0) | (network.min_load > 0)  # must be full
    whole = ~unsplit & (((load == 0) & ~forced) | (load == network.capacity))
    broken = np.flatnonzero(~whole)
    keep = whole[plan_t]
    plan_t, plan_e = plan_t[keep], plan_e[keep]
    if len(broken) == 0:
        return plan_t, plan_e
    n_t, n_e = network.n_tutors, network.n_establishments
    near_t, near_e = _pair_regions(broken, tutor_xyz, establishment_xyz)
    # Merge regions that share a tutor or an establishment (union-find on
    # regions) while the merged region stays small enough for a quick
    # blossom; regions left apart are matched one after the other, each
    # from the plan the previous ones left (never worse, still all-or-nothing).
    parent = np.arange(len(near_t))
    degree = np.bincount(pairs[0], minlength=network.n_tutors)
    size = np.array([int(degree[t].sum()) for t in near_t])  # pairs of the region's tutors

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = int(parent[i])
        return i

    seen_t: dict[int, int] = {}
    seen_e: dict[int, int] = {}
    for i in range(len(near_t)):
        for seen, items in ((seen_t, near_t[i]), (seen_e, near_e[i])):
            for item in items.tolist():
                j = seen.setdefault(item, i)
                a, b = root(i), root(j)
                if a != b and size[a] + size[b] <= _GROUP_PAIRS:
                    parent[max(a, b)] = min(a, b)
                    size[min(a, b)] += size[max(a, b)]
    groups = np.array([root(i) for i in range(len(near_t))])
    for g in np.unique(groups).tolist():
        if time.perf_counter() > deadline:
            return None
        members = np.flatnonzero(groups == g).tolist()
        owner = np.full(n_e, -1, dtype=np.int64)
        owner[plan_e] = plan_t
        movable_t = np.zeros(n_t, dtype=bool)
        movable_t[np.concatenate([near_t[i] for i in members])] = True
        # A tutor keeps out of the region if one of its establishments does.
        region_e = np.zeros(n_e, dtype=bool)
        region_e[np.concatenate([near_e[i] for i in members])] = True
        region_e[plan_e[movable_t[plan_t]]] = True
        outside = np.zeros(n_t, dtype=bool)
        outside[plan_t[~region_e[plan_e]]] = True
        movable_t &= ~outside
        movable_e = region_e & ((owner < 0) | movable_t[np.maximum(owner, 0)])
        new_t, new_e, ok = _match(network, *pairs, movable_t, movable_e)
        if not ok:
            return None
        stay = ~movable_t[plan_t]
        plan_t = np.concatenate((plan_t[stay], new_t))
        plan_e = np.concatenate((plan_e[stay], new_e))
    return plan_t, plan_e


def _defect_pairs(broken: IntArray, tutor_xyz: npt.NDArray[np.float64]) -> list[list[int]]:
    """Pair the partial tutors geographically (a minimum-length matching); the odd one out stays alone.

    The plan's total load is even (every tutor takes 0 or 2): partial tutors
    are fixed two by two, one taking an establishment along a chain of moves
    that ends at the other, so each pair must fall in one region.
    """
    import rustworkx as rx

    n = len(broken)
    if n < 2 or n > _PAIRED_DEFECTS:
        return [[i] for i in range(n)]
    from scipy.spatial import cKDTree

    points = tutor_xyz[broken]
    # Each partial tutor's nearest others (all of them when few): a sparse
    # graph keeps the blossom quick for thousands of partial tutors.
    _, near = cKDTree(points).query(points, k=min(n, _PAIR_CANDIDATES + 1))
    a = np.repeat(np.arange(n), near.shape[1] - 1)
    b = np.ravel(near[:, 1:])
    a, b = np.minimum(a, b), np.maximum(a, b)
    key = np.unique((a * n + b)[a != b])  # a duplicate point may come before the point itself
    a, b = key // n, key % n
    chord = np.linalg.norm(points[a] - points[b], axis=1)
    # Integer weights (blossom on floats is not exact): the shortest total
    # length among the matchings of most pairs.
    length = np.round(chord / max(float(chord.max()), 1e-12) * 1e9).astype(np.int64)
    graph = rx.PyGraph()
    graph.add_nodes_from(range(n))
    graph.add_edges_from(list(zip(a.tolist(), b.tolist(), (2_000_000_001 - length).tolist(), strict=True)))
    matched = rx.max_weight_matching(graph, max_cardinality=True, weight_fn=int)
    pairs = [sorted(pair) for pair in matched]
    alone = sorted(set(range(n)) - {i for pair in pairs for i in pair})
    return sorted(pairs) + [[i] for i in alone]


def _pair_regions(
    broken: IntArray, tutor_xyz: npt.NDArray[np.float64], establishment_xyz: npt.NDArray[np.float64]
) -> tuple[list[IntArray], list[IntArray]]:
    """Return the tutors and establishments re-matched around each pair of partial tutors.

    Around each of a few points along the pair's segment: the
    :data:`_REPAIR_TUTORS` nearest tutors and :data:`_REPAIR_ESTABLISHMENTS`
    nearest establishments, so that the chain of moves between the two fits.
    """
    from scipy.spatial import cKDTree

    tree_t, tree_e = cKDTree(tutor_xyz), cKDTree(establishment_xyz)
    k_t, k_e = min(_REPAIR_TUTORS, len(tutor_xyz)), min(_REPAIR_ESTABLISHMENTS, len(establishment_xyz))
    near_t: list[IntArray] = []
    near_e: list[IntArray] = []
    for group in _defect_pairs(broken, tutor_xyz):
        ends = tutor_xyz[broken[group]]
        steps = 1 + min(_PAIR_POINTS - 1, int(np.linalg.norm(ends[-1] - ends[0]) / _PAIR_STEP))
        along = ends[0] + np.linspace(0.0, 1.0, steps)[:, None] * (ends[-1] - ends[0])
        _, t_idx = tree_t.query(along, k=k_t)
        _, e_idx = tree_e.query(along, k=k_e)
        near_t.append(np.unique(np.concatenate((np.ravel(t_idx), broken[group]))).astype(np.int64))
        near_e.append(np.unique(np.ravel(e_idx)).astype(np.int64))
    return near_t, near_e


def _random_rotation(rng: np.random.Generator) -> npt.NDArray[np.float64]:
    """Return a rotation of 3-D space, to shift block borders between passes."""
    q, r = np.linalg.qr(rng.normal(size=(3, 3)))
    return np.asarray(q * np.sign(np.diag(r)), dtype=np.float64)


def _result_from_pairs(network: Network, chosen_t: IntArray, chosen_e: IntArray) -> BackendResult:
    """Express chosen pairs as the network's variables (direct arcs, class loads)."""
    n_e = max(network.n_establishments, 1)
    arc_keys = pair_keys(network.arc_tutor, network.arc_establishment, n_e)
    keys = pair_keys(chosen_t, chosen_e, n_e)
    # Sorted keys and a binary search: np.isin hashes all 0.9 M arcs nationally (seconds).
    order = np.argsort(arc_keys, kind="stable")
    at = np.minimum(np.searchsorted(arc_keys[order], keys), max(len(order) - 1, 0))
    direct = (arc_keys[order][at] == keys) if len(order) else np.zeros(len(keys), dtype=bool)
    arc_used = np.zeros(network.n_arcs, dtype=bool)
    arc_used[order[at[direct]]] = True
    via_class = ~direct
    z = np.zeros(network.n_establishments, dtype=bool)
    z[chosen_e[via_class]] = True
    link_keys = pair_keys(network.link_tutor, network.link_class, max(network.n_classes, 1))
    used = pair_keys(
        chosen_t[via_class], network.remote_class[chosen_e[via_class]], max(network.n_classes, 1)
    )
    order = np.argsort(link_keys)
    y = np.zeros(len(link_keys), dtype=np.int64)
    if len(used):
        np.add.at(y, order[np.searchsorted(link_keys[order], used)], 1)
    covered = np.zeros(network.n_establishments, dtype=bool)
    covered[chosen_e] = True
    objective = int(network.arc_cost[arc_used].sum() + network.remote_cost[z].sum())
    objective += int(network.uncovered_cost[network.active & ~covered].sum())
    return BackendResult(
        status=Status.FEASIBLE, message="", arc_used=arc_used, z=z, y=y, objective=objective, bound=-math.inf
    )
