"""EM for the latent class model with direct effects between pairs of indicators.

A direct effect (Latent GOLD's term; Hagenaars 1988) lets two indicators ``a``
and ``b`` be associated within every class, by the same amount in each:

    log P(a, b | k) = alpha_ka + beta_kb + gamma_ab   (up to the class's constant)

the loglinear model {class x a, class x b, a x b}. Each pair is held as one
*composite* indicator in the flat category layout of the kernels
(:mod:`lca._kernels`): the ``C_a * C_b`` joint answers (code ``a * C_b + b``),
then ``C_a`` codes for "only a answered" and ``C_b`` for "only b answered",
whose log-probabilities are the joint's margins. The E-step kernels then
compute the likelihood, missing answers summed out, unchanged.

The M-step fills each class's table of the pair with the expected counts of
the partly answered pairs (``P(b | a, k)`` at the current estimates), adds the
prior's pseudo-counts, and runs cycles of iterative proportional fitting
(IPF) from the current estimates; each cycle raises the objective, so every
EM step does (a generalised EM step; Dempster, Laird & Rubin 1977). The
indicators in no pair get the M-step of :func:`lca._kernels.mstep`.

The Bayes constant ``b`` puts the pseudo-counts ``(b / K) f_a f_b`` on the
joint table of every class (``f`` the observed shares of each indicator). With
no association (gamma = 0), ``log P(a, b | k) = log P(a | k) + log P(b | k)``,
so their log-prior ``sum_ab (b / K) f_a f_b log P(a, b | k)`` is
``(b / K) sum_a f_a log P(a | k) + (b / K) sum_b f_b log P(b | k)``: the
log-prior of :class:`lca.LatentClassModel` with the same Bayes constants,
which the direct-effects model nests (the objectives agree there).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import _direct_kernels, _kernels

#: IPF cycles at most per M-step, and the relative error of the fitted margins
#: at which they stop (any number of cycles keeps the step monotone).
IPF_CYCLES = 25
IPF_TOL = 1e-12


@dataclass(frozen=True)
class Layout:
    """Where every parameter lives: indicators in no pair first, then one
    composite block per pair (see the module docstring)."""

    n_categories: np.ndarray  # (J,), the indicators'
    offsets: np.ndarray  # (J + 1,), the indicators' flat layout
    singles: np.ndarray  # indicators in no pair, in their order
    pairs: np.ndarray  # (n_pairs, 2) indicator positions
    offsets_c: np.ndarray  # the composite layout's block offsets

    @property
    def n_single_rows(self) -> int:
        return int(self.offsets_c[len(self.singles)])

    def pair_block(self, p: int) -> tuple[int, int, int]:
        """``(first row, C_a, C_b)`` of pair ``p``'s block."""
        ja, jb = self.pairs[p]
        return (
            int(self.offsets_c[len(self.singles) + p]),
            int(self.n_categories[ja]),
            int(self.n_categories[jb]),
        )


def make_layout(n_categories, pairs) -> Layout:
    """The composite layout of indicators with ``n_categories`` and the given pairs."""
    n_cats = np.asarray(n_categories, dtype=np.int64)
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    paired = set(pairs.ravel().tolist())
    singles = np.array([j for j in range(len(n_cats)) if j not in paired], dtype=np.int64)
    sizes = [int(n_cats[j]) for j in singles]
    sizes += [int(n_cats[a] * n_cats[b] + n_cats[a] + n_cats[b]) for a, b in pairs]
    offsets = np.concatenate([[0], np.cumsum(n_cats)]).astype(np.int64)
    offsets_c = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    return Layout(n_cats, offsets, singles, pairs, offsets_c)


def composite_patterns(patterns: np.ndarray, layout: Layout) -> np.ndarray:
    """Answer patterns (codes < 0 missing) recoded to the composite layout."""
    n_single = len(layout.singles)
    width = n_single + len(layout.pairs)
    top = int(np.diff(layout.offsets_c).max(initial=1)) - 1  # the largest code
    dtype = np.int8 if top <= 127 else np.int16 if top <= 32_767 else np.int32
    out = np.full((patterns.shape[0], width), -1, dtype=dtype)
    out[:, :n_single] = patterns[:, layout.singles]
    for p, (ja, jb) in enumerate(layout.pairs):
        _, c_a, c_b = layout.pair_block(p)
        a = patterns[:, ja].astype(np.int64)
        b = patterns[:, jb].astype(np.int64)
        code = np.full(patterns.shape[0], -1, dtype=np.int64)
        both = (a >= 0) & (b >= 0)
        code[both] = a[both] * c_b + b[both]
        only_a = (a >= 0) & (b < 0)
        code[only_a] = c_a * c_b + a[only_a]
        only_b = (a < 0) & (b >= 0)
        code[only_b] = c_a * c_b + c_a + b[only_b]
        out[:, n_single + p] = code
    return out


def _lse(x: np.ndarray, axis) -> np.ndarray:
    """``log(sum(exp(x)))`` over ``axis``, without overflow (-inf where all are -inf);
    SciPy's ``logsumexp`` costs tens of microseconds a call, this a few."""
    top = np.max(x, axis=axis, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    with np.errstate(divide="ignore"):
        out = np.log(np.sum(np.exp(x - top), axis=axis, keepdims=True)) + top
    return np.squeeze(out, axis=axis)


def _set_pair(out: np.ndarray, lo: int, log_joint: np.ndarray) -> None:
    """Write a pair's block from its log joint (C_a, C_b, K): the joint, then margins."""
    c_a, c_b, k = log_joint.shape
    out[lo : lo + c_a * c_b] = log_joint.reshape(c_a * c_b, k)
    out[lo + c_a * c_b : lo + c_a * c_b + c_a] = _lse(log_joint, 1)
    out[lo + c_a * c_b + c_a : lo + c_a * c_b + c_a + c_b] = _lse(log_joint, 0)


def pair_log_joint(log_cond_c: np.ndarray, layout: Layout, p: int) -> np.ndarray:
    """Pair ``p``'s ``log P(a, b | k)``, shape (C_a, C_b, K)."""
    lo, c_a, c_b = layout.pair_block(p)
    return log_cond_c[lo : lo + c_a * c_b].reshape(c_a, c_b, -1)


def to_composite(log_cond: np.ndarray, layout: Layout, log_joints=None) -> np.ndarray:
    """Composite log-parameters from the indicators' layout (independence within
    the pairs: ``log P(a|k) + log P(b|k)``), or from given log joints of the pairs."""
    k = log_cond.shape[1]
    out = np.empty((int(layout.offsets_c[-1]), k))
    off = layout.offsets
    for i, j in enumerate(layout.singles):
        out[layout.offsets_c[i] : layout.offsets_c[i + 1]] = log_cond[off[j] : off[j + 1]]
    for p, (ja, jb) in enumerate(layout.pairs):
        lo, _, _ = layout.pair_block(p)
        if log_joints is not None:
            joint = log_joints[p]
        else:
            joint = log_cond[off[ja] : off[ja + 1], None, :] + log_cond[off[jb] : off[jb + 1]][None]
        _set_pair(out, lo, joint)
    return out


def from_composite(log_cond_c: np.ndarray, layout: Layout) -> tuple[np.ndarray, list]:
    """The indicators' (marginal) log-probabilities and the pairs' log joints."""
    k = log_cond_c.shape[1]
    out = np.empty((int(layout.offsets[-1]), k))
    off = layout.offsets
    for i, j in enumerate(layout.singles):
        out[off[j] : off[j + 1]] = log_cond_c[layout.offsets_c[i] : layout.offsets_c[i + 1]]
    joints = []
    for p, (ja, jb) in enumerate(layout.pairs):
        lo, c_a, c_b = layout.pair_block(p)
        out[off[ja] : off[ja + 1]] = log_cond_c[lo + c_a * c_b : lo + c_a * c_b + c_a]
        out[off[jb] : off[jb + 1]] = log_cond_c[lo + c_a * c_b + c_a : lo + c_a * c_b + c_a + c_b]
        joints.append(pair_log_joint(log_cond_c, layout, p).copy())
    return out, joints


def composite_prior(cond_prior: np.ndarray, layout: Layout) -> np.ndarray:
    """Pseudo-counts in the composite layout: the indicators' own for those in no
    pair; ``(b/K) f_a f_b`` on a pair's joint rows (the product of the two
    indicators' pseudo-counts over ``b/K``, which each indicator's sum to in
    ``cond_prior``), none on its margin rows."""
    out = np.zeros(int(layout.offsets_c[-1]))
    off = layout.offsets
    for i, j in enumerate(layout.singles):
        out[layout.offsets_c[i] : layout.offsets_c[i + 1]] = cond_prior[off[j] : off[j + 1]]
    for p, (ja, jb) in enumerate(layout.pairs):
        lo, c_a, c_b = layout.pair_block(p)
        pa = cond_prior[off[ja] : off[ja + 1]]
        pb = cond_prior[off[jb] : off[jb + 1]]
        total = pa.sum()
        if total > 0:
            out[lo : lo + c_a * c_b] = np.outer(pa, pb / pb.sum()).ravel()
    return out


def _ratio(target: np.ndarray, fitted: np.ndarray) -> np.ndarray:
    """``target / fitted``, with 0 where the fitted margin is 0 (its cells stay 0)."""
    out = np.zeros_like(fitted)
    np.divide(target, fitted, out=out, where=fitted > 0)
    return out


def ipf(table: np.ndarray, start: np.ndarray, cycles: int = IPF_CYCLES) -> np.ndarray:
    """Maximum likelihood fit of the loglinear model {ka, kb, ab} to ``table``.

    ``table`` (C_a, C_b, K) holds (expected) counts; ``start`` (same shape) is a
    table of the model's form with the class totals of ``table`` (the current
    estimates times them). Each cycle scales to the a x b, class x a and
    class x b margins, in that order, so that every cycle ends with the class
    totals of ``table``: the multinomial log-likelihood of each class's table
    then never falls (each scaling is an exact maximisation over one margin's
    parameters). Stops when the margins match to ``IPF_TOL`` or after ``cycles``.
    """
    m = start.copy()
    t_ab = table.sum(axis=2)
    t_ka = table.sum(axis=1)
    t_kb = table.sum(axis=0)
    scale = max(float(table.sum()), 1e-300)
    for _ in range(cycles):
        m *= _ratio(t_ab, m.sum(axis=2))[:, :, None]
        m *= _ratio(t_ka, m.sum(axis=1))[:, None, :]
        m *= _ratio(t_kb, m.sum(axis=0))[None, :, :]
        err = max(
            float(np.abs(m.sum(axis=2) - t_ab).max()),
            float(np.abs(m.sum(axis=1) - t_ka).max()),
        )
        if err <= IPF_TOL * scale:
            break
    return m


def filled_table(counts_block, joint, prior_joint) -> np.ndarray:
    """Each class's expected table of a pair (C_a, C_b, K): the pairs answered in
    full, those with one answer filled in by ``P(b | a, k)`` or ``P(a | b, k)`` at
    ``joint`` (the current P(a, b | k)), plus the prior's pseudo-counts."""
    c_a, c_b, k = joint.shape
    full = counts_block[: c_a * c_b].reshape(c_a, c_b, k)
    only_a = counts_block[c_a * c_b : c_a * c_b + c_a]
    only_b = counts_block[c_a * c_b + c_a : c_a * c_b + c_a + c_b]
    b_given_a = joint * _ratio(np.ones_like(only_a), joint.sum(axis=1))[:, None, :]
    a_given_b = joint * _ratio(np.ones_like(only_b), joint.sum(axis=0))[None, :, :]
    table = full + only_a[:, None, :] * b_given_a + only_b[None, :, :] * a_given_b
    return table + prior_joint.reshape(c_a, c_b)[:, :, None]


def pair_mstep(counts_block, log_joint, prior_joint, cycles: int = IPF_CYCLES) -> np.ndarray:
    """The new ``log P(a, b | k)`` of one pair from its block of expected counts
    (the NumPy reference of :func:`lca._direct_kernels.pair_mstep`).

    ``counts_block`` (C_a C_b + C_a + C_b, K) is the composite block of
    :func:`lca._kernels.class_counts`; ``log_joint`` (C_a, C_b, K) the current
    estimate; ``prior_joint`` (C_a C_b,) the pseudo-counts of its cells.
    """
    joint = np.exp(log_joint)
    table = filled_table(counts_block, joint, prior_joint)
    totals = table.sum(axis=(0, 1))
    fitted = ipf(table, joint * totals[None, None, :], cycles)
    out = log_joint.copy()
    with np.errstate(divide="ignore"):
        for kk in np.flatnonzero(totals > 0):  # an empty class keeps its estimate
            out[:, :, kk] = np.log(fitted[:, :, kk]) - np.log(fitted[:, :, kk].sum())
    return out


@dataclass(frozen=True)
class Problem:
    """A fit's data and priors: composite patterns, their weights, the layout."""

    patterns: np.ndarray  # composite patterns
    weights: np.ndarray
    layout: Layout
    class_prior: float
    cond_prior: np.ndarray  # composite layout
    ordinal: np.ndarray  # of the indicators in no pair


def make_problem(patterns, weights, layout: Layout, class_prior, cond_prior, ordinal) -> Problem:
    """The :class:`Problem` of answer patterns (codes < 0 missing) in the indicators'
    layout, with the priors of :func:`lca.model.dirichlet_priors` (``cond_prior`` on
    the indicators' flat layout) and the ordinal mask of every indicator."""
    return Problem(
        patterns=composite_patterns(patterns, layout),
        weights=np.ascontiguousarray(weights, dtype=np.float64),
        layout=layout,
        class_prior=float(class_prior),
        cond_prior=composite_prior(cond_prior, layout),
        ordinal=np.ascontiguousarray(np.asarray(ordinal, dtype=np.bool_)[layout.singles]),
    )


def estep(problem: Problem, log_class, log_cond_c):
    """``(objective, loglik, class totals, expected counts)`` at the given parameters."""
    post, ll = _kernels.posteriors(
        problem.patterns, problem.layout.offsets_c, log_class, log_cond_c, False
    )
    w = problem.weights
    used = w > 0
    loglik = float(np.sum(w[used] * ll[used]))
    wpost = post * w[:, None]
    counts = _kernels.class_counts(
        problem.patterns, problem.layout.offsets_c, wpost, int(problem.layout.offsets_c[-1])
    )
    prior = float(
        _kernels.log_prior(log_class, log_cond_c, problem.class_prior, problem.cond_prior)
    )
    return loglik + prior, loglik, wpost.sum(axis=0), counts


def mstep(problem: Problem, class_totals, counts, log_cond_c):
    """New ``(log_class, log_cond_c)`` from the E-step's expected counts."""
    layout = problem.layout
    a = problem.class_prior
    log_class = np.log((class_totals + a) / np.sum(class_totals + a))
    out = log_cond_c.copy()
    rows = layout.n_single_rows
    if len(layout.singles):
        _, out[:rows] = _kernels.mstep(
            np.ascontiguousarray(counts[:rows]),
            class_totals,
            layout.offsets_c[: len(layout.singles) + 1],
            a,
            problem.cond_prior[:rows],
            np.ascontiguousarray(log_cond_c[:rows]),
            problem.ordinal,
        )
    for p in range(len(layout.pairs)):
        lo, c_a, c_b = layout.pair_block(p)
        _direct_kernels.pair_mstep(
            counts, log_cond_c, out, lo, c_a, c_b,
            problem.cond_prior[lo : lo + c_a * c_b], IPF_CYCLES, IPF_TOL,
        )  # fmt: skip
    return log_class, out


@dataclass
class Run:
    """One start's EM: its current parameters and how far it went."""

    log_class: np.ndarray
    log_cond: np.ndarray
    objective: float = -np.inf
    loglik: float = -np.inf
    n_iter: int = 0
    converged: bool = False


#: Growth of SQUAREM's largest step after an accepted step at the bound.
STEP_GROWTH = 2.0


def _free_rows(layout: Layout) -> np.ndarray:
    """The composite rows that are parameters (the pairs' margins are derived)."""
    rows = np.zeros(int(layout.offsets_c[-1]), dtype=bool)
    rows[: layout.n_single_rows] = True
    for p in range(len(layout.pairs)):
        lo, c_a, c_b = layout.pair_block(p)
        rows[lo : lo + c_a * c_b] = True
    return rows


def _normalised(layout: Layout, log_class, log_cond_c):
    """A point renormalised: class sizes, each single indicator's block and each
    pair's joint table sum to 1 in every class; the pairs' margins recomputed."""
    log_class = log_class - _lse(log_class, 0)
    out = log_cond_c.copy()
    for i in range(len(layout.singles)):
        lo, hi = layout.offsets_c[i], layout.offsets_c[i + 1]
        out[lo:hi] -= _lse(out[lo:hi], 0)
    for p in range(len(layout.pairs)):
        lo, _, _ = layout.pair_block(p)
        joint = pair_log_joint(out, layout, p)
        _set_pair(out, lo, joint - _lse(joint, (0, 1)))
    return log_class, out


def squarem_point(layout: Layout, p0, p1, p2, step_max: float):
    """SQUAREM's extrapolation (Varadhan & Roland 2008, scheme S3) from three EM
    points ``(log_class, log_cond_c)``, and its step length ``alpha``.

    Applied to the log-parameters that are free (the pairs' joint cells, not
    their margins), then renormalised: a linear combination of loglinear
    tables of the model's form, renormalised, is again of that form (as an
    ordinal indicator's log-probabilities stay ordinal). ``alpha`` lies in
    ``[-step_max, -1]``; -1 is the plain EM point two steps on. Cells at
    probability 0 stay there.
    """
    rows = _free_rows(layout)
    x0 = np.concatenate([p0[0], p0[1][rows].ravel()])
    x1 = np.concatenate([p1[0], p1[1][rows].ravel()])
    x2 = np.concatenate([p2[0], p2[1][rows].ravel()])
    finite = np.isfinite(x0) & np.isfinite(x1) & np.isfinite(x2)
    with np.errstate(invalid="ignore"):  # -inf - -inf at cells of probability 0
        r = np.where(finite, x1 - x0, 0.0)
        v = np.where(finite, x2 - 2.0 * x1 + x0, 0.0)
    rr, vv = float(r @ r), float(v @ v)
    if not vv > 0.0:
        return None, -1.0
    alpha = -min(step_max, max(1.0, np.sqrt(rr / vv)))
    with np.errstate(invalid="ignore"):
        x = np.where(finite, x0 - 2.0 * alpha * r + alpha * alpha * v, x2)
    k = p0[0].shape[0]
    log_class = x[:k]
    log_cond = p2[1].copy()
    log_cond[rows] = x[k:].reshape(-1, p2[1].shape[1])
    return _normalised(layout, log_class, log_cond), alpha


def run_em(
    problem: Problem, run: Run, max_iter: int, tol: float, trace=None, accelerate: bool = False
) -> Run:
    """EM from ``run``'s parameters for up to ``max_iter`` more E-steps.

    Convergence as for :class:`lca.LatentClassModel`: a plain EM step raises
    the objective (log-likelihood plus log-prior) by less than
    ``tol * |objective|``. With ``accelerate``, SQUAREM (:func:`squarem_point`)
    from every pair of EM steps: the extrapolated point is kept only if its
    objective is at least that of the first EM step's point, else EM goes on
    from that point (and the bound on the step halves; it doubles after a step
    kept at the bound). So the kept objectives never fall. ``trace`` (a list)
    receives the objective of every point kept.
    """
    layout = problem.layout
    p0 = (run.log_class, run.log_cond)
    obj0, ll0, tot0, cnt0 = estep(problem, *p0)
    if trace is not None:
        trace.append(obj0)
    n_iter = run.n_iter + 1
    budget = run.n_iter + max_iter
    converged = False
    step_max = 1.0
    while n_iter < budget:
        p1 = mstep(problem, tot0, cnt0, p0[1])
        obj1, ll1, tot1, cnt1 = estep(problem, *p1)
        n_iter += 1
        if np.isfinite(obj0) and not obj1 - obj0 > tol * abs(obj0):
            if obj1 >= obj0:  # a step that went down (rounding) is not kept
                p0, obj0, ll0 = p1, obj1, ll1
                if trace is not None:
                    trace.append(obj0)
            converged = True
            break
        if accelerate and n_iter < budget and np.isfinite(obj1):
            p2 = mstep(problem, tot1, cnt1, p1[1])
            x, alpha = squarem_point(layout, p0, p1, p2, step_max)
            if x is not None:
                objx, llx, totx, cntx = estep(problem, *x)
                n_iter += 1
                if np.isfinite(objx) and objx >= obj1:
                    if alpha == -step_max:
                        step_max *= STEP_GROWTH
                    p0, obj0, ll0, tot0, cnt0 = x, objx, llx, totx, cntx
                    if trace is not None:
                        trace.append(obj0)
                    continue
                step_max = max(1.0, step_max / STEP_GROWTH)
        p0, obj0, ll0, tot0, cnt0 = p1, obj1, ll1, tot1, cnt1
        if trace is not None:
            trace.append(obj0)
    return Run(p0[0], p0[1], obj0, ll0, n_iter, converged)
