"""``mobility streets``: the street network (walk or drive) as GIS layers, nodes and edges, for QGIS & co.

The graph is the loaders' OSMnx-convention ``MultiDiGraph``; OSMnx's own ``graph_to_gdfs`` turns it into
GeoDataFrames (edges without a ``geometry`` get the straight segment between their nodes), written as a
GeoPackage with two layers, or the edges as GeoJSON.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from mobility.errors import InputError
from mobility.i18n import one_of


def register(sub) -> None:
    p = sub.add_parser("streets", help="export the street network (walk or drive) as a GeoPackage or GeoJSON")
    p.add_argument("--osm", metavar="PATH", help="OSM extract (default: the embedded data)")
    p.add_argument("--mode", choices=["walk", "drive"], default="walk",
                   help="walk (footways, steps...) or drive (one-way streets, speed_kph, travel_time)")
    p.add_argument("--out", required=True, metavar="PATH",
                   help="streets.gpkg (layers nodes and edges) or streets.geojson (edges)")
    p.set_defaults(handler=run_streets)


def run_streets(args: argparse.Namespace) -> int:
    out = Path(args.out)
    suffix = out.suffix.lower()
    if suffix not in (".gpkg", ".geojson", ".json"):
        raise InputError("err_cli_out_suffix", out=str(out), expected=one_of(".gpkg", ".geojson"))
    import osmnx as ox

    from mobility.config import DEFAULT_OSM_PATH
    from mobility.loaders.osm import drive_graph, load_osm, walk_graph

    osm = load_osm(args.osm or DEFAULT_OSM_PATH)
    graph = (drive_graph if args.mode == "drive" else walk_graph)(osm)
    nodes, edges = ox.graph_to_gdfs(graph)
    edges = edges.reset_index()
    for frame in (nodes, edges):  # list-valued OSM attributes (merged ways) do not fit a GIS column
        for col in frame.columns:
            if frame[col].dtype == object and col != "geometry":
                frame[col] = frame[col].map(lambda v: ";".join(map(str, v)) if isinstance(v, list) else v)
    out.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".gpkg":
        out.unlink(missing_ok=True)  # a fresh file, not layers appended to an old one
        nodes.reset_index().to_file(out, driver="GPKG", layer="nodes")
        edges.to_file(out, driver="GPKG", layer="edges")
    else:
        edges.to_file(out, driver="GeoJSON")
    print(f"{out}: {len(nodes)} nodes, {len(edges)} edges ({args.mode})")
    return 0
