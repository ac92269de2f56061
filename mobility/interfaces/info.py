"""``mobility info``: a summary of the loaded data (communes, streets, stops, routes, trips, dates, TAD, sites)."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from mobility.config import DEFAULT_COMMUNES_PATH, DEFAULT_SERVICES_PATH
from mobility.errors import DataError
from mobility.network.build import Network, load_network

#: validation warnings printed one per line by the readable summary (all of them are in --json)
MAX_SHOWN = 30


def summarise(net: Network, services_path: Path | None, communes_path: Path | None) -> dict:
    """Figures describing a built network (and the optional commune and service tables)."""
    out: dict = {}
    if communes_path is not None and communes_path.exists():
        try:
            communes = json.loads(communes_path.read_text(encoding="utf-8"))["features"]
        except (ValueError, KeyError) as exc:
            raise DataError(f"not a GeoJSON FeatureCollection ({exc})", path=str(communes_path)) from None
        out["communes"] = len(communes)
        out["population"] = int(sum(int(f["properties"].get("population") or 0) for f in communes))
    out["walk_network"] = {"nodes": net.walk.n_nodes, "edges": net.walk.n_edges,
                           "length_km": round(float(net.walk.length_m.sum()) / 2000.0, 1)}
    if net.drive is not None:
        out["drive_network"] = {"nodes": net.drive.n_nodes, "edges": net.drive.n_edges}
    feeds = []
    for feed in net.feeds:
        rng = feed.service_range()
        feeds.append({
            "feed_id": feed.feed_id, "source": feed.source,
            "agencies": sorted(feed.agency["agency_name"].astype(str).unique().tolist()),
            "timezone": feed.timezone,
            "stops": int((feed.stops["location_type"].fillna(0).astype(int) == 0).sum()),
            "routes": len(feed.routes), "trips": len(feed.trips), "stop_times": len(feed.stop_times),
            "service_range": [rng[0].isoformat(), rng[1].isoformat()] if rng else None,
            "tad_zones": len(feed.locations),
            "flex_stop_times": len(feed.flex_stop_times),
            "booking_rules": len(feed.booking_rules),
            "warnings": len(feed.warnings),
        })
    out["feeds"] = feeds
    out["problems"] = [p.to_dict() for p in getattr(net, "problems", [])]
    linked = int((net.stops["snap_edge"] >= 0).sum())
    out["stops_linked_to_streets"] = f"{linked}/{len(net.stops)}"
    out["footpaths"] = len(net.footpaths)
    if services_path is not None and services_path.exists():
        from mobility.loaders.services import load_services

        catalogue = load_services(services_path)
        out["service_sites"] = len(catalogue.sites)
    return out


def format_summary(info: dict) -> str:
    """Readable lines for a person."""
    lines = []
    if "communes" in info:
        lines.append(f"Communes            {info['communes']} ({info['population']:,} inhabitants)".replace(",", " "))
    w = info["walk_network"]
    lines.append(f"Walk network        {w['nodes']} nodes, {w['edges']} directed edges, {w['length_km']} km of ways")
    if "drive_network" in info:
        d = info["drive_network"]
        lines.append(f"Drive network       {d['nodes']} nodes, {d['edges']} directed edges")
    for f in info["feeds"]:
        rng = " to ".join(f["service_range"]) if f["service_range"] else "no active date"
        lines.append(f"GTFS feed {f['feed_id']!r}: {', '.join(f['agencies'])} ({f['timezone']})")
        lines.append(f"  stops {f['stops']}, routes {f['routes']}, trips {f['trips']}, stop times {f['stop_times']}")
        lines.append(f"  service dates {rng}")
        lines.append(f"  on-demand (TAD) zones {f['tad_zones']}, flex stop times {f['flex_stop_times']}, "
                     f"booking rules {f['booking_rules']}")
        if f["warnings"]:
            lines.append(f"  {f['warnings']} loader warning(s)")
    lines.append(f"Stops linked to streets {info['stops_linked_to_streets']}, walking transfers {info['footpaths']}")
    if "service_sites" in info:
        lines.append(f"Public-service sites {info['service_sites']}")
    problems = info.get("problems") or []
    if problems:
        lines.append(f"Validation: {len(problems)} warning(s) (errors would have stopped the load)")
        for p in problems[:MAX_SHOWN]:
            where = p["file"] + (f":{p['line']}" if p["line"] is not None else "")
            fld = f" [{p['field']}]" if p["field"] else ""
            lines.append(f"  WARNING {where}{fld}: {p['message']}" if where else f"  WARNING {p['message']}")
        if len(problems) > MAX_SHOWN:
            lines.append(f"  ... and {len(problems) - MAX_SHOWN} more (mobility info --json lists them all)")
    else:
        lines.append("Validation: no warning")
    return "\n".join(lines)


def run_info(args: argparse.Namespace) -> int:
    """Entry point of ``mobility info``."""
    t0 = time.perf_counter()
    net = load_network(args.gtfs, args.osm)
    default_data = not args.gtfs and not args.osm
    info = summarise(net, DEFAULT_SERVICES_PATH if default_data else None,
                     DEFAULT_COMMUNES_PATH if default_data else None)
    info["load_seconds"] = round(time.perf_counter() - t0, 2)
    if getattr(args, "json", False):
        print(json.dumps(info, ensure_ascii=False, indent=2))
    else:
        print(format_summary(info))
        print(f"(loaded in {info['load_seconds']} s)")
    return 0
