"""Classic latent class data sets with published results, shipped with ``lca``.

Five data sets distributed with the R package poLCA (Linzer & Lewis 2011,
*Journal of Statistical Software* 42(10); the package is GPL >= 2), with
their original coding 1..C_j turned into labelled, ordered pandas
Categoricals (the codes' order is kept). Sources are in each loader's
docstring; the files' coding, sources and origin are in ``data/README.md``
beside them (shipped with the package). ``as_codes=True`` returns poLCA's
integer codes instead.

Every loader takes ``as_codes`` (bool, default False) and returns a
``pandas.DataFrame`` with one row per respondent: the items as ordered
Categoricals (NaN where missing), or with ``as_codes=True`` as poLCA's codes
1..C_j (float columns where answers are missing, int otherwise). Covariates
(election's VOTE3, AGE, EDUC, GENDER, PARTY; cheating's GPA) stay numeric
codes either way.
"""

from __future__ import annotations

from importlib import resources

import pandas as pd

__all__ = ["load_carcinoma", "load_cheating", "load_election", "load_gss82", "load_values"]

_AGREE4 = ["Extremely well", "Quite well", "Not too well", "Not well at all"]

_LABELS = {
    "gss82": {
        "PURPOSE": ["Good", "Depends", "Waste of time and money"],
        "ACCURACY": ["Mostly true", "Not true"],
        "UNDERSTA": ["Good", "Fair/Poor"],
        "COOPERAT": ["Interested", "Cooperative", "Impatient/hostile"],
    },
    "values": {c: ["Particularistic", "Universalistic"] for c in "ABCD"},
    "carcinoma": {c: ["No", "Yes"] for c in "ABCDEFG"},
    "election": {
        f"{trait}{who}": _AGREE4
        for who in "GB"
        for trait in ("MORAL", "CARES", "KNOW", "LEAD", "DISHON", "INTEL")
    },
    "cheating": {c: ["No", "Yes"] for c in ("LIEEXAM", "LIEPAPER", "FRAUD", "COPYEXAM")},
}


def _load(name: str, as_codes: bool) -> pd.DataFrame:
    with resources.files(__package__).joinpath("data", f"{name}.csv").open("rb") as fh:
        df = pd.read_csv(fh)
    if as_codes:
        return df
    for col, labels in _LABELS[name].items():
        codes = df[col].fillna(0).astype(int) - 1  # -1 = missing
        df[col] = pd.Categorical.from_codes(codes, categories=labels, ordered=True)
    return df


def load_gss82(as_codes: bool = False) -> pd.DataFrame:
    """Attitudes towards survey taking: 1,202 respondents of the 1982 GSS.

    Four items: PURPOSE (Good, Depends, Waste of time and money), ACCURACY
    (Mostly true, Not true), UNDERSTA (Good, Fair/Poor), COOPERAT
    (Interested, Cooperative, Impatient/hostile). Source: McCutcheon (1987),
    *Latent Class Analysis*, Table 3.1. Maximum-likelihood log-likelihoods
    for 2, 3, 4 classes: -2783.268, -2754.545, -2746.621 (poLCA).
    """
    return _load("gss82", as_codes)


def load_values(as_codes: bool = False) -> pd.DataFrame:
    """Universalistic vs particularistic values: 216 respondents, items A-D.

    Source: Goodman (1974, 2002); Stouffer & Toby (1951).
    """
    return _load("values", as_codes)


def load_carcinoma(as_codes: bool = False) -> pd.DataFrame:
    """Seven pathologists' ratings (A-G: No/Yes carcinoma) of 118 slides.

    Source: Agresti (2002), *Categorical Data Analysis*, Table 13.1.
    """
    return _load("carcinoma", as_codes)


def load_election(as_codes: bool = False) -> pd.DataFrame:
    """2000 American National Election Study: 1,785 respondents.

    Twelve items on how well traits describe Gore (suffix G) and Bush
    (suffix B), with missing answers (474 rows miss at least one item), and
    numeric covariates VOTE3, AGE, EDUC, GENDER, PARTY. Source: The National
    Election Studies, *The 2000 National Election Study* [dataset], University
    of Michigan, Center for Political Studies.
    """
    return _load("election", as_codes)


def load_cheating(as_codes: bool = False) -> pd.DataFrame:
    """Academic cheating: 319 students, four No/Yes items and GPA group.

    Source: Dayton (1998), *Latent Class Scaling Analysis*, Tables 3.4, 7.1.
    """
    return _load("cheating", as_codes)
