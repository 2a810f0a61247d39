"""Sweeps: many scenarios solved in parallel on any ``concurrent.futures`` executor.

The base problems are pickled once in the calling process. A worker unpickles
each base problem once and keeps it (with its spatial index and candidate
pairs, built on first use) for every scenario it solves; a task carries only
the scenario's changes and the problem's token. How the bytes reach the
workers depends on the executor:

- the default process pool receives them once per worker, in its initializer;
- a Dask executor (``client.get_executor()``) has them scattered once to
  every worker (``Client.scatter(broadcast=True)``), and each task refers
  to that copy;
- a ``ThreadPoolExecutor`` shares the caller's memory: its threads use the
  caller's problem itself, nothing is pickled;
- any other executor gets the same bytes object with every task (a process
  executor sends it along).
"""

from __future__ import annotations

import hashlib
import io
import itertools
import math
import os
import pickle
import sys
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, fields
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from tutormatch.errors import InputError
from tutormatch.scenarios._compare import COLUMNS, frame_of, scenario_row
from tutormatch.scenarios._scenario import CHANGES, Scenario, check_names

if TYPE_CHECKING:
    from tutormatch.model import Problem
    from tutormatch.report import ReportOptions

__all__ = ["grid", "iter_sweep", "sweep", "withdrawals"]

#: Base problems of this worker process, unpickled once: token -> problem,
#: the most recently used last. A long-lived (Dask) worker keeps only a few.
_PROBLEMS: OrderedDict[str, Problem] = OrderedDict()
_KEPT = 4
_LOCK = threading.Lock()
#: Pickled base problems handed to this worker by the pool's initializer.
_PAYLOADS: dict[str, bytes] = {}


@dataclass(frozen=True)
class _Task:
    """What a worker needs for one scenario: its position, its changes and its base problem's token."""

    position: int
    token: str
    changes: Mapping[str, Any]


def _changes(scenario: Scenario) -> dict[str, Any]:
    """Return a scenario's fields but its problem, as plain (picklable) values."""
    out = {}
    for f in fields(scenario):
        value = getattr(scenario, f.name)
        if f.name != "problem":
            out[f.name] = dict(value) if isinstance(value, Mapping) else value
    return out


def _install(payloads: dict[str, bytes]) -> None:
    """Keep the pickled problems (the default pool's initializer)."""
    _PAYLOADS.update(payloads)


def _read_only(mapping: dict[Any, Any]) -> Mapping[Any, Any]:
    return MappingProxyType(mapping)


class _Pickler(pickle.Pickler):
    """Pickle read-only mappings (``MappingProxyType``, used in problems) as the same, rebuilt."""

    def reducer_override(self, obj: Any) -> Any:
        if type(obj) is MappingProxyType:
            return _read_only, (dict(obj),)
        return NotImplemented


def _dumps(problem: Problem) -> bytes:
    """Pickle a problem's fields only: what it caches (index, candidates) is rebuilt where needed."""
    buffer = io.BytesIO()
    _Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(
        {f.name: getattr(problem, f.name) for f in fields(problem)}
    )
    return buffer.getvalue()


def _problem(token: str, payload: bytes | None) -> Problem:
    from tutormatch.model import Problem

    with _LOCK:  # the threads of one worker share the cache
        problem = _PROBLEMS.get(token)
        if problem is None:
            # Bytes pickled by this library in the calling process.
            state = pickle.loads(payload if payload is not None else _PAYLOADS[token])
            problem = Problem(**state)
            _PROBLEMS[token] = problem
            while len(_PROBLEMS) > _KEPT:
                _PROBLEMS.popitem(last=False)
        _PROBLEMS.move_to_end(token)
    return problem


def _run(
    task: _Task, payload: Problem | bytes | None, report_options: ReportOptions | None
) -> tuple[int, dict[str, Any]]:
    """Solve one scenario in a worker; never raises for the scenario's own failures."""
    from tutormatch.model import Problem

    # Threads get the caller's own problem; processes its bytes or a token.
    problem = payload if isinstance(payload, Problem) else _problem(task.token, payload)
    scenario = Scenario(problem=problem, **task.changes)
    return task.position, scenario_row(scenario, report_options=report_options)


def _is_dask(executor: Executor) -> bool:
    return type(executor).__module__.startswith("distributed.") and hasattr(executor, "_client")


def _in_notebook() -> bool:
    """Tell whether this runs in a Jupyter kernel (not merely with IPython imported)."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return type(shell).__name__ == "ZMQInteractiveShell"


def _progress_bar(total: int, progress: bool | None) -> Any:
    """Return a tqdm bar when asked, or when the session is interactive; else None."""
    if progress is None:
        progress = sys.stderr.isatty() or _in_notebook()
    if not progress:
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc="scenarios", unit="scenario")


def _error_row(scenario: Scenario, exc: BaseException) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(COLUMNS, math.nan)
    row.update(scenario=scenario.name, changes=scenario.describe(), status="error", solver="")
    row["error"] = f"{type(exc).__name__}: {exc}"
    return row


def iter_sweep(
    scenarios: Iterable[Scenario],
    executor: Executor | None = None,
    *,
    max_workers: int | None = None,
    report_options: ReportOptions | None = None,
    progress: bool | None = None,
) -> Iterator[dict[str, Any]]:
    """Yield one comparison row per scenario as soon as it is solved (see :func:`sweep`).

    Parameters
    ----------
    scenarios, executor, max_workers, report_options, progress
        As :func:`sweep`.

    Yields
    ------
    dict
        A row of :func:`compare`, plus ``position``: the scenario's index in
        ``scenarios``. Rows come in the order the scenarios finish.
    """
    if max_workers is not None:
        if executor is not None:
            raise InputError("max_workers sizes the default pool; give it to your executor instead.")
        if isinstance(max_workers, bool) or not isinstance(max_workers, int) or max_workers < 1:
            raise InputError(f"max_workers must be an integer >= 1; got {max_workers!r}.")
    items = check_names(scenarios)
    if not items:
        return
    # Threads share the caller's memory: nothing to pickle, nothing to cache.
    threads = isinstance(executor, ThreadPoolExecutor)
    tokens: dict[int, str] = {}
    payloads: dict[str, bytes] = {}
    problems: dict[str, Problem] = {}
    for s in items:
        if id(s.problem) not in tokens:
            data = b"" if threads else _dumps(s.problem)
            token = f"object-{id(s.problem)}" if threads else hashlib.sha256(data).hexdigest()
            tokens[id(s.problem)] = token
            payloads[token] = data
            problems[token] = s.problem
    tasks = [_Task(i, tokens[id(s.problem)], _changes(s)) for i, s in enumerate(items)]
    own = executor is None
    pool: Executor
    if executor is None:
        import multiprocessing

        # Not fork: the calling process may run threads (OR-Tools, Dask, a
        # notebook's), which a forked child would inherit half-locked.
        method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
        workers = max_workers or os.cpu_count() or 1
        pool = ProcessPoolExecutor(
            max_workers=min(workers, len(items)),
            mp_context=multiprocessing.get_context(method),
            initializer=_install,
            initargs=(payloads,),
        )
    else:
        pool = executor
    refs: dict[str, Any] = dict.fromkeys(payloads)
    if threads:
        refs = dict(problems)
    elif not own:
        if _is_dask(pool):
            client = pool._client  # type: ignore[attr-defined]
            refs = {t: client.scatter(data, broadcast=True, hash=False) for t, data in payloads.items()}
        else:
            refs = dict(payloads)
    bar = _progress_bar(len(items), progress)
    try:
        futures: dict[Future[tuple[int, dict[str, Any]]], int] = {}
        for task in tasks:
            try:
                futures[pool.submit(_run, task, refs[task.token], report_options)] = task.position
            except Exception as exc:  # a task that cannot be sent (e.g. pool broken) is its own row
                yield {"position": task.position, **_error_row(items[task.position], exc)}
                if bar is not None:
                    bar.update()
        for future in as_completed(futures):
            position = futures[future]
            try:
                _, row = future.result()
            except Exception as exc:  # the worker died or the row could not come back
                row = _error_row(items[position], exc)
            if bar is not None:
                bar.update()
            yield {"position": position, **row}
    finally:
        if bar is not None:
            bar.close()
        if own:
            pool.shutdown(wait=True, cancel_futures=True)


def sweep(
    scenarios: Iterable[Scenario],
    executor: Executor | None = None,
    *,
    max_workers: int | None = None,
    report_options: ReportOptions | None = None,
    progress: bool | None = None,
) -> pd.DataFrame:
    """Solve many scenarios in parallel and compare them, one row each.

    Parameters
    ----------
    scenarios : iterable of Scenario
        With distinct names; they may share base problems (each distinct
        base problem is shipped to the workers once).
    executor : concurrent.futures.Executor, optional
        Where to solve: any executor, e.g. a ``ThreadPoolExecutor``, or a
        Dask cluster's ``client.get_executor()``. Default: a local process
        pool of ``max_workers`` processes, shut down at the end.
    max_workers : int, optional
        Size of the default pool (default: the number of CPUs).
    report_options : ReportOptions, optional
        The cost model, as for :func:`tutormatch.report.costs`.
    progress : bool, optional
        Show a tqdm progress bar. Default: when the standard error is a
        terminal or in a Jupyter kernel.

    Returns
    -------
    pandas.DataFrame
        The rows of :func:`compare`, in the order of ``scenarios``. A
        scenario that failed (bad change, solver error, lost worker) has
        status ``"error"`` and the reason in ``error``; the others go on.

    Raises
    ------
    InputError
        If two scenarios share a name, or ``max_workers`` is not an integer
        >= 1 or comes with an ``executor``.

    Notes
    -----
    The default pool starts its processes with ``forkserver`` (``spawn``
    where there is none), never ``fork``: the calling process may run
    threads. As with any process pool, a *script* must then call
    :func:`sweep` under ``if __name__ == "__main__":``; notebooks need
    nothing.

    See Also
    --------
    iter_sweep : the rows one by one, as the scenarios finish.
    grid, withdrawals : make many scenarios.

    Examples
    --------
    >>> from concurrent.futures import ThreadPoolExecutor
    >>> import tutormatch as tm
    >>> from tutormatch.scenarios import grid
    >>> scenarios = grid(tm.example_problem(), max_distance_km=[40, 60], capacity=[2, 3])
    >>> with ThreadPoolExecutor(2) as pool:
    ...     table = tm.sweep(scenarios, pool, progress=False)
    >>> table["n_covered"].tolist()
    [494, 500, 494, 500]
    """
    rows: list[dict[str, Any]] = []
    for row in iter_sweep(
        scenarios, executor, max_workers=max_workers, report_options=report_options, progress=progress
    ):
        rows.append(row)
    rows.sort(key=lambda r: int(r.pop("position")))
    return frame_of(rows)


def _axis_text(value: Any) -> str:
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return str(int(value))
    if isinstance(value, Sequence) and not isinstance(value, str):
        return "[" + ", ".join(map(str, value)) + "]"
    return str(value)


def grid(problem: Problem, **axes: Sequence[Any]) -> list[Scenario]:
    """Return one scenario per combination of the values given for some changes.

    Parameters
    ----------
    problem : Problem
        The base problem of every scenario.
    **axes : sequence
        A change of :class:`Scenario` (``max_distance_km``, ``capacity``,
        ``allow_remote``, ``objective``...) and the values to try.

    Returns
    -------
    list of Scenario
        In the order of :func:`itertools.product` (the last axis varies
        fastest), named ``"max_distance_km=40, capacity=2"``.

    Raises
    ------
    InputError
        On an unknown change or an axis without values.

    Examples
    --------
    >>> import tutormatch as tm
    >>> from tutormatch.scenarios import grid
    >>> [s.name for s in grid(tm.example_problem(), max_distance_km=[40, 60], allow_remote=[True])]
    ['max_distance_km=40, allow_remote=True', 'max_distance_km=60, allow_remote=True']
    """
    for key, values in axes.items():
        if key not in CHANGES:
            raise InputError(f"grid: unknown change {key!r}; valid changes: {', '.join(CHANGES)}.")
        if isinstance(values, str | bytes) or not isinstance(values, Sequence) or not len(values):
            raise InputError(f"grid: {key} must be a non-empty list of values; got {values!r}.")
    names = list(axes)
    return [
        Scenario(
            ", ".join(f"{k}={_axis_text(v)}" for k, v in zip(names, combo, strict=True)),
            problem,
            **dict(zip(names, combo, strict=True)),
        )
        for combo in itertools.product(*axes.values())
    ]


def withdrawals(
    problem: Problem, n_scenarios: int, n_withdrawn: int, *, seed: int, **changes: Any
) -> list[Scenario]:
    """Return Monte-Carlo scenarios: each withdraws tutors drawn at random.

    Parameters
    ----------
    problem : Problem
    n_scenarios : int
        How many draws.
    n_withdrawn : int
        Tutors withdrawn in each draw (without replacement), at most the
        number of tutors.
    seed : int
        Seed of :func:`numpy.random.default_rng`: the same seed gives the
        same scenarios.
    **changes
        Other changes common to every scenario (e.g. ``max_distance_km``).

    Returns
    -------
    list of Scenario
        Named ``"withdraw 10 #0"``, ``"withdraw 10 #1"``...

    Raises
    ------
    InputError
        On counts out of range.

    Examples
    --------
    >>> import tutormatch as tm
    >>> from tutormatch.scenarios import withdrawals
    >>> draws = withdrawals(tm.example_problem(), 3, 10, seed=1)
    >>> [len(s.withdraw) for s in draws], draws[0].name
    ([10, 10, 10], 'withdraw 10 #0')
    """
    for name, value, top in (
        ("n_scenarios", n_scenarios, None),
        ("n_withdrawn", n_withdrawn, problem.n_tutors),
    ):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
            raise InputError(f"withdrawals: {name} must be an integer >= 0; got {value!r}.")
        if top is not None and value > top:
            raise InputError(f"withdrawals: {name}={value} but the problem has only {top} tutors.")
    rng = np.random.default_rng(seed)
    ids = problem.tutors.id  # sorted by id: the draw does not depend on input row order
    out = []
    for i in range(n_scenarios):
        chosen = np.sort(rng.choice(len(ids), size=n_withdrawn, replace=False))
        out.append(
            Scenario(
                f"withdraw {n_withdrawn} #{i}",
                problem,
                withdraw=tuple(str(t) for t in ids[chosen]),
                **changes,
            )
        )
    return out
