"""The on-disk cache format: a folder per entry, read without running any code it holds, memory-mapped.

An entry (``network-<key>.store/``, ``geocoder-<key>.store/``) holds two files:

* ``manifest.json``: the object tree as JSON (format name, entry kind, version, key, then the root node);
* ``arrays.bin``: every numpy array of the tree, uncompressed, each at a 64-byte aligned offset.

Reading parses the JSON and maps ``arrays.bin`` copy-on-write (``mmap.ACCESS_COPY``): an array is a view of
the mapping, so nothing is copied at start-up, the pages are shared through the page cache by every process
that opens the same entry (the workers of ``mobility serve --workers 2`` and any other command), and a
process that writes into an array gets private copies of the pages it touches (the file never changes).

Safety: nothing is unpickled and no name read from the file is imported.  Objects are rebuilt only for the
classes the caller passes (``classes=``: the network's own dataclasses, the geocoder...), by ``cls.__new__``
and their ``__setstate__`` (or their ``__dict__``), or for a class whose ``__reduce__`` names itself
(:class:`~mobility.domain.opening_hours.OpeningHours`), by calling it on the stored arguments.  Arrays must
have a plain dtype (numbers, booleans, dates, fixed-width text; never object), read within the bounds of
``arrays.bin``; object arrays of text are stored as codes into their distinct values (so that equal strings
are one Python object, as pickle shared them); pandas frames are rebuilt column by column with their dtypes;
shapely geometries from WKB; spatial trees (scipy ``cKDTree``, shapely ``STRtree``) are built again from their
points.  A manifest naming a class not allowed, of another format, kind, version or key, a truncated
``arrays.bin``, invalid JSON: :func:`load` returns None and the caller rebuilds the entry.

Writes are atomic: the entry is written in ``<name>.tmp<pid>/`` and renamed into place, so a reader sees no
entry or a complete one; an entry already there (a damaged one being rebuilt, or a concurrent writer's) is
moved aside and deleted once the new one is in place.

:func:`prune` keeps the cache folder bounded: it removes the ``.pickle`` entries of earlier versions, entries
of another format or cache version, entries unused for :data:`MAX_AGE_DAYS` days, then the least recently
used entries while the folder holds more than :data:`MAX_BYTES` (``MOBILITY_CACHE_MAX_MB`` overrides it).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import mmap
import os
import re
import shutil
import time
from collections import OrderedDict, defaultdict
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import pandas as pd

#: name of the format in every manifest; bump FORMAT_VERSION when the node layout below changes
FORMAT = "mobility-store"
FORMAT_VERSION = 1
#: an entry unused (neither written nor read) for this long is removed by :func:`prune`
MAX_AGE_DAYS = 30.0
#: the cache folder is kept under this size by :func:`prune` (least recently used entries go first)
MAX_BYTES = 2 * 1024**3
SUFFIX = ".store"
_ALIGN = 64
_MANIFEST = "manifest.json"
_ARRAYS = "arrays.bin"
#: entry names this module manages (and may delete): ``kind-<hex key>.store`` and the old ``.pickle`` files
_ENTRY = re.compile(r"^([a-z_]+)-([0-9a-f]{8,})(\.store|\.pickle)$")
_TMP = re.compile(r"^[a-z_]+-[0-9a-f]{8,}\.tmp(\d+)$")
_OK_KINDS = set("biufcmM")  # bool, ints, floats, complex, timedelta64, datetime64 (plus U / S strings)


#: the default factories a stored ``defaultdict`` may have
_FACTORIES: dict[str, Any] = {"none": None, "list": list, "dict": dict, "set": set, "int": int, "float": float,
                              "str": str, "tuple": tuple}
_FACTORIES_BY_TYPE = {v: k for k, v in _FACTORIES.items()}


class StoreError(Exception):
    """The object cannot be written (a type this format does not know) or an entry cannot be read."""


# ---------------------------------------------------------------------------------------- encoding

class _Writer:
    def __init__(self, classes: dict[type, str]) -> None:
        self.classes = classes
        self.chunks: list[np.ndarray] = []
        self.offset = 0
        self.memo: dict[int, int] = {}
        self.keep: list[Any] = []  # memoised objects stay alive while encoding (ids stay unique)

    # arrays ------------------------------------------------------------------
    def array(self, a: np.ndarray) -> dict:
        if a.dtype.kind not in _OK_KINDS and a.dtype.kind not in "US":
            raise StoreError(f"array of dtype {a.dtype} cannot be stored")
        if a.dtype.kind in "US" and a.dtype.itemsize == 0:
            a = a.astype(a.dtype.kind + "1")
        a = a if a.flags.c_contiguous else a.copy(order="C")  # (np.ascontiguousarray makes 0-d arrays 1-d)
        pad = (-self.offset) % _ALIGN
        if pad:
            self.chunks.append(np.zeros(pad, np.uint8))
            self.offset += pad
        node = {"t": "nd", "dtype": a.dtype.str, "shape": list(a.shape), "offset": self.offset}
        raw = a.reshape(-1).view(np.uint8) if a.size else np.zeros(0, np.uint8)
        self.chunks.append(raw)
        self.offset += raw.nbytes
        return node

    def objects(self, values: np.ndarray) -> dict:
        """An object array: strings (with None / NaN) as codes into a fixed-width array of the distinct values
        (read back as one Python string per distinct value, as pickle shared them), anything else item by item."""
        flat = values.reshape(-1)
        is_str = np.fromiter((type(v) is str for v in flat), bool, len(flat))
        if is_str.all() or (len(flat) and _only_missing(flat[~is_str])):
            codes, uniques = pd.factorize(np.where(is_str, flat, "")) if len(flat) else (np.zeros(0, np.int64), [])
            text = np.asarray(uniques, dtype=str) if len(uniques) else np.zeros(0, "U1")
            small = np.int32 if len(uniques) < 2**31 else np.int64
            node = {"t": "strs", "shape": list(values.shape), "uniques": self.array(text),
                    "codes": self.array(np.asarray(codes, dtype=small))}
            if not is_str.all():
                node["none"] = self.array(np.fromiter((v is None for v in flat), bool, len(flat)))
                node["nan"] = self.array(np.fromiter((v is not None and type(v) is not str for v in flat),
                                                     bool, len(flat)))
            return node
        return {"t": "objs", "shape": list(values.shape), "items": [self.node(v) for v in flat]}

    # pandas -------------------------------------------------------------------
    def index(self, idx: pd.Index) -> dict:
        if isinstance(idx, pd.RangeIndex):
            return {"t": "range", "start": idx.start, "stop": idx.stop, "step": idx.step, "name": self.node(idx.name)}
        if isinstance(idx, pd.MultiIndex):
            raise StoreError("MultiIndex cannot be stored")
        return {"t": "index", "values": self.values(idx.array, idx.dtype), "name": self.node(idx.name)}

    def values(self, arr, dtype) -> dict:
        if isinstance(dtype, pd.CategoricalDtype):
            return {"t": "cat", "codes": self.array(np.asarray(arr.codes)), "categories": self.index(dtype.categories),
                    "ordered": bool(dtype.ordered)}
        if isinstance(dtype, pd.StringDtype):
            return {"t": "pdstr", "dtype": str(dtype), "storage": dtype.storage,
                    "na": "nan" if dtype.na_value is not pd.NA else "NA",
                    "values": self.objects(np.asarray(arr.to_numpy(dtype=object, na_value=None), dtype=object))}
        if isinstance(dtype, pd.DatetimeTZDtype):
            return {"t": "tz", "tz": str(dtype.tz), "unit": dtype.unit,
                    "values": self.array(np.asarray(arr.tz_localize(None).to_numpy()))}
        if isinstance(dtype, np.dtype):
            a = np.asarray(arr)
            return self.objects(a) if a.dtype == object else self.array(a)
        raise StoreError(f"pandas dtype {dtype} cannot be stored")

    def frame(self, df: pd.DataFrame) -> dict:
        cols = [self.values(df.iloc[:, i].array, df.dtypes.iloc[i]) for i in range(df.shape[1])]
        return {"t": "df", "columns": cols, "colindex": self.index(df.columns), "index": self.index(df.index),
                "attrs": self.node(dict(df.attrs)), "n": len(df)}

    # generic -----------------------------------------------------------------
    def node(self, o: Any) -> Any:
        if o is None or type(o) in (bool, str):
            return o
        if type(o) is int:
            return o if abs(o) < 2**53 else {"t": "bigint", "v": str(o)}
        if type(o) is float:
            return o if math.isfinite(o) else {"t": "float", "v": repr(o)}
        memo = self.memo.get(id(o))
        if memo is not None:
            return {"t": "ref", "id": memo}
        if isinstance(o, (np.ndarray, pd.DataFrame, pd.Series)) or type(o) in self.classes:
            ident = len(self.memo)
            self.memo[id(o)] = ident
            self.keep.append(o)
            node = self._compound(o)
            node["id"] = ident
            return node
        return self._compound(o)

    def _compound(self, o: Any) -> dict:
        t = type(o)
        if isinstance(o, np.ndarray):
            return self.objects(o) if o.dtype == object else self.array(o)
        if isinstance(o, np.generic):
            if o.dtype.kind not in _OK_KINDS and o.dtype.kind not in "US":
                raise StoreError(f"numpy scalar {o.dtype} cannot be stored")
            return {"t": "npscalar", "v": self.array(np.asarray(o))}
        if t in (list, tuple) and o:
            if len(o) > 64 and all(type(v) is str for v in o):  # long lists of text: one array, decoded in C
                values = np.empty(len(o), dtype=object)
                values[:] = o
                return {"t": "strlist", "kind": t.__name__, "data": self.objects(values)}
            if all(_plain(v) for v in o):
                return {"t": "plain", "kind": t.__name__, "v": list(o)}  # read back without a node per item
        if t in (list, tuple, set, frozenset):
            return {"t": t.__name__, "items": [self.node(v) for v in o]}
        if t is dict and o and all(type(k) is str for k in o):
            return {"t": "sdict", "v": {k: self.node(v) for k, v in o.items()}}
        if t is defaultdict:
            factory = _FACTORIES_BY_TYPE.get(o.default_factory, "?")
            if factory == "?":
                raise StoreError(f"defaultdict of {o.default_factory!r} cannot be stored")
            if _raw_dict(o):
                return {"t": "defaultdict", "factory": factory, "raw": o}
            return {"t": "defaultdict", "factory": factory,
                    "items": [[self.node(k), self.node(v)] for k, v in o.items()]}
        if t is dict and o and _raw_dict(o):  # str keys, scalar or list-of-scalar values: the JSON object as is
            return {"t": "rawdict", "v": o}
        if t in (dict, OrderedDict):
            return {"t": "dict" if t is dict else "odict",
                    "items": [[self.node(k), self.node(v)] for k, v in o.items()]}
        if t is dt.date:
            return {"t": "date", "v": o.isoformat()}
        if t is dt.datetime:
            return {"t": "datetime", "v": o.isoformat()}
        if t is dt.time:
            return {"t": "time", "v": o.isoformat()}
        if t is dt.timedelta:
            return {"t": "timedelta", "v": [o.days, o.seconds, o.microseconds]}
        if isinstance(o, pd.DataFrame):
            return self.frame(o)
        if isinstance(o, pd.Series):
            return {"t": "series", "values": self.values(o.array, o.dtype), "index": self.index(o.index),
                    "name": self.node(o.name)}
        if isinstance(o, pd.Index):
            return self.index(o)
        if o is pd.NA:
            return {"t": "NA"}
        if o is pd.NaT:
            return {"t": "NaT"}
        if isinstance(o, pd.Timestamp):
            return {"t": "timestamp", "v": o.isoformat()}
        mod = t.__module__
        if mod.startswith("shapely"):
            import shapely

            if t.__name__ == "STRtree":
                return {"t": "strtree", "geoms": self.node(np.asarray(o.geometries, dtype=object).tolist())}
            if isinstance(o, shapely.Geometry):
                return {"t": "geom", "wkb": shapely.to_wkb(o, hex=True, include_srid=True)}
        if mod.startswith("scipy.spatial") and t.__name__ == "cKDTree":
            # rebuilt from its points (the same tree: construction is deterministic), never from its nodes
            return {"t": "ckdtree", "data": self.array(np.asarray(o.data)), "leafsize": int(o.leafsize)}
        name = self.classes.get(t)
        if name is None:
            raise StoreError(f"{t.__module__}.{t.__qualname__} cannot be stored")
        if "__reduce__" in t.__dict__:  # rebuilt from its constructor's arguments (OpeningHours)
            fn, args = o.__reduce__()[:2]
            if fn is not t:
                raise StoreError(f"{name}.__reduce__ does not name its class")
            return {"t": "new", "cls": name, "args": self.node(tuple(args))}
        if "__getstate__" in t.__dict__:
            state = o.__getstate__()
        elif hasattr(o, "__dict__"):
            state = dict(vars(o))
        else:
            state = {s: getattr(o, s) for s in _slots(t) if hasattr(o, s)}
        if not isinstance(state, dict):
            raise StoreError(f"{name} state is not a dict")
        return {"t": "obj", "cls": name, "state": {k: self.node(v) for k, v in state.items()}}


def _plain(v: Any) -> bool:
    """A JSON scalar that reads back as itself (no NaN, no integer JSON readers would round)."""
    t = type(v)
    return v is None or t is str or t is bool or (t is int and abs(v) < 2**53) or (t is float and math.isfinite(v))


def _raw_dict(o: dict) -> bool:
    return all(type(k) is str and (_plain(v) or (type(v) is list and all(_plain(x) for x in v)))
               for k, v in o.items())


def _only_missing(values: np.ndarray) -> bool:
    return all(v is None or (type(v) is float and math.isnan(v)) for v in values)


def _slots(t: type) -> list[str]:
    out: list[str] = []
    for k in t.__mro__:
        s = k.__dict__.get("__slots__", ())
        out.extend([s] if isinstance(s, str) else s)
    return [s for s in out if s not in ("__dict__", "__weakref__")]


# ---------------------------------------------------------------------------------------- decoding

class _Reader:
    def __init__(self, buf, classes: dict[str, type]) -> None:
        self.buf = buf
        self.size = len(buf)
        self.classes = classes
        self.memo: dict[int, Any] = {}

    def array(self, node: dict) -> np.ndarray:
        dtype = np.dtype(str(node["dtype"]))
        if dtype.kind not in _OK_KINDS and dtype.kind not in "US" or dtype.hasobject or dtype.fields:
            raise StoreError(f"dtype {dtype} refused")
        shape = tuple(int(n) for n in node["shape"])
        count = math.prod(shape)
        offset = int(node["offset"])
        if offset < 0 or offset + count * dtype.itemsize > self.size:
            raise StoreError("array beyond the end of arrays.bin (truncated entry)")
        if count == 0:
            return np.zeros(shape, dtype)
        return np.frombuffer(self.buf, dtype=dtype, count=count, offset=offset).reshape(shape)

    def strings(self, node: dict) -> np.ndarray:
        uniques = self.array(node["uniques"]).astype(object)
        codes = self.array(node["codes"])
        if len(codes) and (codes.min() < 0 or codes.max() >= len(uniques)):
            raise StoreError("string codes out of range")
        out = uniques[codes] if len(codes) else np.empty(0, dtype=object)
        if "none" in node:
            out[self.array(node["none"])] = None
            out[self.array(node["nan"])] = np.nan
        return out.reshape(tuple(node["shape"]))

    def values(self, node: dict):
        t = node["t"]
        if t == "nd":
            return self.array(node)
        if t == "strs":
            return self.strings(node)
        if t == "objs":
            return self.objs(node)
        if t == "cat":
            cats = self.index(node["categories"])
            return pd.Categorical.from_codes(self.array(node["codes"]), categories=cats, ordered=bool(node["ordered"]))
        if t == "pdstr":
            dtype = pd.StringDtype(storage=str(node["storage"]), na_value=np.nan if node["na"] == "nan" else pd.NA)
            return pd.array(self.strings(node["values"]), dtype=dtype)
        if t == "tz":
            return pd.DatetimeIndex(self.array(node["values"])).tz_localize(str(node["tz"])).array
        raise StoreError(f"unknown values node {t!r}")

    def series(self, node: dict, index: pd.Index, name: Any = None) -> pd.Series:
        """A column: object arrays stay of dtype object (pandas would infer ``str`` from strings)."""
        values = self.values(node)
        dtype = object if node["t"] in ("strs", "objs") else None
        return pd.Series(values, index=index, name=name, dtype=dtype, copy=False)

    def objs(self, node: dict) -> np.ndarray:
        items = [self.node(v) for v in node["items"]]
        out = np.empty(len(items), dtype=object)
        out[:] = items if items else []
        return out.reshape(tuple(node["shape"]))

    def index(self, node: dict) -> pd.Index:
        if node["t"] == "range":
            return pd.RangeIndex(int(node["start"]), int(node["stop"]), int(node["step"]), name=self.node(node["name"]))
        if node["t"] != "index":
            raise StoreError("bad index node")
        values = node["values"]
        dtype = object if values["t"] in ("strs", "objs") else None
        return pd.Index(self.values(values), name=self.node(node["name"]), dtype=dtype, copy=False)

    def frame(self, node: dict) -> pd.DataFrame:
        index = self.index(node["index"])
        data = {i: self.series(c, index) for i, c in enumerate(node["columns"])}
        df = pd.DataFrame(data, index=index, copy=False) if data else pd.DataFrame(index=index)
        df.columns = self.index(node["colindex"])
        if len(df) != int(node["n"]):
            raise StoreError("frame length mismatch")
        attrs = self.node(node["attrs"])
        if attrs:
            df.attrs.update(attrs)
        return df

    def node(self, n: Any) -> Any:
        if n is None or isinstance(n, (bool, int, float, str)):
            return n
        if isinstance(n, list):
            raise StoreError("bare JSON list")
        t = n["t"]
        if t == "ref":
            return self.memo[int(n["id"])]
        if t == "obj":
            return self.obj(n)
        out = self._value(n)
        if "id" in n:
            self.memo[int(n["id"])] = out
        return out

    def obj(self, n: dict) -> Any:
        cls = self.classes.get(n["cls"])
        if cls is None:
            raise StoreError(f"class {n['cls']!r} is not allowed here")
        o = cls.__new__(cls)
        if "id" in n:
            self.memo[int(n["id"])] = o  # before the state: a child may refer back to its parent
        state = {str(k): self.node(v) for k, v in n["state"].items()}
        if "__setstate__" in cls.__dict__:
            o.__setstate__(state)
        elif hasattr(o, "__dict__"):
            o.__dict__.update(state)
        else:
            for k, v in state.items():
                object.__setattr__(o, k, v)
        return o

    def _value(self, n: dict) -> Any:
        t = n["t"]
        if t in ("nd", "strs", "objs"):
            return self.values(n)
        if t == "npscalar":
            return self.array(n["v"])[()]
        if t == "plain":
            return tuple(n["v"]) if n["kind"] == "tuple" else list(n["v"])
        if t == "strlist":
            out = self.strings(n["data"]).tolist()
            return tuple(out) if n["kind"] == "tuple" else out
        if t == "sdict":
            return {str(k): self.node(v) for k, v in n["v"].items()}
        if t == "list":
            return [self.node(v) for v in n["items"]]
        if t == "tuple":
            return tuple(self.node(v) for v in n["items"])
        if t == "set":
            return {self.node(v) for v in n["items"]}
        if t == "frozenset":
            return frozenset(self.node(v) for v in n["items"])
        if t == "dict":
            return {self.node(k): self.node(v) for k, v in n["items"]}
        if t == "rawdict":
            return _checked_raw(n["v"])
        if t == "defaultdict":
            out = defaultdict(_FACTORIES[str(n["factory"])])
            if "raw" in n:
                out.update(_checked_raw(n["raw"]))
            else:
                out.update((self.node(k), self.node(v)) for k, v in n["items"])
            return out
        if t == "odict":
            return OrderedDict((self.node(k), self.node(v)) for k, v in n["items"])
        if t == "bigint":
            return int(n["v"])
        if t == "float":
            return float(n["v"])
        if t == "date":
            return dt.date.fromisoformat(n["v"])
        if t == "datetime":
            return dt.datetime.fromisoformat(n["v"])
        if t == "time":
            return dt.time.fromisoformat(n["v"])
        if t == "timedelta":
            return dt.timedelta(*n["v"])
        if t == "df":
            return self.frame(n)
        if t == "series":
            return self.series(n["values"], self.index(n["index"]), self.node(n["name"]))
        if t in ("range", "index"):
            return self.index(n)
        if t == "NA":
            return pd.NA
        if t == "NaT":
            return pd.NaT
        if t == "timestamp":
            return pd.Timestamp(n["v"])
        if t == "geom":
            import shapely

            return shapely.from_wkb(str(n["wkb"]))
        if t == "strtree":
            import shapely

            return shapely.STRtree(self.node(n["geoms"]))
        if t == "ckdtree":
            from scipy.spatial import cKDTree

            return cKDTree(self.array(n["data"]), leafsize=int(n["leafsize"]))
        if t == "new":
            cls = self.classes.get(n["cls"])
            if cls is None:
                raise StoreError(f"class {n['cls']!r} is not allowed here")
            return cls(*self.node(n["args"]))
        raise StoreError(f"unknown node {t!r}")


def _checked_raw(d: Any) -> dict:
    if not isinstance(d, dict):  # (its values are whatever JSON holds: plain data, never an object)
        raise StoreError("bad raw dict")
    return d


# ---------------------------------------------------------------------------------------- entries

def _names(classes: Iterable[type]) -> dict[type, str]:
    return {c: f"{c.__module__}.{c.__qualname__}" for c in classes}


def entry_path(folder: Path | None, kind: str, key: str) -> Path | None:
    """Where the entry ``kind`` of ``key`` lives in ``folder`` (None: no cache folder)."""
    return None if folder is None else folder / f"{kind}-{key}{SUFFIX}"


def save(path: Path, obj: Any, *, kind: str, version: int, key: str, classes: Iterable[type]) -> None:
    """Write ``obj`` as the entry ``path`` (atomically).  StoreError for a type the format does not know,
    OSError when the folder cannot be written; the temporary folder is removed in both cases."""
    w = _Writer(_names(classes))
    root = w.node(obj)
    manifest = {"format": FORMAT, "format_version": FORMAT_VERSION, "kind": kind, "version": version, "key": key,
                "bytes": w.offset, "root": root}
    tmp = path.with_name(f"{path.name[: -len(SUFFIX)]}.tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        tmp.mkdir()
        with open(tmp / _ARRAYS, "wb") as fh:
            for chunk in w.chunks:
                fh.write(memoryview(chunk))
            fh.flush()
            os.fsync(fh.fileno())
        with open(tmp / _MANIFEST, "w", encoding="utf-8") as fh:
            json.dump(manifest, fh, separators=(",", ":"), allow_nan=False)
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.replace(tmp, path)
        except OSError:
            if not path.is_dir():
                raise
            # an entry is already there: a corrupt one we are replacing, or a concurrent writer's
            old = path.with_name(f"{path.name[: -len(SUFFIX)]}.tmp{os.getpid()}old")
            os.replace(path, old)
            os.replace(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def load(path: Path | None, *, kind: str, version: int, key: str, classes: Iterable[type]) -> Any | None:
    """The object of the entry at ``path``; None when absent, of another format, kind, version or key,
    truncated, or naming a class not in ``classes`` (the caller rebuilds it)."""
    if path is None or not path.is_dir():
        return None
    try:
        with open(path / _MANIFEST, "rb") as fh:
            manifest = json.loads(fh.read())
        if not (isinstance(manifest, dict) and manifest.get("format") == FORMAT
                and manifest.get("format_version") == FORMAT_VERSION and manifest.get("kind") == kind
                and manifest.get("version") == version and manifest.get("key") == key):
            return None
        size = int(manifest["bytes"])
        with open(path / _ARRAYS, "rb") as fh:
            if os.fstat(fh.fileno()).st_size != size:
                return None
            buf = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_COPY) if size else b""
        obj = _Reader(buf, {name: c for c, name in _names(classes).items()}).node(manifest["root"])
    except Exception:  # noqa: BLE001 - invalid JSON, missing file, bad node, refused class: rebuilt
        return None
    touch(path)
    return obj


def touch(path: Path) -> None:
    """Mark the entry used now (its manifest's time), for :func:`prune`."""
    try:
        os.utime(path / _MANIFEST)
    except OSError:
        pass


def _size(path: Path) -> int:
    if path.is_dir():
        return sum(p.stat().st_size for p in path.iterdir() if p.is_file())
    return path.stat().st_size


def _used(path: Path) -> float:
    p = path / _MANIFEST if path.is_dir() else path
    return p.stat().st_mtime


def _version_of(path: Path) -> tuple | None:
    try:
        with open(path / _MANIFEST, "rb") as fh:
            head = json.loads(fh.read())
        return head.get("format"), head.get("format_version"), head.get("kind"), head.get("version")
    except (OSError, ValueError, AttributeError):
        return None


def _remove(path: Path) -> None:
    if path.is_dir():
        # rename first: a reader never sees a half-deleted entry under its real name
        doomed = path.with_name(f"{path.name[: -len(SUFFIX)]}.tmp{os.getpid()}old")
        os.replace(path, doomed)
        shutil.rmtree(doomed, ignore_errors=True)
    else:
        path.unlink()


def max_bytes() -> int:
    env = os.environ.get("MOBILITY_CACHE_MAX_MB")
    try:
        return int(float(env) * 1024**2) if env else MAX_BYTES
    except ValueError:
        return MAX_BYTES


def prune(folder: Path | None, *, versions: dict[str, int], keep: Iterable[Path] = (),
          max_age_days: float = MAX_AGE_DAYS, limit: int | None = None) -> list[str]:
    """Remove from ``folder``: every ``.pickle`` entry (the format before this one), ``.store`` entries whose
    format or version differ from ``versions[kind]`` (kinds not in ``versions`` are left alone), entries
    unused for ``max_age_days``, then the least recently used while the entries total more than ``limit``
    bytes (default :func:`max_bytes`).  ``keep`` (the entries this process uses) are never removed; nor are
    files this module did not write.  Returns the names removed."""
    if folder is None:
        return []
    limit = max_bytes() if limit is None else limit
    keep_names = {Path(p).name for p in keep}
    now = time.time()
    removed: list[str] = []
    alive: list[tuple[float, int, Path]] = []
    try:
        children = list(folder.iterdir())
    except OSError:
        return []
    for p in children:
        m = _ENTRY.match(p.name)
        if not m or p.name in keep_names:
            if m:
                try:
                    alive.append((now, _size(p), p))
                except OSError:
                    pass
            continue
        kind, _, ext = m.groups()
        try:
            if ext == ".pickle":
                stale = p.is_file()
            else:
                if not p.is_dir():
                    continue
                ver = _version_of(p)
                stale = kind in versions and (ver is None or ver != (FORMAT, FORMAT_VERSION, kind, versions[kind]))
                if not stale and now - _used(p) > max_age_days * 86400:
                    stale = True
            if stale:
                _remove(p)
                removed.append(p.name)
            else:
                alive.append((_used(p), _size(p), p))
        except OSError:
            continue
    total = sum(s for _, s, _ in alive)
    for _, size, p in sorted(alive, key=lambda e: e[0]):
        if total <= limit:
            break
        if p.name in keep_names:
            continue
        try:
            _remove(p)
            removed.append(p.name)
            total -= size
        except OSError:
            continue
    return removed


# ---------------------------------------------------------------------------------------- cache entries

def read_entry(folder: Path | None, kind: str, key: str, *, version: int, classes: Iterable[type]) -> Any | None:
    """The cached ``kind`` object of ``key`` in ``folder``, or None (absent, stale, corrupt, foreign)."""
    return load(entry_path(folder, kind, key), kind=kind, version=version, key=key, classes=classes)


def write_entry(folder: Path | None, kind: str, key: str, obj: Any, *, version: int,
                classes: Iterable[type]) -> bool:
    """Store ``obj`` as the ``kind`` entry of ``key`` and prune the folder (:func:`prune`).  False, with one
    warning per process, when the folder cannot be written (the caller keeps working in memory) or the object
    holds a type this format does not know (a bug: logged, the command goes on)."""
    from mobility.config import _warn_once

    path = entry_path(folder, kind, key)
    if path is None:
        return False
    try:
        save(path, obj, kind=kind, version=version, key=key, classes=classes)
    except StoreError as exc:
        _warn_once(f"type:{kind}", f"the {kind} cannot be cached ({exc}); working in memory")
        return False
    except OSError as exc:
        _warn_once(f"write:{path.parent}", f"cannot write the cache in {path.parent} "
                   f"({exc.strerror or exc}); working in memory")
        return False
    prune(folder, versions={kind: version}, keep=[path])
    return True
