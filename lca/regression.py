"""One-step latent class regression: class membership a multinomial logit of covariates.

The latent class model with covariates inside it (Dayton & Macready 1988;
poLCA's ``formula = cbind(...) ~ x``, Latent GOLD's active covariates,
StepMix's ``n_steps=1``): ``P(X = k | z) = softmax(z' beta)_k`` with the
reference class's coefficients 0, and the indicators independent given the
class as in :class:`lca.LatentClassModel`. All parameters are estimated
together, by EM (:mod:`lca._regression_em`), from the maximum of the model
without covariates and from random starts.

Methodologists prefer the bias-adjusted three-step approach
(:meth:`lca.LatentClassModel.covariate_effects`) when the classes should be
defined by the indicators alone: in one step the covariates take part in
forming the classes, and adding or dropping one changes them. The one-step
estimates are the efficient ones when the model holds.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Hashable, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from . import _em, _kernels, _regression_em, criteria
from .encoding import DataError, compress, encode
from .exceptions import ConvergenceWarning, NotFittedError, warn
from .model import (
    LatentClassModel,
    _aligned_rows,
    _check_int,
    _check_real,
    as_frame,
    warn_unknown_as_missing,
)
from .standard_errors import StandardErrors, layout, on_boundary
from .survey_design import (
    ScoreTotals,
    check_not_weights,
    design_column,
    refuse_design,
    survey_design,
    with_adjusted_f,
)
from .three_step import (
    _SINGULAR,
    EXTREME_LOGIT,
    Design,
    _as_covariate_frame,
    _check_missing,
    _check_rank,
    _finite_numbers,
    coefficient_tables,
    separated_by,
    standardised,
    tables_text,
)
from .three_step import _inverse as _step3_inverse

SE_METHODS = ("hessian", "robust", "design")


class LatentClassRegression:
    """Latent class model whose class sizes depend on covariates, fitted in one step.

    Parameters
    ----------
    n_classes : int, default=2
        Number of latent classes K.
    reference : int, default=1
        The class (1..K, numbered by decreasing average size) whose
        coefficients are 0; the others' are log odds against it.
    se_method : {"hessian", "robust", "design"}, default="hessian"
        Standard errors of the coefficients from the observed information
        matrix of all parameters (Louis's formula, as
        :meth:`LatentClassModel.standard_errors`), or the sandwich; or
        ``"design"``, design-based for a complex sample: the weights are
        sampling weights and ``fit`` takes the rows' ``strata`` and
        ``clusters`` (see :mod:`lca.survey_design`).
    n_starts : int, default=16
        Random starts of the model without covariates (as
        :class:`lca.LatentClassModel`), and as many of the regression itself:
        random class-conditional probabilities with random slopes (Normal(0, 1)
        log-odds per interquartile range of a numeric covariate, per category of
        a categorical one). With the maximum without covariates as one more start,
        each runs ``burn_in`` EM iterations and the ``n_final`` best go on to
        convergence. Where the covariates, more than the indicators, tell the
        classes apart, the maximum without covariates can be a poor start.
    n_final : int or None, default=None
        ``None``: a quarter of the regression's starts, at least 2.
    burn_in : int, default=50
    random_state, bayes_constant, class_bayes_constant, ordinal, categories, \
max_categories, n_jobs
        As for :class:`lca.LatentClassModel`.
    max_iter : int, default=5000
        Most EM iterations (E-steps) of the regression model.
    tol : float, default=1e-12
        Convergence when an EM iteration raises the objective by less than
        ``tol * |objective|``.
    accelerate : bool, default=True
        SQUAREM, as :class:`lca.LatentClassModel` has it (for the model without
        covariates too): an extrapolation in the log conditional probabilities and
        the coefficients (by the step length the conditional probabilities and
        class sizes set), kept only when it does not lower the objective nor
        shrink a class to a tenth. On simulated data it took 1.2-1.7x less time
        and reached the same maximum in 32 of 36 fits; in the other four (6
        classes fitted to 500-1,000 rows of 5) the two ended at different
        maxima, the accelerated one lower in three; in a review's 50 other fits
        it was lower in none and higher in two, and of 172 runs from one start
        it ended lower in 2 and higher in 6. False gives plain EM (as a
        regression saved or pickled before this option has).

    Attributes
    ----------
    coefficients_ : pandas.DataFrame
        Index (class, term) for every class but the reference: ``coef`` (log
        odds against the reference class), ``se``, ``z``, ``p_value`` and
        ``odds_ratio``.
    wald_ : pandas.DataFrame
        One row per covariate (and the intercept): the Wald test that all its
        coefficients are 0, ``statistic``, ``df``, ``p_value``; with
        ``se_method="design"`` also the adjusted F (``f``, ``f_df1``, ``f_df2``,
        ``f_p_value``; :func:`lca.survey_design.adjusted_f`).
    design_df_ : int or None
        With ``se_method="design"``: the design's degrees of freedom, PSUs
        less strata.
    beta_ : pandas.DataFrame
        The coefficients as a (term, class) table, the reference class's 0.
    covariance_ : numpy.ndarray
        Covariance of the coefficients, in the order of ``coefficients_``.
    class_sizes_ : pandas.Series
        The classes' average probability over the respondents (weighted).
    conditional_probs_ : dict of pandas.DataFrame
        Indicator name -> (category x class) table of P(y_j = c | k).
    loglik_, log_prior_ : float
        Log-likelihood and log of the Bayes constants' priors at the estimates
        (the objective is their sum).
    n_parameters_ : int
        (K - 1) coefficients per term plus the conditional probabilities'.
    n_obs_ : float
        Sum of the weights.
    converged_ : bool
    n_iter_ : int
        EM iterations (E-steps) of the regression's best start.
    n_starts_at_best_ : int
        Of the regression's starts run to convergence, how many reached the best
        objective (relative 1e-6); 1 means it did not replicate: use more starts.
    measurement_model_ : LatentClassModel
        The model without covariates that gave the start.
    design_ : lca.three_step.Design
        How the covariates are coded (numeric as they are; other columns one
        indicator per category but the first); ``predict`` reuses it.
    indicators_ : list of Indicator
    """

    def __init__(
        self,
        n_classes: int = 2,
        *,
        reference: int = 1,
        se_method: str = "hessian",
        n_starts: int = 16,
        n_final: int | None = None,
        burn_in: int = 50,
        random_state=0,
        bayes_constant: float = 1.0,
        class_bayes_constant: float | None = None,
        ordinal=None,
        categories=None,
        max_categories: int = 50,
        max_iter: int = 5000,
        tol: float = 1e-12,
        accelerate: bool = True,
        n_jobs: int | None = 1,
    ) -> None:
        self.n_classes = n_classes
        self.reference = reference
        self.se_method = se_method
        self.n_starts = n_starts
        self.n_final = n_final
        self.burn_in = burn_in
        self.random_state = random_state
        self.bayes_constant = bayes_constant
        self.class_bayes_constant = class_bayes_constant
        self.ordinal = ordinal
        self.categories = categories
        self.max_categories = max_categories
        self.max_iter = max_iter
        self.tol = tol
        self.accelerate = accelerate
        self.n_jobs = n_jobs

    def __setstate__(self, state: dict) -> None:
        """Unpickling; a regression pickled before ``accelerate`` existed was fitted by
        plain EM, and refits so; one fitted before ``design_df_`` had no design."""
        state.setdefault("accelerate", False)
        if "coefficients_" in state:  # fitted before design-based standard errors
            state.setdefault("design_df_", None)
        self.__dict__.update(state)

    # -- scikit-learn's parameter protocol -------------------------------------------------

    @classmethod
    def _param_names(cls) -> list[str]:
        return [p for p in inspect.signature(cls.__init__).parameters if p != "self"]

    def get_params(self, deep: bool = True) -> dict:
        """Constructor arguments by name (``deep`` is ignored)."""
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params) -> LatentClassRegression:
        """Set constructor arguments; they change the next fit."""
        names = self._param_names()
        for key, value in params.items():
            if key not in names:
                raise ValueError(f"unknown parameter {key!r}; valid ones are {names}")
            setattr(self, key, value)
        return self

    def __repr__(self) -> str:
        return f"LatentClassRegression(n_classes={self.n_classes!r})"

    def _measurement(self) -> LatentClassModel:
        return LatentClassModel(
            self.n_classes,
            n_starts=self.n_starts,
            random_state=self.random_state,
            bayes_constant=self.bayes_constant,
            class_bayes_constant=self.class_bayes_constant,
            ordinal=self.ordinal,
            categories=self.categories,
            max_categories=self.max_categories,
            accelerate=self.accelerate,
            n_jobs=self.n_jobs,
        )

    def _validate_params(self) -> None:
        k = self.n_classes
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 2:
            raise ValueError(f"a regression on covariates needs n_classes >= 2, not {k!r}")
        if self.reference not in range(1, int(k) + 1):
            raise ValueError(f"reference must be a class 1..{k}, not {self.reference!r}")
        if self.se_method not in SE_METHODS:
            raise ValueError(f"se_method must be one of {SE_METHODS}, not {self.se_method!r}")
        _check_int("n_starts", self.n_starts, 1)  # the model without covariates needs one
        _check_int("max_iter", self.max_iter, 1)
        _check_int("burn_in", self.burn_in, 1)
        _check_int("n_final", self.n_final, 1, allow_none=True)
        _check_real("tol", self.tol, 0.0, strict=True)
        if not isinstance(self.accelerate, (bool, np.bool_)):
            raise ValueError(f"accelerate must be True or False, got {self.accelerate!r}")
        self._measurement()._validate_params()  # its options: Bayes constants, n_jobs, ...

    # -- fitting ---------------------------------------------------------------------------

    def fit(
        self,
        data: pd.DataFrame,
        covariates: pd.DataFrame | pd.Series | Hashable | Sequence[Hashable],
        *,
        weights=None,
        strata=None,
        clusters=None,
        fpc=None,
    ) -> LatentClassRegression:
        """Fit the model to survey answers and the respondents' covariates.

        Parameters
        ----------
        data : pandas.DataFrame
            The indicators, as for :meth:`LatentClassModel.fit`.
        covariates : pandas.DataFrame, pandas.Series, column name or list of names
            One row per respondent, matched to ``data`` by its index (the
            same labels in another order are reordered), or columns of
            ``data`` (which are then not indicators). Numeric covariates
            enter as they are, others (text, categorical, bool) by one
            indicator column per category but the first. A missing value is
            refused: no row is dropped silently.
        weights : array-like, pandas.Series, str or None
            Case weights, as for :meth:`LatentClassModel.fit`.
        strata, clusters, fpc : str, array-like or None
            With ``se_method="design"``: each row's stratum, primary sampling
            unit and finite population correction (as for
            :meth:`LatentClassModel.standard_errors`), as columns of ``data``
            (which are then not indicators) or one value per row. Without
            ``clusters`` every respondent is a PSU; without ``strata`` there
            is one stratum.

        Returns
        -------
        self : LatentClassRegression
        """
        self._validate_params()
        for name in [n for n in vars(self) if n.endswith("_") or n.startswith("_")]:
            delattr(self, name)  # a failed refit leaves no earlier fit behind
        if isinstance(covariates, (pd.DataFrame, pd.Series)):
            _check_not_indicators(data, _as_covariate_frame(covariates), weights)
        data, covs = _split_covariates(data, covariates)
        if isinstance(weights, str):
            _check_not_indicators(None, covs, weights)
        data, spec = self._split_design(data, (strata, clusters, fpc), covs, weights)
        measurement = self._measurement()
        measurement._start_fit(None)
        encoded = measurement._encode(data, weights)
        measurement._fit_encoded(encoded)
        if weights is None:
            w = np.ones(encoded.n_rows)
        else:
            data, w = measurement._split_weights(data, weights)
        covs = _aligned_rows(covs, encoded.index, "covariates")
        for col in covs.columns:  # every row, counted or not: none is dropped silently
            _check_missing(covs[col])
        positive = w > 0
        counted = covs[positive]
        try:
            design = Design.from_frame(counted)
        except DataError as err:
            if positive.all():
                raise
            raise DataError(
                f"{err} (among the rows of positive weight: rows of weight 0 count for nothing)"
            ) from None
        if not positive.all():
            _check_uncounted_rows(design, covs[~positive])
        z = design.matrix(counted)
        if np.linalg.matrix_rank(z) < z.shape[1]:
            _check_rank(z, design.terms)
        zs, transform = standardised(z, design)
        survey = None
        if self.se_method == "design":
            frame = pd.DataFrame(index=encoded.index)
            survey = survey_design(frame, *spec).subset(positive)
        wp = w[positive]
        inverse = encoded.inverse[positive]
        patterns = encoded.patterns
        offsets, ordinal = measurement._offsets, measurement._ordinal
        k = int(self.n_classes)
        beta0 = np.zeros((z.shape[1], k))
        beta0[0] = measurement._log_class - measurement._log_class[0]
        cond_prior = measurement._cond_prior
        class_prior = float(measurement._class_prior)
        res = self._search(
            (patterns, inverse, wp, zs, offsets, ordinal, class_prior, cond_prior),
            [(measurement._log_cond.copy(), beta0)],
        )

        # classes by decreasing average size; the reference class's coefficients 0
        total = float(wp.sum())
        pi = np.exp(res["log_pi"])
        order = np.argsort(-(wp @ pi) / total, kind="stable")
        pi, post = pi[:, order], res["post"][:, order]
        log_cond = res["log_cond"][:, order]
        gamma = res["beta"][:, order]
        ref = int(self.reference) - 1
        gamma = gamma - gamma[:, [ref]]
        free = [s for s in range(k) if s != ref]
        sizes = (wp @ pi) / total

        cond_probs = np.exp(log_cond)
        pattern_post = res["pattern_post"][:, order]
        counts = _kernels.class_counts(patterns, offsets, pattern_post, int(offsets[-1]))
        fixed = on_boundary(
            patterns, None, None, cond_probs, offsets, ordinal, cond_prior,
            unit=total / max(1, int(positive.sum())), counts=counts,
        )  # fmt: skip
        n_beta = len(free) * z.shape[1]
        lay = _regression_em.shifted(layout(sizes, cond_probs, offsets, ordinal, fixed), n_beta)
        class_share = class_prior / total
        totals = None
        if survey is not None:  # every row its own pattern of scores
            totals = ScoreTotals(survey, np.arange(wp.size), wp, wp.size, lay.n_free)
        info, opg = _regression_em.information(
            patterns, inverse, wp, zs, post, pi, cond_probs, offsets, lay, free, class_share,
            cond_prior, counts, totals,
        )  # fmt: skip
        # a coefficient that separation sends to infinity is held there (NaN standard
        # error), as in step 3; so is one on a flat direction of the information
        scaled = gamma[:, free].T.ravel()

        def objective(theta):
            moved = _regression_em.with_free(gamma, free, theta)
            with np.errstate(over="ignore", under="ignore", invalid="ignore", divide="ignore"):
                return _regression_em.evaluate(
                    patterns, inverse, wp, zs, offsets, log_cond, moved, class_share, cond_prior
                )[0]

        separated = separated_by(scaled, len(free), z.shape[1], objective, 1e-6 * total)
        mask = np.zeros(lay.n_free, dtype=bool)
        mask[:n_beta] = separated
        inv, flat = _step3_inverse(info, mask)
        if self.se_method == "hessian":
            cov = inv
        else:
            cov = inv @ (opg if totals is None else totals.middle()) @ inv
        cov[flat, :] = cov[:, flat] = np.nan
        back = np.kron(np.eye(len(free)), transform)  # theta = back @ gamma
        theta = back @ scaled
        mixed = flat[:n_beta] & ~separated
        flat_beta = separated | ((np.abs(back) > 0) @ mixed > 0)
        cov_beta = back @ np.where(np.isnan(cov[:n_beta, :n_beta]), 0.0, cov[:n_beta, :n_beta])
        cov_beta = cov_beta @ back.T
        cov_beta = 0.5 * (cov_beta + cov_beta.T)  # symmetric to the last bit
        cov_beta[flat_beta, :] = cov_beta[:, flat_beta] = np.nan
        names = [(s + 1, term) for s in free for term in design.terms]
        _warn_separation(names, flat_beta, separated, scaled, z.shape[1])
        se_sizes, se_cells = _regression_em.profile_errors(
            cov, flat, lay, sizes, cond_probs, offsets, zs, wp, pi, free
        )
        beta = np.zeros((z.shape[1], k))
        beta[:, free] = theta.reshape(len(free), z.shape[1]).T
        design_df = None if survey is None else survey.df
        self._set_estimates(design, beta, cov_beta, sizes, cond_probs, measurement, design_df)
        self._set_profile_errors(se_sizes, se_cells, lay.boundary, lay.n_free, int(flat.sum()))
        n_patterns = patterns.shape[0]
        self._patterns = patterns  # kept for the bivariate residuals, as the model keeps them
        self._pattern_weights = np.bincount(inverse, weights=wp, minlength=n_patterns)
        self._pattern_class_mass = np.column_stack(
            [np.bincount(inverse, weights=wp * pi[:, s], minlength=n_patterns) for s in range(k)]
        )
        self.loglik_ = float(res["loglik"])
        self.log_prior_ = float(res["objective"] - res["loglik"])
        n_cats = [ind.n_categories for ind in self.indicators_]
        self.n_parameters_ = n_beta + criteria.n_parameters(k, n_cats, ordinal) - (k - 1)
        self.n_obs_ = total
        self.n_rows_ = int(encoded.n_rows)
        self.converged_ = bool(res["converged"])
        self.n_iter_ = int(res["n_iter"])
        self.n_starts_at_best_ = int(res["n_at_best"])
        sums = criteria.pattern_sums(post, wp, res["row_loglik"], np.zeros(len(wp), dtype=bool))
        stats_ = criteria.fit_statistics(
            sums=sums, log_prior=self.log_prior_, n_par=self.n_parameters_,
            class_sizes=sizes, n_cells=math.prod(n_cats),
        )  # fmt: skip
        for name in ("df", "L2", "X2"):  # against the indicators' cross-table: not with z
            stats_[name] = math.nan
        self._stats = stats_
        if not self.converged_:
            warn(
                f"the latent class regression did not converge within max_iter={self.max_iter}"
                " EM iterations; raise max_iter",
                ConvergenceWarning,
            )
        return self

    def _split_design(self, data, spec, covs, weights) -> tuple:
        """``(data, spec)``: the design's columns (``spec`` is ``(strata, clusters,
        fpc)``) named in ``data`` taken out of it (they are not indicators), after
        checking they go with ``se_method="design"``."""
        if all(v is None for v in spec):
            return data, spec
        refuse_design(spec, self.se_method, "se_method")
        check_not_weights(spec, weights)
        named = [v for v in spec if isinstance(v, str)]
        if named and not isinstance(data, pd.DataFrame):
            raise TypeError("strata, clusters or fpc given by name need data as a DataFrame")
        values = []
        for what, v in zip(("strata", "clusters", "fpc"), spec):
            data, v = _design_values(data, v, what, covs)
            values.append(v)
        return data, tuple(values)

    def _search(self, data: tuple, starts: list) -> dict:
        """The best of EM from ``starts`` (the maximum without covariates) and
        ``n_starts`` random ones: each ``burn_in`` iterations, the ``n_final`` best then
        to convergence (as :class:`LatentClassModel` searches), in the standardised
        design matrix of ``data``. Returns :func:`_regression_em.regression_em`'s
        result at the best, and the starts at its objective in ``"n_at_best"``."""
        patterns, inverse, w, z, offsets, ordinal, class_prior, cond_prior = data
        k = int(self.n_classes)
        free = list(range(1, k))
        rng = _start_generator(self.random_state)
        for _ in range(int(self.n_starts)):
            _, log_cond = _em.random_start(rng, k, offsets, ordinal)
            beta = np.zeros((z.shape[1], k))
            beta[1:, 1:] = rng.normal(size=(z.shape[1] - 1, k - 1))  # slopes, per IQR
            starts.append((log_cond, beta))

        def run(start, n_iter):
            log_cond, beta = start
            out = _regression_em.regression_em(
                patterns, inverse, w, z, offsets, ordinal, log_cond.copy(), beta.copy(), free,
                class_prior, cond_prior, n_iter, float(self.tol),
                accelerate=bool(self.accelerate),
            )  # fmt: skip
            # (point, objective, loglik, E-steps, converged), as _em._search reads a run
            point = (out["log_cond"], out["beta"])
            return (*point, out["objective"], out["loglik"], out["n_iter"], out["converged"])

        n_final = self.n_final if self.n_final is not None else max(2, len(starts) // 4)
        best = _em._search(
            starts,
            n_final,
            int(self.burn_in),
            int(self.max_iter),
            lambda items: _em._map(run, items, _em.effective_n_jobs(self.n_jobs), True),
        )
        # _em._search names the point (log_class, log_cond): here (log_cond, beta)
        state = _regression_em.evaluate(
            patterns, inverse, w, z, offsets, best.log_class, best.log_cond,
            class_prior / float(np.sum(w)), cond_prior,
        )  # fmt: skip
        return {
            "log_cond": best.log_class,
            "beta": best.log_cond,
            **dict(zip(_regression_em.STATE, state)),
            "n_iter": best.n_iter,
            "converged": best.converged,
            "n_at_best": best.n_starts_at_best,
        }

    def _set_estimates(
        self, design, beta, cov_beta, sizes, cond_probs, measurement, design_df=None
    ) -> None:
        """The fitted coefficients and measurement part, from fit or from a file (the
        same numbers give the same attributes, bit for bit); ``design_df``, with
        ``se_method="design"``, the design's degrees of freedom."""
        k = beta.shape[1]
        classes = pd.RangeIndex(1, k + 1, name="class")
        free = [s for s in range(k) if s != int(self.reference) - 1]
        theta = beta[:, free].T.ravel()
        names = [(classes[s], term) for s in free for term in design.terms]
        self.coefficients_, self.wald_ = coefficient_tables(theta, cov_beta, names, design)
        self.design_df_ = design_df
        if design_df is not None:  # the adjusted Wald F on the design's degrees of freedom
            self.wald_ = with_adjusted_f(self.wald_, "statistic", design_df)
        self.beta_ = pd.DataFrame(beta, index=pd.Index(design.terms, name="term"), columns=classes)
        self.covariance_ = cov_beta
        self.design_ = design
        self.indicators_ = list(measurement.indicators_)
        self._offsets, self._ordinal = measurement._offsets, measurement._ordinal
        self._cond_probs = cond_probs
        with np.errstate(divide="ignore"):  # a probability estimated at 0
            self._log_cond = np.log(cond_probs)
        self.class_sizes_ = pd.Series(sizes, index=classes, name="size")
        offsets = self._offsets
        self._profile_model = LatentClassModel.from_parameters(
            sizes,
            {
                ind.name: pd.DataFrame(
                    cond_probs[offsets[j] : offsets[j + 1]],
                    index=pd.Index(ind.categories, tupleize_cols=False),
                    columns=classes,
                )
                for j, ind in enumerate(self.indicators_)
            },
        )
        self.conditional_probs_ = self._profile_model.conditional_probs_
        self.measurement_model_ = measurement

    def _set_profile_errors(self, se_sizes, se_cells, boundary, n_free: int, n_flat: int):
        prof = self._profile_model.profile()
        self._se = StandardErrors(
            class_sizes=pd.Series(se_sizes, index=self.class_sizes_.index, name="se"),
            profile=pd.DataFrame(se_cells, index=prof.index, columns=prof.columns),
            method=self.se_method,
            n_free=int(n_free),
            rank=int(n_free - n_flat),
            boundary=pd.DataFrame(boundary, index=prof.index, columns=self.class_sizes_.index),
            estimates=prof,
            estimated_sizes=self.class_sizes_.copy(),
            design_df=self.design_df_,
        )

    def standard_errors(self) -> StandardErrors:
        """Standard errors of the class sizes and of every probability in the profile.

        From the covariance of all parameters that gives the coefficients' (the
        observed information, the sandwich with ``se_method="robust"``, or the
        design-based sandwich with ``se_method="design"``), by the
        delta method: a class size, the average of the respondents' class
        probabilities, through the coefficients; a conditional probability through
        its own parameters; the ``Total`` through both. A probability on the
        boundary (estimated at 0, see :meth:`LatentClassModel.standard_errors`),
        or one that a parameter not identified enters, is NaN.

        Returns
        -------
        lca.standard_errors.StandardErrors
            As :meth:`LatentClassModel.standard_errors` gives it
            (``to_frame()`` puts estimates and errors side by side).
        """
        self._check_fitted()
        return self._se

    def bivariate_residuals(self) -> pd.DataFrame:
        """Bivariate residuals (Latent GOLD's BVR) of every pair of indicators.

        The expected two-way tables use each respondent's class probabilities
        given the covariates (see :func:`lca.diagnostics.bivariate_residuals`).

        Returns
        -------
        pandas.DataFrame of shape (n_indicators, n_indicators)
            Symmetric; the diagonal is NaN.
        """
        from .diagnostics import bivariate_residuals

        self._check_fitted()
        if getattr(self, "_patterns", None) is None:
            raise NotFittedError(
                "this regression was loaded from a file and keeps no data; fit it to the "
                "data in this session for bivariate residuals"
            )
        return bivariate_residuals(self)

    def save(self, path) -> None:
        """Write the fitted model to one JSON file (no pickle), the model without
        covariates inside it; :func:`lca.load` reads it back."""
        self._check_fitted()
        from .io import save_model

        save_model(self, path)

    # -- results ---------------------------------------------------------------------------

    def _check_fitted(self) -> None:
        if not hasattr(self, "beta_"):
            raise NotFittedError("this LatentClassRegression is not fitted yet; call fit first")

    @property
    def classes_(self) -> pd.RangeIndex:
        self._check_fitted()
        return self.beta_.columns

    @property
    def n_classes_(self) -> int:
        """K, the number of classes fitted."""
        return len(self.classes_)

    def fit_stats(self) -> pd.Series:
        """The fit statistics of :meth:`LatentClassModel.fit_stats`, the information
        criteria with the coefficients counted; L2, X2 and df are NaN (the cross-table
        of the indicators is not what a model with covariates predicts)."""
        self._check_fitted()
        return pd.Series(self._stats, name="value")

    def likelihood_ratio_test(self) -> pd.Series:
        """Against the model without covariates (``measurement_model_``): the statistic
        ``2 (loglik_ - loglik_0)``, its ``df`` (the slopes: K - 1 per term but the
        intercept) and the chi-square ``p_value``. Exact with ``bayes_constant=0``;
        both maxima must be global ones."""
        self._check_fitted()
        stat = 2.0 * (self.loglik_ - self.measurement_model_.loglik_)
        df = (len(self.design_.terms) - 1) * (len(self.classes_) - 1)
        return pd.Series(
            {"statistic": stat, "df": df, "p_value": float(stats.chi2.sf(max(stat, 0.0), df))}
        )

    def profile(self) -> pd.DataFrame:
        """Class-conditional probabilities with the ``Total`` column, as
        :meth:`LatentClassModel.profile` (the class sizes those of ``class_sizes_``)."""
        self._check_fitted()
        return self._profile_model.profile()

    def prior_proba(self, covariates: pd.DataFrame | pd.Series) -> pd.DataFrame:
        """Class probabilities given the covariates alone, ``P(class | z)``.

        Parameters
        ----------
        covariates : pandas.DataFrame or pandas.Series
            Every covariate of the fit (extra columns are ignored).

        Returns
        -------
        pandas.DataFrame
            Index ``covariates.index``, columns the classes; rows sum to 1.
        """
        self._check_fitted()
        covs = _as_covariate_frame(covariates)
        z = self.design_.matrix(covs)
        log_pi = _regression_em.log_softmax_rows(z @ self.beta_.to_numpy())
        return pd.DataFrame(np.exp(log_pi), index=covs.index, columns=self.classes_)

    def _posteriors(self, data, covariates, unknown: str):
        self._check_fitted()
        if unknown not in ("error", "missing"):
            raise ValueError(f"unknown must be 'error' or 'missing', not {unknown!r}")
        data, covs = _split_covariates(data, covariates)
        data = as_frame(data)
        covs = _aligned_rows(covs, data.index, "covariates")
        codes = encode(data, self.indicators_, unknown=unknown)
        if unknown == "missing":
            warn_unknown_as_missing(data, self.indicators_, codes)
        patterns, _, inverse = compress(codes, np.zeros(codes.shape[0]))
        z = self.design_.matrix(covs)
        log_pi = _regression_em.log_softmax_rows(z @ self.beta_.to_numpy())
        class_ll = _kernels.class_loglik(patterns, self._offsets, self._log_cond)
        post, row_ll, _ = _kernels.regression_estep(
            log_pi, class_ll, inverse.astype(np.int64), np.zeros(len(inverse))
        )
        impossible = int(np.sum(~np.isfinite(row_ll)))
        if impossible:
            warn(
                f"{impossible} row(s) have answers that are impossible under every class "
                "(probabilities estimated as exactly 0, as maximum likelihood can); their "
                "posterior is their class probabilities given the covariates. Fit with "
                "bayes_constant > 0 to avoid this",
                UserWarning,
            )
        return post, data.index

    def predict_proba(self, data: pd.DataFrame, covariates, unknown: str = "error") -> pd.DataFrame:
        """Posterior class probabilities of each respondent given answers and covariates.

        Parameters
        ----------
        data : pandas.DataFrame or dask.dataframe.DataFrame
            The indicator columns (order free, extra columns ignored). A Dask
            DataFrame gives a lazy Dask result, partition by partition.
        covariates : pandas.DataFrame, pandas.Series, column name or list of names
            As for :meth:`fit`, matched to ``data`` by index; with Dask, names
            of columns of ``data``.
        unknown : {"error", "missing"}, default="error"
            What to do with a category never seen in fitting.

        Returns
        -------
        pandas.DataFrame
            Index ``data.index``, columns the classes; rows sum to 1.
        """
        dask = self._dask_predict(data, covariates, "predict_proba", unknown)
        if dask is not None:
            return dask
        post, index = self._posteriors(data, covariates, unknown)
        return pd.DataFrame(post, index=index, columns=self.classes_)

    def predict(self, data: pd.DataFrame, covariates, unknown: str = "error") -> pd.Series:
        """Modal class of each respondent (ties to the lower class), indexed like ``data``."""
        dask = self._dask_predict(data, covariates, "predict", unknown)
        if dask is not None:
            return dask
        post, index = self._posteriors(data, covariates, unknown)
        return pd.Series(
            criteria.modal_assignment(post) + 1, index=index, name="class", dtype=np.int64
        )

    def _dask_predict(self, data, covariates, method: str, unknown: str):
        """A Dask DataFrame partition by partition (lazy, every row, the input's index);
        its covariates are columns of it, given by name. None for data in memory."""
        from ._dask import is_dask_collection, predict_dask

        if not is_dask_collection(data):
            return None
        self._check_fitted()
        if isinstance(covariates, (pd.DataFrame, pd.Series)) or is_dask_collection(covariates):
            raise TypeError(
                "with a Dask DataFrame, give the covariates as column names of it "
                f"(covariates={list(self.design_.variables)!r}), so that each partition "
                "carries its own rows' covariates"
            )
        return predict_dask(self, data, method, covariates=covariates, unknown=unknown)

    def as_text(self) -> str:
        """The coefficients, the Wald tests and the fit, as text."""
        self._check_fitted()
        fs = self._stats
        head = (
            f"Latent class regression: {len(self.classes_)} classes, reference class "
            f"{self.reference}, N = {self.n_obs_:g}, log-likelihood {self.loglik_:.3f}, "
            f"BIC {fs['bic']:.2f}, {self.n_parameters_} parameters, se={self.se_method}"
            + ("" if self.converged_ else " (NOT CONVERGED)")
        )
        return tables_text(
            head,
            [
                ("", self.coefficients_),
                ("Wald tests", self.wald_),
                ("Class sizes", self.class_sizes_),
            ],
        )

    def __str__(self) -> str:
        return self.as_text() if hasattr(self, "beta_") else repr(self)


def _start_generator(random_state) -> np.random.Generator:
    """The generator of the regression's random starts: a seed's own stream (not the
    one the model without covariates drew its starts from), or the Generator given."""
    if isinstance(random_state, np.random.Generator):
        return random_state
    if random_state is None:
        return np.random.default_rng()
    return np.random.default_rng([int(random_state), 1])


def _warn_separation(names, flat, separated, scaled, p: int) -> None:
    """Warnings for coefficients at infinity or not identified (``flat``), and for
    finite ones beyond ``EXTREME_LOGIT`` (``scaled``: per interquartile range of a
    numeric covariate, per category of a categorical one; ``p`` terms per class)."""
    if flat.any():
        which = ", ".join(f"class {c} {t}" for (c, t), f in zip(names, flat) if f)
        cause = "runs off to infinity" if separated.any() else "is not identified"
        warn(
            f"a regression coefficient {cause}: {which} (standard errors NaN). {_SINGULAR}; "
            "or fit with bayes_constant > 0, which keeps it finite",
            UserWarning,
        )
    slopes = np.ones(scaled.size, dtype=bool)
    slopes[::p] = False  # the intercepts
    extreme = slopes & (np.abs(scaled) > EXTREME_LOGIT) & ~flat
    if extreme.any():
        which = ", ".join(f"class {c} {t}" for (c, t), f in zip(names, extreme) if f)
        warn(
            f"near-perfect separation: {which} changes the log-odds by over {EXTREME_LOGIT:g} "
            "(per interquartile range of a numeric covariate), a class boundary with almost "
            "no overlap; the estimate and its standard error are not reliable. Merge rare "
            "categories, drop the covariate, or fit with bayes_constant > 0",
            UserWarning,
        )


def _design_values(data, values, what: str, covs):
    """``strata=``, ``clusters=`` or ``fpc=`` of ``fit``: a column name is taken out of
    ``data`` (returned with its values), other values are returned as they are."""
    if not isinstance(values, str):
        return data, values
    if values in covs.columns:
        raise DataError(f"{what}={values!r} is also a covariate")
    column, _ = design_column(values, data, what)  # refuses a name of no column
    return data.drop(columns=[values]), column


def _split_covariates(data, covariates) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(indicators, covariates)``: covariates named as columns of ``data`` are taken
    out of it; a frame or Series is returned as a frame (aligned by the caller)."""
    if isinstance(covariates, (pd.DataFrame, pd.Series)):
        return data, _as_covariate_frame(covariates)
    if not isinstance(data, pd.DataFrame):
        raise TypeError(
            "covariates given by name need data as a pandas DataFrame holding them; give "
            "the covariates as a DataFrame or Series instead"
        )
    if isinstance(covariates, (list, pd.Index)):
        names = list(covariates)
    elif isinstance(covariates, tuple) and covariates not in data.columns:
        names = list(covariates)  # several names (a tuple that is a column is one name)
    elif isinstance(covariates, Hashable) and not isinstance(covariates, np.ndarray):
        names = [covariates]
    else:
        raise TypeError(
            "covariates must be a pandas DataFrame or Series, or the name (or a list of "
            f"names) of columns of data, not {type(covariates).__name__}"
        )
    absent = [name for name in names if name not in data.columns]
    if absent:
        raise DataError(
            f"covariates {absent} are not columns of the data (they have {list(data.columns)})"
        )
    if not names:
        raise DataError("no covariates given")
    return data.drop(columns=names), data[names]


def _check_uncounted_rows(design: Design, uncounted: pd.DataFrame) -> None:
    """Rows of weight 0 are not fitted but are assigned: their numeric covariates must
    be finite, and a category they alone hold is refused (the fit learns nothing of it,
    so ``predict`` could not assign them)."""
    by_name = {str(c): c for c in uncounted.columns}
    for var in design.variables:
        column = uncounted[by_name[var]]
        if var not in design.levels:
            _finite_numbers(column, var)  # its own error, as for the rows that count
            continue
        try:
            design.level_positions(var, column)
        except DataError as err:
            raise DataError(
                f"{err}, give those rows a positive weight, or leave them out. Only rows of "
                "weight 0 hold that category, so the regression learns nothing of it and "
                "could not assign them"
            ) from None


def _check_not_indicators(data, covs: pd.DataFrame, weights) -> None:
    """A covariate frame's column left among the data's would be an indicator too; a
    weights column cannot be a covariate."""
    if isinstance(weights, str) and weights in [str(c) for c in covs.columns]:
        raise DataError(
            f"{weights!r} is the weights column; it cannot be a covariate too (give the "
            "weights and the covariates as different columns)"
        )
    if isinstance(data, pd.DataFrame):
        both = [c for c in covs.columns if c in data.columns and c != weights]
        if both:
            raise DataError(
                f"column {both[0]!r} of the data is a covariate too, so it would also be an "
                f"indicator; give the covariates by name (covariates={both!r}) to take them "
                "out of the indicators, or drop them from the data"
            )


def compare_regressions(
    data: pd.DataFrame,
    covariates,
    n_classes=range(2, 11),
    *,
    weights=None,
    strata=None,
    clusters=None,
    fpc=None,
    **options,
):
    """Latent class regressions with different numbers of classes, side by side.

    Parameters
    ----------
    data, covariates, weights, strata, clusters, fpc
        As for :meth:`LatentClassRegression.fit`.
    n_classes : iterable of int, default=range(2, 11)
        Numbers of classes, each 2 or more.
    **options
        :class:`LatentClassRegression` options (``n_starts``, ``bayes_constant``,
        ``random_state``, ...), the same for every model.

    Returns
    -------
    lca.Comparison
        As :func:`lca.compare` gives it: ``table`` indexed by ``n_classes`` with
        every ``fit_stats()`` entry (the information criteria count the
        coefficients; L2, X2 and df are NaN), ``smallest_class``,
        ``n_starts_at_best``, ``converged`` and ``max_bvr`` (the largest bivariate
        residual); ``models``;
        ``best(criterion)``, ``summary()`` and ``plot()``.
    """
    from .diagnostics import largest_residual
    from .selection import EXTRA_COLUMNS, Comparison

    ks = [int(k) for k in n_classes]
    if not ks or len(set(ks)) != len(ks):
        raise ValueError(f"n_classes must be distinct numbers of classes, got {ks}")
    models, rows = {}, {}
    for k in ks:
        model = LatentClassRegression(k, **options).fit(
            data, covariates, weights=weights, strata=strata, clusters=clusters, fpc=fpc
        )
        models[k] = model
        row = model.fit_stats().to_dict()
        row["smallest_class"] = float(np.min(model.class_sizes_.to_numpy()))
        row["n_starts_at_best"] = int(model.n_starts_at_best_)
        row["converged"] = bool(model.converged_)
        row["max_bvr"] = largest_residual(model.bivariate_residuals())
        rows[k] = row
    columns = [*criteria.FIT_STAT_NAMES, *EXTRA_COLUMNS]
    table = pd.DataFrame(
        [rows[k] for k in ks], index=pd.Index(ks, name="n_classes"), columns=columns
    )
    table = table.astype({"n_parameters": int, "n_starts_at_best": int, "converged": bool})
    return Comparison(table=table, models=models)
