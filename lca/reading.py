"""Reading survey files for the command line: CSV (any common encoding and
separator), Parquet, SPSS and Stata.

A CSV holds text, so what is a missing answer and what is a number has to be
decided column by column:

- an empty field is a missing answer, and so is a blank one (spaces only, as
  SPSS exports write an empty text answer);
- in a column of numbers (or of True/False), every string pandas reads as
  missing (``NA``, ``NaN``, ``#N/A``, ``null``, ...) is a missing answer too,
  as it would be in pandas: a column of numbers has no answer "None";
- in a column of text answers, only the markers (``--missing``; default
  ``NA``, as R writes a missing value) are missing; "None", "N/A" or "null"
  may be real categories there, so they stay answers. Both facts are said in
  a warning, because both could be wrong (in columns of numbers pandas' rule
  is kept, silently).
"""

from __future__ import annotations

import bz2
import csv
import glob
import gzip
import io
import lzma
import math
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from .exceptions import warn

#: What a field of a text column must hold to be read as a missing answer,
#: besides being empty: R's ``write.csv`` writes NA.
DEFAULT_MISSING = ("NA",)

#: The strings pandas reads as missing by default (``read_csv``'s documented
#: list, empty field aside): missing answers in columns of numbers.
PANDAS_MISSING = frozenset(
    "#N/A|#N/A N/A|#NA|-1.#IND|-1.#QNAN|-NaN|-nan|1.#IND|1.#QNAN|<NA>|N/A|NA|NULL|NaN"
    "|None|n/a|nan|null".split("|")
)

#: Text answers that often mean "missing"; kept as answers, with a warning.
LOOKS_MISSING = PANDAS_MISSING | {".", "-", "?"}  # "." as SPSS and SAS write a missing number

#: How pandas reads True and False.
_BOOLS = {"True": True, "TRUE": True, "true": True, "False": False, "FALSE": False, "false": False}

#: Encodings tried, in order, for a CSV without a UTF-16 byte order mark:
#: Excel on Windows writes cp1252, which differs from latin-1 in 0x80-0x9F
#: (curly quotes, dashes); latin-1 decodes anything.
CSV_ENCODINGS = ("utf-8-sig", "cp1252", "latin-1")

#: Separators a CSV may use.
SEPARATORS = (",", ";", "\t", "|")

#: Characters of a CSV read to tell its separator.
SNIFF_CHARS = 65_536

#: Compressed CSVs, read through their decompressor (as pandas infers them).
_OPENERS = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}

#: Columns named in a warning before "and N more".
_NAMED = 6


class ReadError(Exception):
    """A file that cannot be read as survey data; the message says why."""


def missing_markers(text: str | None) -> list[str]:
    """The markers of missing answers: ``--missing`` split on commas, else the default."""
    if text is None:
        return list(DEFAULT_MISSING)
    return [t.strip() for t in text.split(",") if t.strip()]


def read_table(
    path: str, missing: Sequence[str] = DEFAULT_MISSING, used: Sequence | None = None
) -> pd.DataFrame:
    """Read CSV (UTF-8, UTF-8 with BOM, UTF-16, cp1252 or latin-1; optionally
    gzip, bz2 or xz compressed), Parquet, SPSS or Stata.

    In a CSV, missing answers are read as the module's docstring says, with
    ``missing`` the markers of text columns. Columns without a name and
    without any answer (the trailing separator Excel writes) are left out.
    ``used``: the columns that will be used, if known; the warnings about
    missing-looking answers name only those (every column is read all the same).
    """
    p = Path(path)
    if not p.exists():
        raise ReadError(f"{path}: no such file")
    suffix = p.suffix.lower()
    if suffix in (".xlsx", ".xls", ".xlsm", ".ods"):
        raise ReadError(
            f"{path}: spreadsheets are not read; save the sheet as CSV (or give a Parquet, "
            "SPSS .sav or Stata .dta file)"
        )
    try:
        if suffix == ".parquet":
            return pd.read_parquet(p)
        if suffix == ".sav":
            return pd.read_spss(p)
        if suffix == ".dta":
            return pd.read_stata(p)
        df = pd.read_csv(p, **csv_options(*csv_format(p)))
    except ImportError as exc:
        raise ReadError(f"{path}: reading {suffix} files needs an extra package ({exc})") from None
    except (ValueError, OSError) as exc:
        raise ReadError(f"{path}: cannot read the file ({exc})") from None
    empty = [c for c in df.columns if str(c).startswith("Unnamed: ") and df[c].isna().all()]
    df, read_missing, kept = answers_as_read(df.drop(columns=empty), missing)
    if used is not None:
        used = set(used)
        read_missing = {
            v: {c: n for c, n in cols.items() if c in used} for v, cols in read_missing.items()
        }
        read_missing = {v: cols for v, cols in read_missing.items() if cols}
        kept = {v: [c for c in cols if c in used] for v, cols in kept.items()}
        kept = {v: cols for v, cols in kept.items() if cols}
    _warn_missing(path, read_missing, kept)
    return df


def read_as_written(path: str) -> pd.DataFrame | None:
    """A CSV's columns as the text written in it (empty fields missing), row for row
    as :func:`read_table` reads it, for echoing input columns unchanged (1 stays 1,
    not 1.0, in a column with blanks); None for Parquet, SPSS and Stata files, whose
    columns are typed already."""
    p = Path(path)
    if p.suffix.lower() in (".parquet", ".sav", ".dta"):
        return None
    try:
        return pd.read_csv(p, dtype=object, **csv_options(*csv_format(p)))
    except (ValueError, OSError) as exc:
        raise ReadError(f"{path}: cannot read the file ({exc})") from None


def csv_options(encoding: str, sep: str) -> dict:
    """Keyword arguments of ``read_csv`` for a CSV of this format: only empty fields
    are missing there; :func:`answers_as_read` decides about the rest."""
    return {"encoding": encoding, "sep": sep, "keep_default_na": False, "na_values": [""]}


def answers_as_read(
    df: pd.DataFrame, missing: Sequence[str], kinds: dict | None = None
) -> tuple[pd.DataFrame, dict, dict]:
    """Missing answers and numbers in a CSV read as text (see the module's docstring).

    ``kinds`` fixes the kind of some columns (``"numbers"``, ``"bools"`` or
    ``"text"``) instead of deciding it from their values: a part of a file
    (a Dask partition) may lack the answer that makes a column text.

    Returns the frame, ``{marker: {column: count}}`` of markers read as
    missing in text columns, and ``{value: [columns]}`` of text answers
    that look like missing ones but were kept.
    """
    markers = set(missing)
    numeric_markers = set(_numbers(markers).values())
    kinds = kinds or {}
    out, read_missing, kept = {}, {}, {}
    for c in df.columns:
        col = df[c]
        if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
            if numeric_markers and col.isin(numeric_markers).any():  # --missing -9
                out[c] = col.mask(col.isin(numeric_markers))
            continue
        if not (pd.api.types.is_object_dtype(col) or pd.api.types.is_string_dtype(col)):
            continue
        values = [v for v in col.dropna().unique() if isinstance(v, str)]
        numbers = _numbers(values)
        marked = {v for v in values if v in markers or numbers.get(v, math.nan) in numeric_markers}
        marked |= {v for v in values if not v.strip()}  # blank: spaces only, as empty
        answers = [v for v in values if v not in marked and v not in PANDAS_MISSING]
        kind = kinds.get(c)
        if kind is None:
            if all(v in numbers for v in answers):  # no answer at all: all missing
                kind = "numbers"
            elif answers and all(v in _BOOLS for v in answers):
                kind = "bools"
            else:
                kind = "text"
        if kind == "text":
            if marked:
                counts = col[col.isin(marked)].value_counts()
                for value, n in counts.items():
                    read_missing.setdefault(value, {})[c] = int(n)
                out[c] = col.mask(col.isin(marked))
            for value in sorted((set(values) - marked) & LOOKS_MISSING):
                kept.setdefault(value, []).append(c)
            continue
        # numbers or True/False (as text in a Dask partition, or beside a missing-looking
        # string): every missing-looking string is missing, as pandas has it; an answer
        # that is neither (a column whose kind was given) stays as written
        answer_set = set(answers)
        mapping = {v: math.nan for v in values if v not in answer_set}
        if kind == "numbers":
            mapping.update({v: numbers.get(v, v) for v in answers})
            mapped = col.map(mapping)
            out[c] = pd.to_numeric(mapped) if all(v in numbers for v in answers) else mapped
        else:
            mapping.update({v: _BOOLS.get(v, v) for v in answers})
            out[c] = col.map(mapping)
    return (df.assign(**out) if out else df), read_missing, kept


def _numbers(texts) -> dict:
    """``{text: number}`` for the texts pandas parses as finite numbers (``1_000``, ``inf``
    or other scripts' digits are not numbers here, as they are not to ``read_csv``)."""
    texts = list(texts)
    if not texts:
        return {}
    parsed = pd.to_numeric(pd.Series(texts, dtype=object), errors="coerce")
    good = [t for t, v in zip(texts, parsed.tolist()) if v == v and math.isfinite(v)]
    if not good:
        return {}
    # again without the others, so that whole numbers stay integers as read_csv has them
    return dict(zip(good, pd.to_numeric(pd.Series(good, dtype=object)).tolist()))


def _columns(names: list) -> str:
    shown = ", ".join(repr(c) for c in names[:_NAMED])
    return shown + (f" and {len(names) - _NAMED} more" if len(names) > _NAMED else "")


def _warn_missing(path, read_missing: dict, kept: dict) -> None:
    """One warning for markers read as missing in text columns, one for answers kept."""
    blanks: dict = {}
    for value in [v for v in read_missing if not v.strip()]:
        for column, n in read_missing.pop(value).items():
            blanks[column] = blanks.get(column, 0) + n
    if blanks:
        n = sum(blanks.values())
        warn(
            f"{path}: read as missing answers: {n} blank field{'' if n == 1 else 's'} (spaces "
            f"only) in text columns {_columns(list(blanks))}, as empty fields are",
            UserWarning,
        )
    if read_missing:
        parts = []
        for value, columns in read_missing.items():
            n = sum(columns.values())
            parts.append(
                f"{value!r} ({n} answer{'' if n == 1 else 's'} in {_columns(list(columns))})"
            )
        warn(
            f"{path}: read as missing answers in text columns: {'; '.join(parts)}; if one "
            "is an answer, give the markers of missing answers with --missing (--missing '' "
            "for empty and blank fields only)",
            UserWarning,
        )
    if kept:
        parts = [f"{value!r} in {_columns(columns)}" for value, columns in kept.items()]
        warn(
            f"{path}: kept as answers: {'; '.join(parts)}; if one means a missing answer, "
            "list it with --missing",
            UserWarning,
        )


def _sniff(sample: str, complete: bool) -> tuple[str, list[str]]:
    """The separator of a CSV and its header's names, from the file's first characters.

    Of comma, semicolon (Excel), tab and bar, among those that split the header
    into more than one name (quotes respected): the one whose first lines
    most often have as many fields as the header, then the one giving the
    most names; comma on a tie, and when none splits the header.
    ``complete``: the sample holds the whole file (else its last line may be
    cut and is not used).
    """
    best, best_key, header = ",", None, []
    for sep in SEPARATORS:
        try:
            rows = [r for r in csv.reader(io.StringIO(sample), delimiter=sep) if r]
        except csv.Error:  # not CSV with this separator (pandas says why, if none fits)
            continue
        if not complete and len(rows) > 1:
            rows = rows[:-1]
        rows = rows[:50]
        if not rows or len(rows[0]) < 2:
            continue
        width = len(rows[0])
        body = rows[1:] or rows
        key = (sum(len(r) == width for r in body) / len(body), width)
        if best_key is None or key > best_key:
            best, best_key, header = sep, key, rows[0]
    if best_key is None:  # one column: nothing to split
        try:
            header = next(csv.reader(io.StringIO(sample)), [])
        except csv.Error:  # not CSV at all: pandas says why
            header = []
    return best, header


def csv_format(p: Path, whole: bool = True) -> tuple[str, str]:
    """(encoding, separator) of a CSV file, from its first characters.

    UTF-16 when the file starts with its byte order mark, else the first of
    :data:`CSV_ENCODINGS` that decodes the whole file (with ``whole=False``,
    its first :data:`SNIFF_CHARS` characters: files larger than memory). A
    ``.gz``, ``.bz2`` or ``.xz`` file is read through its decompressor.
    Refuses a header that names a column twice (pandas would rename the
    second and fit both).
    """
    opener = _OPENERS.get(p.suffix.lower(), open)
    with opener(p, "rb") as fh:
        start = fh.read(2)
    utf16 = start in (b"\xff\xfe", b"\xfe\xff")
    encodings = ["utf-16"] if utf16 else list(CSV_ENCODINGS)
    for encoding in encodings:
        try:
            with opener(p, "rt", encoding=encoding, newline="") as fh:
                sample = fh.read(SNIFF_CHARS)
                complete = not fh.read(1)
                while whole and fh.read(1 << 20):  # the rest must decode too
                    pass
        except UnicodeError:
            if encoding == encodings[-1]:
                raise ReadError(f"{p}: cannot decode the file as {encoding}") from None
            continue
        sep, names = _sniff(sample, complete)
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ReadError(
                f"{p}: column name(s) {repeated} appear more than once in the header; "
                "give each column its own name"
            )
        return encoding, sep
    raise AssertionError("unreachable")


def first_local_file(pattern: str) -> Path | None:
    """The first local file a path or glob names (``**`` recurses, as Dask's glob
    does); None for a URL (``s3://``, ``file://``) or when nothing matches, which
    the reader then reports."""
    if "://" in pattern:
        return None
    matches = sorted(glob.glob(pattern, recursive=True)) or [pattern]
    first = Path(matches[0])
    return first if first.is_file() else None
