"""``mobility streets``: the street network as GIS layers through OSMnx's ``graph_to_gdfs``."""

from __future__ import annotations

import geopandas as gpd
import pyogrio
import pytest

from mobility.config import DEFAULT_OSM_PATH
from mobility.interfaces.cli import main
from mobility.loaders.osm import drive_graph, load_osm


@pytest.mark.slow  # multi-second; CI's second step runs it
def test_drive_network_geopackage(tmp_path, capsys):
    out = tmp_path / "streets.gpkg"
    assert main(["streets", "--mode", "drive", "--out", str(out)]) == 0
    assert sorted(name for name, _ in pyogrio.list_layers(out)) == ["edges", "nodes"]
    graph = drive_graph(load_osm(DEFAULT_OSM_PATH))
    nodes = gpd.read_file(out, layer="nodes")
    edges = gpd.read_file(out, layer="edges")
    assert len(nodes) == graph.number_of_nodes() and len(edges) == graph.number_of_edges()
    assert {"u", "v", "key", "length", "speed_kph", "travel_time", "oneway", "geometry"} <= set(edges.columns)
    row = edges.iloc[0]
    start = row.geometry.coords[0]
    assert start == pytest.approx((graph.nodes[row.u]["x"], graph.nodes[row.u]["y"]))
    assert row.travel_time == pytest.approx(graph.edges[row.u, row.v, row.key]["travel_time"])
    assert f"{len(nodes)} nodes, {len(edges)} edges (drive)" in capsys.readouterr().out


def test_walk_edges_geojson_and_bad_suffix(tmp_path, capsys, monkeypatch):
    out = tmp_path / "walk.geojson"
    assert main(["streets", "--out", str(out)]) == 0
    assert len(gpd.read_file(out)) > 1000
    for name in ("LC_ALL", "LC_MESSAGES", "LANGUAGE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", "en_GB.UTF-8")  # the message in the locale's language
    assert main(["streets", "--out", str(tmp_path / "x.shp")]) == 2
    assert "expected .gpkg or .geojson" in capsys.readouterr().err
    monkeypatch.setenv("LANG", "fr_FR.UTF-8")
    assert main(["streets", "--out", str(tmp_path / "x.shp")]) == 2
    assert "extension attendue : .gpkg ou .geojson" in capsys.readouterr().err
