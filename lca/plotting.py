"""Plots of fitted models and comparisons (matplotlib, an optional extra).

matplotlib is imported only when a plot is drawn; without it every function
raises an ImportError that says how to install it (``pip install lca[plot]``).
Every function returns the matplotlib Figure and shows nothing.
"""

from __future__ import annotations

import math
import numbers
import textwrap
from collections.abc import Sequence

import numpy as np

#: Criteria drawn by :func:`plot_criteria` unless told otherwise.
DEFAULT_CRITERIA = ("bic", "aic", "aic3", "sabic")
#: Statistics between 0 and 1 drawn in the second panel of :func:`plot_criteria`.
DEFAULT_SHARES = ("entropy_r2", "min_avepp", "smallest_class", "blrt_p")

_LABELS = {
    "bic": "BIC",
    "aic": "AIC",
    "aic3": "AIC3",
    "sabic": "SABIC",
    "caic": "CAIC",
    "icl_bic": "ICL-BIC",
    "awe": "AWE",
    "clc": "CLC",
    "entropy_r2": "entropy R²",
    "relative_entropy": "relative entropy",
    "min_avepp": "lowest AvePP",
    "smallest_class": "smallest class",
    "blrt_p": "BLRT p",
    "classification_error": "classification error",
    "standard_r2": "standard R²",
}


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(
            "lca's plots need matplotlib, an optional extra: pip install lca[plot] "
            "(or pip install matplotlib)"
        ) from exc
    return plt


def _wrap(text, width: int, max_lines: int) -> str:
    """``text`` on lines of about ``width`` characters, cut with an ellipsis after ``max_lines``.

    Words are not broken, except that the last line is cut at ``width``.
    """
    lines = textwrap.wrap(str(text), width, break_on_hyphens=False, break_long_words=False)
    cut = len(lines) > max_lines
    lines = lines[:max_lines] or [""]
    if cut or len(lines[-1]) > width:
        lines[-1] = lines[-1][: width - 1].rstrip() + "\u2026"
    return "\n".join(lines)


def _wrap_all(texts, width: int, max_lines: int) -> list:
    """:func:`_wrap` of each text, kept distinct: two texts that would be cut to the same
    label show their ends instead ("I agree with\u2026on housing", "\u2026on health"), and
    labels still alike are numbered in order, so that no two bars or rows read the same."""
    labels = [_wrap(t, width, max_lines) for t in texts]
    half = max(1, (width - 1) // 2)
    for label in dict.fromkeys(labels):  # in order of first appearance
        alike = [i for i, x in enumerate(labels) if x == label]
        if len(alike) < 2:
            continue
        for i in alike:
            text = " ".join(str(texts[i]).split())
            if len(text) > width:
                text = text[:half].rstrip() + "\u2026" + text[-half:].lstrip()
            labels[i] = text
    # whatever is still alike (also with a label made above): numbered in order
    counts: dict = {}
    for label in labels:
        counts[label] = counts.get(label, 0) + 1
    seen: dict = {}
    for i, label in enumerate(labels):
        if counts[label] > 1:
            seen[label] = seen.get(label, 0) + 1
            labels[i] = f"{label} [{seen[label]}]"
    return labels


def _class_colors(plt, k: int) -> list:
    """One colour per class: qualitative palettes up to 20, then evenly spaced hues."""
    if k > 20:
        cmap = plt.get_cmap("turbo")
        return [cmap(x) for x in np.linspace(0.05, 0.95, k)]
    cmap = plt.get_cmap("tab10" if k <= 10 else "tab20")
    return [cmap(c) for c in range(k)]


def plot_profile(
    model,
    kind: str = "bars",
    *,
    ncols: int | None = None,
    figsize: tuple[float, float] | None = None,
    title: str | None = None,
    percent: bool = True,
):
    """Plot the class-conditional probabilities of a model.

    Parameters
    ----------
    model : LatentClassModel
        A fitted (or loaded) model.
    kind : {"bars", "heatmap"}, default="bars"
        ``"bars"``: one panel per indicator, a bar per class for each
        category. ``"heatmap"``: one grid, a row per (indicator, category),
        a column per class, the value written in each cell.
    ncols : int or None
        Panels per row for ``"bars"`` (default: 2 for 2 or 4 indicators, else up to 3).
    figsize : (float, float) or None
        Figure size in inches; chosen from the table's size by default.
    title : str or None
        Figure title; default names the number of classes.
    percent : bool, default=True
        Show per cent (0-100) instead of probabilities.

    Returns
    -------
    matplotlib.figure.Figure
    """
    if kind not in ("bars", "heatmap"):
        raise ValueError(f"kind must be 'bars' or 'heatmap', not {kind!r}")
    if ncols is not None and (
        isinstance(ncols, bool) or not isinstance(ncols, numbers.Integral) or ncols < 1
    ):
        raise ValueError(f"ncols must be an integer >= 1 or None, got {ncols!r}")
    plt = _pyplot()
    k = model.n_classes_
    scale = 100.0 if percent else 1.0
    sizes = model.class_sizes_.to_numpy()
    names = getattr(model, "class_labels_", None) or [f"Class {c}" for c in range(1, k + 1)]
    if len(names) != k:  # labels that do not fit the model: numbers
        names = [f"Class {c}" for c in range(1, k + 1)]
    named = names[0] != "Class 1"
    class_names = [
        f"{c}. {_wrap(name, 50, 1)} ({100 * s:.0f}%)" if named else f"{name} ({100 * s:.0f}%)"
        for c, name, s in zip(range(1, k + 1), names, sizes)
    ]
    if title is None:
        title = f"Profile of the {k}-class model"
    if kind == "heatmap":
        fig = _profile_heatmap(plt, model, scale, class_names, figsize)
        fig.suptitle(title)
    else:
        fig = _profile_bars(plt, model, scale, class_names, ncols, figsize, title)
    return fig


def _profile_bars(plt, model, scale, class_names, ncols, figsize, title):
    n_ind = len(model.indicators_)
    k = model.n_classes_
    ncols = ncols or (2 if n_ind in (2, 4) else min(3, n_ind))
    nrows = math.ceil(n_ind / ncols)
    width_in = figsize[0] if figsize is not None else 4.2 * ncols
    longest = max(len(name) for name in class_names)
    per_row = max(1, min(k, 5, int(width_in * 72 / (5.5 * longest + 40))))  # legend entries
    top = 0.55 + 0.25 * math.ceil(k / per_row)  # inches for the title and the legend
    if figsize is None:
        figsize = (width_in, 3.0 * nrows + top + 0.25)
    fig, axes = plt.subplots(nrows, ncols, figsize=figsize, squeeze=False, sharey=True)
    colors = _class_colors(plt, k)
    width = 0.8 / k
    for j, ind in enumerate(model.indicators_):
        ax = axes[j // ncols][j % ncols]
        probs = scale * model._cond_probs[model._offsets[j] : model._offsets[j + 1]]
        x = np.arange(ind.n_categories)
        for c in range(k):
            ax.bar(x + (c - (k - 1) / 2) * width, probs[:, c], width, color=colors[c])
        # long names and labels wrap to the panel's width instead of running
        # into the neighbouring panels (the full text is in model.profile())
        ax.set_title(_wrap(ind.name, 42, 3), fontsize="medium")
        ax.set_xticks(x)
        room = max(4, 48 // ind.n_categories)  # characters per category, about
        labels = _wrap_all(ind.categories, room, 3)
        long = any(
            label.endswith("\u2026") or len(line) > room
            for label in labels
            for line in label.split("\n")
        )
        many = ind.n_categories > 8  # upright labels would overprint
        if long or many:
            labels = _wrap_all(ind.categories, 20 if many else 28, 1)  # one line
        ax.set_xticklabels(
            labels,
            rotation=90 if many else 30 if long else 0,
            ha="right" if long and not many else "center",
            fontsize="x-small" if many else "small",
        )
        ax.set_ylim(0, scale)
    for j in range(n_ind, nrows * ncols):
        axes[j // ncols][j % ncols].set_visible(False)
    for row in axes:
        row[0].set_ylabel("%" if scale == 100.0 else "probability")
    handles = [plt.Rectangle((0, 0), 1, 1, color=colors[c]) for c in range(k)]
    # title, then legend, at fixed distances in inches from the top, whatever the height
    height = fig.get_figheight()
    fig.suptitle(title, y=1 - 0.1 / height, va="top")
    fig.legend(handles, class_names, loc="upper center", ncol=per_row, frameon=False,
               bbox_to_anchor=(0.5, 1 - 0.4 / height))  # fmt: skip
    fig.tight_layout(rect=(0, 0, 1, 1 - top / height))
    return fig


def _profile_heatmap(plt, model, scale, class_names, figsize):
    values = scale * model._cond_probs
    n_rows, k = values.shape
    labels = [
        f"{_wrap(ind.name, 40, 1)}: {cat}"
        for ind in model.indicators_
        for cat in _wrap_all(ind.categories, 40, 1)
    ]
    if figsize is None:
        figsize = (2.0 + 1.1 * k + 0.08 * max(len(s) for s in labels), 1.2 + 0.28 * n_rows)
    fig, ax = plt.subplots(figsize=figsize)
    image = ax.imshow(values, aspect="auto", cmap="Blues", vmin=0, vmax=scale)
    ax.set_xticks(range(k))
    ax.set_xticklabels([n.replace(" (", "\n(") for n in class_names], fontsize="small")
    ax.xaxis.tick_top()
    ax.set_yticks(range(n_rows))
    ax.set_yticklabels(labels, fontsize="small")
    for edge in model._offsets[1:-1]:
        ax.axhline(edge - 0.5, color="white", linewidth=2)
    if n_rows * k <= 600:
        for r in range(n_rows):
            for c in range(k):
                v = values[r, c]
                text = f"{v:.0f}" if scale == 100.0 else f"{v:.2f}"
                ax.text(c, r, text, ha="center", va="center", fontsize="x-small",
                        color="white" if v > 0.6 * scale else "black")  # fmt: skip
    fig.colorbar(image, ax=ax, label="%" if scale == 100.0 else "probability", shrink=0.6)
    fig.tight_layout(rect=(0, 0, 1, 0.95))
    return fig


def plot_criteria(
    comparison,
    criteria: Sequence[str] = DEFAULT_CRITERIA,
    shares: Sequence[str] | None = DEFAULT_SHARES,
    *,
    figsize: tuple[float, float] | None = None,
):
    """Plot information criteria (and classification statistics) against n_classes.

    Parameters
    ----------
    comparison : Comparison
        The result of :func:`lca.compare`.
    criteria : str or sequence of str, default=("bic", "aic", "aic3", "sabic")
        Columns of ``comparison.table`` drawn in the first panel; the best
        value of each is marked (the lowest, or the highest for those
        ``Comparison.best`` maximises, such as the log-likelihood).
    shares : str, sequence of str or None
        Statistics between 0 and 1 drawn in a second panel (those present in
        the table: by default entropy R-squared, the lowest AvePP, the
        smallest class and the BLRT p-value); ``None`` draws one panel.
    figsize : (float, float) or None

    Returns
    -------
    matplotlib.figure.Figure
    """
    from .selection import HIGHER_IS_BETTER

    criteria = [criteria] if isinstance(criteria, str) else list(criteria)
    shares = [shares] if isinstance(shares, str) else shares
    plt = _pyplot()
    table = comparison.table
    unknown = [c for c in criteria if c not in table.columns]
    if unknown:
        raise ValueError(f"no column(s) {unknown} in the comparison table")
    shares = [c for c in (shares or ()) if c in table.columns and table[c].notna().any()]
    n_panels = 2 if shares else 1
    if figsize is None:
        figsize = (5.5 * n_panels, 4.0)
    fig, axes = plt.subplots(1, n_panels, figsize=figsize, squeeze=False)
    ks = table.index.to_numpy()
    ax = axes[0][0]
    for crit in criteria:
        values = table[crit].to_numpy(dtype=float)
        (line,) = ax.plot(ks, values, marker="o", label=_LABELS.get(crit, crit))
        if np.isfinite(values).any():
            higher = crit in HIGHER_IS_BETTER
            best = int(np.nanargmax(values) if higher else np.nanargmin(values))
            ax.plot(ks[best], values[best], marker="*", markersize=14, color=line.get_color())
    ax.set_xlabel("number of classes")
    higher = [_LABELS.get(c, c) for c in criteria if c in HIGHER_IS_BETTER]
    if higher:
        ax.set_ylabel(f"star: best (lowest; highest for {', '.join(higher)})")
    else:
        ax.set_ylabel("lower is better (star: lowest)")
    ax.set_xticks(ks)
    ax.legend(frameon=False)
    if shares:
        ax2 = axes[0][1]
        for stat in shares:
            ax2.plot(ks, table[stat].to_numpy(dtype=float), marker="o",
                     label=_LABELS.get(stat, stat))  # fmt: skip
        if "blrt_p" in shares:
            ax2.axhline(0.05, color="grey", linestyle=":", linewidth=1)
        ax2.set_ylim(-0.02, 1.02)
        ax2.set_xlabel("number of classes")
        ax2.set_xticks(ks)
        ax2.legend(frameon=False)
    fig.suptitle("Choosing the number of classes")
    fig.tight_layout()
    return fig
