"""Vector layers of the territory as GeoJSON, built from our own data so the map works with no internet.

Layers: ``communes`` (areas, population), ``roads`` (named ways of the walk network, merged by name),
``stops``, ``lines`` (one line string per route: its longest trip), ``tad_zones`` (on-demand areas),
``services`` (public-service sites). Each is built once per context and kept serialised in memory.
"""

from __future__ import annotations

import json
from typing import Any, Callable

import numpy as np
import shapely
from shapely.geometry import mapping

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
    for row in ctx.communes.itertuples(index=False):
        geom = shapely.simplify(row.geometry, 0.0003, preserve_topology=True)
        feats.append(_feature(mapping(geom), {"insee": row.insee, "name": row.name,
                                              "population": int(row.population)}))
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
    feats = []
    for feed in ctx.planner.network.feeds:
        st, trips, routes = feed.stop_times, feed.trips, feed.routes
        if st is None or not len(st):
            continue
        stops_df = feed.stops.set_index("stop_id")
        counts = st.groupby("trip_id").size()
        trip_route = trips.set_index("trip_id")["route_id"]
        best = counts.groupby(trip_route.reindex(counts.index).to_numpy()).idxmax()
        for r in routes.itertuples(index=False):
            trip = best.get(r.route_id)
            if trip is None:
                continue
            seq = st[st["trip_id"] == trip].sort_values("stop_sequence")["stop_id"]
            pts = stops_df.reindex(seq)[["stop_lon", "stop_lat"]].dropna().to_numpy().tolist()
            if len(pts) < 2:
                continue
            color = str(getattr(r, "route_color", "") or "")
            feats.append(_feature({"type": "LineString", "coordinates": pts},
                                  {"id": str(r.route_id), "short_name": str(r.route_short_name or ""),
                                   "long_name": str(r.route_long_name or ""),
                                   "color": f"#{color}" if len(color) == 6 else "#555555"}))
    return _fc(feats)


def tad_zones(ctx) -> dict:
    feats = []
    for feed in ctx.planner.network.feeds:
        for zid, loc in (feed.locations or {}).items():
            geom = loc.get("geometry") if isinstance(loc, dict) else None
            if geom is None:
                continue
            if not isinstance(geom, dict):
                geom = mapping(shapely.simplify(geom, 0.0003, preserve_topology=True))
            props = loc.get("properties") or {}
            feats.append(_feature(geom, {"id": str(zid), "description": str(props.get("stop_desc", ""))[:300]}))
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
