"""Isochrone polygons from a travel-time surface: GeoJSON / GeoPackage, and the API the web page calls.

The polygon of threshold ``t`` is the union of the grid cells whose statistic (default: the median over
the departures of the window) is ``<= t`` minutes.  Cells are exact lon/lat rectangles sharing corner
coordinates (see :mod:`mobility.analysis.grid`), and each polygon is built as the union of the previous
one and the cells of the new band, so the polygons are valid and nested (15 ⊂ 30 ⊂ 45 ⊂ 60); each is then
cut along the territory outline (``Grid.outline``), which keeps them nested.
Properties: ``time_min`` (the threshold), ``band`` ("15-30"), ``area_km2``, ``population`` (inhabitants
of the cells inside), ``statistic``.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import shapely

from mobility.analysis.tad import modes_label
from mobility.analysis.surface import DEFAULT_CELL_M, Surface, compute_surface, stat_label

DEFAULT_THRESHOLDS_MIN = (15, 30, 45, 60)


def isochrone_polygons(surface: Surface, thresholds_min=DEFAULT_THRESHOLDS_MIN, stat: str = "p50") -> list[dict]:
    """[{time_min, band, geometry (shapely, lon/lat), area_km2, population}] in increasing time."""
    values = surface.stat_min(stat)
    g = surface.grid
    out = []
    prev_geom = shapely.Polygon()
    prev_t = 0
    ths = sorted(int(t) for t in thresholds_min)
    for t in ths:
        band = np.nonzero((values > prev_t if prev_t else values >= 0) & (values <= t))[0]
        parts = [prev_geom] + list(g.boxes(band))
        geom = shapely.union_all(parts)
        if not geom.is_valid:
            geom = shapely.make_valid(geom)
        clipped = geom.intersection(g.outline) if g.outline is not None else geom
        inside = np.nonzero(values <= t)[0]
        out.append({"time_min": t, "band": f"{prev_t}-{t}", "geometry": clipped,
                    "area_km2": round(len(inside) * (g.cell_m / 1000.0) ** 2, 3),
                    "population": round(float(g.population[inside].sum()), 1)})
        prev_geom, prev_t = geom, t
    return out


def feature_collection(surface: Surface, thresholds_min=DEFAULT_THRESHOLDS_MIN, stat: str = "p50",
                       lang: str = "en") -> dict:
    """GeoJSON FeatureCollection (largest polygon first, so smaller ones draw on top); labels in ``lang``."""
    polys = isochrone_polygons(surface, thresholds_min, stat)
    w0, w1 = (t.strftime("%H:%M") for t in surface.window)
    meta = {"target": surface.target.label, "direction": surface.direction, "date": surface.date.isoformat(),
            "window": f"{w0}-{w1}", "step_min": surface.step_min, "statistic": stat,
            "statistic_label": stat_label(stat, lang), "modes": surface.modes,
            "modes_label": modes_label(surface.modes, lang),
            "cell_m": surface.grid.cell_m, "scenario": surface.scenario}
    feats = []
    for p in reversed(polys):
        props = {k: v for k, v in p.items() if k != "geometry"}
        props.update({"statistic": stat})
        feats.append({"type": "Feature", "properties": props, "geometry": shapely.geometry.mapping(p["geometry"])})
    return {"type": "FeatureCollection", "features": feats, "properties": meta}


def write_isochrones(surface: Surface, path: str | Path, thresholds_min=DEFAULT_THRESHOLDS_MIN,
                     stat: str = "p50", lang: str = "en") -> Path:
    """Write ``.geojson``/``.json`` (plain JSON) or ``.gpkg`` (geopandas, layer "isochrones", EPSG:4326)."""
    path = Path(path)
    if path.suffix.lower() == ".gpkg":
        import geopandas as gpd

        polys = isochrone_polygons(surface, thresholds_min, stat)
        w0, w1 = (t.strftime("%H:%M") for t in surface.window)
        gdf = gpd.GeoDataFrame(
            {"time_min": [p["time_min"] for p in polys], "band": [p["band"] for p in polys],
             "area_km2": [p["area_km2"] for p in polys], "population": [p["population"] for p in polys],
             "statistic": stat, "target": surface.target.label, "direction": surface.direction,
             "date": surface.date.isoformat(), "window": f"{w0}-{w1}", "modes": surface.modes},
            geometry=[p["geometry"] for p in polys], crs="EPSG:4326")
        gdf.to_file(path, layer="isochrones", driver="GPKG")
    else:
        path.write_text(json.dumps(feature_collection(surface, thresholds_min, stat, lang)), encoding="utf-8")
    return path


def isochrones_geojson(ctx, target: str, date: dt.date, window: tuple[dt.time, dt.time], step_min: int = 5,
                       thresholds_min=DEFAULT_THRESHOLDS_MIN, percentile: int = 50, *, direction: str = "to",
                       cell_m: float = DEFAULT_CELL_M, modes: str = "transit+tad") -> dict:
    """Isochrones to (default) or from a site id, a category or 'LAT,LON', as a GeoJSON FeatureCollection.

    ``percentile``: which statistic over the departures of the window (50 = median; 0 = minimum)."""
    surface = compute_surface(ctx, target, date, window, step_min=step_min, direction=direction, cell_m=cell_m,
                              percentiles=(percentile,) if percentile else (50,), modes=modes)
    stat = f"p{int(percentile)}" if percentile else "min"
    return feature_collection(surface, thresholds_min, stat)
