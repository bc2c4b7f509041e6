"""A model-selection report with plots, saved as HTML and PNG files.

Compares 1 to 5 classes on the GSS 1982 survey data (maximum likelihood, as
poLCA), with the bootstrap likelihood ratio test, then writes:

- ``report.html``: the comparison table (Table B.8 layout), the chosen
  model's summary (Table B.9 layout) and the figures;
- ``criteria.png``: information criteria and classification statistics
  against the number of classes;
- ``profile.png`` and ``profile_heatmap.png``: the chosen model's profile.

The files go to the folder named by the environment variable
``LCA_EXAMPLE_OUTPUT`` (created if needed), or to a new temporary folder.
Plots need matplotlib (``pip install lca[plot]``); without it the report is
written without figures. Run as a script or cell by cell (``# %%``).
"""

# %%
import os
import tempfile
from pathlib import Path

import lca

out = Path(os.environ.get("LCA_EXAMPLE_OUTPUT") or tempfile.mkdtemp(prefix="lca_report_"))
out.mkdir(parents=True, exist_ok=True)
data = lca.datasets.load_gss82()

# %% Compare 1 to 5 classes, with the bootstrap test of K-1 against K classes
res = lca.compare(
    data, range(1, 6), bayes_constant=0.0, n_starts=16, blrt=True, n_bootstrap=39,
    bootstrap_starts=8, progress=False,
)  # fmt: skip
comparison = res.summary()
print(comparison)
k = res.best("bic")
model = res.models[k]
print(f"\nlowest BIC: {k} classes")

# %% Figures (skipped without matplotlib)
try:
    import matplotlib

    matplotlib.use("Agg")  # files only, no window
    import matplotlib.pyplot as plt
except ImportError:
    plt = None
    print("matplotlib is not installed (pip install lca[plot]): no figures")

figures = {}
if plt is not None:
    figures["criteria.png"] = res.plot()
    figures["profile.png"] = model.plot_profile(kind="bars")
    figures["profile_heatmap.png"] = model.plot_profile(kind="heatmap")
    for name, fig in figures.items():
        fig.savefig(out / name, dpi=110)
        plt.close(fig)

# %% One HTML page: the comparison, the chosen model and the figures
images = "\n".join(f"<p><img src='{name}' style='max-width: 100%'></p>" for name in figures)
page = f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Latent class report</title></head>
<body>
<h2>GSS 1982: how many classes?</h2>
{comparison.as_html()}
<h2>The {k}-class model</h2>
{model.summary().as_html()}
{images}
</body></html>
"""
(out / "report.html").write_text(page, encoding="utf-8")
print(f"wrote {', '.join(['report.html', *figures])} to {out}")
