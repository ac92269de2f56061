"""Command line: ``mobility info|plan|...``. Prints a one-line message and exits non-zero on bad input."""

from __future__ import annotations

import argparse
import sys

from mobility.errors import MobilityError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mobility", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p_info = sub.add_parser("info", help="summarise the loaded data (defaults: the embedded Audomarois data)")
    p_info.add_argument("--gtfs", action="append", help="GTFS feed (.zip or folder); repeatable")
    p_info.add_argument("--osm", help="OSM extract (.osm.pbf, .osm, .osm.gz)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "info":
            from mobility.interfaces.info import run_info
            return run_info(args)
    except MobilityError as exc:
        print(f"mobility: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
