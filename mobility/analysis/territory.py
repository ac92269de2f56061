"""Map layers of the territory as plain data (lon/lat): the routes with their numbers and the TAD zones with
their names, read from the loaded feeds; main-town selection for commune labels.

Shared by the PNG maps (:mod:`mobility.analysis.maps`) and the web layers
(:mod:`mobility.interfaces.web.layers`), so both draw the same lines and zones.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

#: communes whose name is printed on the standard maps: at least this many residents (INSEE)
MAIN_TOWN_MIN_POPULATION = 2000


@dataclass(frozen=True)
class RoutePath:
    """One route drawn as the stop sequence of its longest trip."""

    route_id: str
    short_name: str
    long_name: str
    colour: str  # "#rrggbb"
    coords: list  # [(lon, lat)] in stop order


@dataclass(frozen=True)
class TadZone:
    """An on-demand (GTFS-Flex) zone: location id, name, description and shapely geometry (lon/lat)."""

    zone_id: str
    name: str
    description: str
    geometry: object


def route_paths(network) -> list[RoutePath]:
    """Every route with timed stops, as the stop sequence of its longest trip (routes without one, such as
    the zone-only TAD routes, are left out)."""
    out = []
    for feed in network.feeds:
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
            colour = str(getattr(r, "route_color", "") or "")
            out.append(RoutePath(str(r.route_id), str(r.route_short_name or ""), str(r.route_long_name or ""),
                                 f"#{colour}" if len(colour) == 6 else "#555555", [tuple(p) for p in pts]))
    return out


def tad_zones(network) -> list[TadZone]:
    """The polygon locations of the loaded feeds (GTFS-Flex ``locations.geojson``)."""
    out = []
    for feed in network.feeds:
        for zid, loc in (feed.locations or {}).items():
            geom = loc.get("geometry") if isinstance(loc, dict) else None
            if geom is None or isinstance(geom, dict) or geom.geom_type not in ("Polygon", "MultiPolygon"):
                continue
            props = loc.get("properties") or {}
            out.append(TadZone(str(zid), str(props.get("stop_name") or zid), str(props.get("stop_desc", "")), geom))
    return out


def main_towns(communes: pd.DataFrame, min_population: int = MAIN_TOWN_MIN_POPULATION) -> pd.Series:
    """Boolean mask of the communes labelled on standard maps (population >= ``min_population``)."""
    return communes["population"].astype(int) >= min_population
