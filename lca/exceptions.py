"""Warnings and errors of ``lca``."""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import warnings

_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep
#: ``frame`` of this thread: the user's line that warnings raised here point at, for a
#: thread that lca started (its own stack leads to the thread pool, not to the user)
_CALLER = threading.local()


def warn(message: str, category: type[Warning] = UserWarning) -> None:
    """``warnings.warn`` at the user's line (:func:`user_stacklevel`).

    In a worker thread that lca started under :func:`warnings_from`, the line
    is the one that called lca in the thread that started it.
    """
    frame = getattr(_CALLER, "frame", None)
    if frame is None:
        warnings.warn(message, category, stacklevel=user_stacklevel())
        return
    module_globals = frame.f_globals
    warnings.warn_explicit(
        message,
        category,
        frame.f_code.co_filename,
        frame.f_lineno,
        module=module_globals.get("__name__", "<string>"),
        registry=module_globals.setdefault("__warningregistry__", {}),
        module_globals=module_globals,
    )


def user_frame():
    """The frame of the user's line that called lca, in this thread."""
    frame = sys._getframe(1)
    while frame is not None and _in_package(frame.f_code.co_filename):
        frame = frame.f_back
    return frame


@contextlib.contextmanager
def warnings_from(frame):
    """Within it, :func:`warn` in this thread points at ``frame`` (from :func:`user_frame`
    in the thread that handed this one its work)."""
    previous = getattr(_CALLER, "frame", None)
    _CALLER.frame = frame
    try:
        yield
    finally:
        _CALLER.frame = previous


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
