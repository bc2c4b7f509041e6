"""Rebuild docs/model_selection.md and its figures from a real run.

    python docs/build_docs.py            # about 5 minutes on 2 cores

The models and tests are kept in a temporary folder (``checkpoint_dir``), so
a second run, or one resumed after an interruption, takes seconds.

Fits 2 to 10 classes to the 2000 election study (12 items, missing answers)
with the bootstrap likelihood ratio test (99 samples per test), and writes the
comparison table, the chosen model's profile and the criteria plot.
"""

from __future__ import annotations

import platform
import tempfile
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd

import lca

matplotlib.use("Agg")
import matplotlib.pyplot as plt

DOCS = Path(__file__).resolve().parent
TRAITS = ["MORAL", "CARES", "KNOW", "LEAD", "DISHON", "INTEL"]
OPTIONS = dict(n_starts=16, random_state=0, n_jobs=2)
BLRT = dict(blrt=True, n_bootstrap=99, bootstrap_starts=8)


def markdown(frame: pd.DataFrame, index_name: str) -> str:
    """A DataFrame of strings as a GitHub markdown table."""
    header = [index_name, *map(str, frame.columns)]
    lines = ["| " + " | ".join(header) + " |", "|" + "---:|" * len(header)]
    for idx, row in frame.iterrows():
        lines.append("| " + " | ".join([str(idx), *row.tolist()]) + " |")
    return "\n".join(lines)


def main() -> None:
    election = lca.datasets.load_election()
    items = [f"{t}{who}" for who in "GB" for t in TRAITS]
    answers = election[items]
    # a rerun reuses the finished models and tests
    cache = Path(tempfile.gettempdir()) / "lca_docs_election_models"
    res = lca.compare(answers, range(2, 11), progress=True, checkpoint_dir=cache, **OPTIONS, **BLRT)
    summary = res.summary()
    table = res.table
    usable = table[(table["min_avepp"] >= 0.8) & (table["smallest_class"] >= 0.05)]
    k = int(usable["bic"].idxmin())
    # a model reused from the cache keeps no data: fit it again (same options, same result)
    model = lca.LatentClassModel(k, **OPTIONS).fit(answers)
    assert model.loglik_ == res.models[k].loglik_

    fig = model.plot_profile(kind="bars")
    fig.savefig(DOCS / "profile.png", dpi=90)
    plt.close(fig)
    fig = model.plot_profile(kind="heatmap")
    fig.savefig(DOCS / "profile_heatmap.png", dpi=90)
    plt.close(fig)
    fig = res.plot()
    fig.savefig(DOCS / "criteria.png", dpi=90)
    plt.close(fig)

    bvr = model.bivariate_residuals()
    pairs = bvr.where(np.triu(np.ones(bvr.shape, dtype=bool), k=1)).stack().dropna()
    pairs = pairs.sort_values(ascending=False)
    flagged = pairs[pairs > 3.84]
    top = ", ".join(f"{a}-{b} ({v:.1f})" for (a, b), v in pairs.head(3).items())
    # the bootstrap gives every BVR (and L2, X2) its own reference distribution
    gof = model.bootstrap_gof(99, random_state=0, n_jobs=2, bootstrap_starts=8)
    gof_pairs = gof.pairs()
    n_gof = int((gof_pairs["p_value"] <= 0.05).sum())
    significant = gof_pairs["p_value"] <= 0.05
    above = gof_pairs["bvr"] > 3.84
    gof_split = (
        f"{int((significant & above).sum())} of the {int(above.sum())} above 3.84 and "
        f"{int((significant & ~above).sum())} below it"
    )
    # Latent GOLD's remedy: direct effects for the three disjoint pairs of largest BVR
    de_pairs: list = []
    for a, b in pairs.index:
        if len(de_pairs) < 3 and not {a, b} & {i for p in de_pairs for i in p}:
            de_pairs.append((a, b))
    direct = lca.DirectEffectsModel(k, de_pairs, **OPTIONS).fit(answers)
    direct_bvr = direct.bivariate_residuals().to_numpy()
    direct_bvr = direct_bvr[np.triu_indices_from(direct_bvr, k=1)]
    blrt_p = table["blrt_p"]
    first_kept = next((j - 1 for j in table.index[1:] if blrt_p[j] > 0.05), None)
    sizes = ", ".join(f"{100 * s:.0f}%" for s in model.class_sizes_)

    text = TEMPLATE.format(
        table=markdown(summary.formatted("Model comparison"), "classes"),
        sizes=markdown(summary.formatted("Class sizes (%)"), "classes"),
        best_bic=res.best("bic"),
        best_caic=res.best("caic"),
        best_aic=res.best("aic"),
        best_aic3=res.best("aic3"),
        k=k,
        k_avepp=f"{table.loc[k, 'min_avepp']:.2f}",
        k_small=f"{100 * table.loc[k, 'smallest_class']:.1f}",
        n_flagged=len(flagged),
        n_pairs=len(pairs),
        top=top,
        blrt_sentence=(
            f"the first K whose test against K+1 is not significant (p > 0.05) is {first_kept}"
            if first_kept is not None
            else "every test, up to 9 against 10 classes, is significant (p <= 0.05)"
        ),
        sizes_k=sizes,
        n_gof=n_gof,
        gof_split=gof_split,
        gof_l2=f"{gof.p_L2:.2f}",
        gof_x2=f"{gof.p_X2:.2f}",
        de_pairs=", ".join(f"{a}-{b}" for a, b in de_pairs),
        de_bic=f"{direct.fit_stats()['bic']:.1f}",
        k_bic=f"{table.loc[k, 'bic']:.1f}",
        de_flagged=int(np.sum(direct_bvr > 3.84)),
        de_lr=f"{direct.likelihood_ratio_test()['lr']:.1f}",
        de_df=int(direct.likelihood_ratio_test()["df"]),
        version=lca.__version__,
        python=platform.python_version(),
        options=", ".join(f"{k}={v!r}" for k, v in {**OPTIONS, **BLRT}.items()),
    )
    (DOCS / "model_selection.md").write_text(text, encoding="utf-8")
    print(text)


TEMPLATE = """# Choosing the number of classes

This page shows a real model selection with `lca`: the 2000 American National
Election Study shipped as `lca.datasets.load_election()` (1,785 respondents;
12 items on how well six traits describe Al Gore, suffix G, and George W.
Bush, suffix B; 474 respondents miss at least one answer, and keep their
other answers in the likelihood). Everything on this page, numbers and
figures, is written by [`docs/build_docs.py`](build_docs.py) (lca {version},
Python {python}; about 5 minutes on 2 cores).

```python
import lca

answers = lca.datasets.load_election().iloc[:, :12]
res = lca.compare(answers, range(2, 11), n_starts=16, random_state=0, n_jobs=2,
                  blrt=True, n_bootstrap=99, bootstrap_starts=8,
                  checkpoint_dir="election_models")   # resumable
res.summary()            # the table below (text, HTML in a notebook)
res.plot()               # criteria.png
model = res.models[{k}]
model.summary()          # fit statistics, classes, AvePP, profile in per cent
model.plot_profile()     # profile.png
# a model read back from checkpoint_dir on a rerun keeps no data: for local
# dependence and outside variables, refit it (the same options, the same fit)
model = lca.LatentClassModel({k}, n_starts=16, random_state=0).fit(answers)
model.bivariate_residuals()
model.bootstrap_gof(99)          # bootstrap p-values of L2, X2 and every BVR
model.crosstab(other_variable)   # an outside variable within each class
```

From a shell, the same models and criteria (a CSV keeps no category order, so
the categories, the random starts drawn over them and the count of starts at
the best can differ), with every model file written as soon as it is fitted,
so an interrupted run resumes where it stopped:

```bash
lca compare election.csv --columns MORALG,CARESG,... --classes 2-10 --starts 16 \\
    --blrt 99 --bootstrap-starts 8 --jobs 2 --out election_models/
```

## The comparison (Table B.8 layout)

Options: {options}; Latent GOLD's default Bayes constant of 1.

{table}

- **LL**, **Npar**: log-likelihood and free parameters.
- **BIC, AIC, AIC3, SABIC, CAIC (LL)**: information criteria on the
  log-likelihood, N = sum of the weights; lower is better.
- **Entropy R2**, **Class. error**: how well respondents are assigned
  (Latent GOLD's definitions).
- **Min AvePP**: the lowest average posterior probability of a class among
  the respondents assigned to it (the reference study wanted about 0.9).
- **Smallest class (%)**: the size of the smallest class.
- **Max BVR**: the largest bivariate residual; above 3.84 a pair of items is
  more associated than the classes explain (local dependence).
- **BLRT p**: bootstrap likelihood ratio test of K-1 against K classes,
  `(1 + #{{LR_b >= LR}}) / (B + 1)` with B = 99 samples drawn from the fitted
  K-1 class model (each keeps an original respondent's missing answers).
  At the 5% level a Monte Carlo test rejects when p <= 0.05.
- **Starts at best**: of the starts run to convergence, how many reached the
  best objective (the log-posterior, as the Bayes constants make it; the
  log-likelihood with `bayes_constant=0`); 1 means the maximum did not
  replicate (use more starts).

Class sizes of every model (per cent):

{sizes}

![Criteria against the number of classes](criteria.png)

## Reading it

- BIC is lowest at {best_bic} classes and CAIC at {best_caic}; AIC is lowest at
  {best_aic} classes and AIC3 at {best_aic3} (both favour large models on
  samples this size). Nylund, Asparouhov & Muthen (2007) found BIC the best
  of the information criteria.
- BLRT: {blrt_sentence}. With 1,785 respondents and local dependence left in
  the data (see Max BVR), the test has the power to find every added class
  significant; read it with BIC, not alone.
- Usable models: the rule of `examples/election_choose_classes.py` keeps
  models whose lowest AvePP is at least 0.8 and whose smallest class holds at
  least 5%, and takes the lowest BIC among them: **{k} classes** (lowest
  AvePP {k_avepp}, smallest class {k_small}%; sizes {sizes_k}).
- Local dependence: even with {k} classes, {n_flagged} of {n_pairs} item pairs
  have a BVR above 3.84; the largest are {top}: similar traits of the same
  candidate, answered more alike than any class structure predicts. More
  classes lower the BVRs only slowly (see the table). The 3.84 rule is only a
  rule: `model.bootstrap_gof(99)` gives each BVR a p-value from 99 samples
  drawn from the model and fitted again (Oberski, van Kollenburg & Vermunt
  2013): {n_gof} of the {n_pairs} pairs have p <= 0.05, {gof_split} (on
  samples from the model itself, a BVR spreads less than the chi-square with
  1 df that the rule assumes). The omnibus statistics, in a table of far
  more cells than respondents, have little power: the bootstrap p-values of
  L2 and X2 are {gof_l2} and {gof_x2}.
- Latent GOLD's remedy for a dependent pair is a direct effect between the two
  items (`lca.DirectEffectsModel`): with direct effects for
  {de_pairs}, the {k}-class model's BIC falls from {k_bic} to {de_bic} (likelihood ratio
  {de_lr} on {de_df} df against none), and {de_flagged} pairs keep a BVR above
  3.84. `examples/election_direct_effects.py` adds direct effects one at a
  time to the models of 3 to 6 classes, for comparison with these by BIC.
- Then judge interpretability: a class should be describable in words and
  matter for the question at hand (Weller, Bowen & Faubert 2020;
  Nylund-Gibson & Choi 2018). The reference study chose 5 separation types
  although BIC kept falling up to 10 classes, because the sixth class was tiny
  and the lowest AvePP dropped from 0.90 to 0.87.

## The chosen model's profile

Per cent of each class giving each answer (`model.plot_profile()`; classes
are numbered by decreasing size):

![Profile of the chosen model](profile.png)

The same as a heat map (`model.plot_profile(kind="heatmap")`):

![Profile heat map](profile_heatmap.png)
"""


if __name__ == "__main__":
    main()
