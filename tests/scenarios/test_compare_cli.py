from pathlib import Path

import openpyxl
import pandas as pd
import pytest

import tutormatch as tm
from tutormatch.cli import main
from tutormatch.scenarios._file import read_scenarios

SCENARIOS = """
[base]
example = true
max_distance_km = 60

[report]
indemnity_eur = 400

[[scenario]]
name = "as today"

[[scenario]]
name = "40 km, three each"
max_distance_km = 40
capacity = 3
withdraw = ["T0004"]
"""


def write(tmp_path: Path, text: str, name: str = "scenarios.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_compare_writes_csv_xlsx_and_html(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, SCENARIOS)
    assert main(["compare", str(path), "--out", str(tmp_path / "out"), "-q", "--lang", "en"]) == 0
    csv = pd.read_csv(tmp_path / "out" / "comparison.csv", keep_default_na=False)
    assert csv.scenario.tolist() == ["as today", "40 km, three each"]
    base = tm.example_problem(max_distance_km=60)
    expected = tm.compare(
        [
            tm.Scenario("as today", base),
            tm.Scenario("x", base, max_distance_km=40, capacity=3, withdraw=["T0004"]),
        ],
        report_options=tm.report.ReportOptions(indemnity_eur=400),
    )
    assert csv.n_covered.tolist() == expected.n_covered.tolist()
    assert csv.total_eur.tolist() == pytest.approx(expected.total_eur.tolist())
    book = openpyxl.load_workbook(tmp_path / "out" / "comparison.xlsx")
    assert book["comparison"]["A3"].value == "40 km, three each"
    page = (tmp_path / "out" / "comparison.html").read_text(encoding="utf-8")
    assert '<img alt="Share covered and yearly cost per scenario" src="data:image/png;base64,' in page
    assert "40 km, three each" in page
    assert capsys.readouterr().out == ""


def test_compare_with_jobs_gives_the_same_table(tmp_path: Path) -> None:
    path = write(tmp_path, SCENARIOS)
    assert main(["compare", str(path), "--out", str(tmp_path / "a"), "-q"]) == 0
    assert main(["compare", str(path), "--out", str(tmp_path / "b"), "-q", "--jobs", "2"]) == 0
    times = ["solve_seconds", "seconds"]
    french = {"sep": ";", "decimal": ",", "encoding": "utf-8-sig"}
    a = pd.read_csv(tmp_path / "a" / "comparison.csv", **french).drop(columns=times)
    b = pd.read_csv(tmp_path / "b" / "comparison.csv", **french).drop(columns=times)
    assert a.total_eur.dtype == float
    pd.testing.assert_frame_equal(a, b)


def test_a_failed_scenario_is_written_and_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, SCENARIOS + '\n[[scenario]]\nname = "bad"\nwithdraw = ["NOPE"]\n')
    assert main(["compare", str(path), "--out", str(tmp_path / "out")]) == 1
    out, err = capsys.readouterr()
    assert "tutormatch: InputError: scenario 'bad': withdraw: unknown tutor NOPE" in err
    assert "wrote comparison.csv" in out
    last = (tmp_path / "out" / "comparison.csv").read_text(encoding="utf-8-sig").splitlines()[-1]
    assert last.startswith("bad;withdraw=NOPE;error;;;")  # blank where a figure does not apply


def test_files_are_read_relative_to_the_scenarios_file(tmp_path: Path) -> None:
    tm.datasets.write_example(tmp_path / "data")
    recruits = pd.DataFrame({"tutor_id": ["NEW1"], "insee": ["04070"], "role": ["SGAC"], "wave": [1]})
    recruits.to_csv(tmp_path / "data" / "recruits.csv", index=False)
    text = (
        '[base]\ntutors = "data/tutors.csv"\nestablishments = "data/establishments.csv"\n'
        '[[scenario]]\nname = "recruit"\nadd_tutors = "data/recruits.csv"\nmax_distance_km = "inf"\n'
    )
    read = read_scenarios(write(tmp_path, text))
    assert read.scenarios[0].build().n_tutors == 261
    assert read.scenarios[0].max_distance_km == float("inf")
    assert [p.name for p in read.files] == [
        "scenarios.toml",
        "tutors.csv",
        "establishments.csv",
        "recruits.csv",
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "[base]\nexample = true\n[[scenario]]\nname='a'\nradius = 3\n",
            r"\[\[scenario\]\] 1: unknown key 'radius'; valid keys: name",
        ),
        (
            "[base]\nexample = true\n[[scenario]]\nmax_distance_km = 3\n",
            r"\[\[scenario\]\] 1: give it a name",
        ),
        ("[base]\nexample = true\n", r"no \[\[scenario\]\]; add at least one"),
        ("[[scenario]]\nname = 'a'\n", r"no \[base\] section"),
        ("[base]\nexample = true\n[other]\n", r"unknown key 'other'; valid keys: base, report, scenario"),
        (
            "[base]\nmax_distance_km = 3\n[[scenario]]\nname='a'\n",
            r"\[base\]: give tutors and establishments",
        ),
        (
            "[base]\nexample = true\ntutors = 't.csv'\n[[scenario]]\nname='a'\n",
            r"example = true reads no files; remove tutors",
        ),
        (
            "[base]\nexample = true\n[report]\nbonus = 3\n[[scenario]]\nname='a'\n",
            r"\[report\]: .*unexpected keyword argument 'bonus'",
        ),
        ("[base\n", r"not a valid TOML file"),
    ],
)
def test_bad_scenarios_files(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(tm.InputError, match=message):
        read_scenarios(write(tmp_path, text))


def test_bad_file_exits_2_and_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "[base]\nexample = true\n")
    assert main(["compare", str(path), "--out", str(tmp_path / "out")]) == 2
    assert "Nothing was written." in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_missing_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compare", str(tmp_path / "none.toml"), "--out", str(tmp_path / "out")]) == 2
    assert "cannot read the scenarios file" in capsys.readouterr().err


def test_jobs_must_be_positive(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, SCENARIOS)
    assert main(["compare", str(path), "--out", str(tmp_path / "out"), "--jobs", "0"]) == 2
    assert "--jobs must be >= 1; got 0" in capsys.readouterr().err


def test_html_page_escapes_scenario_names(tmp_path: Path) -> None:
    from tutormatch.scenarios import write_comparison

    base = tm.example_problem()
    table = tm.compare(
        [tm.Scenario("<script>alert(1)</script> & co", base), tm.Scenario(r"cost $\frac$", base)]
    )
    write_comparison(table, tmp_path)
    page = (tmp_path / "comparison.html").read_text(encoding="utf-8")
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in page
