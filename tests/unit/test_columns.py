"""Every column accounted for: names matched loosely, French names, read or ignored, said so."""

from __future__ import annotations

import inspect
import json
import re
import unicodedata
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tutormatch as tm
from tutormatch.cli import main
from tutormatch.io import make_uai
from tutormatch.model._columns import ColumnReader
from tutormatch.model._fields import (
    ESTABLISHMENT_FIELDS,
    PAIR_FIELDS,
    PARAMETER_RANGES,
    TUTOR_FIELDS,
    header_key,
)

DOCS = Path(__file__).parents[2] / "docs" / "inputs.md"
TABLES = {"tutors": TUTOR_FIELDS, "establishments": ESTABLISHMENT_FIELDS, "pairs": PAIR_FIELDS}
U1, U2, U3 = (make_uai(f"013000{i}") for i in range(1, 4))

# What an académie's HR and DSI files look like once opened in French Excel.
FRENCH_TUTORS = {
    "tutor_id": "Identifiant",
    "name": "Nom",
    "role": "Rôle",
    "wave": "Vague",
    "home_uai": "UAI de rattachement",
    "insee": "Code INSEE",
    "capacity": "Capacité",
    "remote_ok": "Distanciel",
    "max_km": "Distance max (km)",
    "vehicle_cv": "Puissance fiscale",
    "cia_eur": "CIA (€)",
}
FRENCH_ESTABLISHMENTS = {
    "uai": "Code UAI",
    "name": "Appellation officielle",
    "kind": "Nature",
    "commune": "Commune",
    "insee": "Code INSEE",
    "lon": "Longitude",
    "lat": "Latitude",
    "wave": "Vague",
    "priority": "Priorité",
    "need": "Besoin",
    "remote_ok": "Distanciel",
    "visits_per_year": "Visites par an",
    "agence_comptable": "Agence comptable",
}


def tiny_tutors(**columns: object) -> pd.DataFrame:
    return pd.DataFrame({"tutor_id": ["T1", "T2"], "lon": [5.40, 5.45], "lat": [43.30, 43.53]}).assign(
        **columns
    )


def tiny_establishments(**columns: object) -> pd.DataFrame:
    return pd.DataFrame({"uai": [U1, U2], "lon": [5.37, 5.44], "lat": [43.29, 43.52]}).assign(**columns)


# -- the alias table ------------------------------------------------------------------


@pytest.mark.parametrize("table", TABLES, ids=str)
def test_no_two_fields_of_a_table_share_a_name(table: str) -> None:
    owner: dict[str, str] = {}
    for f in TABLES[table].values():
        for key in f.keys:
            assert owner.setdefault(key, f.name) == f.name, f"{key!r}: {owner[key]} and {f.name}"


@pytest.mark.parametrize("table", TABLES, ids=str)
def test_every_name_is_listed_once(table: str) -> None:
    # Two aliases equal through header_key would be noise in the docs (an
    # alias may restate the canonical name with its French accents: rôle).
    for f in TABLES[table].values():
        keys = [header_key(n) for n in f.aliases]
        assert len(keys) == len(set(keys)), f.name


@pytest.mark.parametrize(
    ("table", "field", "spelling"),
    [
        (t, f.name, spelling)
        for t, fields in TABLES.items()
        for f in fields.values()
        for spelling in (f.name, *f.aliases)
    ],
)
def test_every_name_is_read_whatever_its_case_accents_and_punctuation(
    table: str, field: str, spelling: str
) -> None:
    decomposed = unicodedata.normalize("NFD", spelling)
    for written in (spelling, spelling.upper(), decomposed.replace(" ", "_"), f" {spelling.lower()} "):
        frame = pd.DataFrame({written: ["1"], "commentaire": ["x"]})
        reader = ColumnReader(frame, table=table, id_column="x", fields=TABLES[table])
        assert reader.read == {field: written}
        assert reader.ignored == ["commentaire"]


@pytest.mark.parametrize("table", TABLES, ids=str)
def test_the_docs_list_every_name(table: str) -> None:
    docs = DOCS.read_text(encoding="utf-8")
    for f in TABLES[table].values():
        for spelling in (f.name, *f.aliases):
            assert f"`{spelling}`" in docs, spelling


def test_the_docs_give_every_range() -> None:
    docs = DOCS.read_text(encoding="utf-8")
    for fields in TABLES.values():
        for f in fields.values():
            if f.range is not None:
                assert f.range.describe().removeprefix("a ") in docs, f.name
    for name, rng in PARAMETER_RANGES.items():
        assert f"`{name}`" in docs
        assert rng.describe().removeprefix("a ") in docs, name


# -- French files ---------------------------------------------------------------------


def test_french_headers_from_excel_give_the_same_problem(tmp_path: Path) -> None:
    # Capacité, Priorité, Distanciel and Code UAI were ignored without a word:
    # on a real file the plan covered priority 212 instead of 326.
    tutors, establishments = tm.example_frames()
    t, e = tmp_path / "tuteurs.csv", tmp_path / "etablissements.csv"
    tutors.rename(columns=FRENCH_TUTORS).to_csv(t, sep=";", decimal=",", index=False, encoding="cp1252")
    establishments.rename(columns=FRENCH_ESTABLISHMENTS).to_csv(
        e, sep=";", decimal=",", index=False, encoding="cp1252"
    )
    french = tm.Problem.from_csv(t, e)
    english = tm.example_problem()
    assert french.sources["etablissements.csv"] == "Windows-1252, ';'-separated, decimal comma"
    for name in ("tutors", "establishments"):
        pd.testing.assert_frame_equal(getattr(french, name).to_frame(), getattr(english, name).to_frame())
        assert french.columns[name]["ignored"] == []
    assert french.columns["tutors"]["read"]["capacity"] == "Capacité"
    assert french.columns["establishments"]["read"]["uai"] == "Code UAI"
    a, b = tm.solve(french), tm.solve(english)
    assert a.pairs.equals(b.pairs)


def test_prior_service_km_is_a_column_with_french_names() -> None:
    p = tm.Problem.from_frames(tiny_tutors(**{"Km déjà parcourus": ["1200", ""]}), tiny_establishments())
    assert p.tutors.prior_service_km.tolist() == [1200.0, 0.0]
    assert p.columns["tutors"]["read"]["prior_service_km"] == "Km déjà parcourus"
    assert p.tutors.extra.columns.tolist() == []


def test_commune_names_are_read() -> None:
    p = tm.Problem.from_frames(tiny_tutors(), tiny_establishments(Ville=["Marseille", "Aix"]))
    assert p.establishments.commune.tolist() == ["Marseille", "Aix"]
    assert p.establishments.to_frame()["commune"].tolist() == ["Marseille", "Aix"]


# -- read, ignored, or the same twice -------------------------------------------------


def test_ignored_columns_are_recorded_and_kept_for_reports() -> None:
    p = tm.Problem.from_frames(
        tiny_tutors(commentaire=["a", "b"], Capacité=[1, 2]), tiny_establishments(), fixed_pairs=[("T1", U1)]
    )
    assert p.columns["tutors"] == {
        "source": "tutors",
        "read": {"tutor_id": "tutor_id", "lon": "lon", "lat": "lat", "capacity": "Capacité"},
        "ignored": ["commentaire"],
        "same_as": {},
    }
    assert p.columns["fixed_pairs"]["read"] == {"tutor_id": "tutor_id", "uai": "uai"}
    assert p.tutors.extra.columns.tolist() == ["commentaire"]
    assert p.tutors.capacity.tolist() == [1, 2]


def test_the_id_column_named_by_the_caller_wins() -> None:
    tutors = tiny_tutors(Matricule=["A1", "A2"], id=["x", "y"])
    p = tm.Problem.from_frames(tutors.drop(columns="tutor_id"), tiny_establishments(), tutor_id="Matricule")
    assert p.tutors.id.tolist() == ["A1", "A2"]
    assert p.columns["tutors"]["ignored"] == ["id"]


def test_a_geometry_column_is_read() -> None:
    frame = tiny_establishments()
    geo = gpd.GeoDataFrame(
        frame.drop(columns=["lon", "lat"]),
        geometry=gpd.points_from_xy(frame["lon"], frame["lat"]),
        crs="EPSG:4326",
    )
    p = tm.Problem.from_frames(tiny_tutors(), geo)
    assert p.columns["establishments"]["read"] == {"uai": "uai", "geometry": "geometry"}


def test_cli_and_summary_name_the_ignored_columns(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    t, e = tmp_path / "tutors.csv", tmp_path / "establishments.csv"
    tiny_tutors(commentaire=["a", "b"]).to_csv(t, index=False)
    tiny_establishments(Priorité=[2, 1]).to_csv(e, sep=";", decimal=",", index=False, encoding="cp1252")
    out = tmp_path / "plan"
    assert main(["solve", str(t), str(e), "--out", str(out)]) == 0
    assert "ignored column(s) in tutors.csv: commentaire" in capsys.readouterr().out
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["columns"]["tutors"]["ignored"] == ["commentaire"]
    assert summary["columns"]["establishments"]["read"]["priority"] == "Priorité"


# -- ids and Unicode ------------------------------------------------------------------


def test_ids_equal_once_normalised_are_one_id() -> None:
    # "Éloïse" typed on a Mac (decomposed) and on Windows (composed) were two tutors.
    composed, decomposed = "Éloïse", unicodedata.normalize("NFD", "Éloïse")
    assert composed != decomposed
    with pytest.raises(tm.InputError, match=r"column 'tutor_id' must hold unique ids; found in 2 rows"):
        tm.Problem.from_frames(tiny_tutors(tutor_id=[composed, decomposed]), tiny_establishments())
    p = tm.Problem.from_frames(
        tiny_tutors(tutor_id=[composed, "T2"]), tiny_establishments(), fixed_pairs=[(decomposed, U1)]
    )
    assert p.tutors.id[p.fixed[0, 0]] == composed


# -- same defaults everywhere ---------------------------------------------------------


def test_from_arrays_and_from_frames_share_their_defaults() -> None:
    # from_arrays defaulted to no limit and no remote, from_frames to 60 km and remote.
    frames = inspect.signature(tm.Problem.from_frames).parameters
    arrays = inspect.signature(tm.Problem.from_arrays).parameters
    shared = (frames.keys() & arrays.keys()) - {"self"}
    assert {"max_distance_km", "allow_remote", "remote_penalty_km", "all_or_nothing"} <= shared
    for name in shared:
        assert frames[name].default == arrays[name].default, name
    p = tm.Problem.from_arrays(np.array([[10.0, 90.0]]))
    assert (p.max_distance_km, p.allow_remote) == (60.0, True)
    assert tm.solve(p).pairs["mode"].tolist() == ["onsite", "remote"]


def test_from_arrays_keeps_no_coordinates() -> None:
    p = tm.Problem.from_arrays(np.array([[10.0]]))
    assert np.isnan(p.tutors.lon).all()
    assert np.isnan(p.establishments.lat).all()
    assert dict(p.columns) == {}


# -- geography ------------------------------------------------------------------------


def test_degrees_labelled_lambert_93_are_a_crs_error() -> None:
    # Every pair became remote at ~5,600 km, without a word.
    frame = tiny_establishments()
    geo = gpd.GeoDataFrame(
        frame.drop(columns=["lon", "lat"]),
        geometry=gpd.points_from_xy(frame["lon"], frame["lat"]),
        crs="EPSG:2154",
    )
    with pytest.raises(
        tm.CRSError,
        match=re.escape(
            "establishments: column 'geometry' holds no point in France once read in the "
            "GeoDataFrame's CRS (EPSG:2154); found in 2 rows: lon -1.36"
        )
        + r".*set_crs\(\.\.\., allow_override=True\), e\.g\. 'EPSG:4326' for degrees",
    ) as info:
        tm.Problem.from_frames(tiny_tutors(), geo)
    assert info.value.rows == (0, 1)


def test_overseas_collectivities_are_in_france() -> None:
    # Nouméa and Papeete: a vice-rectorat's own problem is not "outside France".
    p = tm.Problem.from_frames(
        tiny_tutors(lon=[166.45, 166.44], lat=[-22.27, -22.28]),
        tiny_establishments(lon=[-149.57, 166.46], lat=[-17.54, -22.26]),
    )
    assert p.n_tutors == 2


def test_a_frame_with_a_repeated_column_name_is_refused() -> None:
    frame = pd.concat([tiny_tutors(), tiny_tutors()[["lon"]]], axis=1)
    with pytest.raises(
        tm.InputError, match=re.escape("tutors: column 'lon' appears twice. Rename or drop one of them.")
    ):
        tm.Problem.from_frames(frame, tiny_establishments())


def test_two_id_columns_that_differ_say_how_to_choose() -> None:
    tutors = tiny_tutors(Matricule=["A1", "A2"])
    with pytest.raises(
        tm.InputError,
        match=re.escape(
            "tutors: columns 'tutor_id' and 'Matricule' both give 'tutor_id' but differ in 2 rows: "
            "'T1' vs 'A1' on row 0, 'T2' vs 'A2' on row 1. Keep one of them: drop or rename the "
            "other (or choose one, e.g. tutor_id='Matricule')."
        ),
    ):
        tm.Problem.from_frames(tutors, tiny_establishments())


# Every name accepted before the alias table, still accepted.
OLD_NAMES = {
    "tutors": {
        "tutor_id": ("id", "tuteur", "tutor"),
        "lon": ("longitude", "lng"),
        "lat": ("latitude",),
        "insee": ("code_insee", "insee_code", "commune_insee"),
        "home_uai": ("uai_home", "uai_rattachement", "own_uai", "uai", "rne"),
        "max_km": ("max_distance_km",),
        "vehicle_cv": ("cv", "puissance_fiscale"),
    },
    "establishments": {
        "uai": ("code_uai", "rne", "uai_code"),
        "insee": ("code_insee", "insee_code", "commune_insee"),
        "name": ("nom", "appellation"),
        "kind": ("type", "nature"),
        "visits_per_year": ("visits",),
        "agence_comptable": ("agency", "accounting_office"),
    },
    "pairs": {"tutor_id": ("tutor", "tuteur", "id"), "uai": ("code_uai", "rne", "establishment")},
}


@pytest.mark.parametrize("table", OLD_NAMES, ids=str)
def test_names_accepted_before_are_still_accepted(table: str) -> None:
    for field, spellings in OLD_NAMES[table].items():
        for spelling in spellings:
            assert header_key(spelling) in TABLES[table][field].keys, (field, spelling)


_cells = st.one_of(
    st.text(alphabet=" \u00a0\t0123456789.,-+eE_naifINF\u0661x", max_size=12),
    st.floats(allow_nan=True).map(str),
    st.text(max_size=6),
)


@given(st.lists(_cells, max_size=20))
def test_plain_string_cells_parse_as_one_by_one(cells: list[str]) -> None:
    from tutormatch.model._columns import _as_float, _as_floats, _as_text, _as_texts

    def same(a: float | None, b: float | None) -> bool:
        return a is b or (a is not None and b is not None and (a == b or (a != a and b != b)))

    assert all(same(a, b) for a, b in zip(_as_floats(cells), [_as_float(c) for c in cells], strict=True))
    assert _as_texts(cells) == [_as_text(c) for c in cells]
