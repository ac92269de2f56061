"""Assemble the multimodal network (feeds + street networks + stop links + footpaths), cached on disk.

:func:`load_network` is the one entry point: it hashes the content of the input files, and either
loads the :class:`Network` from the cache folder (:mod:`mobility.network.store`: memory-mapped, no pickle)
or builds it:

* every GTFS feed, fully parsed (:func:`mobility.loaders.gtfs.load_feed`);
* the walk network (and the drive network, for on-demand legs) as CSR arrays
  (:class:`mobility.network.streets.StreetNetwork`);
* every routable stop snapped to the nearest walkable edge (and to the nearest step-free edge);
* stop-to-stop walking footpaths along streets up to :data:`FOOTPATH_RADIUS_M` metres;
* the on-demand (GTFS-Flex) service: zones, windows, stop groups, booking rules
  (:func:`mobility.network.flex.build_flex`).

Per query date, :meth:`Network.timetable` turns this into the compact RAPTOR arrays
(:func:`mobility.network.timetable.build_timetable`), memoised for a few dates.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from mobility.config import DEFAULT_GTFS_PATHS, DEFAULT_OSM_PATH, cache_dir
from mobility.errors import DataError
from mobility.geo import LocalProjection
from mobility.loaders.gtfs import Feed, load_feed
from mobility.loaders.gtfs_validate import Problem, check_feed
from mobility.loaders.osm import address_points, load_osm
from mobility.network import flex as _flex, store
from mobility.network.flex import FlexService, build_flex
from mobility.network.streets import Snap, Snaps, StreetNetwork, _Matrix
from mobility.network.timetable import Timetable, build_timetable

#: bump when the stored layout or the build logic changes: old cache entries are then ignored (and pruned)
CACHE_VERSION = 9  # 8: drive travel times with OSMnx's arithmetic (km / km per s); 9: the store, no pickle
#: stop-to-stop walking transfers are precomputed up to this network distance (metres)
FOOTPATH_RADIUS_M = 1000.0
#: a change of vehicle walks at most this far between two stops (metres): longer changes are rare in
#: practice and the number of footpaths (and so the search time) grows with the square of this distance
TRANSFER_WALK_MAX_M = 600.0
#: a stop farther than this from any walkable edge is left unlinked (it can still be used by transfers)
STOP_SNAP_MAX_M = 500.0


@dataclass(eq=False)
class Network:
    """Everything the planner needs, built once per set of inputs.

    ``stops`` has one row per routable stop (``location_type`` 0), keyed like the timetable
    (``stop_key``: the GTFS id, namespaced ``feed_id:stop_id`` when several feeds are loaded), with
    its snap onto the walk network (``snap_*`` columns) and onto step-free edges (``sf_*``).
    ``footpaths`` / ``footpaths_step_free`` are ``from_key, to_key, walk_m`` along streets.
    ``addresses`` are the OSM address points (for the geocoder), ``streets`` one point per named walk
    edge (``name, lat, lon``).
    """

    feeds: list[Feed]
    gtfs_paths: list[str]
    osm_path: str
    walk: StreetNetwork
    drive: StreetNetwork | None
    stops: pd.DataFrame
    footpaths: pd.DataFrame
    footpaths_step_free: pd.DataFrame
    inputs_key: str
    addresses: pd.DataFrame = field(default_factory=pd.DataFrame)
    streets: pd.DataFrame = field(default_factory=pd.DataFrame)
    build_seconds: float = 0.0
    flex: FlexService = field(default_factory=FlexService)  # on-demand (GTFS-Flex) service, empty if none
    #: validation warnings of the inputs (errors stop the build): shown by ``mobility info``, ``/api/health``
    problems: list[Problem] = field(default_factory=list)
    _timetables: OrderedDict = field(default_factory=OrderedDict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    # ------------------------------------------------------------------ pickling (no cache, no lock)
    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_timetables"] = OrderedDict()
        state.pop("_lock", None)
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ facts
    @property
    def timezone(self) -> str:
        return self.feeds[0].timezone

    def service_range(self) -> tuple[dt.date, dt.date] | None:
        """First and last date with service in any feed."""
        ranges = [r for r in (f.service_range() for f in self.feeds) if r]
        if not ranges:
            return None
        return min(r[0] for r in ranges), max(r[1] for r in ranges)

    def stop_snaps(self, step_free: bool = False) -> Snaps:
        """The stops' snaps onto the walk network, aligned with ``self.stops``."""
        p = "sf_" if step_free else "snap_"
        s = self.stops
        return Snaps(s[p + "edge"].to_numpy(np.int64), s[p + "u"].to_numpy(np.int64), s[p + "v"].to_numpy(np.int64),
                     s[p + "fraction"].to_numpy(float), s[p + "dist_m"].to_numpy(float),
                     s[p + "lat"].to_numpy(float), s[p + "lon"].to_numpy(float))

    # ------------------------------------------------------------------ per-date timetables
    def footpath_frame(self, *, walk_speed_mps: float, max_walk_m: float, step_free: bool = False) -> pd.DataFrame:
        """Walking changes between two rides: ``from_stop_id, to_stop_id, duration_s, walk_m``.

        At most :data:`TRANSFER_WALK_MAX_M` (and ``max_walk_m``) along streets; durations are
        ``ceil(walk_m / walk_speed_mps)`` seconds.
        """
        fp = self.footpaths_step_free if step_free else self.footpaths
        fp = fp[fp["walk_m"] <= min(max_walk_m, TRANSFER_WALK_MAX_M)]
        return pd.DataFrame({
            "from_stop_id": fp["from_key"].to_numpy(),
            "to_stop_id": fp["to_key"].to_numpy(),
            "duration_s": np.ceil(fp["walk_m"].to_numpy() / walk_speed_mps).astype(np.int64),
            "walk_m": fp["walk_m"].to_numpy(),
        })

    def timetable(self, service_date: dt.date, *, walk_speed_mps: float, max_walk_m: float,
                  min_transfer_s: int, step_free: bool = False) -> Timetable:
        """The RAPTOR arrays for ``service_date`` (memoised for the last few parameter sets).

        Footpaths are those of :meth:`footpath_frame`.
        """
        key = (service_date, round(walk_speed_mps, 3), float(max_walk_m), int(min_transfer_s), step_free)
        with self._lock:
            tt = self._timetables.get(key)
            if tt is not None:
                self._timetables.move_to_end(key)
                return tt
        frame = self.footpath_frame(walk_speed_mps=walk_speed_mps, max_walk_m=max_walk_m, step_free=step_free)
        tt = build_timetable(self.feeds, service_date, footpaths=frame, min_transfer_s=min_transfer_s)
        with self._lock:
            self._timetables[key] = tt
            while len(self._timetables) > 8:
                self._timetables.popitem(last=False)
        return tt


#: the classes a stored network may hold (nothing else is rebuilt from a cache entry)
NETWORK_CLASSES: tuple[type, ...] = (
    Network, Feed, Problem, StreetNetwork, _Matrix, Snap, Snaps, FlexService,
    _flex.Zone, _flex.FlexRow, _flex.FlexTrip, _flex.Hop, _flex.BookingRule,
)


# ---------------------------------------------------------------------------------------- input hashing

def _hash_path(path: Path, h: "hashlib._Hash") -> None:
    if not path.exists():
        raise DataError("file or folder not found", path=str(path))
    if path.is_dir():
        for child in sorted(p for p in path.rglob("*") if p.is_file()):
            h.update(str(child.relative_to(path)).encode())
            h.update(child.read_bytes())
    else:
        h.update(path.read_bytes())


def inputs_key(gtfs_paths: Sequence[Path], osm_path: Path) -> str:
    """Content hash of the inputs and of the build parameters: the cache key."""
    h = hashlib.sha256(f"mobility-network-v{CACHE_VERSION}-{FOOTPATH_RADIUS_M}".encode())
    for p in gtfs_paths:
        h.update(b"gtfs")
        _hash_path(Path(p), h)
    h.update(b"osm")
    _hash_path(Path(osm_path), h)
    return h.hexdigest()[:32]


# ---------------------------------------------------------------------------------------- build steps

def feed_ids_for(paths: Sequence[Path]) -> list[str]:
    """Short distinct feed ids from file names (``poa_eptc.zip`` -> ``poa_eptc``)."""
    ids: list[str] = []
    for p in paths:
        name = Path(p).name
        for suffix in (".zip", ".gtfs"):
            if name.lower().endswith(suffix):
                name = name[: -len(suffix)]
        base, n = name or "feed", 2
        while name in ids:
            name, n = f"{base}{n}", n + 1
        ids.append(name)
    return ids


def routable_stops(feeds: Sequence[Feed]) -> pd.DataFrame:
    """One row per platform stop of every feed, keyed as in the timetable."""
    multi = len(feeds) > 1
    frames = []
    for i, feed in enumerate(feeds):
        s = feed.stops
        s = s[s["location_type"].fillna(0).astype(int) == 0]
        s = s[np.isfinite(s["stop_lat"].to_numpy(float)) & np.isfinite(s["stop_lon"].to_numpy(float))]
        ids = s["stop_id"].astype(str)
        frames.append(pd.DataFrame({
            "stop_key": (feed.feed_id + ":" + ids) if multi else ids,
            "feed_index": i,
            "stop_id": ids,
            "stop_name": s["stop_name"].astype(str),
            "lat": s["stop_lat"].astype(float),
            "lon": s["stop_lon"].astype(float),
        }))
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=["stop_key", "feed_index", "stop_id", "stop_name", "lat", "lon"])
    return out.drop_duplicates("stop_key").reset_index(drop=True)


def _attach_snaps(stops: pd.DataFrame, walk: StreetNetwork) -> pd.DataFrame:
    stops = stops.copy()
    for prefix, step_free in (("snap_", False), ("sf_", True)):
        snaps = walk.snap_many(stops["lat"].to_numpy(), stops["lon"].to_numpy(), STOP_SNAP_MAX_M,
                               step_free_only=step_free)
        for name in ("edge", "u", "v", "fraction", "dist_m", "lat", "lon"):
            stops[prefix + name] = getattr(snaps, name)
    return stops


def stop_footpaths(walk: StreetNetwork, stops: pd.DataFrame, *, step_free: bool,
                   radius_m: float = FOOTPATH_RADIUS_M, batch: int = 64) -> pd.DataFrame:
    """Walking distances along streets between stops at most ``radius_m`` apart (both directions).

    Batched multi-row Dijkstra from the end nodes of the stops' snapped edges; a stop at fraction
    ``f`` of edge (u, v) of length L is ``f*L`` from u and ``(1-f)*L`` from v (walk edges run both
    ways). Two stops on the same edge are also linked directly along it.
    """
    from scipy.sparse import csr_matrix  # here: loading a cached network needs no scipy.sparse (start-up)
    from scipy.sparse.csgraph import dijkstra
    from scipy.spatial import cKDTree

    p = "sf_" if step_free else "snap_"
    ok = stops[p + "edge"].to_numpy() >= 0
    idx = np.nonzero(ok)[0]
    empty = pd.DataFrame({"from_key": pd.Series(dtype=str), "to_key": pd.Series(dtype=str),
                          "walk_m": pd.Series(dtype=float)})
    if len(idx) < 2:
        return empty
    edge = stops[p + "edge"].to_numpy()[idx]
    u = stops[p + "u"].to_numpy()[idx]
    v = stops[p + "v"].to_numpy()[idx]
    frac = stops[p + "fraction"].to_numpy(float)[idx]
    length = walk.length_m[edge]
    off_u, off_v = frac * length, (1.0 - frac) * length
    proj = LocalProjection(float(stops["lat"].mean()), float(stops["lon"].mean()))
    x, y = proj.to_xy(stops[p + "lat"].to_numpy(float)[idx], stops[p + "lon"].to_numpy(float)[idx])
    tree = cKDTree(np.column_stack([x, y]))
    pairs = tree.query_pairs(radius_m, output_type="ndarray")
    if len(pairs) == 0:
        return empty
    pairs = np.vstack([pairs, pairs[:, ::-1]])
    pairs = pairs[np.lexsort((pairs[:, 1], pairs[:, 0]))]
    m = walk._matrix("length", step_free)  # deduplicated CSR of the (step-free) walk graph
    graph = csr_matrix((m.data, m.indices, m.indptr), shape=(walk.n_nodes + 1, walk.n_nodes + 1))
    sources = np.unique(pairs[:, 0])
    out_from, out_to, out_m = [], [], []
    for start in range(0, len(sources), batch):
        src = sources[start:start + batch]
        nodes = np.unique(np.concatenate([u[src], v[src]]))
        dist = dijkstra(graph, directed=True, indices=nodes, limit=radius_m)
        row = {int(n): k for k, n in enumerate(nodes)}
        sel = pairs[(pairs[:, 0] >= src[0]) & (pairs[:, 0] <= src[-1])]
        a, b = sel[:, 0], sel[:, 1]
        ru = np.array([row[int(n)] for n in u[a]])
        rv = np.array([row[int(n)] for n in v[a]])
        best = np.minimum.reduce([
            off_u[a] + dist[ru, u[b]] + off_u[b], off_u[a] + dist[ru, v[b]] + off_v[b],
            off_v[a] + dist[rv, u[b]] + off_u[b], off_v[a] + dist[rv, v[b]] + off_v[b],
        ])
        same = edge[a] == edge[b]
        best[same] = np.minimum(best[same], np.abs(frac[a][same] - frac[b][same]) * length[a][same])
        keep = best <= radius_m
        out_from.append(a[keep]); out_to.append(b[keep]); out_m.append(best[keep])
    a = idx[np.concatenate(out_from)]
    b = idx[np.concatenate(out_to)]
    keys = stops["stop_key"].to_numpy()
    return pd.DataFrame({"from_key": keys[a], "to_key": keys[b], "walk_m": np.concatenate(out_m)})


def street_points(walk: StreetNetwork) -> pd.DataFrame:
    """Midpoint of every named walk edge (one direction): ``name, lat, lon`` for the geocoder."""
    keep = np.nonzero((walk.edge_u < walk.edge_v) | (walk.edge_reverse < 0))[0]
    names = np.asarray(walk.name_table, dtype=object)[walk.edge_name_idx[keep]]
    named = names != ""
    keep, names = keep[named], names[named]
    lat = (walk.node_lat[walk.edge_u[keep]] + walk.node_lat[walk.edge_v[keep]]) / 2
    lon = (walk.node_lon[walk.edge_u[keep]] + walk.node_lon[walk.edge_v[keep]]) / 2
    return pd.DataFrame({"name": names, "lat": lat, "lon": lon})


def load_feeds(gtfs_paths: Sequence[Path]) -> tuple[list[Feed], list[Problem]]:
    """Parse and validate every feed (the first step of a build): a DataError names the file, line and field of
    the first error; the warnings are returned, each prefixed with its feed when there are several."""
    feeds = [load_feed(p, feed_id=fid) for p, fid in zip(gtfs_paths, feed_ids_for(gtfs_paths))]
    problems: list[Problem] = []
    for feed in feeds:
        for p in check_feed(feed):
            problems.append(Problem(p.severity, f"{feed.feed_id}/{p.file}" if len(feeds) > 1 else p.file,
                                    p.line, p.field, p.message))
        # the parsed frames are all we keep: drop the open archive and the raw text tables
        feed._src = None
        feed._tables = {}
    return feeds, problems


def extent_problems(stops: pd.DataFrame, walk: StreetNetwork, osm_path: Path) -> list[Problem]:
    """Stops and streets must describe the same place: none linked is an error (an extract of another region,
    swapped latitude/longitude), some unlinked a warning (an extract that covers part of the network)."""
    n = len(stops)
    linked = int((stops["snap_edge"].to_numpy() >= 0).sum()) if n else 0
    if n and linked == 0:
        lat, lon = stops["lat"].to_numpy(float), stops["lon"].to_numpy(float)
        raise DataError(f"no stop lies within {STOP_SNAP_MAX_M:g} m of a street of this extract (streets at "
                        f"lat {walk.node_lat.min():.3f}..{walk.node_lat.max():.3f}, lon {walk.node_lon.min():.3f}.."
                        f"{walk.node_lon.max():.3f}; stops at lat {lat.min():.3f}..{lat.max():.3f}, "
                        f"lon {lon.min():.3f}..{lon.max():.3f}): an extract of another region, or latitude and "
                        "longitude swapped?", path=str(osm_path))
    if n and linked < n:
        return [Problem("warning", "stops.txt", None, "stop_lat",
                        f"{n - linked} of {n} stops are farther than {STOP_SNAP_MAX_M:g} m from any street of "
                        f"{Path(osm_path).name}: they can be reached only by transfers")]
    return []


def build_network(gtfs_paths: Sequence[Path], osm_path: Path, key: str = "") -> Network:
    """Parse and link everything (the slow path; see :func:`load_network`)."""
    t0 = time.perf_counter()
    gtfs_paths = [Path(p) for p in gtfs_paths]
    feeds, problems = load_feeds(gtfs_paths)
    osm = load_osm(osm_path)
    walk = StreetNetwork.from_osm(osm, "walk")
    try:
        drive = StreetNetwork.from_osm(osm, "drive")
    except DataError:
        drive = None  # an extract with no drivable road (pedestrian zone): no on-demand legs
    stops = _attach_snaps(routable_stops(feeds), walk)
    problems += extent_problems(stops, walk, osm_path)
    footpaths = stop_footpaths(walk, stops, step_free=False)
    footpaths_sf = stop_footpaths(walk, stops, step_free=True)
    flex = build_flex(feeds, stops, drive)
    return Network(feeds=feeds, gtfs_paths=[str(p) for p in gtfs_paths], osm_path=str(osm_path),
                   walk=walk, drive=drive, stops=stops, footpaths=footpaths,
                   footpaths_step_free=footpaths_sf, inputs_key=key,
                   addresses=address_points(osm), streets=street_points(walk),
                   flex=flex, build_seconds=time.perf_counter() - t0,
                   problems=problems + [Problem("warning", "", None, None, w) for w in flex.warnings])


def load_network(gtfs_paths: Sequence[str | os.PathLike] | None = None,
                 osm_path: str | os.PathLike | None = None, *, use_cache: bool = True) -> Network:
    """The network of these inputs (defaults: the embedded Audomarois data), from the cache if built before."""
    gtfs = [Path(p) for p in (gtfs_paths or DEFAULT_GTFS_PATHS)]
    osm = Path(osm_path or DEFAULT_OSM_PATH)
    key = inputs_key(gtfs, osm)
    folder = cache_dir() if use_cache else None
    net = store.read_entry(folder, "network", key, version=CACHE_VERSION, classes=NETWORK_CLASSES)
    if isinstance(net, Network) and net.inputs_key == key:  # a truncated, stale or foreign entry is rebuilt
        return net
    net = build_network(gtfs, osm, key)
    store.write_entry(folder, "network", key, net, version=CACHE_VERSION, classes=NETWORK_CLASSES)
    return net
