"""Latent class models with direct effects: pairs of indicators associated within classes.

Latent GOLD's remedy for local dependence: when the bivariate residuals (or
their bootstrap p-values) show that two indicators are more associated than
the classes explain, a *direct effect* between them lets the two be
associated inside every class by the same amount, instead of adding classes
to absorb the association (Hagenaars 1988; Vermunt & Magidson 2005, the
Latent GOLD 4.0 user's guide, "direct effects"; Oberski 2016). poLCA and
StepMix have no such model.

:class:`DirectEffectsModel` is a :class:`lca.LatentClassModel` in which each
named pair ``(a, b)`` follows the loglinear model

    log P(a, b | k) = alpha_ka + beta_kb + gamma_ab  (normalised within class k)

while every other pair of indicators stays independent given the class. It is
fitted by EM (:mod:`lca._direct_em`), from the maximum of the model without
direct effects (fitted first, with the same options) and from random starts.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Hashable, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from . import _direct_em, _direct_se, _em, _kernels, criteria
from .encoding import MAX_CATEGORIES, DataError
from .exceptions import NotFittedError
from .model import LatentClassModel, dirichlet_priors, marginal_counts
from .standard_errors import RANK_TOL

#: What a method of LatentClassModel that this model does not have says.
_NOT_YET = (
    "{what} is not available for a DirectEffectsModel yet (its parameters are not "
    "those of a LatentClassModel); posteriors from predict_proba work for it"
)


#: A cell of a pair's table below this probability in every class counts as 0.
ZERO_CELL = 1e-12


def _effect_coded(joint: np.ndarray, log_joint: np.ndarray) -> np.ndarray:
    """A pair's association, effect coded over the categories that hold answers.

    A category whose every cell is 0 (declared but never given) is NaN and
    left out of the centring; any other cell at 0 (maximum likelihood can put
    one there) makes the association infinite, so the table is NaN. From the
    largest class (the association is the same in every class).
    """
    zero = joint.max(axis=2) < ZERO_CELL
    rows, cols = ~zero.all(axis=1), ~zero.all(axis=0)
    out = np.full(zero.shape, np.nan)
    inside = np.ix_(rows, cols)
    if not rows.any() or not cols.any() or zero[inside].any():
        return out
    sub = log_joint[:, :, 0][inside]
    out[inside] = sub - sub.mean(axis=0) - sub.mean(axis=1)[:, None] + sub.mean()
    return out


def _same_layout(model, layout, n_classes: int) -> bool:
    """Whether a fitted DirectEffectsModel has ``n_classes`` classes and the pairs and
    categories of ``layout`` (so that its estimates are a start of this fit)."""
    theirs = getattr(model, "_layout", None)
    return (
        theirs is not None
        and model.n_classes_ == n_classes
        and np.array_equal(theirs.n_categories, layout.n_categories)
        and np.array_equal(theirs.pairs, layout.pairs)
    )


def _pair_list(direct_effects) -> list[tuple]:
    """The option ``direct_effects`` as a list of 2-tuples, or ValueError."""
    example = "such as [('q1', 'q2')] or [('q1', 'q2'), ('q5', 'q7')]"
    if isinstance(direct_effects, (str, bytes)) or not isinstance(direct_effects, (list, tuple)):
        raise ValueError(
            f"direct_effects must be a list of pairs of indicator names, {example}; "
            f"got {direct_effects!r}"
        )
    pairs = []
    for pair in direct_effects:
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            raise ValueError(
                f"direct_effects must be a list of pairs of indicator names, {example}; "
                f"{pair!r} is not a pair"
            )
        a, b = pair
        if a == b:
            raise ValueError(f"direct effect ({a!r}, {b!r}) pairs an indicator with itself")
        pairs.append((a, b))
    if not pairs:
        raise ValueError(
            "direct_effects is empty: name at least one pair of indicators "
            "(a model without direct effects is a LatentClassModel)"
        )
    return pairs


class DirectEffectsModel(LatentClassModel):
    """Latent class model with direct effects between pairs of nominal indicators.

    Parameters
    ----------
    n_classes : int, default=2
        Number of latent classes K.
    direct_effects : list of pairs of column names
        The pairs ``(a, b)`` of indicators associated within the classes,
        such as ``[("q1", "q2")]``. Each association is the same in every
        class (Latent GOLD's direct effect; ``(C_a - 1)(C_b - 1)`` more
        parameters per pair). Both indicators must be nominal, and each
        indicator can be in one pair only.
    n_starts, n_final, burn_in, max_iter, tol, bayes_constant,
    class_bayes_constant, accelerate, ordinal, categories, max_categories, random_state, n_jobs
        As for :class:`lca.LatentClassModel`. The model without direct
        effects is fitted first with these options; its solution is one
        start, which is always run to convergence, beside ``n_starts``
        random ones (``n_final`` of which are finished). Indicators in no pair
        may be ordinal. The Bayes constant ``b`` puts pseudo-counts
        ``(b / K) f_a f_b`` on every cell of each class's table of a pair
        (``f`` the observed shares of the categories), so that without
        association the log-prior, and so the objective, is exactly that of
        :class:`lca.LatentClassModel` with the same Bayes constants. Whether
        Latent GOLD's prior for a pair with a direct effect is this one is not
        confirmed. With ``bayes_constant=0`` and empty cells EM can need many
        iterations; a Bayes constant above 0 avoids those boundary maxima.

    Attributes
    ----------
    direct_effects_ : dict of pandas.DataFrame
        ``(a, b)`` -> the association parameters ``gamma_ab`` (rows: the
        categories of ``a``; columns: those of ``b``) in effect coding (every
        row and column sums to 0), Latent GOLD's parameterisation. For two
        binary indicators the log odds ratio is ``4 gamma_11``. A category
        nobody gave (declared in ``categories=``) is NaN and left out of the
        coding; where maximum likelihood (``bayes_constant=0``) puts another
        cell of the pair's table at 0 the association is infinite and the
        table NaN.
    pair_probs_ : dict of pandas.DataFrame
        ``(a, b)`` -> ``P(a, b | k)``: rows (category of a, category of b),
        columns the classes.
    independence_loglik_, independence_n_parameters_ : float, int
        Log-likelihood and parameters of the model without direct effects,
        fitted to the same data with the same options; see
        :meth:`likelihood_ratio_test`.
    class_sizes_, conditional_probs_, loglik_, log_prior_, n_parameters_, ...
        As for :class:`lca.LatentClassModel`. ``conditional_probs_`` and
        ``profile()`` give each indicator's margins ``P(a | k)``;
        ``n_parameters_`` counts the direct effects.

    Notes
    -----
    ``predict``, ``predict_proba``, ``score_samples``, ``fit_stats`` (every
    statistic, from the likelihood with the direct effects),
    ``classification_table``, ``avepp``, ``profile``, ``crosstab``,
    ``bivariate_residuals``, ``sample``, ``summary``, ``save`` and
    ``lca.load`` work as for :class:`lca.LatentClassModel`, and ``bootstrap_gof``
    refits this model to every sample (drawn with the pairs' joint tables).
    ``direct_effect_tests`` and ``direct_effect_errors`` give Wald tests and
    standard errors of the direct effects, ``effect_lr_tests`` a
    likelihood-ratio test of each, ``lca.compare(..., direct_effects=...)``
    fits it for every number of classes (``blrt=True`` too, as
    ``lca.blrt(..., direct_effects=...)`` does), and the three-step methods
    (``covariate_effects``, ``distal_means``, ``distal_proportions``) take
    its posteriors. Standard errors of the profile, the indicator tests,
    ``step1_uncertainty``,
    fitting Dask data (``predict`` and ``predict_proba`` take a Dask
    DataFrame, partition by partition), ``start_from`` and
    ``from_parameters`` are not there yet and say so.

    SQUAREM (``accelerate``) extrapolates the pairs' joint log-probabilities,
    which a linear combination keeps in the loglinear family, with a Euclidean
    step length (not the Fisher metric of :class:`lca.LatentClassModel`'s
    kernels).

    Examples
    --------
    >>> import lca
    >>> df = lca.datasets.load_gss82()  # doctest: +SKIP
    >>> m = lca.LatentClassModel(3).fit(df)  # doctest: +SKIP
    >>> m.bivariate_residuals()  # doctest: +SKIP
    >>> d = lca.DirectEffectsModel(3, [("PURPOSE", "ACCURACY")]).fit(df)  # doctest: +SKIP
    >>> d.likelihood_ratio_test()  # doctest: +SKIP
    """

    # LatentClassModel's search options that this model does not have: no
    # split-and-merge moves or pattern starts
    split_merge = 0
    pattern_starts = 0

    def __init__(
        self,
        n_classes: int = 2,
        direct_effects: Sequence[tuple[Hashable, Hashable]] = (),
        *,
        n_starts: int = 16,
        n_final: int | None = None,
        burn_in: int = 50,
        max_iter: int = 5000,
        tol: float = 1e-12,
        bayes_constant: float = 1.0,
        class_bayes_constant: float | None = None,
        accelerate: bool = True,
        ordinal: Sequence[Hashable] | None = None,
        categories: Mapping[Hashable, Sequence] | None = None,
        max_categories: int = MAX_CATEGORIES,
        random_state: int | np.random.Generator | None = 0,
        n_jobs: int = 1,
    ) -> None:
        self.n_classes = n_classes
        self.direct_effects = direct_effects
        self.n_starts = n_starts
        self.n_final = n_final
        self.burn_in = burn_in
        self.max_iter = max_iter
        self.tol = tol
        self.bayes_constant = bayes_constant
        self.class_bayes_constant = class_bayes_constant
        self.accelerate = accelerate
        self.ordinal = ordinal
        self.categories = categories
        self.max_categories = max_categories
        self.random_state = random_state
        self.n_jobs = n_jobs

    def _validate_params(self) -> None:
        super()._validate_params()
        if self.n_starts < 1:
            raise ValueError(
                f"n_starts={self.n_starts!r}: a DirectEffectsModel needs at least 1 random "
                "start (the model without direct effects is fitted from them too)"
            )
        _pair_list(self.direct_effects)

    def _reset(self) -> None:
        super()._reset()
        for name in ("_layout", "_log_cond_c", "_joints"):
            self.__dict__.pop(name, None)

    # -- fitting ---------------------------------------------------------------
    def fit(
        self,
        data: pd.DataFrame,
        y=None,
        *,
        weights=None,
        progress: bool = False,
        distributed: bool | None = None,
        start_from=None,
    ) -> DirectEffectsModel:
        """Fit the model to survey answers.

        Parameters
        ----------
        data : pandas.DataFrame of shape (n_respondents, n_indicators)
            As for :meth:`lca.LatentClassModel.fit`; missing answers stay in
            the likelihood (a pair with one answer missing counts by the
            other's margin).
        y : None
            Ignored.
        weights : array-like, pandas.Series, str or None
            Case weights, as for :meth:`lca.LatentClassModel.fit`.
        progress : bool, default=False
            A progress bar over the starts of the model without direct effects.
        distributed, start_from : None
            Not available for this model (Dask data and given starts).

        Returns
        -------
        self : DirectEffectsModel
        """
        from ._dask import is_dask_collection

        if is_dask_collection(data) or distributed:
            raise TypeError(
                "a DirectEffectsModel is fitted to data in memory: pass a pandas DataFrame "
                "(for a Dask one, ddf.compute())"
            )
        if start_from is not None:
            raise ValueError(
                "start_from= is not available for a DirectEffectsModel: its starts are the "
                "model without direct effects and random ones"
            )
        return super().fit(data, weights=weights, progress=progress)

    def _pair_positions(self, indicators) -> list[tuple[int, int]]:
        """The pairs as indicator positions, each checked against the data."""
        pairs = _pair_list(self.direct_effects)
        position = {ind.name: j for j, ind in enumerate(indicators)}
        ordinal = self._ordinal_mask(indicators)
        owner: dict[int, tuple] = {}
        out = []
        for pair in pairs:
            for name in pair:
                if name not in position:
                    raise DataError(
                        f"direct effect {pair!r} names {name!r}, which is not an indicator "
                        f"of the data (the indicators: {[ind.name for ind in indicators]})"
                    )
                j = position[name]
                if ordinal[j]:
                    raise ValueError(
                        f"direct effect {pair!r}: {name!r} is ordinal; direct effects are "
                        "between nominal indicators here (leave it out of ordinal=)"
                    )
                if j in owner:
                    raise ValueError(
                        f"indicator {name!r} is in two direct effects, {owner[j]!r} and "
                        f"{pair!r}; each indicator can be in one only"
                    )
                owner[j] = pair
            out.append((position[pair[0]], position[pair[1]]))
        return out

    def _independence_model(self) -> LatentClassModel:
        """The model without direct effects, with this model's options."""
        options = self.get_params()
        options.pop("direct_effects")
        return LatentClassModel(**options)

    def _start_generator(self) -> np.random.Generator:
        """The random starts' generator: a stream apart from the model without
        direct effects' (which draws from ``random_state`` itself), or the
        Generator given, which that model's fit has moved on."""
        rs = self.random_state
        if isinstance(rs, np.random.Generator):
            return rs
        return np.random.default_rng(np.random.SeedSequence(rs).spawn(1)[0])

    def _fit_patterns(
        self,
        indicators,
        patterns,
        pattern_weights,
        n_rows,
        n_empty_rows,
        progress=False,
        distributed=None,
        start_from=None,
    ):
        pairs = self._pair_positions(indicators)
        base = self._independence_model()
        base._start_fit(None)
        with warnings.catch_warnings():
            # its convergence or empty classes are not this model's
            warnings.simplefilter("ignore")
            base._fit_patterns(
                indicators, patterns, pattern_weights, n_rows, n_empty_rows, progress
            )

        k = int(self.n_classes)
        n_cats = np.array([ind.n_categories for ind in indicators], dtype=np.int64)
        layout = _direct_em.make_layout(n_cats, pairs)
        b, a = self._bayes_constants()
        class_prior, cond_prior = dirichlet_priors(
            marginal_counts(patterns, pattern_weights, layout.offsets), layout.offsets, k, b, a
        )
        ordinal = self._ordinal_mask(indicators)
        problem = _direct_em.make_problem(
            patterns, pattern_weights, layout, class_prior, cond_prior, ordinal
        )
        own = None
        if isinstance(start_from, DirectEffectsModel) and _same_layout(start_from, layout, k):
            own = (start_from._log_class, start_from._log_cond_c)  # a bootstrap refit's
        result = self._search(problem, base, ordinal, own)

        order = np.argsort(-np.exp(result.log_class), kind="stable")
        log_class = result.log_class[order]
        marg, log_joints = _direct_em.from_composite(result.log_cond[:, order], layout)

        self.indicators_ = list(indicators)
        self._ordinal = ordinal
        self._offsets = layout.offsets
        self._layout = layout
        self._set_direct(np.exp(log_class), np.exp(marg), [np.exp(j) for j in log_joints])
        self._class_prior = class_prior
        self._cond_prior = cond_prior

        post, pattern_ll = self._pattern_posteriors(patterns)
        complete = np.all(patterns >= 0, axis=1)
        sums = criteria.pattern_sums(post, pattern_weights, pattern_ll, complete)
        log_prior = float(
            _kernels.log_prior(self._log_class, self._log_cond_c, class_prior, problem.cond_prior)
        )
        n_par = criteria.n_parameters(k, n_cats, ordinal) + sum(
            int((n_cats[ja] - 1) * (n_cats[jb] - 1)) for ja, jb in pairs
        )
        n_cells = math.prod(int(c) for c in n_cats)
        self._stats = criteria.fit_statistics(
            sums=sums,
            log_prior=log_prior,
            n_par=n_par,
            class_sizes=self._class_probs,
            n_cells=n_cells,
        )
        self._tables = {kind: sums[kind] for kind in ("modal", "proportional")}
        self._avepp = criteria.average_posterior_from_table(sums["modal"])
        self._patterns = patterns
        self._pattern_weights = pattern_weights
        self._pattern_post = post

        self.loglik_ = sums["loglik"]
        self.log_prior_ = log_prior
        self.bayes_constant_, self.class_bayes_constant_ = b, a
        self.n_parameters_ = n_par
        self.n_obs_ = float(sums["n_obs"])
        self.n_rows_ = int(n_rows)
        self.n_empty_rows_ = int(n_empty_rows)
        self.converged_ = result.converged
        self.n_iter_ = result.n_iter
        self.n_starts_at_best_ = result.n_starts_at_best
        self.start_objectives_ = result.final_objectives
        self.independence_loglik_ = float(base.loglik_)
        self.independence_n_parameters_ = int(base.n_parameters_)
        self._warn_fit(n_par, n_cells, self._class_probs, result.converged)
        return self

    def _search(self, problem, base, ordinal, own=None) -> _em.EMResult:
        """Burn-in of the random starts, then the best ``n_final`` and the model
        without direct effects' solution (and ``own`` parameters, if given) to
        convergence; the best of those."""
        layout = problem.layout
        rng = self._start_generator()
        k = int(self.n_classes)
        randoms = []
        for _ in range(self.n_starts):
            log_class, log_cond = _em.random_start(rng, k, layout.offsets, ordinal)
            randoms.append(_direct_em.Run(log_class, _direct_em.to_composite(log_cond, layout)))
        n_jobs = _em.effective_n_jobs(self.n_jobs)
        tol, max_iter, fast = float(self.tol), int(self.max_iter), bool(self.accelerate)

        def burn(run):
            return _direct_em.run_em(problem, run, min(self.burn_in, max_iter), tol, None, fast)

        def finish(run):
            if run.converged or run.n_iter >= max_iter:
                return run
            return _direct_em.run_em(problem, run, max_iter - run.n_iter, tol, None, fast)

        burnt = _em._map(burn, [(r,) for r in randoms], n_jobs, threaded=True)
        n_final = self.n_final if self.n_final is not None else max(2, self.n_starts // 4)
        objectives = _em._finite(np.array([r.objective for r in burnt]))
        best = np.argsort(-objectives, kind="stable")[:n_final]
        first = [_direct_em.Run(base._log_class, _direct_em.to_composite(base._log_cond, layout))]
        if own is not None:
            first.append(_direct_em.Run(own[0].copy(), own[1].copy()))
        finals = _em._map(
            finish, [(r,) for r in first] + [(burnt[i],) for i in best], n_jobs, threaded=True
        )
        final_obj = np.array([r.objective for r in finals])
        winner = int(np.argmax(_em._finite(final_obj)))
        run = finals[winner]
        return _em.EMResult(
            log_class=run.log_class,
            log_cond=run.log_cond,
            objective=run.objective,
            loglik=run.loglik,
            n_iter=run.n_iter,
            converged=run.converged,
            n_starts_at_best=_em._n_at(final_obj, run.objective),
            final_objectives=final_obj,
            best_start=winner,
        )

    def _set_direct(self, class_probs, cond_probs, joints) -> None:
        """Store the parameters (probabilities) and every log derived from them, so
        that a model read back from its file has the same bits."""
        joints = [np.ascontiguousarray(j, dtype=float) for j in joints]
        off = self._offsets
        cond_probs = np.array(cond_probs, dtype=float)
        for (ja, jb), joint in zip(self._layout.pairs, joints):
            cond_probs[off[ja] : off[ja + 1]] = joint.sum(axis=1)
            cond_probs[off[jb] : off[jb + 1]] = joint.sum(axis=0)
        self._set_parameters(class_probs, cond_probs)
        self._joints = joints
        with np.errstate(divide="ignore"):
            log_joints = [np.log(j) for j in joints]
        self._log_cond_c = _direct_em.to_composite(self._log_cond, self._layout, log_joints)
        names = [ind.name for ind in self.indicators_]
        self.direct_effects_ = {}
        self.pair_probs_ = {}
        for (ja, jb), joint, log_joint in zip(self._layout.pairs, joints, log_joints):
            ia, ib = self.indicators_[ja], self.indicators_[jb]
            pair = (names[ja], names[jb])
            self.direct_effects_[pair] = pd.DataFrame(
                _effect_coded(joint, log_joint),
                index=pd.Index(list(ia.categories), name=ia.name, dtype=object),
                columns=pd.Index(list(ib.categories), name=ib.name, dtype=object),
            )
            index = pd.MultiIndex.from_product(
                [list(ia.categories), list(ib.categories)], names=[ia.name, ib.name]
            )
            self.pair_probs_[pair] = pd.DataFrame(
                joint.reshape(-1, joint.shape[2]), index=index, columns=self.classes_
            )

    def _reorder_classes(self, order, labels=None) -> None:
        order = np.asarray(order, dtype=np.int64)
        joints = [j[:, :, order] for j in self._joints]
        super()._reorder_classes(order, labels)
        self._set_direct(self._class_probs, self._cond_probs, joints)

    def _fitted_problem(self) -> _direct_em.Problem:
        """The EM problem of the fitted patterns and priors (benchmarks and tests run
        EM on it from other starts)."""
        return _direct_em.make_problem(
            self._patterns, self._pattern_weights, self._layout, self._class_prior,
            self._cond_prior, self._ordinal,
        )  # fmt: skip

    def _pattern_posteriors(self, patterns: np.ndarray):
        composite = _direct_em.composite_patterns(patterns, self._layout)
        n_jobs = _em.effective_n_jobs(self.n_jobs)
        parallel = n_jobs > 1 and patterns.shape[0] >= _em.PARALLEL_MIN_PATTERNS
        with _em.numba_threads(n_jobs):
            return _kernels.posteriors(
                composite, self._layout.offsets_c, self._log_class, self._log_cond_c, parallel
            )

    # -- results ---------------------------------------------------------------
    def likelihood_ratio_test(self) -> pd.Series:
        """The direct effects tested together: this model against the one without them.

        ``2 (LL - LL_0)`` on the number of direct-effect parameters: a
        likelihood-ratio test of nested models whose null (no association,
        gamma = 0) is inside the parameter space, so the chi-square reference
        holds in large samples when both fits are at their global maximum.
        With Bayes constants the log-likelihoods are those at the posterior
        modes. Compare BIC (``fit_stats()``) as well.

        Returns
        -------
        pandas.Series
            ``loglik``, ``loglik_independence``, ``lr``, ``df``, ``p_value``.
        """
        self._check_has_data_stats()
        lr = max(0.0, 2.0 * (self.loglik_ - self.independence_loglik_))
        df = int(self.n_parameters_ - self.independence_n_parameters_)
        return pd.Series(
            {
                "loglik": self.loglik_,
                "loglik_independence": self.independence_loglik_,
                "lr": lr,
                "df": df,
                "p_value": float(stats.chi2.sf(lr, df)) if df > 0 else float("nan"),
            },
            name="direct_effects",
        )

    def effect_lr_tests(self) -> pd.DataFrame:
        """Likelihood-ratio test of each direct effect: this model against the one
        without that pair's effect (the others kept), refitted to the fitted data
        with this model's options (one fit per pair; with one pair, the model
        without direct effects, as in :meth:`likelihood_ratio_test`).

        Returns
        -------
        pandas.DataFrame
            One row per pair (index: the two indicators), columns ``lr``, ``df``,
            ``p_value`` and ``loglik_without`` (the log-likelihood without it).
        """
        self._check_has_fit_data()
        pairs = list(self.direct_effects_)
        rows = []
        for pair in pairs:
            others = [p for p in _pair_list(self.direct_effects) if set(p) != set(pair)]
            if others:
                smaller = DirectEffectsModel(**{**self.get_params(), "direct_effects": others})
                smaller._start_fit(None)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # its convergence is reported below
                    smaller._fit_patterns(
                        self.indicators_, self._patterns, self._pattern_weights,
                        self.n_rows_, self.n_empty_rows_,
                    )  # fmt: skip
                ll, n_par = smaller.loglik_, smaller.n_parameters_
            else:
                ll, n_par = self.independence_loglik_, self.independence_n_parameters_
            lr = max(0.0, 2.0 * (self.loglik_ - ll))
            df = int(self.n_parameters_ - n_par)
            p = float(stats.chi2.sf(lr, df)) if df > 0 else float("nan")
            rows.append((lr, df, p, ll))
        index = pd.MultiIndex.from_tuples(pairs, names=["indicator", "with"])
        return pd.DataFrame(rows, index=index, columns=["lr", "df", "p_value", "loglik_without"])

    def direct_effect_tests(
        self, data: pd.DataFrame | None = None, weights=None, unknown: str = "error"
    ) -> pd.DataFrame:
        """Wald test of each direct effect: that all its association parameters are 0.

        From the observed information (minus the Hessian of the log-likelihood
        plus log-prior, Latent GOLD's "standard" errors; computed from the
        analytic gradient by central differences), on (C_a - 1)(C_b - 1) df.
        Asymptotically the likelihood-ratio test of dropping that effect
        (:meth:`effect_lr_tests`), but the profile likelihood of an effect is
        often far from quadratic: a review's 400 simulated data sets (two
        classes, a 2 x 2 pair, gamma = 0.3, n = 1000) gave a median Wald of
        13.7 against a median likelihood ratio of 8.2; without an effect the
        two agree. Prefer the likelihood ratio for deciding on an effect.

        Parameters
        ----------
        data, weights, unknown
            For a model loaded from a file, the data it was fitted to, as for
            :meth:`lca.LatentClassModel.standard_errors`.

        Returns
        -------
        pandas.DataFrame
            One row per pair (index: the two indicators), columns ``wald``,
            ``df``, ``p_value``.
        """
        theta, cov = self._direct_covariance(data, weights, unknown)
        rows = []
        for sl in _direct_se.gamma_slices(self._layout, self.n_classes_):
            gamma = theta[sl]
            wald = float(gamma @ np.linalg.solve(cov[sl, sl], gamma))
            rows.append((wald, gamma.size, float(stats.chi2.sf(wald, gamma.size))))
        index = pd.MultiIndex.from_tuples(list(self.direct_effects_), names=["indicator", "with"])
        return pd.DataFrame(rows, index=index, columns=["wald", "df", "p_value"])

    def direct_effect_errors(
        self, data: pd.DataFrame | None = None, weights=None, unknown: str = "error"
    ) -> dict:
        """Standard errors of the effect-coded direct effects (``direct_effects_``).

        Parameters as for :meth:`direct_effect_tests`.

        Returns
        -------
        dict of pandas.DataFrame
            ``(a, b)`` -> a table shaped as ``direct_effects_[(a, b)]``.
        """
        _, cov = self._direct_covariance(data, weights, unknown)
        out = {}
        slices = _direct_se.gamma_slices(self._layout, self.n_classes_)
        for sl, (pair, gamma) in zip(slices, self.direct_effects_.items()):
            c_a, c_b = gamma.shape
            to_effects = _direct_se.effect_coding(c_a, c_b)
            var = np.einsum("ij,jk,ik->i", to_effects, cov[sl, sl], to_effects)
            se = np.sqrt(np.maximum(var, 0.0)).reshape(c_a, c_b)
            out[pair] = pd.DataFrame(se, index=gamma.index, columns=gamma.columns)
        return out

    def _direct_covariance(self, data, weights, unknown) -> tuple[np.ndarray, np.ndarray]:
        """The packed estimates (:mod:`lca._direct_se`) and their covariance."""
        self._check_fitted()
        if data is None and getattr(self, "_patterns", None) is None:
            raise NotFittedError(
                "this model was loaded from a file and keeps no pattern table; give the "
                "data it was fitted to: model.direct_effect_tests(data=df, weights=...)"
            )
        layout = self._layout
        if self._ordinal[layout.singles].any():
            raise NotImplementedError(
                "standard errors of a DirectEffectsModel with an ordinal indicator are not "
                "available yet"
            )
        args, _, _ = self._se_inputs(data, weights, unknown)
        patterns, pattern_weights, class_prior, cond_prior = args[0], args[1], args[7], args[8]
        problem = _direct_em.make_problem(
            patterns, pattern_weights, layout, class_prior, cond_prior, self._ordinal
        )
        theta = _direct_se.pack(self._log_class, self._log_cond_c, layout)
        probs = np.exp(self._log_cond_c[_direct_em._free_rows(layout)])
        if not np.all(np.isfinite(theta)) or (probs.max(axis=1) < ZERO_CELL).any():
            raise ValueError(
                "some probabilities of the model are exactly 0, or below 1e-12 in every "
                "class (a category declared in "
                "categories= that nobody gave, or maximum likelihood with bayes_constant=0), "
                "where the parameters are infinite: no standard errors; leave such a category "
                "out, or fit with bayes_constant > 0"
            )
        info = -_direct_se.hessian(theta, problem, self.n_classes_)
        scale = np.sqrt(np.abs(np.diag(info)))
        scale[scale == 0] = 1.0
        # the tolerance of LatentClassModel's standard errors: well above the noise
        # of differencing the gradient (about 1e-9 on this scale)
        if np.linalg.eigvalsh(info / np.outer(scale, scale)).min() <= RANK_TOL:
            raise ValueError(
                "the information matrix is singular (the model is not identified at these "
                "estimates, or a class is empty): no standard errors; fit fewer classes or "
                "direct effects. (With a Bayes constant the prior can hide this: compare "
                "n_parameters_ with the free cells of the cross-table, as fit warns.)"
            )
        return theta, np.linalg.inv(info)

    def _pair_joint(self, j: int, jj: int):
        """``P(y_j, y_jj | k)`` (C_j, C_jj, K) for a pair with a direct effect, else None."""
        for (ja, jb), joint in zip(self._layout.pairs, self._joints):
            if (ja, jb) == (j, jj):
                return joint
            if (ja, jb) == (jj, j):
                return joint.transpose(1, 0, 2)
        return None

    def _draw_codes(self, n: int, random_state, missing: float = 0.0) -> tuple:
        """As :meth:`lca.LatentClassModel._draw_codes`, the pairs from their joint tables
        (``sample`` and the bootstrap of the fit draw with it)."""
        from .simulate import draw_codes

        if not (0.0 <= missing < 1.0):
            raise ValueError(f"missing must be in [0, 1), got {missing!r}")
        rng = np.random.default_rng(random_state)
        codes, classes = draw_codes(self._class_probs, self._cond_probs, self._offsets, n, rng)
        for (ja, jb), joint in zip(self._layout.pairs, self._joints):
            c_a, c_b, _ = joint.shape
            cells = joint.reshape(c_a * c_b, -1)[:, classes]  # (cells, n)
            cum = np.cumsum(cells, axis=0)
            u = rng.random(n) * cum[-1]
            cell = np.minimum((cum < u[None, :]).sum(axis=0), c_a * c_b - 1)
            codes[:, ja] = cell // c_b
            codes[:, jb] = cell % c_b
        if missing > 0:
            codes[rng.random(codes.shape) < missing] = -1
        return codes, classes

    # -- what LatentClassModel has and this model does not (yet) ----------------
    @classmethod
    def from_parameters(cls, *args, **kwargs):
        """Not available for this model."""
        raise NotImplementedError(_NOT_YET.format(what="from_parameters"))

    def standard_errors(
        self,
        method: str = "hessian",
        data: pd.DataFrame | None = None,
        weights=None,
        unknown: str = "error",
        **design,
    ):
        """Standard errors of the class sizes and class-conditional probabilities.

        From the observed information of all parameters (as
        :meth:`direct_effect_tests`: minus the Hessian of the log-likelihood
        plus log-prior, Latent GOLD's "standard" errors), carried to the
        class sizes and to every indicator's probabilities by the delta
        method; a member of a pair gets those of its margin,
        ``P(a | k) = sum_b P(a, b | k)``. The Jacobian is by central
        differences of the probabilities in the logits.

        Parameters
        ----------
        method : {"hessian"}, default="hessian"
            Only the observed information for this model (no ``"opg"``,
            ``"robust"`` or ``"design"`` yet).
        data, weights, unknown
            For a model loaded from a file, the data it was fitted to, as for
            :meth:`lca.LatentClassModel.standard_errors`.

        Returns
        -------
        lca.standard_errors.StandardErrors
            As :meth:`lca.LatentClassModel.standard_errors` gives it: the class
            sizes' and the profile's errors (with its ``Total``), and
            ``to_frame()``. ``boundary`` is all False: a model with a
            probability at 0 has no standard errors (an error says so).
        """
        from .standard_errors import StandardErrors

        if method != "hessian" or design:
            raise NotImplementedError(
                "a DirectEffectsModel has standard errors from the observed information only "
                "(method='hessian'); opg, robust and design-based ones are not available yet"
            )
        theta, cov = self._direct_covariance(data, weights, unknown)
        k, offsets = self.n_classes_, self._offsets

        def flat(t):
            sizes, cond = _direct_se.probabilities(t, self._layout, k, offsets)
            return np.concatenate([sizes, cond.ravel(), cond @ sizes])

        jac = _direct_se.jacobian(flat, theta)
        se = np.sqrt(np.maximum(np.einsum("ip,pq,iq->i", jac, cov, jac), 0.0))
        n_cat = int(offsets[-1])
        cells = np.column_stack([se[k : k + n_cat * k].reshape(n_cat, k), se[k + n_cat * k :]])
        prof = self.profile()
        return StandardErrors(
            class_sizes=pd.Series(se[:k], index=self.classes_, name="se"),
            profile=pd.DataFrame(cells, index=prof.index, columns=prof.columns),
            method=method,
            n_free=int(theta.shape[0]),
            rank=int(theta.shape[0]),
            boundary=pd.DataFrame(False, index=prof.index, columns=self.classes_),
            estimates=prof,
            estimated_sizes=self.class_sizes_.copy(),
        )

    def indicator_tests(self, *args, **kwargs):
        """Not available for this model yet."""
        raise NotImplementedError(_NOT_YET.format(what="indicator_tests"))

    def _step1(self, *args, **kwargs):
        raise NotImplementedError(
            "step1_uncertainty needs standard errors of every parameter, which a "
            "DirectEffectsModel does not have yet; leave step1_uncertainty=False (the "
            "three-step methods' default)"
        )
