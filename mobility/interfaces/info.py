"""``mobility info``: a summary of the loaded data (communes, streets, stops, routes, trips, dates, TAD, sites)."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from mobility.config import DEFAULT_COMMUNES_PATH, DEFAULT_SERVICES_PATH
from mobility.errors import DataError
from mobility.i18n import message, number
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


def format_summary(info: dict, lang: str = "en") -> str:
    """Readable lines for a person, in ``lang`` (the validation warnings are the loaders' English sentences)."""
    def t(key: str, **kw) -> str:
        return message(key, lang, **kw)

    lines = []
    if "communes" in info:
        lines.append(t("info_communes", n=info["communes"], population=number(info["population"], lang)))
    w = info["walk_network"]
    lines.append(t("info_walk", nodes=w["nodes"], edges=w["edges"], km=number(w["length_km"], lang, 1)))
    if "drive_network" in info:
        d = info["drive_network"]
        lines.append(t("info_drive", nodes=d["nodes"], edges=d["edges"]))
    for f in info["feeds"]:
        rng = (t("info_date_range", first=f["service_range"][0], last=f["service_range"][1])
               if f["service_range"] else t("info_no_active_date"))
        lines.append(t("info_feed", id=repr(f["feed_id"]), agencies=", ".join(f["agencies"]), tz=f["timezone"]))
        lines.append(t("info_feed_counts", stops=f["stops"], routes=f["routes"], trips=f["trips"],
                       stop_times=f["stop_times"]))
        lines.append(t("info_service_dates", range=rng))
        lines.append(t("info_flex", zones=f["tad_zones"], flex=f["flex_stop_times"], rules=f["booking_rules"]))
        if f["warnings"]:
            lines.append(t("info_loader_warnings", n=f["warnings"]))
    lines.append(t("info_links", linked=info["stops_linked_to_streets"], footpaths=info["footpaths"]))
    if "service_sites" in info:
        lines.append(t("info_sites", n=info["service_sites"]))
    problems = info.get("problems") or []
    if problems:
        lines.append(t("info_validation", n=len(problems)))
        for p in problems[:MAX_SHOWN]:
            where = p["file"] + (f":{p['line']}" if p["line"] is not None else "")
            fld = f" [{p['field']}]" if p["field"] else ""
            lines.append(f"  WARNING {where}{fld}: {p['message']}" if where else f"  WARNING {p['message']}")
        if len(problems) > MAX_SHOWN:
            lines.append(t("info_more", n=len(problems) - MAX_SHOWN))
    else:
        lines.append(t("info_no_warning"))
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
        lang = getattr(args, "lang", None) or "en"
        print(format_summary(info, lang))
        print(message("info_loaded_in", lang, s=number(info["load_seconds"], lang, 2)))
    return 0
