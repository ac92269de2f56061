"""Scale benchmark of the cumulative-opportunity accessibility (run: .venv/bin/python scripts/bench_scale.py).

Two workloads, each run with a growing amount of work, in process and on a Dask ``LocalCluster`` with 2
worker processes (results compared exactly), reporting wall time, time per profile and memory (max RSS of
the process, and of each Dask worker):

* **Porto Alegre** (``../shared/realdata/porto_alegre``: EPTC buses + Trensurb metro, real OSM, the 1,227
  H3 hexagons of ``poa_hexgrid.csv``): jobs reachable within 30/60 min from 1/8, 1/4, 1/2 and all of the
  hexagons (one profile per origin: the work grows with the origins);
* **the Audomarois tiled** x1, x4, x16 (``--tiles``): the embedded feed and streets copied side by side,
  each copy shifted by a multiple of the territory's extent (own feed id, OSM ids offset), the commune
  centres as points (residents reachable within 30/60 min, one profile per point): both the sources and
  the network grow with the tiles.

Options: ``--dask tcp://HOST:8786`` runs the Dask part on an existing cluster instead of a LocalCluster
(every worker must see the same files and ``MOBILITY_CACHE_DIR``); ``--skip-poa`` / ``--skip-tiles``.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
REALDATA = ROOT.parent / "shared" / "realdata" / "porto_alegre"


def rss_mib() -> float:
    """Peak resident memory of this process (MiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ------------------------------------------------------------------------------------------- tiling

def _shift_geojson(obj, dlat: float, dlon: float):
    if isinstance(obj, list):
        if obj and isinstance(obj[0], (int, float)):
            return [obj[0] + dlon, obj[1] + dlat, *obj[2:]]
        return [_shift_geojson(x, dlat, dlon) for x in obj]
    if isinstance(obj, dict):
        return {k: (_shift_geojson(v, dlat, dlon) if k == "coordinates" else
                    _shift_geojson(v, dlat, dlon) if isinstance(v, (dict, list)) else v) for k, v in obj.items()}
    return obj


def _copy_feed(src: Path, dst: Path, dlat: float, dlon: float) -> None:
    dst.mkdir(parents=True, exist_ok=True)
    for f in src.iterdir():
        if f.name == "stops.txt":
            with open(f, encoding="utf-8-sig", newline="") as fh:
                rows = list(csv.DictReader(fh))
            for r in rows:
                if r.get("stop_lat"):
                    r["stop_lat"] = f"{float(r['stop_lat']) + dlat:.7f}"
                    r["stop_lon"] = f"{float(r['stop_lon']) + dlon:.7f}"
            with open(dst / f.name, "w", encoding="utf-8", newline="") as fh:
                w = csv.DictWriter(fh, fieldnames=list(rows[0]))
                w.writeheader()
                w.writerows(rows)
        elif f.suffix == ".geojson":
            (dst / f.name).write_text(json.dumps(_shift_geojson(json.loads(f.read_text("utf-8")), dlat, dlon)),
                                      encoding="utf-8")
        else:
            (dst / f.name).write_bytes(f.read_bytes())


def _write_tiled_osm(src: Path, dst: Path, shifts, side: int) -> None:
    """Every node and way of ``src`` once per shift (ids offset so copies never share a node), and a road
    between neighbouring copies (the street layer keeps the largest connected network only)."""
    import osmium

    nodes, ways = [], []
    for obj in osmium.FileProcessor(str(src)):
        if obj.is_node():
            nodes.append((obj.id, obj.location.lat, obj.location.lon, dict(obj.tags)))
        elif obj.is_way():
            ways.append((obj.id, [n.ref for n in obj.nodes], dict(obj.tags)))
    off = 10 ** (len(str(max([n[0] for n in nodes] + [w[0] for w in ways]))) + 1)
    if dst.exists():
        dst.unlink()
    writer = osmium.SimpleWriter(str(dst))
    try:
        for k, (dlat, dlon) in enumerate(shifts):
            for nid, lat, lon, tags in nodes:
                writer.add_node(osmium.osm.mutable.Node(id=nid + k * off, location=(lon + dlon, lat + dlat),
                                                        tags=tags, version=1))
        for k, _ in enumerate(shifts):
            for wid, refs, tags in ways:
                writer.add_way(osmium.osm.mutable.Way(id=wid + k * off, nodes=[r + k * off for r in refs],
                                                      tags=tags, version=1))
        # links between the outermost street nodes (east -> west, north -> south): in the gap between copies
        import networkx as nx

        g = nx.Graph()
        for _, refs, tags in ways:
            if tags.get("highway") in ("primary", "secondary", "tertiary", "residential", "unclassified"):
                nx.add_path(g, refs)
        street = max(nx.connected_components(g), key=len)  # the main network of the extract
        loc = {nid: (lat, lon) for nid, lat, lon, _ in nodes if nid in street}
        east, west = max(loc, key=lambda n: loc[n][1]), min(loc, key=lambda n: loc[n][1])
        north, south = max(loc, key=lambda n: loc[n][0]), min(loc, key=lambda n: loc[n][0])
        link = len(shifts) * off
        for k in range(len(shifts)):
            pairs = ([(east, west, k + 1)] if (k + 1) % side else []) + \
                ([(north, south, k + side)] if k + side < len(shifts) else [])
            for a, b, nb in pairs:
                link += 1
                writer.add_way(osmium.osm.mutable.Way(id=link, nodes=[a + k * off, b + nb * off],
                                                      tags={"highway": "primary", "name": "tile link"}, version=1))
    finally:
        writer.close()


def tiled_territory(n_tiles: int, folder: Path):
    """(gtfs folders, osm path, points DataFrame) of the Audomarois copied ``n_tiles`` times (a square)."""
    import pandas as pd

    from mobility.config import DEFAULT_COMMUNES_PATH, DEFAULT_GTFS_PATHS, DEFAULT_OSM_PATH
    from mobility.planning.context import load_communes

    side = int(round(n_tiles ** 0.5))
    if side * side != n_tiles:
        raise SystemExit(f"--tiles: {n_tiles} is not a square number")
    communes = load_communes(DEFAULT_COMMUNES_PATH)
    import shapely

    minx, miny, maxx, maxy = shapely.total_bounds(np.asarray(list(communes["geometry"]), dtype=object))
    w, h = (maxx - minx) + 0.1, (maxy - miny) + 0.1
    shifts = [(j * h, i * w) for j in range(side) for i in range(side)]
    out = folder / f"tiles{n_tiles}"
    gtfs = []
    for k, (dlat, dlon) in enumerate(shifts):
        for src in DEFAULT_GTFS_PATHS:
            dst = out / f"{Path(src).name}_t{k}"
            if not dst.exists():
                _copy_feed(Path(src), dst, dlat, dlon)
            gtfs.append(str(dst))
    osm = out / "tiled.osm.pbf"
    if not osm.exists():
        _write_tiled_osm(Path(DEFAULT_OSM_PATH), osm, shifts, side)
    pts = pd.concat([pd.DataFrame({"id": [f"t{k}:{c}" for c in communes["insee"]],
                                   "lat": communes["lat"] + dlat, "lon": communes["lon"] + dlon,
                                   "population": communes["population"].astype(float)})
                     for k, (dlat, dlon) in enumerate(shifts)], ignore_index=True)
    return gtfs, str(osm), pts


# ------------------------------------------------------------------------------------------- runs

def _worker_rss_mib() -> float:
    import resource as _r

    return _r.getrusage(_r.RUSAGE_SELF).ru_maxrss / 1024


def run(label, ctx, points, column, day, window, sizes, args, client) -> list[dict]:
    from mobility.analysis.opportunities import opportunity_access

    kw = dict(within_min=(30, 60), percentiles=(50,), step_min=args.step_min, modes="transit", by="origin",
              chunk=args.chunk)
    rows = []
    warm = np.arange(min(4, len(points)))  # numba, timetable, point grids: once per process
    opportunity_access(ctx, points, [column], day, window, origins=warm, **kw)
    if client is not None:  # every worker loads the context and builds its point grid once
        opportunity_access(ctx, points, [column], day, window, origins=np.arange(min(64, len(points))),
                           executor=client, **{**kw, "chunk": 1})
    for n in sizes:
        origins = np.linspace(0, len(points) - 1, n).round().astype(np.int64)
        t = time.perf_counter()
        local = opportunity_access(ctx, points, [column], day, window, origins=origins, **kw)
        t_local = time.perf_counter() - t
        row = {"workload": label, "origins": n, "inprocess_s": t_local, "per_profile_ms": 1000 * t_local / n,
               "inprocess_rss_mib": rss_mib()}
        if client is not None:
            t = time.perf_counter()
            remote = opportunity_access(ctx, points, [column], day, window, origins=origins, executor=client, **kw)
            t_dask = time.perf_counter() - t
            same = np.array_equal(np.nan_to_num(local.values, nan=-1), np.nan_to_num(remote.values, nan=-1))
            per_worker = client.run(_worker_rss_mib)
            row.update({"dask_s": t_dask, "dask_identical": bool(same),
                        "dask_worker_rss_mib": [round(v) for v in per_worker.values()]})
        rows.append(row)
        print(_fmt(row), flush=True)
    return rows


def _fmt(r: dict) -> str:
    text = (f"  {r['workload']:<22s} {r['origins']:5d} origins: in process {r['inprocess_s']:7.2f} s "
            f"({r['per_profile_ms']:6.1f} ms/profile, RSS {r['inprocess_rss_mib']:.0f} MiB)")
    if "dask_s" in r:
        text += (f"; Dask 2 workers {r['dask_s']:7.2f} s, identical={r['dask_identical']}, "
                 f"worker RSS {r['dask_worker_rss_mib']} MiB")
    return text


def _client(args):
    if args.no_dask:
        return None, None
    from dask.distributed import Client, LocalCluster

    if args.dask:
        return None, Client(args.dask)
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    return cluster, Client(cluster)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tiles", default="1,4,16", help="Audomarois copies (square numbers; 1,4,16)")
    ap.add_argument("--step-min", type=int, default=15, help="minutes between departures 08:00-09:00 (15)")
    ap.add_argument("--chunk", type=int, default=16, help="profiles per job (16)")
    ap.add_argument("--dask", metavar="ADDRESS", help="an existing Dask scheduler instead of a LocalCluster")
    ap.add_argument("--no-dask", action="store_true", help="in process only")
    ap.add_argument("--skip-poa", action="store_true")
    ap.add_argument("--skip-tiles", action="store_true")
    ap.add_argument("--work-dir", help="where the tiled copies are written (default: a temporary folder)")
    args = ap.parse_args()

    from mobility.loaders.points import load_points
    from mobility.planning.context import load_context

    os.environ.setdefault("MOBILITY_CACHE_DIR", tempfile.mkdtemp(prefix="mobility-bench-"))
    window = (dt.time(8, 0), dt.time(9, 0))
    cluster, client = _client(args)
    rows = []
    try:
        if not args.skip_poa:
            if not REALDATA.is_dir():
                print(f"Porto Alegre skipped: {REALDATA} is absent")
            else:
                t = time.perf_counter()
                ctx = load_context([REALDATA / "poa_eptc.zip", REALDATA / "poa_trensurb.zip"],
                                   REALDATA / "poa_osm.pbf")
                pts = load_points(REALDATA / "poa_hexgrid.csv")
                print(f"Porto Alegre: context {time.perf_counter() - t:.1f} s, {len(pts)} hexagons, "
                      f"{int((pts['jobs'] > 0).sum())} with jobs")
                n = len(pts)
                rows += run("porto_alegre jobs", ctx, pts, "jobs", dt.date(2019, 4, 16), window,
                            [n // 8, n // 4, n // 2, n], args, client)
        if not args.skip_tiles:
            work = Path(args.work_dir) if args.work_dir else Path(tempfile.mkdtemp(prefix="mobility-tiles-"))
            for k in (int(x) for x in args.tiles.split(",")):
                t = time.perf_counter()
                gtfs, osm, pts = tiled_territory(k, work)
                ctx = load_context(gtfs, osm)
                net = ctx.planner.network
                print(f"Audomarois x{k}: {len(net.stops)} stops, {len(pts)} points, built in "
                      f"{time.perf_counter() - t:.1f} s")
                rows += run(f"audomarois x{k}", ctx, pts, "population", dt.date(2026, 12, 1), window, [len(pts)],
                            args, client)
    finally:
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()
    print(json.dumps(rows), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
