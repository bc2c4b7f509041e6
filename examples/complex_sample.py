"""Design-based standard errors for a stratified cluster sample, checked by simulation.

A survey drawn in 3 strata of 20 areas (primary sampling units), 20
respondents per area, with sampling weights that differ by stratum. The
respondents of an area share their type more often than chance (a
neighbourhood effect), so the sample holds less information than 1,200
independent answers would: the model-based standard errors are too small.
``standard_errors("design", ...)`` takes the design into account. The script
prints both for one sample, then draws ``REPLICATIONS`` samples from the same
population and compares each kind of standard error of the class sizes with
the spread of the estimates.

    python examples/complex_sample.py [REPLICATIONS]
"""

import sys

import numpy as np
import pandas as pd

import lca

ITEMS = ["trust_police", "trust_courts", "trust_council", "votes", "volunteers"]
TRUE_P = np.array([0.85, 0.8, 0.75, 0.7, 0.6])  # P(yes) in the "engaged" type; 1 - in the other
STRATA, AREAS, PER_AREA = 3, 20, 20
WEIGHT = {0: 0.6, 1: 1.0, 2: 1.8}  # by stratum: unequal selection probabilities


def draw(rng: np.random.Generator) -> pd.DataFrame:
    """One sample: strata differ in their share of the engaged type, areas within a stratum
    even more."""
    rows = []
    for h in range(STRATA):
        for a in range(AREAS):
            share = np.clip(rng.normal(0.3 + 0.2 * h, 0.25), 0.02, 0.98)  # the area's share
            engaged = rng.random(PER_AREA) < share
            p = np.where(engaged[:, None], TRUE_P, 1.0 - TRUE_P)
            answers = np.where(rng.random(p.shape) < p, "yes", "no")
            frame = pd.DataFrame(answers, columns=ITEMS)
            frame["stratum"], frame["area"], frame["w"] = f"S{h + 1}", a + 1, WEIGHT[h]
            rows.append(frame)
    return pd.concat(rows, ignore_index=True)


def engaged_class(model: lca.LatentClassModel) -> int:
    """The class that says yes to the first question most (classes are numbered by size)."""
    return int(model.profile().loc[(ITEMS[0], "yes")].drop("Total").idxmax())


def fit(df: pd.DataFrame) -> lca.LatentClassModel:
    return lca.LatentClassModel(2, n_starts=4, random_state=0).fit(df[ITEMS], weights=df["w"])


def main(replications: int) -> None:
    df = draw(np.random.default_rng(0))
    model = fit(df)
    design = dict(data=df, weights="w", strata="stratum", clusters="area")
    by_design = model.standard_errors("design", **design)
    table = pd.DataFrame(
        {
            "size": model.class_sizes_,
            "se_model": model.standard_errors().class_sizes,
            "se_design": by_design.class_sizes,
        }
    )
    print(f"One sample of {len(df)} respondents in {STRATA * AREAS} areas:")
    print(table.round(4).to_string())
    print(f"design degrees of freedom (areas less strata): {by_design.design_df}")
    print("\nWald tests per question, model-based and design-based:")
    tests = pd.DataFrame(
        {
            "wald_model": model.indicator_tests()["wald"],
            "wald_design": model.indicator_tests("design", **design)["wald"],
        }
    )
    print(tests.round(1).to_string())

    sizes, se_model, se_design = [], [], []
    for r in range(replications):
        df = draw(np.random.default_rng(1000 + r))
        model = fit(df)
        k = engaged_class(model)
        sizes.append(model.class_sizes_[k])
        se_model.append(model.standard_errors().class_sizes[k])
        design = dict(data=df, weights="w", strata="stratum", clusters="area")
        se_design.append(model.standard_errors("design", **design).class_sizes[k])
    spread = np.std(sizes, ddof=1)
    print(f"\nOver {replications} samples, the engaged class's size (weighted):")
    print(f"  {'spread of the estimates':<30}{spread:.4f}")
    for name, se in (("model-based", se_model), ("design-based", se_design)):
        mean = np.mean(se)
        print(f"  {f'mean {name} SE':<30}{mean:.4f} ({mean / spread:.2f} of the spread)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100)
