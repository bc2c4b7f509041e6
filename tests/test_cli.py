"""The command line, in-process and once through a subprocess."""

import io
import signal
import subprocess
import sys
import time
import warnings

import numpy as np
import pandas as pd
import pytest

import lca
from lca.cli import main
from lca.reading import read_table


@pytest.fixture
def survey_csv(tmp_path):
    data = lca.datasets.load_gss82().astype(object)
    rng = np.random.default_rng(0)
    data = data.mask(rng.random(data.shape) < 0.05)  # missing answers
    data.insert(0, "respondent", [f"R{i:04d}" for i in range(len(data))])
    data["wt"] = rng.uniform(0.5, 1.5, len(data))
    path = tmp_path / "survey.csv"
    data.to_csv(path, index=False)
    return path, data


def test_fit_then_assign_round_trip(survey_csv, tmp_path, capsys):
    path, data = survey_csv
    model_path = tmp_path / "m.json"
    cols = "PURPOSE,ACCURACY,UNDERSTA,COOPERAT"
    assert main(["fit", str(path), "--columns", cols, "--weights", "wt", "--classes", "3",
                 "--starts", "4", "--out", str(model_path)]) == 0  # fmt: skip
    out_path = tmp_path / "assigned.csv"
    assert main(["assign", str(model_path), str(path), "--out", str(out_path)]) == 0
    assigned = pd.read_csv(out_path)
    assert len(assigned) == len(data)
    assert assigned["respondent"].tolist() == data["respondent"].tolist()
    model = lca.load(model_path)
    expected = model.predict(pd.read_csv(path))
    assert assigned["class"].tolist() == expected.tolist()
    post = assigned[["posterior_1", "posterior_2", "posterior_3"]].to_numpy()
    np.testing.assert_allclose(post.sum(axis=1), 1.0)


def test_assign_writes_the_format_its_suffix_names(survey_csv, tmp_path, capsys):
    """--out x.parquet writes Parquet (it wrote CSV text into the file), .tsv tabs, and
    a suffix it cannot write is refused before anything is fitted or read."""
    pytest.importorskip("pyarrow")
    path, data = survey_csv
    model_path = tmp_path / "m.json"
    assert main(["fit", str(path), "--columns", "PURPOSE,ACCURACY,UNDERSTA,COOPERAT",
                 "--classes", "2", "--starts", "2", "--out", str(model_path)]) == 0  # fmt: skip
    outs = {s: tmp_path / f"assigned{s}" for s in (".csv", ".parquet", ".tsv")}
    for out in outs.values():
        assert main(["assign", str(model_path), str(path), "--out", str(out)]) == 0
    csv = pd.read_csv(outs[".csv"])
    parquet = pd.read_parquet(outs[".parquet"])
    tsv = pd.read_csv(outs[".tsv"], sep="\t")
    assert len(parquet) == len(data)
    for got in (parquet, tsv):
        assert got["respondent"].tolist() == csv["respondent"].tolist()
        assert got["class"].tolist() == csv["class"].tolist()
        np.testing.assert_allclose(got["posterior_1"], csv["posterior_1"], rtol=1e-15)
    # Parquet keeps the columns typed as read (text outputs echo them as written)
    assert parquet["wt"].dtype == np.float64
    np.testing.assert_allclose(parquet["wt"], data["wt"], rtol=1e-15)
    gz = tmp_path / "assigned.csv.gz"
    assert main(["assign", str(model_path), str(path), "--out", str(gz)]) == 0
    pd.testing.assert_frame_equal(pd.read_csv(gz), csv)
    capsys.readouterr()
    bad = tmp_path / "assigned.xlsx"
    assert main(["assign", str(model_path), str(path), "--out", str(bad)]) == 2
    assert "not .xlsx" in capsys.readouterr().err and not bad.exists()


def test_profile_and_distal_tables_write_as_parquet(election_files, tmp_path, capsys):
    """A profile's index mixes '' and integer categories, a distal table integer and
    text categories: Parquet columns hold one type, so such levels are written as text
    (they raised ArrowTypeError)."""
    pytest.importorskip("pyarrow")
    path, model_path, data = election_files
    coded = tmp_path / "coded.csv"
    frame = pd.DataFrame(
        (np.random.default_rng(3).random((300, 4)) < 0.5).astype(int), columns=list("abcd")
    )
    frame.to_csv(coded, index=False)
    profile = tmp_path / "profile.parquet"
    assert main(["fit", str(coded), "--classes", "1", "--out", str(tmp_path / "m.json"),
                 "--profile", str(profile)]) == 0  # fmt: skip
    got = pd.read_parquet(profile)
    assert len(got) == 1 + 4 * 2  # the class size, then two categories per indicator
    np.testing.assert_allclose(got["1"].iloc[1:3].to_numpy(), [
        (frame["a"] == 0).mean(), (frame["a"] == 1).mean()
    ], rtol=1e-9)  # fmt: skip
    out = tmp_path / "distal.parquet"
    assert main(["distal", str(model_path), str(path), "--outcomes", "GENDER,VOTE3",
                 "--categorical", "--omit-missing", "--out", str(out)]) == 0  # fmt: skip
    table = pd.read_parquet(out)
    model = lca.load(model_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = model.distal_proportions(
            data[["GENDER", "VOTE3"]], data=data, missing="omit"
        ).proportions
    np.testing.assert_allclose(table["proportion"], expected["proportion"], rtol=1e-12)


def test_assign_from_parquet_into_parquet_keeps_the_column_types(tmp_path):
    pytest.importorskip("pyarrow")
    frame = pd.DataFrame({
        "a": pd.array([1, 2, None, 1] * 20, dtype="Int64"),
        "b": [1, 2, 2, 1] * 20,
        "c": pd.Categorical(["x", "y"] * 40),
    })  # fmt: skip
    frame.to_parquet(tmp_path / "in.parquet")
    assert main(["fit", str(tmp_path / "in.parquet"), "--classes", "1",
                 "--out", str(tmp_path / "m.json")]) == 0  # fmt: skip
    out = tmp_path / "o.parquet"
    assert main(["assign", str(tmp_path / "m.json"), str(tmp_path / "in.parquet"),
                 "--out", str(out)]) == 0  # fmt: skip
    got = pd.read_parquet(out)
    pd.testing.assert_frame_equal(got[frame.columns], frame, check_categorical=False)
    assert isinstance(got["c"].dtype, pd.CategoricalDtype)


def test_assign_echoes_a_column_named_self(tmp_path):
    frame = pd.DataFrame({"self": ["x", "y"] * 30, "a": [1, 2, 2] * 20, "b": [1, 1, 2] * 20})
    path = tmp_path / "self.csv"
    frame.to_csv(path, index=False)
    assert main(["fit", str(path), "--columns", "a,b", "--classes", "1",
                 "--out", str(tmp_path / "m.json")]) == 0  # fmt: skip
    out = tmp_path / "o.csv"
    assert main(["assign", str(tmp_path / "m.json"), str(path), "--out", str(out)]) == 0
    assert pd.read_csv(out)["self"].tolist() == frame["self"].tolist()


def test_compare_writes_table_and_models(survey_csv, tmp_path, capsys):
    path, _ = survey_csv
    out = tmp_path / "out"
    code = main(["compare", str(path), "--columns", "PURPOSE,ACCURACY,UNDERSTA,COOPERAT",
                 "--classes", "1-3", "--starts", "3", "--quiet", "--out", str(out)])  # fmt: skip
    assert code == 0
    table = pd.read_csv(out / "comparison.csv", index_col=0)
    assert table.index.tolist() == [1, 2, 3]
    for k in (1, 2, 3):
        assert lca.load(out / f"model_{k}.json").loglik_ == pytest.approx(table.loc[k, "loglik"])
    assert "Lowest BIC" in capsys.readouterr().out


@pytest.mark.parametrize(
    "flag", [[], ["--no-split-starts"], ["--merge-starts"], ["--pattern-starts", "0"]]
)
def test_compare_split_starts_flag_is_what_compare_gets(survey_csv, tmp_path, flag):
    path, _ = survey_csv
    out = tmp_path / "out"
    cols = ["PURPOSE", "ACCURACY", "UNDERSTA", "COOPERAT"]
    code = main(["compare", str(path), "--columns", ",".join(cols), "--classes", "1-3",
                 "--starts", "3", "--quiet", "--out", str(out), *flag])  # fmt: skip
    assert code == 0
    table = pd.read_csv(out / "comparison.csv", index_col=0)
    expected = lca.compare(
        pd.read_csv(path)[cols], range(1, 4), n_starts=3, progress=False,
        split_starts="--no-split-starts" not in flag, merge_starts="--merge-starts" in flag,
        pattern_starts=0 if "--pattern-starts" in flag else 20,
    )  # fmt: skip
    np.testing.assert_allclose(table["loglik"], expected.table["loglik"], rtol=1e-12)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["fit", "nope.csv", "--classes", "2", "--out", "m.json"], "nope.csv: no such file"),
        (["fit", "{csv}", "--columns", "PURPOSE,NOPE", "--classes", "2", "--out", "m.json"],
         "no column(s) ['NOPE']"),
        (["fit", "{csv}", "--classes", "two", "--out", "m.json"], "--classes 'two'"),
        (["assign", "{csv}", "{csv}"], "not valid JSON"),
        (["compare", "{csv}", "--pattern-starts", "-1", "--out", "o"], "--pattern-starts -1"),
        (["compare", "{csv}", "--seed", "-1"], "--seed -1: give a seed >= 0"),
        (["compare", "{csv}", "--bayes-constant", "-1"], "--bayes-constant -1.0"),
        (["compare", "{csv}", "--jobs", "0"], "--jobs 0"),
        (["compare", "{csv}", "--classes", "5-2"], "runs downwards; write 2-5"),
        (["fit", "{csv}", "--weights", "wt", "--columns", "PURPOSE,wt", "--classes", "2",
          "--out", "m.json"], "--columns names the weights column 'wt'"),
        (["fit", "{csv}", "--columns", "respondent,PURPOSE", "--classes", "2", "--out", "m.json"],
         "or leave it out with --columns"),
    ],
)  # fmt: skip
def test_errors_are_one_line(survey_csv, capsys, argv, message):
    path, _ = survey_csv
    argv = [a.replace("{csv}", str(path)) for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert message in err
    assert "\n" not in err and "Traceback" not in err


def test_latin1_and_bom_csv_are_read(tmp_path):
    frame = pd.DataFrame({"q1": ["Très", "Non", "Très", "Non"] * 5, "q2": ["a", "b", "b", "a"] * 5})
    for encoding in ("latin-1", "utf-8-sig"):
        p = tmp_path / f"{encoding}.csv"
        frame.to_csv(p, index=False, encoding=encoding)
        assert main(["fit", str(p), "--classes", "1", "--out", str(tmp_path / "m.json")]) == 0
        model = lca.load(tmp_path / "m.json")
        assert model.indicators_[0].name == "q1"  # no BOM glued to the name
        assert model.indicators_[0].categories == ("Non", "Très")


def test_lowest_bic_at_the_edge_of_the_range_says_so(survey_csv, tmp_path, capsys):
    path, _ = survey_csv
    argv = ["compare", str(path), "--columns", "PURPOSE,ACCURACY,UNDERSTA,COOPERAT",
            "--starts", "3", "--quiet", "--out", str(tmp_path / "o"), "--classes"]  # fmt: skip
    assert main([*argv, "1-2"]) == 0
    table = pd.read_csv(tmp_path / "o" / "comparison.csv", index_col=0)
    assert table["bic"].idxmin() == 2  # 2 classes fit these items far better than 1
    assert "Lowest BIC: 2 classes (the most classes tried" in capsys.readouterr().out
    assert main([*argv, "1-4"]) == 0
    printed = capsys.readouterr().out
    best = pd.read_csv(tmp_path / "o" / "comparison.csv", index_col=0)["bic"].idxmin()
    assert 1 < best < 4 and f"Lowest BIC: {best} classes\n" in printed


def test_demo_runs_in_a_subprocess():
    result = subprocess.run(
        [sys.executable, "-m", "lca.cli", "demo"], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    assert "Lowest BIC: 3 classes" in result.stdout


def test_compare_with_blrt_prints_p_values(survey_csv, tmp_path, capsys):
    path, _ = survey_csv
    out = tmp_path / "out"
    argv = ["compare", str(path), "--columns", "PURPOSE,ACCURACY,UNDERSTA,COOPERAT",
            "--classes", "1-3", "--starts", "3", "--blrt", "4", "--bootstrap-starts", "2",
            "--quiet", "--out", str(out)]  # fmt: skip
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "blrt_p" in printed and "max_bvr" in printed
    table = pd.read_csv(out / "comparison.csv", index_col=0)
    assert np.isnan(table.loc[1, "blrt_p"])
    assert set(table.loc[[2, 3], "blrt_p"]) <= {0.2, 0.4, 0.6, 0.8, 1.0}  # (1 + m) / 5
    # run again: models and tests come from the folder
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "reused finished model(s)" in printed and "1, 2, 3 classes" in printed
    pd.testing.assert_frame_equal(pd.read_csv(out / "comparison.csv", index_col=0), table)


def test_compare_with_bootstrap_gof_writes_the_api_columns(survey_csv, tmp_path, capsys):
    path, _ = survey_csv
    out = tmp_path / "out"
    cols = "PURPOSE,ACCURACY,UNDERSTA,COOPERAT"
    argv = ["compare", str(path), "--columns", cols, "--classes", "1-2", "--starts", "3",
            "--bootstrap-gof", "4", "--quiet", "--out", str(out)]  # fmt: skip
    assert main(argv) == 0
    assert "bootstrap_p_L2" in capsys.readouterr().out
    table = pd.read_csv(out / "comparison.csv", index_col=0)
    items = pd.read_csv(path)[cols.split(",")]
    expected = lca.compare(
        items, [1, 2], n_starts=3, random_state=0, bootstrap_gof=True, n_bootstrap=4,
        progress=False,
    )  # fmt: skip
    for column in ("bootstrap_p_L2", "bootstrap_p_X2", "bvr_significant"):
        np.testing.assert_allclose(table[column], expected.table[column])
    assert main([*argv[:-2], "--blrt", "5"]) == 2
    assert "give one N" in capsys.readouterr().err


def test_compare_refuses_a_negative_bootstrap_count(survey_csv, capsys):
    path, _ = survey_csv
    assert main(["compare", str(path), "--classes", "2", "--blrt", "-1"]) == 2
    err = capsys.readouterr().err.strip()
    assert "--blrt -1" in err and "\n" not in err


def test_compare_killed_mid_run_resumes(tmp_path):
    """SIGKILL a `lca compare --out` subprocess after its first model; a rerun finishes it."""
    rng = np.random.default_rng(3)
    cond = {f"q{j}": rng.dirichlet(np.full(4, 0.5), size=6).T for j in range(10)}
    data, _ = lca.simulate(np.full(6, 1 / 6), cond, 3000, random_state=1)
    data = data.astype(object).mask(rng.random(data.shape) < 0.05)
    csv = tmp_path / "survey.csv"
    data.to_csv(csv, index=False)
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "lca.cli", "compare", str(csv), "--classes", "1-6",
           "--starts", "16", "--quiet", "--out", str(out)]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while not (out / "model_1.row.json").exists():
            assert proc.poll() is None, proc.stderr.read().decode()
            assert time.monotonic() < deadline, "no model written in time"
            time.sleep(0.005)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()  # no-op when already dead
        proc.wait()
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    done = sorted(out.glob("model_*.row.json"))
    assert 1 <= len(done) < 6, "the run finished before it could be killed"
    print(f"killed after {len(done)} of 6 models")
    assert not (out / "comparison.csv").exists()
    finished = [p.with_name(p.name.replace(".row", "")) for p in done] + done
    stamps = {p: p.stat().st_mtime_ns for p in finished}

    resumed = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert "reused finished model(s)" in resumed.stdout
    for p, stamp in stamps.items():  # finished models were reused, not fitted again
        assert p.stat().st_mtime_ns == stamp, f"{p.name} was rewritten"
    assert not list(out.glob("*.tmp*"))
    table = pd.read_csv(out / "comparison.csv", index_col=0)
    assert table.index.tolist() == list(range(1, 7))
    fresh = lca.compare(pd.read_csv(csv), range(1, 7), n_starts=16, progress=False)
    np.testing.assert_allclose(table["loglik"], fresh.table["loglik"], rtol=1e-12)
    np.testing.assert_allclose(table["max_bvr"], fresh.table["max_bvr"], rtol=1e-9)


def test_utf16_semicolon_and_tab_csv_are_read(tmp_path):
    frame = pd.DataFrame({"Qualité": ["Très bien", "Passable"] * 5, "Région": ["Corse", "Île"] * 5})
    for name, options in [
        ("utf16.csv", {"encoding": "utf-16"}),
        ("semicolon.csv", {"sep": ";"}),
        ("tab.csv", {"sep": "\t", "encoding": "latin-1"}),
    ]:
        frame.to_csv(tmp_path / name, index=False, **options)
        pd.testing.assert_frame_equal(read_table(str(tmp_path / name)), frame)


def test_out_into_a_missing_folder_fails_before_fitting(survey_csv, tmp_path, capsys, monkeypatch):
    path, _ = survey_csv

    def no_fit(*args, **kwargs):
        raise AssertionError("fitted before checking --out")

    monkeypatch.setattr(lca.LatentClassModel, "fit", no_fit)
    missing = tmp_path / "absent" / "m.json"
    for argv in (
        ["fit", str(path), "--columns", "PURPOSE", "--classes", "2", "--out", str(missing)],
        ["assign", str(path), str(path), "--out", str(missing)],
    ):
        assert main(argv) == 2
        err = capsys.readouterr().err.strip()
        assert "the folder" in err and "absent" in err and "does not exist" in err
        assert "\n" not in err


def test_out_that_is_a_folder_or_a_file_fails_before_fitting(survey_csv, tmp_path, capsys):
    path, _ = survey_csv
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    for argv, message in (
        (["fit", str(path), "--classes", "2", "--out", str(tmp_path)], "is a folder"),
        (["assign", str(path), str(path), "--out", str(tmp_path)], "is a folder"),
        (["compare", str(path), "--classes", "2", "--out", str(a_file)], "is a file"),
    ):
        assert main(argv) == 2
        err = capsys.readouterr().err.strip()
        assert f"--out {argv[-1]}: {message}" in err and "\n" not in err


def test_a_header_name_holding_the_other_separator_is_read(tmp_path):
    frame = pd.DataFrame(
        {"Purpose, of survey": ["a", "b"] * 5, "q2": ["x", "y", "y", "x", "x"] * 2}
    )
    frame.to_csv(tmp_path / "semi.csv", index=False, sep=";")
    pd.testing.assert_frame_equal(read_table(str(tmp_path / "semi.csv")), frame)
    frame.to_csv(tmp_path / "quoted.csv", index=False, sep=";", quoting=1)  # every field quoted
    pd.testing.assert_frame_equal(read_table(str(tmp_path / "quoted.csv")), frame)


def test_a_comma_csv_with_short_rows_is_read_as_pandas_reads_it(tmp_path):
    lines = ["q1,q2,q3"] + ["a,b,c" if i % 10 else "a,b" for i in range(60)]
    (tmp_path / "ragged.csv").write_text("\n".join(lines) + "\n")
    frame = read_table(str(tmp_path / "ragged.csv"))
    pd.testing.assert_frame_equal(frame, pd.read_csv(tmp_path / "ragged.csv"))
    assert list(frame.columns) == ["q1", "q2", "q3"]


def test_a_repeated_column_name_is_refused_not_renamed(tmp_path, capsys):
    (tmp_path / "dup.csv").write_text("q1,q2,q1\na,b,a\nb,a,b\n")
    argv = ["fit", str(tmp_path / "dup.csv"), "--classes", "1", "--out", str(tmp_path / "m.json")]
    assert main(argv) == 2
    assert "column name(s) ['q1'] appear more than once" in capsys.readouterr().err


def test_weights_that_are_not_numbers_are_named_with_the_row(tmp_path, capsys):
    frame = pd.DataFrame({"q1": ["a", "b"] * 5, "q2": ["x", "y", "y", "x", "x"] * 2, "w": "1"})
    frame.loc[3, "w"] = "1,5"
    frame.to_csv(tmp_path / "w.csv", index=False, sep=";")
    argv = ["fit", str(tmp_path / "w.csv"), "--weights", "w", "--classes", "1",
            "--out", str(tmp_path / "m.json")]  # fmt: skip
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "weights column 'w' holds '1,5' at row 3" in err and "decimal comma" in err


def test_assign_keeps_the_index_and_refuses_to_overwrite_columns(survey_csv, tmp_path, capsys):
    path, data = survey_csv
    model_path = tmp_path / "m.json"
    cols = "PURPOSE,ACCURACY,UNDERSTA,COOPERAT"
    assert main(["fit", str(path), "--columns", cols, "--classes", "2", "--starts", "2",
                 "--out", str(model_path)]) == 0  # fmt: skip
    indexed = data.set_index("respondent")
    indexed.to_parquet(tmp_path / "ids.parquet")
    out = tmp_path / "assigned.csv"
    assert main(["assign", str(model_path), str(tmp_path / "ids.parquet"), "--out", str(out)]) == 0
    assigned = pd.read_csv(out, index_col="respondent")
    assert assigned.index.tolist() == indexed.index.tolist()
    expected = lca.load(model_path).predict(indexed)
    assert assigned["class"].tolist() == expected.tolist()
    data.assign(**{"class": "A"}).to_csv(tmp_path / "clash.csv", index=False)
    assert main(["assign", str(model_path), str(tmp_path / "clash.csv")]) == 2
    assert "already have column(s) ['class']" in capsys.readouterr().err


def test_warnings_are_one_line_and_spreadsheets_are_named(tmp_path, capsys):
    rng = np.random.default_rng(0)
    pd.DataFrame(rng.integers(1, 3, (60, 2)), columns=["a", "b"]).to_csv(tmp_path / "d.csv")
    out = str(tmp_path / "m.json")
    # 3 classes of 2 binary questions are not identified: the library warns
    assert main(["fit", str(tmp_path / "d.csv"), "--columns", "a,b", "--classes", "3",
                 "--starts", "2", "--out", out]) == 0  # fmt: skip
    err = capsys.readouterr().err
    assert "lca fit: warning: the model has" in err and "not identified" in err
    assert ".py:" not in err
    (tmp_path / "d.xlsx").write_bytes(b"PK")
    assert main(["fit", str(tmp_path / "d.xlsx"), "--classes", "2", "--out", out]) == 2
    assert "spreadsheets are not read; save the sheet as CSV" in capsys.readouterr().err


def test_os_errors_are_one_line(tmp_path, capsys):
    folder = tmp_path / "a_folder.csv"
    folder.mkdir()
    assert main(["fit", str(folder), "--classes", "2", "--out", str(tmp_path / "m.json")]) == 2
    err = capsys.readouterr().err.strip()
    assert "a_folder.csv" in err and "\n" not in err and "Traceback" not in err


@pytest.fixture
def preset_csv(tmp_path):
    data, _ = lca.presets.get("separation-types").simulate(600, random_state=4, missing=0.02)
    data.insert(0, "id", [f"P{i}" for i in range(len(data))])
    path = tmp_path / "separation.csv"
    data.to_csv(path, index=False)
    return path, data


def test_compare_and_assign_with_a_preset(preset_csv, tmp_path, capsys):
    path, data = preset_csv
    code = main(["compare", str(path), "--preset", "separation-types", "--classes", "4-5",
                 "--starts", "2", "--quiet"])  # fmt: skip
    assert code == 0
    out = capsys.readouterr().out
    assert "Published (Separation types: model fit (Table B.8)" in out and "Lowest BIC" in out
    assigned_path = tmp_path / "assigned.csv"
    assert main(["assign", "--preset", "separation-types", str(path),
                 "--out", str(assigned_path)]) == 0  # fmt: skip
    assigned = pd.read_csv(assigned_path)
    assert assigned["id"].tolist() == data["id"].tolist()
    reference = lca.presets.get("separation-types").reference_model()
    expected = reference.predict(pd.read_csv(path), labels=True)
    assert assigned["class_label"].tolist() == expected.tolist()


def test_compare_with_a_preset_says_why_no_named_model_was_written(preset_csv, tmp_path, capsys):
    path, _ = preset_csv
    out = tmp_path / "out"
    assert main(["compare", str(path), "--preset", "separation-types", "--classes", "2-3",
                 "--starts", "2", "--quiet", "--out", str(out)]) == 0  # fmt: skip
    printed = capsys.readouterr().out
    assert "no model_5_separation-types.json" in printed
    assert "--classes 2-3 leaves out its 5 classes" in printed
    assert not (out / "model_5_separation-types.json").exists()


def test_a_label_outside_the_presets_is_explained_in_command_line_terms(preset_csv, capsys):
    path, data = preset_csv
    column = lca.presets.get("separation-types").indicators[0]
    data.astype(object).assign(**{column: "bogus"}).to_csv(path, index=False)
    argv = ["compare", str(path), "--preset", "separation-types", "--classes", "2", "--quiet"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "preset's labels" in err and "recode it to one of them" in err
    assert "pass --unknown missing" in err
    assert "categories=" not in err and "unknown='missing'" not in err


def test_unknown_missing_fits_a_presets_outside_labels_as_missing(preset_csv, tmp_path, capsys):
    """--unknown missing on fit and compare: the fit of the data with those answers
    missing; the preset's notes and the class match are printed; without a preset the
    option is refused."""
    path, data = preset_csv
    column = "time_since_separation"
    bad = data.astype(object)
    bad.loc[bad.index[:5], column] = "2 years - 3 years"  # the category the report lost
    bad.to_csv(path, index=False)
    model_path = tmp_path / "m.json"
    argv = ["fit", str(path), "--preset", "separation-types", "--starts", "2", "--out"]
    assert main([*argv, str(model_path), "--unknown", "missing"]) == 0
    captured = capsys.readouterr()
    assert "fitted as missing" in captured.err and f"5 in {column!r}" in captured.err
    assert "classes matched to the published ones" in captured.out
    masked = bad.assign(**{column: bad[column].mask(bad.index < 5)})
    expected = lca.presets.get("separation-types").fit(
        masked.drop(columns="id"), n_starts=2, random_state=0
    )
    assert lca.load(model_path).loglik_ == expected.loglik_
    argv = ["compare", str(path), "--preset", "separation-types", "--classes", "2", "--quiet"]
    assert main([*argv, "--unknown", "missing", "--starts", "2"]) == 0
    out = capsys.readouterr().out
    assert "Notes on the published tables" in out and "pass --unknown missing" in " ".join(
        out.split()
    )
    assert main(["fit", str(path), "--classes", "2", "--out", str(model_path),
                 "--unknown", "missing"]) == 2  # fmt: skip
    assert "--unknown goes with --preset" in capsys.readouterr().err


def test_preset_columns_absent_is_one_line(preset_csv, tmp_path, capsys):
    path, data = preset_csv
    data.drop(columns=["decisions"]).to_csv(path, index=False)
    assert main(["assign", "--preset", "separation-types", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert "needs column(s) ['decisions']" in err and "\n" not in err
    assert main(["assign", "--preset", "nope", str(path)]) == 2
    assert "no such preset" in capsys.readouterr().err


def test_assign_with_dask_writes_every_row(survey_csv, tmp_path):
    pytest.importorskip("dask.dataframe")
    path, data = survey_csv
    model_path = tmp_path / "m.json"
    assert main(["fit", str(path), "--columns", "PURPOSE,ACCURACY,UNDERSTA,COOPERAT",
                 "--classes", "2", "--starts", "2", "--out", str(model_path)]) == 0  # fmt: skip
    out_dir = tmp_path / "assigned"
    assert main(["assign", str(model_path), str(path), "--dask", "--out", str(out_dir)]) == 0
    files = sorted(out_dir.glob("assigned-*.csv"))
    assigned = pd.concat([pd.read_csv(f, dtype=str) for f in files], ignore_index=True)
    assert assigned["respondent"].tolist() == data["respondent"].tolist()
    # the answers are echoed as written (no 2 -> 2.0)
    written = pd.read_csv(path, dtype=str)
    pd.testing.assert_frame_equal(assigned[written.columns], written)
    assigned = assigned.astype({"class": int})
    expected = lca.load(model_path).predict(pd.read_csv(path))
    assert assigned["class"].tolist() == expected.tolist()


def test_assign_echoes_the_input_columns_as_written(tmp_path):
    """A column of integer codes with blanks is float to pandas; assign writes it back
    as the file has it (1, not 1.0; blanks blank), other columns too ("007" stays)."""
    rng = np.random.default_rng(0)
    codes = rng.integers(1, 4, (80, 3)).astype(str)
    codes[[4, 9], 0] = ""
    lines = ["id,a,b,c"] + [f"{i:03d},{','.join(row)}" for i, row in enumerate(codes)]
    path = tmp_path / "ints.csv"
    path.write_text("\n".join(lines) + "\n")
    model_path = tmp_path / "m.json"
    assert main(["fit", str(path), "--columns", "a,b,c", "--classes", "2", "--starts", "2",
                 "--out", str(model_path)]) == 0  # fmt: skip
    out = tmp_path / "assigned.csv"
    assert main(["assign", str(model_path), str(path), "--out", str(out)]) == 0
    assigned = pd.read_csv(out, dtype=str, keep_default_na=False)
    written = pd.read_csv(path, dtype=str, keep_default_na=False)
    pd.testing.assert_frame_equal(assigned[written.columns], written)
    assert assigned.loc[4, "a"] == "" and assigned.loc[0, "id"] == "000"
    expected = lca.load(model_path).predict(read_table(str(path)))
    assert assigned["class"].astype(int).tolist() == expected.tolist()


def test_assign_with_dask_echoes_integer_answers_as_written(tmp_path):
    pytest.importorskip("dask.dataframe")
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.integers(1, 4, (60, 3)), columns=["a", "b", "c"])
    frame.loc[5, "a"] = np.nan  # a missing answer makes the column float in pandas
    path = tmp_path / "ints.csv"
    frame.to_csv(path, index=False)
    model_path = tmp_path / "m.json"
    assert (
        main(["fit", str(path), "--classes", "2", "--starts", "2", "--out", str(model_path)]) == 0
    )
    assert main(["assign", str(model_path), str(path), "--dask", "--out", str(tmp_path / "o")]) == 0
    files = sorted((tmp_path / "o").glob("assigned-*.csv"))
    assigned = pd.concat([pd.read_csv(f, dtype=str) for f in files], ignore_index=True)
    written = pd.read_csv(path, dtype=str)
    pd.testing.assert_frame_equal(assigned[written.columns], written)
    expected = lca.load(model_path).predict(pd.read_csv(path))
    assert assigned["class"].astype(int).tolist() == expected.tolist()


def test_assign_with_dask_into_an_existing_folder_and_from_parquet_text_labels(tmp_path):
    pytest.importorskip("dask.dataframe")
    rng = np.random.default_rng(0)
    codes = rng.integers(1, 3, (60, 3))
    frame = pd.DataFrame({f"q{j}": [f"0{v}" for v in codes[:, j]] for j in range(3)})
    frame.to_parquet(tmp_path / "codes.parquet")
    model_path = tmp_path / "m.json"
    assert main(["fit", str(tmp_path / "codes.parquet"), "--classes", "2", "--starts", "2",
                 "--out", str(model_path)]) == 0  # fmt: skip
    assert lca.load(model_path).indicators_[0].categories == ("01", "02")
    out = tmp_path / "out"
    out.mkdir()  # an existing folder is fine for --dask
    argv = ["assign", str(model_path), str(tmp_path / "codes.parquet"), "--dask", "--out", str(out)]
    assert main(argv) == 0
    assigned = pd.concat([pd.read_csv(f, dtype=str) for f in sorted(out.glob("*.csv"))])
    assert assigned["q0"].tolist() == frame["q0"].tolist()  # "01" stays text
    expected = lca.load(model_path).predict(frame)
    assert assigned["class"].astype(int).tolist() == expected.tolist()


def test_fit_split_merge_flag_is_what_the_model_gets(survey_csv, tmp_path, capsys):
    path, _ = survey_csv
    cols = "PURPOSE,ACCURACY,UNDERSTA,COOPERAT"
    model_path = tmp_path / "m.json"
    assert main(["fit", str(path), "--columns", cols, "--classes", "3", "--starts", "2",
                 "--split-merge", "12", "--out", str(model_path)]) == 0  # fmt: skip
    saved = lca.load(model_path)
    assert saved.split_merge == 12
    direct = lca.LatentClassModel(3, n_starts=2, split_merge=12).fit(
        pd.read_csv(path)[cols.split(",")]
    )
    assert saved.loglik_ == direct.loglik_
    assert main(["fit", str(path), "--classes", "3", "--split-merge", "-2",
                 "--out", str(model_path)]) == 2  # fmt: skip
    assert "--split-merge -2" in capsys.readouterr().err


def _answers(n=60):
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "children": rng.choice(["None", "One", "Two+"], n),
            "region": rng.choice(["NA", "EU", "AS"], n),  # NA: North America
            "help": rng.choice(["N/A", "yes", "no"], n),
        }
    )


def test_missing_marker_warnings_name_only_the_columns_used(tmp_path, capsys):
    """With --columns, answers that look missing in columns the fit leaves out are not
    warned of (the reviewer saw 'None' in 'q4' warned of for --columns q2,q3); every
    column is still read the same."""
    frame = _answers()
    frame["q"] = np.random.default_rng(2).choice(["a", "b"], len(frame))
    path = tmp_path / "answers.csv"
    frame.to_csv(path, index=False)
    with pytest.warns(UserWarning) as record:
        read_table(str(path), used=["region", "q"])
    messages = [str(w.message) for w in record]
    assert any("'NA'" in m and "'region'" in m for m in messages)
    assert not any("children" in m or "help" in m for m in messages)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = read_table(str(path), used=["q"])  # nothing missing-looking there
    with pytest.warns(UserWarning):
        pd.testing.assert_frame_equal(got, read_table(str(path)))
    capsys.readouterr()
    assert main(["fit", str(path), "--columns", "help,q", "--classes", "1",
                 "--out", str(tmp_path / "m.json")]) == 0  # fmt: skip
    err = capsys.readouterr().err
    assert "'N/A' in 'help'" in err and "children" not in err and "region" not in err


def test_blank_fields_are_missing_and_negative_codes_are_warned_about(tmp_path, capsys):
    """A field of spaces only (as SPSS writes an empty text answer) is missing as an empty
    one is: a column of numbers with one stays numbers (it became text labels '1', '2',
    ' '), and the count is said for text columns. A -9 beside codes 1..2 is a category
    unless listed with --missing, and a warning says so in command-line words."""
    path = tmp_path / "blank.csv"
    path.write_text("a,b,c,d\nx,1,1,2\n ,2,1,1\ny, ,2,2\nx,1,-9,1\n   ,2,1,2\ny,1,2,1\n")
    with pytest.warns(UserWarning, match=r"2 blank fields \(spaces only\) in text columns 'a'"):
        got = read_table(str(path))
    assert got["a"].isna().tolist() == [False, True, False, False, True, False]
    assert pd.api.types.is_float_dtype(got["b"]) and got["b"].isna().sum() == 1
    out = str(tmp_path / "m.json")
    assert main(["fit", str(path), "--classes", "1", "--out", out]) == 0
    err = capsys.readouterr().err
    assert "column 'c' holds -9 apart from its other codes (1 to 2)" in err
    assert "list it with --missing (for example --missing NA,-9)" in err and "df[" not in err
    assert lca.load(out).indicators_[2].categories == (-9, 1, 2)
    assert main(["fit", str(path), "--classes", "1", "--out", out, "--missing", "NA,-9"]) == 0
    assert "holds -9" not in capsys.readouterr().err
    assert lca.load(out).indicators_[2].categories == (1, 2)


def test_row_labels_in_messages_are_plain_values(tmp_path, capsys):
    """A Parquet file's rows keep their own labels, shown as 12, not np.int64(12)."""
    pytest.importorskip("pyarrow")
    parquet = tmp_path / "w.parquet"
    frame = pd.DataFrame({"a": [1, 2, 1], "b": [1, 2, 2], "w": [1.0, 1.0, -3.0]})
    frame.set_axis([10, 11, 12]).to_parquet(parquet)
    out = str(tmp_path / "m.json")
    assert main(["fit", str(parquet), "--classes", "1", "--weights", "w", "--out", out]) == 2
    err = capsys.readouterr().err
    assert "at row 12;" in err and "np." not in err


def test_the_ordinal_gap_warning_speaks_of_the_command_line(tmp_path, capsys):
    rng = np.random.default_rng(0)
    cls = rng.integers(0, 2, 300)
    frame = pd.DataFrame(
        {f"q{j}": (rng.random(300) < np.where(cls == 0, 0.8, 0.2)).astype(int) for j in range(3)}
    )
    frame["a"] = np.where(cls == 0, rng.choice([1, 2], 300), rng.choice([4, 5], 300))
    path = tmp_path / "gap.csv"
    frame.to_csv(path, index=False)
    out = str(tmp_path / "m.json")
    assert main(["fit", str(path), "--classes", "2", "--ordinal", "a", "--out", out]) == 0
    err = capsys.readouterr().err
    assert "ordinal indicator 'a': nobody gave 3" in err
    assert "leave the column out of --ordinal" in err and "categories={" not in err


def test_only_empty_fields_and_the_missing_markers_are_missing_in_text(tmp_path):
    frame = _answers()
    frame.loc[[3, 7], "help"] = np.nan  # written as empty fields
    path = tmp_path / "answers.csv"
    frame.to_csv(path, index=False)
    # default: empty and "NA" (R's write.csv) are missing; "None", "N/A" are answers,
    # and both facts are said, with the count of what was read as missing
    with pytest.warns(UserWarning) as record:
        got = read_table(str(path))
    messages = [str(w.message) for w in record]
    n_na = int((frame["region"] == "NA").sum())
    assert any(f"'NA' ({n_na} answers in 'region')" in m and "--missing" in m for m in messages)
    assert any("kept as answers" in m and "'None' in 'children'" in m for m in messages)
    assert set(got["children"]) == {"None", "One", "Two+"}
    assert got["region"].isna().sum() == n_na
    assert got["help"].isna().sum() == 2 and "N/A" in set(got["help"])
    # empty fields only: "NA" is an answer, so every row keeps its region
    with pytest.warns(UserWarning, match="kept as answers"):
        got = read_table(str(path), missing=[])
    pd.testing.assert_series_equal(got["region"], frame["region"])
    # a list of markers
    with pytest.warns(UserWarning) as record:
        got = read_table(str(path), missing=["NA", "N/A"])
    assert any("'N/A' (" in str(w.message) and "in 'help')" in str(w.message) for w in record)
    assert got["help"].isna().sum() == 2 + int((frame["help"] == "N/A").sum())


@pytest.mark.filterwarnings("error")  # nothing to say: numbers have no answer "NaN"
def test_columns_of_numbers_or_bools_read_every_missing_string_as_pandas_does(tmp_path):
    frame = pd.DataFrame(
        {
            "q1": [1.0, 2.0, np.nan, 3.0] * 5,
            "q2": [1, 2, 3, 2] * 5,
            "flag": [True, False, None, True] * 5,
        }
    )
    path = tmp_path / "numbers.csv"
    for marker in ("NaN", "#N/A", "nan", "NA", "null"):
        frame.to_csv(path, index=False, na_rep=marker)
        got = read_table(str(path))
        assert got["q1"].dtype == np.float64 and got["q2"].dtype == np.int64
        pd.testing.assert_frame_equal(got, pd.read_csv(path), check_dtype=False)
        np.testing.assert_array_equal(got["q1"].isna(), frame["q1"].isna())
        assert got["flag"].tolist()[:2] == [True, False] and pd.isna(got["flag"][2])
    # a file with missing numbers fits and then assigns a clean file of the same survey
    frame.to_csv(path, index=False, na_rep="NaN")
    clean = tmp_path / "clean.csv"
    frame.fillna({"q1": 1.0, "flag": True}).to_csv(clean, index=False)
    assert (
        main(
            ["fit", str(path), "--classes", "2", "--starts", "2", "--out", str(tmp_path / "m.json")]
        )
        == 0
    )
    assert _categories(tmp_path / "m.json")["q1"] == (1, 2, 3)
    assert (
        main(["assign", str(tmp_path / "m.json"), str(clean), "--out", str(tmp_path / "a.csv")])
        == 0
    )


def test_a_numeric_marker_matches_its_numbers(tmp_path):
    (tmp_path / "codes.csv").write_text("q1,q2\n-9,a\n-9.0,b\n2,-9\n1,a\n")
    # in a text column -9 could be an answer: said; in a column of numbers it is not
    with pytest.warns(UserWarning, match=r"'-9' \(1 answer in 'q2'\)") as record:
        got = read_table(str(tmp_path / "codes.csv"), missing=["-9"])
    assert len(record) == 1
    assert got["q1"].isna().tolist() == [True, True, False, False]
    assert got["q2"].isna().tolist() == [False, False, True, False]


def test_a_warning_about_many_columns_stays_short(tmp_path):
    frame = pd.DataFrame({f"q{j}": ["yes", "no", "NA"] * 3 for j in range(60)})
    frame.to_csv(tmp_path / "wide.csv", index=False)
    with pytest.warns(UserWarning) as record:
        read_table(str(tmp_path / "wide.csv"))
    (message,) = [str(w.message) for w in record]
    assert "'NA' (180 answers in 'q0', 'q1'" in message and "and 54 more)" in message
    assert len(message) < 400


def test_gzip_csv_is_decoded_through_its_decompressor(tmp_path):
    frame = pd.DataFrame({"q1": ["caf\u00e9", "th\u00e9"] * 5, "q2": ["a", "b"] * 5})
    frame.to_csv(tmp_path / "survey.csv.gz", index=False, sep=";")
    pd.testing.assert_frame_equal(read_table(str(tmp_path / "survey.csv.gz")), frame)


def _categories(model_path):
    return {ind.name: tuple(ind.categories) for ind in lca.load(model_path).indicators_}


def test_missing_option_on_the_command_line(tmp_path, capsys):
    frame = _answers(300)
    path = tmp_path / "answers.csv"
    frame.to_csv(path, index=False)
    out = tmp_path / "m.json"
    argv = ["fit", str(path), "--classes", "2", "--starts", "2", "--out", str(out)]
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert "read as missing answers in text columns: 'NA' (" in err and "in 'region')" in err
    assert _categories(out)["region"] == ("AS", "EU")
    assert main([*argv, "--missing", ""]) == 0
    assert _categories(out)["region"] == ("AS", "EU", "NA")
    capsys.readouterr()
    assert main(["assign", str(out), str(path), "--missing", ""]) == 0
    assigned = pd.read_csv(io.StringIO(capsys.readouterr().out), keep_default_na=False)
    assert assigned["region"].tolist() == frame["region"].tolist()  # echoed as written


def test_excel_windows_csv_is_read_as_cp1252(tmp_path):
    frame = pd.DataFrame(
        {"q1": ["Don\u2019t know", "No \u2013 never", "Yes"] * 4, "q2": ["a", "b", "c"] * 4}
    )
    frame.to_csv(tmp_path / "excel.csv", index=False, encoding="cp1252")
    pd.testing.assert_frame_equal(read_table(str(tmp_path / "excel.csv")), frame)
    # bytes that cp1252 leaves undefined (0x81) fall back to latin-1
    (tmp_path / "latin.csv").write_bytes(b"q1,q2\n\x81a,b\nc,d\n")
    assert read_table(str(tmp_path / "latin.csv"))["q1"].tolist() == ["\x81a", "c"]


def test_bar_separated_csv_and_excel_trailing_separator(tmp_path):
    frame = pd.DataFrame({"q1": ["a", "b"] * 5, "q2": ["x", "y", "y", "x", "x"] * 2})
    frame.to_csv(tmp_path / "bar.csv", index=False, sep="|")
    pd.testing.assert_frame_equal(read_table(str(tmp_path / "bar.csv")), frame)
    (tmp_path / "trailing.csv").write_text("q1,q2,\na,x,\nb,y,\n")  # as Excel writes it
    assert list(read_table(str(tmp_path / "trailing.csv")).columns) == ["q1", "q2"]
    (tmp_path / "named.csv").write_text("q1,q2,q3\na,x,\nb,y,\n")  # a named empty column stays
    assert list(read_table(str(tmp_path / "named.csv")).columns) == ["q1", "q2", "q3"]


def test_one_column_named_with_a_colon_or_a_quoted_comma_is_read(tmp_path):
    (tmp_path / "colon.csv").write_text("Q1: satisfied?\nyes\nno\n")
    assert read_table(str(tmp_path / "colon.csv")).columns.tolist() == ["Q1: satisfied?"]
    (tmp_path / "comma.csv").write_text('"Q1, satisfied?"\nyes\nno\n')
    assert read_table(str(tmp_path / "comma.csv")).columns.tolist() == ["Q1, satisfied?"]


def test_python_dash_m_runs_the_command_line():
    done = subprocess.run(
        [sys.executable, "-m", "lca", "--help"], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0 and "usage: lca" in done.stdout


def test_assign_with_dask_reads_the_format_read_table_reads(tmp_path):
    pytest.importorskip("dask.dataframe")
    frame = pd.DataFrame(
        {"q1": ["Don\u2019t know", "Yes", "No"] * 20, "q2": ["NA", "EU", "AS", "EU"] * 15}
    )
    path = tmp_path / "excel.csv"
    frame.to_csv(path, index=False, sep=";", encoding="cp1252")
    model_path = tmp_path / "m.json"
    fit = ["fit", str(path), "--classes", "2", "--starts", "2", "--missing", ""]
    assert main([*fit, "--out", str(model_path)]) == 0
    out = tmp_path / "out"
    argv = ["assign", str(model_path), str(path), "--dask", "--missing", "", "--out", str(out)]
    assert main(argv) == 0
    (written,) = sorted(out.glob("*.csv"))
    assigned = pd.read_csv(written, keep_default_na=False)
    pd.testing.assert_frame_equal(assigned[["q1", "q2"]], frame)
    with pytest.warns(UserWarning, match="kept as answers: 'NA' in 'q2'"):
        expected = lca.load(model_path).predict(read_table(str(path), missing=[]))
    assert assigned["class"].tolist() == expected.tolist()


def test_excel_error_values_and_spss_dots_are_kept_with_a_warning(tmp_path):
    (tmp_path / "x.csv").write_text("q1,q2\n#N/A,a\nx,.\ny,b\n")
    with pytest.warns(UserWarning, match=r"kept as answers: '#N/A' in 'q1'; '\.' in 'q2'"):
        frame = read_table(str(tmp_path / "x.csv"))
    assert frame["q1"].tolist() == ["#N/A", "x", "y"] and frame["q2"].tolist() == ["a", ".", "b"]
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # "said" once: as missing, nothing else
        with pytest.raises(
            UserWarning,
            match=r"read as missing answers in text columns: '#N/A' \(1 answer in 'q1'\)",
        ):
            read_table(str(tmp_path / "x.csv"), missing=["#N/A", "."])


def test_assign_with_dask_reads_recursive_globs_and_file_urls(tmp_path):
    pytest.importorskip("dask.dataframe")
    frame = pd.DataFrame({"q1": ["a", "b", "a", "b"] * 10, "q2": ["x", "x", "y", "y"] * 10})
    (tmp_path / "wave" / "part").mkdir(parents=True)
    path = tmp_path / "wave" / "part" / "x.csv"
    frame.to_csv(path, index=False)
    model_path = tmp_path / "m.json"
    assert (
        main(["fit", str(path), "--classes", "2", "--starts", "2", "--out", str(model_path)]) == 0
    )
    for i, pattern in enumerate([str(tmp_path / "wave" / "**" / "x.csv"), path.as_uri()]):
        out = tmp_path / f"out{i}"
        assert main(["assign", str(model_path), pattern, "--dask", "--out", str(out)]) == 0
        (written,) = sorted(out.glob("*.csv"))
        assert pd.read_csv(written)[["q1", "q2"]].equals(frame)


def test_fit_with_a_preset_names_its_classes_and_assign_writes_the_names(preset_csv, tmp_path):
    path, data = preset_csv
    model_path = tmp_path / "m.json"
    argv = ["fit", str(path), "--preset", "separation-types", "--starts", "4", "--out"]
    assert main([*argv, str(model_path)]) == 0
    model = lca.load(model_path)
    preset = lca.presets.get("separation-types")
    same = preset.fit(pd.read_csv(path), n_starts=4, random_state=0)
    assert model.loglik_ == same.loglik_ and model.n_parameters_ == same.n_parameters_
    assert model.class_labels_ == list(preset.class_labels)
    out = tmp_path / "a.csv"
    assert main(["assign", str(model_path), str(path), "--out", str(out)]) == 0
    assigned = pd.read_csv(out)
    assert assigned["class_label"].tolist() == same.predict(data, labels=True).tolist()


def test_compare_with_a_preset_saves_the_published_k_named(preset_csv, tmp_path, capsys):
    path, _ = preset_csv
    out = tmp_path / "models"
    argv = ["compare", str(path), "--preset", "separation-types", "--classes", "4-5",
            "--starts", "2", "--quiet", "--out", str(out)]  # fmt: skip
    assert main(argv) == 0
    named = lca.load(out / "model_5_separation-types.json")
    by_size = lca.load(out / "model_5.json")  # as compare wrote it: classes by size
    preset = lca.presets.get("separation-types")
    assert named.class_labels_ == list(preset.class_labels)
    assert not hasattr(by_size, "class_labels_")
    assert named.loglik_ == by_size.loglik_
    order = named.class_match_["fitted_class_by_size"].to_numpy() - 1
    np.testing.assert_array_equal(
        named.class_sizes_.to_numpy(), by_size.class_sizes_.to_numpy()[order]
    )
    capsys.readouterr()
    assert main(argv) == 0  # the rerun reuses every model and names the same
    assert "reused finished model(s)" in capsys.readouterr().out
    again = lca.load(out / "model_5_separation-types.json")
    pd.testing.assert_frame_equal(again.class_match_, named.class_match_)


def test_ordinal_columns_on_the_command_line(tmp_path, capsys):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.integers(1, 5, (300, 4)), columns=["q1", "q2", "q3", "q4"])
    frame["text"] = rng.choice(["low", "high"], 300)
    path = tmp_path / "codes.csv"
    frame.to_csv(path, index=False)
    out = tmp_path / "m.json"
    argv = ["fit", str(path), "--classes", "2", "--starts", "2", "--out", str(out)]
    assert main([*argv, "--ordinal", "q1,q2", "--columns", "q1,q2,q3,q4"]) == 0
    model = lca.load(out)
    expected = lca.LatentClassModel(2, n_starts=2, ordinal=["q1", "q2"]).fit(frame.iloc[:, :4])
    assert model.loglik_ == expected.loglik_
    assert model.n_parameters_ == 1 + 2 * (3 + 1) + 2 * 2 * 3  # 2 ordinal, 2 nominal
    capsys.readouterr()
    assert main([*argv, "--ordinal", "text"]) == 2
    err = capsys.readouterr().err
    assert "a CSV keeps no category order: recode its answers as numbers 1..C" in err
    assert "pd.Categorical" not in err


def test_text_that_python_but_not_pandas_reads_as_a_number_stays_text(tmp_path):
    (tmp_path / "d.csv").write_text("q1,q2\n1_000,a\n2,b\n\u0661,a\n2,b\n")
    got = read_table(str(tmp_path / "d.csv"))
    assert got["q1"].tolist() == ["1_000", "2", "\u0661", "2"]


def assert_dask_assign_is_the_plain_one(model_path, tmp_path) -> pd.DataFrame:
    """assign --dask of part*.csv writes, as text, what assign of full.csv writes (the
    posteriors to the last digit); returns the latter as text."""
    assert main(["assign", str(model_path), str(tmp_path / "full.csv"),
                 "--out", str(tmp_path / "plain.csv")]) == 0  # fmt: skip
    argv = ["assign", str(model_path), str(tmp_path / "part*.csv"), "--dask"]
    assert main([*argv, "--out", str(tmp_path / "out")]) == 0
    as_written = {"dtype": str, "keep_default_na": False}
    plain = pd.read_csv(tmp_path / "plain.csv", **as_written)
    parts = sorted((tmp_path / "out").glob("*.csv"))
    dask = pd.concat([pd.read_csv(f, **as_written) for f in parts], ignore_index=True)
    pd.testing.assert_frame_equal(dask, plain)
    return plain


def test_assign_with_dask_reads_each_partition_as_the_whole_file(tmp_path, capsys):
    pytest.importorskip("dask.dataframe")
    rng = np.random.default_rng(0)
    n = 300
    frame = pd.DataFrame(
        {"q1": rng.choice(["1", "2"], n), "q2": rng.choice(["a", "b"], n),
         "q3": rng.choice(["a", "b", "c"], n)}
    )  # fmt: skip
    frame.loc[:40, "q1"] = "None"  # an answer: the column is text, for its "x" below
    frame.loc[n - 20 :, "q1"] = "x"
    frame.to_csv(tmp_path / "full.csv", index=False)
    frame.iloc[: n // 2].to_csv(tmp_path / "part1.csv", index=False)  # no "x" here
    frame.iloc[n // 2 :].to_csv(tmp_path / "part2.csv", index=False)
    model_path = tmp_path / "m.json"
    assert main(["fit", str(tmp_path / "full.csv"), "--classes", "2", "--starts", "2",
                 "--out", str(model_path)]) == 0  # fmt: skip
    assert "kept as answers: 'None' in 'q1'" in capsys.readouterr().err
    assert_dask_assign_is_the_plain_one(model_path, tmp_path)


def test_fit_profile_writes_estimates_and_standard_errors(survey_csv, tmp_path, capsys):
    path, data = survey_csv
    cols = "PURPOSE,ACCURACY,UNDERSTA,COOPERAT"
    model_path, profile_path = tmp_path / "m.json", tmp_path / "profile.csv"
    assert main(["fit", str(path), "--columns", cols, "--weights", "wt", "--classes", "2",
                 "--starts", "4", "--out", str(model_path), "--profile", str(profile_path),
                 "--se-method", "opg"]) == 0  # fmt: skip
    assert "opg standard errors" in capsys.readouterr().out
    table = pd.read_csv(profile_path, index_col=[0, 1], keep_default_na=False, na_values=[""])
    assert table.columns.tolist() == ["1", "1_se", "2", "2_se", "Total", "Total_se"]
    model = lca.load(model_path)
    se = model.standard_errors("opg", data=pd.read_csv(path)[cols.split(",")], weights=data["wt"])
    np.testing.assert_allclose(table.iloc[0][["1", "2"]], model.class_sizes_, rtol=1e-12)
    np.testing.assert_allclose(table.iloc[0][["1_se", "2_se"]], se.class_sizes, rtol=1e-9)
    rows = table.iloc[1:]
    for (indicator, category), row in rows.iterrows():
        assert row["1_se"] == pytest.approx(se.profile.loc[(indicator, category), 1], rel=1e-9)
        assert row["Total"] == pytest.approx(model.profile().loc[(indicator, category), "Total"])
    assert len(rows) == len(model.profile())


def test_fit_design_based_profile_and_indicator_tests(tmp_path, capsys):
    """``--se-method design --stratum --cluster``: the API's standard errors and Wald
    tests; the design columns are not taken for indicators."""
    data = lca.datasets.load_gss82()
    rng = np.random.default_rng(5)
    data["region"] = rng.choice(["n", "s", "w"], len(data))
    data["area"] = rng.integers(1, 9, len(data))  # 1..8 within each region
    data["wt"] = rng.uniform(0.5, 1.5, len(data))
    path = tmp_path / "complex.csv"
    data.to_csv(path, index=False)
    model_path, profile_path = tmp_path / "m.json", tmp_path / "profile.csv"
    assert main(["fit", str(path), "--weights", "wt", "--classes", "2", "--starts", "4",
                 "--out", str(model_path), "--profile", str(profile_path), "--se-method",
                 "design", "--stratum", "region", "--cluster", "area",
                 "--indicator-tests"]) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert "design standard errors" in out
    model = lca.load(model_path)
    assert [ind.name for ind in model.indicators_] == list(data.columns[:4])
    se = model.standard_errors("design", data=data, weights="wt", strata="region",
                               clusters="area")  # fmt: skip
    table = pd.read_csv(profile_path, index_col=[0, 1], keep_default_na=False, na_values=[""])
    np.testing.assert_allclose(table.iloc[0][["1_se", "2_se"]], se.class_sizes, rtol=1e-9)
    for (indicator, category), row in table.iloc[1:].iterrows():
        assert row["2_se"] == pytest.approx(se.profile.loc[(indicator, category), 2], rel=1e-9)
    tests = model.indicator_tests("design", data=data, weights="wt", strata="region",
                                  clusters="area")  # fmt: skip
    assert f"{tests['wald'].iloc[0]:.4g}" in out
    # the design columns need the design method, and must exist
    assert main(["fit", str(path), "--weights", "wt", "--classes", "2", "--out",
                 str(tmp_path / "x.json"), "--cluster", "area"]) == 2  # fmt: skip
    assert "add --se-method design" in capsys.readouterr().err
    assert main(["fit", str(path), "--classes", "2", "--out", str(tmp_path / "x.json"),
                 "--se-method", "design", "--stratum", "zone"]) == 2  # fmt: skip
    assert "no column(s) ['zone']" in capsys.readouterr().err
    assert not (tmp_path / "x.json").exists()


def test_fit_profile_path_is_checked_before_fitting(survey_csv, tmp_path, capsys):
    path, _ = survey_csv
    code = main(["fit", str(path), "--classes", "2", "--out", str(tmp_path / "m.json"),
                 "--profile", str(tmp_path / "no" / "p.csv")])  # fmt: skip
    assert code == 2
    assert "--profile" in capsys.readouterr().err
    assert not (tmp_path / "m.json").exists()


@pytest.fixture(scope="module")
def election_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("election")
    data = lca.datasets.load_election()
    data["wt"] = np.random.default_rng(1).uniform(0.5, 1.5, len(data))
    path = folder / "election.csv"
    data.to_csv(path, index=False)
    items = list(data.columns[:12])
    model = lca.LatentClassModel(3, n_starts=4, random_state=0).fit(data[items])
    model.save(folder / "m.json")
    return path, folder / "m.json", data


def test_covariates_refuses_missing_covariates_then_drops_them_when_asked(
    election_files, tmp_path, capsys
):
    path, model_path, data = election_files
    args = ["covariates", str(model_path), str(path), "--covariates", "PARTY,GENDER"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "'PARTY' is missing in 25 row(s)" in err and "--drop-missing" in err
    out_path = tmp_path / "effects.csv"
    code = main([*args, "--categorical", "GENDER", "--weights", "wt", "--drop-missing",
                 "--correction", "bch", "--out", str(out_path)])  # fmt: skip
    assert code == 0
    assert "left out 25 of 1785 rows" in capsys.readouterr().out
    table = pd.read_csv(out_path, index_col=[0, 1])
    keep = data["PARTY"].notna()
    cov = data.loc[keep, ["PARTY", "GENDER"]].assign(GENDER=lambda d: pd.Categorical(d.GENDER))
    model = lca.load(model_path)
    expected = model.covariate_effects(
        cov, data=data[keep], weights=data.loc[keep, "wt"], correction="bch"
    ).coefficients
    assert table.index.tolist() == [(c, t) for c, t in expected.index]
    assert [t for _, t in expected.index][:3] == ["Intercept", "PARTY", "GENDER[2]"]
    np.testing.assert_allclose(table.to_numpy(), expected.to_numpy(), rtol=1e-9)


def test_covariates_names_absent_columns(election_files, capsys):
    path, model_path, _ = election_files
    assert main(["covariates", str(model_path), str(path), "--covariates", "AGE,INCOME"]) == 2
    assert "no column(s) ['INCOME']" in capsys.readouterr().err
    assert main(["covariates", str(model_path), str(path), "--covariates", "AGE",
                 "--categorical", "EDUC"]) == 2  # fmt: skip
    assert "not in --covariates" in capsys.readouterr().err


def test_covariates_with_step1_uncertainty(election_files, tmp_path, capsys):
    path, model_path, data = election_files
    out_path = tmp_path / "effects.csv"
    args = ["covariates", str(model_path), str(path), "--covariates", "GENDER",
            "--categorical", "GENDER", "--out", str(out_path)]  # fmt: skip
    assert main([*args, "--step1-uncertainty"]) == 0
    capsys.readouterr()
    table = pd.read_csv(out_path, index_col=[0, 1])
    cov = data[["GENDER"]].assign(GENDER=lambda d: pd.Categorical(d.GENDER))
    model = lca.load(model_path)
    expected = model.covariate_effects(cov, data=data, step1_uncertainty=True).coefficients
    np.testing.assert_allclose(table.to_numpy(), expected.to_numpy(), rtol=1e-9)
    assert main(args) == 0
    plain = pd.read_csv(out_path, index_col=[0, 1])
    assert (table["se"] > plain["se"]).all()
    np.testing.assert_allclose(table["coef"], plain["coef"], rtol=1e-12)


def test_covariates_and_distal_with_design_based_standard_errors(tmp_path, capsys):
    data = lca.datasets.load_election()
    rng = np.random.default_rng(2)
    data["region"] = rng.choice(["n", "s"], len(data))
    data["area"] = rng.integers(1, 21, len(data))
    data["wt"] = rng.uniform(0.5, 1.5, len(data))
    data["score"] = rng.normal(size=len(data))
    path = tmp_path / "complex.csv"
    data.to_csv(path, index=False)
    items = list(data.columns[:12])
    model = lca.LatentClassModel(3, n_starts=4, random_state=0).fit(data[items])
    model_path = tmp_path / "m.json"
    model.save(model_path)
    design = ["--weights", "wt", "--se-method", "design", "--stratum", "region",
              "--cluster", "area"]  # fmt: skip
    kw = dict(weights=data["wt"], se_method="design", strata="region", clusters="area")
    out = tmp_path / "effects.csv"
    assert main(["covariates", str(model_path), str(path), "--covariates", "GENDER",
                 "--categorical", "GENDER", *design, "--out", str(out)]) == 0  # fmt: skip
    cov = data[["GENDER"]].assign(GENDER=lambda d: pd.Categorical(d.GENDER))
    answers = data.drop(columns=["wt"])
    expected = model.covariate_effects(cov, data=answers, **kw).coefficients
    np.testing.assert_allclose(pd.read_csv(out, index_col=[0, 1]).to_numpy(),
                               expected.to_numpy(), rtol=1e-9)  # fmt: skip
    robust = model.covariate_effects(cov, data=data, weights="wt", se_method="robust")
    assert not np.allclose(expected["se"], robust.coefficients["se"], rtol=1e-3)
    out = tmp_path / "means.csv"
    assert main(["distal", str(model_path), str(path), "--outcomes", "score", *design,
                 "--out", str(out)]) == 0  # fmt: skip
    expected = model.distal_means(data[["score"]], data=answers, **kw).to_frame()
    np.testing.assert_allclose(pd.read_csv(out, index_col=[0, 1])["se"],
                               expected["se"], rtol=1e-9)  # fmt: skip
    capsys.readouterr()
    assert main(["distal", str(model_path), str(path), "--outcomes", "score",
                 "--cluster", "area"]) == 2  # fmt: skip
    assert "add --se-method design" in capsys.readouterr().err


def test_distal_refuses_missing_outcomes_then_omits_them_when_asked(
    election_files, tmp_path, capsys
):
    path, model_path, data = election_files
    out_path = tmp_path / "means.csv"
    args = ["distal", str(model_path), str(path), "--outcomes", "AGE,EDUC", "--weights", "wt",
            "--out", str(out_path)]  # fmt: skip
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "'AGE' is missing in 9 row(s)" in err
    assert "pass --omit-missing to leave them out" in err and "missing='omit'" not in err
    assert main([*args, "--omit-missing"]) == 0
    printed = capsys.readouterr().out
    assert "AGE: N = " in printed and "(9 missing left out)" in printed
    table = pd.read_csv(out_path, index_col=[0, 1])
    model = lca.load(model_path)
    expected = model.distal_means(
        data[["AGE", "EDUC"]], data=data.drop(columns="wt"), weights=data["wt"], missing="omit"
    ).means
    np.testing.assert_allclose(table.to_numpy(), expected.to_numpy(), rtol=1e-9)
    assert main(["distal", str(model_path), str(path), "--outcomes", "INCOME"]) == 2
    assert "no column(s) ['INCOME']" in capsys.readouterr().err


def test_distal_categorical_writes_the_ml_proportions(election_files, tmp_path, capsys):
    path, model_path, data = election_files
    out_path = tmp_path / "proportions.csv"
    args = ["distal", str(model_path), str(path), "--outcomes", "PARTY,GENDER", "--categorical",
            "--weights", "wt", "--omit-missing", "--out", str(out_path)]  # fmt: skip
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "correction=ml" in printed and "Wald tests of equal distributions" in printed
    table = pd.read_csv(out_path, index_col=[0, 1, 2])
    model = lca.load(model_path)
    expected = model.distal_proportions(
        data[["PARTY", "GENDER"]], data=data.drop(columns="wt"), weights=data["wt"],
        missing="omit",
    ).proportions  # fmt: skip
    assert len(table) == len(expected) == (7 + 2) * len(model.classes_)
    np.testing.assert_allclose(table.to_numpy(), expected.to_numpy(), rtol=1e-9)


def test_regress_then_assign_with_the_covariates(tmp_path, capsys):
    """lca regress fits a latent class regression from a CSV (a numeric covariate and
    codes that are categories), writes the model and the coefficients; lca assign then
    reads the covariates from the data by the model's names, as the Python API does."""
    df = lca.datasets.load_election()
    has = df["PARTY"].notna()
    data = df.loc[has, [*df.columns[:6], "PARTY"]].reset_index(drop=True)
    data["region"] = np.arange(len(data)) % 3 + 1  # codes 1, 2, 3
    path = tmp_path / "election.csv"
    data.to_csv(path, index=False)
    model_path, coef_path = tmp_path / "r.json", tmp_path / "coef.csv"
    assert main(["regress", str(path), "--classes", "2", "--covariates", "PARTY,region",
                 "--categorical", "region", "--starts", "4", "--out", str(model_path),
                 "--coefficients", str(coef_path)]) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert "Latent class regression: 2 classes" in out and "region[2]" in out
    model = lca.load(model_path)
    assert model.design_.variables == ("PARTY", "region")
    coef = pd.read_csv(coef_path)
    np.testing.assert_allclose(coef["coef"], model.coefficients_["coef"], rtol=1e-12)
    assigned_path = tmp_path / "assigned.csv"
    assert main(["assign", str(model_path), str(path), "--out", str(assigned_path)]) == 0
    assigned = pd.read_csv(assigned_path)
    covariates = data[["PARTY"]].assign(region=pd.Categorical(data["region"]))
    expected = model.predict_proba(data.iloc[:, :6], covariates)
    np.testing.assert_allclose(
        assigned[["posterior_1", "posterior_2"]].to_numpy(), expected.to_numpy(), rtol=1e-9
    )
    # the covariates must be there, and no column can be both
    data.drop(columns="region").to_csv(tmp_path / "no_cov.csv", index=False)
    assert main(["assign", str(model_path), str(tmp_path / "no_cov.csv")]) == 2
    assert "covariates of the model" in capsys.readouterr().err
    assert main(["regress", str(path), "--classes", "2", "--covariates", "AGE",
                 "--out", str(model_path)]) == 2  # fmt: skip
    assert "no column(s) ['AGE']" in capsys.readouterr().err


def test_regress_with_design_based_standard_errors(tmp_path, capsys):
    df = lca.datasets.load_election()
    has = df["PARTY"].notna()
    data = df.loc[has, [*df.columns[:6], "PARTY"]].reset_index(drop=True)
    rng = np.random.default_rng(4)
    data["stratum"] = rng.choice(["a", "b"], len(data))
    data["psu"] = rng.integers(1, 16, len(data))
    path = tmp_path / "election.csv"
    data.to_csv(path, index=False)
    coef_path = tmp_path / "coef.csv"
    assert main(["regress", str(path), "--classes", "2", "--covariates", "PARTY",
                 "--starts", "4", "--out", str(tmp_path / "r.json"), "--coefficients",
                 str(coef_path), "--se-method", "design", "--stratum", "stratum",
                 "--cluster", "psu"]) == 0  # fmt: skip
    model = lca.load(tmp_path / "r.json")
    assert [ind.name for ind in model.indicators_] == list(data.columns[:6])
    expected = lca.LatentClassRegression(2, se_method="design", n_starts=4).fit(
        data, "PARTY", strata="stratum", clusters="psu"
    )
    # (the data read from the CSV reach the maximum by another path: EM's tolerance)
    np.testing.assert_allclose(pd.read_csv(coef_path)["se"], expected.coefficients_["se"],
                               rtol=1e-6)  # fmt: skip
    capsys.readouterr()
    assert main(["regress", str(path), "--classes", "2-3", "--covariates", "PARTY",
                 "--starts", "4", "--out", str(tmp_path / "many"), "--se-method", "design",
                 "--cluster", "psu"]) == 0  # fmt: skip
    assert lca.load(tmp_path / "many" / "regression_3.json").se_method == "design"
    assert main(["regress", str(path), "--classes", "2", "--covariates", "PARTY",
                 "--out", str(tmp_path / "x.json"), "--stratum", "stratum"]) == 2  # fmt: skip
    assert "add --se-method design" in capsys.readouterr().err


def test_assign_with_dask_takes_a_regression_and_reads_its_covariates(tmp_path):
    """assign --dask reads each partition's covariates as read_table reads the whole
    file (a number column, and codes that are categories), so it writes what the
    in-memory assign writes, to the last digit."""
    pytest.importorskip("dask.dataframe")
    df = lca.datasets.load_election()
    has = df["PARTY"].notna()
    data = df.loc[has, [*df.columns[:6], "PARTY"]].reset_index(drop=True)
    data["region"] = np.where(np.arange(len(data)) % 3 == 0, "north", "south")
    data["year"] = 1990 + np.arange(len(data)) % 7
    data.to_csv(tmp_path / "full.csv", index=False)
    half = len(data) // 2
    data.iloc[:half].to_csv(tmp_path / "part1.csv", index=False)
    data.iloc[half:].to_csv(tmp_path / "part2.csv", index=False)
    model_path = tmp_path / "r.json"
    assert main(["regress", str(tmp_path / "full.csv"), "--classes", "2", "--covariates",
                 "PARTY,region,year", "--categorical", "year", "--starts", "2",
                 "--out", str(model_path)]) == 0  # fmt: skip
    plain = assert_dask_assign_is_the_plain_one(model_path, tmp_path)
    model = lca.load(model_path)
    covariates = data[["PARTY", "region"]].assign(year=pd.Categorical(data["year"]))
    expected = model.predict_proba(data.iloc[:, :6], covariates)
    got = plain[["posterior_1", "posterior_2"]].astype(float).to_numpy()
    np.testing.assert_allclose(got, expected.to_numpy(), rtol=1e-9)


def test_fit_with_bootstrap_gof_prints_the_p_values_the_api_gives(survey_csv, tmp_path, capsys):
    path, data = survey_csv
    cols = "PURPOSE,ACCURACY,UNDERSTA,COOPERAT"
    model_path = tmp_path / "m.json"
    assert main(["fit", str(path), "--columns", cols, "--weights", "wt", "--classes", "2",
                 "--starts", "3", "--seed", "4", "--out", str(model_path),
                 "--bootstrap-gof", "9"]) == 0  # fmt: skip
    out = capsys.readouterr().out
    items = pd.read_csv(path)[cols.split(",")]
    model = lca.LatentClassModel(2, n_starts=3, random_state=4).fit(items, weights=data["wt"])
    result = model.bootstrap_gof(9, weights=data["wt"].to_numpy(float), random_state=4)
    assert f"L2 {result.L2:12.2f}   bootstrap p {result.p_L2:.4f}" in out
    assert f"X2 {result.X2:12.2f}   bootstrap p {result.p_X2:.4f}" in out
    assert main(["fit", str(path), "--classes", "2", "--out", str(model_path),
                 "--bootstrap-gof", "-1"]) == 2  # fmt: skip
    assert "--bootstrap-gof -1" in capsys.readouterr().err


def test_regress_with_a_range_of_classes_writes_the_table_and_each_model(tmp_path, capsys):
    df = lca.datasets.load_election()
    has = df["PARTY"].notna()
    data = df.loc[has, [*df.columns[:6], "PARTY"]].reset_index(drop=True)
    path = tmp_path / "election.csv"
    data.to_csv(path, index=False)
    out = tmp_path / "models"
    assert main(["regress", str(path), "--classes", "2-3", "--covariates", "PARTY",
                 "--starts", "2", "--out", str(out)]) == 0  # fmt: skip
    printed = capsys.readouterr().out
    table = pd.read_csv(out / "comparison.csv", index_col=0)
    assert list(table.index) == [2, 3] and "Lowest BIC" in printed
    read = pd.read_csv(path)
    expected = lca.compare_regressions(
        read.iloc[:, :6], read[["PARTY"]], [2, 3], n_starts=2, random_state=0
    )
    for k in (2, 3):
        model = lca.load(out / f"regression_{k}.json")
        assert model.loglik_ == pytest.approx(expected.models[k].loglik_, rel=1e-12)
        assert table.loc[k, "bic"] == pytest.approx(expected.table.loc[k, "bic"], rel=1e-12)
        assert table.loc[k, "max_bvr"] == pytest.approx(expected.table.loc[k, "max_bvr"])
    argv = ["regress", str(path), "--classes", "2-3", "--covariates", "PARTY", "--out", str(out)]
    assert main([*argv, "--coefficients", str(tmp_path / "c.csv")]) == 2
    assert "--coefficients takes one number of classes" in capsys.readouterr().err
    assert main(["regress", str(path), "--classes", "1-3", "--covariates", "PARTY",
                 "--out", str(out)]) == 2  # fmt: skip
    assert "needs 2 or more" in capsys.readouterr().err


def test_assign_with_dask_names_the_partition_of_a_bad_row(tmp_path, capsys):
    pytest.importorskip("dask.dataframe")
    df = lca.datasets.load_election()
    has = df["PARTY"].notna()
    data = df.loc[has, [*df.columns[:6], "PARTY"]].reset_index(drop=True).iloc[:60]
    data.to_csv(tmp_path / "full.csv", index=False)
    model_path = tmp_path / "r.json"
    assert main(["regress", str(tmp_path / "full.csv"), "--classes", "2", "--covariates",
                 "PARTY", "--starts", "1", "--out", str(model_path)]) == 0  # fmt: skip
    capsys.readouterr()
    bad = data.astype({"PARTY": object})
    bad.loc[35, "PARTY"] = None
    bad.iloc[:30].to_csv(tmp_path / "p1.csv", index=False)
    bad.iloc[30:].to_csv(tmp_path / "p2.csv", index=False)
    argv = ["assign", str(model_path), str(tmp_path / "p*.csv"), "--dask"]
    assert main([*argv, "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "'PARTY' is missing in 1 row(s), the first at row 5" in err
    assert "in partition 1 of the input" in err
    assert "--drop-missing" not in err  # an option of lca covariates, not of assign


def test_fit_prints_the_indicator_tests_the_api_gives(survey_csv, tmp_path, capsys):
    path, _ = survey_csv
    cols = "PURPOSE,ACCURACY,UNDERSTA,COOPERAT"
    assert main(["fit", str(path), "--columns", cols, "--classes", "2", "--starts", "3",
                 "--out", str(tmp_path / "m.json"), "--indicator-tests"]) == 0  # fmt: skip
    out = capsys.readouterr().out
    items = pd.read_csv(path)[cols.split(",")]
    tests = lca.LatentClassModel(2, n_starts=3, random_state=0).fit(items).indicator_tests()
    assert "Wald test that the classes answer alike" in out
    for name, row in tests.iterrows():
        line = next(t for t in out.splitlines() if t.startswith(name))
        assert f"{row['wald']:.4g}" in line and f"{row['r2']:.4g}" in line


def test_fit_with_a_direct_effect_then_assign(survey_csv, tmp_path, capsys):
    path, _ = survey_csv
    model_path = tmp_path / "de.json"
    cols = "PURPOSE,ACCURACY,UNDERSTA,COOPERAT"
    assert main(["fit", str(path), "--columns", cols, "--weights", "wt", "--classes", "2",
                 "--starts", "4", "--direct-effect", "UNDERSTA,COOPERAT",
                 "--out", str(model_path)]) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert "direct effects against none: LR" in out
    assert "direct effect UNDERSTA x COOPERAT" in out
    assert "standard errors:" in out and "Wald tests of the direct effects:" in out
    model = lca.load(model_path)
    assert isinstance(model, lca.DirectEffectsModel)
    frame = pd.read_csv(path)
    same = lca.DirectEffectsModel(2, [("UNDERSTA", "COOPERAT")], n_starts=4, ordinal=[]).fit(
        frame[cols.split(",")], weights=frame["wt"]
    )
    assert model.loglik_ == pytest.approx(same.loglik_, rel=1e-12)
    out_path = tmp_path / "assigned.csv"
    assert main(["assign", str(model_path), str(path), "--out", str(out_path)]) == 0
    assigned = pd.read_csv(out_path)
    assert assigned["class"].tolist() == model.predict(frame).tolist()
    # two pairs: each effect's likelihood-ratio test too
    assert main(["fit", str(path), "--columns", cols, "--classes", "2", "--starts", "2",
                 "--direct-effect", "UNDERSTA,COOPERAT", "--direct-effect", "PURPOSE,ACCURACY",
                 "--out", str(tmp_path / "two.json")]) == 0  # fmt: skip
    assert "likelihood-ratio test of each direct effect" in capsys.readouterr().out
    # the profile with its standard errors (observed information only)
    profile_path = tmp_path / "p.csv"
    assert main(["fit", str(path), "--columns", cols, "--weights", "wt", "--classes", "2",
                 "--starts", "4", "--direct-effect", "UNDERSTA,COOPERAT", "--profile",
                 str(profile_path), "--out", str(model_path)]) == 0  # fmt: skip
    capsys.readouterr()
    written = pd.read_csv(profile_path)
    model = lca.load(model_path)
    se = model.standard_errors(data=frame, weights=frame["wt"])
    np.testing.assert_allclose(written["1_se"].to_numpy(), se.to_frame()[(1, "se")].to_numpy())
    # options that need what the model does not have yet are refused
    assert main(["fit", str(path), "--columns", cols, "--classes", "2", "--profile",
                 str(profile_path), "--direct-effect", "UNDERSTA,COOPERAT", "--se-method",
                 "robust", "--out", str(model_path)]) == 2  # fmt: skip
    assert "--se-method hessian only" in capsys.readouterr().err
    assert main(["fit", str(path), "--columns", cols, "--classes", "2", "--indicator-tests",
                 "--direct-effect", "UNDERSTA,COOPERAT",
                 "--out", str(model_path)]) == 2  # fmt: skip
    assert "does not go with --indicator-tests" in capsys.readouterr().err


def test_compare_with_a_direct_effect(survey_csv, tmp_path, capsys):
    path, _ = survey_csv
    cols = "PURPOSE,ACCURACY,UNDERSTA,COOPERAT"
    out = tmp_path / "models"
    assert main(["compare", str(path), "--columns", cols, "--classes", "1-2", "--starts", "2",
                 "--direct-effect", "UNDERSTA,COOPERAT", "--out", str(out),
                 "--quiet"]) == 0  # fmt: skip
    assert "Every model has direct effects for UNDERSTA x COOPERAT." in capsys.readouterr().out
    assert isinstance(lca.load(out / "model_2.json"), lca.DirectEffectsModel)
    table = pd.read_csv(out / "comparison.csv", index_col=0)
    frame = pd.read_csv(path)
    alone = lca.DirectEffectsModel(2, [("UNDERSTA", "COOPERAT")], n_starts=2, ordinal=[])
    assert table.loc[2, "loglik"] == pytest.approx(alone.fit(frame[cols.split(",")]).loglik_)
    capsys.readouterr()
    assert main(["compare", str(path), "--columns", cols, "--classes", "1-2",
                 "--merge-starts", "--direct-effect", "UNDERSTA,COOPERAT",
                 "--quiet"]) == 2  # fmt: skip
    assert "does not go with --merge-starts" in capsys.readouterr().err


def test_groups_writes_the_table_and_models_that_assign_reads(tmp_path, capsys):
    """lca groups fits the multiple-group sequence from a CSV (the group a column of
    text, weights a column); its table and models are compare_groups'; lca assign
    reads each row's group from the data by the model's group name."""
    df = lca.datasets.load_election()
    data = df.loc[df["GENDER"].notna(), [*df.columns[:4], "GENDER"]].reset_index(drop=True)
    data["GENDER"] = data["GENDER"].map({1.0: "men", 2.0: "women"})
    data["w"] = np.random.default_rng(0).uniform(0.5, 2.0, len(data)).round(3)
    path = tmp_path / "election.csv"
    data.to_csv(path, index=False)
    out = tmp_path / "res"
    assert main(["groups", str(path), "--group", "GENDER", "--classes", "2", "--weights", "w",
                 "--free", "MORALG", "--starts", "4", "--bayes-constant", "0",
                 "--out", str(out)]) == 0  # fmt: skip
    assert "free: MORALG, CARESG" in capsys.readouterr().out
    table = pd.read_csv(out / "comparison.csv", index_col="model")
    data = pd.read_csv(path)  # the answers as text, their categories in text order
    expected = lca.compare_groups(
        data.drop(columns=["w", "GENDER"]), data["GENDER"], 2, weights=data["w"],
        free=["MORALG"], n_starts=4, bayes_constant=0,
    )  # fmt: skip
    assert list(table.index) == list(expected.table.index)
    np.testing.assert_allclose(table["loglik"], expected.table["loglik"], rtol=1e-10)
    np.testing.assert_allclose(table["lr_p"].iloc[1:], expected.table["lr_p"].iloc[1:])
    model_file = out / table.loc["free: MORALG", "file"]
    assigned_path = tmp_path / "assigned.csv"
    assert main(["assign", str(model_file), str(path), "--out", str(assigned_path)]) == 0
    assigned = pd.read_csv(assigned_path)
    post = expected.models["free: MORALG"].predict_proba(data, "GENDER")
    np.testing.assert_allclose(
        assigned[["posterior_1", "posterior_2"]].to_numpy(), post.to_numpy(), atol=1e-12
    )
    assert main(["assign", str(model_file), str(tmp_path / "nogroup.csv")]) == 2
    data.drop(columns="GENDER").to_csv(tmp_path / "nogroup.csv", index=False)
    assert main(["assign", str(model_file), str(tmp_path / "nogroup.csv")]) == 2
    assert "no column 'GENDER', the group of the model" in capsys.readouterr().err
    assert main(["groups", str(path), "--group", "sex", "--classes", "2"]) == 2
    assert "no group column 'sex'" in capsys.readouterr().err
    assert main(["groups", str(path), "--group", "GENDER", "--classes", "2", "--weights", "w",
                 "--uniform", "--no-each", "--starts", "2"]) == 0  # fmt: skip
    printed = capsys.readouterr().out
    assert "uniform: MORALG" in printed and "uniform: KNOWG" in printed
    assert "free: MORALG" not in printed  # --no-each
