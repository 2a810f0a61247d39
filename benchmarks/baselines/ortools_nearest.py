"""A hand-written plan, as a user would write it: CSV files -> k nearest -> OR-Tools flow -> CSV.

    python ortools_nearest.py tutors.csv establishments.csv plan.csv K MAX_KM

Each establishment's ``K`` nearest tutors (great-circle km, within
``MAX_KM``), a min-cost flow that covers the most establishments (big M per
uncovered one, priority-weighted) then the least yearly km (2 x visits x
distance), and one CSV row per covered pair (``uai,tutor_id``). Not exact
where the K nearest are not enough. The benchmark times this whole process.
"""

import sys

import numpy as np
import pandas as pd
from ortools.graph.python import min_cost_flow
from scipy.spatial import cKDTree

R = 6371.0088


def xyz(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    lon, lat = np.radians(lon), np.radians(lat)
    return np.column_stack((np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)))


def main() -> None:
    tutors_csv, establishments_csv, out, k, max_km = sys.argv[1:6]
    tutors = pd.read_csv(tutors_csv, dtype={"tutor_id": str})
    est = pd.read_csv(establishments_csv, dtype={"uai": str})
    k, max_km = min(int(k), len(tutors)), float(max_km)
    chord, t = cKDTree(xyz(tutors["lon"], tutors["lat"])).query(xyz(est["lon"], est["lat"]), k=k)
    km = 2 * R * np.arcsin(np.clip(chord / 2, 0, 1))
    e = np.repeat(np.arange(len(est)), k)
    t, km = t.ravel(), km.ravel()
    near = km <= max_km
    e, t, km = e[near], t[near], km[near]
    visits = est["visits_per_year"].to_numpy() if "visits_per_year" in est else np.ones(len(est))
    priority = est["priority"].to_numpy() if "priority" in est else np.ones(len(est))
    cost = np.round(2 * visits[e] * km * 1000).astype(np.int64)  # metres
    big_m = int(cost.max(initial=0)) * 64 + 1
    n_e, n_t = len(est), len(tutors)
    sink = n_e + n_t
    capacity = tutors["capacity"].to_numpy(np.int64) if "capacity" in tutors else np.full(n_t, 2)
    tails = np.concatenate((e, n_e + np.arange(n_t), np.arange(n_e)))
    heads = np.concatenate((n_e + t, np.full(n_t, sink), np.full(n_e, sink)))
    caps = np.concatenate((np.ones(len(e), np.int64), capacity, np.ones(n_e, np.int64)))
    costs = np.concatenate((cost, np.zeros(n_t, np.int64), np.round(big_m * priority).astype(np.int64)))
    flow = min_cost_flow.SimpleMinCostFlow()
    arcs = flow.add_arcs_with_capacity_and_unit_cost(
        tails.astype(np.int32), heads.astype(np.int32), caps, costs
    )
    supplies = np.zeros(sink + 1, np.int64)
    supplies[:n_e], supplies[sink] = 1, -n_e
    flow.set_nodes_supplies(np.arange(sink + 1, dtype=np.int32), supplies)
    if flow.solve() != flow.OPTIMAL:
        sys.exit("no optimal flow")
    used = np.asarray(flow.flows(arcs[: len(e)])) > 0
    pd.DataFrame(
        {"uai": est["uai"].to_numpy()[e[used]], "tutor_id": tutors["tutor_id"].to_numpy()[t[used]]}
    ).to_csv(out, index=False)


if __name__ == "__main__":
    main()
