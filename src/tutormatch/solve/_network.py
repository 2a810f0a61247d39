r"""The integer network that every backend solves, built in one place.

Notes
-----
Let :math:`E` be the establishments still to decide (not fixed), :math:`T`
the tutors, :math:`A` the direct arcs (eligible on-site pairs, plus remote
pairs of classes made explicit), :math:`C` the remote classes with their
links :math:`L \subseteq C \times T`. With :math:`x_a \in \{0,1\}` per
direct arc, :math:`z_e \in \{0,1\}` "tutored remotely through its class",
:math:`y_{ct} \in \mathbb{Z}_{\ge 0}` remote load of tutor :math:`t` from
class :math:`c` and :math:`u_e \in \{0,1\}` "uncovered":

.. math::

    \min \; & \sum_a c_a x_a + \sum_e r_e z_e + \sum_e M p_e u_e \\
    \text{s.t. } & \sum_{a \ni e} x_a + z_e + u_e = 1 && \forall e \\
    & \sum_{e \in c} z_e = \sum_{t:(c,t) \in L} y_{ct} && \forall c \\
    & m_t \le \sum_{a \ni t} x_a + \sum_c y_{ct} \le k_t && \forall t

where :math:`c_a` is the yearly on-site travel ``2 x visits x distance`` (or
the remote penalty on explicit remote arcs), :math:`r_e` the remote penalty,
:math:`p_e` the integer priority, :math:`k_t` and :math:`m_t` the capacity
and minimum load left after fixed pairs. :math:`M` exceeds the cost of any
plan, so the single objective is lexicographic: most covered priority first,
then least cost. Without side constraints this is a min-cost flow
(establishments -> classes/tutors -> sink) and its LP is integral.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tutormatch.errors import InputError, TutormatchWarning
from tutormatch.geo._distance import chord_to_km
from tutormatch.model._eligibility import MODE_ONSITE, MODE_REMOTE, onsite_pairs_near, pair_keys
from tutormatch.model._problem import Problem
from tutormatch.solve._pool import OnsitePool

__all__ = ["Network", "build_network"]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

# Budget for |cost| x (nodes + 1) and for any objective total: OR-Tools'
# cost-scaling min-cost flow multiplies costs by the node count internally.
_INT_BUDGET = 2**62
# Largest integer priority: 1 to 1,048,576 keeps priorities of up to six
# decimals exact and leaves room in 64 bits for the composite objective.
_PRIORITY_MAX = 2**20


@dataclass(frozen=True, eq=False)
class Network:
    """Integer data of the model in the module docstring (see there)."""

    n_tutors: int
    n_establishments: int
    active: npt.NDArray[np.bool_]
    arc_tutor: IntArray
    arc_establishment: IntArray
    arc_mode: npt.NDArray[np.int8]
    arc_cost: IntArray
    remote_class: IntArray
    remote_cost: IntArray
    link_class: IntArray
    link_tutor: IntArray
    n_classes: int
    uncovered_cost: IntArray
    capacity: IntArray
    min_load: IntArray
    fixed_load: IntArray
    full_capacity: IntArray
    all_or_nothing: bool
    bad_remote_keys: IntArray
    explicit_classes: frozenset[int]
    cost_unit_km: float
    priority_int: IntArray
    priority_scale: float
    big_m: int

    @property
    def n_arcs(self) -> int:
        """Number of direct arcs."""
        return len(self.arc_tutor)

    @property
    def has_side_constraints(self) -> bool:
        """Whether the model leaves the min-cost-flow structure."""
        return self.all_or_nothing

    def relaxed(self) -> Network:
        """Return the same network without the all-or-nothing rule (a flow)."""
        return dataclasses.replace(self, all_or_nothing=False)

    def restricted(self, arcs: npt.NDArray[np.bool_] | IntArray) -> Network:
        """Return the same network with only the direct arcs ``arcs`` (a mask or indices)."""
        return dataclasses.replace(
            self,
            arc_tutor=self.arc_tutor[arcs],
            arc_establishment=self.arc_establishment[arcs],
            arc_mode=self.arc_mode[arcs],
            arc_cost=self.arc_cost[arcs],
        )

    def free_loads(self, arc_used: npt.NDArray[np.bool_], y: IntArray) -> IntArray:
        """Return each tutor's load of a solution: its used pairs plus its remote-class places ``y``.

        Fixed pairs are not counted (see ``fixed_load``).
        """
        loads = np.bincount(self.arc_tutor[arc_used], minlength=self.n_tutors).astype(np.int64)
        if len(self.link_tutor):
            np.add.at(loads, self.link_tutor, y)
        return loads

    def uncovered_priority_int(self, uncovered: npt.NDArray[np.bool_]) -> int:
        """Integer priority left uncovered by a plan."""
        return int(self.priority_int[uncovered & self.active].sum())


def _integer_priorities(priority: FloatArray) -> tuple[IntArray, float]:
    """Scale priorities to small integers, exactly when they have few decimals.

    The integers stay at most :data:`_PRIORITY_MAX` (so that any objective
    fits in 64 bits whatever the costs); priorities spanning more than that
    range are rounded, with a warning when two distinct ones become equal.
    Never loops: at most seven tries of decimals, then one rescaling.
    """
    if len(priority) == 0:
        return np.zeros(0, dtype=np.int64), 1.0
    top = float(np.max(priority))
    if not (math.isfinite(top) and top > 0):
        return np.ones(len(priority), dtype=np.int64), 1.0
    scale: float | None = None
    for digits in range(7):
        scaled = priority * 10.0**digits
        if float(scaled.max()) > _PRIORITY_MAX:
            break
        if np.all(np.abs(scaled - np.round(scaled)) <= 1e-9 * np.maximum(1.0, scaled)):
            ints = np.maximum(np.round(scaled), 1).astype(np.int64)
            scale = 10.0**digits
            break
    if scale is None:
        # Too many digits or too wide a range for exact integers: round onto
        # [1, _PRIORITY_MAX] in proportion to the largest priority.
        scale = _PRIORITY_MAX / top
        ints = np.maximum(np.round(priority * scale), 1).astype(np.int64)
        if len(np.unique(ints)) < len(np.unique(priority)):
            warnings.warn(
                f"priorities span more than {_PRIORITY_MAX:,} times their smallest step "
                f"(from {float(np.min(priority)):g} to {top:g}) and some were rounded to the same "
                "value; the plan is optimal for the rounded priorities. Use a narrower scale.",
                TutormatchWarning,
                stacklevel=5,
            )
    divisor = int(np.gcd.reduce(ints))
    return ints // divisor, scale / divisor


def _scaled_costs(km: FloatArray, unit: float) -> IntArray:
    return np.round(km / unit).astype(np.int64)


def _dear_pair_keys(problem: Problem, members: IntArray) -> IntArray:
    """Keys of near pairs whose on-site travel costs more than remote.

    Such pairs are on-site by the rules, so a remote class must not hand them
    out as remote pairs. Under the default penalty (on-site at the limit)
    there are none and nothing is queried.
    """
    e = problem.establishments
    remote_km = problem.remote_cost_km[members]
    visits = e.visits_per_year[members]
    with np.errstate(divide="ignore", invalid="ignore"):
        cheap_below_km = np.where(visits > 0, remote_km / (2.0 * visits), np.inf)
    ask = members[cheap_below_km < problem.max_distance_km]
    if len(ask) == 0:
        return np.empty(0, dtype=np.int64)
    tutor, establishment, distance = onsite_pairs_near(problem, ask, problem.max_distance_km)
    dear = problem.pair_cost_km(establishment, distance) > problem.remote_cost_km[establishment] + 1e-9
    return pair_keys(tutor[dear], establishment[dear], problem.n_establishments)


def _costliest_pair_km(problem: Problem) -> FloatArray:
    """Bound the yearly cost of any eligible on-site pair, per establishment."""
    e = problem.establishments
    if problem.n_tutors == 0 or problem.n_establishments == 0:
        return np.zeros(problem.n_establishments)
    if problem.distance_matrix is not None:
        matrix = problem.distance_matrix
        farthest = np.zeros(problem.n_establishments)
        if matrix.nnz:
            np.maximum.at(farthest, matrix.indices, matrix.data)
    else:
        # Triangle inequality through tutor 0: dist(e, t) <= dist(e, t0) + dist(t0, t).
        to_first = problem.distance_km(
            np.zeros(problem.n_establishments, dtype=np.int64), np.arange(problem.n_establishments)
        )
        spread = chord_to_km(np.linalg.norm(problem.tutor_xyz - problem.tutor_xyz[0], axis=1))
        farthest = to_first + float(spread.max())
    limit = min(problem.max_distance_km, float(np.max(problem.tutors.max_km)))
    return np.asarray(2.0 * e.visits_per_year * np.minimum(farthest, limit), dtype=np.float64)


def _check_finite(*km: FloatArray) -> None:
    for values in km:
        if not np.all(np.isfinite(values)):
            raise InputError(
                "yearly costs overflow floating point (a distance limit, remote penalty or number of "
                "visits too large for 2 x visits x km); use values below 1e12."
            )


def _fits(worst_km: FloatArray, priority_int: IntArray, n_nodes: int, unit: float) -> bool:
    big_m = int(_scaled_costs(worst_km, unit).sum()) + 1
    top = big_m * int(priority_int.max(initial=1))
    total = big_m * (int(priority_int.sum()) + 1)
    return top * (n_nodes + 1) < _INT_BUDGET and total < _INT_BUDGET


def _cost_unit(worst_km: FloatArray, priority_int: IntArray, n_nodes: int, resolution_km: float) -> float:
    """Return the finest unit (``resolution_km`` times a power of ten) at which every integer fits.

    Jumps straight to the power of ten that the float estimate asks for,
    then checks in exact integers; bounded, since costs round to 0 (and M to
    1) once the unit exceeds the largest cost, and priorities are small.
    """
    unit = resolution_km
    weight = float(priority_int.max(initial=1)) * (n_nodes + 1) + float(priority_int.sum()) + 1
    estimate = (float(worst_km.sum()) / unit + 1.0) * weight
    if estimate >= _INT_BUDGET / 4:
        unit *= 10.0 ** math.ceil(math.log10(estimate / (_INT_BUDGET / 4)))
    for _ in range(20):
        if _fits(worst_km, priority_int, n_nodes, unit):
            return unit
        unit *= 10.0
    raise InputError(  # unreachable with priorities <= _PRIORITY_MAX; never loop forever
        "costs and priorities cannot be scaled to 64-bit integers; use smaller priorities."
    )


def build_network(
    problem: Problem,
    pool: OnsitePool,
    *,
    cost_resolution_km: float = 0.001,
    explicit_classes: frozenset[int] = frozenset(),
) -> Network:
    """Scale a problem to the integer network solved by the backends.

    Parameters
    ----------
    problem : Problem
    pool : OnsitePool
        The on-site pairs to model (all of them, or a pool proven sufficient
        by pricing, see :mod:`tutormatch.solve._pool`).
    cost_resolution_km : float
        Integer cost unit, in km of yearly travel; coarsened (with a warning)
        only if the objective could overflow 64-bit integers.
    explicit_classes : frozenset of int
        Remote classes to expand into explicit (establishment, tutor) arcs
        because their class loads could not be split into allowed pairs.
    """
    # An overflow makes an inf, which the finite check turns into a clear error.
    with np.errstate(over="ignore"):
        return _build(problem, pool, cost_resolution_km, explicit_classes)


def _build(
    problem: Problem, pool: OnsitePool, cost_resolution_km: float, explicit_classes: frozenset[int]
) -> Network:
    remote = problem.remote_classes
    t, e = problem.tutors, problem.establishments
    n_t, n_e = len(t), len(e)
    fixed = problem.fixed
    active = np.ones(n_e, dtype=bool)
    active[fixed[:, 1]] = False
    fixed_load = np.bincount(fixed[:, 0], minlength=n_t).astype(np.int64) if n_t else np.zeros(0, np.int64)
    capacity = t.capacity - fixed_load
    min_load = np.maximum(t.min_load - fixed_load, 0)

    keep = active[pool.establishment] & (capacity[pool.tutor] > 0)
    arc_t, arc_e, arc_d = pool.tutor[keep], pool.establishment[keep], pool.distance_km[keep]
    arc_km = problem.pair_cost_km(arc_e, arc_d)
    arc_mode = np.full(len(arc_t), MODE_ONSITE, dtype=np.int8)
    remote_km = problem.remote_cost_km

    remote_class = np.where(active, remote.remote_class, -1)
    in_link = np.ones(len(remote.link_class), dtype=bool)
    own = np.flatnonzero(t.home >= 0)
    bad = [pair_keys(own, t.home[own], n_e), _dear_pair_keys(problem, np.flatnonzero(remote_class >= 0))]
    if len(problem.forbidden):
        bad.append(pair_keys(problem.forbidden[:, 0], problem.forbidden[:, 1], n_e))
    bad_keys = np.unique(np.concatenate(bad))

    extra_t: list[IntArray] = []
    extra_e: list[IntArray] = []
    for c in sorted(explicit_classes):
        members = np.flatnonzero(remote_class == c)
        tutors = remote.link_tutor[remote.link_class == c]
        tutors = tutors[capacity[tutors] > 0]
        tt, ee = np.meshgrid(tutors, members)
        tt, ee = tt.ravel().astype(np.int64), ee.ravel().astype(np.int64)
        keys = pair_keys(tt, ee, n_e)
        # Near pairs are on-site (or bad): never explicit remote arcs.
        near_t, near_e, _ = onsite_pairs_near(problem, members, problem.max_distance_km)
        ok = ~np.isin(keys, bad_keys) & ~np.isin(keys, pair_keys(near_t, near_e, n_e))
        extra_t.append(tt[ok])
        extra_e.append(ee[ok])
        remote_class[members] = -1
        in_link &= remote.link_class != c
    if extra_t:
        rt, re = np.concatenate(extra_t), np.concatenate(extra_e)
        arc_t = np.concatenate((arc_t, rt))
        arc_e = np.concatenate((arc_e, re))
        arc_km = np.concatenate((arc_km, remote_km[re]))
        arc_mode = np.concatenate((arc_mode, np.full(len(rt), MODE_REMOTE, dtype=np.int8)))
        order = np.lexsort((arc_t, arc_e))
        arc_t, arc_e, arc_km, arc_mode = arc_t[order], arc_e[order], arc_km[order], arc_mode[order]
    link_class, link_tutor = remote.link_class[in_link], remote.link_tutor[in_link]
    live = capacity[link_tutor] > 0
    link_class, link_tutor = link_class[live], link_tutor[live]
    # Classes whose tutors are all full lose their establishments' remote path.
    served = np.zeros(remote.n_classes + 1, dtype=bool)
    served[link_class] = True
    remote_class = np.where(served[remote_class], remote_class, -1)  # -1 reads the False sentinel

    priority_int, priority_scale = _integer_priorities(e.priority)
    n_nodes = n_e + remote.n_classes + n_t + 2
    worst_km = np.maximum(_costliest_pair_km(problem), remote_km)
    if len(arc_km):
        np.maximum.at(worst_km, arc_e, arc_km)
    _check_finite(arc_km, remote_km, worst_km)
    unit = _cost_unit(worst_km, priority_int, n_nodes, cost_resolution_km)
    arc_cost = _scaled_costs(arc_km, unit)
    remote_cost = _scaled_costs(remote_km, unit)
    # M must exceed the cost of any plan over *every* eligible pair, not
    # only the pool's: pricing may bring in dearer pairs later.
    big_m = int(_scaled_costs(worst_km, unit)[active].sum()) + 1
    if unit != cost_resolution_km:
        warnings.warn(
            f"costs were scaled to integers in units of {unit:g} km (not {cost_resolution_km:g}) "
            "to stay within 64-bit arithmetic; plans are optimal at that resolution.",
            TutormatchWarning,
            stacklevel=4,
        )
    return Network(
        n_tutors=n_t,
        n_establishments=n_e,
        active=active,
        arc_tutor=arc_t,
        arc_establishment=arc_e,
        arc_mode=arc_mode,
        arc_cost=arc_cost,
        remote_class=remote_class,
        remote_cost=remote_cost,
        link_class=link_class,
        link_tutor=link_tutor,
        n_classes=remote.n_classes,
        uncovered_cost=big_m * priority_int,
        capacity=capacity,
        min_load=min_load,
        fixed_load=fixed_load,
        full_capacity=t.capacity.astype(np.int64),
        all_or_nothing=problem.all_or_nothing,
        bad_remote_keys=bad_keys,
        explicit_classes=frozenset(explicit_classes),
        cost_unit_km=unit,
        priority_int=priority_int,
        priority_scale=priority_scale,
        big_m=big_m,
    )


def composite_to_levels(network: Network, value: float) -> tuple[int, float]:
    """Split a composite objective into (uncovered priority, cost) integer levels."""
    if not math.isfinite(value):
        return 0, value
    uncovered = int(value // network.big_m)
    return uncovered, value - uncovered * network.big_m
