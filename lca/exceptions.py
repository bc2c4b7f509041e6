"""Warnings and errors of ``lca``."""

from __future__ import annotations


class ConvergenceWarning(UserWarning):
    """The best start did not converge within ``max_iter`` iterations."""


class NotFittedError(ValueError, AttributeError):
    """A method that needs a fitted model was called before ``fit``."""


class ModelFileError(ValueError):
    """A saved model file is damaged, inconsistent or of a newer format."""
