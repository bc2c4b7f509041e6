"""Standard errors of a direct-effects model: its observed information, numerically.

The parameters, unconstrained (dummy coding against the first category and
the first class):

- the class sizes' logits ``u_k`` (k >= 1);
- for each nominal indicator in no pair, each class's logits of its
  categories ``c >= 1``;
- for each pair, ``log P(a, b | k) = alpha_ka + beta_kb + gamma_ab`` (minus the
  class's normaliser), with ``alpha_k0 = beta_k0 = gamma_0b = gamma_a0 = 0``.

The gradient of the objective (log-likelihood plus log-prior) is analytic:
by Fisher's identity it is the expected complete-data gradient, which the
E-step's expected counts give (observed minus fitted counts, on each margin
of the parameters). The Hessian is its central difference, symmetrised, and
the covariance of the estimates is the inverse of minus the Hessian (Latent
GOLD's "standard" errors; case weights count as frequencies).
"""

from __future__ import annotations

import numpy as np
from scipy.special import logsumexp

from . import _direct_em

#: Step of the central differences of the gradient (the parameters are logits).
STEP = 1e-5


def _sizes(layout, n_classes: int) -> list[tuple[str, int]]:
    """``(kind, number of parameters)`` of every block, in the packed order."""
    out = [("class", n_classes - 1)]
    for i in range(len(layout.singles)):
        c = int(layout.offsets_c[i + 1] - layout.offsets_c[i])
        out.append(("single", n_classes * (c - 1)))
    for p in range(len(layout.pairs)):
        _, c_a, c_b = layout.pair_block(p)
        out.append(("pair", n_classes * (c_a - 1) + n_classes * (c_b - 1) + (c_a - 1) * (c_b - 1)))
    return out


def gamma_slices(layout, n_classes: int) -> list[slice]:
    """Where each pair's ``gamma`` ((C_a - 1)(C_b - 1), a-major) sits in the packed vector."""
    out = []
    at = 0
    for kind, n in _sizes(layout, n_classes):
        if kind == "pair":
            p = len(out)
            _, c_a, c_b = layout.pair_block(p)
            n_gamma = (c_a - 1) * (c_b - 1)
            out.append(slice(at + n - n_gamma, at + n))
        at += n
    return out


def pack(log_class, log_cond_c, layout) -> np.ndarray:
    """The unconstrained parameters of a point of the model."""
    parts = [log_class[1:] - log_class[0]]
    for i in range(len(layout.singles)):
        block = log_cond_c[layout.offsets_c[i] : layout.offsets_c[i + 1]]
        parts.append((block[1:] - block[:1]).T.ravel())  # class-major
    for p in range(len(layout.pairs)):
        eta = _direct_em.pair_log_joint(log_cond_c, layout, p)  # (C_a, C_b, K)
        alpha = eta[1:, 0, :] - eta[:1, 0, :]  # (C_a - 1, K)
        beta = eta[0, 1:, :] - eta[0, :1, :]
        gamma = eta[1:, 1:, 0] - eta[1:, :1, 0] - eta[:1, 1:, 0] + eta[0, 0, 0]
        parts += [alpha.T.ravel(), beta.T.ravel(), gamma.ravel()]
    return np.concatenate(parts)


def unpack(theta, layout, n_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """``(log_class, log_cond_c)`` of the unconstrained parameters."""
    k = n_classes
    at = 0

    def take(n):
        nonlocal at
        out = theta[at : at + n]
        at += n
        return out

    u = np.concatenate([[0.0], take(k - 1)])
    log_class = u - logsumexp(u)
    log_cond_c = np.empty((int(layout.offsets_c[-1]), k))
    for i in range(len(layout.singles)):
        lo, hi = layout.offsets_c[i], layout.offsets_c[i + 1]
        logits = np.zeros((hi - lo, k))
        logits[1:] = take(k * (hi - lo - 1)).reshape(k, hi - lo - 1).T
        log_cond_c[lo:hi] = logits - logsumexp(logits, axis=0)
    for p in range(len(layout.pairs)):
        lo, c_a, c_b = layout.pair_block(p)
        alpha = np.zeros((c_a, k))
        alpha[1:] = take(k * (c_a - 1)).reshape(k, c_a - 1).T
        beta = np.zeros((c_b, k))
        beta[1:] = take(k * (c_b - 1)).reshape(k, c_b - 1).T
        gamma = np.zeros((c_a, c_b))
        gamma[1:, 1:] = take((c_a - 1) * (c_b - 1)).reshape(c_a - 1, c_b - 1)
        eta = alpha[:, None, :] + beta[None, :, :] + gamma[:, :, None]
        _direct_em._set_pair(log_cond_c, lo, eta - logsumexp(eta, axis=(0, 1)))
    return log_class, log_cond_c


def gradient(theta, problem, n_classes: int) -> np.ndarray:
    """The objective's gradient in the unconstrained parameters (Fisher's identity)."""
    layout = problem.layout
    log_class, log_cond_c = unpack(theta, layout, n_classes)
    _, _, totals, counts = _direct_em.estep(problem, log_class, log_cond_c)
    a = problem.class_prior
    sizes = np.exp(log_class)
    parts = [((totals + a) - (totals.sum() + n_classes * a) * sizes)[1:]]
    prior = problem.cond_prior
    for i in range(len(layout.singles)):
        lo, hi = layout.offsets_c[i], layout.offsets_c[i + 1]
        n = counts[lo:hi] + prior[lo:hi, None]
        g = n - n.sum(axis=0) * np.exp(log_cond_c[lo:hi])
        parts.append(g[1:].T.ravel())
    for p in range(len(layout.pairs)):
        lo, c_a, c_b = layout.pair_block(p)
        joint = np.exp(_direct_em.pair_log_joint(log_cond_c, layout, p))
        table = _direct_em.filled_table(
            counts[lo : lo + c_a * c_b + c_a + c_b], joint, prior[lo : lo + c_a * c_b]
        )
        g = table - table.sum(axis=(0, 1)) * joint  # (C_a, C_b, K), per saturated cell
        parts += [g.sum(axis=1)[1:].T.ravel(), g.sum(axis=0)[1:].T.ravel()]
        parts.append(g.sum(axis=2)[1:, 1:].ravel())
    return np.concatenate(parts)


def hessian(theta, problem, n_classes: int, step: float = STEP) -> np.ndarray:
    """Central differences of :func:`gradient`, symmetrised."""
    n = theta.shape[0]
    out = np.empty((n, n))
    for j in range(n):
        up = theta.copy()
        down = theta.copy()
        up[j] += step
        down[j] -= step
        out[:, j] = (gradient(up, problem, n_classes) - gradient(down, problem, n_classes)) / (
            2.0 * step
        )
    return 0.5 * (out + out.T)


def effect_coding(c_a: int, c_b: int) -> np.ndarray:
    """The map (C_a C_b, (C_a - 1)(C_b - 1)) from dummy-coded ``gamma`` to the
    effect-coded table (each row and column centred), a-major."""
    full = np.zeros((c_a * c_b, (c_a - 1) * (c_b - 1)))
    for col, (a, b) in enumerate((a, b) for a in range(1, c_a) for b in range(1, c_b)):
        full[a * c_b + b, col] = 1.0
    centre_a = np.eye(c_a) - 1.0 / c_a
    centre_b = np.eye(c_b) - 1.0 / c_b
    return np.kron(centre_a, centre_b) @ full


def probabilities(theta, layout, n_classes: int, offsets) -> tuple[np.ndarray, np.ndarray]:
    """The class sizes (K,) and every indicator's ``P(c | k)`` (flat categories x K,
    a pair's members as the margins of its joint table) at ``theta``."""
    log_class, log_cond_c = unpack(theta, layout, n_classes)
    cond = np.empty((int(offsets[-1]), n_classes))
    for i, j in enumerate(layout.singles):
        lo, hi = layout.offsets_c[i], layout.offsets_c[i + 1]
        cond[offsets[j] : offsets[j + 1]] = np.exp(log_cond_c[lo:hi])
    for p, (ja, jb) in enumerate(layout.pairs):
        joint = np.exp(_direct_em.pair_log_joint(log_cond_c, layout, p))
        cond[offsets[ja] : offsets[ja + 1]] = joint.sum(axis=1)
        cond[offsets[jb] : offsets[jb + 1]] = joint.sum(axis=0)
    return np.exp(log_class), cond


def jacobian(fn, theta: np.ndarray, step: float = STEP) -> np.ndarray:
    """Central differences of a vector function of the parameters: (outputs, parameters)."""
    cols = []
    for j in range(theta.shape[0]):
        up = theta.copy()
        down = theta.copy()
        up[j] += step
        down[j] -= step
        cols.append((fn(up) - fn(down)) / (2.0 * step))
    return np.stack(cols, axis=1)
