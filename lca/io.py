"""Saving and loading fitted models: one JSON file, versioned, never pickle.

The file holds the indicator names and category labels (JSON keeps their
types: ``1``, ``1.0``, ``"1"`` and ``true`` stay distinct), the parameters as
probabilities (written with Python's shortest exact float repr, so they read
back to the same bits), the fit statistics and tables computed at fit time,
and the fitting options. ``load`` checks every field and refuses a damaged,
inconsistent or newer file with :class:`lca.exceptions.ModelFileError`;
nothing named in a file is imported or executed.
"""

from __future__ import annotations

import json
import math
import numbers
import os
from os import PathLike

import numpy as np

from .criteria import FIT_STAT_NAMES
from .encoding import Indicator, name_list, plain_name, python_label, text_key
from .exceptions import ModelFileError

FORMAT = "lca.LatentClassModel"
FORMAT_VERSION = 1
DIRECT_FORMAT = "lca.DirectEffectsModel"
DIRECT_FORMAT_VERSION = 1
REGRESSION_FORMAT = "lca.LatentClassRegression"
REGRESSION_FORMAT_VERSION = 1
#: Largest model file ``load`` reads (bytes); checked before reading.
MAX_FILE_BYTES = 64 * 2**20
#: Largest number of parameters ``load`` allocates.
MAX_CELLS = 10_000_000
_PROB_ATOL = 1e-9


def _num(x):
    """A float for JSON: None for NaN or infinite values."""
    x = float(x)
    return x if math.isfinite(x) else None


def _name_to_json(name):
    """A column name as the file holds it, or None if it cannot be written.

    A str, an int or a finite float is written as it is (JSON tells 1.0 from
    1); a tuple (a column of a MultiIndex) as a list of such names, which
    reads back as the tuple, since no column name can be a list.
    """
    name = plain_name(name)
    if isinstance(name, tuple):
        parts = [_name_to_json(p) for p in name]
        return parts if parts and all(p is not None for p in parts) else None
    return _scalar_name(name)


def _name_from_json(raw):
    """The column name :func:`_name_to_json` wrote, or None if ``raw`` is not one."""
    if isinstance(raw, list):
        parts = [_name_from_json(p) for p in raw]
        return tuple(parts) if parts and all(p is not None for p in parts) else None
    return _scalar_name(raw)


def _scalar_name(name):
    """``name`` if it is a str, an int or a finite float (not a bool), else None."""
    if isinstance(name, bool) or not isinstance(name, (str, int, float)):
        return None
    return name if not isinstance(name, float) or math.isfinite(name) else None


def _names_to_json(names, what: str) -> list:
    out = [_name_to_json(n) for n in names]
    for name, raw in zip(names, out):
        if raw is None:
            raise TypeError(
                f"{what} {name!r} cannot be saved: a name in a model file is a str, an int, "
                "a finite float or a tuple of those; rename the column"
            )
    return out


def _class_match(model):
    """A preset fit's ``class_match_`` (published class -> fitted class) for the file."""
    match = getattr(model, "class_match_", None)
    if match is None:
        return None
    return {
        "label": [str(v) for v in match["label"]],
        "fitted_class_by_size": [int(v) for v in match["fitted_class_by_size"]],
        "distance": [float(v) for v in match["distance"]],
        "matched": [bool(v) for v in match["matched"]],
    }


def _read_class_match(raw, k: int, path):
    import pandas as pd

    columns = {"label": str, "fitted_class_by_size": int, "distance": float, "matched": bool}
    if not (
        isinstance(raw, dict)
        and set(raw) == set(columns)
        and all(
            isinstance(raw[c], list)
            and len(raw[c]) == k
            and all(isinstance(v, t) and not (t is int and isinstance(v, bool)) for v in raw[c])
            for c, t in columns.items()
        )
    ):
        _fail(path, f"class_match must hold {sorted(columns)}, {k} values each")
    frame = pd.DataFrame({c: raw[c] for c in columns})
    frame.index = pd.RangeIndex(1, k + 1, name="class")
    return frame


def _options_to_json(params: dict) -> dict:
    """Constructor options for the file: ``ordinal`` and ``categories`` names as the
    file holds names, an integer ``random_state`` as an int (a Generator as None)."""
    params = dict(params)
    if params["ordinal"] is not None:
        params["ordinal"] = _names_to_json(name_list(params["ordinal"], "ordinal"), "ordinal=")
    categories = params.pop("categories")
    if categories is not None:
        keys = _names_to_json(list(categories), "categories= key")
        categories = [
            [key, [python_label(v) for v in labels]]
            for key, labels in zip(keys, categories.values())
        ]
    rs = params["random_state"]
    if isinstance(rs, numbers.Integral) and not isinstance(rs, bool):
        params["random_state"] = int(rs)
    elif rs is not None:
        params["random_state"] = None  # a Generator cannot be written down
    params["categories"] = categories
    if "direct_effects" in params:  # a DirectEffectsModel's pairs
        params["direct_effects"] = [
            _names_to_json(list(pair), "direct_effects name") for pair in params["direct_effects"]
        ]
    if isinstance(params.get("accelerate"), np.bool_):  # JSON writes bool, not np.bool_
        params["accelerate"] = bool(params["accelerate"])
    return params


def model_to_dict(model) -> dict:
    """The JSON-ready content of a fitted model (a DirectEffectsModel's too)."""
    d = _latent_class_dict(model)
    if hasattr(model, "_joints"):
        d["format"] = DIRECT_FORMAT
        d["format_version"] = DIRECT_FORMAT_VERSION
        d["pair_probs"] = [joint.tolist() for joint in model._joints]
        d["fitted"]["independence_loglik"] = model.independence_loglik_
        d["fitted"]["independence_n_parameters"] = model.independence_n_parameters_
    return d


def _latent_class_dict(model) -> dict:
    names = _names_to_json([ind.name for ind in model.indicators_], "indicator name")
    params = _options_to_json(model.get_params())
    off = model._offsets
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "lca_version": _version(),
        "n_classes": model.n_classes_,
        "indicators": [
            {
                "name": name,
                "categories": list(ind.categories),
                "ordered": ind.ordered,
                "scale": "ordinal" if is_ordinal else "nominal",
            }
            for name, ind, is_ordinal in zip(names, model.indicators_, model._ordinal)
        ],
        "class_sizes": [float(p) for p in model._class_probs],
        "class_labels": getattr(model, "class_labels_", None),
        "class_match": _class_match(model),
        "conditional_probs": [
            model._cond_probs[off[j] : off[j + 1]].tolist() for j in range(len(model.indicators_))
        ],
        "fit_stats": None
        if model._stats is None
        else {k: _num(v) for k, v in model._stats.items()},
        "classification_tables": None
        if model._tables is None
        else {k: v.tolist() for k, v in model._tables.items()},
        "avepp": None if model._avepp is None else [_num(v) for v in model._avepp],
        "n_parameters": model.n_parameters_,
        "fitted": None
        if model._stats is None
        else {
            "loglik": model.loglik_,
            "log_prior": model.log_prior_,
            "bayes_constant": model.bayes_constant_,
            "class_bayes_constant": model.class_bayes_constant_,
            "n_parameters": model.n_parameters_,
            "n_obs": model.n_obs_,
            "n_rows": model.n_rows_,
            "n_empty_rows": model.n_empty_rows_,
            "converged": model.converged_,
            "n_iter": model.n_iter_,
            "n_starts_at_best": model.n_starts_at_best_,
            "start_objectives": [_num(v) for v in model.start_objectives_],
        },
        "options": params,
    }


def _version() -> str:
    from . import __version__

    return __version__


def save_model(model, path: str | PathLike) -> None:
    """Write ``model`` to ``path`` atomically (a temporary file, then rename)."""
    folder = os.path.dirname(os.path.abspath(os.fspath(path)))
    if not os.path.isdir(folder):
        raise FileNotFoundError(
            f"cannot save the model to {os.fspath(path)}: the folder {folder} does not exist"
        )
    from .multigroup import MultiGroupModel

    if isinstance(model, MultiGroupModel):
        to_dict = multigroup_to_dict
    else:
        to_dict = regression_to_dict if hasattr(model, "beta_") else model_to_dict
    text = json.dumps(to_dict(model), indent=1, allow_nan=False)
    tmp = f"{os.fspath(path)}.tmp{os.getpid()}"
    try:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.remove(tmp)
        except OSError:
            pass
        raise


def _parse_int(text):
    if len(text.lstrip("-")) > 300:  # beyond float range; Python refuses > 4300 digits
        raise ModelFileError(f"the model file holds an integer of {len(text)} digits")
    return int(text)


def _reject_constant(name):
    raise ModelFileError(f"the model file holds {name}, which is not a valid number")


def _fail(path, why: str):
    raise ModelFileError(f"{os.fspath(path)}: {why}")


def _get(d: dict, key: str, kind, path):
    if key not in d:
        _fail(path, f"field {key!r} is missing; the file is damaged")
    value = d[key]
    if kind is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    elif kind is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    else:
        ok = isinstance(value, kind)
    if not ok:
        _fail(path, f"field {key!r} has the wrong type ({type(value).__name__})")
    return value


def _float_array(values, shape, what, path) -> np.ndarray:
    try:
        arr = np.array(values, dtype=float)
    except (TypeError, ValueError, OverflowError):
        _fail(path, f"{what} must be numbers of shape {shape}")
    if arr.shape != shape:
        _fail(path, f"{what} has shape {arr.shape}, expected {shape}")
    return arr


def _nulls_as_nan(raw):
    """A (nested) list of numbers from a file with its nulls (written for NaN) as NaN."""
    if isinstance(raw, list):
        return [_nulls_as_nan(v) for v in raw]
    return np.nan if raw is None else raw


def _probabilities(arr: np.ndarray, what: str, path) -> None:
    if not np.all(np.isfinite(arr)):
        _fail(path, f"{what} holds values that are not finite numbers")
    if np.any(arr < 0) or np.any(arr > 1):
        _fail(path, f"{what} holds probabilities outside [0, 1]")
    sums = arr.sum(axis=0)
    if np.any(np.abs(sums - 1.0) > _PROB_ATOL):
        _fail(path, f"{what} do not sum to 1 (sums {np.round(sums, 6).tolist()})")


def load(path: str | PathLike):
    """Load a model saved with ``LatentClassModel.save``.

    Parameters
    ----------
    path : str or path-like
        The JSON file written by ``save`` (or by ``lca fit`` / ``lca compare``).

    Returns
    -------
    LatentClassModel or LatentClassRegression
        Fitted: it predicts, scores and reports its fit statistics as the
        saved model did (bit for bit), but keeps no data, so it has no
        bivariate residuals or ``crosstab``. A regression's file holds its
        model without covariates (``measurement_model_``) as well.

    Raises
    ------
    lca.exceptions.ModelFileError
        The file is not a model file, is damaged (truncated, malformed,
        fields missing), is inconsistent (probabilities outside [0, 1] or not
        summing to 1, shapes that disagree, sizes beyond the limits) or was
        written by a newer format version.
    """
    try:
        size = os.path.getsize(path)
    except OSError as exc:
        raise ModelFileError(
            f"cannot read model file {os.fspath(path)!r}: {exc.strerror}"
        ) from None
    if size > MAX_FILE_BYTES:
        _fail(path, f"{size} bytes is larger than a model file can be ({MAX_FILE_BYTES} bytes)")
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
        content = json.loads(text, parse_constant=_reject_constant, parse_int=_parse_int)
    except ModelFileError:
        raise
    except UnicodeDecodeError:
        _fail(path, "not a text (UTF-8) file; is it a model file?")
    except json.JSONDecodeError as exc:
        _fail(
            path,
            f"not valid JSON ({exc.msg} at line {exc.lineno}); the file is damaged or truncated",
        )
    except RecursionError:
        _fail(path, "nested too deeply to be a model file")
    except OSError as exc:  # a folder, no permission, ...
        raise ModelFileError(
            f"cannot read model file {os.fspath(path)!r}: {exc.strerror}"
        ) from None
    if isinstance(content, dict) and content.get("format") == REGRESSION_FORMAT:
        return regression_from_dict(content, path)
    if isinstance(content, dict) and content.get("format") == MULTIGROUP_FORMAT:
        return multigroup_from_dict(content, path)
    return model_from_dict(content, path)


def _check_version(d: dict, latest: int, what: str, path) -> None:
    """A file's ``format_version``: refused if newer than ``latest`` or below 1."""
    version = _get(d, "format_version", int, path)
    if version > latest:
        _fail(
            path,
            f"written in {what} format version {version}, newer than this lca reads "
            f"({latest}); upgrade lca",
        )
    if version < 1:
        _fail(path, f"format version {version} is not valid")


def model_from_dict(d, path="<dict>"):
    """Rebuild a fitted model from :func:`model_to_dict`'s content, checking it."""
    if not isinstance(d, dict) or d.get("format") not in (FORMAT, DIRECT_FORMAT):
        _fail(path, "not an lca model file (field 'format' is not 'lca.LatentClassModel')")
    direct = d["format"] == DIRECT_FORMAT
    _check_version(d, DIRECT_FORMAT_VERSION if direct else FORMAT_VERSION, "model", path)
    k = _get(d, "n_classes", int, path)
    raw_inds = _get(d, "indicators", list, path)
    if not (1 <= k <= 10_000):
        _fail(path, f"n_classes={k} is out of range")
    if not (1 <= len(raw_inds) <= 100_000):
        _fail(path, f"{len(raw_inds)} indicators is out of range")
    indicators = []
    scales = []
    total_cats = 0
    for i, raw in enumerate(raw_inds):
        if not isinstance(raw, dict):
            _fail(path, f"indicator {i} is not an object")
        name = _name_from_json(raw.get("name"))
        if name is None:
            _fail(path, f"indicator {i} has no valid name")
        cats = _get(raw, "categories", list, path)
        if not (1 <= len(cats) <= 32_767):
            _fail(path, f"indicator {name!r} has {len(cats)} categories (1 to 32767 allowed)")
        total_cats += len(cats)
        if total_cats * k > MAX_CELLS:
            _fail(path, f"the model has more than {MAX_CELLS} parameters: refused")
        labels = []
        for c in cats:
            if not isinstance(c, (str, int, float, bool)) or (
                isinstance(c, float) and not math.isfinite(c)
            ):
                _fail(path, f"indicator {name!r} has an invalid category label {c!r}")
            labels.append(python_label(c))
        if len({text_key(c) for c in labels}) != len(labels):
            _fail(path, f"indicator {name!r} repeats a category label")
        ordered = raw.get("ordered", False)
        if not isinstance(ordered, bool):
            _fail(path, f"indicator {name!r}: 'ordered' must be true or false")
        scale = raw.get("scale", "nominal")
        if scale not in ("nominal", "ordinal"):
            _fail(path, f"indicator {name!r}: scale must be 'nominal' or 'ordinal'")
        scales.append(scale == "ordinal")
        indicators.append(Indicator(name=name, categories=tuple(labels), ordered=ordered))
    if len({ind.name for ind in indicators}) != len(indicators):
        _fail(path, "two indicators have the same name")

    class_sizes = _float_array(_get(d, "class_sizes", list, path), (k,), "class_sizes", path)
    _probabilities(class_sizes, "class_sizes", path)
    blocks = _read_blocks(d, indicators, k, path)

    n_cats = [ind.n_categories for ind in indicators]
    cls = None
    if direct:
        from .direct_effects import DirectEffectsModel as cls
    model = _model_from_options(d, k, path, cls)
    model.indicators_ = indicators
    model._ordinal = np.array(scales, dtype=np.bool_)
    model._offsets = np.concatenate([[0], np.cumsum(n_cats)]).astype(np.int64)
    if direct:
        _read_direct_effects(model, d, class_sizes, np.vstack(blocks), path)
    else:
        model._set_parameters(class_sizes, np.vstack(blocks))
    model.n_parameters_ = _get(d, "n_parameters", int, path)
    labels = d.get("class_labels")
    if labels is not None:
        if not (
            isinstance(labels, list)
            and len(labels) == k
            and all(isinstance(v, str) for v in labels)
        ):
            _fail(path, f"class_labels must be a list of {k} strings")
        model.class_labels_ = labels
    match = d.get("class_match")
    if match is not None:
        model.class_match_ = _read_class_match(match, k, path)
    if d.get("fitted", "absent") is None:  # built from parameters, never fitted to data
        model._stats = model._tables = model._avepp = None
        return model
    _read_fitted(model, d, k, path)
    return model


def _read_direct_effects(model, d: dict, class_sizes, cond, path) -> None:
    """A DirectEffectsModel's pairs and their joint tables, checked against the
    indicators and their margins, then its parameters set as the fit set them."""
    from ._direct_em import make_layout
    from .encoding import DataError

    try:
        pairs = model._pair_positions(model.indicators_)
    except (DataError, ValueError) as exc:
        _fail(path, f"invalid direct effects: {exc}")
    if not model._ordinal.tolist() == model._ordinal_mask(model.indicators_).tolist():
        _fail(path, "the indicators' scale types disagree with the option 'ordinal'")
    raw = _get(d, "pair_probs", list, path)
    if len(raw) != len(pairs):
        _fail(path, f"pair_probs has {len(raw)} tables for {len(pairs)} direct effects")
    k = class_sizes.shape[0]
    off = model._offsets
    joints = []
    for (ja, jb), table in zip(pairs, raw):
        shape = (model.indicators_[ja].n_categories, model.indicators_[jb].n_categories, k)
        what = f"pair_probs of {model.indicators_[ja].name!r} and {model.indicators_[jb].name!r}"
        joint = _float_array(table, shape, what, path)
        _probabilities(joint.reshape(-1, k), what, path)
        for j, margin in ((ja, joint.sum(axis=1)), (jb, joint.sum(axis=0))):
            if np.any(np.abs(margin - cond[off[j] : off[j + 1]]) > _PROB_ATOL):
                _fail(path, f"{what}: its margins are not the conditional_probs")
        if not _same_association(joint):
            _fail(path, f"{what}: the association is not the same in every class")
        joints.append(joint)
    model._layout = make_layout([ind.n_categories for ind in model.indicators_], pairs)
    model._set_direct(class_sizes, cond, joints)


def _same_association(joint: np.ndarray, atol: float = 1e-6) -> bool:
    """Whether a pair's tables (C_a, C_b, K) have one association in every class: the
    double-centred logs agree over the rows and columns with no cell at 0."""
    positive = (joint > 0).all(axis=2)
    rows, cols = positive.all(axis=1), positive.all(axis=0)
    if rows.sum() < 2 or cols.sum() < 2:
        return True  # no 2 x 2 table of positive cells: nothing to compare
    logs = np.log(joint[np.ix_(rows, cols)])
    centred = logs - logs.mean(axis=0) - logs.mean(axis=1, keepdims=True)
    centred = centred + logs.mean(axis=(0, 1))
    return bool(np.all(np.abs(centred - centred[:, :, :1]) <= atol))


def _read_blocks(d: dict, indicators, k: int, path) -> list:
    """The checked ``conditional_probs``, one (categories, K) array per indicator."""
    raw_cond = _get(d, "conditional_probs", list, path)
    if len(raw_cond) != len(indicators):
        _fail(
            path, f"conditional_probs has {len(raw_cond)} blocks for {len(indicators)} indicators"
        )
    blocks = []
    for ind, block in zip(indicators, raw_cond):
        arr = _float_array(block, (ind.n_categories, k), f"conditional_probs of {ind.name!r}", path)
        _probabilities(arr, f"conditional_probs of {ind.name!r}", path)
        blocks.append(arr)
    return blocks


def _read_stats(d: dict, path, names=FIT_STAT_NAMES) -> dict:
    """The checked ``fit_stats`` (NaN where the file holds null)."""
    stats_raw = _get(d, "fit_stats", dict, path)
    stats = {}
    for name in names:
        v = stats_raw.get(name, "absent")
        if v is not None and (not isinstance(v, (int, float)) or isinstance(v, bool)):
            _fail(path, f"fit_stats[{name!r}] is missing or not a number")
        stats[name] = float("nan") if v is None else float(v)
    return stats


def _read_fitted(model, d: dict, k: int, path) -> None:
    stats = _read_stats(d, path)
    tables_raw = _get(d, "classification_tables", dict, path)
    tables = {
        kind: _float_array(tables_raw.get(kind), (k, k), f"classification table {kind!r}", path)
        for kind in ("modal", "proportional")
    }
    for kind, table in tables.items():
        if not (np.all(np.isfinite(table)) and np.all(table >= 0)):
            _fail(path, f"classification table {kind!r} holds values that are not counts")
    avepp = _float_array(_nulls_as_nan(_get(d, "avepp", list, path)), (k,), "avepp", path)
    fitted = _get(d, "fitted", dict, path)
    model._stats = stats
    model._tables = tables
    model._avepp = avepp
    model.loglik_ = float(_get(fitted, "loglik", float, path))
    model.log_prior_ = float(_get(fitted, "log_prior", float, path))
    # files written before the constants were recorded: the options they were saved with
    b, a = model._bayes_constants()
    for name, default in (("bayes_constant", b), ("class_bayes_constant", a)):
        value = fitted.get(name, default)
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        if not (ok and math.isfinite(value) and value >= 0):
            _fail(path, f"fitted {name} must be a finite number >= 0, got {value!r}")
        setattr(model, f"{name}_", float(value))
    model.n_obs_ = float(_get(fitted, "n_obs", float, path))
    model.n_rows_ = _get(fitted, "n_rows", int, path)
    model.n_empty_rows_ = _get(fitted, "n_empty_rows", int, path)
    model.converged_ = _get(fitted, "converged", bool, path)
    model.n_iter_ = _get(fitted, "n_iter", int, path)
    model.n_starts_at_best_ = _get(fitted, "n_starts_at_best", int, path)
    start_obj = _get(fitted, "start_objectives", list, path)
    if len(start_obj) > 1_000_000:
        _fail(path, "start_objectives is too long")
    model.start_objectives_ = _float_array(
        [-np.inf if v is None else v for v in start_obj],
        (len(start_obj),),
        "start_objectives",
        path,
    )
    if hasattr(model, "_joints"):
        model.independence_loglik_ = float(_get(fitted, "independence_loglik", float, path))
        model.independence_n_parameters_ = _get(fitted, "independence_n_parameters", int, path)


def _model_from_options(d: dict, k: int, path, cls=None):
    """An unfitted ``cls`` (default LatentClassModel) from the file's options, checked."""
    if cls is None:
        from .model import LatentClassModel as cls

    options = _options_from_json(d, cls._param_names(), path)
    model = cls(**options)
    try:
        model._validate_params()
    except ValueError as exc:
        _fail(path, f"invalid fitting option: {exc}")
    if model.n_classes != k:
        _fail(path, f"option n_classes={model.n_classes} disagrees with n_classes={k}")
    return model


def _options_from_json(d: dict, names: list, path) -> dict:
    """The constructor options of a file (see :func:`_options_to_json`)."""
    options = dict(_get(d, "options", dict, path))
    unknown = sorted(set(options) - set(names))
    if unknown:
        _fail(path, f"unknown fitting options {unknown}")
    if options.get("ordinal") is not None:
        ordinal = options["ordinal"]
        names = [_name_from_json(n) for n in ordinal] if isinstance(ordinal, list) else [None]
        if any(n is None for n in names):
            _fail(path, "option 'ordinal' is malformed")
        options["ordinal"] = names
    if options.get("categories") is not None:
        cats = options["categories"]
        if not isinstance(cats, list) or not all(
            isinstance(p, list)
            and len(p) == 2
            and _name_from_json(p[0]) is not None
            and isinstance(p[1], list)
            for p in cats
        ):
            _fail(path, "option 'categories' is malformed")
        options["categories"] = {_name_from_json(p[0]): p[1] for p in cats}
    if "direct_effects" in options:
        raw = options["direct_effects"]
        pairs = [
            tuple(_name_from_json(n) for n in pair) if isinstance(pair, list) else None
            for pair in (raw if isinstance(raw, list) else [None])
        ]
        if any(p is None or len(p) != 2 or None in p for p in pairs):
            _fail(path, "option 'direct_effects' is malformed")
        options["direct_effects"] = pairs
    return options


# -- latent class regression -------------------------------------------------------------


def regression_to_dict(model) -> dict:
    """The JSON-ready content of a fitted :class:`lca.LatentClassRegression`."""
    design = model.design_
    off = model._offsets
    return {
        "format": REGRESSION_FORMAT,
        "format_version": REGRESSION_FORMAT_VERSION,
        "lca_version": _version(),
        "n_classes": len(model.classes_),
        "measurement_model": model_to_dict(model.measurement_model_),
        "class_sizes": [float(p) for p in model.class_sizes_],
        "conditional_probs": [
            model._cond_probs[off[j] : off[j + 1]].tolist() for j in range(len(off) - 1)
        ],
        "design": {
            "variables": list(design.variables),
            "levels": [
                [var, [python_label(v) for v in design.levels[var]]]
                for var in design.variables
                if var in design.levels
            ],
        },
        "terms": list(design.terms),
        "beta": model.beta_.to_numpy().tolist(),
        "covariance": [[_num(v) for v in row] for row in model.covariance_],
        "fit_stats": {k: _num(v) for k, v in model._stats.items()},
        "standard_errors": {
            "class_sizes": [_num(v) for v in model._se.class_sizes],
            "profile": [[_num(v) for v in row] for row in model._se.profile.to_numpy()],
            "boundary": model._se.boundary.to_numpy().tolist(),
            "n_free": model._se.n_free,
            "rank": model._se.rank,
            **({} if model.design_df_ is None else {"design_df": model.design_df_}),
        },
        "fitted": {
            "loglik": model.loglik_,
            "log_prior": model.log_prior_,
            "n_parameters": model.n_parameters_,
            "n_obs": model.n_obs_,
            "n_rows": model.n_rows_,
            "converged": model.converged_,
            "n_iter": model.n_iter_,
            "n_starts_at_best": model.n_starts_at_best_,
        },
        "options": _options_to_json(model.get_params()),
    }


def _read_design(raw, path):
    from .three_step import INTERCEPT, Design

    if not isinstance(raw, dict):
        _fail(path, "field 'design' is not an object")
    variables = _get(raw, "variables", list, path)
    if not variables or not all(isinstance(v, str) for v in variables):
        _fail(path, "design variables must be a non-empty list of names")
    if len(set(variables)) != len(variables) or INTERCEPT in variables:
        _fail(path, f"design variables must be distinct and not {INTERCEPT!r}")
    levels = {}
    for pair in _get(raw, "levels", list, path):
        ok = isinstance(pair, list) and len(pair) == 2 and isinstance(pair[1], list)
        if (
            not ok
            or len(pair[1]) < 2
            or not all(
                isinstance(v, (str, int, float, bool))
                and not (isinstance(v, float) and not math.isfinite(v))
                for v in pair[1]
            )
        ):
            _fail(path, "design levels must be [variable, [at least 2 labels]] pairs")
        if pair[0] not in variables or pair[0] in levels:
            _fail(path, f"design levels name {pair[0]!r}, not one of the variables {variables}")
        labels = [python_label(v) for v in pair[1]]
        # 1 and "1" (and True) can be distinct levels of one covariate: type and value
        if len({(type(v).__name__, v) for v in labels}) != len(labels):
            _fail(path, f"design levels of {pair[0]!r} repeat a label")
        levels[pair[0]] = labels
    return Design(variables=tuple(variables), levels=levels)


def regression_from_dict(d, path="<dict>"):
    """Rebuild a fitted regression from :func:`regression_to_dict`'s content, checking it."""
    from .regression import LatentClassRegression

    _check_version(d, REGRESSION_FORMAT_VERSION, "regression", path)
    k = _get(d, "n_classes", int, path)
    measurement = model_from_dict(_get(d, "measurement_model", dict, path), path)
    if measurement.n_classes_ != k:
        _fail(path, f"the model without covariates has {measurement.n_classes_} classes, not {k}")
    model = _model_from_options(d, k, path, LatentClassRegression)
    if "accelerate" not in d["options"]:  # written before SQUAREM: fitted by plain EM
        model.accelerate = False
    sizes = _float_array(_get(d, "class_sizes", list, path), (k,), "class_sizes", path)
    _probabilities(sizes, "class_sizes", path)
    blocks = _read_blocks(d, measurement.indicators_, k, path)
    design = _read_design(d.get("design"), path)
    if _get(d, "terms", list, path) != design.terms:
        _fail(path, "the design's terms are not those the coefficients were written for")
    q = len(design.terms)
    beta = _float_array(_get(d, "beta", list, path), (q, k), "beta", path)
    if not np.all(np.isfinite(beta)) or np.any(beta[:, model.reference - 1] != 0):
        _fail(path, "beta must be finite, with the reference class's column 0")
    n_free = q * (k - 1)
    raw_cov = _get(d, "covariance", list, path)
    cov = _float_array(_nulls_as_nan(raw_cov), (n_free, n_free), "covariance", path)
    known = ~np.isnan(cov)
    if not (np.array_equal(known, known.T) and np.all(cov[known] == cov.T[known])):
        _fail(path, "the coefficients' covariance is not symmetric")
    if np.any(np.diag(cov)[np.isfinite(np.diag(cov))] < 0):
        _fail(path, "the coefficients' covariance has a negative variance")
    stats = _read_stats(d, path)
    fitted = _get(d, "fitted", dict, path)
    errors = _get(d, "standard_errors", dict, path)
    design_df = None
    if model.se_method == "design":  # PSUs less strata
        design_df = _get(errors, "design_df", int, path)
        if design_df < 1:
            _fail(path, f"standard errors: design_df {design_df} is not a number of PSUs")
    model._set_estimates(design, beta, cov, sizes, np.vstack(blocks), measurement, design_df)
    model._stats = stats
    model.loglik_ = float(_get(fitted, "loglik", float, path))
    model.log_prior_ = float(_get(fitted, "log_prior", float, path))
    model.n_parameters_ = _get(fitted, "n_parameters", int, path)
    model.n_obs_ = float(_get(fitted, "n_obs", float, path))
    model.n_rows_ = _get(fitted, "n_rows", int, path)
    model.converged_ = _get(fitted, "converged", bool, path)
    model.n_iter_ = _get(fitted, "n_iter", int, path)
    model.n_starts_at_best_ = _get(fitted, "n_starts_at_best", int, path)
    n_cat = sum(ind.n_categories for ind in measurement.indicators_)

    def nan_array(key, shape):
        raw = _nulls_as_nan(_get(errors, key, list, path))
        arr = _float_array(raw, shape, f"{key} errors", path)
        if np.any(arr[np.isfinite(arr)] < 0):
            _fail(path, f"{key} errors hold negative values")
        return arr

    se_sizes = nan_array("class_sizes", (k,))
    se_cells = nan_array("profile", (n_cat, k + 1))
    boundary = _get(errors, "boundary", list, path)
    if not (
        len(boundary) == n_cat
        and all(isinstance(r, list) and len(r) == k and all(isinstance(v, bool) for v in r)
                for r in boundary)
    ):  # fmt: skip
        _fail(path, f"standard errors (boundary) must be {n_cat} rows of {k} true/false")
    n_free = _get(errors, "n_free", int, path)
    rank = _get(errors, "rank", int, path)
    if not 0 <= rank <= n_free:
        _fail(path, f"standard errors: rank {rank} is not within 0..n_free={n_free}")
    model._set_profile_errors(se_sizes, se_cells, np.array(boundary), n_free, n_free - rank)
    return model


# -- multiple-group model ------------------------------------------------------------------

MULTIGROUP_FORMAT = "lca.MultiGroupModel"
MULTIGROUP_FORMAT_VERSION = 1


def multigroup_to_dict(model) -> dict:
    """The JSON-ready content of a fitted :class:`lca.MultiGroupModel`."""
    layout = model._layout
    names = _names_to_json([ind.name for ind in layout.indicators], "indicator name")
    options = model.get_params()
    lists = {key: options.pop(key) for key in ("free", "uniform")}
    options = _options_to_json(options)
    for key, value in lists.items():
        options[key] = value if isinstance(value, str) else _names_to_json(list(value), key)
        options[f"{key}_is_tuple"] = isinstance(value, tuple)
    return {
        "format": MULTIGROUP_FORMAT,
        "format_version": MULTIGROUP_FORMAT_VERSION,
        "lca_version": _version(),
        "n_classes": model.n_classes_,
        "indicators": [
            {"name": name, "categories": list(ind.categories)}
            for name, ind in zip(names, layout.indicators)
        ],
        "group": _names_to_json([layout.group_column], "group name")[0],
        "groups": list(layout.groups),
        "free": _names_to_json(list(layout.free), "free indicator"),
        "uniform": _names_to_json(list(layout.uniform), "uniform indicator"),
        "equal_sizes": layout.equal_sizes,
        "class_match": model._perm.tolist(),
        "fit_stats": {k: _num(v) for k, v in model._stats.items()},
        "n_parameters": model.n_parameters_,
        "engine": model_to_dict(model.model_),
        "options": options,
    }


def multigroup_from_dict(d, path="<dict>"):
    """Rebuild a fitted multiple-group model from :func:`multigroup_to_dict`'s content."""
    from .multigroup import MultiGroupModel, _Layout

    _check_version(d, MULTIGROUP_FORMAT_VERSION, "multiple-group model", path)
    k = _get(d, "n_classes", int, path)
    engine = model_from_dict(_get(d, "engine", dict, path), path)
    if engine.n_classes_ != k:
        _fail(path, f"the fitted one-group model has {engine.n_classes_} classes, not {k}")
    options = dict(_get(d, "options", dict, path))
    lists = {}
    for key in ("free", "uniform"):
        value = options.pop(key, ())
        as_tuple = options.pop(f"{key}_is_tuple", False)
        if not isinstance(as_tuple, bool):
            _fail(path, f"option '{key}_is_tuple' must be true or false")
        if not isinstance(value, (str, list, tuple)) or (isinstance(value, str) and key != "free"):
            _fail(path, f"option {key!r} is malformed")
        if isinstance(value, (list, tuple)):
            value = [_name_from_json(n) for n in value]
            if None in value:
                _fail(path, f"option {key!r} is malformed")
            if as_tuple is True:
                value = tuple(value)
        lists[key] = value
    names = [n for n in MultiGroupModel(k).get_params() if n not in lists]
    options = _options_from_json({"options": options}, names, path)
    try:
        model = MultiGroupModel(**options, **lists)
        model._validate_params()
    except (TypeError, ValueError) as exc:
        _fail(path, f"invalid fitting option: {exc}")
    if model.n_classes != k:
        _fail(path, f"option n_classes={model.n_classes} disagrees with n_classes={k}")
    indicators = []
    for i, raw in enumerate(_get(d, "indicators", list, path)):
        name = _name_from_json(raw.get("name")) if isinstance(raw, dict) else None
        if name is None:
            _fail(path, f"indicator {i} has no valid name")
        cats = _get(raw, "categories", list, path)
        if not all(isinstance(c, (str, int, float, bool)) for c in cats):
            _fail(path, f"indicator {name!r} has an invalid category label")
        indicators.append(Indicator(name=name, categories=tuple(python_label(c) for c in cats)))
    group = _name_from_json(d.get("group"))
    groups = _get(d, "groups", list, path)
    if (
        group is None
        or len(groups) < 2
        or not all(isinstance(g, (str, int, float, bool)) for g in groups)
    ):
        _fail(path, "fields 'group' and 'groups' must name the group and its labels (2 or more)")
    free = [_name_from_json(n) for n in _get(d, "free", list, path)]
    uniform = [_name_from_json(n) for n in _get(d, "uniform", list, path)]
    if None in free or None in uniform:
        _fail(path, "fields 'free' and 'uniform' must list indicator names")
    if list(uniform) != list(lists["uniform"]):
        _fail(path, "field 'uniform' disagrees with the option uniform")
    from .direct_effects import DirectEffectsModel

    if bool(uniform) != isinstance(engine, DirectEffectsModel):
        _fail(path, "a model with a uniform group effect is fitted as a direct-effects model")
    if uniform and [tuple(p) for p in engine.direct_effects] != [(group, uniform[0])]:
        _fail(path, "the fitted model's direct effect is not the group's on the uniform item")
    equal_sizes = _get(d, "equal_sizes", bool, path)
    try:
        layout = _Layout(
            indicators=indicators,
            groups=tuple(python_label(g) for g in groups),
            free=tuple(free),
            equal_sizes=equal_sizes,
            group_column=group,
            uniform=tuple(uniform),
        )
    except ValueError as exc:
        _fail(path, f"inconsistent multiple-group layout: {exc}")
    expected = [(c, tuple(cats)) for c, cats in layout.categories.items()]
    found = [(ind.name, tuple(ind.categories)) for ind in engine.indicators_]
    if expected != found:
        _fail(path, "the fitted one-group model's columns are not those of the groups' layout")
    raw_match = _get(d, "class_match", list, path)
    if len(raw_match) != len(groups) or not all(
        isinstance(row, list)
        and all(isinstance(v, int) and not isinstance(v, bool) for v in row)
        and sorted(row) == list(range(k))
        for row in raw_match
    ):
        _fail(path, f"class_match must hold a permutation of 0..{k - 1} per group")
    perm = np.array(raw_match, dtype=np.int64)
    model.model_ = engine
    model._layout = layout
    model._perm = perm.astype(np.int64)
    from .multigroup import STAT_NAMES

    fit_stats = _read_stats(d, path, STAT_NAMES)
    n_par = _get(d, "n_parameters", int, path)
    if n_par < 1 or fit_stats["n_parameters"] != n_par:
        _fail(path, f"n_parameters={n_par} disagrees with the fit statistics")
    model._restore(fit_stats, n_par)
    return model
