"""Local dependence in the 2000 election study: more classes, or direct effects?

The traits of one candidate (how "knowledgeable" and how "intelligent" Gore
is, say) are answered more alike than any class structure predicts: their
bivariate residuals (BVRs) stay large however many classes are fitted. Adding
classes to absorb such an association makes classes that describe the items
rather than the respondents; a direct effect between the two items (Latent
GOLD's remedy) models it instead, with (C_a - 1)(C_b - 1) parameters.

For 3 to 6 classes this script adds direct effects one at a time, each for
the pair with the largest BVR among the items not yet paired, while BIC
falls, and prints how BIC and the BVRs move.

    python examples/election_direct_effects.py      # about 10 seconds
"""

from __future__ import annotations

import numpy as np
import pandas as pd

import lca

TRAITS = ["MORAL", "CARES", "KNOW", "LEAD", "DISHON", "INTEL"]
OPTIONS = dict(n_starts=16, random_state=0)
MAX_PAIRS = 4


def largest_free_pair(bvr: pd.DataFrame, used: set) -> tuple:
    """The pair with the largest BVR among items in no direct effect yet."""
    upper = bvr.where(np.triu(np.ones(bvr.shape, dtype=bool), k=1)).stack()
    for (a, b), _ in upper.sort_values(ascending=False).items():
        if a not in used and b not in used:
            return (a, b)
    return None


def row(model, k: int, pairs: list) -> dict:
    bvr = model.bivariate_residuals().to_numpy()
    upper = bvr[np.triu_indices_from(bvr, k=1)]
    stats = model.fit_stats()
    return {
        "classes": k,
        "direct effects": ", ".join(f"{a}-{b}" for a, b in pairs) or "none",
        "LL": round(model.loglik_, 1),
        "Npar": model.n_parameters_,
        "BIC": round(stats["bic"], 1),
        "max BVR": round(float(np.nanmax(upper)), 1),
        "BVR > 3.84": int(np.sum(upper > 3.84)),
    }


def main() -> None:
    election = lca.datasets.load_election()
    items = [f"{t}{who}" for who in "GB" for t in TRAITS]
    answers = election[items]
    rows = []
    for k in range(3, 7):
        model = lca.LatentClassModel(k, **OPTIONS).fit(answers)
        rows.append(row(model, k, []))
        pairs: list = []
        while len(pairs) < MAX_PAIRS:
            pair = largest_free_pair(model.bivariate_residuals(), {i for p in pairs for i in p})
            if pair is None:
                break
            candidate = lca.DirectEffectsModel(k, [*pairs, pair], **OPTIONS).fit(answers)
            if candidate.fit_stats()["bic"] >= model.fit_stats()["bic"]:
                break
            model, pairs = candidate, [*pairs, pair]
            rows.append(row(model, k, pairs))
    table = pd.DataFrame(rows)
    with pd.option_context("display.width", 160, "display.max_colwidth", 80):
        print(table.to_string(index=False))
    best = table.loc[table["BIC"].idxmin()]
    print(
        f"\nlowest BIC: {best['classes']} classes with direct effects {best['direct effects']} "
        f"(BIC {best['BIC']})"
    )
    # the last model: its direct effects, and the test against none
    print("\n" + model.likelihood_ratio_test().to_string())
    for (a, b), gamma in model.direct_effects_.items():
        print(f"\n{a} x {b}, effect-coded association (rows {a}, columns {b}):")
        print(gamma.round(3).to_string())


if __name__ == "__main__":
    main()
