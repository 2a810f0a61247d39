"""A sweep on a Dask cluster gives the serial comparison."""

import pandas as pd
import pytest

import tutormatch as tm
from tutormatch.scenarios import grid, withdrawals

distributed = pytest.importorskip("distributed")


def test_sweep_on_a_dask_local_cluster_equals_the_serial_comparison() -> None:
    base = tm.example_problem()
    scenarios = [*grid(base, max_distance_km=[30, 60]), *withdrawals(base, 3, 20, seed=9)]
    # Threads, not processes: worker processes take seconds to start on a
    # shared 2-core runner; what is tested (the executor protocol, the problem
    # scattered once and referred to by every task) is the same.
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        scattered = []
        scatter = client.scatter

        def spy(data: object, **keywords: object) -> object:
            scattered.append(keywords)
            return scatter(data, **keywords)

        client.scatter = spy
        swept = tm.sweep(scenarios, client.get_executor(), progress=False)
    # The base problem went to the workers once, not once per scenario.
    assert scattered == [{"broadcast": True, "hash": False}]
    serial = tm.compare(scenarios)
    times = ["solve_seconds", "seconds"]
    pd.testing.assert_frame_equal(serial.drop(columns=times), swept.drop(columns=times))
