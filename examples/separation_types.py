"""The reference study's workflow for its separation types, on simulated respondents.

Compare 2-10 classes, read the table beside the published Table B.8, choose
five classes, read the profile beside Table B.9 with the class names, assign
new respondents with the published (reference) model and with the refitted
model, and cross-tabulate a covariate by class. ``service_use.py`` runs the
same walkthrough for the service-use groups.

Run as a script or cell by cell (``# %%``).
"""

# %%
import numpy as np
import pandas as pd

import lca


def walkthrough(name: str, n: int | None = None, seed: int = 0) -> None:
    preset = lca.presets.get(name)
    n = preset.n_respondents if n is None else n  # a sample the published fit table matches
    print(f"== {preset.title}: {preset.n_classes} classes, {len(preset.indicators)} indicators")
    print(preset.notes, "\n")

    # %% Respondents drawn from the published model (true classes known)
    data, truth = preset.simulate(n, random_state=seed, missing=0.01)
    rng = np.random.default_rng(seed + 1000)  # not the simulation's stream
    # a covariate related to the classes, as the study's sex or outcome variables
    sex = pd.Series(
        np.where(rng.random(n) < 0.15 + 0.1 * (truth.to_numpy() % 2), "Male", "Female"),
        index=data.index,
        name="sex",
    )

    # %% Compare 2-10 classes with the preset's model settings
    res = lca.compare(
        data,
        range(2, 11),
        ordinal=list(preset.ordinal),
        categories=preset.categories,
        n_starts=16,
        progress=False,
    )
    columns = ["loglik", "bic", "aic", "aic3", "entropy_r2", "classification_error"]
    print("Comparison on the simulated data:")
    print(res.table[[*columns, "min_avepp", "smallest_class"]].round(3))
    print("\nPublished:")
    print(preset.published_fit())
    print("\nlowest BIC:", res.best("bic"), "classes")

    # %% The chosen model, its classes matched to the published ones and named
    model = preset.fit(data, n_starts=16)
    print(model.class_match_.round(3))
    profile = (100 * model.profile()).round(0)
    published = preset.published_profile()
    side_by_side = pd.concat({"fitted": profile, "published": published}, axis=1)
    print(side_by_side.head(12))
    sizes = pd.DataFrame(
        {"fitted": model.class_sizes_.round(3), "published": preset.class_sizes},
        index=model.class_sizes_.index,
    )
    sizes.insert(0, "label", model.class_labels_)
    print(sizes)

    # %% Assign new respondents: published model and refitted model
    new, new_truth = preset.simulate(500, random_state=seed + 1)
    by_reference = preset.reference_model().predict(new)
    by_fit = model.predict(new)
    print("agreement with the true class: reference model", (by_reference == new_truth).mean())
    print("agreement with the true class: refitted model ", (by_fit == new_truth).mean())
    print(model.predict(new.head(5), labels=True))

    # %% A covariate by class (column percentages with bases)
    print(model.crosstab(sex).round(1))


if __name__ == "__main__":
    walkthrough("separation-types")
