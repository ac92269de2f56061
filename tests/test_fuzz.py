"""Seeded fuzzing of the feed loaders: every mutant of the embedded and the real feeds loads or fails cleanly.

Each mutant (see ``tests/feedfuzz.py``) runs in a forked child with a 30 s limit. The outcome must be a
success whose required tables are not empty, or a ``DataError`` printed as one line (exit 2, as the CLI does);
never a traceback, a hang or a crash. The default run loads and validates 128 mutants (64 without ../shared):
the first step of every network build; the ``slow`` run sends 320 mutants through the whole of ``mobility info``.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import pytest

import feedfuzz
from mobility.config import DEFAULT_GTFS_PATHS, DEFAULT_OSM_PATH
from mobility.errors import MobilityError

TIMEOUT_S = 30.0
#: small real feeds (load in well under a second), with the OSM extract of the same place where it is small
#: (the others meet the embedded extract: their builds stop at the extent check, a clean exit 2)
REAL_SMALL = [("gtfs_flex/aspen-flex-on-demand.gtfs", None),
              ("cobb_county/cobblinc-scheduled-deviated-flex.gtfs", "cobb_county/cobb-county.filtered.osm.pbf"),
              ("gtfs_only/vvs-bus-751-only.gtfs.zip", None),
              ("gtfs_only/shape_dist_traveled_gtfs.zip", None),
              ("gtfs_only/caltrain_gtfs.zip", None)]
REAL_MORE = [("cobb_county/cobblinc-bus-30-only.gtfs.zip", "cobb_county/cobb-county.filtered.osm.pbf"),
             ("gtfs_flex/lincoln-county-flex.gtfs.zip", None), ("gtfs_only/kcm_gtfs.zip", None),
             ("porto_alegre/poa_trensurb.zip", None),
             ("gtfs_only/amtrak-gtfs-2021-10-06.zip", None)]


def _sources(realdata: Path | None, more: bool) -> list[tuple[Path, Path]]:
    out = [(DEFAULT_GTFS_PATHS[0], DEFAULT_OSM_PATH)]
    if realdata is not None:
        for feed, osm in REAL_SMALL + (REAL_MORE if more else []):
            out.append((realdata / feed, realdata / osm if osm else DEFAULT_OSM_PATH))
    return out


def _load_and_validate(path: Path) -> int:
    """The loader step of a build, with the CLI's error contract: one line on stderr and status 2."""
    from mobility.network.build import load_feeds

    try:
        feeds, _ = load_feeds([path])
    except MobilityError as exc:
        print(f"mobility: error: {exc}", file=sys.stderr)
        return 2
    _assert_not_empty(feeds[0])
    return 0


def _info(path: Path, osm: Path) -> int:
    from mobility.interfaces.cli import main
    from mobility.network.build import load_feeds

    status = main(["info", "--gtfs", str(path), "--osm", str(osm)])
    if status == 0:
        _assert_not_empty(load_feeds([path])[0][0])
    return status


def _assert_not_empty(feed) -> None:
    """A successful load has agencies, routes, trips, stop times and stops (or Flex zones)."""
    assert len(feed.agency) and len(feed.routes) and len(feed.trips), "success with an empty required table"
    assert len(feed.stop_times) + len(feed.flex_stop_times), "success with no stop time"
    assert len(feed.stops) or feed.locations, "success with no stop and no zone"


def _warm(sources: list[tuple[Path, Path]], full: bool) -> None:
    """Import and run the loaders once in the parent: forked children then start warm (no import per mutant)."""
    import shapely.geometry  # noqa: F401 - used by locations.geojson

    from mobility.interfaces import cli, info  # noqa: F401
    from mobility.network.build import load_feeds

    load_feeds([sources[0][0]])
    if full:
        from mobility.network.build import load_network

        load_network([sources[0][0]], sources[0][1])


def _fuzz(sources: list[tuple[Path, Path]], n: int, tmp_path: Path, full: bool) -> Counter:
    _warm(sources, full)
    outcomes: Counter = Counter()
    failures = []
    slowest = 0.0
    for seed in range(n):
        src, osm = sources[seed % len(sources)]
        path, what = feedfuzz.make_mutant(src, seed, tmp_path)
        status, err, took = feedfuzz.run_forked((lambda: _info(path, osm)) if full else
                                                (lambda: _load_and_validate(path)), TIMEOUT_S)
        slowest = max(slowest, took)
        lines = [line for line in err.splitlines() if line.strip()]
        ok = status is not None and (status == 0 or (status == 2 and len(lines) == 1
                                                     and lines[0].startswith("mobility: error: ")))
        outcomes["exit 0" if status == 0 else "exit 2" if ok else "BAD"] += 1
        if not ok:
            failures.append(f"seed {seed} ({src.name}: {what}): status {status} after {took:.1f} s: "
                            f"{err.strip()[-600:]}")
    assert not failures, "\n".join(failures)
    print(f"fuzz: {n} mutants, {dict(outcomes)}, slowest {slowest:.1f} s")  # shown with pytest -s
    return outcomes


@pytest.fixture()
def realdata_or_none(request):
    from conftest import REALDATA

    if not REALDATA.is_dir():
        return None
    return REALDATA


@pytest.mark.slow  # ~9 s; tests/test_gtfs_loader.py keeps the broken-file cases (file, line, field) in the default step
def test_fuzz_embedded_feed_default_run(tmp_path):
    """64 mutants of the embedded feed: load and validate, each ends cleanly within 30 s."""
    out = _fuzz(_sources(None, False), 64, tmp_path, full=False)
    assert out["exit 2"] >= 16 and sum(out.values()) == 64


@pytest.mark.slow  # ~8 s: the default step keeps the embedded feed's run
@pytest.mark.realdata
def test_fuzz_real_feeds_default_run(realdata, tmp_path):
    """64 mutants of small real feeds (Flex and fixed-route): load and validate, each ends cleanly."""
    sources = _sources(realdata, False)[1:]
    out = _fuzz(sources, 64, tmp_path, full=False)
    assert out["exit 2"] >= 16 and sum(out.values()) == 64


@pytest.mark.slow
def test_fuzz_mobility_info_slow_run(realdata_or_none, tmp_path):
    """320 mutants through the whole of ``mobility info`` (network build included)."""
    sources = _sources(realdata_or_none, True)
    out = _fuzz(sources, 320, tmp_path, full=True)
    assert out["exit 0"] and out["exit 2"] and sum(out.values()) == 320
