"""Every real GTFS feed under ../shared/realdata answers stop-to-stop queries, exactly on the smaller ones.

Feeds without a matching OSM extract are routed stop to stop (GTFS transfers only); on the feeds small
enough for it, the earliest arrival is checked against the brute-force reference.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from mobility.loaders.gtfs import load_feed
from mobility.network.timetable import build_timetable
from mobility.routing.raptor import INF, earliest_arrival
from reference import ref_earliest_arrival

pytestmark = pytest.mark.realdata

FEEDS = [
    "gtfs_only/amtrak-gtfs-2021-10-06.zip", "gtfs_only/bydgoszcz.gtfs.zip", "gtfs_only/cairns_gtfs.zip",
    "gtfs_only/caltrain_gtfs.zip", "gtfs_only/kcm_gtfs.zip", "gtfs_only/nyc_subway_gtfs.zip",
    "gtfs_only/samtrans-2017-11-28.zip", "gtfs_only/shape_dist_traveled_gtfs.zip",
    "gtfs_only/vvs-bus-751-only.gtfs.zip", "gtfs_only/atb-region-nord-v2",
    "porto_alegre/poa_trensurb.zip", "sao_paulo/spo_gtfs.zip", "helsinki/hsl_helsinki_gtfs_2022-02-22.zip",
    "cobb_county/cobblinc-bus-30-only.gtfs.zip", "gtfs_flex/ruralcommunity-flex-vt-us.zip",
]
#: feeds small enough for the brute-force reference within the test budget
REFERENCE_FEEDS = {"gtfs_only/caltrain_gtfs.zip", "gtfs_only/vvs-bus-751-only.gtfs.zip",
                   "gtfs_only/shape_dist_traveled_gtfs.zip", "porto_alegre/poa_trensurb.zip"}


def _busy_day(feed) -> dt.date:
    """A day inside the service range with the most trips (scanning up to 60 days from its start)."""
    first, last = feed.service_range()
    best, best_n = first, -1
    counts = feed.trips["service_id"].value_counts()
    day = first
    for _ in range(60):
        if day > last:
            break
        n = int(counts.reindex(list(feed.active_service_ids(day))).fillna(0).sum())
        if n > best_n:
            best, best_n = day, n
        day += dt.timedelta(days=1)
    return best


#: the largest feeds (several seconds each) run in CI's second step
_SLOW_FEEDS = {"porto_alegre/poa_trensurb.zip", "gtfs_only/bydgoszcz.gtfs.zip"}


@pytest.mark.parametrize("rel", [pytest.param(r, marks=pytest.mark.slow) if r in _SLOW_FEEDS else r for r in FEEDS],
                         ids=lambda r: Path(r).name)
def test_real_feed_answers_stop_to_stop_queries(realdata, rel):
    feed = load_feed(realdata / rel).load_all()
    day = _busy_day(feed)
    tt = build_timetable(feed, day, min_transfer_s=60)
    assert tt.n_trips > 0, f"{rel}: no trip on {day}"
    rng = np.random.default_rng(3)
    served = np.unique(tt.pattern_stops)
    reached = 0
    n_queries = 6 if rel in REFERENCE_FEEDS else 10
    for _ in range(n_queries):
        a, b = (int(x) for x in rng.choice(served, 2, replace=False))
        t0 = int(rng.integers(6 * 3600, 18 * 3600))
        res = earliest_arrival(tt, ([a], [t0], [0.0]), 6, egress=([b], [0], [0.0]), pareto=False)
        got = int(res.arrival_s[:, b].min())
        got = None if got >= INF else got
        reached += got is not None
        if got is not None:
            journey = min(res.journeys_to(([b], [0], [0.0])), key=lambda j: j.arrival_s)
            assert journey.arrival_s == got and journey.rides[0].start_s >= t0
        if rel in REFERENCE_FEEDS:
            expected = ref_earliest_arrival([feed], day, [(tt.stop_ids[a], t0, 0.0)], [(tt.stop_ids[b], 0, 0.0)],
                                            min_transfer_s=60, max_trips=None,
                                            time_window=(t0, t0 + 30 * 3600))
            if got is not None and got - t0 > 30 * 3600:
                got = None
            assert got == expected, f"{rel}: {tt.stop_ids[a]} -> {tt.stop_ids[b]} at {t0}"
    assert reached >= 1, f"{rel}: no query reached its destination"
