"""Tables from and to files: CSV/TSV and Parquet, local or at fsspec URLs (``s3://``).

CSV is read as text and typed here, column by column, so that what is written back looks
like what was read: integers stay integers even with gaps, codes with leading zeros stay
text, and every problem names the file.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import glob
import os
import shutil
import tempfile
from pathlib import Path, PurePath, PurePosixPath
from typing import Iterable, TypeGuard

import numpy as np
import pandas as pd

from syngen.adapters.written import number_form, plain_numbers, written_numbers
from syngen.artifacts import process_alive
from syngen.errors import SyngenError, os_error

CSV_SUFFIXES = {".csv": ",", ".tsv": "\t", ".txt": None}
# DataFrame.attrs key of a table read from a file: {name inside: name as written}, where they differ
# (pandas reads a repeated 'x' as 'x.1' and an empty name as 'Unnamed: 1'); output files get them back
HEADERS = "syngen.headers"
# DataFrame.attrs key of a table read from a file: how it writes its numbers, for output files in
# its form: {"sep": the CSV separator a decimal comma needs, "numbers": {column: {"decimal": ",",
# "thousands": ",", "places": fixed decimals or None}}, "arrow": {column: [precision, scale]}}
WRITTEN = "syngen.written"
PARQUET_SUFFIXES = (".parquet", ".pq")
_PROBE = 1000  # values tried first when deciding whether a column is text


def numeric_or_text(column: pd.Series) -> pd.Series:
    """The column as numbers when every value is a number written as one, else as is:
    whole numbers as integers (nullable when there are gaps; unsigned past 2^63; as their
    exact digits, text, past 64 bits), others as floats."""
    text = column.dropna()
    if text.empty:
        return column
    if pd.to_numeric(text.iloc[:_PROBE], errors="coerce").isna().any():
        return column  # one word among the first values decides, without converting them all
    numbers = pd.to_numeric(text, errors="coerce")
    if numbers.isna().any() or text.str.match(r"^[+-]?0\d").any() or np.isinf(numbers).any():
        return column  # words ('Inf' too: kept as written), or codes whose leading zeros matter
    if numbers.dtype.kind == "f":  # a decimal point or exponent somewhere: floats, even if whole
        if numbers.abs().max() >= 2**63 and text.str.fullmatch(r"[+-]?\d+").all():
            return column  # integers past 64 bits: a float would lose their last digits
        return numbers.reindex(column.index).astype("float64")
    if numbers.dtype.kind not in "iu":
        return column
    dtype = "int64" if numbers.dtype.kind == "i" or numbers.max() <= np.iinfo(np.int64).max else "uint64"
    if len(text) < len(column):
        return numbers.reindex(column.index).astype({"int64": "Int64", "uint64": "UInt64"}[dtype])
    return numbers.astype(dtype)


def decimal_numbers(column: pd.Series) -> pd.Series:
    """Decimal values (Parquet and SQL DECIMAL / NUMERIC) as numbers, typed as CSV text of
    them would be: integers exact, past 64 bits as their digits."""
    return numeric_or_text(column.map(lambda value: format(value, "f"), na_action="ignore"))


def typed_columns(data: pd.DataFrame, written: dict | None = None) -> tuple[pd.DataFrame, dict]:
    """CSV text typed column by column (``numeric_or_text``), numbers written with a decimal
    comma or in thousands' groups included; and how the file writes numbers (``WRITTEN``)."""
    written = dict(written or data.attrs.get(WRITTEN, {}))
    sep, marks = written.pop("sep", ","), written.pop("marks", {})
    forms = {}
    for name in data.columns:
        form = number_form(data[name], sep, **marks) if data[name].dtype == object else None
        typed = numeric_or_text(plain_numbers(data[name], form) if form else data[name])
        if form and pd.api.types.is_numeric_dtype(typed):
            data[name], forms[name] = typed, form
        else:
            data[name] = numeric_or_text(data[name]) if form else typed
    if forms:
        written["numbers"] = forms
        if any(form["decimal"] == "," for form in forms.values()):
            written["sep"] = sep
    return data, written


def read_table(
    source: str | os.PathLike, row_limit: int | None = None, drop_null: bool = False, csv_options: dict | None = None
) -> pd.DataFrame:
    """Read a CSV/TSV/Parquet file; ``row_limit`` keeps a seeded random sample of rows;
    ``csv_options`` are a metadata file's ``format`` settings. CSV text is typed after the
    sample is drawn: typing is most of the work on a big file."""
    path, parquet = _source_path(source)
    data = _read_parquet(path) if parquet else _read_csv(path, CSV_SUFFIXES.get(_suffix(path)), csv_options)
    headers, written = data.attrs.get(HEADERS, {}), data.attrs.get(WRITTEN, {})
    if parquet:
        data = data.apply(lambda c: decimal_numbers(c) if pd.api.types.infer_dtype(c, skipna=True) == "decimal" else c)
    if data.shape[1] == 0:
        raise SyngenError(f"'{path}' has no columns")
    if data.empty:
        raise SyngenError(f"'{path}' has a header but no rows")
    if drop_null:
        data = data.dropna()
        if data.empty:
            raise SyngenError(f"'{path}': every row has a null, so --drop_null leaves nothing to learn")
    if row_limit is not None and len(data) > row_limit:
        if row_limit < 1:
            raise SyngenError(f"--row_limit must be at least 1, got {row_limit}")
        data = data.sample(row_limit, random_state=0).sort_index()
    if not parquet:
        data, written = typed_columns(data, written)
    data = data.reset_index(drop=True)
    data.attrs[HEADERS] = headers
    data.attrs[WRITTEN] = written
    return data


def _read_parquet(path) -> pd.DataFrame:
    """A Parquet file's rows; a name it repeats is read as pandas reads one from a CSV file.
    Its decimal columns' types are kept (``WRITTEN``) for a Parquet output."""
    import pyarrow.parquet as pq

    try:
        schema = pq.read_schema(path)
        names, inside = schema.names, unique_names(schema.names)
        if len(set(names)) == len(names):
            data = pd.read_parquet(path)
        else:
            import fsspec

            filesystem, inner = fsspec.core.url_to_fs(str(path))  # one file: a dataset refuses repeated names
            table = pq.ParquetFile(inner, filesystem=filesystem).read()
            data = table.rename_columns(inside).replace_schema_metadata(None).to_pandas()
    except Exception as error:  # pyarrow raises several types for damaged files
        raise SyngenError(f"cannot read Parquet file '{path}': {error}") from None
    data.attrs[HEADERS] = {name: written for name, written in zip(inside, names) if name != written}
    data.attrs[WRITTEN] = _decimal_types(inside, schema)
    return data


def frame_of_arrow(table) -> pd.DataFrame:
    """An Arrow table's rows as a Parquet file's are read for training (a Spark source's):
    names it repeats made unique, decimal columns as numbers with their types kept."""
    names, inside = table.schema.names, unique_names(table.schema.names)
    data = table.rename_columns(inside).replace_schema_metadata(None).to_pandas()
    data = data.apply(lambda c: decimal_numbers(c) if pd.api.types.infer_dtype(c, skipna=True) == "decimal" else c)
    data.attrs[HEADERS] = {name: written for name, written in zip(inside, names) if name != written}
    data.attrs[WRITTEN] = _decimal_types(inside, table.schema)
    return data


def _decimal_types(names: list[str], schema) -> dict:
    """The decimal columns' precision and scale (``WRITTEN``), for a Parquet output."""
    import pyarrow as pa

    decimals = {
        name: [field.type.precision, field.type.scale]
        for name, field in zip(names, schema)
        if pa.types.is_decimal(field.type)
    }
    return {"arrow": decimals} if decimals else {}


def unique_names(names: list[str]) -> list[str]:
    """The names made unique as pandas does it for a CSV header: 'x', 'x.1', 'x.2', ..."""
    counts: dict[str, int] = {}
    unique = []
    for name in names:
        count = counts.get(name, 0)
        while count:
            counts[name] = count + 1
            name = f"{name}.{count}"
            count = counts.get(name, 0)
        unique.append(name)
        counts[name] = count + 1
    return unique


def read_columns(source: str | os.PathLike, csv_options: dict | None = None) -> list[str]:
    """The column names of a CSV/TSV/Parquet file, reading only its header."""
    path, parquet = _source_path(source)
    if parquet:
        import pyarrow.parquet as pq

        try:
            return list(pq.read_schema(path).names)
        except Exception as error:  # pyarrow raises several types for damaged files
            raise SyngenError(f"cannot read Parquet file '{path}': {error}") from None
    return [str(c) for c in _read_csv(path, CSV_SUFFIXES.get(_suffix(path)), csv_options, nrows=0).columns]


def read_head(source: str | os.PathLike, rows: int, csv_options: dict | None = None) -> pd.DataFrame:
    """The first ``rows`` rows, typed as ``read_table`` types them: a quick look at what the
    columns hold, for checks that must not read a whole file."""
    path, parquet = _source_path(source)
    if parquet:
        return _read_parquet(path).head(rows)
    return typed_columns(_read_csv(path, CSV_SUFFIXES.get(_suffix(path)), csv_options, nrows=rows))[0]


def _suffix(location) -> str:
    return PurePosixPath(str(location)).suffix.lower()


def is_remote(location: object) -> TypeGuard[str]:
    return isinstance(location, str) and "://" in location and not location.startswith("file://")


def _source_path(source: str | os.PathLike) -> tuple[Path | str, bool]:
    """The checked location of a readable source file, and whether it is Parquet (else CSV/TSV).
    Remote URLs stay strings: pandas and pyarrow open them through fsspec."""
    if is_remote(source):
        import fsspec

        try:
            fs, inner = fsspec.core.url_to_fs(source)
            exists, folder = fs.exists(inner), fs.isdir(inner)
        except ImportError as error:
            raise SyngenError(f"reading '{source}' needs {error.name}; for s3:// pip install 'syngen[s3]'") from None
        except Exception as error:  # credentials, network: the storage's own words
            raise SyngenError(f"cannot reach '{source}': {error}") from None
        path: PurePath = PurePosixPath(inner)
        located: Path | str = source
    else:
        path = located = Path(source)
        exists, folder = path.exists(), path.is_dir()
    if not exists:
        raise SyngenError(f"source file not found: '{source}'")
    if folder:
        raise SyngenError(f"source '{source}' is a folder; give a CSV or Parquet file")
    suffix = path.suffix.lower()
    if suffix not in PARQUET_SUFFIXES and suffix not in CSV_SUFFIXES and suffix != "":
        raise SyngenError(f"unsupported source format '{suffix}' for '{path}'; use .csv, .tsv or .parquet")
    return located, suffix in PARQUET_SUFFIXES


_QUOTING = {
    "Minimal": csv.QUOTE_MINIMAL,
    "All": csv.QUOTE_ALL,
    "NonNumeric": csv.QUOTE_NONNUMERIC,
    "None": csv.QUOTE_NONE,
}


def _read_csv(path: Path | str, sep: str | None, options: dict | None = None, nrows: int | None = None) -> pd.DataFrame:
    """The file's cells as text (typing is ``numeric_or_text``'s job, after any sampling)."""
    given, options = options, dict(options or {})
    sep = options.pop("sep", sep)
    marks = {mark: options.pop(mark) for mark in ("decimal", "thousands") if mark in options}
    if "quoting" in options:
        options["quoting"] = _QUOTING[options["quoting"]]
    options.setdefault("encoding", "utf-8-sig")
    try:
        codecs.lookup(options["encoding"])
    except LookupError:
        raise SyngenError(
            f"'{path}' has an unknown encoding '{options['encoding']}'; give a Python codec name such "
            "as latin-1 or cp1252"
        ) from None
    options.update(sep=sep, dtype=str, engine="python" if sep is None else "c", skipinitialspace=False)
    try:
        raw = pd.read_csv(path, keep_default_na=True, nrows=nrows, **options)
        written = _header_row(path, options)
    except pd.errors.EmptyDataError:
        raise SyngenError(f"'{path}' is empty") from None
    except UnicodeDecodeError as error:
        encoding = (given or {}).get("encoding")
        raise SyngenError(
            f"'{path}' is not {encoding or 'UTF-8'} text (byte {error.object[error.start : error.start + 1]!r} "
            f"at position {error.start}); "
            + (
                "correct its format.encoding"
                if encoding
                else "re-save it as UTF-8, or give its encoding in a metadata file (format: {encoding: latin-1})"
            )
        ) from None
    except UnicodeError as error:  # a codec that fails before decoding (UTF-16 without its BOM)
        raise SyngenError(
            f"'{path}' is not {(given or {}).get('encoding')} text ({error}); correct its format.encoding"
        ) from None
    except pd.errors.ParserError as error:
        raise SyngenError(f"'{path}' is not a well-formed CSV file: {error}") from None
    if "sep" not in (given or {}) and sep == "," and len(written) == 1:
        other = _read_other_separator(path, written[0], given, nrows)
        if other is not None:
            return other
    headers = (
        {name: header for name, header in zip(raw.columns, written) if str(name) != header}
        if len(written) == raw.shape[1]
        else {}
    )
    while raw.shape[1] and str(raw.columns[-1]).startswith("Unnamed: ") and raw.iloc[:, -1].isna().all():
        raw = raw.iloc[:, :-1]  # a separator ending every line
    raw.attrs[HEADERS] = {name: header for name, header in headers.items() if name in raw.columns}
    raw.attrs[WRITTEN] = {"sep": sep, "marks": marks}
    return raw


_OTHER_SEPARATORS = (";", "\t", "|")


def _read_other_separator(path, header: str, options: dict | None, nrows: int | None) -> pd.DataFrame | None:
    """A .csv file whose header ',' does not split (spreadsheets in many locales export ';'),
    read with the separator its header holds most, if that gives columns with values."""
    for sep in sorted((sep for sep in _OTHER_SEPARATORS if sep in header), key=header.count, reverse=True):
        try:
            read = _read_csv(path, sep, options, nrows)
        except SyngenError:
            continue
        if read.shape[1] > 1 and read.iloc[:, 1:].notna().any().any():
            return read
    return None


def _header_row(path, options: dict) -> list[str]:
    """The header's names as written: every cell as text, none read as null."""
    skip = (options.get("skiprows") or 0) + (options.get("header") or 0)
    options = {k: v for k, v in options.items() if k not in ("header", "skiprows", "na_values")}
    first = pd.read_csv(path, header=None, nrows=1, keep_default_na=False, na_filter=False, skiprows=skip, **options)
    return [str(value) for value in first.iloc[0]] if len(first) else []


def output_format(path: str | os.PathLike) -> str:
    suffix = _suffix(path)
    if suffix in (".csv", ".tsv"):
        return suffix[1:]
    if suffix in PARQUET_SUFFIXES:
        return "parquet"
    raise SyngenError(f"cannot write '{path}': use a .csv, .tsv or .parquet file name")


def write_batches(
    batches: Iterable[pd.DataFrame], path: str | os.PathLike, headers: dict | None = None, written: dict | None = None
) -> int:
    """Stream DataFrames into one file; the file appears only when every batch is written,
    so a failure leaves any earlier file as it was. Returns the number of rows written."""
    staging, rows = stage_batches(batches, path, headers, written)
    publish(staging, path)
    return rows


def stage_batches(
    batches: Iterable[pd.DataFrame], path: str | os.PathLike, headers: dict | None = None, written: dict | None = None
) -> tuple[str, int]:
    """Write the batches to a hidden file beside ``path`` (in the temporary folder for a
    remote ``path``), columns named as ``headers`` (``HEADERS``) says they were written,
    numbers as ``written`` (``WRITTEN``) says; ``publish`` moves it into place, ``discard``
    removes it."""
    headers, written = headers or {}, written or {}
    kind = output_format(path)
    try:
        if is_remote(path):
            handle, staging = tempfile.mkstemp(prefix=".syngen-", suffix=_suffix(path))
        else:
            target = Path(path)
            target.parent.mkdir(parents=True, exist_ok=True)
            handle, staging = staging_file(target)
    except OSError as error:
        raise os_error(error, f"cannot write '{path}'") from None
    os.close(handle)
    rows = 0
    try:
        if kind == "parquet":
            rows = write_parquet(batches, staging, headers, written.get("arrow", {}))
        else:
            sep = written.get("sep", ",") if kind == "csv" else "\t"
            numbers = written.get("numbers", {})
            with open(staging, "w", newline="", encoding="utf-8") as out:
                for i, batch in enumerate(batches):
                    binary = [c for c in batch.columns if is_binary(batch[c])]
                    batch = batch.assign(**{str(c): hex_text(batch[c]) for c in binary}) if binary else batch
                    formed = {
                        str(c): written_numbers(batch[c], numbers[c])
                        for c in batch.columns
                        if c in numbers and pd.api.types.is_numeric_dtype(batch[c])
                    }
                    batch = batch.assign(**formed) if formed else batch
                    header = [headers.get(c, c) for c in batch.columns] if i == 0 else False
                    batch.to_csv(out, index=False, header=header, sep=sep)
                    rows += len(batch)
    except BaseException as error:
        discard(staging)
        if isinstance(error, OSError):  # a full disk: the earlier file, if any, is untouched
            raise os_error(error, f"cannot write '{path}'") from None
        raise
    return staging, rows


_HEX_DIGITS = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_HEX_CHUNK_BYTES = 1 << 24


def is_binary(values: pd.Series) -> bool:
    return values.dtype == object and pd.api.types.infer_dtype(values, skipna=True) == "bytes"


def hex_text(values: pd.Series, prefix: str = "") -> pd.Series:
    """Binary values as hex text (text files have no bytes; PostgreSQL's COPY reads
    ``\\x``-prefixed hex as bytea), converted a chunk of rows at a time through NumPy."""
    present = values.notna().to_numpy()
    data = values[present]
    out = values.astype(object).copy()
    if data.empty:
        return out
    lengths = data.str.len().to_numpy()
    width = max(int(lengths.max()), 1)
    texts = np.empty(len(data), dtype=object)
    step = max(1, _HEX_CHUNK_BYTES // width)
    for first in range(0, len(data), step):
        size = lengths[first : first + step]
        matrix = np.array(data.iloc[first : first + step].tolist(), dtype=f"S{width}").view(np.uint8)
        matrix = matrix.reshape(len(size), width)
        chars = np.stack([_HEX_DIGITS[matrix >> 4], _HEX_DIGITS[matrix & 15]], axis=2).reshape(len(size), 2 * width)
        chars[np.arange(2 * width) >= 2 * size[:, None]] = 0
        texts[first : first + step] = np.char.add(prefix, chars.view(f"S{2 * width}").ravel().astype("U")).tolist()
    out[present] = texts
    return out


def publish(staging: str, path: str | os.PathLike) -> None:
    """Move a staged file into place: a rename locally, one upload (atomic on S3) remotely."""
    try:
        if is_remote(path):
            import fsspec

            try:
                fs, inner = fsspec.core.url_to_fs(str(path))
                fs.put_file(staging, inner)
            except ImportError as error:
                raise SyngenError(f"writing '{path}' needs {error.name}; for s3:// pip install 'syngen[s3]'") from None
            except Exception as error:
                raise SyngenError(f"cannot write '{path}': {error}") from None
        else:
            os.chmod(staging, default_mode(0o666))  # staged private, published as any new file is
            os.replace(staging, path)
    except OSError as error:
        raise os_error(error, f"cannot write '{path}'") from None
    finally:
        discard(staging)


def default_mode(mode: int) -> int:
    """``mode`` as the process's umask leaves it for a newly created file or folder."""
    mask = os.umask(0)
    os.umask(mask)
    return mode & ~mask


def staging_file(target: Path, suffix: str = "") -> tuple[int, str]:
    """A new hidden file beside ``target`` (``mkstemp``'s handle and name) whose name holds
    this process's id, after removing those of processes that are gone: a run killed while
    writing leaves its staging file, and the next run to the same place sweeps it."""
    return tempfile.mkstemp(prefix=_staging_prefix(target), suffix=suffix, dir=target.parent)


def staging_folder(target: Path) -> Path:
    """A new hidden folder beside ``target`` (a model's), swept like a staging file."""
    return Path(tempfile.mkdtemp(prefix=_staging_prefix(target), dir=target.parent))


def _staging_prefix(target: Path) -> str:
    """This process's staging prefix for ``target``, after sweeping the staging files and
    folders (a database's side files, its spill folder) of processes that are gone."""
    prefix = f".{target.name}.syngen-"
    for stale in target.parent.glob(f"{glob.escape(prefix)}*"):
        pid = stale.name[len(prefix) :].split("-")[0]
        if pid.isdigit() and not process_alive(int(pid)):
            if stale.is_dir() and not stale.is_symlink():
                shutil.rmtree(stale, ignore_errors=True)
            else:
                with contextlib.suppress(OSError):
                    stale.unlink()
    return f"{prefix}{os.getpid()}-"


def missing_folders(path: str | os.PathLike) -> list[Path]:
    """The folders above a local ``path`` that do not exist yet (writing it makes them)."""
    if is_remote(path):
        return []
    return [folder for folder in Path(path).absolute().parents if not folder.exists()]


def remove_made(folders: list[Path]) -> None:
    """Remove the folders ``missing_folders`` named, deepest first, where they are still empty."""
    for folder in sorted(set(folders), key=lambda f: len(f.parts), reverse=True):
        with contextlib.suppress(OSError):  # not empty: something else was put there
            folder.rmdir()


def discard(staging: str) -> None:
    if os.path.exists(staging):
        os.remove(staging)


def arrow_table(batch: pd.DataFrame, headers: dict, decimals: dict):
    """A batch as an Arrow table: columns the source holds as decimals (``decimals``:
    {column: [precision, scale]}) written as such, columns named as the source wrote them."""
    import pyarrow as pa

    table = pa.Table.from_pandas(batch, preserve_index=False)
    for name, (precision, scale) in decimals.items():
        if name in batch.columns and pd.api.types.is_numeric_dtype(batch[name]):
            exact = pa.array(
                batch[name]
                .round(scale)
                .map(lambda x: f"{x:.{scale}f}", na_action="ignore")
                .astype(object)
                .where(batch[name].notna(), None),
                pa.string(),
            )
            table = table.set_column(
                list(batch.columns).index(name),
                name,
                exact.cast(pa.decimal128(precision, scale) if precision <= 38 else pa.decimal256(precision, scale)),
            )
    if headers:  # Arrow takes repeated names, a DataFrame would not
        table = table.rename_columns([headers.get(c, c) for c in batch.columns])
    return table


def write_parquet(batches: Iterable[pd.DataFrame], path: str, headers: dict, decimals: dict) -> int:
    """The batches as one Parquet file (see ``arrow_table``), every batch in the first's types."""
    import pyarrow.parquet as pq

    writer, rows = None, 0
    try:
        for batch in batches:
            table = arrow_table(batch, headers, decimals)
            if writer is None:
                writer = pq.ParquetWriter(path, table.schema)
            writer.write_table(table.cast(writer.schema))
            rows += len(batch)
    finally:
        if writer is not None:
            writer.close()
    return rows
