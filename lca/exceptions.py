"""Warnings and errors of ``lca``."""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import warnings

_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep
#: Per thread: ``where``, the user's line that warnings raised here point at (for a
#: thread that lca started, whose own stack leads to the thread pool, not to the user),
#: and ``quiet``, whether warnings about the data as given are left out (bootstrap fits
#: of data drawn from a model: the user saw them for the real data)
_CALLER = threading.local()


class DataWarning(UserWarning):
    """Something in the data as given that may not be what the user meant (a column
    with one category, a likely missing-value code, a gap in an ordinal scale)."""


def warn(message: str, category: type[Warning] = UserWarning) -> None:
    """``warnings.warn`` at the user's line (:func:`user_stacklevel`).

    In a worker thread that lca started under :func:`warnings_from`, the line
    is the one that called lca in the thread that started it.
    """
    if issubclass(category, DataWarning) and getattr(_CALLER, "quiet", False):
        return
    where = getattr(_CALLER, "where", None)
    if where is None:
        warnings.warn(message, category, stacklevel=user_stacklevel())
        return
    filename, lineno, module = where
    module_globals = getattr(sys.modules.get(module), "__dict__", None)
    warnings.warn_explicit(
        message,
        category,
        filename,
        lineno,
        module=module,
        registry=None
        if module_globals is None
        else module_globals.setdefault("__warningregistry__", {}),
        module_globals=module_globals,
    )


def user_location() -> tuple:
    """``(filename, line, module name)`` of the user's line that called lca, in this
    thread: plain values, which a task sent to another process can carry."""
    frame = sys._getframe(1)
    while frame is not None and _in_package(frame.f_code.co_filename):
        frame = frame.f_back
    if frame is None:
        return ("<unknown>", 0, "__main__")
    return (frame.f_code.co_filename, frame.f_lineno, frame.f_globals.get("__name__", ""))


@contextlib.contextmanager
def warnings_from(where, quiet_data: bool = False):
    """Within it, :func:`warn` in this thread points at ``where`` (from
    :func:`user_location` in the thread that handed this one its work), and leaves out
    :class:`DataWarning` if ``quiet_data``."""
    previous = getattr(_CALLER, "where", None), getattr(_CALLER, "quiet", False)
    _CALLER.where, _CALLER.quiet = where, quiet_data
    try:
        yield
    finally:
        _CALLER.where, _CALLER.quiet = previous


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
