"""Classes related to covariates: the bias-adjusted three-step approach.

Step 1 is the latent class model, fitted without the covariates. Step 2
assigns every respondent to a class, by the modal (largest) posterior
probability or proportionally to the posteriors, and measures the
classification error of that assignment,

    D[s, t] = P(assigned to t | in class s)
            = sum_i w_i p(s | y_i) a_it / sum_i w_i p(s | y_i),

with a_it the respondent's share of class t (0 or 1 for modal assignment)
and p(s | y_i) the posteriors (Vermunt 2010, eq. 6). Step 3 regresses class
membership on covariates z by a multinomial logit,
P(X = s | z) = exp(z'beta_s) / sum_u exp(z'beta_u) with beta = 0 for a
reference class, from the assignments, corrected for the error D:

- ``"ml"`` (Vermunt 2010; Latent GOLD's Step3 default): maximum likelihood
  of the assignments, sum_i w_i sum_t a_it log sum_s P(X = s | z_i) D[s, t];
- ``"bch"`` (Bolck, Croon & Hagenaars 2004; Bakk, Tekle & Vermunt 2013):
  the multinomial logit of the classes weighted by a*_is = (a_i D^-1)_s,
  whose expectation given the true class is its indicator, so the weighted
  log-likelihood sum_i w_i sum_s a*_is log P(X = s | z_i) is unbiased;
  weights can be negative;
- ``"none"``: the uncorrected regression of the assignments (the classical
  three-step, biased towards no effect when classes are not well separated).

Standard errors: ``"hessian"`` inverts minus the Hessian of the step-3
log-likelihood; ``"robust"`` is the sandwich H^-1 (sum_i w_i g_i g_i') H^-1 of
the respondents' scores g_i (the default for BCH and for proportional
assignment, whose weighted likelihoods are not likelihoods; with ML and
proportional assignment, the Hessian's standard errors came out 12-13% too
large in two simulations of 60 samples, the sandwich's within 2%). A coefficient whose information
runs off to infinity (a class probability driven to 0 or 1 by a covariate
value nobody in that class has, or by a class boundary nobody straddles:
separation, found by moving coefficients far further and seeing the fit not
drop) or that lies on a flat direction of the information gets NaN, with a
warning naming it. The ML correction's likelihood is not concave. It can
have several maxima when classes are poorly measured, so step 3 starts from
the intercepts without covariates (the posterior class sizes), from those of
the assigned class sizes and from the BCH estimates, and keeps the best.
With perfect separation and posteriors short of 0 and 1 it can have a finite
local maximum in front of its supremum at infinity, so it starts once more
from the slopes doubled. A slope over ``EXTREME_LOGIT`` log-odds (per
interquartile range) that is still finite is warned of as near-perfect
separation. When the supremum is at infinity although the covariates do not
separate the modally assigned classes (their uncorrected regression is
identified), the warning says so: the latent classes may truly be separated,
or classes this poorly measured let the correction turn sampling noise into
a boundary. By default both kinds of standard error treat the step-1 model
as known, as Vermunt (2010) and Latent GOLD's Step3 do: they leave out its
estimation error, which Bakk, Oberski & Vermunt (2014) find small when the
classes are well separated and large when they are not. With ``step1`` its
uncertainty is added by their two-step (delta-method) correction,
``cov3 + J cov1 J'``: ``cov1`` the covariance of the step-1 parameters (in
the logits of :mod:`lca.standard_errors`), ``J = info3^-1 d g3 / d theta1``
how the step-3 estimates move with them (the step-3 gradient differenced
centrally over each step-1 parameter, posteriors, classification errors
and BCH weights recomputed, modal assignments held fixed, as the data of
step 3 they are). The covariance of the two steps' scores is left out, as
in their estimator; it is not zero (in a review's 300 simulated samples of
two weakly separated classes the intercept's standard error was 1.02-1.04
of its spread for ML and BCH, 0.92 for the uncorrected regression of
proportional assignments, where adding the cross term gives 0.98 but 1.12-1.21
for ML and BCH).
Weights count as frequency weights, in the sandwich too (sum_i w_i g_i g_i'):
a respondent of weight 2 counts as two. ``"design"`` takes them for sampling
weights: the sandwich's middle is then the between-PSU variance, within
strata, of the weighted scores (:mod:`lca.survey_design`), with ``step1``,
``cov1`` is the step-1 model's design-based covariance, and the Wald tests
get the adjusted F on the design's degrees of freedom (columns ``f``,
``f_df1``, ``f_df2``, ``f_p_value``; :func:`lca.survey_design.adjusted_f`).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import optimize, stats

from .encoding import DataError, plain_name
from .exceptions import ConvergenceWarning, DataWarning, warn
from .survey_design import with_adjusted_f

CORRECTIONS = ("ml", "bch", "none")
ASSIGNMENTS = ("modal", "proportional")
SE_METHODS = ("hessian", "robust", "design")
INTERCEPT = "Intercept"
#: A categorical covariate with more categories than this is warned of: one
#: coefficient per category and class, most of them resting on few respondents.
MANY_LEVELS = 50

#: What a singular information matrix means here, and what to do.
_SINGULAR = (
    "The cause is a covariate value that nobody in some class has (its coefficient runs "
    "off to infinity) or nearly collinear covariates; merge rare categories or drop a covariate"
)


def row_middle(se_method: str, survey, n_rows: int):
    """The sandwich's middle for ``se_method`` (``survey_design.RowMiddle``):
    frequency weights, or the design ``survey`` of the ``n_rows`` rows (every row
    its own PSU when None)."""
    from .survey_design import RowMiddle, survey_design

    if se_method != "design":
        return RowMiddle(None)
    if survey is None:
        survey = survey_design(pd.DataFrame(index=pd.RangeIndex(n_rows)))
    if survey.stratum.size != n_rows:
        raise ValueError(f"the design has {survey.stratum.size} rows, the data {n_rows}")
    return RowMiddle(survey)


def _logsumexp(a: np.ndarray) -> np.ndarray:
    """log sum exp along axis 0, shifted by the maximum (scipy's, without its array-API
    overhead, which was most of the time of step 3 on large data). Step 3 keeps classes
    on axis 0, (K, n): NumPy reduces across rows of length n far faster than along
    rows of length K."""
    top = np.max(a, axis=0)
    top = np.where(np.isfinite(top), top, 0.0)
    x = a - top
    np.exp(x, out=x)
    with np.errstate(divide="ignore"):
        return np.log(np.sum(x, axis=0)) + top


def assignment_shares(post: np.ndarray, assignment: str) -> np.ndarray:
    """Each respondent's share of each class: 0/1 at the modal class, or the posteriors."""
    if assignment == "proportional":
        return post
    share = np.zeros_like(post)
    share[np.arange(post.shape[0]), np.argmax(post, axis=1)] = 1.0
    return share


def classification_errors(post: np.ndarray, share: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """``D[s, t]``, the probability of being assigned to t when in class s."""
    joint = post.T @ (weights[:, None] * share)
    size = joint.sum(axis=1, keepdims=True)
    empty = np.flatnonzero(size[:, 0] <= 0)
    if empty.size:
        raise DataError(
            f"class {int(empty[0]) + 1} has no respondents in these data (its posterior "
            "probabilities sum to 0), so its classification error is undefined; fit fewer classes"
        )
    return joint / size


def _check_every_class_assigned(share: np.ndarray, weights: np.ndarray) -> None:
    """A class nobody is assigned to: D has a column of zeros and the correction no answer.

    BCH weights need D's inverse; the ML correction then has more classes
    than assigned ones to explain, and is not identified.
    """
    empty = np.flatnonzero(~((weights[:, None] * share).sum(axis=0) > 0))
    if empty.size:
        raise DataError(
            f"class {int(empty[0]) + 1} is nobody's most probable class, so the correction "
            "for classification error of modal assignment is not identified; use "
            "proportional assignment (kind='proportional' in crosstab, "
            "assignment='proportional' in covariate_effects) or fit fewer classes"
        )


#: A class whose share of modal assignments is under this fraction of its posterior size
#: is warned of (see :func:`warn_rarely_assigned`).
RARELY_ASSIGNED = 0.25


def warn_rarely_assigned(post, share, weights, classes) -> None:
    """Warn of a class far more respondents are in than are assigned to.

    With modal assignment, a class that is seldom anyone's most probable
    class has a column of small values in ``D``; the correction for
    classification error then divides by little (BCH weights of large size
    and both signs, an ML likelihood flat in that class), and what step 3
    says of that class rests on few respondents.
    """
    total = float(np.sum(weights))
    size = (weights @ post) / total
    assigned = (weights @ share) / total
    rare = np.flatnonzero((assigned > 0) & (assigned < RARELY_ASSIGNED * size))
    if rare.size:
        s = int(rare[0])
        warn(
            f"class {classes[s]} holds {size[s]:.1%} of the respondents by their posteriors "
            f"but is the most probable class of only {assigned[s]:.1%}; the correction for "
            "classification error rests on few respondents there, so what it estimates for "
            "that class is unstable and its standard errors are large. Consider proportional "
            "assignment or fewer classes",
            UserWarning,
        )


def bch_shares(post: np.ndarray, weights: np.ndarray, assignment: str = "modal") -> np.ndarray:
    """BCH weights a_i D^-1 of every respondent and class (rows sum to 1; can be negative)."""
    share = assignment_shares(post, assignment)
    _check_every_class_assigned(share, weights)
    d = classification_errors(post, share, weights)
    try:
        return share @ np.linalg.inv(d)
    except np.linalg.LinAlgError:
        raise DataError(
            "the classification error matrix is singular (two classes are not told "
            "apart), so BCH weights do not exist; use the ML correction"
        ) from None


def ml_distal_shares(
    post: np.ndarray,
    outcome: np.ndarray,
    weights: np.ndarray,
    assignment: str = "modal",
    tol: float = 1e-12,
    max_iter: int = 10_000,
    d: np.ndarray | None = None,
    polish: bool = True,
) -> np.ndarray:
    """Posteriors of the classes given each respondent's assignment and outcome.

    The ML correction for a categorical distal outcome (Vermunt 2010; Bakk,
    Tekle & Vermunt 2013): P(class s) and P(outcome c | s) maximise
    sum_i w_i sum_t a_it log sum_s P(s) D[s, t] P(c_i | s), with D fixed,
    by EM. ``outcome`` (n, C) is each respondent's outcome as 0/1 columns.
    At the maximum, the returned r_is = sum_t a_it P(s | t, c_i) give the
    estimates as weighted shares: P(c | s) = sum_i w_i r_is [c_i = c] /
    sum_i w_i r_is. ``d``: the classification errors, if not those of these
    rows (an outcome missing in some rows leaves them out of the table only).
    ``polish``: after EM, Newton steps on the table's log-likelihood
    (:func:`lca.distal_categorical.newton_polish`) take the estimates from EM's
    precision (about 1e-6 relative on a flat likelihood) to rounding error.
    """
    share = assignment_shares(post, assignment)
    _check_every_class_assigned(share, weights)
    if d is None:
        d = classification_errors(post, share, weights)
    with np.errstate(divide="ignore"):
        log_d = np.log(d)
    # the likelihood depends on the data only through the table of assignments by outcome
    table = share.T @ (weights[:, None] * outcome)  # (t, c)
    counts = outcome.T @ (weights[:, None] * post)  # (c, s): the proportional table, to start
    prev = -np.inf
    for _ in range(max_iter):
        sizes = counts.sum(axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            log_p = np.log(sizes / sizes.sum())
            log_q = np.log(counts / sizes)  # (c, s)
        joint = log_p[:, None, None] + log_d[:, :, None] + log_q.T[:, None, :]  # (s, t, c)
        log_w = _logsumexp(joint)  # (t, c)
        with np.errstate(invalid="ignore"):
            cond = np.nan_to_num(np.exp(joint - log_w))  # P(s | t, c); 0 where (t, c) cannot be
        counts = np.einsum("tc,stc->cs", table, cond)
        loglik = float(np.sum(table * np.where(table > 0, log_w, 0.0)))
        if loglik - prev <= tol * abs(loglik):
            break
        prev = loglik
    code = np.argmax(outcome, axis=1)
    sizes = counts.sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        p, q = sizes / sizes.sum(), counts / sizes
    if polish and np.all(np.isfinite(q)):
        from .distal_categorical import cell_pieces, newton_polish  # builds on this module

        p, q = newton_polish(p, q, d, table)
        r = cell_pieces(p, q, d)[2]  # (t, c, s): P(s | t, c)
        return np.einsum("it,tis->is", share, r[:, code])
    return np.einsum("it,sti->is", share, cond[:, :, code])


# -- covariates as a design matrix ---------------------------------------------------------


def _scalar(value):
    """A NumPy scalar as the Python value it holds, for messages (1.0, not np.float64(1.0))."""
    return value.item() if isinstance(value, np.generic) else value


def _is_numeric(values: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(
        values.dtype
    )


def _levels(values: pd.Series) -> list:
    from .diagnostics import _categories

    levels = _categories(values)
    if isinstance(values.dtype, pd.CategoricalDtype):  # categories nobody has: no column
        present = set(values.dropna().unique())
        levels = [v for v in levels if v in present]
    return levels


@dataclass(frozen=True)
class Design:
    """How a frame of covariates becomes the columns of a design matrix.

    Numeric columns enter as they are; any other column (text, categorical,
    boolean) by one indicator column per category but its first (a
    Categorical's first category present, otherwise the smallest value).
    An intercept comes first.
    """

    variables: tuple[str, ...]
    levels: dict = field(default_factory=dict)  # categorical variable -> levels, reference first

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> Design:
        names = [str(c) for c in frame.columns]
        if len(set(names)) != len(names) or INTERCEPT in names:
            raise DataError(f"covariate names must be distinct and not {INTERCEPT!r}; got {names}")
        levels = {}
        for col in frame.columns:
            values = frame[col]
            _check_missing(values)
            _check_not_time(values)
            if _is_numeric(values):
                if np.ptp(_finite_numbers(values, col)) == 0:
                    raise DataError(
                        f"covariate {col!r} takes one value only ({_scalar(values.iloc[0])!r}); "
                        "it says nothing about the classes: drop it"
                    )
            else:
                found = _levels(values)
                if len(found) < 2:
                    raise DataError(
                        f"covariate {col!r} has one category only ({_scalar(found[0])!r}); "
                        "it says nothing about the classes: drop it"
                    )
                if len(found) > MANY_LEVELS:
                    warn(
                        f"covariate {col!r} has {len(found)} categories, each with its own "
                        "coefficient(s): if it identifies respondents, drop it; if it holds "
                        "numbers as text, convert it with pd.to_numeric; otherwise group its "
                        f"categories into at most {MANY_LEVELS}",
                        DataWarning,
                    )
                levels[str(col)] = found
        return cls(variables=tuple(str(c) for c in frame.columns), levels=levels)

    @property
    def terms(self) -> list[str]:
        """Names of the design matrix's columns: ``Intercept``, then ``x`` or ``x[level]``."""
        out = [INTERCEPT]
        for var in self.variables:
            if var in self.levels:
                out += [f"{var}[{level}]" for level in self.levels[var][1:]]
            else:
                out.append(var)
        return out

    @property
    def groups(self) -> dict[str, list[int]]:
        """Each variable's columns of the design matrix (the intercept's is 0)."""
        out, col = {INTERCEPT: [0]}, 1
        for var in self.variables:
            width = len(self.levels[var]) - 1 if var in self.levels else 1
            out[var] = list(range(col, col + width))
            col += width
        return out

    def matrix(self, frame: pd.DataFrame) -> np.ndarray:
        """The design matrix of ``frame`` (which holds the same covariates)."""
        by_name = {str(c): c for c in frame.columns}
        absent = [v for v in self.variables if v not in by_name]
        if absent:
            raise DataError(
                f"the covariates lack {absent} (they have {list(by_name)}); give every "
                "covariate of the fitted regression"
            )
        columns = [np.ones(frame.shape[0])]
        for var in self.variables:
            values = frame[by_name[var]]
            _check_missing(values)
            if var not in self.levels:
                if not _is_numeric(values):
                    raise DataError(
                        f"covariate {var!r} was numeric in the fitted regression but holds "
                        f"{values.dtype} values here; convert it with pd.to_numeric"
                    )
                columns.append(_finite_numbers(values, var))
                continue
            pos = self.level_positions(var, values)
            for j in range(1, len(self.levels[var])):
                columns.append((pos == j).astype(float))
        return np.column_stack(columns)

    def level_positions(self, var: str, values: pd.Series) -> np.ndarray:
        """Each value's position among the levels of categorical ``var``; a value that
        is none of them is refused, naming it and its row."""
        levels = self.levels[var]
        objects = pd.Index(values.to_numpy(dtype=object), dtype=object)
        pos = pd.Index(levels, dtype=object).get_indexer(objects)
        # True == 1 and False == 0 to an index: a bool is a category of a bool only
        level_bool = np.array([isinstance(v, (bool, np.bool_)) for v in levels])
        pos[(pos >= 0) & (_bool_values(values) != level_bool[pos])] = -1
        if (pos < 0).any():  # 2 for the level "2", as an indicator's answers are matched
            _match_by_text(pos, objects, levels)
        if (pos < 0).any():
            i = int(np.flatnonzero(pos < 0)[0])
            row = plain_name(values.index[i])
            raise DataError(
                f"covariate {var!r} holds {_scalar(objects[i])!r} at row {row!r}, a "
                f"category the regression was not fitted with ({_plain(levels)}); recode it"
            )
        return pos


def _match_by_text(pos: np.ndarray, objects: pd.Index, levels: list) -> None:
    """Give the values no level equals the level that reads as the same text (2 and
    "2", 2.0 and 2), in place; a text two levels share matches neither."""
    from .encoding import text_key

    keys = [text_key(_scalar(v)) for v in levels]
    unique = {key: code for code, key in enumerate(keys) if keys.count(key) == 1}
    unmatched = np.flatnonzero(pos < 0)
    values = objects[unmatched]
    is_bool = np.array([isinstance(v, (bool, np.bool_)) for v in values], dtype=bool)
    for part in (is_bool, ~is_bool):  # apart: True and 1 are one value to factorize
        rows = unmatched[part]
        codes, uniques = pd.factorize(values[part])  # a missing value: code -1
        found = [unique.get(text_key(_scalar(v)), -1) for v in uniques]
        found = np.array([*found, -1], dtype=pos.dtype)  # [-1]: a missing value matches none
        pos[rows] = found[codes]


def _plain(levels: list) -> list:
    """Levels as Python values, for messages (False, not np.False_)."""
    return [_scalar(v) for v in levels]


def _bool_values(values: pd.Series) -> np.ndarray:
    """Which values are booleans (every one of a bool column, none of a numeric one)."""
    if pd.api.types.is_bool_dtype(values.dtype):
        return np.ones(len(values), dtype=bool)
    if values.dtype != object:
        return np.zeros(len(values), dtype=bool)
    return np.fromiter(
        (isinstance(v, (bool, np.bool_)) for v in values), dtype=bool, count=len(values)
    )


def _finite_numbers(values: pd.Series, name) -> np.ndarray:
    """A numeric covariate as floats, or a DataError at its first value that is not finite."""
    numbers = values.to_numpy(dtype=float)
    finite = np.isfinite(numbers)
    if not finite.all():
        i = int(np.flatnonzero(~finite)[0])
        row = plain_name(values.index[i])
        raise DataError(
            f"covariate {name!r} holds {float(numbers[i])!r} at row {row!r}; "
            "covariates must be finite"
        )
    return numbers


def _check_not_time(values: pd.Series, what: str = "covariate") -> None:
    kind = values.dtype
    if (
        pd.api.types.is_datetime64_any_dtype(kind)
        or pd.api.types.is_timedelta64_dtype(kind)
        or isinstance(kind, pd.PeriodDtype)
    ):
        raise DataError(
            f"{what} {values.name!r} holds dates or durations ({kind}); give it as a "
            "number (for instance years since a date) or as categories (pd.Categorical)"
        )


def _check_missing(values: pd.Series) -> None:
    missing = values.isna().to_numpy()
    if missing.any():
        raise DataError(
            f"covariate {values.name!r} is missing in {int(missing.sum())} row(s), the first at "
            f"row {values.index[int(np.flatnonzero(missing)[0])]!r}; rows are never dropped "
            "silently: drop or impute them, or code the missing values as a category"
        )


def _check_rank(z: np.ndarray, terms: list[str]) -> None:
    """A DataError naming the first column that the ones before it explain."""
    for j in range(1, z.shape[1] + 1):
        if np.linalg.matrix_rank(z[:, :j]) < j:
            raise DataError(
                f"covariate term {terms[j - 1]!r} is a linear combination of the terms before "
                f"it ({terms[: j - 1]}) in these data; drop it or one of them"
            )


# -- the step-3 log-likelihood -------------------------------------------------------------


def _softmax_log(eta: np.ndarray) -> np.ndarray:
    """Log class probabilities from the logits, both (K, n)."""
    return eta - _logsumexp(eta)


def _class_hessian(weight: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Per row, ``weight (diag(q) - q q')`` (n, K, K) from q (K, n): minus the Hessian of a
    multinomial log-likelihood in its logits."""
    q = q.T
    return weight[:, None, None] * (
        q[:, :, None] * np.eye(q.shape[1]) - q[:, :, None] * q[:, None, :]
    )


def step3_terms(beta, z, share, log_d, weights, bch_weights=None, order=2):
    """Log-likelihood, its gradient in eta = z beta, and the Hessian in eta, per row.

    ``beta`` is (p, K). With ``bch_weights`` (n, K) the weighted multinomial
    log-likelihood sum_i w_i sum_s a*_is log pi_is (BCH, or the uncorrected
    regression with a* = a); otherwise the ML correction's
    sum_i w_i sum_t a_it log sum_s pi_is D[s, t], where ``share`` is a (n, T)
    or, for modal assignment, the (n,) integer column t of each row's
    assigned class (the same likelihood in n K work instead of n K^2).
    Returns ``(loglik, grad_eta (n, K), hess_eta (n, K, K))``, the row
    derivatives not yet weighted; those above ``order`` (0, 1 or 2) are None.
    """
    log_pi = _softmax_log(beta.T @ z.T)  # (K, n)
    grad = hess = None
    if bch_weights is not None:
        loglik = float(np.sum(weights * np.sum(bch_weights.T * log_pi, axis=0)))
        if order > 0:
            pi = np.exp(log_pi)
            total = bch_weights.sum(axis=1)
            grad = bch_weights - total[:, None] * pi.T
            hess = -_class_hessian(total, pi) if order > 1 else None
        return loglik, grad, hess
    if share.ndim == 1:  # modal: only the assigned column t_i of D counts
        joint = log_pi + log_d[:, share]  # (s, n): log P(X = s, W = t_i | z)
        log_w = _logsumexp(joint)
        loglik = float(np.sum(weights * log_w))
        if order > 0:
            pi = np.exp(log_pi)
            q = np.exp(joint - log_w)  # P(X = s | W = t_i, z)
            grad = (q - pi).T
            if order > 1:
                ones = np.ones(pi.shape[1])
                hess = _class_hessian(ones, q) - _class_hessian(ones, pi)
        return loglik, grad, hess
    joint = log_pi[:, None, :] + log_d[:, :, None]  # (s, t, n): log P(X = s, W = t | z)
    log_w = _logsumexp(joint)  # (t, n)
    log_w_used = np.where(share.T > 0, log_w, 0.0)  # a class nobody is assigned to: 0, not -inf
    loglik = float(np.sum(weights * np.sum(share.T * log_w_used, axis=0)))
    if order > 0:
        pi = np.exp(log_pi)
        q = np.exp(joint - log_w)  # P(X = s | W = t, z)
        q_mean = np.einsum("sti,it->is", q, share)
        grad = q_mean - pi.T
        if order > 1:
            hess = (
                q_mean[:, :, None] * np.eye(pi.shape[0])
                - np.einsum("it,sti,uti->isu", share, q, q)
                - _class_hessian(np.ones(pi.shape[1]), pi)
            )
    return loglik, grad, hess


def _theta_to_beta(theta, p, k, free):
    beta = np.zeros((p, k))
    beta[:, free] = theta.reshape(len(free), p).T
    return beta


def _derivatives(theta, z, share, log_d, weights, bch, free, order=2):
    """Log-likelihood, gradient and Hessian in the free parameters (class-major); those
    above ``order`` are None."""
    p, k = z.shape[1], len(free) + 1
    beta = _theta_to_beta(theta, p, k, free)
    loglik, grad_eta, hess_eta = step3_terms(beta, z, share, log_d, weights, bch, order)
    if order == 0:
        return loglik, None, None
    grad = (z.T @ (weights[:, None] * grad_eta[:, free])).T.ravel()
    if order == 1:
        return loglik, grad, None
    m = len(free)
    hess = _weighted_gram(z, hess_eta[:, free][:, :, free], weights)
    return loglik, grad, hess.reshape(m * p, m * p)


#: Elements of the row block of products z_i z_i' that :func:`_weighted_gram` holds at once.
GRAM_BLOCK = 2**22


def _weighted_gram(z: np.ndarray, h: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """``sum_i w_i h[i, a, b] z_i z_i'`` as (m, p, m, p): one matrix product per block of rows."""
    n, p = z.shape
    m = h.shape[1]
    out = np.zeros((p * p, m * m))
    step = max(1, GRAM_BLOCK // (p * p))
    for lo in range(0, n, step):
        zz = (z[lo : lo + step, :, None] * z[lo : lo + step, None, :]).reshape(-1, p * p)
        out += zz.T @ (weights[lo : lo + step, None] * h[lo : lo + step].reshape(-1, m * m))
    return out.reshape(p, p, m, m).transpose(2, 0, 3, 1)


def _scores(theta, z, share, log_d, weights, bch, free) -> np.ndarray:
    """Each row's score in the free parameters, (n, (K-1) p), not weighted."""
    p, k = z.shape[1], len(free) + 1
    beta = _theta_to_beta(theta, p, k, free)
    _, grad_eta, _ = step3_terms(beta, z, share, log_d, weights, bch, order=1)
    return (grad_eta[:, free][:, :, None] * z[:, None, :]).reshape(z.shape[0], -1)


#: The rank tolerance of :func:`_inverse` (the model's standard errors use 1e-6, as EM
#: stops short of the maximum; step 3 is solved by Newton's method).
RANK_TOL = 1e-10

#: How far :func:`_separated` moves a coefficient, in log-odds per unit of the scaled column.
SEPARATION_STEP = 1000.0

#: A slope beyond this many log-odds (per interquartile range of a numeric covariate, per
#: category of a categorical one) is warned of as near-perfect separation: an odds ratio
#: over 3e6, a class boundary that few respondents straddle, where the ML correction's
#: likelihood (not concave) can stop at a finite point short of its supremum at infinity.
#: Mplus, likewise, fixes logits beyond 15 and says so.
EXTREME_LOGIT = 15.0


def _separated(theta, z, share, log_d, weights, bch, free) -> np.ndarray:
    """Which coefficients run off to infinity: moving them far further does not lower the fit.

    Moves of length ``SEPARATION_STEP`` (the columns are scaled: a change of
    the log-odds by 1000 per interquartile range), each away from 0: every
    coefficient alone; a term's coefficients in every class together (the
    reference class's coefficient moved); and a class's coefficients along
    their own direction, one class and then all together (a sharper class
    boundary in the same place: the maximum at infinity of perfect separation
    by a combination of covariates, found by the second start of
    :func:`covariate_effects`). An identified coefficient loses the fit a
    great deal; one that separation sends to infinity (a class probability 0
    or 1 for every respondent its column touches) loses nothing, or gains,
    even when the optimiser stopped at a finite point on the way.
    """

    def loglik(moved):
        with np.errstate(over="ignore", under="ignore", invalid="ignore"):
            return _derivatives(moved, z, share, log_d, weights, bch, free, order=0)[0]

    return separated_by(theta, len(free), z.shape[1], loglik, 1e-6 * float(weights.sum()))


def separated_by(theta, m: int, p: int, objective, slack: float) -> np.ndarray:
    """The coefficients (``m`` classes of ``p`` each, class by class) that the moves of
    :func:`_separated` send off without lowering ``objective(theta)`` by more than
    ``slack``: those at infinity."""
    base = objective(theta)
    moves = []  # (coefficients that move, their move)
    for j in range(theta.size):
        moves.append(([j], SEPARATION_STEP if theta[j] >= 0 else -SEPARATION_STEP))
    if m > 1:
        for c in range(p):
            idx = [a * p + c for a in range(m)]
            moves.append((idx, SEPARATION_STEP if theta[idx].mean() >= 0 else -SEPARATION_STEP))
    blocks = [list(range(a * p, (a + 1) * p)) for a in range(m)]
    for idx in blocks + ([list(range(theta.size))] if m > 1 else []):
        norm = float(np.linalg.norm(theta[idx]))
        if norm > 0:
            moves.append((idx, SEPARATION_STEP * theta[idx] / norm))
    out = np.zeros(theta.size, dtype=bool)
    for idx, step in moves:
        moved = theta.copy()
        moved[idx] += step
        if objective(moved) >= base - slack:
            out[idx] = True
    return out


def _inverse(info: np.ndarray, separated: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Inverse of the information matrix of the coefficients that are not ``separated``.

    Among those, the rank is judged on the matrix scaled to unit diagonal
    (an eigenvalue under ``RANK_TOL``: the maximum is found to a gradient
    near 1e-10, so that only a direction of no information is that flat;
    a few extreme covariate values can leave an identified one at 1e-7);
    a coefficient loading over 1e-3 on such a flat direction is not
    identified either. Returns the inverse (zero for the coefficients not
    identified) and which those are.
    """
    flat = separated.copy()
    ok = np.flatnonzero(~flat)
    sub = info[np.ix_(ok, ok)]
    diag = np.diag(sub)
    scale = np.where(diag > 0, 1.0 / np.sqrt(np.where(diag > 0, diag, 1.0)), 1.0)
    values, vectors = np.linalg.eigh(sub * np.outer(scale, scale))
    keep = values > RANK_TOL
    flat[ok[np.any(np.abs(vectors[:, ~keep]) > 1e-3, axis=1)]] = True
    inv = np.zeros_like(info)
    inv[np.ix_(ok, ok)] = ((vectors[:, keep] / values[keep]) @ vectors[:, keep].T) * np.outer(
        scale, scale
    )
    return inv, flat


def _newton_decrement(info: np.ndarray, grad: np.ndarray) -> float:
    try:
        return float(grad @ np.linalg.solve(info, grad))
    except np.linalg.LinAlgError:
        return np.inf


def maximise(z, share, log_d, weights, bch, free, theta0, max_iter: int, gtol: float):
    """Maximise the step-3 log-likelihood by a trust-region Newton method from ``theta0``.

    The objective is taken per unit of weight, so that ``gtol`` bounds the
    gradient per respondent. Returns scipy's result.
    """
    total = float(weights.sum())
    cache = {}

    def evaluate(theta):
        key = theta.tobytes()
        if key not in cache:
            cache.clear()
            cache[key] = _derivatives(theta, z, share, log_d, weights, bch, free)
        return cache[key]

    def fun(theta):
        loglik, grad, _ = evaluate(theta)
        return -loglik / total, -grad / total

    def hess(theta):
        return -evaluate(theta)[2] / total

    with np.errstate(over="ignore", under="ignore"):
        return optimize.minimize(
            fun,
            theta0,
            jac=True,
            hess=hess,
            method="trust-exact",
            options={"gtol": gtol, "maxiter": max_iter},
        )


def _maximise_or_fail(correction: str, *args):
    """:func:`maximise` (its arguments after ``correction``); a likelihood that runs off
    to infinity is a DataError."""
    try:
        return maximise(*args)
    except (ValueError, OverflowError) as exc:  # the objective ran off to infinity: no maximum
        if isinstance(exc, ValueError) and "inf" not in str(exc) and "NaN" not in str(exc):
            raise
        raise _no_maximum(correction) from None


def _no_maximum(correction: str) -> DataError:
    bch = correction == "bch"
    return DataError(
        "the step-3 likelihood has no maximum: a coefficient runs off to infinity"
        + (" (BCH weights below 0 with a covariate category rare in some class)" if bch else "")
        + "; merge rare categories, drop the covariate"
        + (", or use correction='ml'" if bch else "")
    )


def _intercepts(sizes, weights, free, ref, p) -> np.ndarray:
    """Start coefficients (K-1, p): slopes 0, intercepts the log-odds of the class sizes
    ``sum_i w_i sizes_is`` against the reference class."""
    marg = np.maximum((weights[:, None] * sizes).sum(axis=0), 1e-12 * float(weights.sum()))
    out = np.zeros((len(free), p))
    out[:, 0] = np.log(marg[free] / marg[ref])
    return out


def _more_ml_starts(res, args, theta0, by_assigned, assigned, d, max_iter: int, gtol: float):
    """The best of more starts of the ML correction's maximisation, whose likelihood is not
    concave; ``res`` is the result from ``theta0``, the intercepts without covariates;
    ``assigned`` the shares (n, K) and ``d`` their classification errors.

    - From the intercepts of the assigned class sizes, ``by_assigned`` (the start of
      earlier versions: in 2 of 420 simulated fits it reached a higher maximum than
      ``theta0`` and the BCH estimates did).
    - From the BCH estimates (when BCH weights exist and their likelihood a maximum): a
      consistent estimate of the same coefficients, so near the maximum that matters when
      two classes' assignments are much alike and the likelihood has several (one
      simulation: -285.61 from the intercepts, -284.20 from BCH's estimates).
    - Then from the best point's slopes doubled: perfect separation with posteriors short
      of 0 and 1 can leave a finite local maximum in front of a supremum at infinity (a
      sharper boundary with the intercepts moved too); this start runs on to it, and comes
      back to the maximum where there is one.

    A start replaces the best only when it is better by 1e-9 per unit of weight.
    """
    zs, _, _, weights, _, free = args
    p = zs.shape[1]

    def better(res, theta):
        try:
            other = _maximise_or_fail("ml", *args, theta, max_iter, gtol)
        except DataError:  # runs off to infinity from there: the best so far stands
            return res
        return other if other.fun < res.fun - 1e-9 else res

    starts = [] if np.array_equal(by_assigned, theta0) else [by_assigned]
    try:
        bch = assigned @ np.linalg.inv(d)
    except np.linalg.LinAlgError:  # no BCH weights (D singular): no such start
        bch = None
    if bch is not None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            try:
                start = maximise(zs, None, None, weights, bch, free, theta0, max_iter, gtol)
            except (ValueError, ArithmeticError):  # its likelihood runs off: no such start
                start = None
        # a BCH likelihood can run off (weights below 0): only its maximum is a start
        if start is not None and start.success and np.all(np.isfinite(start.x)):
            starts.append(start.x)
    for theta in starts:
        res = better(res, theta)
    if res.x.reshape(len(free), p)[:, 1:].any():
        again = res.x.reshape(len(free), p).copy()
        again[:, 1:] *= 2.0
        res = better(res, again.ravel())
    return res


def _uncorrected_identified(args, assigned) -> bool:
    """Whether the uncorrected regression of the assignments (``args`` of the ML problem,
    ``assigned`` the shares (n, K)) identifies every coefficient: none runs off to
    infinity, none lies on a flat direction of the information (nearly collinear
    covariates)."""
    zs, _, _, weights, _, free = args
    theta0 = np.zeros(len(free) * zs.shape[1])
    try:
        res = maximise(zs, None, None, weights, assigned, free, theta0, 500, 1e-10)
    except (ValueError, ArithmeticError):
        return False
    problem = (zs, None, None, weights, assigned, free)
    separated = _separated(res.x, *problem)
    if separated.any():
        return False
    _, _, hess = _derivatives(res.x, *problem)
    return not _inverse(-hess, separated)[1].any()


# -- the result --------------------------------------------------------------------------


@dataclass(frozen=True)
class CovariateEffects:
    """A multinomial logit of class membership on covariates (step 3).

    Attributes
    ----------
    coefficients : pandas.DataFrame
        Index (class, term) for every class but the reference; columns
        ``coef`` (log odds of the class against the reference class),
        ``se``, ``z``, ``p_value`` (two-sided, normal) and ``odds_ratio``.
    wald : pandas.DataFrame
        One row per covariate (and the intercept): the Wald statistic that
        all its coefficients are 0 in every class, its ``df`` and
        ``p_value`` (chi-square); it does not depend on the reference class.
    classification_errors : pandas.DataFrame
        ``D``: rows the true class, columns the assigned class, rows sum to 1.
    covariance : numpy.ndarray
        Covariance of the coefficients, in the order of ``coefficients``.
    loglik : float
        The maximised step-3 log-likelihood (for BCH, the weighted one).
    n_obs : float
        Sum of the weights.
    correction, assignment, se_method : str
    reference : int
        The class whose coefficients are 0.
    converged : bool
    n_iter : int
    design : Design
        How the covariates were coded; :meth:`predict_proba` reuses it.
    """

    coefficients: pd.DataFrame
    wald: pd.DataFrame
    classification_errors: pd.DataFrame
    covariance: np.ndarray
    loglik: float
    n_obs: float
    correction: str
    assignment: str
    se_method: str
    reference: int
    converged: bool
    n_iter: int
    design: Design

    @property
    def classes(self) -> pd.Index:
        return self.classification_errors.index

    def beta(self) -> pd.DataFrame:
        """Coefficients as a (term, class) table, the reference class's column 0."""
        coef = self.coefficients["coef"].unstack(0)
        out = pd.DataFrame(0.0, index=self.design.terms, columns=self.classes)
        out.loc[:, coef.columns] = coef.loc[self.design.terms].to_numpy()
        out.index.name, out.columns.name = "term", "class"
        return out

    def predict_proba(self, covariates: pd.DataFrame) -> pd.DataFrame:
        """Class probabilities given covariates, P(X = s | z), indexed like the input."""
        covariates = _as_covariate_frame(covariates)
        z = self.design.matrix(covariates)
        prob = np.exp(_softmax_log(self.beta().to_numpy().T @ z.T)).T
        return pd.DataFrame(prob, index=covariates.index, columns=self.classes)

    def to_frame(self) -> pd.DataFrame:
        """The coefficients table (a copy)."""
        return self.coefficients.copy()

    def as_text(self) -> str:
        head = (
            f"Step-3 multinomial logit: correction={self.correction}, "
            f"assignment={self.assignment}, se={self.se_method}, reference class "
            f"{self.reference}, N = {self.n_obs:g}, log-likelihood {self.loglik:.3f}"
            + ("" if self.converged else " (NOT CONVERGED)")
        )
        return tables_text(
            head,
            [
                ("", self.coefficients),
                ("Wald tests", self.wald),
                ("Classification errors (rows: true class, columns: assigned)",
                 self.classification_errors),
            ],
        )  # fmt: skip

    def __str__(self) -> str:
        return self.as_text()


def tables_text(head: str, tables: list) -> str:
    """``head``, then each ``(title, table)`` (a title line unless empty; numbers to 4
    decimals), a blank line between."""
    blocks = [head]
    for title, table in tables:
        text = table.to_string(float_format=lambda v: f"{v:.4f}")
        blocks.append(f"{title}\n{text}" if title else text)
    return "\n\n".join(blocks)


def _as_covariate_frame(covariates) -> pd.DataFrame:
    if isinstance(covariates, pd.Series):
        return covariates.to_frame(covariates.name if covariates.name is not None else "covariate")
    if not isinstance(covariates, pd.DataFrame):
        raise TypeError(
            f"covariates must be a pandas DataFrame (or Series), not {type(covariates).__name__}"
        )
    if covariates.shape[1] == 0:
        raise DataError("no covariates given")
    return covariates


#: Step (in logits) of the central differences over the step-1 parameters.
STEP1_DELTA = 1e-5


def _inputs_at(post, assigned, correction, assignment, weights, used):
    """Step 3's ``(share, log_d, bch)`` from posteriors ``post``, the modal assignments fixed.

    At the step-1 estimates these are the arguments ``covariate_effects``
    maximises (modal assignments are data, fixed when step 1 moves;
    proportional ones are the posteriors themselves); ``used`` is the ML
    correction's assigned classes that hold anyone.
    """
    share = post if assignment == "proportional" else assigned
    d = classification_errors(post, share, weights)
    if correction == "none":
        return share, None, share
    if correction == "bch":
        return share, None, share @ np.linalg.inv(d)
    with np.errstate(divide="ignore"):
        log_d = np.log(d[:, used])
    share = share[:, used]
    if assignment == "modal":
        share = np.argmax(share, axis=1)
    return share, log_d, None


def step1_jacobian(gradient, n_free: int, delta: float = STEP1_DELTA) -> np.ndarray:
    """``d gradient / d theta1`` by central differences, shape (len(gradient), n_free).

    ``gradient(d)`` is step 3's gradient at its estimates when the step-1
    parameters move by ``d``. With ``J = info3^-1`` times this, the
    coefficients' covariance allowing for step 1 is ``cov3 + J cov1 J'``,
    the two-step (delta-method) correction of Bakk, Oberski & Vermunt
    (2014); the covariance of the two steps' scores is left out.
    """
    steps = delta * np.eye(n_free)  # n_free >= 1: K >= 2 classes have a free size
    return np.column_stack([(gradient(e) - gradient(-e)) / (2.0 * delta) for e in steps])


def standardised(z: np.ndarray, design: Design) -> tuple[np.ndarray, np.ndarray]:
    """The design matrix with its numeric columns centred and scaled (median,
    interquartile range), and ``T`` with ``theta = T gamma`` for the coefficients
    ``gamma`` of the standardised columns (per class): the same model, better
    conditioned (a year near 2000 is otherwise nearly collinear with the intercept)."""
    transform = np.eye(z.shape[1])
    zs = z.copy()
    for var, cols in design.groups.items():
        if var != INTERCEPT and var not in design.levels:
            c = cols[0]
            # the median and the interquartile range, so that a heavy tail (incomes) does
            # not squeeze the bulk of the values together; the SD where most are equal
            low, mean, high = np.percentile(z[:, c], [25, 50, 75])
            sd = float(high - low) or float(np.std(z[:, c])) or 1.0
            mean = float(mean)
            zs[:, c] = (z[:, c] - mean) / sd
            transform[c, c] = 1.0 / sd
            transform[0, c] = -mean / sd
    return zs, transform


def coefficient_tables(theta, cov, names, design: Design) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The coefficients table (coef, se, z, p_value, odds_ratio; index (class, term)) and
    the Wald test of each covariate (all its coefficients 0 in every class) of a
    multinomial logit whose coefficients ``theta`` are class by class, ``design.terms``
    within each; ``names`` are the (class, term) pairs in that order."""
    se = np.sqrt(np.maximum(np.diag(cov), 0.0))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        zval = theta / se
        table = pd.DataFrame(
            {
                "coef": theta,
                "se": se,
                "z": zval,
                "p_value": 2.0 * stats.norm.sf(np.abs(zval)),
                "odds_ratio": np.exp(theta),
            },
            index=pd.MultiIndex.from_tuples(names, names=["class", "term"]),
        )
    p = len(design.terms)
    rows = []
    for var, cols in design.groups.items():
        idx = [a * p + c for a in range(len(theta) // p) for c in cols]
        b = theta[idx]
        sub = cov[np.ix_(idx, idx)]
        stat = np.nan if np.isnan(sub).any() else float(b @ np.linalg.solve(sub, b))
        rows.append((var, stat, len(idx), float(stats.chi2.sf(stat, len(idx)))))
    wald = pd.DataFrame(rows, columns=["variable", "statistic", "df", "p_value"]).set_index(
        "variable"
    )
    return table, wald


def covariate_effects(
    post: np.ndarray,
    covariates: pd.DataFrame,
    weights: np.ndarray,
    classes: pd.Index,
    *,
    correction: str = "ml",
    assignment: str = "modal",
    reference: int = 1,
    se_method: str | None = None,
    max_iter: int = 500,
    gtol: float = 1e-10,
    step1=None,
    survey=None,
) -> CovariateEffects:
    """Step 2 and step 3 from the posteriors of step 1.

    ``post`` (n, K) are the rows' posterior probabilities, ``covariates``
    the rows' covariates (one row each, in the same order), ``weights``
    their case weights. ``step1``, if given, is ``(post_at, cov1)``: the
    rows' posteriors at step-1 parameters moved by ``delta`` from the
    estimates (``post_at(delta)``, all n rows; ``post_at(0)`` is ``post``)
    and the covariance of those parameters, whose uncertainty is then added
    to the covariance of the coefficients (:func:`step1_jacobian`).
    ``survey``: with ``se_method="design"``, the ``survey_design.SurveyDesign``
    of the rows (default: every row its own PSU, one stratum). See the module
    docstring for the methods.
    """
    if correction not in CORRECTIONS:
        raise ValueError(f"correction must be one of {CORRECTIONS}, not {correction!r}")
    if assignment not in ASSIGNMENTS:
        raise ValueError(f"assignment must be one of {ASSIGNMENTS}, not {assignment!r}")
    if se_method is None:  # the soft assignments' likelihood is not one: the sandwich
        se_method = "robust" if correction == "bch" or assignment == "proportional" else "hessian"
    if se_method not in SE_METHODS:
        raise ValueError(f"se_method must be one of {SE_METHODS}, not {se_method!r}")
    k = post.shape[1]
    if k < 2:
        raise ValueError("a regression on covariates needs at least 2 classes")
    if reference not in list(classes):
        raise ValueError(f"reference must be one of the classes {list(classes)}, not {reference!r}")
    ref = list(classes).index(reference)
    free = [s for s in range(k) if s != ref]

    for col in covariates.columns:  # every row, counted or not: none is dropped silently
        _check_missing(covariates[col])
    keep = weights > 0
    counted = covariates[keep]
    design = Design.from_frame(counted)  # categories and constants among the rows that count
    z = design.matrix(counted)
    terms = design.terms
    post, weights = post[keep], weights[keep]
    share = assignment_shares(post, assignment)
    d = classification_errors(post, share, weights)

    bch = log_d = None
    if correction == "none":
        bch = share
    elif correction == "bch":
        bch = bch_shares(post, weights, assignment)
    assigned = share  # (n, K), before the ML correction's own form of it
    # start: slopes 0 and the intercepts of the maximum without covariates. For ML and BCH
    # that is the posterior class sizes (with them, sum_s P(s) D[s, t] is the assigned share
    # of t exactly, and so are the BCH weights' sums); for the uncorrected regression, the
    # assigned sizes. Alone, the assigned sizes would be a poor start for a corrected
    # regression (a class few are assigned to can hold many more); ML tries them as well
    theta0, by_assigned = (
        _intercepts(sizes, weights, free, ref, z.shape[1]) for sizes in (post, share)
    )
    if correction == "none":
        theta0 = by_assigned
    if correction != "none":
        _check_every_class_assigned(share, weights)
        if assignment == "modal":
            warn_rarely_assigned(post, share, weights, classes)
    if correction == "ml":
        # an assigned class nobody is in adds nothing (and D's column of zeros, no log)
        used = share.sum(axis=0) > 0
        with np.errstate(divide="ignore"):
            log_d = np.log(d[:, used])
        share = share[:, used]
        if assignment == "modal":  # one-hot: the assigned column of each row says it all
            share = np.argmax(share, axis=1)

    p = z.shape[1]
    zs, transform = standardised(z, design)
    if np.linalg.matrix_rank(zs) < p:
        _check_rank(zs, terms)
    args = (zs, share, log_d, weights, bch, free)
    res = _maximise_or_fail(correction, *args, theta0.ravel(), max_iter, gtol)
    if correction == "ml":
        res = _more_ml_starts(
            res, args, theta0.ravel(), by_assigned.ravel(), assigned, d, max_iter, gtol
        )
    theta = res.x
    loglik, grad, hess = _derivatives(theta, zs, share, log_d, weights, bch, free)
    info = -hess
    total = float(weights.sum())
    # scipy's trust region also stops when the objective no longer changes in floating point
    # (at the maximum, not a failure): judge that by the Newton decrement g' H^-1 g per unit
    # of weight, the gain a Newton step would still promise
    converged = bool(res.success) or 0.0 <= _newton_decrement(info, grad) < 1e-12 * total
    if correction == "bch" and not converged and loglik > 0:
        # a log-likelihood of probabilities above 0: the terms of weight below 0 ran off
        # (in 500 iterations, short of the overflow that says so in _maximise_or_fail)
        raise _no_maximum(correction)
    separated = _separated(theta, zs, share, log_d, weights, bch, free)
    back = np.kron(np.eye(len(free)), transform)  # theta = back @ gamma
    sandwich = se_method in ("robust", "design")
    g = _scores(theta, zs, share, log_d, weights, bch, free) if sandwich else None
    inv, flat = _inverse(info, separated)
    if g is None:
        cov = inv
    else:
        middle = row_middle(se_method, survey, keep.size)
        cov = inv @ middle(g, weights, keep) @ inv
    if step1 is not None:
        post_at, cov1 = step1
        inputs = (assigned, correction, assignment, weights, used if correction == "ml" else None)

        def gradient(delta):
            share_at, log_d_at, bch_at = _inputs_at(post_at(delta)[keep], *inputs)
            return _derivatives(theta, zs, share_at, log_d_at, weights, bch_at, free, order=1)[1]

        # d theta3 / d theta1 = info^-1 d grad3 / d theta1 (the gradient stays 0 at the maximum)
        moved = inv @ step1_jacobian(gradient, cov1.shape[0])
        cov = cov + moved @ cov1 @ moved.T
    cov[flat, :] = cov[:, flat] = np.nan
    scaled = theta.reshape(len(free), p)  # per interquartile range of a numeric covariate
    extreme = np.zeros((len(free), p), dtype=bool)
    extreme[:, 1:] = np.abs(scaled[:, 1:]) > EXTREME_LOGIT
    theta = back @ theta
    # a separated coefficient is held at its (infinite) limit: the others' covariance is the
    # one given it, and it alone is NaN (centring moves a slope, never an intercept, to the
    # scaled columns and back). A coefficient on a flat direction of the information makes
    # NaN of every coefficient it is mixed with.
    mixed = flat & ~separated
    flat = separated | ((np.abs(back) > 0) @ mixed > 0)
    cov = back @ np.where(np.isnan(cov), 0.0, cov) @ back.T
    cov[flat, :] = cov[:, flat] = np.nan
    if not converged:
        warn(
            f"the step-3 regression did not converge in {res.nit} iterations ({res.message}); "
            "a coefficient may be heading to infinity (a category of a covariate with nobody "
            "in some class): merge rare categories or drop the covariate",
            ConvergenceWarning,
        )

    names = [(classes[s], term) for s in free for term in terms]
    if flat.any():
        which = ", ".join(f"class {c} {t}" for (c, t), f in zip(names, flat) if f)
        # the uncorrected regression of soft shares seldom separates: modal assignment only
        modal_ml = correction == "ml" and assignment == "modal"
        if modal_ml and _uncorrected_identified(args, assigned):
            worst = int(np.argmin(np.diag(d)))
            warn(
                f"step 3: {which} not identified (standard errors NaN). The ML correction's "
                "likelihood has its maximum at infinity or on a flat ridge, a sharp boundary "
                "between latent classes, although the covariates do not separate the "
                "assigned classes (the uncorrected regression has a finite maximum). The "
                "latent classes may truly be separated there (a covariate category nobody in a "
                "class has: merge rare categories; or a sharp boundary: report it rather than "
                "an effect); but where classes are poorly measured the correction can also "
                "turn sampling noise into a boundary (here the lowest is P(assigned to "
                f"{classes[worst]} | in class {classes[worst]}) = {d[worst, worst]:.2f}): compare "
                "correction='bch' and correction='none' (biased towards no effect)",
                UserWarning,
            )
        else:
            warn(
                f"the step-3 information matrix is singular: {which} not identified (standard "
                f"errors NaN). {_SINGULAR}",
                UserWarning,
            )
    extreme = extreme.ravel() & ~flat
    if extreme.any():
        which = ", ".join(f"class {c} {t}" for (c, t), f in zip(names, extreme) if f)
        warn(
            f"near-perfect separation in step 3: {which} changes the log-odds by over "
            f"{EXTREME_LOGIT:g} (per interquartile range of a numeric covariate), a class "
            "boundary with almost no overlap. The likelihood may have its maximum at infinity "
            "and this estimate and its standard error are not reliable; merge rare "
            "categories, drop the covariate, or report it as a boundary rather than an effect",
            UserWarning,
        )
    table, wald = coefficient_tables(theta, cov, names, design)
    if se_method == "design":  # the adjusted Wald F on the design's degrees of freedom
        wald = with_adjusted_f(wald, "statistic", middle.design.df)
    return CovariateEffects(
        coefficients=table,
        wald=wald,
        classification_errors=pd.DataFrame(
            d,
            index=pd.Index(classes, name="class"),
            columns=pd.Index(classes, name="assigned"),
        ),
        covariance=cov,
        loglik=loglik,
        n_obs=float(weights.sum()),
        correction=correction,
        assignment=assignment,
        se_method=se_method,
        reference=reference,
        converged=converged,
        n_iter=int(res.nit),
        design=design,
    )
