"""Benchmarks: tutormatch against the baselines a user would otherwise write.

Every measurement runs in a fresh interpreter (one subprocess per run), for a
clean peak memory and so that PuLP never shares a process with OR-Tools. The
subprocess loads *this file* by path, not the ``tutormatch`` package: the
baselines then import only numpy, scipy, PuLP or OR-Tools, and their memory
is their own. Methods solve the very same integer model: the pairs, integer
costs, capacities and integer priorities of tutormatch's own network
(:func:`tutormatch.solve._network.build_network` over every eligible pair),
exported once per case before any run.

The parent collects one JSON line per run, takes medians over repeats,
checks that every exact method reached the same (uncovered priority, cost)
integer levels as tutormatch's min-cost flow, and writes a Markdown table,
CSV and JSON files and log-log plots of time against candidate pairs.

Run it with ``python benchmarks/run.py [--quick]`` (``make bench`` for the
quick suite) in a source checkout; see ``benchmarks/README.md``. It is not
part of the installed package: the package ships what users import.

Notes
-----
Top-level imports are the standard library and numpy only, on purpose: this
module is also the worker of the baselines, whose memory must not include
tutormatch's imports.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import dataclasses
import datetime as dt
import fnmatch
import functools
import hashlib
import importlib.metadata
import importlib.util
import io
import json
import math
import os
import platform
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["METHODS", "SUITES", "Case", "main", "run", "run_suite"]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

_RESULT_MARK = "BENCH-RESULT "
_SLOW_SECONDS = 10.0  # a method slower than this in its first run is not repeated
_DENSE_BYTES_CAP = 5e8  # scipy's linear_sum_assignment needs a dense slot matrix
_PULP_PAIRS_CAP = 300_000  # PuLP's model building alone takes minutes beyond
_ACADEMIE = ("04", "05", "13", "84")  # Aix-Marseille
# Auvergne-Rhône-Alpes (académies of Lyon, Grenoble, Clermont-Ferrand).
_LARGE_ACADEMIE = ("01", "03", "07", "15", "26", "38", "42", "43", "63", "69", "73", "74")


# -- cases -------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One benchmark instance and the methods to run on it.

    Attributes
    ----------
    name : str
    n_establishments, n_tutors : int
        Sizes (ignored by ``source="example"``, always 500 x 260).
    source : {"synthetic", "example", "nearest", "allpairs"}
        ``"synthetic"``: :func:`tutormatch.datasets.synthetic_instance` with
        its eligibility rules (roles, waves, personal limits) and a distance
        limit, written to CSV files. ``"allpairs"``: the same without any
        limit, every pair eligible; too many pairs to export, so the baselines
        get each establishment's ``k`` nearest (not exact) and plans are
        costed from the coordinates. ``"example"``: the example académie
        (Aix-Marseille). ``"nearest"``: the issue's shape, each
        establishment's ``k`` nearest tutors as a sparse distance matrix
        (:meth:`tutormatch.Problem.from_arrays`), no limit, equal priorities.
    structure : {"communes", "uniform", "clustered"}
    departements : tuple of str, optional
        Region of the generator; default all of metropolitan France.
    max_distance_km : float
        On-site limit (``inf``: every pair allowed by the rules).
    k : int
        Nearest tutors per establishment, for ``source="nearest"``.
    capacity : int
        Capacity of every synthetic tutor.
    rules : bool
        Synthetic cases: with the eligibility rules (roles, waves, personal
        limits), or without (every pair within the limit is eligible).
    side : {"none", "min_load", "all_or_nothing"}
        Side constraints: ``"min_load"`` gives a minimum load of 1 to as many
        tutors as can have one (a maximum matching decides, so the problem
        stays feasible); ``"all_or_nothing"`` each tutor takes 0 or exactly
        their capacity.
    time_limit : float
        Seconds, for the methods that take one (CP-SAT, CBC).
    methods : tuple of str
        Keys of :data:`METHODS`.
    series : str
        Scaling series the case belongs to, for the plots ("" for none).
    headline : bool
        Show the case in the headline ratio table.
    """

    name: str
    n_establishments: int = 500
    n_tutors: int = 260
    source: str = "synthetic"
    structure: str = "communes"
    departements: tuple[str, ...] | None = None
    max_distance_km: float = 60.0
    k: int = 30
    capacity: int = 2
    rules: bool = True
    side: str = "none"
    seed: int = 1
    time_limit: float = 60.0
    methods: tuple[str, ...] = ()
    series: str = ""
    headline: bool = False

    def __post_init__(self) -> None:
        for name, valid in (
            ("source", ("synthetic", "example", "nearest", "allpairs")),
            ("structure", ("communes", "uniform", "clustered")),
            ("side", ("none", "min_load", "all_or_nothing")),
        ):
            if getattr(self, name) not in valid:
                raise ValueError(
                    f"Case {self.name!r}: {name} must be one of {valid}; got {getattr(self, name)!r}."
                )
        unknown = sorted(set(self.methods) - set(METHODS))
        if unknown:
            raise ValueError(
                f"Case {self.name!r}: unknown methods {unknown}; choose among {sorted(METHODS)}."
            )

    @property
    def _region(self) -> str:
        regions: dict[tuple[str, ...] | None, str] = {
            None: "France",
            _ACADEMIE: "Aix-Marseille",
            _LARGE_ACADEMIE: "Auvergne-Rhône-Alpes",
        }
        return regions.get(self.departements, ", ".join(self.departements or ()))

    @property
    def description(self) -> str:
        """A one-line description for the tables."""
        if self.source == "example":
            what = "example académie (Aix-Marseille), 500 × 260, priorities 1–3, capacities 1–3"
        elif self.source == "nearest":
            where = "real communes" if self.structure == "communes" else self.structure
            what = (
                f"{self.n_establishments:,} × {self.n_tutors:,} on {where}, {self._region}, "
                f"each establishment's {self.k} nearest tutors, no limit, equal priorities"
            )
        else:
            region = self._region
            slots = self.n_tutors * self.capacity / max(self.n_establishments, 1)
            what = (
                f"{self.n_establishments:,} × {self.n_tutors:,}, {self.structure}, {region}, "
                f"{slots:.2f} slots per establishment"
            )
        if not self.rules:
            what += ", no rules"
        if self.source == "allpairs":
            what += f" (baselines: the {self.k} nearest)"
        if self.source != "nearest":
            what += (
                ", no limit" if not math.isfinite(self.max_distance_km) else f", {self.max_distance_km:g} km"
            )
        if self.side == "min_load":
            what += ", minimum loads"
        elif self.side == "all_or_nothing":
            what += ", all-or-nothing loads"
        return what


_PURE = (
    "kdtree",
    "tm-flow",
    "tm-csv",
    "ortools-mcf",
    "scipy-lapjvsp",
    "scipy-lsa",
    "pulp-cbc",
    "greedy",
)


def _academie(name: str, n_t: int, structure: str = "communes", **kw: Any) -> Case:
    return Case(name, 500, n_t, structure=structure, departements=_ACADEMIE, **kw)


def quick_suite() -> list[Case]:
    """About a minute on two cores: the académie, one national flow case, a side constraint."""
    return [
        Case("academie-example", source="example", methods=_PURE, headline=True),
        Case(
            "national-communes",
            8000,
            4000,
            methods=("kdtree", "tm-flow", "tm-csv", "ortools-mcf", "scipy-lapjvsp", "greedy"),
            headline=True,
        ),
        Case(
            "academie-example-aon",
            source="example",
            side="all_or_nothing",
            methods=("tm-auto",),
            time_limit=20.0,
            headline=True,
        ),
        _academie(
            "academie-communes-aon",
            260,
            side="all_or_nothing",
            methods=("tm-auto",),
            time_limit=20.0,
            headline=True,
        ),
        Case(
            "national-communes-aon",
            8000,
            4000,
            side="all_or_nothing",
            methods=("tm-auto",),
            headline=True,
        ),
    ]


def full_suite() -> list[Case]:
    """Every case of ``benchmarks/README.md``: about 20 minutes on two cores."""
    every = (*_PURE, "tm-cpsat")
    scaling = "scaling-60km"
    nearest = "scaling-nearest30"
    cases = [
        # Académie: 500 establishments.
        Case("academie-example", source="example", methods=every, headline=True),
        Case(
            "academie-example-allpairs",
            source="example",
            max_distance_km=math.inf,
            methods=every,
            headline=True,
        ),
        _academie("academie-communes-shortage", 200, methods=_PURE),
        _academie("academie-communes-surplus", 375, methods=_PURE),
        _academie("academie-uniform", 260, "uniform", methods=_PURE),
        _academie("academie-clustered", 260, "clustered", methods=_PURE),
        # Large académie: 2,000 establishments.
        Case(
            "large-communes",
            2000,
            1000,
            departements=_LARGE_ACADEMIE,
            methods=_PURE,
            headline=True,
        ),
        Case("large-communes-shortage", 2000, 800, departements=_LARGE_ACADEMIE, methods=_PURE),
        Case("large-communes-surplus", 2000, 1500, departements=_LARGE_ACADEMIE, methods=_PURE),
        Case(
            "large-clustered", 2000, 1000, structure="clustered", departements=_LARGE_ACADEMIE, methods=_PURE
        ),
        # National: 8,000 establishments.
        Case("national-uniform", 8000, 4000, structure="uniform", methods=_PURE),
        Case("national-clustered", 8000, 4000, structure="clustered", methods=_PURE),
        Case("national-communes-shortage", 8000, 3200, methods=_PURE),
        Case("national-communes-surplus", 8000, 6000, methods=_PURE),
        # Side constraints.
        Case(
            "academie-example-minload",
            source="example",
            side="min_load",
            methods=("tm-flow", "tm-cpsat", "pulp-cbc"),
            headline=True,
        ),
        Case(
            "academie-example-aon",
            source="example",
            side="all_or_nothing",
            methods=("tm-auto", "tm-cpsat", "pulp-cbc"),
            headline=True,
        ),
        _academie(
            "academie-communes-aon",
            260,
            side="all_or_nothing",
            methods=("tm-auto", "tm-cpsat", "pulp-cbc"),
            headline=True,
        ),
        Case("national-communes-minload", 8000, 4000, side="min_load", methods=("tm-flow", "tm-cpsat")),
        Case(
            "national-communes-aon",
            8000,
            4000,
            side="all_or_nothing",
            methods=("tm-auto", "tm-cpsat"),
            headline=True,
        ),
    ]
    # The shapes of issue 9, measured independently: no eligibility rules.
    towns = {"structure": "clustered", "departements": _LARGE_ACADEMIE, "rules": False}
    cases += [
        Case(
            "shape-towns-allpairs",
            8000,
            4000,
            source="allpairs",
            max_distance_km=math.inf,
            methods=("tm-flow", "tm-csv", "ortools-mcf", "tm-cli", "tm-cli-lean", "ortools-script"),
            headline=True,
            **towns,  # type: ignore[arg-type]
        ),
        Case(
            "shape-towns-nearest30",
            8000,
            4000,
            source="nearest",
            methods=("tm-flow", "ortools-mcf", "scipy-lapjvsp"),
            headline=True,
            **towns,  # type: ignore[arg-type]
        ),
    ]
    for n in (2000, 8000, 16000):
        cases.append(
            Case(
                f"shape-communes-norules-{n}",
                n,
                n // 2,
                rules=False,
                methods=(
                    "kdtree",
                    "tm-flow",
                    "tm-csv",
                    "ortools-mcf",
                    "tm-cli",
                    "tm-cli-lean",
                    "ortools-script",
                ),
                series="scaling-60km-norules",
                headline=n in (8000, 16000),
            )
        )
    # Scaling, 60 km on real communes (2 slots per establishment): pairs grow
    # faster than sizes, as density grows.
    for n in (250, 500, 1000, 2000, 4000, 8000, 16000):
        cases.append(
            Case(
                "national-communes" if n == 8000 else f"scaling-communes-{n}",
                n,
                n // 2,
                methods=_PURE,
                series=scaling,
                headline=n == 8000,
            )
        )
    # Scaling in the shape: 30 nearest, pairs = 30 x establishments.
    for n in (500, 1000, 2000, 4000, 8000, 16000):
        cases.append(
            Case(
                "national-nearest30" if n == 8000 else f"scaling-nearest30-{n}",
                n,
                n // 2,
                source="nearest",
                methods=(*_PURE, "tm-cpsat") if n == 8000 else _PURE,
                time_limit=60.0,
                series=nearest,
                headline=n == 8000,
            )
        )
    return cases


#: Suites by name.
SUITES: dict[str, Callable[[], list[Case]]] = {"quick": quick_suite, "full": full_suite}


# -- inputs, prepared once per case (parent side, imports tutormatch) --------------


def _case_folder(work: Path, case: Case) -> Path:
    return work / case.name


def _frames(case: Case) -> tuple[Any, Any]:
    from tutormatch.datasets import example_frames, synthetic_instance

    if case.source == "example":
        return example_frames()
    tutors, establishments = synthetic_instance(
        case.n_establishments,
        case.n_tutors,
        structure=case.structure,
        departements=list(case.departements) if case.departements else None,
        seed=case.seed,
        capacity=case.capacity,
        waves=case.rules,
        roles=case.rules,
    )
    if not case.rules:
        tutors = tutors.drop(columns="max_km")
    return tutors, establishments


def load_problem(case: Case, folder: Path) -> Any:
    """Build the case's :class:`~tutormatch.Problem` from its prepared files."""
    import tutormatch as tm

    if case.source == "nearest":
        import scipy.sparse as sp

        data = np.load(folder / "matrix.npz")
        matrix = sp.csr_array((data["data"], data["indices"], data["indptr"]), shape=tuple(data["shape"]))
        n_t, n_e = matrix.shape
        return tm.Problem.from_arrays(
            matrix,
            capacity=case.capacity,
            priority=1.0,
            visits_per_year=data["visits"],
            tutor_ids=[f"T{i:06d}" for i in range(n_t)],
            establishment_ids=[f"E{j:06d}" for j in range(n_e)],
            all_or_nothing=case.side == "all_or_nothing",
            # Every stored pair on-site, no remote: as before from_arrays
            # took from_frames' defaults (60 km, remote allowed).
            max_distance_km=math.inf,
            allow_remote=False,
        )
    return tm.Problem.from_csv(folder / "tutors.csv", folder / "establishments.csv", **_csv_options(case))


def _csv_options(case: Case) -> dict[str, Any]:
    return {
        "max_distance_km": case.max_distance_km,
        "allow_remote": False,
        "all_or_nothing": case.side == "all_or_nothing",
    }


def _write_nearest(case: Case, folder: Path) -> None:
    from tutormatch.geo import k_nearest_pairs

    tutors, establishments = _frames(dataclasses.replace(case, source="synthetic"))
    lon_t, lat_t = tutors["lon"].to_numpy(float), tutors["lat"].to_numpy(float)
    lon_e, lat_e = establishments["lon"].to_numpy(float), establishments["lat"].to_numpy(float)
    tutor, establishment, distance = k_nearest_pairs(lon_t, lat_t, lon_e, lat_e, case.k)
    import scipy.sparse as sp

    matrix = sp.csr_array((distance, (tutor, establishment)), shape=(len(lon_t), len(lon_e)))
    matrix.sort_indices()
    np.savez(
        folder / "matrix.npz",
        data=matrix.data,
        indices=matrix.indices,
        indptr=matrix.indptr,
        shape=np.array(matrix.shape),
        visits=establishments["visits_per_year"].to_numpy(float),
    )
    np.savez(folder / "coords.npz", lon_t=lon_t, lat_t=lat_t, lon_e=lon_e, lat_e=lat_e)


def _min_loads(case: Case, tutors: Any, folder: Path) -> Any:
    """Give a minimum load of 1 to the tutors of a maximum tutor-establishment matching."""
    import scipy.sparse as sp
    from scipy.sparse.csgraph import maximum_bipartite_matching

    from tutormatch.solve._pool import full_pool

    problem = load_problem(dataclasses.replace(case, side="none"), folder)
    pool = full_pool(problem)
    graph = sp.csr_array(
        (np.ones(pool.n_pairs), (pool.tutor, pool.establishment)),
        shape=(problem.n_tutors, problem.n_establishments),
    )
    match = maximum_bipartite_matching(graph, perm_type="column")
    lucky = set(np.asarray(problem.tutors.id, dtype=object)[match >= 0].tolist())
    tutors = tutors.copy()
    tutors["min_load"] = tutors["tutor_id"].isin(lucky).astype(int)
    return tutors


def prepare(case: Case, folder: Path) -> dict[str, Any]:
    """Write the case's input files and its exported integer model; return its sizes.

    Files: ``tutors.csv`` and ``establishments.csv`` (or ``matrix.npz``),
    ``coords.npz`` (locations, for the candidate-generation floor) and
    ``network.npz`` (the model every method solves).
    """
    folder.mkdir(parents=True, exist_ok=True)
    if case.source == "nearest":
        _write_nearest(case, folder)
        problem = load_problem(case, folder)
    else:
        tutors, establishments = _frames(case)
        establishments.to_csv(folder / "establishments.csv", index=False)
        tutors.to_csv(folder / "tutors.csv", index=False)
        if case.side == "min_load":
            tutors = _min_loads(case, tutors, folder)
            tutors.to_csv(folder / "tutors.csv", index=False)
        problem = load_problem(case, folder)
        t, e = problem.tutors, problem.establishments
        np.savez(folder / "coords.npz", lon_t=t.lon, lat_t=t.lat, lon_e=e.lon, lat_e=e.lat)
    network = export_network(problem, k=case.k if case.source == "allpairs" else None)
    np.savez(folder / "network.npz", **network)  # type: ignore[arg-type]  # numpy's stub is too narrow
    return {
        "n_establishments": problem.n_establishments,
        "n_tutors": problem.n_tutors,
        "slots": int(network["capacity"].sum()),
        "n_pairs": len(network["arc_cost"]),
        "min_loads": int((network["min_load"] > 0).sum()),
    }


def export_network(problem: Any, k: int | None = None) -> dict[str, npt.NDArray[Any]]:
    """Export tutormatch's integer model over every eligible pair (or the ``k`` nearest), as plain arrays.

    Every method solves this model: minimise
    ``sum(arc_cost * x) + sum(big_m * priority_int * uncovered)`` with each
    establishment covered at most once and each tutor's load within
    ``[min_load, capacity]`` (0 or ``capacity`` under all-or-nothing).

    Raises
    ------
    ValueError
        If the problem has remote pairs or fixed pairs, which the baselines do
        not model.
    """
    from tutormatch.solve._network import build_network
    from tutormatch.solve._pool import full_pool, initial_pool

    # The integer unit and M depend on every eligible pair, not on the pool.
    network = build_network(problem, full_pool(problem) if k is None else initial_pool(problem, k))
    if len(network.link_class) or network.arc_mode.any() or not network.active.all():
        raise ValueError("benchmark cases must have no remote and no fixed pairs (allow_remote=False).")
    return {
        "arc_tutor": network.arc_tutor,
        "arc_establishment": network.arc_establishment,
        "arc_cost": network.arc_cost,
        "capacity": network.capacity,
        "min_load": network.min_load,
        "priority_int": network.priority_int,
        "big_m": np.array(network.big_m, dtype=np.int64),
        "cost_unit_km": np.array(network.cost_unit_km),
        "all_or_nothing": np.array(network.all_or_nothing),
        "visits": np.asarray(problem.establishments.visits_per_year, dtype=np.float64),
    }


# -- the model, as the baselines see it (child side, numpy only) --------------


@dataclass(frozen=True, eq=False)
class Model:
    """The exported integer model (see :func:`export_network`)."""

    arc_tutor: IntArray
    arc_establishment: IntArray
    arc_cost: IntArray
    capacity: IntArray
    min_load: IntArray
    priority_int: IntArray
    big_m: int
    cost_unit_km: float
    all_or_nothing: bool

    @classmethod
    def load(cls, folder: Path) -> Model:
        """Read ``network.npz``."""
        with np.load(folder / "network.npz") as data:
            return cls(
                arc_tutor=data["arc_tutor"],
                arc_establishment=data["arc_establishment"],
                arc_cost=data["arc_cost"],
                capacity=data["capacity"],
                min_load=data["min_load"],
                priority_int=data["priority_int"],
                big_m=int(data["big_m"]),
                cost_unit_km=float(data["cost_unit_km"]),
                all_or_nothing=bool(data["all_or_nothing"]),
            )

    @property
    def n_tutors(self) -> int:
        """Number of tutors."""
        return len(self.capacity)

    @property
    def n_establishments(self) -> int:
        """Number of establishments."""
        return len(self.priority_int)

    @property
    def uncovered_cost(self) -> IntArray:
        """Cost of leaving each establishment uncovered: ``big_m x priority``."""
        return self.big_m * self.priority_int

    def arcs_of_pairs(self, tutor: IntArray, establishment: IntArray) -> IntArray:
        """Arc index of each (tutor, establishment) pair; -1 when not in the model."""
        n_e = self.n_establishments
        keys = self.arc_tutor * n_e + self.arc_establishment
        order = np.argsort(keys, kind="stable")
        wanted = np.asarray(tutor, dtype=np.int64) * n_e + np.asarray(establishment, dtype=np.int64)
        pos = np.minimum(np.searchsorted(keys[order], wanted), max(len(keys) - 1, 0))
        found = keys[order][pos] == wanted if len(keys) else np.zeros(len(wanted), dtype=bool)
        return np.where(found, order[pos], -1)

    def pair_levels(
        self, folder: Path, tutor: IntArray, establishment: IntArray
    ) -> tuple[int, int, int, str]:
        """Like :meth:`levels` for any pairs (not only the model's), costed from the coordinates."""
        with np.load(folder / "coords.npz") as c, np.load(folder / "network.npz") as n:
            lon_t, lat_t, lon_e, lat_e = (np.radians(c[k]) for k in ("lon_t", "lat_t", "lon_e", "lat_e"))
            visits = n["visits"]
        t, e = np.asarray(tutor, dtype=np.int64), np.asarray(establishment, dtype=np.int64)
        half = (
            np.sin((lat_e[e] - lat_t[t]) / 2) ** 2
            + np.cos(lat_t[t]) * np.cos(lat_e[e]) * np.sin((lon_e[e] - lon_t[t]) / 2) ** 2
        )
        km = 2 * 6371.0088 * np.arcsin(np.sqrt(np.clip(half, 0, 1)))
        cost = np.round(2 * visits[e] * km / self.cost_unit_km).astype(np.int64)
        per_e = np.bincount(e, minlength=self.n_establishments)
        load = np.bincount(t, minlength=self.n_tutors)
        problems = []
        if (per_e > 1).any():
            problems.append(f"{int((per_e > 1).sum())} establishments covered twice")
        if (load > self.capacity).any():
            problems.append(f"{int((load > self.capacity).sum())} tutors over capacity")
        uncovered = int(self.priority_int[per_e == 0].sum())
        return uncovered, int(cost.sum()), int((per_e > 0).sum()), "; ".join(problems)

    def levels(self, arcs: IntArray) -> tuple[int, int, int, str]:
        """Return a plan's uncovered priority, cost, covered count and what it breaks ("" if nothing)."""
        arcs = np.asarray(arcs, dtype=np.int64)
        problems = []
        if (arcs < 0).any():
            problems.append(f"{int((arcs < 0).sum())} pairs outside the model")
            arcs = arcs[arcs >= 0]
        per_e = np.bincount(self.arc_establishment[arcs], minlength=self.n_establishments)
        load = np.bincount(self.arc_tutor[arcs], minlength=self.n_tutors)
        if (per_e > 1).any():
            problems.append(f"{int((per_e > 1).sum())} establishments covered twice")
        if (load > self.capacity).any():
            problems.append(f"{int((load > self.capacity).sum())} tutors over capacity")
        if (load < self.min_load).any():
            problems.append(f"{int((load < self.min_load).sum())} tutors under their minimum load")
        if self.all_or_nothing and ((load > 0) & (load != self.capacity)).any():
            problems.append("partial loads under all-or-nothing")
        uncovered = int(self.priority_int[per_e == 0].sum())
        return uncovered, int(self.arc_cost[arcs].sum()), int((per_e > 0).sum()), "; ".join(problems)


# -- methods (child side) ------------------------------------------------------


@dataclass
class Outcome:
    """What one method returned: its plan as arcs of the model, and how it ended."""

    arcs: IntArray | None  # None: no plan (the floor, or a failure)
    status: str  # "optimal", "not_proven", "heuristic", "floor", "no_plan"
    gap: float | None = None
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Method:
    """A benchmarked method: how to run it and when it does not apply."""

    label: str
    run: Callable[[Case, Path, float], Outcome]
    exact: bool
    skip: Callable[[Case, dict[str, Any]], str | None]
    #: What it starts from ("problem", "model" or "coords"), loaded before the clock starts.
    starts_from: str = "model"
    #: Modules imported before the clock starts: imports are not the method's work.
    imports: tuple[str, ...] = ()


def _no_side(what: str) -> Callable[[Case, dict[str, Any]], str | None]:
    def skip(case: Case, info: dict[str, Any]) -> str | None:
        del info
        return f"{what} cannot express {case.side.replace('_', '-')} loads" if case.side != "none" else None

    return skip


def _never(case: Case, info: dict[str, Any]) -> str | None:
    del case, info
    return None


_SETUP: dict[str, Any] = {}  # what a method starts from, loaded before the clock starts


def _solve_outcome(problem: Any, solver: str, time_limit: float | None) -> Outcome:
    import tutormatch as tm

    plan = tm.solve(problem, solver=solver, time_limit=time_limit)  # type: ignore[arg-type]
    stats = {k: v for k, v in plan.stats.items() if isinstance(v, int | float | bool | str)}
    detail = {"solve_seconds": plan.solve_seconds, "solver": plan.solver, "message": plan.message, **stats}
    if not plan.status.has_solution:
        return Outcome(None, "no_plan", detail=detail)
    status = "optimal" if plan.status.is_optimal else "not_proven"
    gap = None if plan.status.is_optimal else float(plan.gap)
    return Outcome(None, status, gap, {**detail, "_plan": plan})


def _run_tm_flow(case: Case, folder: Path, budget: float) -> Outcome:
    """``tm.solve(solver="flow")`` on a problem already built."""
    del case, folder, budget
    return _solve_outcome(_SETUP["problem"], "flow", None)


def _run_tm_auto(case: Case, folder: Path, budget: float) -> Outcome:
    """``tm.solve(solver="auto")``: the backend tutormatch picks, with the case's time limit."""
    del folder, budget
    return _solve_outcome(_SETUP["problem"], "auto", case.time_limit)


def _run_tm_cpsat(case: Case, folder: Path, budget: float) -> Outcome:
    """``tm.solve(solver="cpsat")`` with the case's time limit."""
    del folder, budget
    return _solve_outcome(_SETUP["problem"], "cpsat", case.time_limit)


def _run_tm_csv(case: Case, folder: Path, budget: float) -> Outcome:
    """Read the CSV files, build the problem and solve: end to end, imports aside."""
    del budget
    return _solve_outcome(load_problem(case, folder), "flow", None)


@dataclass(frozen=True)
class _Pairs:
    """A plan read back from a file, as indices of the case's problem."""

    tutor: IntArray
    establishment: IntArray


def _pairs_from_file(case: Case, folder: Path, path: Path, id_column: str) -> _Pairs:
    """Map a plan file's ``uai`` and ``tutor_id`` columns to the problem's indices (after the clock)."""
    import pandas as pd

    problem = load_problem(case, folder)
    rows = pd.read_csv(path, dtype=str, sep=None, engine="python", encoding="utf-8-sig")
    rows = rows[rows[id_column].notna() & (rows[id_column] != "")]
    tutor_index = {str(v): i for i, v in enumerate(problem.tutors.id)}
    est_index = {str(v): i for i, v in enumerate(problem.establishments.id)}
    return _Pairs(
        np.array([tutor_index[v] for v in rows[id_column]], dtype=np.int64),
        np.array([est_index[v] for v in rows["uai"]], dtype=np.int64),
    )


@functools.cache
def _compile_tutormatch() -> None:
    """Write tutormatch's bytecode, as ``pip install`` does, outside the timed runs.

    Where ``PYTHONDONTWRITEBYTECODE`` is set (or the source tree is fresh),
    every whole process would otherwise compile tutormatch's ~70 modules
    again (0.13 s), while the baselines' libraries come compiled.
    """
    import compileall
    import importlib.util

    spec = importlib.util.find_spec("tutormatch")
    if spec is not None and spec.submodule_search_locations:
        for folder in spec.submodule_search_locations:
            compileall.compile_dir(folder, quiet=1)


def _whole_process(argv: list[str], budget: float) -> float:
    """Run a whole process; return its wall time in seconds."""
    _compile_tutormatch()
    started = time.perf_counter()
    completed = subprocess.run(argv, capture_output=True, text=True, timeout=budget, check=False)
    seconds = time.perf_counter() - started
    if completed.returncode != 0:
        raise RuntimeError(f"{argv[1:3]} exited {completed.returncode}: {completed.stderr[-500:]}")
    return seconds


def _run_tm_cli(case: Case, folder: Path, budget: float, *, lean: bool = False) -> Outcome:
    """``tutormatch solve tutors.csv establishments.csv --out DIR``: the whole process, plan files written.

    ``lean``: with ``--formats csv`` (no ``assignment.xlsx``), the lean run a
    user who wants one CSV file would make.
    """
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "plan"
        argv = [sys.executable, "-m", "tutormatch", "solve", str(folder / "tutors.csv")]
        argv += [str(folder / "establishments.csv"), "--out", str(out), "--quiet", "--lang", "en"]
        argv += ["--max-km", str(case.max_distance_km), "--no-remote"]
        argv += ["--all-or-nothing"] if case.side == "all_or_nothing" else []
        argv += ["--formats", "csv"] if lean else []
        seconds = _whole_process(argv, budget)
        summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
        plan = _pairs_from_file(case, folder, out / "assignment.csv", "tutor_id")
    status = "optimal" if summary.get("status") == "optimal" else "not_proven"
    return Outcome(None, status, detail={"process_seconds": seconds, "_plan": plan})


def _run_ortools_script(case: Case, folder: Path, budget: float) -> Outcome:
    """``benchmarks/baselines/ortools_nearest.py``: a hand-written script, the whole process."""
    script = Path(__file__).with_name("baselines") / "ortools_nearest.py"
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "plan.csv"
        argv = [sys.executable, str(script), str(folder / "tutors.csv"), str(folder / "establishments.csv")]
        argv += [str(out), str(case.k), str(case.max_distance_km)]
        seconds = _whole_process(argv, budget)
        plan = _pairs_from_file(case, folder, out, "tutor_id")
    return Outcome(None, "heuristic", detail={"process_seconds": seconds, "_plan": plan})


def _skip_whole(case: Case, info: dict[str, Any]) -> str | None:
    if case.side != "none" or case.rules:
        return "whole-process runs are measured on the pure shapes (the script knows no rules)"
    return _skip_tm_csv(case, info)


def _skip_tm_csv(case: Case, info: dict[str, Any]) -> str | None:
    if case.source == "nearest":
        return "built from a distance matrix, not from CSV files"
    return _skip_tm_flow(case, info)


def _skip_tm_flow(case: Case, info: dict[str, Any]) -> str | None:
    del info
    return "the flow cannot carry all-or-nothing loads" if case.side == "all_or_nothing" else None


def _run_kdtree(case: Case, folder: Path, budget: float) -> Outcome:
    del budget
    from tutormatch.geo import k_nearest_pairs, pairs_within_km

    c = _SETUP["coords"]
    if case.source == "nearest":
        found = k_nearest_pairs(c["lon_t"], c["lat_t"], c["lon_e"], c["lat_e"], case.k)
    else:
        found = pairs_within_km(c["lon_t"], c["lat_t"], c["lon_e"], c["lat_e"], case.max_distance_km)
    return Outcome(None, "floor", detail={"pairs_found": len(found[0])})


def _skip_kdtree(case: Case, info: dict[str, Any]) -> str | None:
    del info
    if not math.isfinite(case.max_distance_km) and case.source != "nearest":
        return "no limit: every pair is a candidate"
    return None


def _run_mcf(case: Case, folder: Path, budget: float) -> Outcome:
    """OR-Tools' SimpleMinCostFlow on the pairs, as a user would write it."""
    del folder, budget
    from ortools.graph.python import min_cost_flow

    m: Model = _SETUP["model"]
    n_e, n_t = m.n_establishments, m.n_tutors
    sink = n_e + n_t
    tails = np.concatenate((m.arc_establishment, n_e + np.arange(n_t), np.arange(n_e)))
    heads = np.concatenate((n_e + m.arc_tutor, np.full(n_t, sink), np.full(n_e, sink)))
    caps = np.concatenate((np.ones(len(m.arc_cost), np.int64), m.capacity, np.ones(n_e, np.int64)))
    costs = np.concatenate((m.arc_cost, np.zeros(n_t, np.int64), m.uncovered_cost))
    smcf = min_cost_flow.SimpleMinCostFlow()
    arcs = smcf.add_arcs_with_capacity_and_unit_cost(
        tails.astype(np.int32), heads.astype(np.int32), caps, costs
    )
    supplies = np.zeros(sink + 1, dtype=np.int64)
    supplies[:n_e] = 1
    supplies[sink] = -n_e
    smcf.set_nodes_supplies(np.arange(sink + 1, dtype=np.int32), supplies)
    status = smcf.solve()
    if status != smcf.OPTIMAL:
        return Outcome(None, "no_plan", detail={"message": f"status {status}"})
    flows = np.asarray(smcf.flows(arcs[: len(m.arc_cost)]))
    # On the k nearest of an all-pairs case it is exact on its pairs only.
    return Outcome(np.flatnonzero(flows > 0), "heuristic" if case.source == "allpairs" else "optimal")


def _slot_columns(m: Model) -> tuple[IntArray, int]:
    """First slot column of each tutor, and the number of slots."""
    start = np.concatenate(([0], np.cumsum(m.capacity)[:-1])).astype(np.int64)
    return start, int(m.capacity.sum())


def _slot_arcs(m: Model) -> tuple[IntArray, IntArray]:
    """Every (arc, slot column) of the slot-expanded matrix."""
    start, _ = _slot_columns(m)
    arcs, cols = [], []
    for j in range(int(m.capacity.max(initial=0))):
        has = np.flatnonzero(m.capacity[m.arc_tutor] > j)
        arcs.append(has)
        cols.append(start[m.arc_tutor[has]] + j)
    return np.concatenate(arcs), np.concatenate(cols)


def _arcs_of_slots(m: Model, rows: IntArray, cols: IntArray) -> IntArray:
    """Map matched (establishment, slot column) back to arcs of the model."""
    _, n_slots = _slot_columns(m)
    real = cols < n_slots
    slot_tutor = np.repeat(np.arange(m.n_tutors), m.capacity)
    return m.arcs_of_pairs(slot_tutor[cols[real]], rows[real])


def _run_lsa(case: Case, folder: Path, budget: float) -> Outcome:
    """Solve with scipy's linear_sum_assignment on a dense, slot-expanded matrix."""
    del case, folder, budget
    from scipy.optimize import linear_sum_assignment

    m: Model = _SETUP["model"]
    _, n_slots = _slot_columns(m)
    n_e = m.n_establishments
    cost = np.full((n_e, n_slots + n_e), np.inf)
    arcs, cols = _slot_arcs(m)
    cost[m.arc_establishment[arcs], cols] = m.arc_cost[arcs]
    # One "uncovered" column per establishment; any of them will do for any row.
    cost[:, n_slots:] = m.uncovered_cost[:, None].astype(np.float64)
    rows, cols = linear_sum_assignment(cost)
    return Outcome(_arcs_of_slots(m, rows, cols), "optimal")


def _skip_lsa(case: Case, info: dict[str, Any]) -> str | None:
    if case.side != "none":
        return _no_side("an assignment matrix")(case, info)
    size = info["n_establishments"] * (info["slots"] + info["n_establishments"]) * 8
    if size > _DENSE_BYTES_CAP:
        return f"the dense slot matrix would take {size / 1e9:.1f} GB"
    return None


def _run_lapjvsp(case: Case, folder: Path, budget: float) -> Outcome:
    """Solve with scipy's min_weight_full_bipartite_matching (LAPJVsp) on a sparse slot matrix."""
    del case, folder, budget
    import scipy.sparse as sp
    from scipy.sparse.csgraph import min_weight_full_bipartite_matching

    m: Model = _SETUP["model"]
    _, n_slots = _slot_columns(m)
    n_e = m.n_establishments
    arcs, cols = _slot_arcs(m)
    rows = np.concatenate((m.arc_establishment[arcs], np.arange(n_e)))
    cols = np.concatenate((cols, n_slots + np.arange(n_e)))
    # +1 on every edge: scipy drops explicit zeros, and each row is matched
    # once, so the shift leaves the optimum unchanged.
    weights = np.concatenate((m.arc_cost[arcs], m.uncovered_cost)).astype(np.float64) + 1.0
    graph = sp.csr_array((weights, (rows, cols)), shape=(n_e, n_slots + n_e))
    row_ind, col_ind = min_weight_full_bipartite_matching(graph)
    return Outcome(_arcs_of_slots(m, row_ind, col_ind), "optimal")


def _run_greedy(case: Case, folder: Path, budget: float) -> Outcome:
    """Nearest first, highest priority first: take a pair when both sides are free."""
    del case, folder, budget
    m: Model = _SETUP["model"]
    order = np.lexsort((m.arc_cost, -m.priority_int[m.arc_establishment]))
    room = m.capacity.tolist()
    taken = [False] * m.n_establishments
    tutors, establishments = m.arc_tutor.tolist(), m.arc_establishment.tolist()
    chosen = []
    for a in order.tolist():
        t, e = tutors[a], establishments[a]
        if not taken[e] and room[t] > 0:
            taken[e] = True
            room[t] -= 1
            chosen.append(a)
    return Outcome(np.array(chosen, dtype=np.int64), "heuristic")


def _run_pulp(case: Case, folder: Path, budget: float) -> Outcome:
    """PuLP + CBC: one binary per pair, written the way a user would."""
    del folder, budget
    import pulp

    started = time.perf_counter()
    m: Model = _SETUP["model"]
    prob = pulp.LpProblem("tutors", pulp.LpMinimize)
    x = [pulp.LpVariable(f"x{a}", cat="Binary") for a in range(len(m.arc_cost))]
    weight = m.arc_cost - m.big_m * m.priority_int[m.arc_establishment]
    prob += pulp.lpSum(int(w) * v for w, v in zip(weight.tolist(), x, strict=True))
    by_e: list[list[Any]] = [[] for _ in range(m.n_establishments)]
    by_t: list[list[Any]] = [[] for _ in range(m.n_tutors)]
    for a, (t, e) in enumerate(zip(m.arc_tutor.tolist(), m.arc_establishment.tolist(), strict=True)):
        by_e[e].append(x[a])
        by_t[t].append(x[a])
    for e, terms in enumerate(by_e):
        if terms:
            prob += pulp.lpSum(terms) <= 1, f"once_{e}"
    for t, terms in enumerate(by_t):
        cap, low = int(m.capacity[t]), int(m.min_load[t])
        if m.all_or_nothing and cap > 0:
            used = pulp.LpVariable(f"w{t}", cat="Binary")
            prob += pulp.lpSum(terms) == cap * used, f"all_or_nothing_{t}"
        elif terms:
            prob += pulp.lpSum(terms) <= cap, f"capacity_{t}"
        if low > 0:
            prob += pulp.lpSum(terms) >= low, f"min_load_{t}"
    build = time.perf_counter() - started
    prob.solve(pulp.PULP_CBC_CMD(msg=False, gapRel=0, timeLimit=case.time_limit))
    detail = {"build_seconds": build, "cbc_status": pulp.LpStatus[prob.status]}
    if prob.sol_status not in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible):
        return Outcome(None, "no_plan", detail=detail)
    values = np.array([v.varValue or 0.0 for v in x])
    status = "optimal" if prob.sol_status == pulp.LpSolutionOptimal else "not_proven"
    return Outcome(np.flatnonzero(values > 0.5), status, detail=detail)


def _skip_pulp(case: Case, info: dict[str, Any]) -> str | None:
    del case
    if importlib.util.find_spec("pulp") is None:
        return "PuLP is not installed (pip install 'tutormatch[bench]')"
    if info["n_pairs"] > _PULP_PAIRS_CAP:
        return (
            f"{info['n_pairs']:,} pairs: beyond {_PULP_PAIRS_CAP:,}, building the model alone takes minutes"
        )
    return None


#: The methods, by key.
# tutormatch imports these on first use (not with `import tutormatch`); like
# the baselines' own imports, they are loaded before the clock starts.
_TM_IMPORTS = (
    "ortools.graph.python.min_cost_flow",
    "ortools.graph.python.max_flow",
    "scipy.sparse.csgraph",
    "scipy.spatial",
)

METHODS: dict[str, Method] = {
    "kdtree": Method(
        "candidate pairs (KD-tree), the floor",
        _run_kdtree,
        False,
        _skip_kdtree,
        starts_from="coords",
        imports=("tutormatch.geo",),
    ),
    "tm-flow": Method(
        "tutormatch flow", _run_tm_flow, True, _skip_tm_flow, starts_from="problem", imports=_TM_IMPORTS
    ),
    "tm-csv": Method(
        "tutormatch flow, from CSV files",
        _run_tm_csv,
        True,
        _skip_tm_csv,
        starts_from="",
        imports=("tutormatch", *_TM_IMPORTS),
    ),
    "tm-cli": Method(
        "tutormatch command line, whole process (CSV files to plan files)",
        _run_tm_cli,
        True,
        _skip_whole,
        starts_from="",
    ),
    "tm-cli-lean": Method(
        "tutormatch command line, lean (--formats csv: no assignment.xlsx), whole process",
        functools.partial(_run_tm_cli, lean=True),
        True,
        _skip_whole,
        starts_from="",
    ),
    "ortools-script": Method(
        "OR-Tools flow on the k nearest, hand-written script, whole process (CSV to CSV)",
        _run_ortools_script,
        False,
        _skip_whole,
        starts_from="",
    ),
    "tm-auto": Method(
        "tutormatch auto", _run_tm_auto, True, _never, starts_from="problem", imports=_TM_IMPORTS
    ),
    "tm-cpsat": Method(
        "tutormatch CP-SAT",
        _run_tm_cpsat,
        True,
        _never,
        starts_from="problem",
        imports=(*_TM_IMPORTS, "ortools.sat.python.cp_model"),
    ),
    "ortools-mcf": Method(
        "OR-Tools min-cost flow, hand-written",
        _run_mcf,
        True,
        _no_side("this flow"),
        imports=("ortools.graph.python.min_cost_flow",),
    ),
    "scipy-lapjvsp": Method(
        "scipy min_weight_full_bipartite_matching",
        _run_lapjvsp,
        True,
        _no_side("an assignment"),
        imports=("scipy.sparse", "scipy.sparse.csgraph"),
    ),
    "scipy-lsa": Method(
        "scipy linear_sum_assignment (dense)", _run_lsa, True, _skip_lsa, imports=("scipy.optimize",)
    ),
    "pulp-cbc": Method("PuLP + CBC", _run_pulp, True, _skip_pulp, imports=("pulp",)),
    "greedy": Method("greedy, nearest first", _run_greedy, False, _no_side("greedy")),
}


# -- the worker (child side) ---------------------------------------------------------


def _status_mb(pid: str, key: str) -> float | None:
    """Read a memory line (``VmRSS``, ``VmHWM``) of ``/proc/PID/status`` in MB; None off Linux."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    return None


def _peak_self_mb() -> float:
    # VmHWM belongs to this process's own memory map, new at exec; ru_maxrss
    # would carry the parent's size at fork over the exec.
    hwm = _status_mb("self", "VmHWM")
    if hwm is not None:
        return hwm
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024  # bytes on macOS, KiB elsewhere


class _ChildMemory:
    """Poll the peak memory of this process's children while a method runs (CBC; Linux only)."""

    def __init__(self, interval: float = 0.05) -> None:
        self.interval = interval
        self.peaks: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def __enter__(self) -> _ChildMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _poll(self) -> None:
        pid = os.getpid()
        children = Path(f"/proc/{pid}/task/{pid}/children")
        while not self._stop.wait(self.interval):
            try:
                pids = children.read_text().split()
            except OSError:
                return
            for child in pids:
                hwm = _status_mb(child, "VmHWM")
                if hwm is not None:
                    self.peaks[child] = max(self.peaks.get(child, 0.0), hwm)

    @property
    def peak_mb(self) -> float:
        """Largest peak of any child seen, in MB."""
        return max(self.peaks.values(), default=0.0)


def _setup(case: Case, folder: Path, method: Method) -> dict[str, float]:
    """Load what a method starts from and import its modules, before the clock starts."""
    started = time.perf_counter()
    for module in method.imports:
        importlib.import_module(module)
    imported = time.perf_counter() - started
    if method.starts_from == "problem":
        _SETUP["problem"] = load_problem(case, folder)
    elif method.starts_from == "model":
        _SETUP["model"] = Model.load(folder)
    elif method.starts_from == "coords":
        with np.load(folder / "coords.npz") as data:
            _SETUP["coords"] = {k: data[k] for k in data.files}
    return {"import_seconds": imported, "setup_seconds": time.perf_counter() - started}


def measure_in_process(case: Case, method: str, folder: Path, budget: float) -> dict[str, Any]:
    """Run one method once in this process and return its record (what the worker prints)."""
    setup = _setup(case, folder, METHODS[method])
    before = _status_mb("self", "VmRSS") or 0.0
    with _ChildMemory() as children:
        started = time.perf_counter()
        outcome = METHODS[method].run(case, folder, budget)
        seconds = time.perf_counter() - started
    # A whole-process method times its process alone, not reading its plan back,
    # and its memory is that process's own peak, not this worker's besides.
    whole = "process_seconds" in outcome.detail
    seconds = float(outcome.detail.get("process_seconds", seconds))
    peak_self = 0.0 if whole else _peak_self_mb()
    before = 0.0 if whole else before
    _SETUP.clear()
    plan = outcome.detail.pop("_plan", None)
    record: dict[str, Any] = {
        "seconds": seconds,
        # CBC runs beside the Python process that holds the model: their sum.
        "peak_mb": peak_self + children.peak_mb,
        "added_mb": max(peak_self - before, 0.0) + children.peak_mb,
        "status": outcome.status,
        "gap": outcome.gap,
        "detail": {**setup, **outcome.detail},
    }
    arcs = outcome.arcs
    if plan is not None or arcs is not None:
        model = Model.load(folder)
        if plan is not None and case.source == "allpairs":
            levels = model.pair_levels(folder, np.asarray(plan.tutor), np.asarray(plan.establishment))
        else:
            if plan is not None:
                arcs = model.arcs_of_pairs(np.asarray(plan.tutor), np.asarray(plan.establishment))
            levels = model.levels(arcs if arcs is not None else np.empty(0, np.int64))
        uncovered, cost, covered, broken = levels
        record.update(
            uncovered=uncovered, cost=cost, covered=covered, broken=broken, cost_unit_km=model.cost_unit_km
        )
    return record


def _worker_main() -> None:
    """Entry point of the measuring subprocess: a JSON spec on stdin, a JSON line out."""
    spec = json.loads(sys.stdin.read())
    case = case_from_json(spec["case"])
    record = measure_in_process(case, spec["method"], Path(spec["folder"]), float(spec["budget"]))
    sys.stdout.write(_RESULT_MARK + json.dumps(record, default=float) + "\n")


def case_to_json(case: Case) -> dict[str, Any]:
    """Return a case as JSON-ready data (``inf`` as the string ``"inf"``)."""
    data = dataclasses.asdict(case)
    data["max_distance_km"] = case.max_distance_km if math.isfinite(case.max_distance_km) else "inf"
    return data


def case_from_json(data: dict[str, Any]) -> Case:
    """Rebuild a case from :func:`case_to_json`'s data."""
    fields = {f.name for f in dataclasses.fields(Case)}
    values = {k: v for k, v in data.items() if k in fields}
    values["max_distance_km"] = float(values.get("max_distance_km", 60.0))
    if values.get("departements") is not None:
        values["departements"] = tuple(values["departements"])
    values["methods"] = tuple(values.get("methods", ()))
    return Case(**values)


_WORKER = """\
import importlib.util, sys
spec = importlib.util.spec_from_file_location("_tutormatch_bench_worker", sys.argv[1])
module = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = module
spec.loader.exec_module(module)
module._worker_main()
"""


def _tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and its direct children (CBC), in MB; 0 off Linux."""
    total = _status_mb(str(pid), "VmRSS") or 0.0
    with contextlib.suppress(OSError):
        for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
            total += _status_mb(child, "VmRSS") or 0.0
    return total


def _stop(process: subprocess.Popen[str]) -> None:
    if os.name == "posix":
        os.killpg(process.pid, signal.SIGKILL)  # the whole group: CBC too
    else:  # pragma: no cover
        process.kill()
    process.wait()


def _spawn(case: Case, method: str, folder: Path, timeout: float, memory_cap_mb: float) -> dict[str, Any]:
    """Measure one run in a fresh interpreter that loads this file by path.

    The run is stopped (and recorded as such) beyond ``timeout`` seconds or
    when its processes hold more than ``memory_cap_mb``.
    """
    spec = {"case": case_to_json(case), "method": method, "folder": str(folder), "budget": timeout}
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        process = subprocess.Popen(
            [sys.executable, "-c", _WORKER, str(Path(__file__).resolve())],
            stdin=subprocess.PIPE,
            stdout=out,
            stderr=err,
            text=True,
            start_new_session=os.name == "posix",  # its own process group, see _stop
        )
        assert process.stdin is not None  # PIPE was asked for
        process.stdin.write(json.dumps(spec))
        process.stdin.close()
        stopped = ""
        try:
            while True:
                try:
                    process.wait(timeout=0.25)
                    break
                except subprocess.TimeoutExpired:
                    if time.perf_counter() - started > timeout:
                        stopped = "timeout"
                    elif _tree_rss_mb(process.pid) > memory_cap_mb:
                        stopped = "memory"
                    if stopped:
                        break
        finally:
            if process.returncode is None:  # stopped, or the runner itself is interrupted
                _stop(process)
        wall = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if stopped:
        limit = f"{timeout:g} s" if stopped == "timeout" else f"{memory_cap_mb / 1024:.0f} GB"
        return {
            "status": stopped,
            "seconds": math.nan,
            "wall_seconds": wall,
            "message": f"stopped beyond {limit}",
        }
    lines = [line for line in stdout.splitlines() if line.startswith(_RESULT_MARK)]
    if process.returncode != 0 or not lines:
        tail = (stderr.strip().splitlines() or [f"exit status {process.returncode}"])[-1]
        return {"status": "error", "seconds": math.nan, "wall_seconds": wall, "message": tail[:300]}
    record: dict[str, Any] = json.loads(lines[-1][len(_RESULT_MARK) :])
    record["wall_seconds"] = wall
    return record


# -- the runner (parent side) ----------------------------------------------------------


_FAILED = ("timeout", "memory", "error")  # runs that returned no record of their own
_LIMITED = ("tm-auto", "tm-cpsat", "pulp-cbc")  # methods that take the case's time limit


@dataclass
class Row:
    """The summary of one (case, method): medians over its runs and the verdict."""

    case: str
    method: str
    runs: int
    seconds: float
    peak_mb: float
    added_mb: float
    status: str
    result: str = ""
    ratio: float = math.nan
    uncovered: int | None = None
    cost: int | None = None
    covered: int | None = None
    records: list[dict[str, Any]] = field(default_factory=list)


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _default_memory_cap_mb() -> float:
    total = _meminfo_mb()
    return min(8192.0, 0.6 * total) if total else 8192.0


def _meminfo_mb() -> float | None:
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024
    return None


def run_suite(
    cases: Sequence[Case],
    work: Path,
    *,
    repeats: int = 3,
    timeout: float = 120.0,
    memory_cap_mb: float | None = None,
    methods: Sequence[str] | None = None,
    echo: Callable[[str], None] = _progress,
) -> tuple[list[Row], dict[str, dict[str, Any]]]:
    """Prepare and measure every case; return one row per (case, method) and the case sizes.

    Runs are interleaved (repeat 1 of every method, then repeat 2...) so that
    drift on a shared machine spreads evenly; a method slower than 10 s in its
    first run is not repeated. CP-SAT and CBC get the case's time limit plus
    60 s, other methods ``timeout`` seconds; any run is stopped beyond
    ``memory_cap_mb`` (default: 60 % of the machine's memory, at most 8 GB).
    """
    cap = memory_cap_mb if memory_cap_mb is not None else _default_memory_cap_mb()
    rows: list[Row] = []
    infos: dict[str, dict[str, Any]] = {}
    for case in cases:
        folder = _case_folder(work, case)
        started = time.perf_counter()
        info = prepare(case, folder)
        infos[case.name] = info
        echo(
            f"{case.name}: {info['n_establishments']:,} x {info['n_tutors']:,}, "
            f"{info['n_pairs']:,} pairs (prepared in {time.perf_counter() - started:.1f} s)"
        )
        wanted = [m for m in case.methods if methods is None or m in methods]
        records: dict[str, list[dict[str, Any]]] = {m: [] for m in wanted}
        skipped = {m: METHODS[m].skip(case, info) for m in wanted}
        for repeat in range(repeats):
            for method in wanted:
                if skipped[method] or _done(records[method], repeat):
                    continue
                budget = case.time_limit + 60.0 if method in _LIMITED else timeout
                record = _spawn(case, method, folder, budget, cap)
                records[method].append(record)
                echo(f"  {method:14s} {_short(record)}")
        rows.extend(_summarise(case, wanted, records, skipped))
    return rows, infos


def _done(records: list[dict[str, Any]], repeat: int) -> bool:
    if repeat == 0 or not records:
        return False
    first = records[0]
    return first["status"] in _FAILED or not first["seconds"] < _SLOW_SECONDS


def _short(record: dict[str, Any]) -> str:
    if record["status"] in _FAILED:
        return str(record["status"]) + (f": {record['message']}" if "message" in record else "")
    return f"{record['seconds']:.3f} s, peak {record['peak_mb']:.0f} MB, {record['status']}"


def _median(values: Iterable[float]) -> float:
    finite = [v for v in values if v is not None and math.isfinite(v)]
    return statistics.median(finite) if finite else math.nan


def _summarise(
    case: Case,
    wanted: Sequence[str],
    records: dict[str, list[dict[str, Any]]],
    skipped: dict[str, str | None],
) -> list[Row]:
    rows = []
    for method in wanted:
        runs = records[method]
        reason = skipped[method]
        if reason:
            rows.append(
                Row(case.name, method, 0, math.nan, math.nan, math.nan, "skipped", f"skipped: {reason}")
            )
            continue
        good = [r for r in runs if r["status"] not in _FAILED]
        first = good[0] if good else runs[0]
        rows.append(
            Row(
                case.name,
                method,
                len(runs),
                _median(r["seconds"] for r in good),
                _median(r["peak_mb"] for r in good),
                _median(r["added_mb"] for r in good),
                str(first["status"]),
                uncovered=first.get("uncovered"),
                cost=first.get("cost"),
                covered=first.get("covered"),
                records=runs,
            )
        )
    _judge(case, rows)
    return rows


def _reference(rows: list[Row]) -> Row | None:
    """Return the optimum every exact method is checked against: tutormatch's flow, else a proven one."""
    for key in ("tm-flow", "tm-csv", "tm-auto", "tm-cpsat", "ortools-mcf", "pulp-cbc"):
        for row in rows:
            valid = row.cost is not None and not row.records[0].get("broken")
            if row.method == key and row.status == "optimal" and valid:
                return row
    return None


def _judge(case: Case, rows: list[Row]) -> None:
    """Fill each row's verdict and its time ratio to tutormatch's flow."""
    ref = _reference(rows)
    flow = next((r for r in rows if r.method == "tm-flow" and math.isfinite(r.seconds)), None)
    for row in rows:
        if flow is not None and math.isfinite(row.seconds):
            row.ratio = row.seconds / flow.seconds
        if row.status != "skipped":
            row.result = _verdict(row, ref, case.time_limit)
            chosen = row.records[0].get("detail", {}).get("solver") if row.method == "tm-auto" else None
            if chosen:
                row.result = f"[{chosen}] {row.result}"
            levels = {(r.get("uncovered"), r.get("cost")) for r in row.records if r["status"] not in _FAILED}
            if len(levels) > 1 and row.status != "not_proven":
                row.result += " (repeats disagree)"


def _verdict(row: Row, ref: Row | None, time_limit: float) -> str:
    first = row.records[0] if row.records else {}
    detail = first.get("detail", {})
    if row.status in _FAILED:
        return f"{row.status.upper()}: {first.get('message', '')}"
    if row.status == "floor":
        return f"floor: {detail.get('pairs_found', 0):,} pairs found, no plan"
    if row.status == "no_plan":
        return f"no plan: {detail.get('message', detail.get('cbc_status', ''))}"
    if first.get("broken"):
        return f"INVALID PLAN: {first['broken']}"
    stopped = f"stopped at the {time_limit:g} s limit"
    if ref is None or row.cost is None:
        gap = first.get("gap")
        text = f", reported gap {gap:.2%}" if gap is not None else ""
        return f"{row.status.replace('_', ' ')}{text} (no proven optimum to compare with)"
    same = (row.uncovered, row.cost) == (ref.uncovered, ref.cost)
    if row.status == "optimal":
        if same:
            return "optimal" if row is ref else f"optimal, same optimum as {ref.method}"
        return f"MISMATCH: claims optimal but {_difference(row, ref)} vs {ref.method}"
    if same:
        return f"optimum found but not proven ({stopped})"
    text = _difference(row, ref)
    if row.status == "not_proven":
        gap = first.get("gap")
        return f"not proven, {stopped}: {text}" + (f"; reported gap {gap:.2%}" if gap is not None else "")
    return f"not optimal: {text}"


def _difference(row: Row, ref: Row) -> str:
    """Say how a plan falls short of the optimum: priority left uncovered first, then km."""
    mine, best = (row.uncovered, row.cost, row.covered), (ref.uncovered, ref.cost, ref.covered)
    if None in mine or None in best:
        return "no levels to compare"
    (uncovered, cost, covered), (ref_uncovered, ref_cost, ref_covered) = (
        tuple(int(v or 0) for v in mine),
        tuple(int(v or 0) for v in best),
    )
    excess = (cost - ref_cost) / ref_cost if ref_cost else math.inf
    missed = uncovered - ref_uncovered
    if missed == 0:
        return f"{excess:+.1%} km"
    if missed < 0:
        return f"covers {-missed:,} MORE priority than {ref.method}, {excess:+.1%} km"
    per = (cost / max(covered, 1)) / (ref_cost / max(ref_covered, 1)) - 1 if ref_cost else math.inf
    return (
        f"{ref_covered - covered:,} fewer establishments covered ({missed:,} less priority); "
        f"km {excess:+.1%} in total, {per:+.1%} per covered establishment"
    )


# -- writing results -----------------------------------------------------------------


def machine_lines(command: str, source_at_start: str) -> list[str]:
    """Describe the command, the machine, the package versions and the source, for a results header."""
    source_at_end = _git_state()
    versions = []
    for name in ("tutormatch", "ortools", "scipy", "numpy", "pandas", "pulp", "matplotlib"):
        try:
            versions.append(f"{name} {importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            versions.append(f"{name} (not installed)")
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return [
        f"- Command: `{command}`",
        f"- Date: {dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- Machine: {platform.system()} {platform.machine()}, {os.cpu_count()} cores ({cpu})",
        f"- Python {platform.python_version()}; {', '.join(versions)}",
        f"- tutormatch source: {source_at_start}",
    ] + (
        []
        if source_at_end == source_at_start
        else [f"- **Source changed during the run**, at the end: {source_at_end}"]
    )


def _git_state() -> str:
    """Say which tutormatch source ran: the commit, and a digest of uncommitted changes in src/."""
    root = Path(__file__).resolve().parents[1]
    if not (root / ".git").exists():
        return "installed package (no checkout)"

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(root), *args], capture_output=True, text=True, check=True
        ).stdout

    try:
        head = git("rev-parse", "--short", "HEAD").strip()
        diff = git("diff", "HEAD", "--", "src")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    if not diff:
        return f"git {head}"
    digest = hashlib.sha256(diff.encode()).hexdigest()[:8]
    return f"git {head} with uncommitted changes in src/ (diff digest {digest})"


def _fmt_seconds(value: float) -> str:
    if not math.isfinite(value):
        return "–"
    return f"{value:.3f}" if value < 10 else f"{value:.1f}"


def _fmt_ratio(value: float) -> str:
    if not math.isfinite(value):
        return "–"
    return f"{value:.2f}×" if value < 10 else f"{value:,.0f}×"


def _fmt_memory(row: Row) -> str:
    if not math.isfinite(row.peak_mb):
        return "–"
    return f"{row.peak_mb:,.0f} (+{row.added_mb:,.0f})"


def markdown(
    title: str,
    header: Sequence[str],
    cases: Sequence[Case],
    infos: dict[str, dict[str, Any]],
    rows: Sequence[Row],
    *,
    repeats: int,
    timeout: float,
) -> str:
    """Render the results as Markdown: the headline ratios, then one table per case."""
    out = io.StringIO()
    w = out.write
    w(f"# {title}\n\n")
    for line in header:
        w(line + "\n")
    w(
        f"- Runs: each in a fresh subprocess; median of {repeats} "
        + (
            f"(1 for a method slower than {_SLOW_SECONDS:g} s)"
            if math.isfinite(_SLOW_SECONDS)
            else "(every method, however slow: --repeat-slow)"
        )
        + f"; time budget {timeout:g} s a run "
        "(CP-SAT and CBC: their time limit + 60 s).\n\n"
    )
    w(_headline(cases, rows))
    w(_fits(cases, infos, rows))
    w("## Cases\n\n")
    w("Time: median seconds of the method's own work, inputs already in memory (see the README). ")
    w("× flow: that time over tutormatch flow's in the same run. ")
    w("Memory: peak resident MB of the run's process (PuLP: plus CBC's), and in brackets ")
    w("what the method added to it.\n\n")
    by_case: dict[str, list[Row]] = {}
    for row in rows:
        by_case.setdefault(row.case, []).append(row)
    for case in cases:
        if case.name not in by_case:
            continue
        info = infos[case.name]
        w(f"### {case.name}\n\n{case.description}; {info['n_pairs']:,} eligible pairs")
        if info.get("min_loads"):
            w(f", {info['min_loads']:,} tutors with a minimum load")
        w(".\n\n| method | time (s) | × flow | memory MB | result | runs |\n|---|---:|---:|---:|---|---:|\n")
        for row in by_case[case.name]:
            w(
                f"| {METHODS[row.method].label} | {_fmt_seconds(row.seconds)} | {_fmt_ratio(row.ratio)} "
                f"| {_fmt_memory(row)} | {row.result} | {row.runs} |\n"
            )
        w("\n")
    return out.getvalue()


def _headline(cases: Sequence[Case], rows: Sequence[Row]) -> str:
    shown = [c for c in cases if c.headline] or list(cases)
    index = {(r.case, r.method): r for r in rows}
    methods = [m for m in METHODS if any((c.name, m) in index for c in shown)]
    lines = ["## Headline: time relative to tutormatch flow, same run\n"]
    lines.append("Median time of each method over tutormatch flow's (below 1: faster than tutormatch). ")
    lines.append("A cell reads `ratio (seconds)`; ✓ optimal and checked, ✗ not optimal or not proven.\n\n")
    lines.append("| method | " + " | ".join(c.name for c in shown) + " |\n")
    lines.append("|---|" + "---:|" * len(shown) + "\n")
    for method in methods:
        cells = []
        for case in shown:
            row = index.get((case.name, method))
            cells.append(_headline_cell(row))
        lines.append(f"| {METHODS[method].label} | " + " | ".join(cells) + " |\n")
    return "".join(lines) + "\n"


def _checked_optimal(row: Row) -> bool:
    """Whether a row's plan is proven optimal and matches the reference optimum."""
    bad = ("MISMATCH", "INVALID", "not optimal", "not proven", "repeats disagree")
    return row.status == "optimal" and not any(word in row.result for word in bad)


def _headline_cell(row: Row | None) -> str:
    if row is None:
        return ""
    if row.status in ("skipped", *_FAILED):
        return row.status
    if row.status == "no_plan":
        return f"no plan ({_fmt_seconds(row.seconds)} s) ✗"
    mark = ""
    if row.status != "floor":
        mark = " ✓" if _checked_optimal(row) else " ✗"
        gap = row.records[0].get("gap") if row.records else None
        if row.status == "not_proven" and gap is not None:
            mark += f" gap {gap:.2%}"
    seconds = _fmt_seconds(row.seconds)
    if math.isfinite(row.ratio):
        return f"{_fmt_ratio(row.ratio)} ({seconds} s){mark}"
    return f"{seconds} s{mark}"


_FIT_FROM_PAIRS = 50_000  # below, fixed per-call costs hide how a method scales


def _slope(points: Sequence[tuple[int, float]]) -> float:
    if len(points) < 3:
        return math.nan
    x, y = np.log([p[0] for p in points]), np.log([p[1] for p in points])
    return float(np.polyfit(x, y, 1)[0])


def _fits(cases: Sequence[Case], infos: dict[str, dict[str, Any]], rows: Sequence[Row]) -> str:
    series = sorted({c.series for c in cases if c.series})
    if not series:
        return ""
    lines = ["## Scaling: time against candidate pairs\n\n"]
    lines.append(
        "Slope of log(time) against log(pairs), least squares (1: linear), over the whole series and "
        f"over its points from {_FIT_FROM_PAIRS:,} pairs, where fixed per-call costs no longer "
        "dominate. The plots are beside this file.\n\n"
    )
    lines.append(
        "| series | method | slope, all | slope, large | pairs | time (s) |\n|---|---|---:|---:|---|---|\n"
    )
    for name in series:
        for method, points in _series_points(name, cases, infos, rows).items():
            if len(points) < 3:
                continue
            large = [p for p in points if p[0] >= _FIT_FROM_PAIRS]
            slopes = [_slope(points), _slope(large)]
            cells = " | ".join(f"{v:.2f}" if math.isfinite(v) else "–" for v in slopes)
            span = f"{points[0][0]:,} – {points[-1][0]:,}"
            times = f"{_fmt_seconds(points[0][1])} – {_fmt_seconds(points[-1][1])}"
            lines.append(f"| {name} | {METHODS[method].label} | {cells} | {span} | {times} |\n")
    return "".join(lines) + "\n"


def _series_points(
    name: str, cases: Sequence[Case], infos: dict[str, dict[str, Any]], rows: Sequence[Row]
) -> dict[str, list[tuple[int, float]]]:
    members = {c.name for c in cases if c.series == name}
    points: dict[str, list[tuple[int, float]]] = {}
    for row in rows:
        if row.case in members and math.isfinite(row.seconds) and row.seconds > 0:
            points.setdefault(row.method, []).append((infos[row.case]["n_pairs"], row.seconds))
    return {m: sorted(p) for m, p in points.items()}


def plot(
    path: Path, name: str, cases: Sequence[Case], infos: dict[str, dict[str, Any]], rows: Sequence[Row]
) -> bool:
    """Plot time against candidate pairs, log-log, one line per method; False without matplotlib."""
    try:
        import matplotlib as mpl

        mpl.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    fig, ax = plt.subplots(figsize=(7.5, 5))
    series = _series_points(name, cases, infos, rows)
    colours = plt.get_cmap("tab10")
    for method, points in series.items():
        if len(points) < 2:
            continue
        x, y = zip(*points, strict=True)
        style = "--" if method == "kdtree" else "-"
        colour = colours(list(METHODS).index(method) % 10)  # the same colour in every plot
        ax.plot(x, y, style, marker="o", markersize=4, color=colour, label=METHODS[method].label)
    if series.get("tm-flow"):
        # A slope-1 guide through tutormatch flow's largest point: parallel lines scale linearly.
        x_end, y_end = series["tm-flow"][-1]
        x_start = series["tm-flow"][0][0]
        ax.plot(
            [x_start, x_end], [y_end * x_start / x_end, y_end], ":", color="grey", label="linear (slope 1)"
        )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.xaxis.set_minor_formatter(mpl.ticker.NullFormatter())
    ax.set_xlabel("eligible (tutor, establishment) pairs")
    ax.set_ylabel("median time (s)")
    ax.set_title(f"{name}: time against candidate pairs")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def write_results(
    out: Path,
    name: str,
    *,
    command: str,
    cases: Sequence[Case],
    infos: dict[str, dict[str, Any]],
    rows: Sequence[Row],
    repeats: int,
    timeout: float,
    source: str = "",
    stored_header: Sequence[str] = (),
) -> list[Path]:
    """Write ``NAME.md``, ``NAME.csv``, ``NAME.json`` and one PNG per scaling series to ``out``.

    The header describes the command, machine and source (:func:`machine_lines`),
    unless ``stored_header`` is given (re-rendering earlier results).
    """
    out.mkdir(parents=True, exist_ok=True)
    header = list(stored_header) if stored_header else machine_lines(command, source)
    title = f"tutormatch benchmarks: {name}"
    text = markdown(title, header, cases, infos, rows, repeats=repeats, timeout=timeout)
    written = [out / f"{name}.md", out / f"{name}.csv", out / f"{name}.json"]
    written[0].write_text(text, encoding="utf-8")
    fields = ["case", "method", "runs", "seconds", "ratio", "peak_mb", "added_mb", "status", "result",
              "uncovered", "cost", "n_pairs", "n_establishments", "n_tutors"]  # fmt: skip
    with written[1].open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        for row in rows:
            data = {k: getattr(row, k) for k in fields if hasattr(row, k)}
            data.update({k: infos[row.case][k] for k in ("n_pairs", "n_establishments", "n_tutors")})
            writer.writerow(data)
    raw = {
        "header": header,
        "repeats": repeats,
        "timeout": timeout,
        "cases": [{**case_to_json(c), "info": infos.get(c.name)} for c in cases],
        "rows": [dataclasses.asdict(r) for r in rows],
    }
    written[2].write_text(json.dumps(raw, indent=1, default=str), encoding="utf-8")
    for series in sorted({c.series for c in cases if c.series}):
        path = out / f"{name}-{series}.png"
        if plot(path, series, cases, infos, rows):
            written.append(path)
    return written


# -- entry points ------------------------------------------------------------------------


def render(raw_json: Path) -> list[Path]:
    """Write the tables and plots again from a results JSON file, beside it, without running anything."""
    raw = json.loads(raw_json.read_text(encoding="utf-8"))
    cases = [case_from_json(c) for c in raw["cases"]]
    infos = {c["name"]: c["info"] for c in raw["cases"]}
    rows = [Row(**{k: _nan(v) for k, v in r.items()}) for r in raw["rows"]]
    for case in cases:
        _judge(case, [r for r in rows if r.case == case.name])
    return write_results(
        raw_json.parent,
        raw_json.stem,
        command="",
        cases=cases,
        infos=infos,
        rows=rows,
        repeats=int(raw["repeats"]),
        timeout=float(raw["timeout"]),
        stored_header=raw["header"],
    )


def _nan(value: Any) -> Any:
    return math.nan if value in ("nan", "NaN") else value


def select(cases: Sequence[Case], patterns: Sequence[str] | None) -> list[Case]:
    """Keep the cases whose name matches any of the shell patterns (all when none given)."""
    if not patterns:
        return list(cases)
    return [c for c in cases if any(fnmatch.fnmatch(c.name, p) for p in patterns)]


def run(
    *,
    suite: str,
    out: Path,
    repeats: int | None = None,
    timeout: float = 120.0,
    memory_cap_mb: float | None = None,
    patterns: Sequence[str] | None = None,
    methods: Sequence[str] | None = None,
    command: str = "",
    name: str | None = None,
    work: Path | None = None,
) -> str:
    """Run a suite, write its results to ``out`` and return the Markdown text.

    Parameters
    ----------
    suite : {"quick", "full"}
    out : Path
        Folder of the results (created).
    repeats : int, optional
        Runs per (case, method); default 1 for the quick suite, 3 for the full one.
    timeout : float, default 120
        Seconds per run (CP-SAT and CBC: the case's time limit + 60 s).
    memory_cap_mb : float, optional
        Stop a run whose processes hold more (default: 60 % of memory, at most 8 GB).
    patterns : sequence of str, optional
        Shell patterns of case names to keep.
    methods : sequence of str, optional
        Keys of :data:`METHODS` to keep.
    command : str
        The command line, written at the top of the results.
    name : str, optional
        Base name of the result files (default: the suite's name).
    work : Path, optional
        Folder for the prepared inputs, kept; default a temporary folder, removed.
    """
    cases = select(SUITES[suite](), patterns)
    if not cases:
        raise ValueError(f"no case of the {suite} suite matches {list(patterns or [])}.")
    unknown = sorted(set(methods or ()) - set(METHODS))
    if unknown:
        raise ValueError(f"unknown methods {unknown}; choose among {sorted(METHODS)}.")
    repeats = repeats if repeats is not None else (1 if suite == "quick" else 3)
    started = time.perf_counter()
    source = _git_state()
    with contextlib.ExitStack() as stack:
        if work is None:
            work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="tutormatch-bench-")))
        rows, infos = run_suite(
            cases, work, repeats=repeats, timeout=timeout, memory_cap_mb=memory_cap_mb, methods=methods
        )
    written = write_results(
        out,
        name or suite,
        command=command,
        cases=cases,
        infos=infos,
        rows=rows,
        repeats=repeats,
        timeout=timeout,
        source=source,
    )
    _progress(f"done in {time.perf_counter() - started:.0f} s; wrote {', '.join(str(p) for p in written)}")
    return written[0].read_text(encoding="utf-8")


@contextlib.contextmanager
def _terminate_as_exit() -> Iterator[None]:
    """Turn SIGTERM into SystemExit, so that the run being measured is stopped too."""

    def handler(signum: int, frame: object) -> None:
        del frame
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def main(argv: Sequence[str] | None = None, *, prog: str = "python benchmarks/run.py") -> int:
    """Run the command line of ``benchmarks/run.py``; return the exit status."""
    parser = argparse.ArgumentParser(prog=prog, description="Benchmark tutormatch against the baselines.")
    parser.add_argument("--quick", action="store_true", help="the short suite (about a minute)")
    parser.add_argument("--cases", nargs="+", default=None, help="case names or shell patterns")
    parser.add_argument("--methods", nargs="+", default=None, choices=sorted(METHODS))
    parser.add_argument("--repeats", type=int, default=None, help="runs per method (default 3; quick 1)")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per run (default 120)")
    parser.add_argument(
        "--repeat-slow",
        action="store_true",
        help="repeat methods slower than 10 s too (ratios on a shared, loaded machine)",
    )
    parser.add_argument("--memory-cap-gb", type=float, default=None, help="stop a run beyond (default 8)")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"), help="results folder")
    parser.add_argument("--name", default=None, help="results file name (default: the suite's)")
    parser.add_argument("--work", type=Path, default=None, help="keep the prepared inputs in this folder")
    parser.add_argument("--list", action="store_true", help="list the cases and exit")
    parser.add_argument(
        "--render", type=Path, default=None, help="rewrite tables and plots from a results JSON"
    )
    args = parser.parse_args(argv)
    if args.repeat_slow:
        global _SLOW_SECONDS  # one switch for the whole run
        _SLOW_SECONDS = math.inf
    if args.render is not None:
        written = render(args.render)
        print(f"wrote {', '.join(str(p) for p in written)}")
        return 0
    suite = "quick" if args.quick else "full"
    if args.list:
        for case in select(SUITES[suite](), args.cases):
            print(f"{case.name:30s} {case.description}")
        return 0
    given = list(sys.argv[1:] if argv is None else argv)
    try:
        with _terminate_as_exit():
            run(
                suite=suite,
                out=args.out,
                repeats=args.repeats,
                timeout=args.timeout,
                memory_cap_mb=args.memory_cap_gb * 1024 if args.memory_cap_gb else None,
                patterns=args.cases,
                methods=args.methods,
                command=" ".join([prog, *given]),
                name=args.name,
                work=args.work,
            )
    except ValueError as exc:
        parser.error(str(exc))
    return 0
