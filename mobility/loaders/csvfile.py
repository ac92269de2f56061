"""Read the CSV tables of a feed (zip or folder) into all-string DataFrames, tolerant of real-world file quirks.

Handles: zip junk (``__MACOSX/``, ``.DS_Store``), files inside a single sub-folder, UTF-8 BOM, non-UTF-8
files (decoded as cp1252 with a warning), CRLF, missing final newline, stray spaces around header names and
values, empty files. Row positions are kept so errors can name the 1-based line of the file (header = line 1).

Hostile input is bounded before parsing: a file is at most :data:`MAX_FILE_BYTES`, a line at most
:data:`MAX_LINE_CHARS` (so is a field) and a header at most :data:`MAX_COLUMNS` columns; a corrupt archive,
member or CSV structure becomes a :class:`~mobility.errors.DataError` naming the file.
"""

from __future__ import annotations

import csv
import io
import os
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import numpy as np
import pandas as pd

from mobility.errors import DataError

#: largest feed file read (bytes, uncompressed): above any regional feed table; bounds a zip bomb
MAX_FILE_BYTES = 2 * 1024 ** 3
#: longest physical line of a CSV file (characters): real GTFS lines are rarely over 1,000
MAX_LINE_CHARS = 65536
#: most columns in a CSV header (GTFS tables have fewer than 40, extended ones fewer than 100)
MAX_COLUMNS = 500
#: what reading a zip member or a file can raise when the archive or the disk is damaged
_READ_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, RuntimeError, ValueError)

_JUNK_PARTS = ("__MACOSX",)
_JUNK_NAMES = (".DS_Store", "Thumbs.db")


def _is_junk(name: str) -> bool:
    parts = PurePosixPath(name).parts
    return (not parts or any(p in _JUNK_PARTS for p in parts) or parts[-1] in _JUNK_NAMES
            or parts[-1].startswith("._") or name.endswith("/"))


class FeedSource:
    """The files of a feed: a ``.zip`` archive or a folder, keyed by base name (``stops.txt``)."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        self._zip: zipfile.ZipFile | None = None
        self._members: dict[str, str] = {}
        if self.path.is_dir():
            for p in sorted(self.path.iterdir()):
                if p.is_file() and not _is_junk(p.name):
                    self._members[p.name] = str(p)
            if not self._members:  # a folder holding a single sub-folder with the feed
                subdirs = [p for p in self.path.iterdir() if p.is_dir() and not _is_junk(p.name + "/x")]
                if len(subdirs) == 1:
                    self._members = {p.name: str(p) for p in sorted(subdirs[0].iterdir())
                                     if p.is_file() and not _is_junk(p.name)}
        elif self.path.is_file():
            try:
                self._zip = zipfile.ZipFile(self.path)
            except _READ_ERRORS as exc:
                raise DataError(f"not a zip archive or folder: {exc}", path=str(self.path)) from exc
            names = [n for n in self._zip.namelist() if not _is_junk(n)]
            top = [n for n in names if "/" not in n]
            if top:
                self._members = {n: n for n in top}
            else:  # every file sits in one (or more) sub-folders: use the shallowest folder holding stops.txt
                cands = sorted((n for n in names if PurePosixPath(n).name == "stops.txt"),
                               key=lambda n: n.count("/"))
                folder = str(PurePosixPath(cands[0]).parent) if cands else str(PurePosixPath(names[0]).parent) if names else ""
                self._members = {PurePosixPath(n).name: n for n in names
                                 if str(PurePosixPath(n).parent) == folder}
        else:
            raise DataError("feed not found (expected a .zip file or a folder)", path=str(self.path))

    def names(self) -> list[str]:
        return sorted(self._members)

    def has(self, name: str) -> bool:
        return name in self._members

    def read_bytes(self, name: str) -> bytes:
        """The raw content of ``name``; a damaged archive or member, or an oversized file, is a DataError."""
        member = self._members[name]
        try:
            if self._zip is not None:
                size = self._zip.getinfo(member).file_size
            else:
                size = Path(member).stat().st_size
            if size > MAX_FILE_BYTES:
                raise DataError(f"file too large ({size} bytes; at most {MAX_FILE_BYTES})", path=name)
            if self._zip is not None:
                return self._zip.read(member)
            return Path(member).read_bytes()
        except _READ_ERRORS as exc:
            raise DataError(f"cannot read the file from {self.path.name} ({type(exc).__name__}: {exc})",
                            path=name) from exc


def decode(data: bytes, name: str, warnings: list[str]) -> str:
    """Bytes to text: UTF-8 (BOM stripped); otherwise cp1252/latin-1 with a warning."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        warnings.append(f"{name}: not valid UTF-8 (byte {exc.start}); decoded as cp1252")
        try:
            return data.decode("cp1252")
        except UnicodeDecodeError:
            return data.decode("latin-1")


@dataclass
class Table:
    """One CSV file as strings; ``df.index`` is the 0-based record number in the file."""

    name: str
    df: pd.DataFrame
    text: str = field(repr=False, default="")
    _lines: list[int] | None = field(default=None, repr=False)

    def line_of(self, record: int) -> int:
        """1-based line number where data record ``record`` starts (header = line 1)."""
        if self._lines is None:
            starts: list[int] = []
            reader = csv.reader(io.StringIO(self.text))
            prev = 0
            try:
                for i, row in enumerate(reader):
                    start = prev + 1
                    prev = reader.line_num
                    if i == 0 or not row:
                        continue
                    starts.append(start)
            except csv.Error:  # text pandas accepted but the csv module does not: lines after it are estimated
                pass
            self._lines = starts
        if 0 <= record < len(self._lines):
            return self._lines[record]
        return record + 2

    def error(self, record: int, field_name: str, message: str) -> DataError:
        return DataError(message, path=self.name, line=self.line_of(int(record)), field=field_name)


def _strip_column(s: pd.Series) -> pd.Series:
    a = s.to_numpy(dtype=object)
    lst = a.tolist()
    stripped = [v.strip() for v in lst]
    if stripped == lst:  # identity fast path: nothing to strip
        return s
    return pd.Series(stripped, index=s.index, dtype=s.dtype, name=s.name)


def _may_need_strip(text: str) -> bool:
    """Cheap test: could any value have leading/trailing blanks? (substring search, no parsing)"""
    for sep in (" ,", ", ", " \n", "\n ", " \r", "\t"):
        if sep in text:
            return True
    return text[:1] == " " or text.rstrip("\r\n")[-1:] == " "


def check_bounds(data: bytes, name: str) -> None:
    """Refuse a file with a line longer than MAX_LINE_CHARS or a header of more than MAX_COLUMNS columns
    before parsing it: pandas would take minutes and gigabytes on a 5 MB line."""
    b = np.frombuffer(data, np.uint8)
    ends = np.flatnonzero(b == 10)
    bounds = np.concatenate(([-1], ends, [len(b)]))
    lengths = np.diff(bounds) - 1
    if len(lengths) and int(lengths.max()) > MAX_LINE_CHARS:  # bytes >= characters: a cheap upper bound
        line = int(np.argmax(lengths > MAX_LINE_CHARS))
        chars = len(data[bounds[line] + 1: bounds[line + 1]].decode("utf-8", errors="replace"))
        if chars > MAX_LINE_CHARS:
            raise DataError(f"line too long ({chars} characters; at most {MAX_LINE_CHARS})", path=name,
                            line=line + 1)
    header = data[: int(ends[0]) if len(ends) else len(data)]
    if header.count(b",") + 1 > MAX_COLUMNS:
        raise DataError(f"too many columns in the header ({header.count(b',') + 1}; at most {MAX_COLUMNS})",
                        path=name, line=1)


def parse_csv(text: str, name: str, warnings: list[str]) -> Table:
    """Parse CSV text into a Table of stripped strings (empty frame for an empty file)."""
    if not text.strip():
        return Table(name, pd.DataFrame(), text)
    try:
        df = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, na_filter=False,
                         skip_blank_lines=True, skipinitialspace=False, quotechar='"')
    except (pd.errors.ParserError, pd.errors.EmptyDataError, csv.Error, ValueError, OverflowError) as exc:
        raise DataError(f"malformed CSV: {str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__}",
                        path=name) from exc
    cols = [str(c).strip().lstrip("\ufeff").strip() for c in df.columns]
    if cols != list(df.columns):
        if any(c != str(o) for c, o in zip(cols, df.columns) if c and not str(o).startswith("Unnamed")):
            warnings.append(f"{name}: spaces or BOM around header names removed")
        df.columns = cols
    # drop nameless trailing columns produced by a trailing comma in the header
    bad = [c for c in df.columns if c == "" or c.startswith("Unnamed:")]
    if bad:
        if any((df[c] != "").any() for c in bad):
            warnings.append(f"{name}: {len(bad)} column(s) without a header name ignored")
        df = df.drop(columns=bad)
    if df.columns.duplicated().any():
        dup = sorted(set(df.columns[df.columns.duplicated()]))
        warnings.append(f"{name}: duplicate column(s) {dup}; first occurrence kept")
        df = df.loc[:, ~df.columns.duplicated()]
    if _may_need_strip(text):
        for c in df.columns:
            df[c] = _strip_column(df[c])
    df.index = np.arange(len(df))
    return Table(name, df, text)


def read_table(source: FeedSource, name: str, warnings: list[str]) -> Table | None:
    """Read ``name`` from the feed, or None when the file is absent."""
    if not source.has(name):
        return None
    data = source.read_bytes(name)
    check_bounds(data, name)
    return parse_csv(decode(data, name, warnings), name, warnings)


def drop_duplicates(table: Table, warnings: list[str], what: str = "rows") -> int:
    """Drop exact-duplicate rows (first kept) with a warning; returns how many were dropped."""
    df = table.df
    if len(df) < 2:
        return 0
    if table.text:  # prefilter: identical rows are nearly always identical lines
        lines = table.text.splitlines()
        if len(set(lines)) == len(lines):
            return 0
    dup = df.duplicated()
    n = int(dup.sum())
    if n:
        first = int(df.index[dup.to_numpy()][0])
        warnings.append(f"{table.name}: {n} exact-duplicate {what} dropped (first at line {table.line_of(first)})")
        table.df = df[~dup.to_numpy()]
    return n
