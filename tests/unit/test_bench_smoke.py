"""The benchmark machinery runs on a tiny case and its exact methods agree (no timing asserted)."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

# The harness lives in benchmarks/ (a checkout), not in the installed package.
_HARNESS = Path(__file__).resolve().parents[2] / "benchmarks" / "harness.py"
_spec = importlib.util.spec_from_file_location("_tutormatch_bench_harness", _HARNESS)
assert _spec is not None
assert _spec.loader is not None
_bench = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = _bench  # dataclasses resolve their module by name
_spec.loader.exec_module(_bench)

TINY = _bench.Case(
    "tiny",
    60,
    30,
    departements=("13",),
    methods=("tm-flow", "scipy-lapjvsp"),
)


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    folder = tmp_path_factory.mktemp("bench") / TINY.name
    return folder, _bench.prepare(TINY, folder)


def test_exact_methods_reach_the_same_optimum_in_process(prepared: tuple[Path, dict[str, int]]) -> None:
    folder, info = prepared
    assert info["n_pairs"] > 0
    levels = {}
    for method in ("tm-flow", "ortools-mcf", "scipy-lapjvsp", "scipy-lsa", "greedy"):
        record = _bench.measure_in_process(TINY, method, folder, budget=30.0)
        assert record["broken"] == ""
        levels[method] = (record["uncovered"], record["cost"])
    exact = {levels[m] for m in ("tm-flow", "ortools-mcf", "scipy-lapjvsp", "scipy-lsa")}
    assert len(exact) == 1
    greedy_uncovered, greedy_cost = levels["greedy"]
    best_uncovered, best_cost = levels["tm-flow"]
    assert (greedy_uncovered, greedy_cost) >= (best_uncovered, best_cost)


def test_whole_process_methods_read_back_their_plans(tmp_path: Path) -> None:
    # The command line (CSV files to plan files) reaches tm-flow's optimum;
    # the hand-written script (no eligibility rules) gives a valid plan; both
    # are timed as processes.
    case = _bench.Case("tiny-pure", 60, 30, departements=("13",), rules=False, methods=("tm-flow",))
    folder = tmp_path / case.name
    _bench.prepare(case, folder)
    flow = _bench.measure_in_process(case, "tm-flow", folder, budget=30.0)
    cli = _bench.measure_in_process(case, "tm-cli", folder, budget=60.0)
    script = _bench.measure_in_process(case, "ortools-script", folder, budget=60.0)
    assert cli["status"] == "optimal"
    assert (cli["uncovered"], cli["cost"], cli["broken"]) == (flow["uncovered"], flow["cost"], "")
    assert script["broken"] == ""
    assert (script["uncovered"], script["cost"]) >= (flow["uncovered"], flow["cost"])
    assert cli["seconds"] == cli["detail"]["process_seconds"] > 0


def test_suite_runs_in_subprocesses_and_writes_a_table(tmp_path: Path) -> None:
    rows, infos = _bench.run_suite([TINY], tmp_path / "work", repeats=1, echo=lambda _: None)
    by_method = {row.method: row for row in rows}
    assert by_method["tm-flow"].result == "optimal"
    assert by_method["scipy-lapjvsp"].result == "optimal, same optimum as tm-flow"
    written = _bench.write_results(
        tmp_path / "out", "smoke", command="test", cases=[TINY], infos=infos, rows=rows, repeats=1, timeout=60
    )
    text = written[0].read_text(encoding="utf-8")
    assert "| tutormatch flow |" in text
    assert "same optimum as tm-flow" in text


def test_cases_survive_the_trip_to_the_worker() -> None:
    for case in [*_bench.quick_suite(), *_bench.full_suite()]:
        assert _bench.case_from_json(json.loads(json.dumps(_bench.case_to_json(case)))) == case


def test_the_package_does_not_ship_the_harness() -> None:
    import tutormatch

    assert not (Path(tutormatch.__file__).parent / "_bench.py").exists()


def test_cli_bench_points_to_the_checkout() -> None:
    command = [sys.executable, "-m", "tutormatch.cli", "bench", "--quick"]
    out = subprocess.run(command, capture_output=True, text=True, check=False)
    assert out.returncode == 2
    assert "python benchmarks/run.py --quick" in out.stderr
