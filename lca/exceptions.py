"""Warnings and errors of ``lca``."""

from __future__ import annotations

import os
import sys

_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep


def user_stacklevel() -> int:
    """The ``stacklevel`` that makes a warning point at the user's line: the first
    frame, from the function calling ``warnings.warn``, whose file is not in ``lca``.

    A fixed number is right for one call path only: the same warning comes through
    ``fit``, ``compare``, the command line or the Dask reader at different depths.
    """
    frame, level = sys._getframe(1), 1
    while frame is not None and _in_package(frame.f_code.co_filename):
        frame, level = frame.f_back, level + 1
    return level


def _in_package(filename: str) -> bool:
    # "<string>", "<stdin>": code run by exec, -c or the REPL, the user's
    return not filename.startswith("<") and os.path.abspath(filename).startswith(_PACKAGE)


class ConvergenceWarning(UserWarning):
    """The best start did not converge within ``max_iter`` iterations."""


class NotFittedError(ValueError, AttributeError):
    """A method that needs a fitted model was called before ``fit``."""


class ModelFileError(ValueError):
    """A saved model file is damaged, inconsistent or of a newer format."""
