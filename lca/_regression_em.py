"""EM and the information matrix of the one-step latent class regression.

Plain arrays in, plain arrays out (the estimator is :mod:`lca.regression`).
Respondent ``i`` with covariates ``z_i`` (a row of the design matrix, its
first entry 1) is in class ``k`` with probability ``pi_ik = softmax(z_i
B)_k``, ``B`` of shape (q, K) with the reference class's column 0, and
answers as in the latent class model: ``log P(y_i | k) = sum_j log P(y_ij |
k)`` over the indicators answered. The objective is the log-likelihood
``sum_i w_i log sum_k pi_ik P(y_i | k)`` plus the log of the Bayes constants'
priors: the conditional probabilities' Dirichlet, as in the latent class
model, and for the classes ``(a / W) sum_i w_i sum_k log pi_ik`` (``a`` the
class Bayes constant, ``W`` the total weight), which without covariates is
the class sizes' Dirichlet ``a sum_k log P_k`` of the latent class model.

EM. The E-step gives the posteriors ``p_ik``; the M-step maximises the
expected complete-data objective in the conditional probabilities exactly, as
in the latent class model (the posteriors summed over the respondents of each
answer pattern), and raises it in ``B`` by one Newton step on the multinomial
logit with responses ``p_ik + a / W`` (concave; the step halved until it
rises): a generalised EM, so the objective never falls.

The information matrix (minus the Hessian of the objective) is Louis's
(1982) formula, as in :mod:`lca.standard_errors`, with the class sizes'
parameters replaced by ``B``: per respondent the score of ``log P(k, y_i)``
is ``(e_k - pi_i) kron z_i`` in ``B``'s free columns and that of ``log P(y_i
| k)`` in the conditional probabilities' free parameters.
"""

from __future__ import annotations

import numpy as np

from . import _kernels
from .standard_errors import Layout, add_cond_information, add_cond_scores, jacobians

#: Newton steps on B per M-step, at most; each M-step starts from the last B.
NEWTON_STEPS = 50
#: Longest Newton step of a coefficient (log-odds per interquartile range of a
#: numeric covariate, per category of a categorical one); longer steps are shortened.
MAX_STEP = 5.0
#: Rows per block when the information matrix is summed.
BLOCK = 2048


def logsumexp_rows(a: np.ndarray) -> np.ndarray:
    """``log sum_k exp(a_ik)`` of each row (a row of -inf gives -inf)."""
    top = np.max(a, axis=1, keepdims=True)
    top[~np.isfinite(top)] = 0.0
    with np.errstate(divide="ignore"):
        return np.log(np.sum(np.exp(a - top), axis=1)) + top[:, 0]


def log_softmax_rows(eta: np.ndarray) -> np.ndarray:
    """Log class probabilities from logits, both (n, K): the NumPy reference of
    ``_kernels.log_softmax_rows``."""
    return eta - logsumexp_rows(eta)[:, None]


def pattern_counts(patterns: np.ndarray, offsets: np.ndarray, pattern_post: np.ndarray):
    """``sum_p W_pk [y_pj = c]`` for every category (flat axis) and class: the expected
    counts from the patterns' summed posteriors ``W`` (P, K). The NumPy reference of
    ``_kernels.class_counts``, which the EM uses."""
    n_cat, n_classes = int(offsets[-1]), pattern_post.shape[1]
    counts = np.zeros((n_cat, n_classes))
    for j in range(patterns.shape[1]):
        y = patterns[:, j].astype(np.int64)
        answered = y >= 0
        cells = offsets[j] + y[answered]
        for k in range(n_classes):
            counts[:, k] += np.bincount(cells, weights=pattern_post[answered, k], minlength=n_cat)
    return counts


def pattern_loglik(patterns: np.ndarray, offsets: np.ndarray, log_cond: np.ndarray) -> np.ndarray:
    """``log P(y_p | k)`` of every answer pattern and class, (P, K); a missing answer
    (code < 0) adds nothing. The NumPy reference of ``_kernels.class_loglik``, which
    the EM uses."""
    out = np.zeros((patterns.shape[0], log_cond.shape[1]))
    for j in range(patterns.shape[1]):
        y = patterns[:, j].astype(np.int64)
        answered = y >= 0
        out[answered] += log_cond[offsets[j] + y[answered]]
    return out


def logit_value(z, w, resp, beta, log_pi=None) -> float:
    """``sum_i w_i sum_k resp_ik log softmax(z_i B)_k`` (``log_pi``: the log-softmax at
    ``beta``, if known)."""
    if log_pi is None:
        log_pi = _kernels.log_softmax_rows(z @ beta)
    return float(np.sum(w[:, None] * resp * log_pi))


def logit_derivatives(z, w, resp, beta, free, log_pi=None) -> tuple[np.ndarray, np.ndarray]:
    """Gradient over ``B``'s free columns (class by class, q entries each) and minus
    the Hessian of :func:`logit_value`."""
    if log_pi is None:
        log_pi = _kernels.log_softmax_rows(z @ beta)
    pi = np.exp(log_pi)
    total = resp.sum(axis=1)
    grad = (z.T @ (w[:, None] * (resp - total[:, None] * pi)))[:, free].T.ravel()
    return grad, logit_information(z, w * total, pi, free)


def logit_information(z, wt, pi, free) -> np.ndarray:
    """``sum_i wt_i (diag pi_i - pi_i pi_i')[free, free] kron z_i z_i'``: minus the
    Hessian of a multinomial logit in ``B``'s free columns, class by class."""
    q = z.shape[1]
    info = np.zeros((len(free) * q, len(free) * q))
    for a, s in enumerate(free):
        for b, t in enumerate(free[a:], start=a):
            c = wt * ((s == t) * pi[:, s] - pi[:, s] * pi[:, t])
            block = z.T @ (c[:, None] * z)
            info[a * q : (a + 1) * q, b * q : (b + 1) * q] = block
            info[b * q : (b + 1) * q, a * q : (a + 1) * q] = block.T
    return info


def with_free(beta: np.ndarray, free, theta: np.ndarray) -> np.ndarray:
    """``B`` with its free columns set from ``theta`` (class by class)."""
    out = beta.copy()
    out[:, free] = theta.reshape(len(free), beta.shape[0]).T
    return out


def logit_mstep(z, w, resp, beta, free, max_steps: int = NEWTON_STEPS, log_pi=None):
    """``B`` maximising :func:`logit_value`, by Newton steps from ``beta`` (shortened to
    ``MAX_STEP``, then halved until the value does not fall); stops when the Newton
    decrement is at rounding error. ``log_pi``: the log-softmax at ``beta``, if known."""
    return logit_newton(z, w, resp, beta, free, max_steps, log_pi)[0]


def logit_newton(z, w, resp, beta, free, max_steps: int = NEWTON_STEPS, log_pi=None):
    """:func:`logit_mstep`'s ``B`` and the log-softmax there (which the E-step reuses)."""
    if log_pi is None:
        log_pi = _kernels.log_softmax_rows(z @ beta)
    value = logit_value(z, w, resp, beta, log_pi)
    scale = float(np.sum(w * resp.sum(axis=1)))
    for _ in range(max_steps):
        grad, info = logit_derivatives(z, w, resp, beta, free, log_pi)
        try:
            step = np.linalg.solve(info, grad)
        except np.linalg.LinAlgError:
            step = np.linalg.lstsq(info, grad, rcond=None)[0]
        if not float(grad @ step) > 1e-15 * scale:  # the gain a Newton step promises
            break
        longest = float(np.max(np.abs(step)))
        if longest > MAX_STEP:  # a coefficient running off (separation) walks, not jumps
            step = step * (MAX_STEP / longest)
        theta = beta[:, free].T.ravel()
        length = 1.0
        while length > 1e-10:
            moved = with_free(beta, free, theta + length * step)
            moved_log_pi = _kernels.log_softmax_rows(z @ moved)
            new_value = logit_value(z, w, resp, moved, moved_log_pi)
            if new_value >= value:
                break
            length /= 2
        else:
            break
        beta, value, log_pi = moved, new_value, moved_log_pi
    return beta, log_pi


def evaluate(
    patterns, inverse, w, z, offsets, log_cond, beta, class_share, cond_prior, log_pi=None
):  # fmt: skip
    """``(objective, loglik, post, row_loglik, log_pi, pattern_post)`` at the
    parameters, for the rows ``inverse`` (each row's pattern), ``w`` and ``z``;
    ``pattern_post`` the weighted posteriors summed by pattern. ``log_pi``: the
    log-softmax of ``z @ beta``, if known."""
    if log_pi is None:
        log_pi = _kernels.log_softmax_rows(z @ beta)
    class_ll = _kernels.class_loglik(patterns, offsets, log_cond)
    post, row_ll, pattern_post = _kernels.regression_estep(log_pi, class_ll, inverse, w)
    loglik = float(w @ row_ll)
    log_prior = float(_kernels.log_prior(np.zeros(1), log_cond, 0.0, cond_prior))
    if class_share > 0:
        log_prior += class_share * float(np.sum(w[:, None] * log_pi))
    return loglik + log_prior, loglik, post, row_ll, log_pi, pattern_post


#: The names of :func:`evaluate`'s results, as :func:`regression_em` returns them.
STATE = ("objective", "loglik", "post", "row_loglik", "log_pi", "pattern_post")


def estep_reference(patterns, inverse, w, z, offsets, log_cond, beta):
    """:func:`evaluate`'s ``(post, row_loglik, log_pi, pattern_post)`` in plain NumPy,
    the reference of its kernels."""
    log_pi = log_softmax_rows(z @ beta)
    joint = log_pi + pattern_loglik(patterns, offsets, log_cond)[inverse]
    row_ll = logsumexp_rows(joint)
    with np.errstate(invalid="ignore"):
        post = np.exp(joint - row_ll[:, None])
    impossible = ~np.isfinite(row_ll)  # no class can give the answers: the prior
    post[impossible] = np.exp(log_pi[impossible])
    pattern_post = np.zeros((patterns.shape[0], beta.shape[1]))
    np.add.at(pattern_post, inverse, w[:, None] * post)
    return post, row_ll, log_pi, pattern_post


def regression_em(
    patterns, inverse, w, z, offsets, ordinal, log_cond, beta, free, class_prior, cond_prior,
    max_iter: int, tol: float, trace: list | None = None, accelerate: bool = False,
) -> dict:  # fmt: skip
    """EM from ``(log_cond, beta)``: stops when an iteration raises the objective by at
    most ``tol`` relative, or after ``max_iter`` E-steps. ``trace``, if a list, gets
    the objective of every point evaluated, kept or not. Returns the estimates, the
    ``STATE`` of :func:`evaluate` there (``objective``, ``loglik``, ``post``, ...),
    ``n_iter`` and ``converged``. ``accelerate``: SQUAREM, as
    :func:`accelerated_em`."""
    if accelerate:
        return accelerated_em(
            patterns, inverse, w, z, offsets, ordinal, log_cond, beta, free, class_prior,
            cond_prior, max_iter, tol, trace,
        )  # fmt: skip
    class_share = class_prior / float(np.sum(w))
    state = evaluate(patterns, inverse, w, z, offsets, log_cond, beta, class_share, cond_prior)
    converged = False
    n_iter = 1
    if trace is not None:
        trace.append(state[0])
    while True:
        if n_iter >= max_iter:
            break
        post, pattern_post = state[2], state[5]
        counts = _kernels.class_counts(patterns, offsets, pattern_post, int(offsets[-1]))
        _, new_cond = _kernels.mstep(
            counts, pattern_post.sum(axis=0), offsets, 0.0, cond_prior, log_cond, ordinal
        )
        # one Newton step per iteration (a generalised EM: it raises the expected
        # objective, so the objective still never falls)
        new_beta, new_log_pi = logit_newton(z, w, post + class_share, beta, free, 1, state[4])
        new = evaluate(
            patterns, inverse, w, z, offsets, new_cond, new_beta, class_share, cond_prior,
            new_log_pi,
        )  # fmt: skip
        n_iter += 1
        if trace is not None:  # every objective evaluated, kept or not
            trace.append(new[0])
        gain = new[0] - state[0]
        if gain >= 0 or not np.isfinite(state[0]):
            log_cond, beta, state = new_cond, new_beta, new
        if not gain > tol * abs(new[0]):
            converged = True
            break
    return {
        "log_cond": log_cond,
        "beta": beta,
        **dict(zip(STATE, state)),
        "n_iter": n_iter,
        "converged": converged,
    }


def accelerated_em(
    patterns, inverse, w, z, offsets, ordinal, log_cond, beta, free, class_prior, cond_prior,
    max_iter: int, tol: float, trace: list | None = None,
) -> dict:  # fmt: skip
    """:func:`regression_em` with SQUAREM (Varadhan & Roland 2008), as the latent class
    model's EM has it (``lca._em.em_steps``): two EM steps x0 -> x1 -> x2, then the
    point ``x0 - 2 a r + a^2 v`` (r = x1 - x0, v = x2 - 2 x1 + x0) in the log
    conditional probabilities and the coefficients, its step length ``a`` that of the
    latent class model (the Fisher metric, the log class sizes those of the average
    class probabilities; the coefficients moved by the same ``a``). It is kept only if
    its objective is at least that of x1 and no class's average size falls below
    ``MIN_SIZE_RATIO`` of its size at x1 (retried once halfway), so the objective
    never falls; every E-step counts in ``n_iter``."""
    class_share = class_prior / float(np.sum(w))
    total = float(np.sum(w))

    def em_map(point, log_pi=None):
        """The objective at ``point``, its state, and the EM step from it."""
        cond, coef = point
        state = evaluate(
            patterns, inverse, w, z, offsets, cond, coef, class_share, cond_prior, log_pi
        )
        if trace is not None:
            trace.append(state[0])
        pattern_post = state[5]
        counts = _kernels.class_counts(patterns, offsets, pattern_post, int(offsets[-1]))
        _, new_cond = _kernels.mstep(
            counts, pattern_post.sum(axis=0), offsets, 0.0, cond_prior, cond, ordinal
        )
        new_coef, new_log_pi = logit_newton(z, w, state[2] + class_share, coef, free, 1, state[4])
        return state, (new_cond, new_coef), new_log_pi

    def log_sizes(log_pi) -> np.ndarray:
        with np.errstate(divide="ignore"):
            return np.log((w @ np.exp(log_pi)) / total)

    x0 = (log_cond, beta)
    state0, x1, log_pi1 = em_map(x0)
    n_iter = 1
    converged = False
    step_max = 1.0
    while n_iter < max_iter:
        state1, x2, log_pi2 = em_map(x1, log_pi1)
        n_iter += 1
        if np.isfinite(state0[0]) and state1[0] - state0[0] <= tol * abs(state0[0]):
            if state1[0] >= state0[0]:
                x0, state0 = x1, state1
            converged = True
            break
        c = [log_sizes(state0[4]), log_sizes(state1[4]), log_sizes(log_pi2)]
        alpha = 0.0
        if n_iter < max_iter:
            alpha = _kernels._squarem_step(c[0], c[1], c[2], x0[0], x1[0], x2[0], step_max)
        if alpha == 0.0:
            x0, state0, x1, log_pi1 = x1, state1, x2, log_pi2
            continue
        xa = _squarem_point(c, x0, x1, x2, alpha, offsets)
        state_a, xa1, log_pi_a1 = em_map(xa)
        n_iter += 1
        accepted = _acceptable(state_a, state1, log_sizes, c[1])
        if not accepted and alpha < -1.0 and n_iter < max_iter:
            alpha = 0.5 * (alpha - 1.0)
            xa = _squarem_point(c, x0, x1, x2, alpha, offsets)
            state_a, xa1, log_pi_a1 = em_map(xa)
            n_iter += 1
            accepted = _acceptable(state_a, state1, log_sizes, c[1])
            if accepted:
                step_max = -alpha
        if accepted:
            if alpha == -step_max:
                step_max *= _kernels.STEP_GROWTH
            x0, state0, x1, log_pi1 = xa, state_a, xa1, log_pi_a1
        else:
            step_max = max(1.0, step_max / _kernels.STEP_GROWTH)
            if n_iter >= max_iter:
                x0, state0 = x1, state1
                break
            x0 = x2
            state0, x1, log_pi1 = em_map(x0, log_pi2)
            n_iter += 1
    return {
        "log_cond": x0[0],
        "beta": x0[1],
        **dict(zip(STATE, state0)),
        "n_iter": n_iter,
        "converged": converged,
    }


#: An extrapolation that shrinks a class's average size below this share of its size
#: at the first EM step is not kept: the coefficients move by a step length the
#: conditional probabilities set, and a small shrinking class's intercept (moving
#: the same way every step) can be thrown to minus infinity, a lower maximum.
MIN_SIZE_RATIO = 0.1


def _acceptable(state, state1, log_sizes, log_sizes1) -> bool:
    """Whether an extrapolation's ``state`` is kept: a finite objective at least that of
    the first EM step, and no class shrunk below ``MIN_SIZE_RATIO`` of its size there."""
    if not (np.isfinite(state[0]) and state[0] >= state1[0]):
        return False
    with np.errstate(invalid="ignore"):
        shrunk = log_sizes(state[4]) - log_sizes1 < np.log(MIN_SIZE_RATIO)
    return not bool(np.any(shrunk))


def _squarem_point(c, x0, x1, x2, alpha, offsets):
    """SQUAREM's point from ``(log_cond, beta)`` x0, x1, x2: the log conditional
    probabilities as the latent class model extrapolates them (renormalised), the
    coefficients ``x0 - 2 a r + a^2 v`` (``c``: the three log average class sizes)."""
    _, cond = _kernels._squarem_point(c[0], c[1], c[2], x0[0], x1[0], x2[0], alpha, offsets)
    r, v = x1[1] - x0[1], x2[1] - 2.0 * x1[1] + x0[1]
    return cond, x0[1] - 2.0 * alpha * r + alpha * alpha * v


def shifted(lay: Layout, n_beta: int) -> Layout:
    """``lay`` (of :func:`lca.standard_errors.layout`) with its K - 1 class-size
    parameters replaced by ``n_beta`` regression coefficients, first."""
    n_sizes = int(np.sum(lay.class_cols >= 0))
    shift = n_beta - n_sizes
    blocks = [[(cols + shift, design) for cols, design in per_class] for per_class in lay.blocks]
    return Layout(lay.n_free + shift, np.full(lay.class_cols.shape, -1), blocks, lay.boundary)


def information(
    patterns, inverse, w, z, post, pi, cond_probs, offsets, lay: Layout, free, class_share,
    cond_prior, counts, totals=None,
) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Minus the Hessian of the objective and the outer product of the respondents'
    scores, over ``B``'s free columns (class by class) and then the conditional
    probabilities' free parameters of ``lay`` (:func:`shifted`). ``post`` and ``pi``
    are the rows' posteriors and class probabilities, ``counts`` the expected counts
    (:func:`lca.standard_errors.expected_counts`). ``totals`` (a
    ``survey_design.ScoreTotals`` of the rows), if given, is fed their scores."""
    q = z.shape[1]
    size = lay.n_free
    info = np.zeros((size, size))
    opg = np.zeros((size, size))
    n_beta = len(free) * q
    resp_total = 1.0 + pi.shape[1] * class_share  # sum_k (p_ik + a / W)
    info[:n_beta, :n_beta] = logit_information(z, w * resp_total, pi, free)
    add_cond_information(info, lay, offsets, cond_probs, cond_prior, counts)
    where = np.arange(size)
    n_classes = pi.shape[1]
    for start in range(0, inverse.shape[0], BLOCK):
        rows = slice(start, min(inverse.shape[0], start + BLOCK))
        rp = patterns[inverse[rows]]
        zr, pr, tau, wr = z[rows], pi[rows], post[rows], w[rows]
        s = np.zeros((zr.shape[0], size))
        for k in range(n_classes):
            g = np.zeros((zr.shape[0], size))
            for a, t in enumerate(free):
                g[:, a * q : (a + 1) * q] = ((k == t) - pr[:, t])[:, None] * zr
            add_cond_scores(g, rp, cond_probs, offsets, lay, k, where)
            s += tau[:, k, None] * g
            info -= g.T @ (g * (wr * tau[:, k])[:, None])
        outer = s.T @ (s * wr[:, None])
        info += outer
        opg += outer
        if totals is not None:
            totals.add(rows.start, rows.stop, s)
    return info, opg


def profile_errors(cov, flat, lay: Layout, sizes, cond_probs, offsets, z, w, pi, free):
    """Standard errors of the average class sizes and of the profile's cells (the
    ``Total`` column last) by the delta method, from the covariance ``cov`` of all
    free parameters (``flat``: those not identified, NaN). The class sizes
    ``sum_i w_i pi_ik / W`` depend on ``B`` (in the columns of ``z``); the cells on
    the conditional probabilities' parameters of ``lay``, and the Total on both.
    A cell whose derivatives touch a parameter not identified is NaN, as is one on
    the boundary."""
    q = z.shape[1]
    total = float(np.sum(w))
    jac_sizes = np.zeros((pi.shape[1], lay.n_free))
    for a, t in enumerate(free):
        # d pi_ik / d B[:, t] = pi_ik ([k = t] - pi_it) z_i
        d = (w[:, None] * pi * ((np.arange(pi.shape[1]) == t) - pi[:, [t]])).T @ z / total
        jac_sizes[:, a * q : (a + 1) * q] = d
    _, jac_cells = jacobians(sizes, cond_probs, offsets, lay)
    jac_cells[:, -1, :] += cond_probs @ jac_sizes  # the Total, through the class sizes
    known = np.where(np.isnan(cov), 0.0, cov)
    var_sizes = np.einsum("kp,pq,kq->k", jac_sizes, known, jac_sizes)
    var_cells = np.einsum("ckp,pq,ckq->ck", jac_cells, known, jac_cells)
    se_sizes = np.sqrt(np.maximum(var_sizes, 0.0))
    se_cells = np.sqrt(np.maximum(var_cells, 0.0))
    se_sizes[(np.abs(jac_sizes[:, flat]) > 0).any(axis=1)] = np.nan
    se_cells[(np.abs(jac_cells[:, :, flat]) > 0).any(axis=2)] = np.nan
    se_cells[:, :-1][lay.boundary] = np.nan
    return se_sizes, se_cells
