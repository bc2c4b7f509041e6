"""The Vuong-Lo-Mendell-Rubin likelihood ratio test of K-1 against K classes.

Mplus prints it as TECH11. The likelihood ratio statistic ``LR = 2 (LL_K -
LL_K-1)`` is not chi-square distributed when classes are compared, because
the K-1 class model sits on the boundary of the K class one (a class of
size 0) or on a set where the K class model is not identified (two equal
classes). Lo, Mendell & Rubin (2001) took its distribution from Vuong's
(1989) theory of likelihood ratios between nested, possibly misspecified
models: a weighted sum of independent chi-square(1) variables,

    LR ~ sum_i lambda_i Z_i^2,

whose weights are the eigenvalues of (Vuong 1989, Theorem 3.3)

    W = [ -B_f A_f^-1     -B_fg A_g^-1 ]
        [  B_gf A_f^-1     B_g A_g^-1  ]

with ``f`` the K class model, ``g`` the K-1 class model, ``A`` the Hessian
of a respondent's log-likelihood and ``B`` the outer products of the
respondents' scores (``B_fg = E[s_f s_g']``), all at the estimates. Each is
a sum over the answer patterns, weighted by their frequencies; the scores
and the Hessian are those of :mod:`lca.standard_errors` (logit
parametrisation, probabilities on the boundary held fixed). ``W`` is
similar to ``B D`` with ``B`` the joint outer product of both models' scores
and ``D = diag(-A_f^-1, A_g^-1)``, so its eigenvalues are those of the
symmetric ``B^1/2 D B^1/2`` and real. Under the usual regularity conditions
for nested models (which the comparison of classes does not meet) there
would be ``p - q`` weights of 1 and the rest 0: the chi-square of Wilks.

The tail probability of the weighted sum is Imhof's (1961) integral,

    P(Q > x) = 1/2 + (1/pi) int_0^inf sin(theta(u)) / (u rho(u)) du,
    theta(u) = (1/2) sum_i arctan(lambda_i u) - x u / 2,
    rho(u) = prod_i (1 + lambda_i^2 u^2)^(1/4),

computed with scipy's adaptive quadrature (a Fourier integral, QAWF, past
the first oscillations).

The adjusted test (Lo, Mendell & Rubin 2001, their equation 15) divides the
statistic by ``1 + 1 / ((p - q) log n)``, with ``p - q`` the difference in
the number of parameters and ``n`` the sample size, and refers it to the
same distribution; its p-value is a little larger.

The theory does not hold for latent classes (Jeffries 2003: the K-1 class
model is not an interior point of the K class one), and the test is liberal.
On data drawn from K classes of 6 binary items (``benchmarks/calibrate_lmr.py``,
N = 500-2,000, K = 1-3) it rejected the true K against K+1 at the 5% level
in 28-41% of the data sets by maximum likelihood and 14-24% with Bayes
constants of 1; the bootstrap likelihood ratio test (:func:`lca.blrt`) is
the test to decide with. The LMR is quick (no refits), which is why it is
still reported next to the BLRT.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import integrate, stats

from . import standard_errors as se
from .exceptions import NotFittedError, warn

#: Eigenvalues of W within this fraction of the largest (in absolute value) are 0.
WEIGHT_TOL = 1e-6


@dataclass(frozen=True)
class LMRResult:
    """The Vuong-Lo-Mendell-Rubin test of ``n_classes - 1`` against ``n_classes``
    classes (see :func:`lmr_test`).

    Attributes
    ----------
    n_classes : int
        Classes of the larger model (the alternative).
    statistic : float
        ``2 (LL_K - LL_K-1)``, Mplus's "2 times the log-likelihood difference".
    df : int
        Difference in the number of parameters, ``p - q``.
    mean, sd : float
        Mean and standard deviation of the statistic's distribution under the
        K-1 class model, ``sum lambda`` and ``sqrt(2 sum lambda^2)``.
    p_value : float
        The VLMR p-value, ``P(sum lambda_i Z_i^2 >= statistic)``.
    adjusted_statistic, adjusted_p_value : float
        The Lo-Mendell-Rubin adjusted statistic, ``statistic / (1 + 1 / (df
        log n))``, and its p-value from the same distribution.
    weights : numpy.ndarray
        The distribution's weights lambda (the non-zero eigenvalues of
        Vuong's W), largest first.
    n_obs : float
        The sample size n of the adjustment (the sum of the weights).
    loglik_null, loglik_alt : float
        The log-likelihoods of the two models.
    """

    n_classes: int
    statistic: float
    df: int
    mean: float
    sd: float
    p_value: float
    adjusted_statistic: float
    adjusted_p_value: float
    weights: np.ndarray
    n_obs: float
    loglik_null: float
    loglik_alt: float

    def __repr__(self) -> str:
        k = self.n_classes
        return (
            f"LMRResult({k - 1} vs {k} classes: statistic={self.statistic:.3f}, "
            f"p_value={self.p_value:.4f}, adjusted_p_value={self.adjusted_p_value:.4f})"
        )

    def to_dict(self) -> dict:
        """Plain Python values (for JSON)."""
        return {
            "n_classes": int(self.n_classes),
            "statistic": float(self.statistic),
            "df": int(self.df),
            "mean": float(self.mean),
            "sd": float(self.sd),
            "p_value": float(self.p_value),
            "adjusted_statistic": float(self.adjusted_statistic),
            "adjusted_p_value": float(self.adjusted_p_value),
            "weights": [float(v) for v in self.weights],
            "n_obs": float(self.n_obs),
            "loglik_null": float(self.loglik_null),
            "loglik_alt": float(self.loglik_alt),
        }

    @classmethod
    def from_dict(cls, d: dict) -> LMRResult:
        """Inverse of :meth:`to_dict`."""
        fields = {k: d[k] for k in cls.__dataclass_fields__ if k != "weights"}
        return cls(**fields, weights=np.asarray(d["weights"], dtype=float))


def weighted_chi2_sf(x: float, weights) -> float:
    """``P(sum_i weights_i Z_i^2 > x)`` for independent standard normal ``Z_i``.

    Imhof's (1961) integral; the weights may be of either sign. Weights
    within ``WEIGHT_TOL`` of the largest are dropped; equal positive weights
    give the scaled chi-square exactly.
    """
    lam = np.asarray(weights, dtype=float).ravel()
    if lam.size == 0 or not np.all(np.isfinite(lam)) or not math.isfinite(x):
        raise ValueError("weighted_chi2_sf needs finite weights and a finite x")
    top = float(np.max(np.abs(lam)))
    lam = lam[np.abs(lam) > WEIGHT_TOL * top] if top > 0 else lam[:0]
    if lam.size == 0:  # the sum is 0
        return 1.0 if x < 0 else 0.0
    if lam[0] > 0 and np.all(lam == lam[0]):
        return float(stats.chi2.sf(x / lam[0], lam.size))
    top = float(np.max(np.abs(lam)))

    def phase(u):
        return 0.5 * float(np.sum(np.arctan(lam * u)))

    def decay(u):  # u rho(u)
        return u * math.exp(0.25 * float(np.sum(np.log1p((lam * u) ** 2))))

    def whole(u):
        if u == 0.0:
            return 0.5 * (float(np.sum(lam)) - x)
        return math.sin(phase(u) - 0.5 * x * u) / decay(u)

    cut = 1.0 / top  # rho grows from about here on
    options = {"limit": 500, "epsabs": 1e-13, "epsrel": 1e-10}
    fourier = {"limlst": 200, "epsabs": 1e-13}
    head = integrate.quad(whole, 0.0, cut, **options)[0]
    omega = 0.5 * x
    with warnings.catch_warnings():
        # QAWF reports slow convergence of far cycles that add below 1e-13
        warnings.simplefilter("ignore", integrate.IntegrationWarning)
        if omega > 0:
            # sin(phase - omega u) = sin(phase) cos(omega u) - cos(phase) sin(omega u), u = cut + t
            c, s = math.cos(omega * cut), math.sin(omega * cut)

            def even(t):
                u = cut + t
                return (math.sin(phase(u)) * c - math.cos(phase(u)) * s) / decay(u)

            def odd(t):
                u = cut + t
                return -(math.sin(phase(u)) * s + math.cos(phase(u)) * c) / decay(u)

            tail = (
                integrate.quad(even, 0.0, np.inf, weight="cos", wvar=omega, **fourier)[0]
                + integrate.quad(odd, 0.0, np.inf, weight="sin", wvar=omega, **fourier)[0]
            )
        else:
            tail = integrate.quad(whole, cut, np.inf, **options)[0]
    return float(min(1.0, max(0.0, 0.5 + (head + tail) / math.pi)))


def vuong_weights(
    scores_alt: np.ndarray,
    info_alt: np.ndarray,
    scores_null: np.ndarray,
    info_null: np.ndarray,
    weights: np.ndarray,
) -> np.ndarray:
    """The eigenvalues of Vuong's W (see the module's docstring), largest first.

    ``scores_*``: each pattern's score, shape (n_patterns, n_parameters);
    ``info_*``: minus the Hessian of the total log-likelihood; ``weights``:
    the patterns' frequencies. The two models' patterns are the same rows.
    Eigenvalues within ``WEIGHT_TOL`` of the largest are dropped.
    """
    n = float(np.sum(weights))
    joint = np.hstack([scores_alt, scores_null])
    outer = joint.T @ (joint * weights[:, None]) / n  # B, the joint outer product
    p = scores_alt.shape[1]
    advice = "the models are not identified at these estimates; refit them with more starts"
    then = "the test uses its pseudo-inverse and is not reliable"
    inv_alt, _ = se._inverse(
        info_alt, f"information matrix of the {p}-parameter model", advice, then
    )
    inv_null, _ = se._inverse(
        info_null,
        f"information matrix of the {scores_null.shape[1]}-parameter model",
        advice,
        then,
    )
    size = joint.shape[1]
    middle = np.zeros((size, size))  # D = diag(-A_f^-1, A_g^-1), A = -info / n
    middle[:p, :p] = n * inv_alt
    middle[p:, p:] = -n * inv_null
    values, vectors = np.linalg.eigh(outer)
    root = (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T
    lam = np.linalg.eigvalsh(root @ middle @ root)[::-1]
    top = float(np.max(np.abs(lam))) if lam.size else 0.0
    return lam[np.abs(lam) > WEIGHT_TOL * top] if top > 0 else lam[:0]


def _scores_and_information(model, data, weights, unknown):
    """The patterns, their weights, scores and the information of a fitted model."""
    args, unit, _ = model._se_inputs(data, weights, unknown)
    patterns, pattern_weights, post, class_probs, cond_probs, offsets, ordinal = args[:7]
    class_prior, cond_prior = args[7], args[8]
    counts = se.expected_counts(patterns, pattern_weights, post, offsets)
    fixed = se.on_boundary(
        patterns, pattern_weights, post, cond_probs, offsets, ordinal, cond_prior, unit, counts
    )
    lay = se.layout(class_probs, cond_probs, offsets, ordinal, fixed)
    info, _ = se.information(
        patterns, pattern_weights, post, class_probs, cond_probs, offsets, lay,
        class_prior, cond_prior, counts,
    )  # fmt: skip
    scores = se.pattern_scores(patterns, post, class_probs, cond_probs, offsets, lay)
    return patterns, pattern_weights, scores, info


def _check_pair(null_model, model) -> None:
    from .model import LatentClassModel

    for m, what in ((null_model, "null_model"), (model, "model")):
        if type(m) is not LatentClassModel:
            raise TypeError(
                f"{what} is a {type(m).__name__}: the LMR test takes LatentClassModel fits "
                "(for other models use the bootstrap test, lca.blrt)"
            )
        if getattr(m, "loglik_", None) is None:
            raise NotFittedError(f"{what} is not fitted; call fit(data) first")
    if null_model.n_classes_ >= model.n_classes_:
        raise ValueError(
            f"null_model has {null_model.n_classes_} classes and model {model.n_classes_}: "
            "give the model with fewer classes first, lmr_test(model_k_minus_1, model_k)"
        )
    names = [ind.name for ind in null_model.indicators_]
    if names != [ind.name for ind in model.indicators_]:
        raise ValueError(
            "the two models have different indicators; fit both to the same columns "
            f"({names} against {[ind.name for ind in model.indicators_]})"
        )


def lmr_test(
    null_model,
    model,
    data: pd.DataFrame | None = None,
    weights=None,
    unknown: str = "error",
) -> LMRResult:
    """The Vuong-Lo-Mendell-Rubin and adjusted LMR tests of fewer against more classes.

    Mplus's TECH11: is the model with more classes (``model``, K classes)
    significantly better than ``null_model`` (usually K-1 classes), fitted
    to the same data? A small p-value says yes. No model is refitted, so the
    test takes a fraction of a second, against minutes for the bootstrap
    likelihood ratio test (:func:`lca.blrt`), which simulation studies
    find more reliable (see Notes).

    Parameters
    ----------
    null_model, model : LatentClassModel
        Fitted to the same data and indicators; ``null_model`` has fewer
        classes. The theory is for maximum likelihood (``bayes_constant=0``,
        as Mplus fits); with Bayes constants the estimates are posterior
        modes and the test is approximate (in the simulations of the Notes
        it was less liberal with them).
    data : pandas.DataFrame, optional
        The data both were fitted to, for models that keep no pattern table
        (loaded from a file); by default the fitted patterns are used.
    weights : str or array-like, optional
        With ``data``: the weights the models were fitted with.
    unknown : {"error", "missing"}, default="error"
        With ``data``: what to do with an answer that is not a category of
        the models.

    Returns
    -------
    LMRResult
        ``statistic`` (2 times the log-likelihood difference), ``df``,
        ``mean`` and ``sd`` of its distribution, ``p_value`` (VLMR),
        ``adjusted_statistic`` and ``adjusted_p_value`` (adjusted LMR), and
        the distribution's ``weights``.

    Notes
    -----
    The statistic's distribution is a weighted sum of chi-square(1)
    variables whose weights come from both models' scores and Hessians
    (Vuong 1989; Lo, Mendell & Rubin 2001); see :mod:`lca.lmr` for the
    formulas. Weights count as frequency weights, as in the standard
    errors. The theory assumes regularity conditions that a K-1 class model
    inside a K class model does not meet (Jeffries 2003), and in simulations
    the test can reject a true K-1 class model too often (Nylund,
    Asparouhov & Muthen 2007); report it with the BLRT and the information
    criteria rather than alone: on data simulated from K-1 classes it
    rejected them at the 5% level in 14-41% of the data sets
    (``benchmarks/calibrate_lmr.py``). If the model with more classes has the
    lower log-likelihood (a local maximum: refit it with more starts), the
    statistic is negative, a warning says so, and the p-values are 1 or
    near it.

    Examples
    --------
    >>> import lca
    >>> df = lca.datasets.load_gss82()
    >>> m2 = lca.LatentClassModel(2, bayes_constant=0).fit(df)
    >>> m3 = lca.LatentClassModel(3, bayes_constant=0).fit(df)
    >>> lca.lmr_test(m2, m3).p_value  # doctest: +SKIP
    """
    _check_pair(null_model, model)
    pat_f, w_f, scores_f, info_f = _scores_and_information(model, data, weights, unknown)
    pat_g, w_g, scores_g, info_g = _scores_and_information(null_model, data, weights, unknown)
    if not (
        pat_f.shape == pat_g.shape and np.array_equal(pat_f, pat_g) and np.array_equal(w_f, w_g)
    ):
        raise ValueError(
            "the two models were fitted to different data (their answer patterns or weights "
            "differ); fit both to the same data, or give it: lmr_test(m1, m2, data=df, "
            "weights=...)"
        )
    lam = vuong_weights(scores_f, info_f, scores_g, info_g, w_f)
    statistic = 2.0 * (float(model.loglik_) - float(null_model.loglik_))
    df = int(model.n_parameters_) - int(null_model.n_parameters_)
    n = float(np.sum(w_f))
    if statistic < 0:
        warn(
            f"the {model.n_classes_}-class model's log-likelihood ({model.loglik_:.4f}) is "
            f"below the {null_model.n_classes_}-class model's ({null_model.loglik_:.4f}): it "
            "is a local maximum; refit it with more random starts (n_starts) before testing",
            UserWarning,
        )
    adjusted = statistic / (1.0 + 1.0 / (df * math.log(n))) if df > 0 and n > 1 else statistic
    if lam.size == 0:
        raise ValueError("the distribution of the statistic has no non-zero weight")
    return LMRResult(
        n_classes=int(model.n_classes_),
        statistic=statistic,
        df=df,
        mean=float(np.sum(lam)),
        sd=float(np.sqrt(2.0 * np.sum(lam**2))),
        p_value=weighted_chi2_sf(statistic, lam),
        adjusted_statistic=float(adjusted),
        adjusted_p_value=weighted_chi2_sf(adjusted, lam),
        weights=lam,
        n_obs=n,
        loglik_null=float(null_model.loglik_),
        loglik_alt=float(model.loglik_),
    )
