"""The loaded world of one deployment: planner, service catalogue, commune areas and geocoder, cached on disk.

:func:`load_context` is what the command line and the web app call once per process. The geocoder
index is stored next to the network (:mod:`mobility.network.store`), keyed by the content of every input, so
a restart is fast.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd
import shapely

from mobility.config import DEFAULT_COMMUNES_PATH, DEFAULT_SERVICES_PATH, cache_dir
from mobility.domain.opening_hours import OpeningHours
from mobility.errors import DataError
from mobility.loaders.services import ServiceCatalogue, ServiceSite, load_services
from mobility.network import store
from mobility.planning.geocode import Geocoder, _Docs, _NearestPoint
from mobility.planning.planner import Planner

#: bump when the stored geocoder layout changes
CONTEXT_CACHE_VERSION = 4
#: the classes a stored geocoder may hold
GEOCODER_CLASSES: tuple[type, ...] = (Geocoder, _Docs, _NearestPoint, ServiceCatalogue, ServiceSite, OpeningHours)


@dataclass(eq=False)
class Context:
    """Everything a request needs. ``communes`` is a DataFrame (insee, name, population, lat, lon,
    geometry as shapely polygons) or None when no commune areas were given."""

    planner: Planner
    catalogue: ServiceCatalogue
    geocoder: Geocoder
    communes: pd.DataFrame | None
    services_path: str | None
    communes_path: str | None
    #: residents as points (``id, lat, lon, population``; :func:`mobility.loaders.points.load_points`), spread
    #: over the analysis grid instead of the commune populations; None: the communes' populations
    population_points: pd.DataFrame | None = None
    population_path: str | None = None


def load_communes(path: str | os.PathLike) -> pd.DataFrame:
    """Commune areas from a GeoJSON FeatureCollection (properties insee, name/nom, population)."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        features = data["features"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise DataError(f"cannot read commune areas ({exc})", path=str(path)) from None
    rows = []
    for i, f in enumerate(features, 1):
        props = f.get("properties") or {}
        try:
            geom = shapely.geometry.shape(f["geometry"])
        except Exception as exc:  # shapely raises several types for bad geometry
            raise DataError(f"feature {i}: bad geometry ({exc})", path=str(path)) from None
        centre = geom.representative_point()
        rows.append({"insee": str(props.get("insee", "")), "name": str(props.get("name") or props.get("nom") or ""),
                     "population": int(props.get("population") or 0), "lat": centre.y, "lon": centre.x,
                     "geometry": geom})
    return pd.DataFrame(rows)


def points_area(points: pd.DataFrame, pad_m: float = 500.0, name: str = "") -> pd.DataFrame:
    """One area (a communes-like frame) around population points: their convex hull widened by ``pad_m``,
    so a grid over it holds every point (the territory outline when no commune areas are given)."""
    lat0 = float(points["lat"].mean())
    pad_deg = pad_m / 111_320.0 / max(0.2, float(np.cos(np.radians(lat0))))  # longitude degrees, the wider
    hull = shapely.convex_hull(shapely.multipoints(np.column_stack([points["lon"], points["lat"]])))
    geom = shapely.buffer(hull, pad_deg)
    centre = geom.representative_point()
    return pd.DataFrame([{"insee": "", "name": name or "area", "population": int(round(points["population"].sum())),
                          "lat": centre.y, "lon": centre.x, "geometry": geom}])


def load_population(path: str | os.PathLike) -> pd.DataFrame:
    """Population points from a CSV (``id, lat, lon, population, ...``); DataError without ``population``."""
    from mobility.loaders.points import load_points, weight_column

    points = load_points(path)
    points["population"] = weight_column(points, "population", str(path))
    return points


def street_index(streets: pd.DataFrame, communes: pd.DataFrame | None) -> pd.DataFrame:
    """One representative point per (street name, commune): the edge midpoint nearest the group's median."""
    if streets.empty:
        return pd.DataFrame(columns=["name", "city", "lat", "lon"])
    df = streets.copy()
    df["city"] = ""
    if communes is not None and len(communes):
        tree = shapely.STRtree(list(communes["geometry"]))
        pts = shapely.points(df["lon"].to_numpy(), df["lat"].to_numpy())
        src, dst = tree.query(pts, predicate="within")
        city = np.full(len(df), "", dtype=object)
        city[src] = communes["name"].to_numpy()[dst]
        df["city"] = city
    med = df.groupby(["name", "city"])[["lat", "lon"]].transform("median")
    df["d2"] = (df["lat"] - med["lat"]) ** 2 + (df["lon"] - med["lon"]) ** 2
    best = df.sort_values("d2").drop_duplicates(["name", "city"])
    return best[["name", "city", "lat", "lon"]].sort_values(["city", "name"]).reset_index(drop=True)


def _centre_on_addresses(communes: pd.DataFrame, addresses: pd.DataFrame) -> pd.DataFrame:
    """Move each commune's point to the median of its address points (the village centre, on a street)
    rather than the middle of its area, which can lie in fields or a marsh."""
    if addresses is None or addresses.empty or "city" not in addresses:
        return communes
    med = addresses.groupby("city")[["lat", "lon"]].median()
    out = communes.copy()
    names = out["name"]
    known = names.isin(med.index).to_numpy()
    for col in ("lat", "lon"):  # whole columns at once: a cell at a time took 0.1 s of every start
        values = out[col].to_numpy(dtype=float, copy=True)
        values[known] = med[col].reindex(names[known]).to_numpy(dtype=float)
        out[col] = values
    return out


def _file_hash(path: Path | None) -> str:
    if path is None or not path.exists():
        return "none"
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def load_context(gtfs_paths: Sequence[str | os.PathLike] | None = None, osm_path: str | os.PathLike | None = None,
                 services_path: str | os.PathLike | None = None, communes_path: str | os.PathLike | None = None,
                 *, use_cache: bool = True, population_path: str | os.PathLike | None = None) -> Context:
    """The context of these inputs. With no argument: the embedded Audomarois data set. Service sites and
    commune areas default to the embedded ones only when the GTFS and OSM are the embedded ones too.

    ``population_path``: residents for the analytics, commune areas (``.geojson``/``.json``, like
    ``communes_path``, which it replaces) or points (CSV ``id, lat, lon, population``); with points and no
    commune areas, the territory is the points' area (:func:`points_area`)."""
    default_data = not gtfs_paths and not osm_path
    points = None
    if population_path is not None:
        if Path(population_path).suffix.lower() in (".geojson", ".json"):
            communes_path = population_path
        else:
            points = load_population(population_path)
    planner = Planner.load(gtfs_paths, osm_path)
    svc = Path(services_path) if services_path else (DEFAULT_SERVICES_PATH if default_data else None)
    com = Path(communes_path) if communes_path else (DEFAULT_COMMUNES_PATH if default_data else None)
    catalogue = load_services(svc) if svc is not None else ServiceCatalogue([])
    communes = load_communes(com) if com is not None else None
    key = hashlib.sha256(f"ctx{CONTEXT_CACHE_VERSION}:{planner.network.inputs_key}:{_file_hash(svc)}:"
                         f"{_file_hash(com)}"
                         f"{'' if points is None else ':' + _file_hash(Path(population_path))}".encode()).hexdigest()[:32]
    folder = cache_dir() if use_cache else None
    geocoder = store.read_entry(folder, "geocoder", key, version=CONTEXT_CACHE_VERSION,
                                classes=GEOCODER_CLASSES)
    if not isinstance(geocoder, Geocoder):  # absent, stale, truncated or of another type: rebuilt below
        geocoder = None
    if communes is not None:
        communes = _centre_on_addresses(communes, planner.network.addresses)
    elif points is not None:
        communes = points_area(points, name=Path(population_path).stem)
    if geocoder is None:
        net = planner.network
        stops = net.stops.rename(columns={"stop_key": "stop_id"})[["stop_id", "stop_name", "lat", "lon"]]
        geocoder = Geocoder.build(addresses=net.addresses, streets=street_index(net.streets, communes),
                                  communes=communes, stops=stops, services=catalogue if catalogue.sites else None)
        store.write_entry(folder, "geocoder", key, geocoder, version=CONTEXT_CACHE_VERSION,
                          classes=GEOCODER_CLASSES)
    return Context(planner, catalogue, geocoder, communes, str(svc) if svc else None, str(com) if com else None,
                   points, str(population_path) if points is not None else None)
