"""``mobility serve``: the web front end and JSON API on a production WSGI server (waitress).

    mobility serve [--host 127.0.0.1] [--port 8000] [--threads 8] [--gtfs FEED ... --osm EXTRACT]

The data loads in a background thread (the API answers 503 until it is ready); the URL is printed at once.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys


def register(sub) -> None:
    p = sub.add_parser("serve", help="run the web front end and JSON API (waitress)")
    p.add_argument("--gtfs", action="append", metavar="PATH",
                   help="GTFS feed (.zip or folder); repeatable (default: the embedded data)")
    p.add_argument("--osm", metavar="PATH", help="OSM extract (default: the embedded data)")
    p.add_argument("--services", metavar="PATH", help="service sites CSV/GeoJSON (default: the embedded ones)")
    p.add_argument("--communes", metavar="PATH", help="commune areas GeoJSON (default: the embedded ones)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port (8000; 0 picks a free one)")
    p.add_argument("--threads", type=int, default=8, help="worker threads (8)")
    p.add_argument("--tile-url", default=os.environ.get("MOBILITY_TILE_URL"),
                   help="background map tiles URL template, for deployments with internet (default: none)")
    p.set_defaults(handler=run_serve)


def run_serve(args: argparse.Namespace) -> int:
    from waitress.server import create_server

    from mobility.interfaces.web import create_app

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    app = create_app({"MOBILITY_GTFS": args.gtfs, "MOBILITY_OSM": args.osm, "MOBILITY_SERVICES": args.services,
                      "MOBILITY_COMMUNES": args.communes, "MOBILITY_TILE_URL": args.tile_url})
    server = create_server(app, host=args.host, port=args.port, threads=max(1, args.threads),
                           ident="mobility", clear_untrusted_proxy_headers=True)
    host, port = server.effective_host, server.effective_port
    shown = f"[{host}]" if ":" in str(host) else host
    print(f"mobility: serving on http://{shown}:{port}/  (operator console: /operateur/, API: /api/openapi.json)",
          flush=True)
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
    return 0


if __name__ == "__main__":  # pragma: no cover
    from mobility.interfaces.cli import main

    sys.exit(main(["serve", *sys.argv[1:]]))
