"""Compare 2 to 10 classes on the 2000 American National Election Study and choose one.

Twelve items ask how well six traits (moral, caring, knowledgeable, a good
leader, dishonest, intelligent) describe Al Gore (suffix G) and George W. Bush
(suffix B), with missing answers. We fit 2 to 10 classes, read the criteria
the methodological literature recommends (BIC, the bootstrap likelihood ratio
test, the lowest average posterior probability, the smallest class, the
largest bivariate residual), choose a model and describe its classes with
party identification, an outside variable, then regress class membership on
party and gender with the bias-adjusted three-step approach.

Run as a script or cell by cell (``# %%``) in an editor. About 10-20 seconds on 2 cores.
"""

# %%
import warnings

import numpy as np
import pandas as pd

import lca
from lca.diagnostics import blrt

election = lca.datasets.load_election()
traits = ["MORAL", "CARES", "KNOW", "LEAD", "DISHON", "INTEL"]
items = [f"{trait}{who}" for who in "GB" for trait in traits]
answers = election[items]
print(f"{len(answers)} respondents; {answers.isna().any(axis=1).sum()} miss at least one answer")

# %% Fit 2 to 10 classes (Latent GOLD's default Bayes constant of 1, 8 random starts each)
res = lca.compare(answers, range(2, 11), n_starts=8, random_state=0, progress=False)
print(res.summary().as_text())

# %% Candidates: classes of a usable size that are told apart well
# (the reference study asked for a lowest AvePP near 0.9 and no tiny class)
usable = res.table[(res.table["min_avepp"] >= 0.8) & (res.table["smallest_class"] >= 0.05)]
k = int(usable["bic"].idxmin())
print(f"lowest BIC overall: {res.best('bic')} classes; among usable models: {k} classes")

# %% The bootstrap likelihood ratio test around the choice
# 19 bootstrap samples and 4 starts per bootstrap fit keep this example quick; use
# 99 or more samples (and the models' own starts) for a report.
for n_classes in (k, k + 1):
    test = blrt(answers, n_classes, n_bootstrap=19, n_starts=8, bootstrap_starts=4, n_jobs=2)
    # a Monte Carlo test at level 5% rejects when p <= 0.05 (with 19 samples: none beat LR)
    verdict = "more classes fit better" if test.p_value <= 0.05 else "no evidence for more"
    print(f"{n_classes - 1} vs {n_classes} classes: LR = {test.statistic:.1f}, "
          f"p = {test.p_value:.3f} ({verdict})")  # fmt: skip

# %% The chosen model: sizes, profile and remaining local dependence
model = res.models[k]
summary = model.summary()
print(summary.to_frame("Classes").round(3).to_string())
print(summary.to_frame("Profile (%)").round(0).to_string())
bvr = model.bivariate_residuals()
pairs = bvr.where(np.triu(np.ones(bvr.shape, dtype=bool), k=1)).stack().dropna()
print("largest bivariate residuals (pairs the classes do not fully explain):")
print(pairs.sort_values(ascending=False).head(5).round(1))
# the 3.84 rule of thumb is only a rule: bootstrap p-values from samples of the model
# (19 here to keep the example quick; 99 or more for a report)
gof = model.bootstrap_gof(19, n_jobs=2, bootstrap_starts=4)
print(gof.pairs().head(5).round(3))
print(f"bootstrap p of L2 {gof.p_L2:.2f}, of X2 {gof.p_X2:.2f}")

# %% Who is in each class: party identification (the layout of the study's Table 3.26)
labels = ["Strong Democrat", "Weak Democrat", "Independent-Democrat", "Independent",
          "Independent-Republican", "Weak Republican", "Strong Republican"]  # fmt: skip
codes = election["PARTY"].fillna(0).astype(int) - 1  # -1: not asked or no answer
party = pd.Series(pd.Categorical.from_codes(codes, labels), index=election.index, name="party")
print(model.crosstab(party).round(1).to_string())

# %% The same table corrected for classification error (bias-adjusted three-step, ML):
# modal assignment puts some respondents in the wrong class, which blurs the differences
corrected = model.crosstab(party, kind="ml")
print("party within classes, corrected (percentage points above the modal table):")
print((corrected - model.crosstab(party)).iloc[:-2].round(1).to_string())  # not the bases

# %% Which respondents are in which class: a multinomial logit of class membership on
# party identification (1-7) and gender, corrected for classification error. Rows with
# a missing covariate are refused unless left out, as here, on purpose.
asked = election["PARTY"].notna()
covariates = election.loc[asked, ["PARTY", "GENDER"]].assign(
    GENDER=lambda d: pd.Categorical(d["GENDER"].map({1: "male", 2: "female"}))
)
effects = model.covariate_effects(covariates, data=answers[asked])
print(f"left out {int((~asked).sum())} respondents without a party identification")
print(effects.coefficients.round(3).to_string())
print(effects.wald.round(2).to_string())

# %% A numeric outcome: mean age in each class, corrected for classification error (BCH),
# with Wald tests that the classes differ. Nine respondents did not give their age:
# missing="omit" leaves them out of the means (and says so), the classes stay as fitted.
ages = model.distal_means(election["AGE"], data=answers, missing="omit")
print(ages.means.round(2).to_string())
print(ages.wald.round(4).to_string())

# %% A categorical outcome: how each class voted (VOTE3), corrected for classification
# error by maximum likelihood, with standard errors. 625 respondents have no vote
# recorded: missing="omit" leaves them out. With 8 classes some classes have nobody
# voting for a candidate: ML holds those proportions at 0 (and says so), and as they
# make classes differ for certain its Wald test is undefined; BCH's test is given.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", UserWarning)  # the proportions at 0, as described
    votes = model.distal_proportions(election["VOTE3"], data=answers, missing="omit")
print((100 * votes.table()).round(1).to_string())
bch = model.distal_proportions(election["VOTE3"], data=answers, missing="omit", correction="bch")
print(bch.wald.round(4).to_string())
