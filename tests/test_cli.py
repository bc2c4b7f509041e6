"""The command line, in-process and once through a subprocess."""

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import lca
from lca.cli import main


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
    ("argv", "message"),
    [
        (["fit", "nope.csv", "--classes", "2", "--out", "m.json"], "nope.csv: no such file"),
        (["fit", "{csv}", "--columns", "PURPOSE,NOPE", "--classes", "2", "--out", "m.json"],
         "no column(s) ['NOPE']"),
        (["fit", "{csv}", "--classes", "two", "--out", "m.json"], "--classes 'two'"),
        (["assign", "{csv}", "{csv}"], "not valid JSON"),
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


def test_demo_runs_in_a_subprocess():
    result = subprocess.run(
        [sys.executable, "-m", "lca.cli", "demo"], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    assert "Lowest BIC: 3 classes" in result.stdout
