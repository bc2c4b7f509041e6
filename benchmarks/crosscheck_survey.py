"""Design-based standard errors of ``lca`` against survey software, on one simulated sample.

Where the three-step estimators reduce to textbook survey estimators, they are
compared with peers that compute those (optional: ``pip install samplics
statsmodels``; each comparison is skipped, with a note, if its peer is absent):

- ``distal_means(correction="none", assignment="modal", se_method="design")``
  is the weighted mean of the outcome within each modal class, a domain mean:
  samplics' ``TaylorEstimator`` (mean, with ``domain=`` the modal class), also
  with a finite population correction;
- ``distal_proportions`` likewise, a domain proportion;
- ``covariate_effects(correction="none", assignment="modal")`` is a multinomial
  logit of the modal class: statsmodels' ``MNLogit`` with cluster-robust
  covariance (unit weights, clusters without strata; statsmodels without its
  small-sample correction, times G / (G - 1), lca's factor).

The sample: 4 strata of 8-12 clusters of 6-18 respondents, lognormal weights
(twice as large in one stratum), 5 binary indicators from 2 classes, a
numeric outcome and a 3-category one with cluster effects.

    python benchmarks/crosscheck_survey.py [--out results/survey_crosscheck.json]
"""

from __future__ import annotations

import argparse
import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import lca

ITEMS = [f"q{j}" for j in range(5)]


def sample(seed: int = 0) -> pd.DataFrame:
    """A stratified cluster sample with unequal weights and cluster effects."""
    rng = np.random.default_rng(seed)
    frames = []
    for h in range(4):
        for c in range(int(rng.integers(8, 13))):
            m = int(rng.integers(6, 19))
            share = np.clip(rng.normal(0.35 + 0.1 * h, 0.2), 0.05, 0.95)
            first = rng.random(m) < share
            p = np.where(first[:, None], 0.8, 0.2)
            frame = pd.DataFrame((rng.random((m, 5)) < p).astype(int), columns=ITEMS)
            effect = rng.normal()
            frame["y"] = first + effect + rng.normal(size=m)
            frame["c"] = np.array(["a", "b", "c"])[np.digitize(frame["y"], [0.0, 1.0])]
            frame["x"] = effect + rng.normal(size=m)
            frame["stratum"], frame["psu"] = f"S{h}", c + 1  # PSUs numbered within strata
            frame["w"] = rng.lognormal(0.0, 0.4, m) * (2.0 if h == 3 else 1.0)
            frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def rel(a, b) -> float:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.max(np.abs(a / b - 1.0)))


def against_samplics(df, model, out: dict) -> None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # "samplics is archived"
            from samplics import PopParam, TaylorEstimator
    except ImportError as exc:
        out["samplics"] = f"skipped: {exc}"
        return
    domain = model.predict(df[ITEMS]).to_numpy()
    psu = (df["stratum"] + "/" + df["psu"].astype(str)).to_numpy()
    design = dict(data=df, weights="w", correction="none", assignment="modal",
                  se_method="design", strata="stratum", clusters="psu")  # fmt: skip
    means = model.distal_means("y", **design).means
    peer = TaylorEstimator(PopParam.mean)
    peer.estimate(y=df["y"].to_numpy(), samp_weight=df["w"].to_numpy(),
                  stratum=df["stratum"].to_numpy(), psu=psu, domain=domain)  # fmt: skip
    k = list(model.classes_)
    out["domain_means"] = {
        "max_rel_diff_estimate": rel(means["mean"], [peer.point_est[s] for s in k]),
        "max_rel_diff_se": rel(means["se"], [peer.stderror[s] for s in k]),
    }
    # with a finite population correction: N_h = 1.5, 3, 10 and 1.1 times the PSUs sampled
    # (samplics' fpc= is 1 - f per stratum, lca's the population's number of PSUs)
    n_h = df.groupby("stratum")["psu"].nunique()
    population = n_h * pd.Series([1.5, 3.0, 10.0, 1.1], index=n_h.index)
    fpc_means = model.distal_means("y", fpc=df["stratum"].map(population).to_numpy(), **design)
    peer = TaylorEstimator(PopParam.mean)
    peer.estimate(y=df["y"].to_numpy(), samp_weight=df["w"].to_numpy(),
                  stratum=df["stratum"].to_numpy(), psu=psu, domain=domain,
                  fpc=(1.0 - n_h / population).to_dict())  # fmt: skip
    out["domain_means_fpc"] = {
        "max_rel_diff_estimate": rel(fpc_means.means["mean"], [peer.point_est[s] for s in k]),
        "max_rel_diff_se": rel(fpc_means.means["se"], [peer.stderror[s] for s in k]),
        "se_ratio_to_without_fpc": float(np.max(fpc_means.means["se"] / means["se"])),
    }
    props = model.distal_proportions("c", **design).proportions
    peer = TaylorEstimator(PopParam.prop)
    peer.estimate(y=df["c"].to_numpy(), samp_weight=df["w"].to_numpy(),
                  stratum=df["stratum"].to_numpy(), psu=psu, domain=domain)  # fmt: skip
    keys = [(cat, s) for cat in ("a", "b", "c") for s in k]
    out["domain_proportions"] = {
        "max_rel_diff_estimate": rel(
            [props.loc[("c", cat, s), "proportion"] for cat, s in keys],
            [peer.point_est[s][cat] for cat, s in keys],
        ),
        "max_rel_diff_se": rel(
            [props.loc[("c", cat, s), "se"] for cat, s in keys],
            [peer.stderror[s][cat] for cat, s in keys],
        ),
    }


def against_statsmodels(df, model, out: dict) -> None:
    try:
        import statsmodels.api as sm
    except ImportError as exc:
        out["statsmodels"] = f"skipped: {exc}"
        return
    psu = (df["stratum"] + "/" + df["psu"].astype(str)).to_numpy()
    effects = model.covariate_effects("x", data=df, correction="none", assignment="modal",
                                      se_method="design", clusters=psu)  # fmt: skip
    assigned = model.predict(df[ITEMS]).to_numpy() - 1  # class 1, the reference, is code 0
    z = sm.add_constant(df[["x"]].to_numpy())
    fit = sm.MNLogit(assigned, z).fit(
        disp=0, method="newton", maxiter=100, cov_type="cluster",
        cov_kwds={"groups": pd.factorize(psu)[0], "use_correction": False},
    )  # fmt: skip
    g = len(np.unique(psu))
    se_peer = np.sqrt(g / (g - 1.0)) * np.asarray(fit.bse).T.ravel()
    coef_peer = np.asarray(fit.params).T.ravel()
    out["multinomial_logit_clusters"] = {
        "max_rel_diff_estimate": rel(effects.coefficients["coef"], coef_peer),
        "max_rel_diff_se": rel(effects.coefficients["se"], se_peer),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=None, help="JSON file of the results")
    args = parser.parse_args()
    df = sample()
    model = lca.LatentClassModel(2, n_starts=4, random_state=0).fit(df[ITEMS])
    out = {
        "n": len(df),
        "strata": int(df["stratum"].nunique()),
        "psu": int((df["stratum"] + "/" + df["psu"].astype(str)).nunique()),
    }
    against_samplics(df, model, out)
    against_statsmodels(df, model, out)
    print(json.dumps(out, indent=1))
    if args.out:
        Path(args.out).write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
