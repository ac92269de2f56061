"""Vector layers of the territory as GeoJSON, built from our own data so the map works with no internet.

Layers: ``communes`` (areas, population, ``main_town`` and a ``label`` point [lon, lat] on the town),
``roads`` (named ways of the walk network, merged by name),
``stops``, ``lines`` (one line string per route: its longest trip), ``tad_zones`` (on-demand areas, with
their names and a ``label`` point), ``services`` (public-service sites).  Lines and zones come from
:mod:`mobility.analysis.territory`, like the PNG maps'.  Each is built once per context and kept serialised
in memory.
"""

from __future__ import annotations

import json
from typing import Any, Callable

import numpy as np
import shapely
from shapely.geometry import mapping

from mobility.analysis.territory import main_towns, route_paths
from mobility.analysis.territory import tad_zones as zone_layers

LAYERS = ("communes", "roads", "stops", "lines", "tad_zones", "services")
_DIGITS = 5


def _round(obj: Any) -> Any:
    if isinstance(obj, float):
        return round(obj, _DIGITS)
    if isinstance(obj, (list, tuple)):
        return [_round(x) for x in obj]
    if isinstance(obj, dict):
        return {k: _round(v) for k, v in obj.items()}
    return obj


def _fc(features: list[dict]) -> dict:
    return {"type": "FeatureCollection", "features": features}


def _feature(geom: dict, props: dict) -> dict:
    return {"type": "Feature", "geometry": _round(geom), "properties": props}


def communes(ctx) -> dict:
    if ctx.communes is None:
        return _fc([])
    feats = []
    main = main_towns(ctx.communes).to_numpy()
    for k, row in enumerate(ctx.communes.itertuples(index=False)):
        geom = shapely.simplify(row.geometry, 0.0003, preserve_topology=True)
        feats.append(_feature(mapping(geom), {"insee": row.insee, "name": row.name,
                                              "population": int(row.population), "main_town": bool(main[k]),
                                              "label": _round([float(row.lon), float(row.lat)])}))
    return _fc(feats)


def roads(ctx) -> dict:
    walk = ctx.planner.network.walk
    u, v = np.asarray(walk.edge_u), np.asarray(walk.edge_v)
    names = np.asarray(walk.name_table)[np.asarray(walk.edge_name_idx)]
    lo, hi = np.minimum(u, v), np.maximum(u, v)
    keep = names != ""
    seen: set[tuple[int, int]] = set()
    by_name: dict[str, list] = {}
    lat, lon = np.asarray(walk.node_lat), np.asarray(walk.node_lon)
    for i in np.nonzero(keep)[0]:
        k = (int(lo[i]), int(hi[i]))
        if k in seen:
            continue
        seen.add(k)
        by_name.setdefault(str(names[i]), []).append(
            shapely.LineString([(lon[u[i]], lat[u[i]]), (lon[v[i]], lat[v[i]])]))
    feats = []
    for name, parts in sorted(by_name.items()):
        merged = shapely.line_merge(shapely.MultiLineString(parts))
        merged = shapely.simplify(merged, 0.00005)
        feats.append(_feature(mapping(merged), {"name": name}))
    return _fc(feats)


def stops(ctx) -> dict:
    s = ctx.planner.network.stops
    feats = [_feature({"type": "Point", "coordinates": [float(r.lon), float(r.lat)]},
                      {"id": str(r.stop_key), "name": str(r.stop_name)})
             for r in s.itertuples(index=False)]
    return _fc(feats)


def lines(ctx) -> dict:
    feats = [_feature({"type": "LineString", "coordinates": [list(p) for p in r.coords]},
                      {"id": r.route_id, "short_name": r.short_name, "long_name": r.long_name, "color": r.colour})
             for r in route_paths(ctx.planner.network)]
    return _fc(feats)


def tad_zones(ctx) -> dict:
    feats = []
    for z in zone_layers(ctx.planner.network):
        geom = mapping(shapely.simplify(z.geometry, 0.0003, preserve_topology=True))
        p = z.geometry.representative_point()
        feats.append(_feature(geom, {"id": z.zone_id, "name": z.name, "description": z.description[:300],
                                     "label": _round([p.x, p.y])}))
    return _fc(feats)


def services(ctx) -> dict:
    feats = [_feature({"type": "Point", "coordinates": [s.lon, s.lat]},
                      {"id": s.id, "name": s.name, "categories": list(s.categories), "commune": s.commune,
                       "address": s.address})
             for s in ctx.catalogue.sites]
    return _fc(feats)


BUILDERS: dict[str, Callable[[Any], dict]] = {"communes": communes, "roads": roads, "stops": stops,
                                              "lines": lines, "tad_zones": tad_zones, "services": services}


def layer_bytes(holder, name: str) -> bytes:
    """The serialised layer ``name`` of the holder's context, built once."""
    key = f"layer:{name}"
    data = holder.extras.get(key)
    if data is None:
        ctx = holder.get()
        data = json.dumps(BUILDERS[name](ctx), ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        with holder.extras_lock:
            holder.extras[key] = data
    return data
