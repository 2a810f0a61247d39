"""Bad input: every error names the table, rows, column, expectation and fix.

One test per message (STYLE 8); the frames are tiny problems around Marseille.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

import tutormatch as tm
from tutormatch.io import make_uai

U1, U2, U3, U4 = (make_uai(f"013000{i}") for i in range(1, 5))  # 0130001F, 0130002G, ...
MARSEILLE = (5.36943, 43.2976)
AIX = (5.44765, 43.52994)
AVIGNON = (4.80559, 43.94929)
GAP = (6.0798, 44.55877)
DIGNE = (6.23523, 44.09338)


def establishments(**columns: object) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "uai": [U1, U2, U3],
            "name": ["Collège Frédéric Mistral", "Lycée Cézanne", "LP Aubanel"],
            "lon": [MARSEILLE[0], AIX[0], AVIGNON[0]],
            "lat": [MARSEILLE[1], AIX[1], AVIGNON[1]],
            "wave": [3, 4, 4],
        }
    )
    return frame.assign(**columns)


def tutors(**columns: object) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "tutor_id": ["T1", "T2", "T3"],
            "lon": [5.40, 5.45, 4.81],
            "lat": [43.30, 43.53, 43.95],
            "wave": [1, 2, 2],
            "role": ["SGAC", "SG", "AC"],
        }
    )
    return frame.assign(**columns)


def problem(t: pd.DataFrame | None = None, e: pd.DataFrame | None = None, **kw: object) -> tm.Problem:
    return tm.Problem.from_frames(tutors() if t is None else t, establishments() if e is None else e, **kw)


def exact(text: str) -> str:
    return re.escape(text)


def values_of(error: tm.InputError) -> tuple[object, ...]:
    return error.values  # noqa: PD011 - the error's field, not a pandas attribute


# -- the error type ---------------------------------------------------------------


def test_input_error_is_a_value_error_with_fields() -> None:
    with pytest.raises(ValueError, match="column 'capacity'") as info:
        problem(tutors(capacity=[2, -1, 2]))
    error = info.value
    assert isinstance(error, tm.InputError)
    assert (error.table, error.column, error.rows, values_of(error)) == (
        "tutors",
        "capacity",
        (1,),
        (-1,),
    )


# -- required columns and ids -------------------------------------------------------


def test_missing_tutor_id_column() -> None:
    with pytest.raises(
        tm.InputError,
        match=exact(
            "tutors: required column 'tutor_id' (or one of 'identifiant', 'id', 'identifiant tuteur', "
            "'id tuteur', 'tuteur', 'tutor', 'matricule') is missing; "
            "columns found: 'lon', 'lat', 'wave', 'role'. Add it, or rename the "
            "matching column; "
            "names are matched ignoring case, accents, spaces and punctuation."
        ),
    ) as info:
        problem(tutors().drop(columns="tutor_id"))
    assert info.value.column == "tutor_id"


def test_missing_uai_column() -> None:
    with pytest.raises(
        tm.InputError,
        match=exact(
            "establishments: required column 'uai' (or one of 'code UAI', 'RNE', 'code RNE', "
            "'uai code', 'numéro UAI', 'code établissement')"
        ),
    ):
        problem(e=establishments().drop(columns="uai"))


def test_duplicate_tutor_ids() -> None:
    with pytest.raises(
        tm.InputError,
        match=exact(
            "tutors: column 'tutor_id' must hold unique ids; found in 2 rows: 'T1' on "
            "row 0, 'T1' on row 2. "
            "Each id must appear once: merge or rename the duplicated rows."
        ),
    ) as info:
        problem(tutors(tutor_id=["T1", "T2", "T1"]))
    assert info.value.rows == (0, 2)


def test_duplicate_uai_ignores_case() -> None:
    with pytest.raises(
        tm.InputError,
        match=exact(
            "establishments: column 'uai' must hold unique ids; found in 2 rows: '0130001F' on row 0"
        ),
    ):
        problem(e=establishments(uai=[U1, U2, U1.lower()]))


def test_blank_tutor_id() -> None:
    with pytest.raises(
        tm.InputError,
        match=exact(
            "tutors: column 'tutor_id' must give every tutor an id; found in 1 row: empty on row 1. Fill in"
        ),
    ):
        problem(tutors(tutor_id=["T1", None, "T3"]))


def test_two_columns_for_one_field_with_equal_values_are_read_once() -> None:
    frame = establishments()
    frame["Code UAI"] = frame["uai"].str.lower()
    p = problem(e=frame)
    assert p.columns["establishments"]["same_as"] == {"Code UAI": "uai"}
    assert "Code UAI" not in p.establishments.extra.columns


def test_two_columns_for_one_field_must_agree() -> None:
    frame = tutors(longitude=[5.40, 5.46, 4.81])
    with pytest.raises(
        tm.InputError,
        match=exact(
            "tutors: columns 'lon' and 'longitude' both give 'lon' but differ in 1 row: 5.45 vs 5.46 on "
            "row 1. Keep one of them: drop or rename the other."
        ),
    ) as info:
        problem(frame)
    assert info.value.rows == (1,)


# -- UAI check letters -----------------------------------------------------------------


def test_uai_with_a_wrong_check_letter_suggests_the_right_one() -> None:
    with pytest.raises(
        tm.InputError,
        match=exact(
            "establishments: column 'uai' must hold UAI codes: 7 digits then the "
            "check letter "
            "'ABCDEFGHJKLMNPRSTUVWXYZ'[first seven % 23]; found in 1 row: '0130002A' "
            "on row 1. "
            "Correct the codes (right codes: 0130002G instead of 0130002A)."
        ),
    ) as info:
        problem(e=establishments(uai=[U1, "0130002A", U3]))
    assert values_of(info.value) == ("0130002A",)


def test_uai_without_its_check_letter() -> None:
    with pytest.raises(
        tm.InputError,
        match=exact("(right codes: 0130002G (check letter missing) instead of 0130002)"),
    ):
        problem(e=establishments(uai=[U1, "0130002", U3]))


def test_uai_that_lost_its_leading_zero() -> None:
    with pytest.raises(
        tm.InputError,
        match=exact("(right codes: 0130002G (leading zero lost) instead of 130002G)"),
    ):
        problem(e=establishments(uai=[U1, "130002G", U3]))


def test_home_uai_with_a_wrong_check_letter() -> None:
    with pytest.raises(
        tm.InputError,
        match=exact("tutors: column 'home_uai' must hold UAI codes: 7 digits then the check letter"),
    ) as info:
        problem(tutors(home_uai=["", "0130001A", None]))
    assert info.value.rows == (1,)
    assert "(tutor_id T2)" in str(info.value)


def test_lower_case_uai_is_accepted() -> None:
    p = problem(e=establishments(uai=[U1.lower(), U2, U3]))
    assert p.establishments.id.tolist() == [U1, U2, U3]


# -- lon / lat -------------------------------------------------------------------------


def test_lon_column_without_lat_column() -> None:
    with pytest.raises(
        tm.InputError,
        match=exact(
            "tutors: column 'lon' is given without column 'lat'. Add column 'lat' "
            "(WGS84 degrees), or drop 'lon'"
        ),
    ) as info:
        problem(tutors().drop(columns="lat"))
    assert info.value.column == "lat"


def test_lat_missing_on_a_row() -> None:
    with pytest.raises(
        tm.InputError,
        match=exact(
            "tutors: column 'lat' must be given with column 'lon' (both or neither); "
            "found in 1 row: "
            "empty on row 2 (tutor_id T3). Fill in the missing coordinate"
        ),
    ):
        problem(tutors(lat=[43.30, 43.53, None]))


def test_lon_missing_on_a_row() -> None:
    with pytest.raises(
        tm.InputError,
        match=exact("tutors: column 'lon' must be given with column 'lat' (both or neither)"),
    ):
        problem(tutors(lon=[np.nan, 5.45, 4.81]))


def test_lon_not_a_number() -> None:
    with pytest.raises(
        tm.InputError,
        match=exact(
            "establishments: column 'lon' must be a number (WGS84 longitude in "
            "degrees); found in 1 row: "
            "'5.3E' on row 0 (uai 0130001F)"
        ),
    ):
        problem(e=establishments(lon=["5.3E", AIX[0], AVIGNON[0]]))


def test_lat_out_of_range() -> None:
    with pytest.raises(
        tm.InputError,
        match=exact(
            "establishments: column 'lat' must hold WGS84 degrees in [-90, 90]; found "
            "in 1 row: 95.2 on row 1 "
            "(uai 0130002G). Give WGS84 degrees: lon in [-180, 180], lat in [-90, 90]."
        ),
    ):
        problem(e=establishments(lat=[MARSEILLE[1], 95.2, AVIGNON[1]]))


def test_lon_out_of_range() -> None:
    with pytest.raises(
        tm.InputError,
        match=exact("tutors: column 'lon' must hold WGS84 degrees in [-180, 180]"),
    ):
        problem(tutors(lon=[5.4, 185.0, 4.81]))


def test_projected_metres_given_as_lon_lat() -> None:
    with pytest.raises(
        tm.InputError,
        match=exact("These look like projected coordinates in metres (e.g. Lambert-93)"),
    ):
        problem(
            e=establishments(
                lon=[892000.0, 896000.0, 845000.0],
                lat=[6247000.0, 6272000.0, 6315000.0],
            )
        )


def test_swapped_lon_and_lat() -> None:
    with pytest.raises(
        tm.InputError,
        match=exact(
            "tutors: column 'lon' and column 'lat' look swapped: these points are "
            "outside France but would be "
            "inside with lon and lat exchanged; found in 1 row: lon 43.53, lat 5.45 "
            "on row 1 (tutor_id T2). "
            "Exchange lon and lat on these rows"
        ),
    ) as info:
        problem(tutors(lon=[5.40, 43.53, 4.81], lat=[43.30, 5.45, 43.95]))
    assert values_of(info.value) == ((43.53, 5.45),)


def test_swapped_columns_named_as_the_user_spelled_them() -> None:
    frame = tutors().rename(columns={"lon": "Latitude", "lat": "Longitude"})  # the user's labels are wrong
    with pytest.raises(
        tm.InputError,
        match=exact("tutors: column 'Longitude' and column 'Latitude' look swapped"),
    ):
        problem(frame)


def test_one_point_outside_france_warns_and_points_at_the_caller() -> None:
    with pytest.warns(
        tm.TutormatchWarning,
        match=exact(
            "tutors: points outside France while the others are inside, in 1 row: lon "
            "13.4, lat 52.5 on row 2 "
            "(tutor_id T3). Check these coordinates"
        ),
    ) as record:
        p = problem(tutors(lon=[5.40, 5.45, 13.4], lat=[43.30, 43.53, 52.5]))
    assert p.n_tutors == 3
    assert record[0].filename == __file__


def test_outside_france_warning_points_at_the_caller_of_from_csv(
    tmp_path: Path,
) -> None:
    tutors().assign(lon=[5.40, 5.45, 13.4], lat=[43.30, 43.53, 52.5]).to_csv(tmp_path / "t.csv", index=False)
    establishments().to_csv(tmp_path / "e.csv", index=False)
    with pytest.warns(tm.TutormatchWarning, match=exact("t.csv: points outside France")) as record:
        tm.Problem.from_csv(tmp_path / "t.csv", tmp_path / "e.csv")
    assert record[0].filename == __file__
    assert "on line 4 (tutor_id T3)" in str(record[0].message)


def test_a_table_with_no_point_in_france_is_refused() -> None:
    # Every tutor at null island made every pair remote at ~5,600 km, silently.
    with pytest.raises(
        tm.InputError,
        match=exact(
            "tutors: column 'lon' and column 'lat' must locate points in France, but none of this "
            "table's points is in France; found in 3 rows: lon 0, lat 0 on row 0 (tutor_id T1), "
        )
        + r".*\(0, 0\) is what a missing coordinate often becomes",
    ) as info:
        problem(tutors(lon=[0.0] * 3, lat=[0.0] * 3))
    assert info.value.rows == (0, 1, 2)


def test_null_island_among_points_in_france_is_a_warning() -> None:
    with pytest.warns(tm.TutormatchWarning, match=r"lon 0, lat 0 on row 2 \(tutor_id T3\).*\(0, 0\)"):
        problem(tutors(lon=[5.40, 5.45, 0.0], lat=[43.30, 43.53, 0.0]))


def test_overseas_points_are_in_france() -> None:
    # La Réunion (Saint-Denis) among metropolitan points: no warning.
    p = problem(tutors(lon=[5.40, 5.45, 55.45], lat=[43.30, 43.53, -20.88]))
    assert p.tutors.lon[2] == 55.45


# -- INSEE codes -----------------------------------------------------------------------


def test_unknown_insee_code() -> None:
    frame = tutors().drop(columns=["lon", "lat"]).assign(insee=["13055", "99999", "84007"])
    with pytest.raises(
        tm.InputError,
        match=exact(
            "tutors: column 'insee' must hold INSEE commune codes known to the "
            "gazetteer (5 characters, "
            "e.g. 13055); found in 1 row: 99999 on row 1 (tutor_id T2). Correct the "
            "codes, give lon/lat "
            "instead, or pass your own gazetteer."
        ),
    ):
        problem(frame)


def test_insee_codes_that_lost_their_leading_zero_are_restored() -> None:
    frame = tutors().drop(columns=["lon", "lat"]).assign(insee=[13055, 5061, 4070])
    p = problem(frame)
    located = dict(zip(p.tutors.id, zip(p.tutors.lon, p.tutors.lat, strict=True), strict=True))
    assert located == {"T1": MARSEILLE, "T2": GAP, "T3": DIGNE}


def test_insee_codes_as_floats_from_a_column_with_blanks() -> None:
    frame = tutors(
        lon=[5.40, np.nan, np.nan],
        lat=[43.30, np.nan, np.nan],
        insee=[np.nan, 13001.0, 84007.0],
    )
    p = problem(frame)
    assert (p.tutors.lon[1], p.tutors.lat[1]) == AIX


def test_insee_code_of_a_marseille_arrondissement_is_marseille() -> None:
    frame = tutors().drop(columns=["lon", "lat"]).assign(insee=["13208", "13001", "84007"])
    p = problem(frame)
    assert (p.tutors.lon[0], p.tutors.lat[0]) == MARSEILLE


def test_insee_code_without_coordinates_in_the_gazetteer() -> None:
    frame = establishments().drop(columns=["lon", "lat"]).assign(insee=["13055", "15031", "84007"])
    with pytest.raises(
        tm.InputError,
        match=exact(
            "establishments: column 'insee' names communes without coordinates in the "
            "gazetteer; found in "
            "1 row: 15031 on row 1 (uai 0130002G). Give lon and lat for these rows."
        ),
    ):
        problem(e=frame)


def test_no_location_column() -> None:
    with pytest.raises(
        tm.InputError,
        match=exact(
            "establishments: no location column; columns found: 'uai', 'name', "
            "'wave'. Add columns 'lon' and "
            "'lat' (WGS84 degrees), or 'insee' (INSEE commune codes); or pass a "
            "GeoDataFrame of points."
        ),
    ):
        problem(e=establishments().drop(columns=["lon", "lat"]))


def test_establishment_without_a_location() -> None:
    frame = establishments().drop(columns=["lon", "lat"]).assign(insee=["13055", "", "84007"])
    with pytest.raises(
        tm.InputError,
        match=exact(
            "establishments: no location (neither lon/lat nor an INSEE code) on 1 "
            "row: row 1 (uai 0130002G). "
            "Give lon and lat (WGS84 degrees), or an INSEE commune code in column "
            "'insee'."
        ),
    ) as info:
        problem(e=frame)
    assert info.value.rows == (1,)


# -- home_uai --------------------------------------------------------------------------


def test_tutor_located_by_home_uai() -> None:
    frame = tutors(lon=[np.nan, 5.45, 4.81], lat=[np.nan, 43.53, 43.95], home_uai=[U1, "", ""])
    p = problem(frame)
    assert (p.tutors.lon[0], p.tutors.lat[0]) == MARSEILLE
    assert p.tutors.home.tolist() == [0, -1, -1]


def test_home_uai_missing_from_the_establishments_table() -> None:
    frame = tutors(lon=[np.nan, 5.45, 4.81], lat=[np.nan, 43.53, 43.95], home_uai=[U4, "", ""])
    with pytest.raises(
        tm.InputError,
        match=exact(
            "tutors: column 'home_uai' must name an establishment of the "
            "establishments table when it is the "
            "tutor's only location; found in 1 row: '0130004J' on row 0 (tutor_id "
            "T1). Add these establishments"
        ),
    ):
        problem(frame)


def test_tutor_without_a_location() -> None:
    frame = tutors().drop(columns=["lon", "lat"]).assign(insee=["13055", None, "84007"])
    with pytest.raises(
        tm.InputError,
        match=exact(
            "tutors: no location (neither lon/lat, an INSEE code nor a known "
            "home_uai) on 1 row: row 1 "
            "(tutor_id T2). Give lon and lat"
        ),
    ):
        problem(frame)


# -- capacity, role, need, priority, wave, booleans ------------------------------------


def test_negative_capacity() -> None:
    with pytest.raises(
        tm.InputError,
        match=exact(
            "tutors: column 'capacity' must be a whole number from 0 to 10,000; found in 1 row: "
            "-1 on row 1 (tutor_id T2). "
            "Correct or drop these rows."
        ),
    ):
        problem(tutors(capacity=[2, -1, 2]))


def test_fractional_capacity() -> None:
    with pytest.raises(
        tm.InputError,
        match=exact(
            "column 'capacity' must be a whole number from 0 to 10,000; found in 1 row: 1.5 on row 0"
        ),
    ):
        problem(tutors(capacity=[1.5, 2, 2]))


def test_non_numeric_capacity() -> None:
    with pytest.raises(
        tm.InputError,
        match=exact(
            "column 'capacity' must be a whole number from 0 to 10,000; found in 1 row: 'two' on row 2"
        ),
    ):
        problem(tutors(capacity=[2, 2, "two"]))


def test_blank_capacity_takes_the_default() -> None:
    assert problem(tutors(capacity=[1, None, 3])).tutors.capacity.tolist() == [1, 2, 3]


def test_min_load_above_capacity() -> None:
    with pytest.raises(
        tm.InputError,
        match=exact(
            "tutors: column 'min_load' must not exceed the tutor's capacity; found in 1 row: 3 on row 0"
        ),
    ):
        problem(tutors(capacity=[2, 2, 2], min_load=[3, 0, 0]))


def test_unknown_role() -> None:
    with pytest.raises(
        tm.InputError,
        match=exact(
            "tutors: column 'role' must be one of AC, AG, FPAC, SG, SGAC (the tutor's "
            "function), or empty when "
            "unknown; found in 1 row: 'DIR' on row 1 (tutor_id T2). Correct or drop "
            "these rows."
        ),
    ):
        problem(tutors(role=["SGAC", "DIR", "AC"]))


def test_roles_are_matched_ignoring_case() -> None:
    assert problem(tutors(role=["sgac", "Sg", ""])).tutors.role.tolist() == [
        "SGAC",
        "SG",
        "",
    ]


def test_unknown_need() -> None:
    with pytest.raises(
        tm.InputError,
        match=exact(
            "establishments: column 'need' must be one of accounting, both, "
            "management (the kind of help needed), "
            "or empty when unknown; found in 1 row: 'pedagogy' on row 2 (uai 0130003H)."
        ),
    ):
        problem(e=establishments(need=["gestion", "both", "pedagogy"]))


def test_non_numeric_priority() -> None:
    with pytest.raises(
        tm.InputError,
        match=exact(
            "establishments: column 'priority' must be a number from 0.000001 to 1,000,000; found in 1 row: "
            "'high' on row 0 (uai 0130001F)."
        ),
    ):
        problem(e=establishments(priority=["high", 1, 2]))


@pytest.mark.parametrize("priority", [0, -1.5])
def test_priority_not_positive(priority: float) -> None:
    with pytest.raises(
        tm.InputError,
        match=exact(
            "column 'priority' must be a number from 0.000001 to 1,000,000; "
            f"found in 1 row: {priority} on row 1"
        ),
    ):
        problem(e=establishments(priority=[1, priority, 2]))


def test_fractional_wave() -> None:
    with pytest.raises(
        tm.InputError,
        match=exact(
            "establishments: column 'wave' must be a whole number from 0 to 999,999; found in 1 row: 3.5"
        ),
    ):
        problem(e=establishments(wave=[3.5, 4, 4]))


def test_bad_remote_ok() -> None:
    with pytest.raises(
        tm.InputError,
        match=exact(
            "tutors: column 'remote_ok' must be true or false (also accepted: "
            "oui/non, 1/0, yes/no); found in 1 row: 'maybe'"
        ),
    ):
        problem(tutors(remote_ok=[True, "maybe", "non"]))


def test_negative_visits_per_year() -> None:
    with pytest.raises(
        tm.InputError,
        match=exact("column 'visits_per_year' must be a number from 0 to 365; found in 1 row: -6"),
    ):
        problem(e=establishments(visits_per_year=[6, -6, 6]))


# -- every offending row is kept -------------------------------------------------------


def test_error_lists_five_rows_and_keeps_them_all() -> None:
    n = 8
    frame = pd.DataFrame(
        {
            "tutor_id": [f"T{i}" for i in range(n)],
            "lon": [5.4] * n,
            "lat": [43.3] * n,
            "capacity": [-1] * 7 + [2],
        },
        index=[f"r{i}" for i in range(n)],
    )
    with pytest.raises(
        tm.InputError,
        match=exact(
            "found in 7 rows: -1 on row r0 (tutor_id T0), -1 on row r1 (tutor_id T1), "
            "-1 on row r2 (tutor_id T2), "
            "-1 on row r3 (tutor_id T3), -1 on row r4 (tutor_id T4) and 2 more. "
            "Correct or drop these rows."
        ),
    ) as info:
        problem(frame)
    assert info.value.rows == tuple(f"r{i}" for i in range(7))
    assert values_of(info.value) == (-1,) * 7


# -- fixed and forbidden pairs ---------------------------------------------------------


def test_fixed_pair_with_an_unknown_tutor() -> None:
    with pytest.raises(
        tm.InputError,
        match=exact(
            "fixed_pairs: column 'tutor_id' must name tutors of the tutors table; "
            "found in 1 row: 'T9' on row 1. "
            "Correct the ids or drop these rows."
        ),
    ):
        problem(fixed_pairs=[("T1", U2), ("T9", U3)])


def test_forbidden_pair_with_an_unknown_uai() -> None:
    with pytest.raises(
        tm.InputError,
        match=exact(
            "forbidden_pairs: column 'uai' must name establishments of the "
            "establishments table; found in 1 "
            "row: '0130004J' on row 0. Correct the UAI or drop these rows."
        ),
    ):
        problem(forbidden_pairs=pd.DataFrame({"tutor_id": ["T1"], "uai": [U4]}))


def test_fixed_pairs_without_a_uai_column() -> None:
    with pytest.raises(tm.InputError, match=exact("fixed_pairs: required column 'uai' (or one of")):
        problem(fixed_pairs=pd.DataFrame({"tutor_id": ["T1"], "etab": [U2]}))


def test_fixed_pairs_item_that_is_not_a_pair() -> None:
    with pytest.raises(
        tm.InputError,
        match=exact("fixed_pairs: item 1 is ('T2', '0130002G', 'x'); expected a (tutor_id, uai) pair."),
    ):
        problem(fixed_pairs=[("T1", U2), ("T2", U2, "x")])


def test_fixed_pairs_given_as_a_path_to_from_frames(tmp_path: Path) -> None:
    with pytest.raises(
        tm.InputError,
        match=exact("fixed_pairs: got a path (") + ".*" + exact("Problem.from_csv(..., fixed_pairs=path)"),
    ):
        problem(fixed_pairs=str(tmp_path / "fixed.csv"))


def test_fixed_pair_on_the_tutors_own_establishment() -> None:
    with pytest.raises(
        tm.InputError,
        match=exact(
            "fixed_pairs: 1 fixed pair breaks an eligibility rule: (T1, 0130001F) on "
            "row 0: 0130001F is tutor "
            "T1's own establishment. Drop these pairs, or change what excludes them"
        ),
    ) as info:
        problem(tutors(home_uai=[U1, "", ""]), fixed_pairs=[("T1", U1)])
    assert info.value.rows == (0,)
    assert values_of(info.value) == (("T1", U1),)


def test_fixed_pair_with_a_wave_not_earlier() -> None:
    with pytest.raises(
        tm.InputError,
        match=exact("(T2, 0130001F) on row 0: tutor T2's wave (3) is not earlier than 0130001F's (3)"),
    ):
        problem(tutors(wave=[1, 3, 2]), fixed_pairs=[("T2", U1)])


def test_fixed_pair_whose_role_cannot_help() -> None:
    with pytest.raises(
        tm.InputError,
        match=exact(
            "(T3, 0130001F) on row 0: tutor T3's role AC cannot give the management help 0130001F needs"
        ),
    ):
        problem(e=establishments(need=["management", "", ""]), fixed_pairs=[("T3", U1)])


def test_fixed_pair_too_far_with_remote_switched_off() -> None:
    with pytest.raises(
        tm.InputError,
        match=exact(
            "(T1, 0130003H) on row 0: 0130003H is 86.6 km from tutor T1, beyond the "
            "60 km limit, and remote "
            "tutoring is switched off"
        ),
    ):
        problem(allow_remote=False, fixed_pairs=[("T1", U3)])


def test_fixed_pair_too_far_for_a_tutor_who_refuses_remote() -> None:
    with pytest.raises(tm.InputError, match=exact("and remote tutoring is not accepted by the tutor")):
        problem(tutors(remote_ok=[False, True, True]), fixed_pairs=[("T1", U3)])


def test_fixed_pair_too_far_remote_allowed_is_valid() -> None:
    p = problem(fixed_pairs=[("T1", U3)])
    assert p.fixed.tolist() == [[0, 2]]


def test_establishment_fixed_to_two_tutors() -> None:
    with pytest.raises(
        tm.InputError,
        match=exact(
            "fixed_pairs: 1 establishment fixed to several tutors, but an "
            "establishment has one tutor: 0130002G "
            "to T1 on row 0 and T2 on row 2. Keep one pair per establishment."
        ),
    ) as info:
        problem(fixed_pairs=[("T1", U2), ("T1", U3), ("T2", U2)])
    assert sorted(info.value.rows) == [0, 2]
    assert info.value.column == "uai"


def test_more_fixed_pairs_than_capacity() -> None:
    with pytest.raises(
        tm.InputError,
        match=exact(
            "fixed_pairs: 1 tutor with more fixed establishments than their capacity: "
            "T1 has 2 (rows 0, 1) for a "
            "capacity of 1. Raise these capacities in the tutors table or drop fixed "
            "pairs."
        ),
    ):
        problem(tutors(capacity=[1, 2, 2]), fixed_pairs=[("T1", U2), ("T1", U3)])


def test_pair_both_fixed_and_forbidden() -> None:
    with pytest.raises(
        tm.InputError,
        match=exact(
            "fixed_pairs: 1 pair also in forbidden_pairs: (T1, 0130002G) on row 1 "
            "(row 0 of forbidden_pairs). "
            "Remove each pair from one of the two lists."
        ),
    ):
        problem(fixed_pairs=[("T2", U3), ("T1", U2)], forbidden_pairs=[("T1", U2)])


def test_repeated_fixed_pair_counts_once() -> None:
    p = problem(tutors(capacity=[1, 2, 2]), fixed_pairs=[("T1", U2), ("T1", U2)])
    assert p.fixed.tolist() == [[0, 1]]


def test_pairs_use_the_custom_id_column_names() -> None:
    t = tutors().rename(columns={"tutor_id": "agent"})
    e = establishments().rename(columns={"uai": "etab"})
    fixed = pd.DataFrame({"Agent": ["T1"], "ETAB": [U2.lower()]})
    p = tm.Problem.from_frames(t, e, tutor_id="agent", establishment_id="etab", fixed_pairs=fixed)
    assert p.fixed.tolist() == [[0, 1]]


def test_empty_pair_tables_are_no_pairs() -> None:
    p = problem(fixed_pairs=pd.DataFrame(), forbidden_pairs=[])
    assert p.fixed.shape == (0, 2)
    assert p.forbidden.shape == (0, 2)


# -- GeoDataFrames ---------------------------------------------------------------------


def geo_establishments(crs: object) -> gpd.GeoDataFrame:
    frame = establishments()
    points = gpd.points_from_xy(frame["lon"], frame["lat"], crs="EPSG:4326")
    return gpd.GeoDataFrame(frame.drop(columns=["lon", "lat"]), geometry=points).to_crs(crs)


def test_geodataframe_without_crs() -> None:
    frame = establishments()
    geo = gpd.GeoDataFrame(
        frame.drop(columns=["lon", "lat"]),
        geometry=gpd.points_from_xy(frame["lon"], frame["lat"]),
    )
    with pytest.raises(
        tm.CRSError,
        match=exact("establishments: the GeoDataFrame has no CRS") + ".*`set_crs`",
    ) as info:
        problem(e=geo)
    assert isinstance(info.value, tm.InputError)


def test_geodataframe_in_lambert_93_is_reprojected() -> None:
    p = problem(e=geo_establishments("EPSG:2154"))
    np.testing.assert_allclose(p.establishments.lon, establishments()["lon"], atol=1e-7)
    np.testing.assert_allclose(p.establishments.lat, establishments()["lat"], atol=1e-7)
    assert "geometry" not in p.establishments.extra.columns
    assert p.establishments.extra.columns.tolist() == []


def test_geodataframe_with_a_wrong_crs() -> None:
    geo = geo_establishments("EPSG:2154").set_crs("EPSG:4326", allow_override=True)
    with pytest.raises(
        tm.CRSError,
        match=exact(
            "establishments: column 'geometry' holds points that are not on Earth "
            "once read in the "
            "GeoDataFrame's CRS (EPSG:4326)"
        )
        + ".*"
        + exact("set_crs(..., allow_override=True)"),
    ):
        problem(e=geo)


def test_geodataframe_with_swapped_x_and_y() -> None:
    frame = establishments()
    geo = gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(frame["lat"], frame["lon"]), crs="EPSG:4326")
    with pytest.raises(
        tm.InputError,
        match=exact("establishments: column 'geometry' holds points whose x and y look swapped"),
    ):
        problem(e=geo.drop(columns=["lon", "lat"]))


def test_geodataframe_with_lon_lat_columns_needs_no_crs() -> None:
    frame = establishments()
    geo = gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(frame["lon"], frame["lat"]))
    assert problem(e=geo).n_establishments == 3


# -- empty tables ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "empty",
    [pd.DataFrame(), establishments().iloc[:0], pd.DataFrame({"uai": []})],
    ids=["no-columns", "header-only", "uai-only"],
)
def test_empty_establishments_give_an_empty_plan(empty: pd.DataFrame) -> None:
    p = problem(e=empty)
    assert (p.n_tutors, p.n_establishments) == (3, 0)
    plan = tm.solve(p)
    assert plan.status == tm.Status.OPTIMAL
    assert len(plan.pairs) == 0


@pytest.mark.parametrize("empty", [pd.DataFrame(), tutors().iloc[:0]], ids=["no-columns", "header-only"])
def test_empty_tutors_are_valid(empty: pd.DataFrame) -> None:
    p = problem(empty)
    assert (p.n_tutors, p.n_establishments) == (0, 3)
    plan = tm.solve(p)
    assert plan.status == tm.Status.OPTIMAL
    assert len(plan.pairs) == 0


def test_both_tables_empty() -> None:
    plan = tm.solve(tm.Problem.from_frames(pd.DataFrame(), pd.DataFrame()))
    assert plan.status == tm.Status.OPTIMAL
    assert len(plan.pairs) == 0


def test_empty_table_with_wrong_columns_is_still_checked() -> None:
    with pytest.raises(tm.InputError, match=exact("establishments: required column 'uai'")):
        problem(e=pd.DataFrame(columns=["code", "nom"]))


# -- names matched ignoring case, aliases ----------------------------------------------


def test_column_names_ignore_case_and_accept_aliases() -> None:
    t = tutors().drop(columns=["lon", "lat"]).assign(insee=["13055", "13001", "84007"])
    t = t.rename(columns={"tutor_id": "Tuteur", "insee": "Code_INSEE", "role": "ROLE"})
    e = establishments().rename(columns={"uai": "UAI", "lon": "Longitude", "lat": "Latitude", "name": "Nom"})
    p = tm.Problem.from_frames(t, e)
    reference = problem(tutors().drop(columns=["lon", "lat"]).assign(insee=["13055", "13001", "84007"]))
    np.testing.assert_array_equal(p.tutors.lon, reference.tutors.lon)
    np.testing.assert_array_equal(p.tutors.role, reference.tutors.role)
    np.testing.assert_array_equal(p.establishments.id, reference.establishments.id)
    np.testing.assert_array_equal(p.establishments.lat, reference.establishments.lat)
    np.testing.assert_array_equal(p.establishments.name, reference.establishments.name)


def test_uai_column_in_the_tutors_table_is_the_home_uai() -> None:
    frame = tutors(lon=[np.nan, 5.45, 4.81], lat=[np.nan, 43.53, 43.95], UAI=[U1, "", ""])
    assert problem(frame).tutors.home_uai.tolist() == [U1, "", ""]


def test_other_columns_are_kept_for_reports() -> None:
    p = problem(tutors(email=["a@x.fr", "b@x.fr", "c@x.fr"]))
    assert p.tutors.extra.to_dict("list") == {"email": ["a@x.fr", "b@x.fr", "c@x.fr"]}


# -- the user's frames are never mutated -----------------------------------------------


def test_user_frames_are_not_mutated() -> None:
    t = tutors(
        tutor_id=["T3", "T1", "T2"],
        capacity=[2, None, "1"],
        insee=[None, None, 4070],
        lon=[5.40, 5.45, np.nan],
        lat=[43.30, 43.53, np.nan],
        home_uai=["", U1.lower(), None],
        remote_ok=["oui", True, np.nan],
    )
    e = establishments(
        uai=[U3, U1.lower(), U2],
        priority=["1,5", 2, None],
        need=["Gestion", "both", ""],
    )
    fixed = pd.DataFrame({"tutor_id": ["T1"], "uai": [U2.lower()]})
    copies = [frame.copy(deep=True) for frame in (t, e, fixed)]
    p = tm.Problem.from_frames(t, e, fixed_pairs=fixed)
    for frame, copy in zip((t, e, fixed), copies, strict=True):
        pd.testing.assert_frame_equal(frame, copy)
    assert p.establishments.priority.tolist() == [2.0, 1.0, 1.5]


def test_geodataframe_is_not_mutated() -> None:
    geo = geo_establishments("EPSG:2154")
    copy = geo.copy(deep=True)
    problem(e=geo)
    assert geo.crs == copy.crs
    pd.testing.assert_frame_equal(pd.DataFrame(geo), pd.DataFrame(copy))


# -- settings --------------------------------------------------------------------------


def test_unknown_kind_of_help_in_role_help() -> None:
    with pytest.raises(
        tm.InputError,
        match=exact("role_help['SG']: unknown kind(s) of help ['teaching']"),
    ):
        problem(role_help={"SG": ["teaching"]})


def test_from_arrays_capacity_of_the_wrong_length() -> None:
    with pytest.raises(
        tm.InputError,
        match=exact("capacity: expected one value or 2 values (one per tutor); got shape (3,)."),
    ):
        tm.Problem.from_arrays(np.ones((2, 2)), capacity=[1, 2, 3])


def test_gazetteer_frame_with_an_insee_code_column() -> None:
    gazetteer = pd.DataFrame({"insee_code": [13055, 5061], "lon": [5.0, 6.0], "lat": [43.0, 44.5]})
    frame = tutors().drop(columns=["lon", "lat"]).assign(insee=["13055", "05061", "5061"])
    p = problem(frame, gazetteer=gazetteer)
    assert p.tutors.lon.tolist() == [5.0, 6.0, 6.0]


# -- via CSV files: errors name the file and the line ----------------------------------


def write_csv(path: Path, frame: pd.DataFrame, *, sep: str = ";", decimal: str = ".") -> Path:
    text = frame.to_csv(sep=sep, decimal=decimal, index=False, lineterminator="\n")
    path.write_bytes(("\n" + text).encode("cp1252"))  # a blank first line: the header is line 2
    return path


def test_csv_unknown_insee_names_file_and_line(tmp_path: Path) -> None:
    t = write_csv(
        tmp_path / "tuteurs.csv",
        tutors().drop(columns=["lon", "lat"]).assign(insee=["13055", "13001", "1300"]),
    )
    e = write_csv(tmp_path / "etablissements.csv", establishments())
    with pytest.raises(
        tm.InputError,
        match=exact(
            "tuteurs.csv: column 'insee' must hold INSEE commune codes known to the "
            "gazetteer (5 characters, "
            "e.g. 13055); found in 1 row: 1300 on line 5 (tutor_id T3)."
        ),
    ) as info:
        tm.Problem.from_csv(t, e)
    assert (info.value.table, info.value.rows) == ("tuteurs.csv", (5,))


def test_csv_wrong_check_letter_names_file_and_line(tmp_path: Path) -> None:
    t = write_csv(tmp_path / "tuteurs.csv", tutors())
    e = write_csv(tmp_path / "etablissements.csv", establishments(uai=[U1, U2, "0130003A"]))
    with pytest.raises(
        tm.InputError,
        match=exact("etablissements.csv: column 'uai' must hold UAI codes")
        + ".*"
        + exact("'0130003A' on line 5. Correct the codes (right codes: 0130003H instead of 0130003A)."),
    ):
        tm.Problem.from_csv(t, e)


def test_csv_swapped_coordinates_name_file_and_line(tmp_path: Path) -> None:
    t = write_csv(
        tmp_path / "tuteurs.csv",
        tutors(lon=[43.30, 5.45, 4.81], lat=[5.40, 43.53, 43.95]),
    )
    e = write_csv(tmp_path / "etablissements.csv", establishments())
    with pytest.raises(
        tm.InputError,
        match=exact("found in 1 row: lon 43.3, lat 5.4 on line 3 (tutor_id T1)."),
    ):
        tm.Problem.from_csv(t, e)


def test_csv_fixed_pair_with_an_unknown_tutor_names_file_and_line(
    tmp_path: Path,
) -> None:
    t = write_csv(tmp_path / "tuteurs.csv", tutors())
    e = write_csv(tmp_path / "etablissements.csv", establishments())
    fixed = write_csv(
        tmp_path / "continuite.csv",
        pd.DataFrame({"tutor_id": ["T1", "T7"], "uai": [U2, U3]}),
    )
    with pytest.raises(
        tm.InputError,
        match=exact(
            "continuite.csv: column 'tutor_id' must name tutors of the tutors table; "
            "found in 1 row: 'T7' on line 4."
        ),
    ):
        tm.Problem.from_csv(t, e, fixed_pairs=fixed)


def test_csv_fixed_pair_breaking_a_rule_names_file_and_line(tmp_path: Path) -> None:
    t = write_csv(tmp_path / "tuteurs.csv", tutors(home_uai=["", U2, ""]))
    e = write_csv(tmp_path / "etablissements.csv", establishments())
    fixed = write_csv(
        tmp_path / "continuite.csv",
        pd.DataFrame({"tutor_id": ["T1", "T2"], "uai": [U3, U2]}),
    )
    with pytest.raises(
        tm.InputError,
        match=exact(
            "continuite.csv: 1 fixed pair breaks an eligibility rule: (T2, 0130002G) "
            "on line 4: 0130002G is "
            "tutor T2's own establishment."
        ),
    ) as info:
        tm.Problem.from_csv(t, e, fixed_pairs=fixed)
    assert info.value.rows == (4,)


def test_csv_pair_fixed_and_forbidden_names_both_files(tmp_path: Path) -> None:
    t = write_csv(tmp_path / "tuteurs.csv", tutors())
    e = write_csv(tmp_path / "etablissements.csv", establishments())
    pairs = pd.DataFrame({"tutor_id": ["T1"], "uai": [U2]})
    fixed = write_csv(tmp_path / "fixed.csv", pairs)
    forbidden = write_csv(
        tmp_path / "forbidden.csv",
        pd.concat([pd.DataFrame({"tutor_id": ["T3"], "uai": [U1]}), pairs]),
    )
    with pytest.raises(
        tm.InputError,
        match=exact(
            "fixed.csv: 1 pair also in forbidden.csv: (T1, 0130002G) on line 3 (line 4 of forbidden.csv)."
        ),
    ):
        tm.Problem.from_csv(t, e, fixed_pairs=fixed, forbidden_pairs=forbidden)


def test_csv_decimal_comma_in_priority(tmp_path: Path) -> None:
    t = write_csv(tmp_path / "tuteurs.csv", tutors())
    e = write_csv(
        tmp_path / "etablissements.csv",
        establishments(priority=[1.5, 0.25, 2.0]),
        decimal=",",
    )
    p = tm.Problem.from_csv(t, e)
    assert p.establishments.priority.tolist() == [1.5, 0.25, 2.0]
    assert p.sources["etablissements.csv"] == "Windows-1252, ';'-separated, decimal comma"


# -- numbers at the edge: every value in a range the solve and the reports carry ------


@pytest.mark.parametrize(
    ("table", "column", "value", "expected"),
    [
        # Priorities of 1e17 looped for ever coarsening the cost unit; 1e19
        # gave status error and an all-no_plan plan.
        ("establishments", "priority", 1e17, "a number from 0.000001 to 1,000,000"),
        ("establishments", "priority", 1e-7, "a number from 0.000001 to 1,000,000"),
        ("establishments", "visits_per_year", 1e19, "a number from 0 to 365"),
        ("establishments", "wave", 1e19, "a whole number from 0 to 999,999"),
        # Capacity >= 1e19 overflowed int64 and blamed column min_load, "empty".
        ("tutors", "capacity", 1e19, "a whole number from 0 to 10,000"),
        ("tutors", "min_load", 10_001, "a whole number from 0 to 10,000"),
        ("tutors", "max_km", 1e308, "a number from 0 to 40,000 km"),
        ("tutors", "vehicle_cv", 0.5, "a number from 1 to 1,000 CV"),
        # cia_eur >= 1e19 gave a traceback in the reports.
        ("tutors", "cia_eur", 1e19, "a number from 0 to 1,000,000 EUR"),
        ("tutors", "prior_service_km", -1, "a number from 0 to 1,000,000 km"),
    ],
)
def test_numbers_out_of_range_name_column_row_and_range(
    table: str, column: str, value: float, expected: str
) -> None:
    t, e = tutors(), establishments()
    frame = t if table == "tutors" else e
    frame[column] = [None, value, None]
    who = "tutor_id T2" if table == "tutors" else f"uai {U2}"
    with pytest.raises(
        tm.InputError, match=exact(f"{table}: column '{column}' must be {expected}; found in 1 row: ")
    ) as info:
        problem(t, e)
    assert who in str(info.value)
    assert (info.value.column, info.value.rows, values_of(info.value)) == (column, (1,), (value,))


@pytest.mark.parametrize(
    ("option", "value", "expected"),
    [
        (
            "max_distance_km",
            1e308,
            "max_distance_km must be a number from 0 to 40,000 km (or inf for no limit)",
        ),
        (
            "remote_penalty_km",
            1e308,
            "remote_penalty_km must be a number from 0 to 100,000,000 km; got 1e+308",
        ),
        ("detour_factor", 1e308, "detour_factor must be a number from 1 to 10; got 1e+308"),
        ("default_capacity", 10**19, "default_capacity must be a whole number from 0 to 10,000"),
        ("default_visits_per_year", 400, "default_visits_per_year must be a number from 0 to 365; got 400"),
    ],
)
def test_parameters_out_of_range_are_refused(option: str, value: float, expected: str) -> None:
    with pytest.raises(tm.InputError, match=exact(expected)):
        problem(**{option: value})


def test_no_limit_is_still_accepted() -> None:
    assert problem(max_distance_km=np.inf, remote_penalty_km=100).max_distance_km == np.inf


def test_from_arrays_checks_ranges_too() -> None:
    with pytest.raises(
        tm.InputError, match=exact("tutors: column 'capacity' must be a whole number from 0 to 10,000")
    ):
        tm.Problem.from_arrays(np.ones((2, 2)), capacity=[1, 1e19])
    with pytest.raises(
        tm.InputError, match=exact("distance_km: stored distances must be a number from 0 to 40,000 km")
    ):
        tm.Problem.from_arrays(np.array([[1.0, 1e308]]))


def test_priorities_at_both_ends_of_their_range_solve() -> None:
    # 1e12 beside 1e-6 never returned; the range's ends are carried exactly.
    p = problem(e=establishments(priority=[1e6, 1e-6, 1.0]))
    with warnings.catch_warnings():
        # The solver may coarsen its cost unit for such a spread, and says so.
        warnings.simplefilter("ignore", tm.TutormatchWarning)
        plan = tm.solve(p, time_limit=10)
    assert plan.status == tm.Status.OPTIMAL
    assert set(plan.pairs["uai"]) == {U1, U2, U3}


def test_cli_refuses_a_huge_limit_before_solving(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tutormatch.cli import main

    t, e = tmp_path / "tutors.csv", tmp_path / "establishments.csv"
    tutors().to_csv(t, index=False)
    establishments().to_csv(e, index=False)
    assert main(["solve", str(t), str(e), "--max-km", "1e308", "--out", str(tmp_path / "plan")]) == 2
    err = capsys.readouterr().err
    assert "--max-km must be a number from 0 to 40,000 km (or inf for no limit); got 1e+308." in err
    assert "Nothing was written." in err
    assert not (tmp_path / "plan").exists()


@pytest.mark.parametrize("code", ["013000²", "0130001²"], ids=["seven", "eight"])
def test_superscript_digits_in_a_uai_are_a_bad_uai(code: str) -> None:
    # "²".isdigit() is True: int() then raised a bare ValueError.
    with pytest.raises(tm.InputError, match=exact("establishments: column 'uai' must hold UAI codes")):
        problem(e=establishments(uai=[U1, U2, code]))


def test_superscript_digits_in_an_insee_code_are_unknown() -> None:
    frame = establishments(insee=["13055", "13001", "1305²"]).drop(columns=["lon", "lat"])
    with pytest.raises(
        tm.InputError, match=exact("establishments: column 'insee' must hold INSEE commune codes")
    ):
        problem(e=frame)


def test_a_python_int_beyond_any_float_is_out_of_range() -> None:
    # float(10**400) raised OverflowError; the message now shows the start of the value.
    with pytest.raises(
        tm.InputError,
        match=exact("column 'capacity' must be a whole number from 0 to 10,000; found in 1 row: 1000000000")
        + r".*\.\.\. \(401 characters\) on row 1",
    ):
        problem(tutors(capacity=[2, 10**400, 2]))
    with pytest.raises(
        tm.InputError, match=r"max_distance_km must be .*; got 1000.*\.\.\. \(401 characters\)\."
    ):
        problem(max_distance_km=10**400)
