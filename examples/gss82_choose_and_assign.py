"""Compare 1-5 classes on the GSS 1982 survey data, choose one, save it, assign.

Run as a script or cell by cell (``# %%``) in an editor.
"""

# %%
import tempfile
from pathlib import Path

import lca

data = lca.datasets.load_gss82()
print(data.describe())

# %% Fit 1 to 5 classes and compare them (maximum likelihood, as poLCA)
res = lca.compare(data, range(1, 6), bayes_constant=0.0, progress=False)
print(res.table[["loglik", "n_parameters", "bic", "aic3", "entropy_r2", "min_avepp"]])
print("lowest BIC:", res.best("bic"), "classes; lowest AIC3:", res.best("aic3"))

# %% Profile the chosen model
model = res.models[res.best("bic")]
print(model.class_sizes_.round(3))
print((100 * model.profile()).round(1))
print(model.classification_table().round(1))
print("replicated best log-likelihood in", model.n_starts_at_best_, "finished starts")

# %% Standard errors (maximum likelihood: a probability estimated at 0 is held there, NaN)
se = model.standard_errors()
print((100 * se.to_frame()).round(1))

# %% Save it, load it back and assign new respondents
with tempfile.TemporaryDirectory() as folder:
    path = Path(folder) / "gss82_3classes.json"
    model.save(path)
    reloaded = lca.load(path)
    new = data.sample(5, random_state=1)
    print(reloaded.predict_proba(new).round(3).assign(cls=reloaded.predict(new)))
