"""Command line: ``mobility info|plan``. Bad input prints a one-line message and exits with status 2."""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import json
import os
import re
import sys

import mobility
from mobility.errors import MobilityError, NoRouteError
from mobility.i18n import LANGS, lang_from_environment, lang_of, message

#: language of the messages while the arguments are parsed (``--lang`` read ahead, else the locale)
_LANG = {"value": "fr"}


def _add_data_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--gtfs", action="append", metavar="PATH",
                   help="GTFS feed (.zip or folder); repeatable for several feeds (default: the embedded data)")
    p.add_argument("--osm", metavar="PATH", help="OSM extract (.osm.pbf, .osm, .osm.gz) (default: the embedded data)")


def cli_lang() -> str:
    """The language of the command line (``--lang``, else the locale's), for argument errors and outputs."""
    return _LANG["value"]


def _datetime_arg(text: str) -> dt.datetime:
    try:
        return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M")
    except ValueError:
        raise argparse.ArgumentTypeError(message("cli_bad_datetime", cli_lang(), text=text)) from None


def date_arg(text: str) -> dt.date:
    """argparse type of a YYYY-MM-DD date, its error in the command line's language."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(message("err_cli_date", cli_lang(), text=text)) from None


#: modules contributing subcommands: each has ``register(subparsers)`` that adds its parsers with
#: ``set_defaults(handler=...)``; a handler takes the parsed arguments and returns the exit status
COMMANDS: tuple[str, ...] = (
    "mobility.interfaces.cli",
    "mobility.interfaces.analysis_cli",
    "mobility.interfaces.services_cli",
    "mobility.interfaces.streets_cli",
    "mobility.interfaces.observatory_cli",
    "mobility.interfaces.serve",
)


def register(sub) -> None:
    """The core subcommands: ``info`` and ``plan``."""
    p_info = sub.add_parser("info", help="summarise the loaded data (defaults: the embedded Audomarois data)")
    _add_data_args(p_info)
    p_info.add_argument("--json", action="store_true", help="print JSON")
    p_info.add_argument("--lang", choices=list(LANGS), default=None,
                        help="language of the summary (default: the locale's, French when it is neither)")
    p_info.set_defaults(handler=_run_info)

    p_plan = sub.add_parser("plan", help="door-to-door itineraries by public transport and walking")
    _add_data_args(p_plan)
    p_plan.add_argument("--from", dest="origin", required=True, metavar="PLACE",
                        help="origin: LAT,LON, stop:STOP_ID, a service site id or an address (free text)")
    p_plan.add_argument("--to", dest="destination", required=True, metavar="PLACE",
                        help="destination: LAT,LON, stop:STOP_ID, a site id (svc-001), a service category "
                             "('caf', 'mairie', 'France services') or an address")
    when = p_plan.add_mutually_exclusive_group(required=True)
    when.add_argument("--depart", type=_datetime_arg, metavar="YYYY-MM-DDTHH:MM", help="leave at (local time)")
    when.add_argument("--arrive", type=_datetime_arg, metavar="YYYY-MM-DDTHH:MM", help="arrive by (local time)")
    p_plan.add_argument("--wheelchair", action="store_true", help="step-free: accessible stops, trips and ways only")
    p_plan.add_argument("--max-walk-m", type=float, default=2000.0, help="most walking in total, metres (2000)")
    p_plan.add_argument("--max-walk-leg-m", type=float, default=None, metavar="M",
                        help="most walking in one leg (to or from a stop, between stops, or all the way), metres "
                             "(default: only the total applies)")
    p_plan.add_argument("--walk-speed-mps", type=float, default=1.2, help="walking speed, m/s (1.2)")
    p_plan.add_argument("--max-transfers", type=int, default=3, help="most changes of vehicle (3)")
    p_plan.add_argument("--min-transfer-s", type=int, default=120, help="least time to change vehicle, s (120)")
    p_plan.add_argument("--max-itineraries", type=int, default=6, help="most options shown (6)")
    p_plan.add_argument("--return-after", type=int, metavar="MIN", dest="return_after",
                        help="round trip: stay MIN minutes at the destination, then plan the way back the same day")
    p_plan.add_argument("--margin-min", type=int, default=10,
                        help="a service site must stay open this long after the arrival, minutes (10)")
    p_plan.add_argument("--services", metavar="PATH", help="service sites CSV/GeoJSON (default: the embedded sites)")
    p_plan.add_argument("--booked-at", type=_datetime_arg, metavar="YYYY-MM-DDTHH:MM",
                        help="when the trip is booked (local time; default: now): on-demand (TAD) rides whose "
                             "booking deadline is earlier are not offered")
    p_plan.add_argument("--no-tad", action="store_true", help="no on-demand transport (TAD) legs")
    p_plan.add_argument("--lang", choices=list(LANGS), default=None,
                        help="language of the output and of the messages (default: the locale's, French when "
                             "it is neither)")
    p_plan.add_argument("--json", action="store_true", help="print JSON")
    p_plan.set_defaults(handler=run_plan)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mobility", description="Door-to-service trip planner for the Audomarois.")
    parser.add_argument("--version", action="version", version=f"mobility {mobility.__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in COMMANDS:
        importlib.import_module(name).register(sub)
    return parser


def _run_info(args: argparse.Namespace) -> int:
    from mobility.interfaces.info import run_info

    return run_info(args)


def run_plan(args: argparse.Namespace) -> int:
    """Entry point of ``mobility plan``: door to door, or door to service (and back)."""
    from mobility.interfaces.text import format_trip
    from mobility.planning.context import load_context
    from mobility.planning.planner import PlanOptions
    from mobility.planning.services import plan_trip

    options = PlanOptions(walk_speed_mps=args.walk_speed_mps, max_walk_m=args.max_walk_m,
                          max_walk_leg_m=args.max_walk_leg_m, min_transfer_s=args.min_transfer_s, max_transfers=args.max_transfers,
                          wheelchair=args.wheelchair, max_itineraries=args.max_itineraries,
                          allow_tad=not args.no_tad).validated()
    ctx = load_context(args.gtfs, args.osm, args.services)
    arrive_by = args.arrive is not None
    try:
        trip = plan_trip(ctx, args.origin, args.destination, args.arrive if arrive_by else args.depart,
                         arrive_by=arrive_by, options=options, return_after_min=args.return_after,
                         margin_min=args.margin_min, lang=args.lang,
                         **({"booked_at": args.booked_at} if args.booked_at is not None else {}))
    except NoRouteError as exc:  # a valid request that nothing satisfies: status 3, as documented
        print(f"mobility: {exc.text(args.lang)}", file=sys.stderr)
        return 3
    if args.json:
        print(json.dumps(trip.to_json(), ensure_ascii=False, indent=1))
    else:
        print(format_trip(trip, args.lang), end="")
    return 0 if trip.itineraries else 3


_NEGATIVE_COORD = re.compile(r"^-\d+(\.\d+)?\s*,")


def _join_negative_coordinates(argv: list[str]) -> list[str]:
    """``--from -30.02,-51.22`` would read as an option to argparse: turn it into ``--from=-30.02,-51.22``."""
    out: list[str] = []
    i = 0
    while i < len(argv):
        if argv[i] in ("--from", "--to") and i + 1 < len(argv) and _NEGATIVE_COORD.match(argv[i + 1]):
            out.append(f"{argv[i]}={argv[i + 1]}")
            i += 2
            continue
        out.append(argv[i])
        i += 1
    return out


def _lang_ahead(argv: list[str]) -> str:
    """The ``--lang`` of the command line, else the language of the locale (French when neither is ours)."""
    for i, a in enumerate(argv):
        if a == "--lang" and i + 1 < len(argv):
            return lang_of(argv[i + 1])
        if a.startswith("--lang="):
            return lang_of(a.split("=", 1)[1])
    return lang_from_environment()


def main(argv: list[str] | None = None) -> int:
    argv = _join_negative_coordinates(list(sys.argv[1:] if argv is None else argv))
    lang = _LANG["value"] = _lang_ahead(argv)
    args = build_parser().parse_args(argv)
    if hasattr(args, "lang") and args.lang is None:
        args.lang = lang
    try:
        return int(args.handler(args) or 0)
    except MobilityError as exc:  # (the prefix stays the same in every language: scripts look for it)
        print(f"mobility: error: {exc.text(getattr(args, 'lang', None) or lang)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # output piped into `head`: not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
