"""The ``lca`` command line: a thin layer over the library.

Subcommands: ``demo``, ``compare``, ``fit``, ``assign``, ``covariates``, ``distal``. Errors are
one line on stderr with a non-zero exit code; ``--debug`` shows the traceback.
"""

from __future__ import annotations

import argparse
import copy
import math
import os
import re
import sys
import textwrap
import warnings
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from .reading import (
    ReadError,
    answers_as_read,
    csv_format,
    csv_options,
    first_local_file,
    missing_markers,
    read_as_written,
    read_table,
)

#: Columns of the comparison table printed on screen.
SCREEN_COLUMNS = [
    "loglik",
    "n_parameters",
    "bic",
    "aic",
    "aic3",
    "entropy_r2",
    "classification_error",
    "min_avepp",
    "smallest_class",
    "max_bvr",
    "n_starts_at_best",
]


#: Advice in the library's messages, as the command line gives it.
_IN_COMMAND_LINE_WORDS = (
    ("pass unknown='missing' to treat", "pass --unknown missing to treat"),
    ("or raise max_categories if it really is categorical", "or leave it out with --columns"),
    # categories= reaches the command line only from a preset
    ("not among the labels given in categories=", "not among the preset's labels"),
    (
        "; add it there, or recode it",
        "; recode it to one of them, or pass --unknown missing to fit such answers as missing",
    ),
    (
        "or pass unknown='missing' to fit such answers",
        "or pass --unknown missing to fit such answers",
    ),
    ("pass missing='omit' to leave them out", "pass --omit-missing to leave them out"),
)

#: Advice that only some commands can follow: command -> (library, command line).
_IN_COMMAND_WORDS = {
    "covariates": (
        (
            "drop or impute them, or code",
            "leave them out with --drop-missing, impute them, or code",
        ),
    ),
}

#: The same for advice with a variable part (regular expressions).
_IN_COMMAND_LINE_PATTERNS = (
    (
        r"To keep every category's place \(and count its parameters\), give categories=\{.*\}",
        "The command line cannot declare a category nobody gave: if the scores should keep "
        "its place, fit from Python with categories=; or leave the column out of --ordinal",
    ),
    (
        r"make it missing first \(df\[.*?\] < 0\)\)",
        "list it with --missing (for example --missing NA,-9)",
    ),
    (
        r"; give the order with an ordered pandas Categorical .* or with categories=\{.*?\]\}",
        "; a CSV keeps no category order: recode its answers as numbers 1..C in order, "
        "or leave it out of --ordinal",
    ),
)


def in_command_line_words(message: str, command: str | None = None) -> str:
    """A library message with its Python advice as ``lca command`` gives it."""
    for library, command_line in (*_IN_COMMAND_LINE_WORDS, *_IN_COMMAND_WORDS.get(command, ())):
        message = message.replace(library, command_line)
    for library, command_line in _IN_COMMAND_LINE_PATTERNS:
        message = re.sub(library, command_line, message)
    return message


class CLIError(Exception):
    """An error worth one line to the user."""


#: What a table written with --out can be, by the file's suffix (CSV and TSV also
#: compressed: ``.csv.gz``, ``.tsv.bz2``, ...).
TABLE_SUFFIXES = (".csv", ".txt", ".tsv", ".parquet")
COMPRESSIONS = (".gz", ".bz2", ".xz", ".zip", ".zst")


def table_format(path: str) -> str:
    """The suffix that names a table's format (``.csv`` for ``x.csv.gz``)."""
    suffixes = [s.lower() for s in Path(path).suffixes]
    if len(suffixes) > 1 and suffixes[-1] in COMPRESSIONS and suffixes[-2] != ".parquet":
        return suffixes[-2]
    return suffixes[-1] if suffixes else ""


def check_out_path(path: str | None, option: str = "--out", table: bool = False) -> None:
    """Refuse, before any fitting, an output file that is a folder or whose folder does
    not exist, and (``table``) a suffix :func:`write_table` does not write."""
    if path is None:
        return
    if Path(path).is_dir():
        raise CLIError(f"{option} {path}: is a folder; give the name of the file to write")
    folder = Path(path).parent
    if not folder.is_dir():
        raise CLIError(f"{option} {path}: the folder {folder} does not exist")
    suffix = table_format(path)
    if table and suffix not in TABLE_SUFFIXES:
        raise CLIError(
            f"{option} {path}: tables are written as CSV (.csv, .txt), tab-separated text "
            f"(.tsv), either compressed (.csv.gz, ...), or Parquet (.parquet), not "
            f"{suffix or 'a file without a suffix'}; give the file one of those suffixes"
        )


def _one_type(values: pd.Index) -> pd.Index:
    """``values`` as text where they mix types (Parquet columns hold one type)."""
    if values.dtype != object:
        return values
    kinds = {type(v) for v in values if not (isinstance(v, float) and math.isnan(v))}
    if len(kinds) <= 1:
        return values
    return pd.Index([v if isinstance(v, float) and math.isnan(v) else str(v) for v in values])


def parquet_ready(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with string column names and no column or index level mixing types
    (a profile's category level holds ``''`` beside ``0``), as Parquet needs."""
    frame = frame.copy()
    frame.columns = [str(c) for c in frame.columns]
    for c in frame.columns:
        if frame[c].dtype == object:  # typed columns (Int64, category, ...) stay as they are
            frame[c] = _one_type(pd.Index(frame[c])).to_numpy()
    levels = [
        _one_type(frame.index.get_level_values(i)).rename(name)
        for i, name in enumerate(frame.index.names)
    ]
    frame.index = pd.MultiIndex.from_arrays(levels) if len(levels) > 1 else levels[0]
    return frame


def write_table(frame: pd.DataFrame, path: str, index: bool = True) -> None:
    """``frame`` to ``path`` in the format its suffix names (see :data:`TABLE_SUFFIXES`)."""
    suffix = table_format(path)
    if suffix == ".parquet":
        try:
            import pyarrow
        except ImportError as exc:
            raise CLIError(
                f"{path}: writing Parquet needs pyarrow ({exc}); or write .csv"
            ) from None
        try:
            parquet_ready(frame).to_parquet(path, index=index)
        except (pyarrow.ArrowException, ValueError, TypeError) as exc:
            raise CLIError(
                f"{path}: cannot write this table as Parquet ({exc}); write .csv"
            ) from None
    else:
        frame.to_csv(path, index=index, sep="\t" if suffix == ".tsv" else ",")


def profile_table(model, method: str = "hessian", **design):
    """The class sizes and profile with standard errors, flat columns for a CSV:
    ``1``, ``1_se``, ..., ``Total``, ``Total_se``. ``design``: the keywords of
    ``standard_errors`` for ``method="design"``."""
    table = model.standard_errors(method, **design).to_frame()
    table.columns = [f"{c}" if part == "estimate" else f"{c}_se" for c, part in table.columns]
    return table


def check_out_folder(path: str | None) -> None:
    """Refuse, before any fitting, an output folder that is a file."""
    if path is not None and Path(path).exists() and not Path(path).is_dir():
        raise CLIError(f"--out {path}: is a file; give a folder (created if needed)")


def parse_classes(text: str) -> list[int]:
    """'5' -> [5]; '2-10' -> [2..10]; '2,4,6' -> [2, 4, 6]."""
    try:
        if "-" in text:
            lo, hi = text.split("-", 1)
            if int(lo) > int(hi):
                raise CLIError(f"--classes {text!r}: the range runs downwards; write {hi}-{lo}")
            out = list(range(int(lo), int(hi) + 1))
        else:
            out = [int(t) for t in text.split(",")]
    except ValueError:
        raise CLIError(
            f"--classes {text!r}: give a number, a range such as 2-10, or 2,4,6"
        ) from None
    if not out or min(out) < 1:
        raise CLIError(f"--classes {text!r}: numbers of classes must be >= 1")
    return out


def select_columns(
    df: pd.DataFrame, columns: str | None, weights: str | None, path: str, design=()
):
    """The indicator columns and the weights; without ``--columns`` every column
    but the weights and the ``design`` columns (strata, clusters)."""
    if weights is not None and weights not in df.columns:
        raise CLIError(f"{path}: no weights column {weights!r}; columns are {list(df.columns)}")
    if columns is None:
        chosen = [c for c in df.columns if c != weights and c not in design]
    else:
        chosen = [c.strip() for c in columns.split(",") if c.strip()]
        absent = [c for c in chosen if c not in df.columns]
        if absent:
            raise CLIError(f"{path}: no column(s) {absent}; columns are {list(df.columns)}")
        if weights in chosen:
            raise CLIError(
                f"--columns names the weights column {weights!r}; leave it out of --columns"
            )
    data = df[chosen]
    w = _weights_column(df[weights], path) if weights is not None else None
    return data, w


def _weights_column(column: pd.Series, path: str) -> pd.Series:
    """The weights column as numbers, or one line naming the first value that is not."""
    numbers = pd.to_numeric(column, errors="coerce")
    bad = numbers.isna() & column.notna()
    if bad.any():
        row = bad.index[bad.to_numpy()][0]
        value = column[row]
        hint = ""
        if isinstance(value, str) and "," in value:
            hint = " (a decimal comma? write the weights with a decimal point, 1.5)"
        raise CLIError(
            f"{path}: weights column {column.name!r} holds {value!r} at row {row!r}, which "
            f"is not a number{hint}"
        )
    return numbers


def _model_options(args) -> dict:
    if args.split_merge < 0:
        raise CLIError(f"--split-merge {args.split_merge}: give 0 (none) or more moves")
    if args.pattern_starts < 0:
        raise CLIError(f"--pattern-starts {args.pattern_starts}: give 0 (none) or more starts")
    options = _base_options(args)
    options.update(split_merge=args.split_merge, pattern_starts=args.pattern_starts)
    return options


def _base_options(args) -> dict:
    """The options of ``base_args``: starts, seed, Bayes constant, threads, ordinal."""
    if args.starts < 1:
        raise CLIError(f"--starts {args.starts}: give at least 1 random start")
    if args.seed < 0:
        raise CLIError(f"--seed {args.seed}: give a seed >= 0")
    if not (args.bayes_constant >= 0 and math.isfinite(args.bayes_constant)):
        raise CLIError(f"--bayes-constant {args.bayes_constant}: give a number >= 0 (0: none)")
    if args.jobs == 0:
        raise CLIError("--jobs 0: give the number of threads (-1 for every core)")
    ordinal = [c.strip() for c in (args.ordinal or "").split(",") if c.strip()]
    return {
        "ordinal": ordinal,
        "n_starts": args.starts,
        "random_state": args.seed,
        "bayes_constant": args.bayes_constant,
        "n_jobs": args.jobs,
    }


def _fmt_table(table: pd.DataFrame) -> str:
    """One number format per column: 4 decimals for small values, 1 for large ones."""
    formatters = {}
    for col in table.columns:
        if pd.api.types.is_float_dtype(table[col]):
            largest = table[col].abs().max()
            fmt = "{:.4f}" if not largest >= 10 else "{:.1f}"  # NaN: 4 decimals
            formatters[col] = fmt.format
    return table.to_string(formatters=formatters)


def cmd_demo(args) -> int:
    import lca

    data = lca.datasets.load_gss82()
    print("GSS 1982, attitudes towards surveys: 1,202 respondents, 4 questions.")
    print("Fitting 1 to 5 classes (maximum likelihood, 16 random starts each) ...\n")
    res = lca.compare(data, range(1, 6), progress=False, bayes_constant=0.0)
    print(_fmt_table(res.table[SCREEN_COLUMNS]))
    k = res.best("bic")
    model = res.models[k]
    print(f"\nLowest BIC: {k} classes. Class sizes and profile (per cent):\n")
    prof = (100 * model.profile()).round(1)
    sizes = (100 * model.class_sizes_).round(1)
    print("class size  " + "  ".join(f"{c}: {v}%" for c, v in sizes.items()))
    print(prof.to_string())
    post = model.predict_proba(data.iloc[[0, 600, 1201]])
    print("\nPosterior class probabilities of three respondents:")
    print(post.round(3).to_string())
    return 0


def _preset(name: str | None):
    """The named preset, or None; an unknown name is one clear line."""
    if name is None:
        return None
    import lca

    if name not in lca.presets.names():
        raise CLIError(f"--preset {name!r}: no such preset; available: {lca.presets.names()}")
    return lca.presets.get(name)


def preset_columns(preset, df: pd.DataFrame, path: str) -> None:
    absent = [c for c in preset.indicators if c not in df.columns]
    if absent:
        raise CLIError(
            f"{path}: the {preset.name!r} preset needs column(s) {absent}; it expects "
            f"{preset.indicators} with the published category labels"
        )


def _check_unknown(args, preset) -> None:
    """``fit`` and ``compare`` know only a preset's labels; without one every answer is known."""
    if args.unknown != "error" and preset is None:
        raise CLIError(
            "--unknown goes with --preset (answers outside its published labels); without a "
            "preset every answer in the data is a category"
        )


def _preset_ordinal(preset, given: list, columns) -> list:
    """The preset's ordinal indicators among ``columns``, then those ``--ordinal`` adds."""
    return [c for c in preset.ordinal if c in columns] + [
        c for c in given if c not in preset.ordinal
    ]


def _used_columns(args, preset) -> list | None:
    """The columns a fit will use, if the arguments say (for read_table's warnings)."""
    if args.columns is not None:
        names = [c.strip() for c in args.columns.split(",") if c.strip()]
    elif preset is not None:
        names = list(preset.indicators)
    else:
        return None
    extra = [args.weights, getattr(args, "stratum", None), getattr(args, "cluster", None)]
    return names + [c for c in extra if c is not None]


def cmd_compare(args) -> int:
    import lca

    preset = _preset(args.preset)
    df = read_table(args.data, missing_markers(args.missing), _used_columns(args, preset))
    options = _model_options(args)
    check_out_folder(args.out)
    if preset is not None:
        preset_columns(preset, df, args.data)
        if args.columns is None:
            args.columns = ",".join(preset.indicators)
    data, w = select_columns(df, args.columns, args.weights, args.data)
    _check_unknown(args, preset)
    if preset is not None:  # the preset's scale types and category orders, for the columns used
        options.update(
            ordinal=_preset_ordinal(preset, options["ordinal"], data.columns),
            categories={c: v for c, v in preset.categories.items() if c in data.columns},
        )
        data = preset.published_labels_only(data, args.unknown)
    pairs = _parse_pairs(args.direct_effect, [str(c) for c in data.columns])
    if pairs:
        for option, given in (
            ("--preset", preset is not None),
            ("--split-merge", args.split_merge > 0),
            ("--merge-starts", args.merge_starts),
            ("--lmr", args.lmr),
        ):
            if given:
                raise CLIError(f"--direct-effect does not go with {option} (not available yet)")
        del options["split_merge"], options["pattern_starts"]
        options["direct_effects"] = pairs
    if args.blrt < 0:
        raise CLIError(f"--blrt {args.blrt}: give the number of bootstrap samples (0 for none)")
    if args.bootstrap_gof < 0:
        raise CLIError(f"--bootstrap-gof {args.bootstrap_gof}: give the number of samples")
    if args.blrt and args.bootstrap_gof and args.blrt != args.bootstrap_gof:
        raise CLIError(
            f"--blrt {args.blrt} and --bootstrap-gof {args.bootstrap_gof}: the two bootstraps "
            "draw the same number of samples; give one N"
        )
    res = lca.compare(
        data,
        parse_classes(args.classes),
        weights=w,
        progress=not args.quiet,
        blrt=args.blrt > 0,
        lmr=args.lmr,
        bootstrap_gof=args.bootstrap_gof > 0,
        n_bootstrap=max(args.blrt, args.bootstrap_gof, 1),
        bootstrap_starts=args.bootstrap_starts,
        checkpoint_dir=args.out,
        split_starts=not args.no_split_starts,
        merge_starts=args.merge_starts,
        **options,
    )
    if res.reused:
        reused = ", ".join(str(k) for k in res.reused)
        print(f"reused finished model(s) from {args.out}: {reused} classes\n")
    named_file = None
    if preset is not None and preset.n_classes in res.models:
        if set(data.columns) == set(preset.indicators):
            # classes 1..K as published, in a file of its own: model_K.json stays as
            # compare wrote it, for a later run with more classes to start from
            named = preset.name_classes(copy.deepcopy(res.models[preset.n_classes]))
            if args.out:
                named_file = Path(args.out) / f"model_{preset.n_classes}_{preset.name}.json"
                named.save(named_file)
    extra = ["blrt_p", "lmr_p", "lmr_adjusted_p", "bootstrap_p_L2", "bootstrap_p_X2",
             "bvr_significant"]  # fmt: skip
    columns = SCREEN_COLUMNS + [c for c in extra if c in res.table]
    print(_fmt_table(res.table[columns]))
    best, tried = res.best("bic"), sorted(res.models)
    edge = ""
    if len(tried) > 1 and best == tried[-1]:
        edge = " (the most classes tried: BIC may fall further; try more with --classes)"
    elif len(tried) > 1 and best == tried[0] and best > 1:
        edge = " (the fewest classes tried: BIC may be lower with fewer; try --classes 1-...)"
    print(f"\nLowest BIC: {best} classes{edge}")
    if pairs:
        named = ", ".join(f"{a} x {b}" for a, b in pairs)
        print(f"Every model has direct effects for {named}.")
    if preset is not None:
        print(f"\nPublished ({preset.fit_title}; chosen: {preset.n_classes} classes):")
        print(preset.published_fit().to_string())
        notes = preset.notes.replace(  # the Python advice, as the command line gives it
            "pass unknown='missing' to fit() or to reference_model().predict()",
            "pass --unknown missing to compare, fit or assign",
        )
        print("\n" + textwrap.fill(f"Notes on the published tables: {notes}", 88))
    if args.out:
        out = Path(args.out)
        res.table.to_csv(out / "comparison.csv")
        (out / "comparison.json").write_text(res.table.to_json(orient="index", indent=1))
        print(f"wrote {out}/comparison.csv, comparison.json and model_K.json files")
        if named_file is not None:
            print(
                f"wrote {named_file}: the {preset.n_classes}-class model, classes named "
                "as published"
            )
        elif preset is not None:
            why = (
                f"--classes {args.classes} leaves out its {preset.n_classes} classes"
                if preset.n_classes not in res.models
                else "--columns changed its indicators"
            )
            print(
                f"no model_{preset.n_classes}_{preset.name}.json (the published model with "
                f"its classes named): {why}"
            )
    return 0


def cmd_fit(args) -> int:
    import lca

    preset = _preset(args.preset)
    df = read_table(args.data, missing_markers(args.missing), _used_columns(args, preset))
    if preset is not None:
        preset_columns(preset, df, args.data)
        if args.columns is not None:
            raise CLIError("fit --preset fits the preset's columns; leave out --columns")
        args.columns = ",".join(preset.indicators)
    elif args.classes is None:
        raise CLIError("give the number of classes with --classes (or fit a --preset)")
    design_columns = _design_columns(args, df)
    data, w = select_columns(df, args.columns, args.weights, args.data, design_columns)
    classes = parse_classes(args.classes) if args.classes else [preset.n_classes]
    check_out_path(args.out)
    check_out_path(args.profile, "--profile", table=True)
    if len(classes) != 1:
        raise CLIError("fit takes one number of classes; use 'lca compare' for a range")
    if args.bootstrap_gof < 0:
        raise CLIError(f"--bootstrap-gof {args.bootstrap_gof}: give the number of samples")
    options = _model_options(args)
    _check_unknown(args, preset)
    pairs = _direct_effect_pairs(args, preset, [str(c) for c in data.columns])
    if preset is not None:  # the published model's settings; classes named as published
        options["ordinal"] = _preset_ordinal(preset, options["ordinal"], data.columns)
        model = preset.fit(data, weights=w, n_classes=classes[0], unknown=args.unknown, **options)
    elif pairs:
        del options["split_merge"], options["pattern_starts"]
        model = lca.DirectEffectsModel(classes[0], pairs, **options).fit(data, weights=w)
    else:
        model = lca.LatentClassModel(classes[0], **options).fit(data, weights=w)
    stats = model.fit_stats()
    print(stats.to_string(float_format=lambda v: f"{v:.4f}"))
    print("\nclass sizes: " + ", ".join(f"{c}: {v:.3f}" for c, v in model.class_sizes_.items()))
    match = getattr(model, "class_match_", None)
    if match is not None:
        print(
            f"\nclasses matched to the published ones (mean distance between profiles; above "
            f"{lca.presets.MATCH_THRESHOLD}: no match):"
        )
        print(match.to_string(float_format=lambda v: f"{v:.3f}"))
    if pairs:
        test = model.likelihood_ratio_test()
        print(
            f"\ndirect effects against none: LR {test['lr']:.3f} on {test['df']:.0f} df, "
            f"p = {test['p_value']:.4g}"
        )
        try:
            errors, tests = model.direct_effect_errors(), model.direct_effect_tests()
        except (ValueError, NotImplementedError) as exc:  # zero cells, ordinal, singular
            errors, tests = {}, None
            print(f"(no standard errors: {exc})")
        for (a, b), gamma in model.direct_effects_.items():
            print(f"\ndirect effect {a} x {b} (effect coded; rows {a}, columns {b}):")
            print(gamma.to_string(float_format=lambda v: f"{v:.4f}"))
            if (a, b) in errors:
                print("standard errors:")
                print(errors[(a, b)].to_string(float_format=lambda v: f"{v:.4f}"))
        if tests is not None:
            print("\nWald tests of the direct effects:")
            print(tests.to_string(float_format=lambda v: f"{v:.4g}"))
        if len(pairs) > 1:
            print("\nlikelihood-ratio test of each direct effect (the model refitted without it):")
            lr = model.effect_lr_tests()[["lr", "df", "p_value"]]
            print(lr.to_string(float_format=lambda v: f"{v:.4g}"))
    model.save(args.out)
    print(f"wrote {args.out}")
    design = {}
    if args.se_method == "design":  # the rows again, with their weights, strata and clusters
        design = dict(
            data=df[list(data.columns) + [c for c in design_columns if c not in data.columns]],
            weights=w,
            unknown=args.unknown,
            strata=args.stratum,
            clusters=args.cluster,
            fpc=args.fpc,
        )
    if args.profile is not None:
        write_table(profile_table(model, args.se_method, **design), args.profile)
        print(f"wrote {args.profile} (class sizes and profile, {args.se_method} standard errors)")
    if args.indicator_tests:
        tests = model.indicator_tests(args.se_method, **design)
        print("\nindicators: Wald test that the classes answer alike, and R-squared")
        print(tests.to_string(float_format=lambda v: f"{v:.4g}"))
    if args.bootstrap_gof:
        gof = model.bootstrap_gof(
            args.bootstrap_gof, weights=w, random_state=args.seed, n_jobs=args.jobs
        )
        print("\n" + gof.as_text())
    return 0


def _design_columns(args, df: pd.DataFrame, where: str = " (with --profile or "
                    "--indicator-tests)") -> list:  # fmt: skip
    """The columns of ``--stratum``, ``--cluster`` and ``--fpc``, checked before any
    fitting."""
    named = [c for c in (args.stratum, args.cluster, args.fpc) if c is not None]
    if named and args.se_method != "design":
        raise CLIError(
            "--stratum, --cluster and --fpc describe a complex sample, for design-based "
            f"standard errors: add --se-method design{where}"
        )
    absent = [c for c in named if c not in df.columns]
    if absent:
        raise CLIError(f"{args.data}: no column(s) {absent}; columns are {list(df.columns)}")
    if args.weights is not None and args.weights in named:
        raise CLIError(
            f"--weights {args.weights!r} is also named as a stratum, cluster or fpc column"
        )
    return named


def _direct_effect_pairs(args, preset, columns) -> list:
    """The pairs of ``lca fit --direct-effect A,B`` (repeatable), checked against the
    other options."""
    pairs = _parse_pairs(args.direct_effect, columns)
    if not pairs:
        return pairs
    if args.profile is not None and args.se_method != "hessian":
        raise CLIError(
            f"--direct-effect gives --profile with --se-method hessian only (the observed "
            f"information), not {args.se_method}"
        )
    for option, given in (
        ("--preset", preset is not None),
        ("--split-merge", args.split_merge > 0),
        ("--indicator-tests", args.indicator_tests),
        ("--bootstrap-gof", args.bootstrap_gof > 0),
    ):
        if given:
            raise CLIError(f"--direct-effect does not go with {option} (not available yet)")
    return pairs


def _parse_pairs(texts, columns) -> list:
    """``--direct-effect`` texts as pairs of column names. A name with a comma in it
    is found by trying every split of the text into two columns of the data."""
    pairs = []
    for text in texts or []:
        parts = text.split(",")
        splits = [
            (",".join(parts[:i]).strip(), ",".join(parts[i:]).strip()) for i in range(1, len(parts))
        ]
        if len(splits) > 1:
            splits = [(a, b) for a, b in splits if a in columns and b in columns] or splits[:0]
        if len(splits) != 1 or not all(splits[0]):
            raise CLIError(
                f"--direct-effect {text!r}: give two columns separated by a comma, such as q1,q2"
            )
        pairs.append(splits[0])
    return pairs


def _assign_inputs(args):
    """(model, data path) from 'MODEL DATA' or '--preset NAME DATA'."""
    import lca

    preset = _preset(args.preset)
    expected = 1 if preset is not None else 2
    if len(args.inputs) != expected:
        usage = "lca assign --preset NAME DATA" if preset else "lca assign MODEL DATA"
        raise CLIError(f"give {expected} file name(s): {usage}")
    if preset is not None:
        return preset.reference_model(), args.inputs[0], preset
    return lca.load(args.inputs[0]), args.inputs[1], None


def _kind_of(categories) -> str:
    if all(isinstance(c, bool) for c in categories):
        return "bools"
    if all(isinstance(c, (int, float)) and not isinstance(c, bool) for c in categories):
        return "numbers"
    return "text"


def _indicator_kinds(model) -> dict:
    """How each indicator's answers are read from text: as the model's categories are;
    for a latent class regression its covariates too (numbers, or as its levels are)."""
    kinds = {ind.name: _kind_of(list(ind.categories)) for ind in model.indicators_}
    design = getattr(model, "design_", None)
    if design is not None:
        for var in design.variables:
            kinds[var] = _kind_of(design.levels[var]) if var in design.levels else "numbers"
    if hasattr(model, "groups_"):  # a multiple-group model: its group column too
        kinds[model.groups_.name] = _kind_of(list(model.groups_))
    return kinds


def _assigned(df, model, unknown, missing=None):
    """``df`` with the posteriors and the class of each row.

    ``missing``: ``df`` is one partition of a CSV read as text; its indicators
    (and a regression's covariates) are read as :func:`read_table` reads a file,
    each column as the model's categories are (numbers or text, whatever this
    partition holds), and the other columns are echoed as written.
    """
    if missing is not None:
        kinds = _indicator_kinds(model)
        used = [c for c in df.columns if c in kinds]
        read = answers_as_read(df[used], missing, kinds)[0]
        df = df.assign(**{c: read[c] for c in used})
    added = [f"posterior_{c}" for c in model.classes_] + ["class"]
    if getattr(model, "class_labels_", None) is not None:
        added.append("class_label")
    clash = [c for c in added if c in df.columns]
    if clash:
        raise CLIError(f"the data already have column(s) {clash}, which assign writes; rename them")
    if hasattr(model, "design_"):  # a latent class regression: its covariates too
        absent = [v for v in model.design_.variables if v not in df.columns]
        if absent:
            raise CLIError(f"the data have no column(s) {absent}, covariates of the model")
        post = model.predict_proba(df, list(model.design_.variables), unknown=unknown)
    elif hasattr(model, "groups_"):  # a multiple-group model: each row's group too
        if model.groups_.name not in df.columns:
            raise CLIError(
                f"the data have no column {model.groups_.name!r}, the group of the model"
            )
        post = model.predict_proba(df, model.groups_.name, unknown=unknown)
    else:
        post = model.predict_proba(df, unknown=unknown)
    post.columns = [f"posterior_{c}" for c in post.columns]
    out = df.assign(**{c: post[c] for c in post.columns})
    out["class"] = post.to_numpy().argmax(axis=1) + 1
    labels = getattr(model, "class_labels_", None)
    if labels is not None:
        out["class_label"] = out["class"].map(dict(enumerate(labels, start=1)))
    return out


def cmd_assign(args) -> int:
    if args.dask:
        check_out_folder(args.out)  # a folder of files
    else:
        check_out_path(args.out, table=True)
    model, path, preset = _assign_inputs(args)
    if args.dask:
        return _assign_dask(model, path, preset, args)
    df = read_table(path, missing_markers(args.missing))
    if preset is not None:
        preset_columns(preset, df, path)
    out = _assigned(df, model, args.unknown)
    # into text, the input's columns echoed as written (1 stays 1 in a column with blanks);
    # into Parquet, typed as read
    written = None if args.out and table_format(args.out) == ".parquet" else read_as_written(path)
    if written is not None:
        for c in df.columns:
            if c in written:
                out[c] = written[c].to_numpy()
    index = _keeps_index(out.index)
    if args.out:
        write_table(out, args.out, index=index)
        print(f"wrote {len(out)} rows to {args.out}")
    else:
        out.to_csv(sys.stdout, index=index)
    return 0


def _step3_inputs(args) -> tuple:
    """``(model, data frame)`` of ``covariates`` and ``distal``, the weights column checked."""
    import lca

    check_out_path(args.out, table=True)
    model = lca.load(args.model)
    df = read_table(args.data, missing_markers(args.missing))
    if args.weights is not None and args.weights not in df.columns:
        raise CLIError(f"{args.data} has no weights column {args.weights!r}")
    _design_columns(args, df, "")
    return model, df


def _answers_and_weights(args, df) -> tuple:
    """The frame of answers (without the weights column) and the weights, or None."""
    if args.weights is None:
        return df, None
    return df.drop(columns=[args.weights]), _weights_column(df[args.weights], args.data)


def cmd_covariates(args) -> int:
    model, df = _step3_inputs(args)
    names = list(_covariate_frame(df, args.covariates, args.categorical, args.data).columns)
    if args.drop_missing:
        missing = df[names].isna().any(axis=1)
        if missing.any():
            print(f"left out {int(missing.sum())} of {len(df)} rows with a missing covariate")
            df = df[~missing]
    covariates = _covariate_frame(df, args.covariates, args.categorical, args.data)
    answers, weights = _answers_and_weights(args, df)
    effects = model.covariate_effects(
        covariates,
        data=answers,
        weights=weights,
        correction=args.correction,
        assignment=args.assignment,
        reference=args.reference,
        unknown=args.unknown,
        step1_uncertainty=args.step1_uncertainty,
        se_method=args.se_method,
        strata=args.stratum,
        clusters=args.cluster,
        fpc=args.fpc,
    )
    print(effects.as_text())
    if args.out:
        write_table(effects.coefficients, args.out)
        print(f"wrote {args.out}")
    return 0


def _covariate_frame(df, covariates: str, categorical: str | None, path: str):
    """The named covariate columns, those in ``categorical`` as categories."""
    names = [c.strip() for c in covariates.split(",") if c.strip()]
    coded = [c.strip() for c in (categorical or "").split(",") if c.strip()]
    absent = [c for c in [*names, *coded] if c not in df.columns]
    if absent:
        raise CLIError(f"{path} has no column(s) {absent}")
    stray = [c for c in coded if c not in names]
    if stray:
        raise CLIError(f"--categorical names {stray}, which are not in --covariates")
    frame = df[names].copy()
    for c in coded:  # numbers that are codes: one indicator column per code
        frame[c] = pd.Categorical(frame[c])
    return frame


def cmd_regress(args) -> int:
    import lca

    classes = parse_classes(args.classes)
    if min(classes) < 2:
        raise CLIError(f"--classes {args.classes}: a regression on covariates needs 2 or more")
    several = len(classes) > 1
    if several:
        check_out_folder(args.out)
        if args.coefficients is not None:
            raise CLIError(
                "--coefficients takes one number of classes; with several, --out DIR holds "
                "each model (lca.load reads its coefficients_)"
            )
    else:
        check_out_path(args.out)
        check_out_path(args.coefficients, "--coefficients", table=True)
    df = read_table(args.data, missing_markers(args.missing))
    covariates = _covariate_frame(df, args.covariates, args.categorical, args.data)
    if args.weights in covariates.columns:
        raise CLIError(f"{args.weights!r} is the weights column; it cannot be a covariate too")
    design_columns = _design_columns(args, df, "")
    data, w = select_columns(
        df.drop(columns=list(covariates.columns)), args.columns, args.weights, args.data,
        design_columns,
    )  # fmt: skip
    options = _base_options(args)
    options["se_method"] = args.se_method
    design = {
        "strata": None if args.stratum is None else df[args.stratum],
        "clusters": None if args.cluster is None else df[args.cluster],
        "fpc": None if args.fpc is None else df[args.fpc],
    }
    if several:
        return _compare_regressions(data, covariates, w, classes, args, options, design)
    model = lca.LatentClassRegression(classes[0], reference=args.reference, **options)
    model.fit(data, covariates, weights=w, **design)
    print(model.as_text())
    model.save(args.out)
    print(f"wrote {args.out}")
    if args.coefficients is not None:
        write_table(model.coefficients_, args.coefficients)
        print(f"wrote {args.coefficients}")
    return 0


def _compare_regressions(data, covariates, w, classes, args, options, design) -> int:
    """``lca regress --classes 2-6``: one regression per K, their table, a folder of models."""
    import lca

    if args.reference != 1:
        raise CLIError("--reference takes one number of classes; leave it out with a range")
    res = lca.compare_regressions(data, covariates, classes, weights=w, **design, **options)
    print(_fmt_table(res.table[SCREEN_COLUMNS]))
    print(f"\nLowest BIC: {res.best('bic')} classes")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for k, model in res.models.items():
        model.save(out / f"regression_{k}.json")
    res.table.to_csv(out / "comparison.csv")
    print(f"wrote {out}/comparison.csv and regression_K.json files")
    return 0


def cmd_groups(args) -> int:
    """``lca groups``: multiple-group models, from complete homogeneity to heterogeneous."""
    import lca

    check_out_folder(args.out)
    if args.classes < 1:
        raise CLIError(f"--classes {args.classes}: give 1 or more")
    df = read_table(args.data, missing_markers(args.missing))
    if args.group not in df.columns:
        raise CLIError(
            f"{args.data}: no group column {args.group!r}; columns are {list(df.columns)}"
        )
    if args.group == args.weights:
        raise CLIError(f"{args.group!r} cannot be the group and the weights column")
    data, w = select_columns(df, args.columns, args.weights, args.data, (args.group,))
    if args.group in data.columns:
        raise CLIError(f"--columns names the group column {args.group!r}; leave it out")
    free = [c.strip() for c in (args.free or "").split(",") if c.strip()]
    options = _base_options(args)
    res = lca.compare_groups(
        data, df[args.group], args.classes, weights=w, free=free,
        each_indicator=not args.no_each, uniform=args.uniform, **options,
    )  # fmt: skip
    table = res.table.copy()
    print(_fmt_table(table))
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        files = []
        for i, model in enumerate(res.models.values(), start=1):
            files.append(f"groups_{i}.json")
            model.save(out / files[-1])
        table["file"] = files
        table.to_csv(out / "comparison.csv")
        print(f"wrote {out}/comparison.csv and {len(files)} model files (column 'file')")
    return 0


def cmd_distal(args) -> int:
    model, df = _step3_inputs(args)
    names = [c.strip() for c in args.outcomes.split(",") if c.strip()]
    absent = [c for c in names if c not in df.columns]
    if absent:
        raise CLIError(f"{args.data} has no column(s) {absent}")
    answers, weights = _answers_and_weights(args, df)
    method = model.distal_proportions if args.categorical else model.distal_means
    default = "ml" if args.categorical else "bch"
    result = method(
        df[names],
        data=answers,
        weights=weights,
        correction=args.correction or default,
        assignment=args.assignment,
        missing="omit" if args.omit_missing else "error",
        unknown=args.unknown,
        step1_uncertainty=args.step1_uncertainty,
        se_method=args.se_method,
        strata=args.stratum,
        clusters=args.cluster,
        fpc=args.fpc,
    )
    print(result.as_text())
    if args.out:
        write_table(result.to_frame(), args.out)
        print(f"wrote {args.out}")
    return 0


def _keeps_index(index: pd.Index) -> bool:
    """Whether the output needs the input's index (respondent ids): not for 0, 1, 2, ..."""
    if index.names != [None]:
        return True
    return not (isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1)


def _assigned_partition(part, model, unknown, missing, partition_info=None):
    """:func:`_assigned` of one Dask partition; an error says which partition, since
    its row labels are counted within it (a CSV's from 0 in each block read)."""
    import lca

    try:
        return _assigned(part, model, unknown, missing)
    except lca.DataError as err:
        if partition_info is None:
            raise
        raise lca.DataError(
            f"{err} (in partition {partition_info['number']} of the input, counted from 0: "
            "its rows are labelled within it)"
        ) from None


def _assign_dask(model, pattern: str, preset, args) -> int:
    """Assign CSV or Parquet files (a glob) larger than memory, partition by partition."""
    try:
        import dask.dataframe as dd
    except ImportError:
        raise CLIError("--dask needs the extra: pip install 'lca[dask]'") from None
    if not args.out:
        raise CLIError("--dask writes a folder of files: give it with --out DIR")
    missing = None
    if pattern.endswith(".parquet") or Path(pattern).is_dir():
        ddf = dd.read_parquet(pattern)  # typed columns: read as they are
    else:
        # the format of the first local file (URLs are read as UTF-8 with commas)
        first = first_local_file(pattern)
        encoding, sep = csv_format(first, whole=False) if first else ("utf-8-sig", ",")
        options = csv_options(encoding, sep)
        if encoding == "utf-16":  # two-byte units: blocks cannot start anywhere
            options["blocksize"] = None
        # as text, then missing answers and numbers column by column within each
        # partition as read_table reads a whole file (dask's assume_missing would
        # turn 3 into 3.0)
        missing = missing_markers(args.missing)
        ddf = dd.read_csv(pattern, dtype=object, **options)
    if preset is not None:
        preset_columns(preset, ddf._meta, pattern)
    meta = _assigned(ddf._meta.head(0), model, args.unknown, missing)
    out = ddf.map_partitions(_assigned_partition, model, args.unknown, missing, meta=meta)
    out.to_csv(f"{args.out}/assigned-*.csv", index=_keeps_index(ddf._meta.index))
    print(f"wrote {out.npartitions} file(s) to {args.out}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lca", description="Latent class analysis.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="the whole workflow on built-in data")
    demo.set_defaults(func=cmd_demo)

    def missing_arg(p):
        p.add_argument(
            "--missing", metavar="MARKERS",
            help="CSV: comma-separated strings that mean a missing answer, besides an empty "
            "or blank field (default: NA, as R writes it; --missing '' for empty and blank "
            "fields only)",
        )  # fmt: skip

    def step3_args(parser):
        """The options ``covariates`` and ``distal`` share (bias-adjusted three-step)."""
        parser.add_argument("--weights", help="column of case weights")
        parser.add_argument(
            "--assignment", choices=["modal", "proportional"], default="modal",
            help="assign each respondent to its modal class (default) or by its posteriors",
        )  # fmt: skip
        parser.add_argument(
            "--step1-uncertainty", action="store_true",
            help="add the latent class model's own estimation error to the standard errors "
            "(Bakk, Oberski & Vermunt 2014); the data must then be those the model was fitted to",
        )  # fmt: skip
        missing_arg(parser)
        parser.add_argument(
            "--unknown", choices=["error", "missing"], default="error",
            help="answers the model does not know: refuse (default) or treat as missing",
        )  # fmt: skip
        parser.add_argument(
            "--se-method", choices=["hessian", "robust", "design"], default=None,
            help="standard errors: the inverse Hessian or the sandwich (the defaults depend "
            "on the correction), or design-based for a complex sample (--weights as sampling "
            "weights, --stratum, --cluster)",
        )  # fmt: skip
        design_args(parser)

    def design_args(parser):
        parser.add_argument(
            "--stratum",
            help="with --se-method design: the column of each row's stratum",
        )
        parser.add_argument(
            "--cluster",
            help="with --se-method design: the column of each row's primary sampling unit "
            "(labels need only be unique within a stratum)",
        )
        parser.add_argument(
            "--fpc",
            help="with --se-method design: the column of a finite population correction, "
            "each row's stratum's number of PSUs in the population (or sampling fraction)",
        )

    def base_args(p):
        p.add_argument("data", help="CSV, Parquet, SPSS (.sav) or Stata (.dta) file")
        missing_arg(p)
        p.add_argument("--columns", help="indicator columns, comma separated (default: all)")
        p.add_argument("--weights", help="column of case weights")
        p.add_argument(
            "--ordinal", metavar="COLUMNS",
            help="indicators with ordered answers, comma separated (Latent GOLD's ordinal "
            "scale type); their answers must be numbers in order, 1..C",
        )  # fmt: skip
        p.add_argument("--starts", type=int, default=16, help="random starts (default 16)")
        p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
        p.add_argument("--bayes-constant", type=float, default=1.0, help="default 1 (Latent GOLD)")
        p.add_argument("--jobs", type=int, default=1, help="threads (default 1)")

    def model_args(p):
        base_args(p)
        p.add_argument(
            "--split-merge", type=int, default=0, metavar="M",
            help="after the starts, try up to M split-and-merge moves on the best solution "
            "(default 0; a few dozen find higher maxima of models with many classes)",
        )  # fmt: skip
        p.add_argument(
            "--unknown", choices=["error", "missing"], default="error",
            help="with --preset: answers outside its published labels are refused (default) "
            "or fitted as missing answers",
        )  # fmt: skip
        p.add_argument(
            "--direct-effect", action="append", metavar="A,B",
            help="let two nominal indicators be associated within the classes (Latent "
            "GOLD's direct effect, the same in every class); repeat for more pairs",
        )  # fmt: skip
        p.add_argument(
            "--pattern-starts", type=int, default=20, metavar="P",
            help="compare: candidate starts per K with a small new class at one of the answer "
            "patterns the K-1 class model fits worst (default 20; 0 for none)",
        )  # fmt: skip

    compare = sub.add_parser("compare", help="fit a range of class numbers and compare them")
    model_args(compare)
    compare.add_argument("--classes", default="2-10", help="e.g. 2-10 (default)")
    compare.add_argument(
        "--out",
        help="folder for the table and the models; each model is written as soon as it is "
        "fitted, and a rerun with the same data and options reuses the finished ones (models "
        "there of other data or options are fitted again and replaced, with a warning)",
    )
    compare.add_argument(
        "--blrt", type=int, default=0, metavar="N",
        help="bootstrap likelihood ratio test of K-1 against K classes with N samples "
        "(default 0: no test)",
    )  # fmt: skip
    compare.add_argument(
        "--lmr",
        action="store_true",
        help="Vuong-Lo-Mendell-Rubin and adjusted LMR tests of K-1 against K classes "
        "(Mplus TECH11; no refits, but liberal: prefer --blrt)",
    )
    compare.add_argument(
        "--bootstrap-gof", type=int, default=0, metavar="N",
        help="bootstrap p-values of every model's L2 and X2, and the count of pairs whose "
        "BVR has a bootstrap p <= 0.05, from N samples (default 0: none; with --blrt, the "
        "same N)",
    )  # fmt: skip
    compare.add_argument(
        "--bootstrap-starts", type=int, default=None, metavar="S",
        help="random starts of the bootstrap fits (default: --starts)",
    )  # fmt: skip
    compare.add_argument(
        "--no-split-starts", action="store_true",
        help="fit every K from random starts only (default: also start K from the K-1 "
        "model with one class split in two, once per class)",
    )  # fmt: skip
    compare.add_argument(
        "--merge-starts", action="store_true",
        help="then refit every K from the K+1 model with each pair of classes merged, keeping "
        "a refit only if it is better (about doubles the time)",
    )  # fmt: skip
    compare.add_argument("--quiet", action="store_true", help="no progress bar")
    compare.add_argument(
        "--preset", help="a published typology's model: separation-types or service-use"
    )
    compare.set_defaults(func=cmd_compare)

    fit = sub.add_parser("fit", help="fit one model and save it")
    model_args(fit)
    fit.add_argument(
        "--classes", help="number of classes (with --preset, default: the published number)"
    )
    fit.add_argument(
        "--preset",
        help="fit a published typology's model (separation-types or service-use): its "
        "columns, scale types and category labels; classes matched and named as published",
    )
    fit.add_argument("--out", required=True, help="model file to write (JSON)")
    fit.add_argument(
        "--profile",
        help="also write the class sizes and the profile with their standard errors to "
        "this CSV (columns 1, 1_se, ..., Total, Total_se)",
    )
    fit.add_argument(
        "--se-method",
        choices=["hessian", "opg", "robust", "design"],
        default="hessian",
        help="standard errors for --profile and --indicator-tests: observed information "
        "(default, Latent GOLD's), outer product of scores (poLCA's), the sandwich, or "
        "design-based for a complex sample (--weights as sampling weights, --stratum, "
        "--cluster)",
    )
    design_args(fit)
    fit.add_argument(
        "--indicator-tests", action="store_true",
        help="also print, per indicator, the Wald test that the classes answer alike and "
        "the R-squared of its answers (Latent GOLD's profile statistics)",
    )  # fmt: skip
    fit.add_argument(
        "--bootstrap-gof", type=int, default=0, metavar="N",
        help="also give bootstrap p-values of L2, X2 and every pair's BVR from N samples "
        "drawn from the fitted model (Latent GOLD's bootstrap L2; default 0: none)",
    )  # fmt: skip
    fit.set_defaults(func=cmd_fit)

    assign = sub.add_parser("assign", help="assign respondents with a saved model")
    assign.add_argument(
        "inputs", nargs="+", metavar="MODEL DATA",
        help="model file written by 'lca fit' or 'lca compare', then the respondents; "
        "with --preset, the respondents only",
    )  # fmt: skip
    assign.add_argument("--preset", help="assign to a published typology's classes")
    missing_arg(assign)
    assign.add_argument(
        "--dask", action="store_true",
        help="DATA: a CSV or Parquet glob larger than memory (needs lca[dask]); --out: a folder",
    )  # fmt: skip
    assign.add_argument("--out", help="CSV to write (default: standard output)")
    assign.add_argument(
        "--unknown", choices=["error", "missing"], default="error",
        help="unseen categories: refuse (default) or treat as missing",
    )  # fmt: skip
    assign.set_defaults(func=cmd_assign)

    cov = sub.add_parser(
        "covariates",
        help="regress class membership on covariates (bias-adjusted three-step)",
    )
    cov.add_argument("model", help="model file written by 'lca fit' or 'lca compare'")
    cov.add_argument("data", help="the respondents: their answers and covariates")
    cov.add_argument("--covariates", required=True, help="covariate columns, comma separated")
    cov.add_argument(
        "--categorical",
        help="covariates coded as numbers that are categories (one column per code)",
    )
    cov.add_argument(
        "--correction", choices=["ml", "bch", "none"], default="ml",
        help="for classification error: maximum likelihood (default), BCH weights, or none",
    )  # fmt: skip
    cov.add_argument("--reference", type=int, default=1, help="reference class (default 1)")
    cov.add_argument(
        "--drop-missing", action="store_true",
        help="leave out (and count) rows with a missing covariate; by default they are refused",
    )  # fmt: skip
    step3_args(cov)
    cov.add_argument("--out", help="CSV of the coefficients to write")
    cov.set_defaults(func=cmd_covariates)

    reg = sub.add_parser(
        "regress",
        help="fit a latent class regression: class sizes depending on covariates (one step)",
    )
    base_args(reg)
    reg.add_argument(
        "--classes", required=True,
        help="number of classes, or several (2-6, 2,4,6): then one regression per number, "
        "their comparison table, and --out a folder of their model files",
    )  # fmt: skip
    reg.add_argument("--covariates", required=True, help="covariate columns, comma separated")
    reg.add_argument(
        "--categorical",
        help="covariates coded as numbers that are categories (one column per code)",
    )
    reg.add_argument("--reference", type=int, default=1, help="reference class (default 1)")
    reg.add_argument(
        "--se-method", choices=["hessian", "robust", "design"], default="hessian",
        help="standard errors: observed information (default), the sandwich, or "
        "design-based for a complex sample (--weights as sampling weights, --stratum, "
        "--cluster)",
    )  # fmt: skip
    design_args(reg)
    reg.add_argument(
        "--out", required=True,
        help="model file to write (JSON); with several --classes, a folder",
    )  # fmt: skip
    reg.add_argument("--coefficients", help="also write the coefficients to this CSV")
    reg.set_defaults(func=cmd_regress)

    grp = sub.add_parser(
        "groups",
        help="multiple-group LCA: are the classes the same in every group? (likelihood-ratio "
        "tests of equal class sizes and of each indicator's measurement)",
    )
    base_args(grp)
    grp.add_argument("--group", required=True, help="the column of each respondent's group")
    grp.add_argument("--classes", type=int, required=True, help="number of classes")
    grp.add_argument(
        "--free", metavar="COLUMNS",
        help="indicators already known to differ between groups (comma separated): the "
        "others and the heterogeneous model are tested against the model freeing them",
    )  # fmt: skip
    grp.add_argument(
        "--no-each", action="store_true",
        help="skip the models that free one more indicator each",
    )  # fmt: skip
    grp.add_argument(
        "--uniform", action="store_true",
        help="also fit, per nominal indicator, a uniform group effect (the same log-odds "
        "shift in every class; Latent GOLD's direct effect of the group), and test the "
        "freed indicator beyond it",
    )  # fmt: skip
    grp.add_argument(
        "--out", help="folder for comparison.csv and the model files (for 'lca assign')"
    )
    grp.set_defaults(func=cmd_groups)

    dis = sub.add_parser(
        "distal",
        help="class means (or, with --categorical, distributions) of outcomes, corrected for "
        "classification error (three-step)",
    )
    dis.add_argument("model", help="model file written by 'lca fit' or 'lca compare'")
    dis.add_argument("data", help="the respondents: their answers and the outcomes")
    dis.add_argument("--outcomes", required=True, help="outcome columns, comma separated")
    dis.add_argument(
        "--categorical", action="store_true",
        help="the outcomes are categorical: their proportions in each class and the Wald test "
        "of equal distributions (default: numeric outcomes and their means)",
    )  # fmt: skip
    dis.add_argument(
        "--correction", choices=["bch", "ml", "none"], default=None,
        help="for classification error: BCH weights (default for means), maximum likelihood "
        "(default for --categorical; a normal outcome in each class for means), or none",
    )  # fmt: skip
    dis.add_argument(
        "--omit-missing", action="store_true",
        help="leave rows with a missing outcome out of that outcome's estimates (counted); "
        "by default they are refused",
    )  # fmt: skip
    step3_args(dis)
    dis.add_argument("--out", help="CSV of the class means or proportions to write")
    dis.set_defaults(func=cmd_distal)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    import lca

    parser = build_parser()
    args = parser.parse_args(argv)

    def one_line_warning(message, category, filename, lineno, file=None, line=None):
        text = in_command_line_words(" ".join(str(message).split()), args.command)
        print(f"lca {args.command}: warning: {text}", file=sys.stderr if file is None else file)

    try:
        with warnings.catch_warnings():
            if not args.debug:  # a user's warnings: one line, without our source lines
                warnings.showwarning = one_line_warning
            return args.func(args)
    except BrokenPipeError:  # piped into a program that stopped reading (head): be quiet
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # as the Python docs advise for SIGPIPE
        return 1
    except (CLIError, ReadError, lca.DataError, lca.ModelFileError, ValueError, OSError) as exc:
        if args.debug:
            raise
        message = in_command_line_words(" ".join(str(exc).split()), args.command)  # one line
        print(f"lca {args.command}: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
