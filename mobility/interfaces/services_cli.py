"""``mobility services`` (the service catalogue) and ``mobility geocode`` (offline address search)."""

from __future__ import annotations

import argparse
import json

from mobility.i18n import message


def register(sub) -> None:
    p = sub.add_parser("services", help="list the public-service sites (optionally of one category)")
    p.add_argument("--category", help="a category key or words ('caf', 'mairie', 'town hall', 'France services')")
    p.add_argument("--services", metavar="PATH", help="service sites CSV/GeoJSON (default: the embedded sites)")
    p.add_argument("--lang", choices=["fr", "en"], default=None,
                   help="default: the locale's, French when it is neither")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=run_services)

    g = sub.add_parser("geocode", help="find an address, street, commune, stop or service (offline)")
    g.add_argument("text", help="what to look for, e.g. \"12 r de l'eglise therouanne\" or LAT,LON for the nearest address")
    g.add_argument("--limit", type=int, default=5)
    g.add_argument("--gtfs", action="append", metavar="PATH")
    g.add_argument("--osm", metavar="PATH")
    g.add_argument("--json", action="store_true", help="print JSON")
    g.set_defaults(handler=run_geocode)


def run_services(args: argparse.Namespace) -> int:
    from mobility.config import DEFAULT_SERVICES_PATH
    from mobility.loaders.services import load_services
    from mobility.domain.categories import category_label, resolve_category
    from mobility.planning.services import site_json

    catalogue = load_services(args.services or DEFAULT_SERVICES_PATH)
    sites = catalogue.by_category(resolve_category(args.category)) if args.category else catalogue.sites
    if args.json:
        print(json.dumps([site_json(s, args.lang) for s in sites], ensure_ascii=False, indent=1))
        return 0
    for s in sites:
        cats = ", ".join(category_label(c, args.lang) for c in s.categories)
        print(f"{s.id:10s} {s.name}")
        print(f"           {cats} — {s.address or s.commune}")
        if s.opening_hours is not None:
            print(f"           {s.opening_hours.describe(args.lang)}")
    print(message("cli_sites_count", args.lang, n=len(sites)))
    return 0


def run_geocode(args: argparse.Namespace) -> int:
    from mobility.errors import InputError
    from mobility.planning.context import load_context
    from mobility.planning.geocode import parse_coordinates

    if not (1 <= args.limit <= 50):
        raise InputError("err_cli_limit")
    ctx = load_context(args.gtfs, args.osm)
    coords = parse_coordinates(args.text)
    results = [ctx.geocoder.reverse(*coords)] if coords else ctx.geocoder.search(args.text, args.limit)
    if not results:
        raise InputError("err_cli_nothing_matches", text=args.text)
    if args.json:
        print(json.dumps([r.__dict__ if not hasattr(r, "to_json") else r.to_json() for r in results],
                         ensure_ascii=False, indent=1, default=str))
        return 0
    for r in results:
        extra = f"  ({r.distance_m:.0f} m)" if getattr(r, "distance_m", None) else ""
        print(f"{r.score:4.2f}  {r.kind:8s} {r.label}  [{r.lat:.5f}, {r.lon:.5f}]{extra}")
    return 0
