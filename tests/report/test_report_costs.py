"""Every cost figure, recomputed independently from the per-tutor table.

The recomputation below does not use tutormatch's money or scale code: it
walks the yearly km one by one (each km is paid at the rate of the tranche
it falls in) with the rates of the decree written out here, in cents.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from tests.conftest import random_frames

import tutormatch as tm
from tutormatch.io import make_uai
from tutormatch.report import ReportOptions

# Arrêté du 3 juillet 2006 as amended on 14 March 2022, in cents per km.
RATES_CENTS = {"5cv": (32, 40, 23), "6-7cv": (41, 51, 30), "8cv": (45, 55, 32)}
BOUNDS_KM = (2000, 10000)


def expected_class(cv: float, default: str = "5cv") -> str:
    if math.isnan(cv):
        return default
    if cv <= 5:
        return "5cv"
    if cv <= 7:
        return "6-7cv"
    return "8cv"


def km_by_tranche_walk(prior: int, yearly: int) -> list[int]:
    """Count the km of a year falling in each tranche, one km at a time."""
    counts = [0, 0, 0]
    for position in range(prior + 1, prior + yearly + 1):
        counts[0 if position <= BOUNDS_KM[0] else 1 if position <= BOUNDS_KM[1] else 2] += 1
    return counts


def cents(value: float) -> int:
    """Euros in a report cell, as cents (the cell must hold a whole number of cents)."""
    c = round(value * 100)
    assert abs(value * 100 - c) < 1e-6, f"{value} is not a whole number of cents"
    return c


def half_up(value: Decimal, exponent: str = "1") -> Decimal:
    return value.quantize(Decimal(exponent), rounding=ROUND_HALF_UP)


def check_costs(report: tm.report.CostReport, plan: tm.Assignment, options: ReportOptions) -> None:
    """Recompute every figure of a cost report; fail on the first difference."""
    tutors = report.tutors
    problem = plan.problem
    # Yearly km, from the problem itself: 2 x visits x great-circle x detour (or matrix).
    visits = problem.establishments.visits_per_year[plan.establishment]
    factor = 1.0 if problem.distance_matrix is not None else (options.detour_factor or problem.detour_factor)
    on = plan.onsite
    per_pair = 2 * visits * plan.distance_km * factor
    ids = problem.tutors.id[plan.tutor]
    for row in tutors.itertuples(index=False):
        mine = (ids == row.tutor_id) & on
        exact = Decimal(repr(math.fsum(per_pair[mine].tolist())))
        assert row.yearly_km == float(half_up(exact, "1" if options.km_decimals == 0 else "0.1"))
        assert row.n_establishments == int((ids == row.tutor_id).sum())
        assert row.n_onsite == int(mine.sum())
        # Travel, from this row alone.
        vclass = expected_class(row.vehicle_cv, options.default_vehicle_class)
        assert row.vehicle_class == vclass
        assert row.vehicle_class_assumed == math.isnan(row.vehicle_cv)
        if options.km_decimals == 0:
            km = km_by_tranche_walk(int(row.prior_service_km), int(row.yearly_km))
            travel = sum(k * r for k, r in zip(km, RATES_CENTS[vclass], strict=True))
        else:
            start, stop = (
                Decimal(repr(row.prior_service_km)),
                Decimal(repr(row.prior_service_km + row.yearly_km)),
            )
            edges = [Decimal(0), Decimal(2000), Decimal(10000), Decimal("Infinity")]
            km = [max(Decimal(0), min(stop, hi) - max(start, lo)) for lo, hi in itertools.pairwise(edges)]
            travel = int(half_up(sum(k * r for k, r in zip(km, RATES_CENTS[vclass], strict=True))))
        assert [row.km_tranche_1, row.km_tranche_2, row.km_tranche_3] == [float(k) for k in km]
        assert cents(row.travel_eur) == travel, row
        indemnity = int(Decimal(options.indemnity_eur) * 100) * row.n_establishments
        assert cents(row.indemnity_eur) == indemnity
        remote = int(Decimal(options.remote_pair_cost_eur) * 100) * row.n_remote
        assert cents(row.remote_eur) == remote
        if math.isnan(row.cia_eur):
            assert math.isnan(row.bonus_eur)
            bonus = 0
        else:
            bonus = int(half_up(Decimal(options.bonus_multiplier) * Decimal(repr(row.cia_eur)) * 100))
            assert cents(row.bonus_eur) == bonus
        assert cents(row.total_eur) == indemnity + travel + remote + bonus

    # Totals: exact sums of the per-tutor cells.
    totals = report.totals.iloc[0]
    for column in ("indemnity_eur", "travel_eur", "remote_eur", "total_eur"):
        assert cents(totals[column]) == sum(cents(v) for v in tutors[column]), column
    known = tutors["bonus_eur"].dropna()
    if len(known):
        assert cents(totals["bonus_eur"]) == sum(cents(v) for v in known)
    else:
        assert math.isnan(totals["bonus_eur"])
    assert totals["n_bonus_missing"] == tutors["bonus_eur"].isna().sum()
    assert totals["n_tutors"] == (plan.loads > 0).sum()
    assert totals["yearly_km"] == pytest.approx(tutors["yearly_km"].sum())
    if options.budget_eur is None:
        assert math.isnan(totals["headroom_eur"])
    else:
        assert cents(totals["headroom_eur"]) == int(Decimal(options.budget_eur) * 100) - cents(
            totals["total_eur"]
        )

    # Pair shares add up to each tutor's amounts, and the splits to the totals.
    pairs = report.pairs
    for column in ("indemnity_eur", "travel_eur", "remote_eur", "total_eur"):
        by_tutor = pairs.groupby("tutor_id")[column].apply(lambda s: sum(cents(v) for v in s))
        assert by_tutor.to_dict() == {
            t: cents(v) for t, v in zip(tutors["tutor_id"], tutors[column], strict=True)
        }
        for split in (report.by_departement, report.by_wave):
            assert sum(cents(v) for v in split[column]) == cents(totals[column])
    for split in (report.by_departement, report.by_wave):
        assert split["n_establishments"].sum() == plan.n_pairs
        assert sum(cents(v) for v in split["bonus_eur"].dropna()) == sum(cents(v) for v in known)


def boundary_problem() -> tuple[tm.Problem, list[tuple[str, str]]]:
    """Tutors whose yearly km land on, just before and just after 2,000 and 10,000 km."""
    # (one-way km of each of the tutor's pairs, visits 1 a year, so yearly = 2 x sum)
    cases = {
        "T01": (500.0, 499.5),  # 1,999
        "T02": (600.0, 400.0),  # 2,000: all in tranche 1
        "T03": (600.0, 400.5),  # 2,001: 1 km in tranche 2
        "T04": (2500.0, 2500.0),  # 10,000
        "T05": (2500.0, 2500.5),  # 10,001
        "T06": (3000.0, 3172.25),  # 12,344.5 -> 12,345 (half up, not half even)
        "T07": (250.0, 250.0),  # 1,000 after 1,500 already driven
        "T08": (0.5, 0.5),  # 2 after 9,999 already driven
        "T09": (0.0, 0.0),  # 0 km
    }
    vehicle = [4, 5, 6, 7, 8, 9, np.nan, 3, 12]
    cia = [100.0, np.nan, 333.335, 0.0, 250.5, np.nan, 120.0, 99.99, np.nan]
    prior = [0, 0, 0, 0, 0, 0, 1500, 9999, 0]
    n_t = len(cases)
    tutors = pd.DataFrame(
        {
            "tutor_id": list(cases),
            "name": [f"Tutor {i}" for i in range(n_t)],
            "lon": np.linspace(5.0, 5.5, n_t),
            "lat": np.full(n_t, 43.5),
            "vehicle_cv": vehicle,
            "cia_eur": cia,
            "prior_service_km": prior,
            "capacity": 2,
        }
    )
    uais = [make_uai(f"013{i:04d}") for i in range(2 * n_t)]
    establishments = pd.DataFrame(
        {"uai": uais, "lon": 5.2, "lat": 43.6, "visits_per_year": 1, "wave": [5, 6] * n_t}
    )
    problem = tm.Problem.from_frames(tutors, establishments, max_distance_km=math.inf, allow_remote=False)
    dense = np.full((n_t, 2 * n_t), 1.0)  # any other pair is short but not chosen
    pairs = []
    for i, (tid, (a, b)) in enumerate(cases.items()):
        dense[i, 2 * i], dense[i, 2 * i + 1] = a, b
        pairs += [(tid, uais[2 * i]), (tid, uais[2 * i + 1])]
    # Built from triplets so that the 0 km pairs are stored routes, not holes.
    rows, cols = np.nonzero(np.isfinite(dense))
    matrix = sp.csr_array((dense[rows, cols], (rows, cols)), shape=dense.shape)
    problem = dataclasses.replace(problem, distance_matrix=matrix)
    return problem, pairs


def test_tranche_boundaries_are_exact() -> None:
    problem, pairs = boundary_problem()
    plan = tm.evaluate(problem, pairs)
    options = ReportOptions(budget_eur="20000")
    report = tm.report.costs(plan, options=options)
    check_costs(report, plan, options)
    t = report.tutors.set_index("tutor_id")
    # Hand-computed expectations, written out.
    assert cents(t.loc["T01", "travel_eur"]) == 1999 * 32
    assert t.loc["T02", ["km_tranche_1", "km_tranche_2"]].tolist() == [2000, 0]
    assert t.loc["T02", "travel_eur"] == 640.00
    assert t.loc["T03", ["km_tranche_1", "km_tranche_2"]].tolist() == [2000, 1]
    assert cents(t.loc["T03", "travel_eur"]) == 2000 * 41 + 51  # 6 CV
    assert cents(t.loc["T04", "travel_eur"]) == 2000 * 41 + 8000 * 51  # 7 CV
    assert t.loc["T05", ["km_tranche_1", "km_tranche_2", "km_tranche_3"]].tolist() == [2000, 8000, 1]
    assert cents(t.loc["T05", "travel_eur"]) == 2000 * 45 + 8000 * 55 + 32  # 8 CV
    assert t.loc["T06", "yearly_km"] == 12345
    assert t.loc["T07", ["km_tranche_1", "km_tranche_2"]].tolist() == [500, 500]
    assert bool(t.loc["T07", "vehicle_class_assumed"])
    assert t.loc["T08", ["km_tranche_1", "km_tranche_2", "km_tranche_3"]].tolist() == [0, 1, 1]
    assert t.loc["T09", "travel_eur"] == 0
    assert t.loc["T03", "bonus_eur"] == 1000.01  # 3 x 333.335 = 1000.005, half up
    assert report.n_bonus_missing == 3


@pytest.mark.parametrize("km_decimals", [0, 1])
@pytest.mark.parametrize("seed", [3, 11, 29])
def test_seeded_plans_recompute(seed: int, km_decimals: int) -> None:
    rng = np.random.default_rng(seed)
    tutors, establishments = random_frames(25, 45, seed=seed)
    n_t = len(tutors)
    tutors["vehicle_cv"] = rng.choice([3, 4, 5, 6, 7, 8, 10, np.nan], n_t)
    tutors["cia_eur"] = np.where(rng.random(n_t) < 0.7, rng.integers(0, 2000, n_t) / 4, np.nan)
    tutors["prior_service_km"] = np.where(rng.random(n_t) < 0.3, rng.integers(0, 12000, n_t), 0)
    # Long trips and many visits, so that some tutors cross 2,000 and 10,000 km.
    establishments["visits_per_year"] = rng.choice([6, 20, 40], len(establishments))
    problem = tm.Problem.from_frames(tutors, establishments, max_distance_km=150)
    plan = tm.solve(problem)
    options = ReportOptions(
        km_decimals=km_decimals,
        remote_pair_cost_eur="12.5",
        budget_eur=50_000,
        default_vehicle_class="6-7cv",
        indemnity_eur=450,
        detour_factor=1.25,
    )
    report = tm.report.costs(plan, options=options)
    check_costs(report, plan, options)
    tranches = report.tutors[["km_tranche_2", "km_tranche_3"]]
    assert (tranches > 0).any().all(), "the seeded plans must cross both tranche boundaries"


def test_bonus_missing_for_every_tutor_is_not_zero() -> None:
    problem = tm.Problem.from_arrays(np.array([[10.0, 20.0], [15.0, 5.0]]), capacity=1)
    report = tm.report.costs(tm.solve(problem))
    assert math.isnan(report.totals["bonus_eur"].iloc[0])
    assert report.n_bonus_missing == 2
    assert report.by_wave["bonus_eur"].isna().all()
    text = tm.report.markdown_report(tm.solve(problem))
    assert "non incluse pour 2 tuteur(s) sur 2" in text
    english = tm.report.markdown_report(tm.solve(problem), options=ReportOptions(lang="en"))
    assert "not included for 2 of 2 tutors" in english


def test_matrix_problems_carry_the_cost_inputs() -> None:
    # Road km straight from the matrix (no detour): T0000 drives 2 x 6 x 900
    # = 10,800 km at the 8 CV rates, T0001 2 x 6 x 100 = 1,200 km with no CIA.
    problem = tm.Problem.from_arrays(
        np.array([[900.0, np.inf], [np.inf, 100.0]]),
        capacity=1,
        vehicle_cv=[9, 4],
        cia_eur=[200, np.nan],
        max_distance_km=math.inf,
        allow_remote=False,
    )
    report = tm.report.costs(tm.solve(problem))
    t = report.tutors.set_index("tutor_id")
    assert t["yearly_km"].tolist() == [10800, 1200]
    assert cents(t.loc["T0000", "travel_eur"]) == 2000 * 45 + 8000 * 55 + 800 * 32
    assert cents(t.loc["T0001", "travel_eur"]) == 1200 * 32
    assert cents(t.loc["T0000", "bonus_eur"]) == 600_00
    assert math.isnan(t.loc["T0001", "bonus_eur"])
    assert report.n_bonus_missing == 1


def test_travel_times_are_not_costed_as_km() -> None:
    minutes = np.array([[10.0, 25.0], [30.0, 12.0]])
    road_km = np.array([[8.0, 20.0], [26.0, 9.0]])
    by_time = tm.solve(tm.Problem.from_arrays(minutes, capacity=1, distance_unit="min"))
    assert by_time.status.is_optimal
    assert by_time.summary()["distance_unit"] == "min"
    assert "22.0 min on-site, worst 12.0 min" in repr(by_time)
    for report in (tm.report.costs, tm.report.distances):
        with pytest.raises(tm.InputError, match=r"in 'min'. Cost the plan on a matrix of road km"):
            report(by_time)
    in_km = tm.evaluate(tm.Problem.from_arrays(road_km, capacity=1), by_time.pairs)
    assert tm.report.costs(in_km).tutors["yearly_km"].tolist() == [96, 108]
    with pytest.raises(tm.InputError, match=r"distance_unit must be one of 'km', 'min'; got 'miles'"):
        tm.Problem.from_arrays(minutes, distance_unit="miles")


def test_costs_of_a_hand_edited_plan() -> None:
    tutors, establishments = random_frames(8, 10, seed=5)
    problem = tm.Problem.from_frames(tutors, establishments, max_distance_km=100)
    plan = tm.solve(problem)
    edited = plan.table()[["tutor_id", "uai"]]
    given = tm.evaluate(problem, edited)
    a = tm.report.costs(plan).totals
    b = tm.report.costs(given).totals
    pd.testing.assert_frame_equal(a, b)


def test_prior_service_km_must_be_km() -> None:
    tutors, establishments = random_frames(3, 4, seed=1)
    tutors["prior_service_km"] = ["12", "-5", ""]
    with pytest.raises(
        tm.InputError, match=r"column 'prior_service_km' must be a number from 0 to 1,000,000 km; .* row 1 "
    ):
        tm.Problem.from_frames(tutors, establishments, max_distance_km=200)


def test_a_new_decree_is_a_data_change(tmp_path: pytest.TempPathFactory) -> None:
    from importlib import resources

    text = resources.files("tutormatch").joinpath("data", "mileage_scale.json").read_text(encoding="utf-8")
    path = tmp_path / "scale.json"  # type: ignore[operator]
    path.write_text(text.replace('["0.32", "0.40", "0.23"]', '["0.35", "0.44", "0.25"]'), encoding="utf-8")
    scale = tm.report.mileage_scale(path)
    problem = tm.Problem.from_arrays(np.array([[600.0, 400.0]]), visits_per_year=2, max_distance_km=1000)
    report = tm.report.costs(tm.solve(problem), options=ReportOptions(scale=scale))
    assert cents(report.tutors["travel_eur"].iloc[0]) == 2000 * 35 + 2000 * 44
    path.write_text("{}", encoding="utf-8")
    with pytest.raises(tm.InputError, match=r"not a mileage scale"):
        tm.report.mileage_scale(path)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"indemnity_eur": -1}, r"indemnity_eur must be >= 0"),
        ({"budget_eur": "lots"}, r"budget_eur must be a number"),
        (
            {"default_vehicle_class": "7cv"},
            r"unknown vehicle class '7cv'; expected one of '5cv', '6-7cv', '8cv'",
        ),
        ({"lang": "de"}, r"lang must be one of 'en', 'fr'"),
        ({"detour_factor": 0.9}, r"detour_factor must be a number from 1 to 10; got 0.9"),
        ({"detour_factor": 1e308}, r"detour_factor must be a number from 1 to 10; got 1e\+308"),
        ({"indemnity_eur": 1e308}, r"indemnity_eur must be a number from 0 to 1,000,000 EUR; got 1E\+308\."),
        ({"budget_eur": "1e13"}, r"budget_eur must be a number from 0 to 1,000,000,000,000 EUR"),
        ({"bonus_multiplier": 1e19}, r"bonus_multiplier must be a number from 0 to 1,000; got"),
        ({"remote_pair_cost_eur": 2e6}, r"remote_pair_cost_eur must be a number from 0 to 1,000,000 EUR"),
        ({"km_decimals": 5}, r"km_decimals must be an integer from 0 to 3"),
    ],
)
def test_bad_options(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(tm.InputError, match=message):
        ReportOptions(**kwargs)  # type: ignore[arg-type]


def test_reports_price_a_plan_with_the_cost_model_it_was_solved_with() -> None:
    tutors, establishments = tm.example_frames()
    tutors = tutors.assign(status=np.where(np.arange(len(tutors)) % 5 == 0, "candidate", "retained"))
    problem = tm.Problem.from_frames(tutors, establishments)
    model = tm.CostModel(indemnity_eur=450, fixed_cost_eur=300, remote_pair_cost_eur=20)
    plan = tm.solve(problem, objective="euros", cost_model=model, budget_eur=10_000_000, time_limit=20)
    report = tm.report.costs(plan)
    assert report.total_eur == pytest.approx(plan.costs().total_cents / 100, abs=0.005)
    assert report.totals["budget_eur"].iloc[0] == 10_000_000
    assert report.options.indemnity_eur == 450
    assert float(report.totals["indemnity_eur"].iloc[0]) == 450 * plan.n_covered
