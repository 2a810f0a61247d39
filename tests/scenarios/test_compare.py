import math
import sys
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor

import pandas as pd
import pytest

import tutormatch as tm
from tutormatch.scenarios import grid, withdrawals

TIMES = ["solve_seconds", "seconds"]


@pytest.fixture(scope="module")
def base() -> tm.Problem:
    return tm.example_problem()


def test_compare_gives_the_reports_figures(base: tm.Problem) -> None:
    scenarios = [tm.Scenario("60 km", base), tm.Scenario("30 km", base, max_distance_km=30, capacity=3)]
    table = tm.compare(scenarios)
    assert table.scenario.tolist() == ["60 km", "30 km"]
    for row, scenario in zip(table.itertuples(), scenarios, strict=True):
        plan = scenario.solve()
        summary = plan.summary()
        totals = tm.report.costs(plan).totals.iloc[0]
        assert row.status == summary["status"]
        assert row.n_covered == summary["n_covered"]
        assert row.n_tutors_used == summary["n_tutors_used"]
        assert row.coverage == summary["n_covered"] / summary["n_establishments"]
        assert row.total_distance_km == summary["total_distance_km"]
        assert row.max_distance_km == summary["max_distance_km"]
        for name in ("yearly_km", "indemnity_eur", "travel_eur", "remote_eur", "bonus_eur", "total_eur"):
            assert getattr(row, name) == totals[name]
        assert row.error == ""


def test_a_failed_scenario_has_its_error_and_the_rest_go_on(base: tm.Problem) -> None:
    table = tm.compare([tm.Scenario("bad", base, withdraw=["NOBODY"]), tm.Scenario("good", base)])
    bad, good = table.iloc[0], table.iloc[1]
    assert bad.status == "error"
    assert (
        bad.error
        == "InputError: scenario 'bad': withdraw: unknown tutor NOBODY; give ids of the problem's tutors."
    )
    assert pd.isna(bad.n_covered)
    assert math.isnan(bad.total_eur)
    assert good.status == "optimal"
    assert good.error == ""


def test_a_plan_without_solution_has_no_figures() -> None:
    # One establishment, no tutor: nothing to cover, the plan is still a plan.
    problem = tm.Problem.from_arrays([[math.inf]], capacity=0)
    row = tm.compare([tm.Scenario("none", problem)]).iloc[0]
    assert row.status == "optimal"
    assert row.n_covered == 0
    assert row.n_uncovered == 1


def test_names_must_be_unique(base: tm.Problem) -> None:
    with pytest.raises(tm.InputError, match="two scenarios are named 'a'"):
        tm.compare([tm.Scenario("a", base), tm.Scenario("a", base, capacity=3)])


def test_scenario_changes_and_repr(base: tm.Problem) -> None:
    s = tm.Scenario("s", base, max_distance_km=40, withdraw=["A", "B"], capacity={"A": 1})
    assert list(s.changes) == ["max_distance_km", "withdraw", "capacity"]
    assert repr(s) == "<Scenario 's': max_distance_km=40, withdraw=[A, B], capacity=1 given>"
    assert repr(tm.Scenario("b", base)) == "<Scenario 'b': the base problem>"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"max_distance_km": -1}, r"max_distance_km must be a number >= 0"),
        ({"allow_remote": "no"}, r"allow_remote must be True or False"),
        ({"withdraw": "T0001"}, r"withdraw must be a list of tutor ids, not one string"),
        ({"add_tutors": [1]}, r"add_tutors must be a DataFrame of tutors"),
        ({"later_waves": [1]}, r"later_waves must map UAI -> wave"),
        ({"time_limit": 0}, r"time_limit must be > 0 seconds"),
    ],
)
def test_bad_changes_are_refused_when_made(base: tm.Problem, changes: dict, message: str) -> None:
    with pytest.raises(tm.InputError, match=message):
        tm.Scenario("x", base, **changes)


def test_scenario_needs_a_name_and_a_problem(base: tm.Problem) -> None:
    with pytest.raises(tm.InputError, match="Scenario name must be a non-empty string"):
        tm.Scenario(" ", base)
    with pytest.raises(tm.InputError, match=r"problem must be a tutormatch\.Problem; got str"):
        tm.Scenario("x", "problem.csv")  # type: ignore[arg-type]


def test_objective_is_passed_only_when_set(base: tm.Problem, monkeypatch: pytest.MonkeyPatch) -> None:
    import inspect

    seen = {}

    def fake_solve(problem: tm.Problem, *, objective: str = "coverage", **keywords: object) -> tm.Assignment:
        seen["objective"] = objective
        return tm.solve(problem)

    monkeypatch.setattr(sys.modules["tutormatch.solve"], "solve", fake_solve)
    tm.Scenario("e", base, objective="euros").solve()
    assert seen["objective"] == "euros"
    tm.Scenario("d", base).solve()
    assert seen["objective"] == "coverage"
    assert "objective" in inspect.signature(fake_solve).parameters


def test_objective_without_support_is_an_error(base: tm.Problem, monkeypatch: pytest.MonkeyPatch) -> None:
    def old_solve(problem: tm.Problem, **keywords: object) -> tm.Assignment:
        raise AssertionError("not called")

    old_solve.__signature__ = __import__("inspect").Signature()  # type: ignore[attr-defined]
    monkeypatch.setattr(sys.modules["tutormatch.solve"], "solve", old_solve)
    with pytest.raises(tm.InputError, match=r"objective='euros' is not supported by this version"):
        tm.Scenario("e", base, objective="euros").solve()


def test_grid_and_withdrawals(base: tm.Problem) -> None:
    scenarios = grid(base, max_distance_km=[40, 60], capacity=[2, 3])
    assert [s.name for s in scenarios] == [
        "max_distance_km=40, capacity=2",
        "max_distance_km=40, capacity=3",
        "max_distance_km=60, capacity=2",
        "max_distance_km=60, capacity=3",
    ]
    a, b = withdrawals(base, 4, 5, seed=3), withdrawals(base, 4, 5, seed=3)
    assert [s.withdraw for s in a] == [s.withdraw for s in b]
    assert len({s.withdraw for s in a}) == 4
    assert withdrawals(base, 1, 5, seed=4)[0].withdraw != a[0].withdraw


def test_grid_errors(base: tm.Problem) -> None:
    with pytest.raises(tm.InputError, match=r"grid: unknown change 'radius'; valid changes: max_distance_km"):
        grid(base, radius=[1])
    with pytest.raises(tm.InputError, match=r"grid: capacity must be a non-empty list of values"):
        grid(base, capacity=[])


def test_withdrawal_counts(base: tm.Problem) -> None:
    with pytest.raises(tm.InputError, match=r"n_withdrawn=261 but the problem has only 260 tutors"):
        withdrawals(base, 1, 261, seed=0)
    with pytest.raises(tm.InputError, match=r"n_scenarios must be an integer >= 0"):
        withdrawals(base, -1, 2, seed=0)


def test_sweep_on_threads_equals_compare(base: tm.Problem) -> None:
    scenarios = [*grid(base, max_distance_km=[30, 60]), *withdrawals(base, 3, 20, seed=5)]
    scenarios.append(tm.Scenario("bad", base, capacity={"NOBODY": 1}))
    serial = tm.compare(scenarios)
    with ThreadPoolExecutor(2) as pool:
        swept = tm.sweep(scenarios, pool, progress=False)
    pd.testing.assert_frame_equal(serial.drop(columns=TIMES), swept.drop(columns=TIMES))
    assert swept.status.tolist()[-1] == "error"


def test_sweep_on_the_default_process_pool(base: tm.Problem) -> None:
    # Pickled once and rebuilt in another process: the same rows.
    scenarios = grid(base, max_distance_km=[30, 60])
    serial = tm.compare(scenarios)
    swept = tm.sweep(scenarios, max_workers=2, progress=False)
    pd.testing.assert_frame_equal(serial.drop(columns=TIMES), swept.drop(columns=TIMES))


def test_iter_sweep_streams_rows_with_their_position(base: tm.Problem) -> None:
    from tutormatch.scenarios import iter_sweep

    scenarios = grid(base, capacity=[1, 2, 3])
    with ThreadPoolExecutor(1) as pool:
        rows = list(iter_sweep(scenarios, pool, progress=False))
    assert sorted(r["position"] for r in rows) == [0, 1, 2]
    assert {r["scenario"] for r in rows} == {s.name for s in scenarios}


def test_a_lost_task_is_an_error_row(base: tm.Problem) -> None:
    from concurrent.futures import Executor, Future

    class Refusing(Executor):
        def submit(self, fn, /, *args, **kwargs):  # type: ignore[no-untyped-def]
            future: Future[object] = Future()
            future.set_exception(RuntimeError("worker lost"))
            return future

    table = tm.sweep([tm.Scenario("a", base), tm.Scenario("b", base)], Refusing(), progress=False)
    assert table.status.tolist() == ["error", "error"]
    assert table.error.tolist() == ["RuntimeError: worker lost"] * 2


def test_progress_bar_when_asked(base: tm.Problem, capsys: pytest.CaptureFixture[str]) -> None:
    with ThreadPoolExecutor(1) as pool:
        tm.sweep([tm.Scenario("a", base)], pool, progress=True)
    assert "1/1" in capsys.readouterr().err


def test_sweep_is_quiet_when_not_interactive(base: tm.Problem, capsys: pytest.CaptureFixture[str]) -> None:
    with ThreadPoolExecutor(1) as pool:
        tm.sweep([tm.Scenario("a", base)], pool)
    assert capsys.readouterr().err == ""


def test_a_worker_keeps_a_few_problems_only(base: tm.Problem) -> None:
    from tutormatch.scenarios import _sweep

    _sweep._PROBLEMS.clear()
    payloads = {f"t{i}": _sweep._dumps(base.replace(max_distance_km=10.0 + i)) for i in range(6)}
    for token, data in payloads.items():
        assert _sweep._problem(token, data).max_distance_km == 10.0 + int(token[1:])
    assert list(_sweep._PROBLEMS) == ["t2", "t3", "t4", "t5"]
    assert _sweep._problem("t5", None) is _sweep._PROBLEMS["t5"]
    _sweep._PROBLEMS.clear()


def test_the_default_pool_gets_the_problem_once(base: tm.Problem, monkeypatch: pytest.MonkeyPatch) -> None:
    from concurrent.futures import ProcessPoolExecutor

    from tutormatch.scenarios import _sweep

    seen: dict[str, list] = {"initargs": [], "payloads": []}

    class Spy(ProcessPoolExecutor):
        def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            seen["initargs"].append(kwargs["initargs"])
            super().__init__(*args, **kwargs)

        def submit(self, fn, /, *args, **kwargs):  # type: ignore[no-untyped-def]
            seen["payloads"].append(args[1])
            return super().submit(fn, *args, **kwargs)

    monkeypatch.setattr(_sweep, "ProcessPoolExecutor", Spy)
    scenarios = grid(base, capacity=[2, 3, 4])
    table = tm.sweep(scenarios, max_workers=1, progress=False)
    assert table.status.tolist() == ["optimal"] * 3
    ((payloads,),) = seen["initargs"]
    assert len(payloads) == 1  # one base problem, pickled once
    assert seen["payloads"] == [None, None, None]  # tasks refer to it by token


def test_describe_says_every_change_in_full(base: tm.Problem) -> None:
    recruits = pd.DataFrame({"tutor_id": ["NEW1", "NEW2"], "insee": ["04070", "13055"]})
    s = tm.Scenario(
        "s",
        base,
        allow_remote=False,
        add_tutors=recruits,
        capacity={"T0001": 3},
        later_waves={"0040138d": 9},
        time_limit=30,
    )
    assert s.describe() == (
        "allow_remote=False; add_tutors=2 tutors (NEW1 NEW2); capacity=T0001:3; "
        "later_waves=0040138D:9; time_limit=30"
    )
    assert tm.compare([s]).loc[0, "changes"] == s.describe()


def test_threads_use_the_callers_problem(base: tm.Problem, monkeypatch: pytest.MonkeyPatch) -> None:
    from tutormatch.scenarios import _sweep

    def no_pickling(problem: tm.Problem) -> bytes:
        raise AssertionError("threads need no pickling")

    monkeypatch.setattr(_sweep, "_dumps", no_pickling)
    monkeypatch.setattr(_sweep, "_PROBLEMS", OrderedDict())
    with ThreadPoolExecutor(2) as pool:
        table = tm.sweep(grid(base, capacity=[2, 3]), pool, progress=False)
    assert table.status.tolist() == ["optimal", "optimal"]
    assert not _sweep._PROBLEMS  # nothing kept beyond the caller's own object


def test_max_workers_is_checked(base: tm.Problem) -> None:
    scenarios = [tm.Scenario("a", base)]
    with pytest.raises(tm.InputError, match=r"max_workers must be an integer >= 1; got 0"):
        tm.sweep(scenarios, max_workers=0)
    with (
        ThreadPoolExecutor(1) as pool,
        pytest.raises(tm.InputError, match=r"max_workers sizes the default pool; give it to your executor"),
    ):
        tm.sweep(scenarios, pool, max_workers=2)


def test_an_empty_sweep_is_an_empty_table() -> None:
    table = tm.sweep([], progress=False)
    assert len(table) == 0
    assert table.columns[0] == "scenario"
