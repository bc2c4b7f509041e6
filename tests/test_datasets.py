"""The shipped data sets load with their documented shapes and labels."""

import pytest

import lca

SHAPES = {
    "gss82": (1202, 4),
    "values": (216, 4),
    "carcinoma": (118, 7),
    "election": (1785, 17),
    "cheating": (319, 5),
}


@pytest.mark.parametrize(("name", "shape"), SHAPES.items())
def test_loaders(name, shape):
    df = getattr(lca.datasets, f"load_{name}")()
    assert df.shape == shape
    raw = getattr(lca.datasets, f"load_{name}")(as_codes=True)
    assert raw.shape == shape


def test_labels_and_missing():
    gss = lca.datasets.load_gss82()
    assert list(gss["PURPOSE"].cat.categories) == ["Good", "Depends", "Waste of time and money"]
    assert (
        gss["PURPOSE"].value_counts()["Good"]
        == (lca.datasets.load_gss82(True)["PURPOSE"] == 1).sum()
    )
    election = lca.datasets.load_election()
    items = election.columns[:12]
    assert int(election[items].isna().any(axis=1).sum()) == 474
    assert int(election["INTELG"].isna().sum()) == 49


def test_the_data_readme_with_sources_and_licence_ships_with_the_files():
    from importlib import resources

    folder = resources.files("lca.datasets").joinpath("data")
    readme = folder.joinpath("README.md").read_text(encoding="utf-8")
    assert "GPL >= 2" in readme and "Linzer" in readme
    for name in ("gss82", "values", "carcinoma", "election", "cheating"):
        assert f"## {name}.csv" in readme  # every shipped file is described
        assert folder.joinpath(f"{name}.csv").is_file()
