"""``mobility observatory migrate|purge|report|export``: the observatory's journal from the command line.

The database is ``--db`` or ``MOBILITY_DB_URL`` (default: the SQLite file under the data folder).
"""

from __future__ import annotations

import argparse
import json

from mobility.errors import InputError
from mobility.i18n import message
from mobility.interfaces.cli import cli_lang, date_arg


def register(sub) -> None:
    p = sub.add_parser("observatory", help="the observatory of users' needs: journal, surveys, reports")
    osub = p.add_subparsers(dest="observatory_command", required=True)

    def common(q: argparse.ArgumentParser) -> None:
        q.add_argument("--db", metavar="URL", help="database URL (default: MOBILITY_DB_URL or data/observatory/"
                                                   "journal.sqlite)")

    def lang(q: argparse.ArgumentParser) -> None:
        q.add_argument("--lang", choices=["fr", "en"], default=None,
                       help="default: the locale's, French when it is neither")

    m = osub.add_parser("migrate", help="create or upgrade the database schema")
    common(m)
    lang(m)
    m.set_defaults(handler=run_migrate)

    pu = osub.add_parser("purge", help="delete the journal rows older than the retention period")
    common(pu)
    pu.add_argument("--months", type=int, help="retention in months (default: "
                                               "MOBILITY_OBSERVATORY_RETENTION_MONTHS or 24)")
    pu.add_argument("--dry-run", action="store_true", help="count what would be deleted, delete nothing")
    lang(pu)
    pu.set_defaults(handler=run_purge)

    def period(q: argparse.ArgumentParser) -> None:
        common(q)
        q.add_argument("--from", dest="start", type=date_arg, metavar="YYYY-MM-DD", help="first day (default: 31 days up to --to)")
        q.add_argument("--to", dest="end", type=date_arg, metavar="YYYY-MM-DD", help="last day (default: today)")
        q.add_argument("--channel", choices=["resident", "operator", "api"])
        q.add_argument("--category", help="a category key ('caf', 'mairie'...)")
        q.add_argument("--out", required=True, metavar="PATH")

    r = osub.add_parser("report", help="self-contained HTML report of a period (charts embedded)")
    period(r)
    lang(r)
    r.set_defaults(handler=run_report)

    e = osub.add_parser("export", help="figures by commune: CSV, or GeoPackage for QGIS")
    period(e)
    e.add_argument("--format", choices=["csv", "gpkg"], help="default: from the --out suffix")
    e.set_defaults(handler=run_export)


def _engine(args: argparse.Namespace):
    from mobility.observatory.db import engine_for

    return engine_for(args.db)


def _filters(args: argparse.Namespace):
    from mobility.observatory.report import Filters

    return Filters.parse(args.start.isoformat() if args.start else None, args.end.isoformat() if args.end else None,
                         args.channel, args.category)


def run_migrate(args: argparse.Namespace) -> int:
    from mobility.observatory.db import current_revision

    print(message("obs_schema_revision", args.lang or cli_lang(), revision=current_revision(_engine(args))))
    return 0


def run_purge(args: argparse.Namespace) -> int:
    from mobility.observatory.journal import purge

    if args.months is not None and args.months < 1:
        raise InputError("err_cli_months")
    try:
        counts = purge(_engine(args), args.months, dry_run=args.dry_run)
    except ValueError as exc:  # a bad MOBILITY_OBSERVATORY_RETENTION_MONTHS
        raise InputError(str(exc)) from None
    print(message("obs_purge_dry_run" if args.dry_run else "obs_purged", args.lang or cli_lang(),
                  requests=counts["requests"], answers=counts["survey_responses"], cutoff=counts["cutoff"]))
    return 0


def run_report(args: argparse.Namespace) -> int:
    from mobility.observatory.report import write_report

    s = write_report(_engine(args), _filters(args), args.out, args.lang)
    print(message("obs_report_line", args.lang, out=args.out, requests=s["requests"], unmet=s["unmet"]["requests"],
                  answers=s["surveys"]["responses"], start=s["period"]["from"], end=s["period"]["to"]))
    return 0


def run_export(args: argparse.Namespace) -> int:
    from mobility.observatory.report import commune_csv, commune_geopackage, summary

    fmt = args.format or ("gpkg" if str(args.out).lower().endswith(".gpkg") else "csv")
    s = summary(_engine(args), _filters(args))
    if fmt == "gpkg":
        commune_geopackage(s, args.out)
    else:
        with open(args.out, "w", encoding="utf-8", newline="") as fh:
            fh.write(commune_csv(s))
    print(json.dumps({"out": str(args.out), "format": fmt, "requests": s["requests"]}))
    return 0
