"""Points (or hexagon centres) with numeric attributes: a CSV ``id, lat, lon, population, jobs, ...``.

The shape of the Porto Alegre and São Paulo grids of ``../shared/realdata`` (``poa_hexgrid.csv``:
``id,lon,lat,population,schools,jobs,healthcare``): one row per point, its centre in WGS84 degrees, and any
number of numeric columns (residents, opportunities).  Column order is free; ``id`` is optional (the row
number then); a column whose values are not all numbers is kept as text and cannot be used as a weight.
Errors name the file, the line and the field.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from mobility.errors import DataError
from mobility.loaders.csvfile import check_bounds, decode, parse_csv


def load_points(path: str | os.PathLike) -> pd.DataFrame:
    """The points of a CSV: columns ``id`` (str), ``lat``, ``lon`` (float) and the file's other columns
    (numeric ones as float).  Raises :class:`DataError` naming file/line/field for a bad value."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DataError(f"cannot read points ({exc.strerror})", path=str(path)) from None
    warnings: list[str] = []
    check_bounds(data, str(path))  # the feeds' bounds: line length, header width
    table = parse_csv(decode(data, path.name, warnings), str(path), warnings)
    df = table.df
    df.columns = [str(c).strip().lower() for c in df.columns]
    for col in ("lat", "lon"):
        if col not in df.columns:
            raise DataError(f"missing column {col!r} (expected id, lat, lon, population, ...)", path=str(path))
    if df.empty:
        raise DataError("no points (the file has a header only)", path=str(path))
    out = pd.DataFrame({"id": df["id"].str.strip() if "id" in df.columns else [str(i) for i in range(len(df))]})
    for col, lo, hi in (("lat", -90.0, 90.0), ("lon", -180.0, 180.0)):
        vals = pd.to_numeric(df[col].str.strip(), errors="coerce").to_numpy(float)
        bad = np.nonzero(~np.isfinite(vals) | (vals < lo) | (vals > hi))[0]
        if len(bad):
            r = int(bad[0])
            raise table.error(r, col, f"{df[col].iloc[r]!r} is not a {'latitude' if col == 'lat' else 'longitude'}"
                                      f" in degrees ({lo:g}..{hi:g})")
        out[col] = vals
    for col in df.columns:
        if col in ("id", "lat", "lon"):
            continue
        raw = df[col].str.strip()
        vals = pd.to_numeric(raw, errors="coerce")
        numeric = vals.notna() | (raw == "")
        if numeric.all() and vals.notna().any():
            out[col] = vals.fillna(0.0).to_numpy(float)
        else:
            out[col] = raw.to_numpy()
    if out["id"].duplicated().any():
        r = int(np.nonzero(out["id"].duplicated().to_numpy())[0][0])
        raise table.error(r, "id", f"duplicate id {out['id'].iloc[r]!r}")
    return out


def weight_column(points: pd.DataFrame, name: str, path: str = "") -> np.ndarray:
    """A numeric, non-negative column of ``points`` as floats (DataError naming the columns otherwise)."""
    col = name.strip().lower()
    numeric = [c for c in points.columns if c not in ("id", "lat", "lon") and points[c].dtype.kind == "f"]
    if col not in numeric:
        raise DataError(f"no numeric column {name!r} (numeric columns: {', '.join(numeric) or 'none'})",
                        path=path or None)
    vals = points[col].to_numpy(float)
    if (vals < 0).any():
        r = int(np.nonzero(vals < 0)[0][0])
        raise DataError(f"negative value {vals[r]:g} (row of id {points['id'].iloc[r]!r})", path=path or None,
                        field=col)
    return vals
