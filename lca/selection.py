"""Fitting a range of class numbers and comparing them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .criteria import FIT_STAT_NAMES
from .model import LatentClassModel

#: Criteria where a lower value is better.
LOWER_IS_BETTER = frozenset(
    {"aic", "aic3", "bic", "caic", "sabic", "clc", "awe", "icl_bic", "L2", "X2"}
    | {"classification_error"}
)
#: Criteria where a higher value is better.
HIGHER_IS_BETTER = frozenset(
    {"loglik", "entropy_r2", "relative_entropy", "lambda", "standard_r2", "min_avepp"}
)


@dataclass
class Comparison:
    """Models with different numbers of classes, side by side.

    Attributes
    ----------
    table : pandas.DataFrame
        Indexed by ``n_classes``: every ``fit_stats()`` entry, plus
        ``smallest_class`` (share of the smallest class),
        ``n_starts_at_best`` and ``converged``.
    models : dict
        ``n_classes`` -> fitted :class:`LatentClassModel`.
    """

    table: pd.DataFrame
    models: dict = field(default_factory=dict)

    def best(self, criterion: str = "bic") -> int:
        """The number of classes with the best value of ``criterion``.

        Lowest for information criteria, L2, X2 and classification error;
        highest for the log-likelihood, R-squared-type statistics and
        ``min_avepp``.
        """
        if criterion in LOWER_IS_BETTER:
            return int(self.table[criterion].idxmin())
        if criterion in HIGHER_IS_BETTER:
            return int(self.table[criterion].idxmax())
        raise ValueError(
            f"unknown criterion {criterion!r}; use one of "
            f"{sorted(LOWER_IS_BETTER | HIGHER_IS_BETTER)}"
        )


def compare(
    data: pd.DataFrame,
    n_classes: Iterable[int] = range(2, 11),
    weights=None,
    *,
    progress: bool = True,
    **model_options,
) -> Comparison:
    """Fit one model per number of classes and tabulate their statistics.

    Parameters
    ----------
    data : pandas.DataFrame
        One column per indicator (as for :meth:`LatentClassModel.fit`).
    n_classes : iterable of int, default=range(2, 11)
    weights : array-like, str or None
        Case weights, or the name of the column holding them.
    progress : bool, default=True
        Show a progress bar over the models (tqdm, on stderr).
    **model_options
        Passed to :class:`LatentClassModel` (``n_starts``, ``bayes_constant``,
        ``random_state``, ``n_jobs``, ...). Every model gets the same options,
        so a fixed ``random_state`` makes the whole table reproducible.

    Returns
    -------
    Comparison
    """
    ks = [int(k) for k in n_classes]
    if not ks:
        raise ValueError("n_classes is empty: give at least one number of classes")
    from tqdm.auto import tqdm

    models = {}
    rows = []
    for k in tqdm(ks, desc="classes", disable=not progress, leave=False):
        model = LatentClassModel(k, **model_options).fit(data, weights=weights)
        models[k] = model
        row = model.fit_stats().to_dict()
        row["smallest_class"] = float(np.min(model.class_sizes_.to_numpy()))
        row["n_starts_at_best"] = model.n_starts_at_best_
        row["converged"] = model.converged_
        rows.append(row)
    columns = [*FIT_STAT_NAMES, "smallest_class", "n_starts_at_best", "converged"]
    table = pd.DataFrame(rows, index=pd.Index(ks, name="n_classes"), columns=columns)
    table = table.astype({"n_parameters": int, "n_starts_at_best": int, "converged": bool})
    return Comparison(table=table, models=models)
