#!/usr/bin/env python3
"""Build the reconstructed default data set of the Audomarois from the fact tables in ``data/facts/``.

The official Mouvéo GTFS and an OpenStreetMap extract cannot be downloaded, so the project ships a
*deterministic reconstruction*:

* ``communes.geojson``  the real commune boundaries: IGN Admin Express COG 2018 (simplified by
  france-geojson), Licence Ouverte / Etalab, read from ``../shared/audomarois/communes.geojson`` (resolved
  next to the repository, ``--shared`` to change it).  The territory outline is their union.  Regeneration
  needs that folder and says so (exit status 2) when it is absent; the generated files are committed.
* ``osm/audomarois.osm.pbf``  a synthetic road network in real OSM tagging (towns as street grids sized
  by population, departmental roads between towns, the A26, footways/steps, address nodes).
* ``gtfs/audomarois/``  a GTFS + GTFS-Flex v2 feed (Mouvéo lines 1/3/4/5, regional coaches, TER at
  Saint-Omer, TAD zones), published as a reconstruction, not as the operator's feed.  The bus lines follow
  shortest paths on the generated roads through their key stops (network.csv); intermediate stops are placed
  along that path (about every 400 m on urban lines, 1-3 per village on coach lines) and running times come
  from the road distance (one-way streets used by a line get ``oneway:bus=no``).
* ``services.csv``  public-service sites placed on generated addresses.

Everything generated lies inside the real commune it is named after: the street grid of a town, its
addresses, its named streets (a "Route de X" keeps its name only while it stays in the town) and the stops
(named after the commune whose polygon holds them).  TAD zones are unions of whole commune polygons.

Everything is derived from the facts with fixed rules (no randomness; pseudo-variation comes from
SHA-256 hashes of stable keys), outputs are sorted and carry no timestamp, so two runs are byte-identical.

Usage: ``python scripts/build_default_data.py [--out DIR] [--facts DIR] [--shared DIR]``; with
``--calendar``, it only rewrites ``facts/calendar.csv`` from the ``holidays`` and ``vacances-scolaires-france``
libraries (the other fact tables are kept by hand, with their sources).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import hashlib
import io
import json
import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import osmium
import shapely
from osmium.osm.mutable import Node, Way
from pyproj import Geod, Transformer
from scipy.spatial import Delaunay
from shapely.geometry import LineString, Point, mapping, shape
from shapely.ops import unary_union

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "audomarois"
TO_L93 = Transformer.from_crs("EPSG:4326", "EPSG:2154", always_xy=True)
TO_WGS = Transformer.from_crs("EPSG:2154", "EPSG:4326", always_xy=True)

SAINT_OMER = "62765"
FEED_START, FEED_END = dt.date(2026, 8, 31), dt.date(2027, 8, 31)
OSM_TIMESTAMP = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
#: address points and town streets keep this far inside their commune's boundary (metres)
ADDRESS_INSET_M = 3.0
BOUNDARY_ATTRIBUTION = "IGN Admin Express, Licence Ouverte"
BOUNDARY_SOURCE = ("IGN Admin Express COG 2018, simplified by github gregoiredavid/france-geojson (mapshaper), "
                   "Licence Ouverte / Etalab; via ../shared/audomarois/communes.geojson")

#: town-centre points printed in Wikipedia infoboxes (see the shared facts, services.csv coord_method
#: 'wikipedia-town-centre'); nearer the built-up centre than the area centroid.  Other communes use the centroid.
TOWN_CENTRES = {
    "62765": (2.26167, 50.74611, "https://fr.wikipedia.org/wiki/Saint-Omer_%28Pas-de-Calais%29"),
    "62014": (2.39583, 50.63833, "https://fr.wikipedia.org/wiki/Aire-sur-la-Lys"),
    "62534": (2.12167, 50.70583, "http://fr.wikipedia.org/wiki/Lumbres"),
    "62902": (2.22972, 50.71167, "https://fr.wikipedia.org/wiki/Wizernes"),
}
#: Saint-Omer station, Wikipedia infobox 50°45'14"N 2°16'01"E (UIC 87281444)
STATION_SO = (2.26694, 50.75389)
#: neighbouring stations OUTSIDE the territory (Lille – Calais line); positions approximate (reconstructed)
OUTSIDE_STATIONS = {
    "Renescure": (2.3690, 50.7290, "Route de Renescure", "62040"),
    "Watten-Éperlecques": (2.2125, 50.8290, "Route de Watten", "62297"),
}
#: postcodes we are confident of (La Poste); others are omitted from the address nodes
POSTCODES = {"62765": "62500", "62040": "62510", "62525": "62219", "62014": "62120", "62534": "62380",
             "62309": "62380", "62325": "62560", "62139": "62575", "62423": "62570", "62902": "62570",
             "62811": "62129"}

#: street names forced into some towns (sourced addresses of services, well-known Saint-Omer streets)
TOWN_STREETS = {
    "62765": ["Place Foch", "Rue Saint-Bertin", "Place Victor Hugo", "Rue de Wissocq", "Rue de Dunkerque",
              "Rue de Calais", "Rue d'Arras", "Rue Carnot", "Rue des Clouteries", "Rue de Lyzel",
              "Boulevard de Strasbourg", "Boulevard Vauban", "Rue Gambetta", "Rue Allent",
              "Rue de l'Écusserie", "Rue du Saint-Sépulcre", "Rue de Valbelle", "Rue Henri Dupuis"],
    "62325": ["Grand-Place", "Rue de l'Église", "Avenue Roland Huguet", "Rue Principale"],
    "62534": ["Grand-Place", "Rue de l'Église", "Rue François Cousin", "Rue Bernard Chochoy"],
    "62423": ["Rue de l'Église", "Route de Blendecques", "Rue Principale"],
    "62014": ["Grand-Place", "Rue de l'Église", "Rue d'Arras", "Rue de Saint-Omer"],
}
GENERIC_STREETS = [
    "Rue de la Mairie", "Rue du Moulin", "Rue des Écoles", "Rue du Château", "Rue Pasteur", "Rue Jean Jaurès",
    "Rue Victor Hugo", "Rue du Général de Gaulle", "Rue de la Paix", "Rue des Tilleuls", "Rue du Marais",
    "Rue du Stade", "Rue des Prés", "Rue du Calvaire", "Chemin Vert", "Rue Roger Salengro", "Rue Gambetta",
    "Rue de la Libération", "Rue du 8 Mai 1945", "Rue Léon Blum", "Rue Émile Zola", "Rue Anatole France",
    "Rue de Verdun", "Rue du Bois", "Rue des Champs", "Allée des Peupliers", "Rue du Presbytère",
    "Rue de la Fontaine", "Rue des Jardins", "Rue du Marché", "Rue Saint-Martin", "Rue des Fleurs",
    "Rue du Maréchal Leclerc", "Rue de la République", "Rue du Four", "Rue de la Chapelle", "Rue des Vergers",
    "Rue de la Brasserie", "Rue des Aubépines", "Rue de la Croix", "Rue du Pont", "Rue des Sources",
]

#: departmental roads with their real numbers (courses between the listed towns are reconstructed)
NAMED_ROADS = [
    ("D943", "primary", ["62765", "62040", "62205", "62684", "62901", "62014"]),
    ("D942", "secondary", ["62765", "62525", "62902", "62403", "62309", "62534"]),
    ("D928", "secondary", ["62525", "62423", "62656", "62229", "62271", "62569", "62325"]),
]
#: more road links forced so that every modelled bus line follows a road between consecutive towns
EXTRA_LINKS = [("62765", "62757"), ("62765", "62139"), ("62139", "62902"), ("62423", "62471"),
               ("62471", "62811"), ("62811", "62295"), ("62423", "62139")]
#: A26 (Calais – Reims) through the west and south of the territory: approximate course (reconstructed)
A26_COURSE = [(2.030, 50.842), (2.070, 50.806), (2.112, 50.774), (2.160, 50.748), (2.183, 50.720),
              (2.212, 50.688), (2.238, 50.657), (2.262, 50.628), (2.298, 50.600), (2.345, 50.566)]
A26_JUNCTIONS = [(1, "62618", "2"), (4, "62794", "3"), (7, "62811", "4")]

TAD_RULES = {  # zone id -> (name, predicate on a commune row); applied to communes without a fixed stop
    "TAD-FAUQ": "TAD Pays de Fauquembergues",
    "TAD-LUMB": "TAD Pays de Lumbres",
    "TAD-AIRE": "TAD Aire et Morinie",
    "TAD-EPER": "TAD Éperlecques / Ardrésis",
}
FICTION_PHONE = "+33 3 53 48 00 00"  # ARCEP range reserved for fiction: clearly not a real booking line
CATEGORY_VOCABULARY = {
    "france_services", "maison_services_publics", "caf", "cpam", "france_travail", "pmi", "cias",
    "relais_petite_enfance", "point_information_jeunesse", "sous_prefecture", "hospital", "mairie",
    "intercommunalite", "gare", "tourisme", "maison_adolescents"}


# ----------------------------------------------------------------------------------------------- helpers
def hval(*key) -> float:
    """Deterministic pseudo-random number in [0, 1) from a stable key."""
    digest = hashlib.sha256("|".join(map(str, key)).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64


def to_l93(lon: float, lat: float) -> tuple[float, float]:
    x, y = TO_L93.transform(lon, lat)
    return float(x), float(y)


def to_wgs(x: float, y: float, nd: int = 7) -> tuple[float, float]:
    lon, lat = TO_WGS.transform(x, y)
    return round(float(lon), nd), round(float(lat), nd)


def read_csv(path: Path) -> list[dict]:
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def write_csv(path: Path, header: list[str], rows) -> None:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    for r in rows:
        w.writerow(["" if v is None else v for v in (r if isinstance(r, (list, tuple)) else [r.get(h) for h in header])])
    path.write_text(buf.getvalue(), encoding="utf-8")


def hms(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def parse_hm(text: str) -> int:
    h, m = text.split(":")
    return int(h) * 3600 + int(m) * 60


def round_geom(geom, nd: int = 7):
    """Coordinates rounded to ``nd`` decimals (the published polygons have 5: rounding changes nothing there)."""
    return shapely.transform(geom, lambda xy: np.round(xy, nd))


# ---------------------------------------------------------------------------------------------- communes
class SharedDataMissing(Exception):
    """The shared reference data (real commune boundaries) is not where the generator looks for it."""


def load_boundaries(shared: Path, communes: list[dict]) -> tuple[dict, dict]:
    """The real commune polygons: (insee -> lon/lat geometry as published, insee -> Lambert-93 geometry)."""
    path = shared / "communes.geojson"
    if not path.is_file():
        raise SharedDataMissing(f"{path} not found: regenerating the default data needs the shared reference data "
                                "(real commune boundaries); the generated files in data/ are committed and need "
                                "no regeneration")
    features = json.loads(path.read_text(encoding="utf-8"))["features"]
    wgs = {str(f["properties"]["insee"]): shape(f["geometry"]) for f in features}
    missing = sorted({c["insee"] for c in communes} - set(wgs))
    if missing:
        raise SystemExit(f"{path}: no boundary for the communes {', '.join(missing)}")
    wgs = {c["insee"]: wgs[c["insee"]] for c in communes}

    def fn(xy):
        x, y = TO_L93.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])
    return wgs, {k: shapely.transform(g, fn) for k, g in wgs.items()}


def geodesic_area_km2(geom) -> float:
    """Area on the WGS84 ellipsoid of a lon/lat polygon (the shared file's own measure)."""
    return abs(Geod(ellps="WGS84").geometry_area_perimeter(geom)[0]) / 1e6


def town_centre(c: dict, cell) -> tuple[float, float]:
    if c["insee"] in TOWN_CENTRES:
        p = to_l93(*TOWN_CENTRES[c["insee"]][:2])
        if cell.contains(Point(p)):
            return p
    p = to_l93(float(c["lon"]), float(c["lat"]))
    return p if cell.contains(Point(p)) else tuple(cell.representative_point().coords[0])


# --------------------------------------------------------------------------------------------- road model
@dataclass
class Net:
    nodes: dict = field(default_factory=dict)      # id -> (x, y, tags)
    ways: list = field(default_factory=list)       # (id, [node ids], tags)
    next_node: int = 1
    next_way: int = 1
    addresses: list = field(default_factory=list)  # (node id, insee, street, number)

    def node(self, x: float, y: float, tags: dict | None = None) -> int:
        nid = self.next_node
        self.next_node += 1
        self.nodes[nid] = (x, y, tags or {})
        return nid

    def way(self, refs: list[int], tags: dict) -> int:
        wid = self.next_way
        self.next_way += 1
        self.ways.append((wid, list(refs), tags))
        return wid

    def xy(self, nid: int) -> tuple[float, float]:
        return self.nodes[nid][0], self.nodes[nid][1]


@dataclass
class Town:
    insee: str
    name: str
    population: int
    centre: tuple
    grid: dict = field(default_factory=dict)        # (i, j) -> node id (kept nodes only)
    n: int = 2
    street_nodes: dict = field(default_factory=dict)  # street name -> [node ids] (ordered along the street)
    used_names: set = field(default_factory=set)
    perimeter: list = field(default_factory=list)
    centre_node: int = 0
    area: object = None  # the commune polygon (Lambert-93) shrunk by ADDRESS_INSET_M: addresses stay inside

    def holds(self, x: float, y: float) -> bool:
        return bool(shapely.contains_xy(self.area, x, y))


def street_names(c: dict, count: int) -> list[str]:
    insee, pop = c["insee"], int(c["population"])
    names = list(TOWN_STREETS.get(insee, []))
    if not names:
        names = (["Grand-Place"] if pop >= 3000 else []) + ["Rue de l'Église", "Rue Principale"]
    rest = sorted((n for n in GENERIC_STREETS if n not in names), key=lambda n: hval(insee, n))
    return (names + rest)[:count]


def grid_size(pop: int) -> tuple[int, float]:
    n = max(2, min(8, round(math.sqrt(pop / 200.0))))
    block = 140.0 if pop >= 5000 else (120.0 if pop >= 1500 else 100.0)
    return n, block


def add_addresses(net: Net, town: Town, street: str, runs: list[list[int]]) -> None:
    """Address nodes along a street (given as one or more runs of nodes): odd numbers on the left, even on
    the right, 8 m from the axis, numbered continuously over the runs."""
    polylines = [[net.xy(r) for r in run] for run in runs]
    total = sum(math.dist(p[k], p[k + 1]) for p in polylines for k in range(len(p) - 1))
    need = max(24, 2 * max((n for (s, n) in REQUIRED_NUMBERS.get(town.insee, []) if s == street), default=0))
    spacing = min(22.0, max(6.0, total / (need / 2 + 0.5)))
    k = 0
    for pts in polylines:
        seglens = [math.dist(pts[i], pts[i + 1]) for i in range(len(pts) - 1)]
        length, d = sum(seglens), spacing / 2
        while d <= length:
            acc, s = 0.0, 0
            while s < len(seglens) - 1 and acc + seglens[s] < d:
                acc += seglens[s]
                s += 1
            seg = seglens[s] or 1.0
            (x0, y0), (x1, y1) = pts[s], pts[s + 1]
            t = (d - acc) / seg
            dx, dy = (x1 - x0) / seg, (y1 - y0) / seg
            x, y = x0 + t * (x1 - x0), y0 + t * (y1 - y0)
            for side, number in ((1, 2 * k + 1), (-1, 2 * k + 2)):
                ax, ay = x - side * 8 * dy, y + side * 8 * dx
                if not town.holds(ax, ay):  # the street runs along the commune boundary: no house across it
                    continue
                tags = {"addr:housenumber": str(number), "addr:street": street, "addr:city": town.name}
                if town.insee in POSTCODES:
                    tags["addr:postcode"] = POSTCODES[town.insee]
                nid = net.node(ax, ay, tags)
                net.addresses.append((nid, town.insee, street, number))
            k += 1
            d += spacing


REQUIRED_NUMBERS: dict[str, list[tuple[str, int]]] = {}


def build_town(net: Net, c: dict, cell) -> Town:
    """Street grid (rotated, clipped to the commune polygon: nodes and street segments inside it) with
    tertiary axes and residential streets."""
    pop = int(c["population"])
    cx, cy = town_centre(c, cell)
    town = Town(c["insee"], c["name"], pop, (cx, cy))
    town.area = cell.buffer(-ADDRESS_INSET_M)
    shapely.prepare(town.area)
    n, block = grid_size(pop)
    town.n = n
    angle = math.radians(-15 + 30 * hval("angle", c["insee"]))
    ca, sa = math.cos(angle), math.sin(angle)
    half = n / 2.0
    inner = cell.buffer(-15)
    shapely.prepare(inner)
    for i in range(n + 1):
        for j in range(n + 1):
            u, v = (i - half) * block, (j - half) * block
            # small deterministic jitter so that the grid does not look ruled
            u += 12 * (hval("ju", c["insee"], i, j) - 0.5)
            v += 12 * (hval("jv", c["insee"], i, j) - 0.5)
            x, y = cx + u * ca - v * sa, cy + u * sa + v * ca
            if inner.contains(Point(x, y)) or (i, j) == (n // 2, n // 2):
                town.grid[(i, j)] = net.node(x, y)

    def inside(a, b) -> bool:  # a street segment between two grid nodes stays in the commune
        return town.area.contains(LineString([net.xy(town.grid[a]), net.xy(town.grid[b])]))

    town.grid = keep_connected(town.grid, (n // 2, n // 2), inside)
    town.centre_node = town.grid[(n // 2, n // 2)]
    names = street_names(c, 2 * (n + 1))
    centre_idx = n // 2
    # line order: central E-W, central N-S, then alternating outwards
    lines = [("ew", centre_idx), ("ns", centre_idx)]
    for off in range(1, n + 1):
        for idx in (centre_idx - off, centre_idx + off):
            if 0 <= idx <= n:
                lines += [("ew", idx), ("ns", idx)]
    big = pop >= 3000
    for (orient, idx), name in zip(lines, names):
        keys = [(k, idx) for k in range(n + 1)] if orient == "ew" else [(idx, k) for k in range(n + 1)]
        runs, run, prev = [], [], None
        for key in keys:
            if key in town.grid and (not run or inside(prev, key)):
                run.append(town.grid[key])
            elif key in town.grid:  # the segment from prev leaves the commune: a new run starts here
                runs.append(run)
                run = [town.grid[key]]
            elif run:
                runs.append(run)
                run = []
            prev = key
        if run:
            runs.append(run)
        runs = [r for r in runs if len(r) >= 2]
        if not runs:
            continue
        central = idx == centre_idx
        for r in runs:
            tags = {"highway": "tertiary" if central and big else ("unclassified" if central else "residential"),
                    "name": name}
            tags.update(urban_speed(c["insee"], name, central))
            if c["insee"] == SAINT_OMER and hval("oneway", name) < 0.3 and not central:
                tags["oneway"] = "yes"
            net.way(r, tags)
        refs = [x for r in runs for x in r]
        town.street_nodes[name] = refs
        town.used_names.add(name)
        add_addresses(net, town, name, runs)
    town.perimeter = sorted(nid for (i, j), nid in town.grid.items() if i in (0, n) or j in (0, n)
                            or any((i + di, j + dj) not in town.grid for di, dj in ((1, 0), (-1, 0), (0, 1), (0, -1))))
    add_footpaths(net, town)
    return town


def urban_speed(insee: str, name: str, central: bool) -> dict:
    if insee == SAINT_OMER and not central and hval("zone30", name) < 0.4:
        return {"maxspeed": "30"}
    if central:
        return {"maxspeed": "50"}
    return {"maxspeed": "FR:urban"} if hval("implicit", insee, name) < 0.5 else {"maxspeed": "50"}


def keep_connected(grid: dict, start, linked) -> dict:
    """Keep the grid nodes 4-connected to the centre node through segments accepted by ``linked(a, b)``."""
    seen, todo = {start}, [start]
    while todo:
        i, j = todo.pop()
        for di, dj in ((1, 0), (-1, 0), (0, 1), (0, -1)):
            k = (i + di, j + dj)
            if k in grid and k not in seen and linked((i, j), k):
                seen.add(k)
                todo.append(k)
    return {k: v for k, v in grid.items() if k in seen}


def add_footpaths(net: Net, town: Town) -> None:
    """Pedestrian shortcuts across central blocks; one of them has steps (wheelchair=no)."""
    if town.n < 4:
        return
    c = town.n // 2
    for k, (a, b) in enumerate((((c, c), (c + 1, c + 1)), ((c - 1, c), (c, c - 1)))):
        if a not in town.grid or b not in town.grid:
            continue
        (x0, y0), (x1, y1) = net.xy(town.grid[a]), net.xy(town.grid[b])
        if not town.area.contains(LineString([(x0, y0), (x1, y1)])):
            continue
        m1 = net.node(x0 + (x1 - x0) * 0.4, y0 + (y1 - y0) * 0.4)
        m2 = net.node(x0 + (x1 - x0) * 0.6, y0 + (y1 - y0) * 0.6)
        name = f"Passage {town.name}" if k == 0 else None
        base = {"highway": "footway"} | ({"name": name} if name else {})
        net.way([town.grid[a], m1], base)
        if k == 0:
            net.way([m1, m2], {"highway": "steps", "wheelchair": "no", "incline": "up", "step_count": "18"})
        else:
            net.way([m1, m2], {"highway": "footway", "surface": "paving_stones", "wheelchair": "yes"})
        net.way([m2, town.grid[b]], dict(base))


def perimeter_towards(net: Net, town: Town, target: tuple) -> int:
    cx, cy = town.centre
    dx, dy = target[0] - cx, target[1] - cy
    norm = math.hypot(dx, dy) or 1.0
    return max(town.perimeter, key=lambda nid: ((net.xy(nid)[0] - cx) * dx + (net.xy(nid)[1] - cy) * dy) / norm
               - 0.3 * abs((net.xy(nid)[0] - cx) * dy - (net.xy(nid)[1] - cy) * dx) / norm)


def curve_points(p: tuple, q: tuple, key: str, step: float = 250.0) -> list[tuple]:
    """Intermediate points between p and q with a smooth deterministic lateral deviation."""
    length = math.dist(p, q)
    count = max(1, int(length // step))
    nx, ny = -(q[1] - p[1]) / (length or 1), (q[0] - p[0]) / (length or 1)
    a1 = (hval(key, "a1") - 0.5) * 0.16 * length
    a2 = (hval(key, "a2") - 0.5) * 0.06 * length
    out = []
    for k in range(1, count):
        t = k / count
        off = a1 * math.sin(math.pi * t) + a2 * math.sin(2 * math.pi * t)
        out.append((p[0] + t * (q[0] - p[0]) + off * nx, p[1] + t * (q[1] - p[1]) + off * ny))
    return out


def connect_towns(net: Net, a: Town, b: Town, cls: str, ref: str | None, towns: dict) -> None:
    """Road from town a to town b: 'Route de B' leaving a, rural middle part, 'Route de A' entering b."""
    pa = perimeter_towards(net, a, b.centre)
    pb = perimeter_towards(net, b, a.centre)
    key = "-".join(sorted((a.insee, b.insee)))
    pts = curve_points(net.xy(pa), net.xy(pb), key)
    refs = [pa] + [net.node(x, y) for x, y in pts] + [pb]
    total = len(refs) - 1
    n_in = min(2, max(1, total // 4))
    k_a = named_prefix(net, a, refs, n_in)
    k_b = named_prefix(net, b, refs[::-1], n_in)
    pieces = [(refs[: k_a + 1], a, b), (refs[k_a: total - k_b + 1], None, None), (refs[total - k_b:], b, a)]
    if total < 3:
        pieces = [(refs, None, None)]
    for seg, town, other in pieces:
        if len(seg) < 2:
            continue
        tags = {"highway": cls}
        if ref:
            tags["ref"] = ref
        if town is None:
            tags["maxspeed"] = "80" if (ref or hval("rural", key) < 0.6) else "FR:rural"
        else:
            tags["maxspeed"] = "50"
            name = f"Route de {other.name}"
            if name not in town.used_names:
                tags["name"] = name
                town.used_names.add(name)
                town.street_nodes[name] = seg
                add_addresses(net, town, name, [seg])
        net.way(seg, tags)


def named_prefix(net: Net, town: Town, refs: list[int], most: int) -> int:
    """How many of the first ``most`` segments of a road leaving ``town`` stay inside its commune (they carry
    the town's street name and addresses; the rest of the road is rural and unnamed)."""
    k = 0
    while k < most and k + 1 < len(refs) and town.area.contains(LineString([net.xy(refs[k]), net.xy(refs[k + 1])])):
        k += 1
    return k


def road_links(towns: dict) -> dict[tuple, tuple]:
    """Gabriel graph of the town centres (connected, planar-ish) plus the named and forced links."""
    codes = sorted(towns)
    pts = np.array([towns[k].centre for k in codes])
    tri = Delaunay(pts)
    edges = set()
    for simplex in tri.simplices:
        for u in range(3):
            i, j = sorted((int(simplex[u]), int(simplex[(u + 1) % 3])))
            edges.add((i, j))
    links = {}
    for i, j in sorted(edges):
        mid, r2 = (pts[i] + pts[j]) / 2, np.sum((pts[i] - pts[j]) ** 2) / 4
        d2 = np.sum((pts - mid) ** 2, axis=1)
        d2[[i, j]] = np.inf
        if d2.min() >= r2 and math.sqrt(4 * r2) < 9000:
            links[(codes[i], codes[j])] = ("tertiary", None)
    for ref, cls, seq in NAMED_ROADS:
        for u, v in zip(seq, seq[1:]):
            links.pop((min(u, v), max(u, v)), None)
            links[(min(u, v), max(u, v))] = (cls, ref)
    for u, v in EXTRA_LINKS:
        links.setdefault((min(u, v), max(u, v)), ("tertiary", None))
    for (u, v), (cls, ref) in list(links.items()):
        if cls == "tertiary" and min(towns[u].population, towns[v].population) < 700:
            links[(u, v)] = ("unclassified", None)
    return dict(sorted(links.items()))


def build_motorway(net: Net, towns: dict) -> None:
    """A26 as two one-way carriageways with three junctions (motorway_link) to nearby towns."""
    course = [to_l93(lon, lat) for lon, lat in A26_COURSE]
    dense = []
    for k in range(len(course) - 1):
        dense.append((course[k], k))
        dense += [(p, None) for p in curve_points(course[k], course[k + 1], f"A26-{k}", 400.0)]
    dense.append((course[-1], len(course) - 1))
    for sign, direction in ((1, "north"), (-1, "south")):
        refs, junction_nodes = [], {}
        for idx, ((x, y), waypoint) in enumerate(dense):
            (xa, ya) = dense[max(0, idx - 1)][0]
            (xb, yb) = dense[min(len(dense) - 1, idx + 1)][0]
            length = math.hypot(xb - xa, yb - ya) or 1
            nid = net.node(x + sign * 12 * (yb - ya) / length, y - sign * 12 * (xb - xa) / length)
            refs.append(nid)
            if waypoint is not None:
                junction_nodes[waypoint] = nid
        if direction == "north":
            refs.reverse()
        net.way(refs, {"highway": "motorway", "ref": "A26", "name": "Autoroute des Anglais", "oneway": "yes",
                       "maxspeed": "130", "lanes": "2", "int_ref": "E 15;E 17", "toll": "yes"})
        for waypoint, insee, number in A26_JUNCTIONS:
            town = towns[insee]
            target = perimeter_towards(net, town, net.xy(junction_nodes[waypoint]))
            mids = curve_points(net.xy(junction_nodes[waypoint]), net.xy(target), f"link-{insee}-{direction}", 200.0)
            link = [junction_nodes[waypoint]] + [net.node(x, y) for x, y in mids] + [target]
            net.way(link, {"highway": "motorway_link", "maxspeed": "90", "oneway": "no",
                           "destination": f"{town.name}", "junction:ref": number})


def build_station_area(net: Net, so: Town) -> tuple[int, int]:
    """Place du 8-Mai-1945 with the station node (exact coordinates) joined to the Saint-Omer grid."""
    sx, sy = to_l93(*STATION_SO)
    station = net.node(sx, sy, {"railway": "station", "public_transport": "station", "name": "Saint-Omer",
                                "uic_ref": "87281444", "operator": "SNCF", "train": "yes",
                                "wheelchair": "yes"})
    target = min(so.grid.values(), key=lambda nid: math.dist(net.xy(nid), (sx, sy)))
    tx, ty = net.xy(target)
    d = math.dist((sx, sy), (tx, ty))
    ux, uy = (tx - sx) / d, (ty - sy) / d
    bus = net.node(sx + 45 * ux, sy + 45 * uy)
    mids = [net.node(x, y) for x, y in curve_points((sx + 45 * ux, sy + 45 * uy), (tx, ty), "gare", 120.0)]
    # the forecourt square, then the street up to the town grid
    west = net.node(sx - 60 * uy, sy + 60 * ux)
    east = net.node(sx + 60 * uy, sy - 60 * ux)
    net.way([west, station, east], {"highway": "pedestrian", "name": "Place du 8-Mai-1945", "wheelchair": "yes"})
    net.way([station, bus], {"highway": "residential", "name": "Place du 8-Mai-1945", "maxspeed": "30"})
    so.street_nodes["Place du 8-Mai-1945"] = [west, station, east]
    so.used_names.add("Place du 8-Mai-1945")
    add_addresses(net, so, "Place du 8-Mai-1945", [[west, station, east]])
    net.way([bus] + mids + [target], {"highway": "tertiary", "name": "Rue de la Gare", "maxspeed": "50"})
    so.used_names.add("Rue de la Gare")
    add_addresses(net, so, "Rue de la Gare", [[bus] + mids + [target]])
    park = net.node(sx + 45 * ux + 50 * uy, sy + 45 * uy - 50 * ux)
    net.way([bus, park], {"highway": "service", "service": "parking_aisle", "name": "Parking de la Gare"})
    # a footbridge with steps over the tracks: shorter on foot, not step-free
    far = net.node(sx - 90 * ux, sy - 90 * uy)
    net.way([station, far], {"highway": "steps", "name": "Passerelle de la gare", "wheelchair": "no",
                             "bridge": "yes", "layer": "1"})
    other = min((n for n in so.grid.values() if n != target), key=lambda nid: (math.dist(net.xy(nid), net.xy(far)), nid))
    net.way([far, other], {"highway": "footway"})
    return station, bus


def build_outside_station(net: Net, name: str, lonlat: tuple, road_name: str, towns: dict, insee: str) -> int:
    x, y = to_l93(*lonlat)
    station = net.node(x, y, {"railway": "station", "public_transport": "station", "name": name, "train": "yes"})
    town = towns[insee]
    target = perimeter_towards(net, town, (x, y))
    mids = [net.node(px, py) for px, py in curve_points((x, y), net.xy(target), f"out-{name}", 250.0)]
    net.way([station] + mids + [target], {"highway": "unclassified", "name": road_name, "maxspeed": "80"})
    return station


def write_osm(net: Net, path: Path) -> None:
    header = osmium.io.Header()
    header.set("generator", "mobility scripts/build_default_data.py (reconstruction)")
    path.parent.mkdir(parents=True, exist_ok=True)
    common = dict(version=1, changeset=1, uid=1, user="mobility-reconstruction", timestamp=OSM_TIMESTAMP)
    writer = osmium.SimpleWriter(str(path), header=header, overwrite=True)
    try:
        for nid in sorted(net.nodes):
            x, y, tags = net.nodes[nid]
            writer.add_node(Node(location=to_wgs(x, y), id=nid, tags=dict(sorted(tags.items())), **common))
        for wid, refs, tags in sorted(net.ways, key=lambda w: w[0]):
            writer.add_way(Way(id=wid, nodes=refs, tags=dict(sorted(tags.items())), **common))
    finally:
        writer.close()


# ------------------------------------------------------------------------------------------------ services
def parse_address(text: str) -> tuple[int | None, str | None]:
    if not text:
        return None, None
    street = text.split(",")[0].strip()
    number = None
    head = street.split(" ", 1)
    if head[0].isdigit():
        number, street = int(head[0]), head[1]
    return number, street[0].upper() + street[1:]


def collect_required_numbers(services: list[dict]) -> None:
    for s in services:
        number, street = parse_address(s["address"])
        if street and number:
            REQUIRED_NUMBERS.setdefault(s["insee"], []).append((street, number))


def place_services(services: list[dict], net: Net, towns: dict, station_node: int, postcode_of) -> list[dict]:
    by_key, by_insee = {}, {}
    for nid, insee, street, number in net.addresses:
        by_key[(insee, street, number)] = nid
        by_insee.setdefault(insee, []).append((insee, street, number))
    taken = set()
    rows = []
    for s in sorted(services, key=lambda r: r["id"]):
        town = towns[s["insee"]]
        number, street = parse_address(s["address"])
        quality = "reconstructed-address"
        if s["category"] == "gare":
            nid, quality = station_node, "exact"
        elif street and number and (s["insee"], street, number) in by_key:
            nid = by_key[(s["insee"], street, number)]
        else:
            cands = [k for k in by_insee.get(s["insee"], []) if street is None or k[1] == street]
            if not cands:
                raise SystemExit(f"no address for {s['id']} {street} in {town.name}")
            cx, cy = town.centre
            cands.sort(key=lambda k: (k in taken, round(math.dist(net.xy(by_key[k]), (cx, cy)), 1), k[1], k[2]))
            key = cands[0]
            nid, street, number = by_key[key], key[1], key[2]
        taken.add((s["insee"], street, number))
        lon, lat = to_wgs(*net.xy(nid))
        pc = postcode_of(s["insee"])
        address = s["address"] if s["category"] == "gare" else f"{number} {street}, {pc + ' ' if pc else ''}{town.name}"
        cats = [s["category"]] + [c for c in s["extra_categories"].split(";") if c]
        assert all(c in CATEGORY_VOCABULARY for c in cats), cats
        rows.append({"id": s["id"], "name": s["name"], "categories": ";".join(cats), "commune": s["commune"],
                     "insee": s["insee"], "address": address, "lat": f"{lat:.6f}", "lon": f"{lon:.6f}",
                     "coord_quality": quality, "opening_hours": opening_hours(s), "wheelchair": wheelchair(s),
                     "phone": phone(s), "status": s["status"], "source": service_source(s, quality),
                     "note": s["note"], "_node": nid})
    return rows


def opening_hours(s: dict) -> str:
    cat = s["category"]
    if cat == "hospital":
        return "24/7"
    if cat == "gare":
        return "Mo-Fr 05:30-21:30; Sa 06:30-21:00; Su 08:00-21:00"
    if cat == "sous_prefecture":
        return "Mo-Fr 09:00-13:00; PH off"
    if cat == "tourisme":
        return "Mo-Sa 09:30-12:30,14:00-18:00; PH off"
    if cat == "mairie":
        if hval("mairie-hours", s["insee"]) < 0.5:
            return "Mo,Tu,Th,Fr 09:00-12:00,14:00-17:00; We 14:00-17:00; PH off"
        return "Mo-Fr 08:30-12:00,13:30-17:00; PH off"
    if cat in ("maison_adolescents", "point_information_jeunesse"):
        return "Mo,Tu,Th,Fr 09:00-12:00,14:00-17:00; We 14:00-17:00; PH off"
    return "Mo-Fr 08:30-12:00,13:30-17:00; PH off"


def wheelchair(s: dict) -> str:
    if s["category"] in ("hospital", "gare", "france_services", "sous_prefecture", "caf", "cpam", "france_travail"):
        return "yes"
    if s["category"] == "mairie":
        v = hval("wheelchair", s["insee"])
        return "yes" if v < 0.6 else ("limited" if v < 0.9 else "no")
    return "limited" if hval("wheelchair", s["id"]) < 0.3 else "yes"


def phone(s: dict) -> str:
    """Phone numbers printed in the cited sources (see the shared facts notes); none otherwise."""
    known = {"svc-008": "+33 3 21 88 70 00", "svc-015": "+33 3 21 98 08 51", "svc-016": "+33 3 21 93 45 46",
             "svc-025": "+33 3 21 39 61 18"}
    return known.get(s["id"], "")


def service_source(s: dict, quality: str) -> str:
    where = ("position: exact (source coordinates)" if quality == "exact"
             else "position and street number: reconstructed (generated address in data/osm)")
    hours = "opening_hours: sous-préfecture page" if s["category"] == "sous_prefecture" else "opening_hours: reconstructed"
    return f"{s['source']} | {where}; {hours}; wheelchair: reconstructed"


# -------------------------------------------------------------------------------------------------- GTFS
@dataclass
class Stop:
    stop_id: str
    name: str
    node: int
    insee: str
    wheelchair: int
    desc: str = ""


def stop_node(net: Net, town: Town | None, label: str, used: set, special: dict) -> int:
    if label in special:
        return special[label]
    if "@" in label:  # 'Landmark@Street': at the outer end of the street (a terminus on the edge of the town)
        refs = town.street_nodes[label.split("@", 1)[1]]
        return max(refs, key=lambda r: (round(math.dist(net.xy(r), town.centre), 1), -r))
    if label in town.street_nodes:
        refs = town.street_nodes[label]
        grid_refs = [r for r in refs if r in town.grid.values()] or refs
        return min(grid_refs, key=lambda r: (math.dist(net.xy(r), town.centre), r))
    cands = sorted(town.grid.values(), key=lambda r: (round(math.dist(net.xy(r), town.centre), 1), r))
    for r in cands:
        if r not in used:
            return r
    return cands[0]


def slug(text: str) -> str:
    import unicodedata
    t = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().upper()
    return "".join(ch if ch.isalnum() else "_" for ch in t).strip("_")


def build_stops(lines: list[dict], net: Net, towns: dict, special: dict) -> dict[str, Stop]:
    stops, used = {}, set()
    for line in lines:
        for key in line["stops"].split("|"):
            if key in stops:
                continue
            insee, label = key.split(":", 1)
            if insee == "X":
                nid = special[label]
                stops[key] = Stop(f"X_{slug(label)}", f"{label} (gare)", nid, "", 0, "outside the territory")
                continue
            town = towns[insee]
            nid = stop_node(net, town, label, used, special if insee == SAINT_OMER or label == "Centre hospitalier" else {})
            used.add(nid)
            label = label.split("@", 1)[0]
            name = f"{town.name} {label}"
            wb = 1 if (town.population >= 1500 or label in ("Gare", "Gare SNCF", "Centre hospitalier")) else (
                2 if hval("wb", key) < 0.5 else 1)
            stops[key] = Stop(f"{insee}_{slug(label)}", name, nid, insee, wb)
    return stops


# ------------------------------------------------------------------------------------ line paths and stops
#: drivable classes used by buses (speed in km/h only steers the path search towards main roads)
BUS_ROAD_SPEED = {"primary": 80.0, "secondary": 70.0, "tertiary": 50.0, "unclassified": 45.0, "residential": 30.0}
#: the Mouvéo urban area (communes of the urban lines 1/3/4/5)
URBAN_COMMUNES = {"62765", "62040", "62525", "62139", "62902", "62757", "62423"}
#: stop spacing along the path in metres: (minimum, target, maximum); coaches in the urban area only call at
#: stops of the urban lines, far apart
SPACING = {"urban": (290.0, 420.0, 540.0), "urban-outskirts": (260.0, 450.0, 560.0), "coach": (300.0, 450.0, 650.0), "coach-town": (250.0, 340.0, 480.0),
           "coach-urban": (800.0, 1200.0, 2200.0)}
#: the rural centres where coaches stop more often
COACH_TOWNS = {"62014", "62534", "62325", "62811", "62295"}
#: one-way streets cost this much more for buses (they run against the flow in a contraflow bus lane,
#: tagged oneway:bus=no on the ways actually used)
ONEWAY_BUS_PENALTY = 3.0
#: commercial speeds between stops, dwell included (km/h): (town streets, rural roads)
LINE_SPEED = {"urban": (19.0, 25.0), "backbone": (20.0, 26.0), "coach": (26.0, 50.0)}
VILLAGE_LANDMARKS = ["Église", "École", "Place", "Salle des fêtes", "Cimetière", "Calvaire", "Monument aux morts",
                     "Stade"]
CENTRE_LANDMARKS = ["Église", "Poste", "Médiathèque", "Collège", "Square", "Halle", "Théâtre", "Lycée", "Musée",
                    "Hôtel de ville", "Palais de justice", "Marché couvert", "Résidence du Parc", "Place"]
TOWN_LANDMARKS = ["Stade", "Collège", "Cimetière", "Zone d'activités", "Salle des sports", "Résidence les Tilleuls",
                  "Zone commerciale", "Lotissement du Moulin", "Les Prés", "Piscine", "Parc", "Maison de retraite",
                  "Pont", "Le Marais", "Les Hauts", "Zone artisanale", "Lycée", "Groupe scolaire", "Cité",
                  "Chapelle", "Ferme", "Carrefour", "Château d'eau", "Bois"]


@dataclass
class BusGraph:
    adj: dict      # node -> [(other node, length m, cost s, rural)]
    ways: dict     # (node, node) sorted -> tags of the way (shared dict: tags can be added)
    names: dict    # node -> sorted street names of the drivable named ways through it
    owner: dict    # node -> insee of the town whose streets contain it
    commune: dict  # node -> insee of the commune area containing it (None outside)


def bus_graph(net: Net, towns: dict, cells: dict) -> BusGraph:
    """Undirected graph of the two-way drivable roads (one-way streets and the motorway are not used by buses)."""
    adj, names, edge_ways = {}, {}, {}
    for _, refs, tags in sorted(net.ways, key=lambda w: w[0]):
        hw = tags.get("highway")
        if hw not in BUS_ROAD_SPEED:
            continue
        rural = tags.get("maxspeed") in ("80", "FR:rural")
        for a, b in zip(refs, refs[1:]):
            d = math.dist(net.xy(a), net.xy(b))
            cost = d / (BUS_ROAD_SPEED[hw] / 3.6) * (ONEWAY_BUS_PENALTY if tags.get("oneway") == "yes" else 1.0)
            edge_ways[(min(a, b), max(a, b))] = tags
            adj.setdefault(a, []).append((b, d, cost, rural))
            adj.setdefault(b, []).append((a, d, cost, rural))
        if tags.get("name"):
            for r in refs:
                names.setdefault(r, set()).add(tags["name"])
    owner = {}
    for insee in sorted(towns):
        town = towns[insee]
        for nid in town.grid.values():
            owner[nid] = insee
        for name in sorted(town.street_nodes):
            for nid in town.street_nodes[name]:
                owner.setdefault(nid, insee)
    ids = sorted(adj)
    xy = np.array([net.xy(n) for n in ids])
    commune = dict.fromkeys(ids)
    for insee in sorted(cells):
        inside = shapely.contains_xy(cells[insee], xy[:, 0], xy[:, 1])
        for k in np.nonzero(inside)[0]:
            commune.setdefault(ids[k], insee)
            if commune[ids[k]] is None:
                commune[ids[k]] = insee
    return BusGraph(adj, edge_ways, {k: sorted(v) for k, v in names.items()}, owner, commune)


def shortest_path(g: BusGraph, src: int, dst: int) -> list[int]:
    import heapq
    best, prev, heap = {src: 0.0}, {}, [(0.0, src)]
    while heap:
        c, u = heapq.heappop(heap)
        if u == dst:
            break
        if c > best[u]:
            continue
        for v, _, cost, _ in g.adj.get(u, []):
            nc = c + cost
            if nc < best.get(v, math.inf) - 1e-9:
                best[v], prev[v] = nc, u
                heapq.heappush(heap, (nc, v))
    if dst not in best:
        raise SystemExit(f"no bus path between nodes {src} and {dst}")
    path = [dst]
    while path[-1] != src:
        path.append(prev[path[-1]])
    return path[::-1]


def edge_info(g: BusGraph, a: int, b: int) -> tuple[float, bool]:
    for v, d, _, rural in g.adj[a]:
        if v == b:
            return d, rural
    raise KeyError((a, b))


class StopNamer:
    """Real-looking, unique (per commune) stop names: cross street, street, then landmark-style names."""

    def __init__(self, towns: dict, stops: dict):
        self.towns = towns
        self.used = {}
        for st in stops.values():
            if st.insee:
                self.used.setdefault(st.insee, set()).add(st.name.removeprefix(towns[st.insee].name + " "))

    def name(self, g: BusGraph, node: int, insee: str, travel: set) -> str:
        town = self.towns[insee]
        used = self.used.setdefault(insee, set())
        here = g.names.get(node, [])
        streets = [n for n in here if n not in travel] + [n for n in here if n in travel]
        streets = [n for n in streets if not n.startswith("Passage ")]
        in_grid = node in set(town.grid.values())
        if town.population < 1500:
            landmarks = VILLAGE_LANDMARKS
        else:
            landmarks = sorted(CENTRE_LANDMARKS if in_grid else TOWN_LANDMARKS, key=lambda n: hval(insee, n))
        order = (landmarks + streets) if (town.population < 1500 and in_grid) else (streets + landmarks)
        for label in order:
            if label not in used:
                used.add(label)
                return label
        k = 2
        while f"{order[0]} {k}" in used:
            k += 1
        used.add(f"{order[0]} {k}")
        return f"{order[0]} {k}"


def line_path(g: BusGraph, keys: list[Stop]) -> list[int]:
    path = [keys[0].node]
    for a, b in zip(keys, keys[1:]):
        path += shortest_path(g, a.node, b.node)[1:]
    return path


def densify_line(line: dict, keys: list[Stop], g: BusGraph, net: Net, towns: dict, stops: dict,
                 by_node: dict, namer: StopNamer) -> tuple[list[Stop], list[float], list[float], list[int]]:
    """Stops along the road path of a line: its key stops plus intermediate stops spaced along the path
    (shared with other lines where they already exist).  Returns the stops, the road distance and the
    running seconds (speed by road type) between consecutive stops, and the path nodes."""
    kind = line["kind"]
    path = line_path(g, keys)
    cum = [0.0]
    secs = [0.0]
    town_speed, rural_speed = LINE_SPEED[kind]
    for a, b in zip(path, path[1:]):
        d, rural = edge_info(g, a, b)
        cum.append(cum[-1] + d)
        secs.append(secs[-1] + d / ((rural_speed if rural else town_speed) / 3.6))
    key_idx, k = [], 0
    for i, nid in enumerate(path):
        if k < len(keys) and nid == keys[k].node:
            key_idx.append(i)
            k += 1
    assert len(key_idx) == len(keys), line["line_id"]
    on_line = {s.node for s in keys}

    def params(nid: int):
        c = g.commune.get(nid)
        if c is None:
            return None
        if kind in ("urban", "backbone"):
            if c in URBAN_COMMUNES:
                return SPACING["urban"] if g.owner.get(nid) == c else SPACING["urban-outskirts"]
            return SPACING["coach"] if g.owner.get(nid) == c else None
        if c in URBAN_COMMUNES:
            return SPACING["coach-urban"] if nid in by_node else None
        if g.owner.get(nid) != c:
            return None
        return SPACING["coach-town"] if c in COACH_TOWNS else SPACING["coach"]

    chosen = [key_idx[0]]
    for i0, i1 in zip(key_idx, key_idx[1:]):
        last = i0
        while True:
            eligible = []
            for j in range(last + 1, i1):
                p = params(path[j])
                if p is None or path[j] in on_line:
                    continue
                if cum[j] - cum[last] >= p[0] and cum[i1] - cum[j] >= min(p[0], 250.0):
                    eligible.append((j, p))
            if not eligible:
                break
            window = [(j, p) for j, p in eligible if cum[j] - cum[last] <= p[2]]
            if window:
                j = min(window, key=lambda jp: (abs(cum[jp[0]] - cum[last] - jp[1][1])
                                                - (150.0 if path[jp[0]] in by_node else 0.0), jp[0]))[0]
            else:
                j = eligible[0][0]
            chosen.append(j)
            on_line.add(path[j])
            last = j
        chosen.append(i1)
    seq = []
    for i in chosen:
        nid = path[i]
        if nid not in by_node:
            insee = g.commune[nid]
            town = towns[insee]
            travel = set()
            for nb in (path[i - 1] if i else None, path[i + 1] if i + 1 < len(path) else None):
                if nb is not None:
                    travel |= set(g.names.get(nid, [])) & set(g.names.get(nb, []))
            label = namer.name(g, nid, insee, travel)
            wb = 1 if town.population >= 1500 else (2 if hval("wb", insee, label) < 0.5 else 1)
            st = Stop(f"{insee}_{slug(label)}", f"{town.name} {label}", nid, insee, wb)
            assert f"{insee}:{label}" not in stops, label
            stops[f"{insee}:{label}"] = st
            by_node[nid] = st
        seq.append(by_node[nid])
    dists = [cum[b] - cum[a] for a, b in zip(chosen, chosen[1:])]
    run = [secs[b] - secs[a] for a, b in zip(chosen, chosen[1:])]
    return seq, dists, run, path


def whole_minute_offsets(seconds: list[float]) -> list[int]:
    """Cumulative running times rounded to whole minutes; between consecutive stops at least one minute and at
    least the segment time rounded to the nearest minute (rounding never makes a segment much too fast: a
    110 s run between two far-apart stops gets 2 minutes, not 1)."""
    out, acc = [0], 0.0
    for s in seconds:
        acc += s
        out.append(max(out[-1] + max(60, int(round(s / 60.0)) * 60), int(round(acc / 60.0)) * 60))
    return out


def build_patterns(lines: list[dict], stops: dict, net: Net, towns: dict, cells: dict) -> dict:
    """line id -> (stops, distances, running seconds, path) for the bus lines; the TER keeps its key stops."""
    g = bus_graph(net, towns, cells)
    by_node = {s.node: s for s in stops.values()}
    namer = StopNamer(towns, stops)
    out = {}
    order = {"backbone": 0, "urban": 1, "coach": 2}
    for line in sorted((l for l in lines if l["kind"] in order), key=lambda l: (order[l["kind"]], l["line_id"])):
        keys = [stops[k] for k in line["stops"].split("|")]
        out[line["line_id"]] = densify_line(line, keys, g, net, towns, stops, by_node, namer)
        for a, b in zip(out[line["line_id"]][3], out[line["line_id"]][3][1:]):
            tags = g.ways[(min(a, b), max(a, b))]
            if tags.get("oneway") == "yes":
                tags["oneway:bus"] = "no"
    return out


def expand_times(spec: str) -> list[tuple[int, bool]]:
    """'06:30-19:30/30 07:15 S08:35' -> [(seconds, school_only)] sorted."""
    out = []
    for tok in spec.split():
        school = tok.startswith("S")
        tok = tok.lstrip("S")
        if "/" in tok:
            rng, step = tok.split("/")
            a, b = rng.split("-")
            t = parse_hm(a)
            while t <= parse_hm(b):
                out.append((t, school))
                t += int(step) * 60
        else:
            out.append((parse_hm(tok), school))
    return sorted(set(out))


def run_times(stops: list[Stop], net: Net, kind: str) -> list[int]:
    """Cumulative seconds from the first stop: distance x detour / commercial speed, whole minutes."""
    speed = {"urban": 16.0, "backbone": 20.0, "coach": 38.0, "rail": 75.0}[kind] / 3.6
    out = [0]
    for a, b in zip(stops, stops[1:]):
        d = math.dist(net.xy(a.node), net.xy(b.node)) * (1.0 if kind == "rail" else 1.3)
        out.append(out[-1] + max(60, int(round(d / speed / 60.0)) * 60))
    return out


CALENDAR_HEADER = ["kind", "name", "start_date", "end_date", "zone", "source"]


def calendar_rows_from_libraries(first: dt.date = FEED_START, last: dt.date = FEED_END) -> list[list]:
    """Rows of ``facts/calendar.csv``: the public holidays of the feed's calendar years (``holidays``) and the
    zone B school holidays overlapping the feed (``vacances-scolaires-france``, the official calendar), each
    naming the library and version it comes from. A period the library splits at a year end is one row."""
    from importlib.metadata import version

    import holidays
    from vacances_scolaires_france import SchoolHolidayDates

    rows: list[list] = []
    ph_source = f"holidays {version('holidays')} (python-holidays), country FR"
    for year in range(first.year, last.year + 1):
        for day, name in sorted(holidays.country_holidays("FR", years=year, language="fr").items()):
            rows.append(["public_holiday", name, day.isoformat(), day.isoformat(), "France", ph_source])
    sh_source = f"vacances-scolaires-france {version('vacances-scolaires-france')}, zone B"
    school = SchoolHolidayDates()
    days = sorted((d, h["nom_vacances"]) for year in range(first.year, last.year + 1)
                  for d, h in school.holidays_for_year_and_zone(year, "B").items())
    periods: list[list] = []  # [name, start, end]
    for day, name in days:
        if periods and periods[-1][0] == name and periods[-1][2] + dt.timedelta(days=1) == day:
            periods[-1][2] = day
        else:
            periods.append([name, day, day])
    for name, start, end in periods:
        if end >= first and start <= last:
            label = f"{name} {start.year}" if name == "Vacances d'été" else name
            rows.append(["school_holiday", label, start.isoformat(), end.isoformat(), "B", sh_source])
    return rows


def service_dates(calendar_rows: list[dict]) -> dict:
    holidays = {dt.date.fromisoformat(r["start_date"]) for r in calendar_rows if r["kind"] == "public_holiday"}
    school_off = set()
    for r in calendar_rows:
        if r["kind"] == "school_holiday":
            d, end = dt.date.fromisoformat(r["start_date"]), dt.date.fromisoformat(r["end_date"])
            while d <= end:
                school_off.add(d)
                d += dt.timedelta(days=1)
    return {"ph": holidays, "school_off": school_off}


def calendar_files(cal: dict) -> tuple[list, list]:
    services = {"LAV": (1, 1, 1, 1, 1, 0, 0), "LAV_SCOL": (1, 1, 1, 1, 1, 0, 0), "SAM": (0, 0, 0, 0, 0, 1, 0),
                "DIM_FER": (0, 0, 0, 0, 0, 0, 1)}
    cal_rows = [[sid, *days, FEED_START.strftime("%Y%m%d"), FEED_END.strftime("%Y%m%d")]
                for sid, days in sorted(services.items())]
    dates = []
    d = FEED_START
    while d <= FEED_END:
        wd, ds = d.weekday(), d.strftime("%Y%m%d")
        ph = d in cal["ph"]
        if wd < 5 and ph:
            dates += [["LAV", ds, 2], ["LAV_SCOL", ds, 2], ["DIM_FER", ds, 1]]
        elif wd < 5 and d in cal["school_off"]:
            dates.append(["LAV_SCOL", ds, 2])
        if wd == 5 and ph:
            dates += [["SAM", ds, 2], ["DIM_FER", ds, 1]]
        d += dt.timedelta(days=1)
    return cal_rows, sorted(dates)


def build_gtfs(out: Path, lines: list[dict], stops: dict, patterns: dict, net: Net, boundaries: dict,
               communes: list[dict], calendar_rows: list[dict]) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*"):
        old.unlink()
    agencies = [
        ["HDF", "Région Hauts-de-France (cars interurbains)", "https://www.hautsdefrance.fr/", "Europe/Paris", "fr"],
        ["MOUVEO", "Mouvéo (CA du Pays de Saint-Omer)", "http://www.ca-pso.fr/", "Europe/Paris", "fr"],
        ["TER", "TER Hauts-de-France", "https://www.ter.sncf.com/hauts-de-france", "Europe/Paris", "fr"],
    ]
    write_csv(out / "agency.txt", ["agency_id", "agency_name", "agency_url", "agency_timezone", "agency_lang"], agencies)
    cal = service_dates(calendar_rows)
    cal_rows, cal_dates = calendar_files(cal)
    write_csv(out / "calendar.txt", ["service_id", "monday", "tuesday", "wednesday", "thursday", "friday",
                                     "saturday", "sunday", "start_date", "end_date"], cal_rows)
    write_csv(out / "calendar_dates.txt", ["service_id", "date", "exception_type"], cal_dates)
    write_csv(out / "feed_info.txt", ["feed_publisher_name", "feed_publisher_url", "feed_lang", "feed_start_date",
                                      "feed_end_date", "feed_version"],
              [["mobility project (reconstruction, not the official Mouvéo feed)",
                "https://example.org/mobility-reconstruction", "fr", FEED_START.strftime("%Y%m%d"),
                FEED_END.strftime("%Y%m%d"), "reconstruction-2026.1"]])

    stop_rows = []
    for st in sorted(stops.values(), key=lambda s: s.stop_id):
        lon, lat = to_wgs(*net.xy(st.node))
        stop_rows.append([st.stop_id, st.name, st.desc, f"{lat:.7f}", f"{lon:.7f}", 0, st.wheelchair])
    write_csv(out / "stops.txt", ["stop_id", "stop_name", "stop_desc", "stop_lat", "stop_lon", "location_type",
                                  "wheelchair_boarding"], stop_rows)

    routes, trips, stop_times = [], [], []
    fixed = [l for l in lines if l["kind"] != "tad"]
    ter = next(l for l in fixed if l["kind"] == "rail")
    ter_calls = {}
    for line in sorted(fixed, key=lambda l: (l["kind"] != "rail", l["line_id"])):
        routes.append([line["line_id"], line["agency_id"], line["route_short_name"], line["route_long_name"],
                       line["assumption"], line["route_type"], line["route_color"], "FFFFFF"])
        if line["line_id"] in patterns:
            seq, _, run, _ = patterns[line["line_id"]]
            variants = ((0, seq, whole_minute_offsets(run)), (1, seq[::-1], whole_minute_offsets(run[::-1])))
        else:
            seq = [stops[k] for k in line["stops"].split("|")]
            variants = ((0, seq, run_times(seq, net, line["kind"])),
                        (1, seq[::-1], run_times(seq[::-1], net, line["kind"])))
        for direction, pattern, offsets in variants:
            for day, sid in (("weekday", "LAV"), ("saturday", "SAM"), ("sunday", "DIM_FER")):
                spec = line[("out_" if direction == 0 else "in_") + day]
                if not spec:
                    continue
                if line["kind"] == "backbone":
                    starts = backbone_starts(spec, ter_calls.get(sid), direction, offsets)
                else:
                    starts = expand_times(spec)
                for start, school in starts:
                    service = "LAV_SCOL" if school else sid
                    trip_id = f"{line['line_id']}-{direction}-{service}-{start // 60:04d}"
                    if line["kind"] == "rail":
                        headsign = "Calais-Ville" if direction == 0 else "Lille-Flandres"
                    else:
                        headsign = pattern[-1].name
                    access = 2 if school and line["kind"] == "coach" else 1
                    trips.append([line["line_id"], service, trip_id, headsign, direction, access, start])
                    for k, (st, off) in enumerate(zip(pattern, offsets)):
                        arr = start + off
                        dep = arr + (60 if line["kind"] == "rail" and st.insee == SAINT_OMER else 0)
                        if line["kind"] == "rail" and k > 0 and st.insee == SAINT_OMER:
                            ter_calls.setdefault(service, []).append((direction, arr, dep))
                        stop_times.append([trip_id, hms(arr), hms(dep), st.stop_id, "", k + 1, 0, 0, 1,
                                           "", "", "", ""])
    # TAD (GTFS-Flex v2)
    zones = tad_zones(communes, boundaries, stops)
    booking = [["RES_J2H", 1, 120, "", "", "",
                "Réservation au plus tard 2 h avant le trajet au " + FICTION_PHONE.replace("+33 ", "0") +
                " (numéro fictif : reconstitution, le vrai numéro de réservation n'est pas connu)", FICTION_PHONE, ""],
               ["RES_VEILLE", 2, "", "", 1, "17:00:00",
                "Réservation la veille avant 17h au " + FICTION_PHONE.replace("+33 ", "0") +
                " (numéro fictif : reconstitution, le vrai numéro de réservation n'est pas connu)", FICTION_PHONE, ""]]
    write_csv(out / "booking_rules.txt", ["booking_rule_id", "booking_type", "prior_notice_duration_min",
                                          "prior_notice_duration_max", "prior_notice_last_day",
                                          "prior_notice_last_time", "message", "phone_number", "info_url"], booking)
    for line in sorted((l for l in lines if l["kind"] == "tad"), key=lambda l: l["line_id"]):
        zid = line["line_id"]
        routes.append([zid, line["agency_id"], line["route_short_name"], line["route_long_name"],
                       line["assumption"], line["route_type"], line["route_color"], "FFFFFF"])
        hub = stops[line["stops"]]
        w0, w1 = line["out_weekday"].split("-")
        win = (hms(parse_hm(w0)), hms(parse_hm(w1)))
        rule = "RES_J2H" if zid == "TAD-EPER" else "RES_VEILLE"
        for suffix, direction, rows in (
            ("VERS-POLE", 0, [("loc", zid, 2, 1, "RES_VEILLE", ""), ("stop", hub.stop_id, 1, 2, "", "RES_VEILLE")]),
            ("DEPUIS-POLE", 1, [("stop", hub.stop_id, 2, 1, "RES_VEILLE", ""), ("loc", zid, 1, 2, "", "RES_VEILLE")]),
            ("INTERNE", 0, [("loc", zid, 2, 1, rule, ""), ("loc", zid, 1, 2, "", rule)]),
        ):
            trip_id = f"{zid}-{suffix}"
            headsign = hub.name if suffix == "VERS-POLE" else line["route_long_name"]
            trips.append([zid, "LAV", trip_id, headsign, direction, 1, parse_hm(w0)])
            for k, (what, ident, pick, drop, prule, drule) in enumerate(rows):
                stop_times.append([trip_id, "", "", ident if what == "stop" else "", ident if what == "loc" else "",
                                   k + 1, pick, drop, 0, win[0], win[1], prule, drule])
    write_csv(out / "routes.txt", ["route_id", "agency_id", "route_short_name", "route_long_name", "route_desc",
                                   "route_type", "route_color", "route_text_color"], routes)
    trips.sort(key=lambda t: (t[0], t[4], t[1], t[6], t[2]))
    write_csv(out / "trips.txt", ["route_id", "service_id", "trip_id", "trip_headsign", "direction_id",
                                  "wheelchair_accessible"], [t[:6] for t in trips])
    order = {t[2]: k for k, t in enumerate(trips)}
    stop_times.sort(key=lambda r: (order[r[0]], r[5]))
    write_csv(out / "stop_times.txt", ["trip_id", "arrival_time", "departure_time", "stop_id", "location_id",
                                       "stop_sequence", "pickup_type", "drop_off_type", "timepoint",
                                       "start_pickup_drop_off_window", "end_pickup_drop_off_window",
                                       "pickup_booking_rule_id", "drop_off_booking_rule_id"], stop_times)
    features = []
    for zid, (name, geom, members) in sorted(zones.items()):
        features.append({"type": "Feature", "id": zid,
                         "properties": {"stop_name": name, "stop_desc": "Communes: " + ", ".join(members) +
                                        " (zone reconstructed: the communes without a fixed-line stop; "
                                        "union of their IGN Admin Express boundaries)"},
                         "geometry": mapping(round_geom(geom))})
    write_json(out / "locations.geojson", {"type": "FeatureCollection", "features": features})
    return {"stops": len(stops), "trips": len(trips), "stop_times": len(stop_times), "zones": len(zones)}


def backbone_starts(spec: str, ter_calls: list | None, direction: int, offsets: list[int]) -> list[tuple[int, bool]]:
    """Backbone runs timed to the trains at Saint-Omer (TER+5: leave the station 5 min after an arrival;
    TER-8: reach the station 8 min before a departure)."""
    rule, window = spec.split()
    a, b = (parse_hm(x) for x in window.split("-"))
    out = []
    for _, arr, dep in sorted(ter_calls or [], key=lambda c: c[1]):
        if rule == "TER+5" and direction == 0 and a <= arr <= b:
            out.append(arr + 300)
        if rule == "TER-8" and direction == 1 and a <= dep <= b:
            out.append(dep - 480 - offsets[-1])
    out.sort()
    kept = []
    for t in out:
        if not kept or t - kept[-1] >= 600:
            kept.append(t)
    return [(t, False) for t in kept]


def tad_zones(communes: list[dict], boundaries: dict, stops: dict) -> dict:
    """Zone id -> (name, union of the member communes' lon/lat polygons, member names): whole communes, as
    French TAD zones are defined, so the communes a zone serves are exactly its members."""
    served = {s.insee for s in stops.values() if s.insee}
    groups = {k: [] for k in TAD_RULES}
    for c in sorted(communes, key=lambda c: c["name"]):
        if c["insee"] in served:
            continue
        old = c["epci_before_2017"]
        if old == "CCCF":
            zid = "TAD-FAUQ"
        elif old == "CCPL":
            zid = "TAD-LUMB"
        elif old in ("CCPA", "CCM") or float(c["lat"]) < 50.745:
            zid = "TAD-AIRE"
        else:
            zid = "TAD-EPER"
        groups[zid].append(c)
    return {zid: (TAD_RULES[zid], unary_union([boundaries[c["insee"]] for c in members]),
                  [c["name"] for c in members]) for zid, members in groups.items() if members}


def write_json(path: Path, obj) -> None:
    path.write_text(json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n",
                    encoding="utf-8")


# -------------------------------------------------------------------------------------------------- main
def build(out: Path, facts: Path, shared: Path = SHARED) -> dict:
    communes = sorted(read_csv(facts / "communes.csv"), key=lambda c: c["insee"])
    boundaries, cells = load_boundaries(shared, communes)
    services = read_csv(facts / "services.csv")
    lines = read_csv(facts / "network.csv")
    calendar_rows = read_csv(facts / "calendar.csv")
    collect_required_numbers(services)

    net = Net()
    towns = {c["insee"]: build_town(net, c, cells[c["insee"]]) for c in communes}
    station, bus_gare = build_station_area(net, towns[SAINT_OMER])
    for (u, v), (cls, ref) in road_links(towns).items():
        connect_towns(net, towns[u], towns[v], cls, ref, towns)
    build_motorway(net, towns)
    outside = {name: build_outside_station(net, name, (lon, lat), road, towns, insee)
               for name, (lon, lat, road, insee) in sorted(OUTSIDE_STATIONS.items())}
    ensure_required_addresses(net, towns)

    svc_rows = place_services(services, net, towns, station, POSTCODES.get)
    hospital = next(r for r in svc_rows if r["id"] == "svc-008")
    hx, hy = net.xy(hospital["_node"])
    h_town = towns["62423"]
    hospital_road = min(h_town.street_nodes["Route de Blendecques"], key=lambda r: (math.dist(net.xy(r), (hx, hy)), r))
    special = {"Gare": bus_gare, "Gare SNCF": station, "Centre hospitalier": hospital_road, **outside}
    stops = build_stops(lines, net, towns, special)
    patterns = build_patterns(lines, stops, net, towns, cells)

    out.mkdir(parents=True, exist_ok=True)
    write_osm(net, out / "osm" / "audomarois.osm.pbf")
    summary = build_gtfs(out / "gtfs" / "audomarois", lines, stops, patterns, net, boundaries, communes,
                         calendar_rows)
    header = ["id", "name", "categories", "commune", "insee", "address", "lat", "lon", "coord_quality",
              "opening_hours", "wheelchair", "phone", "status", "source", "note"]
    write_csv(out / "services.csv", header, svc_rows)
    write_communes(out / "communes.geojson", communes, boundaries)
    summary.update(nodes=len(net.nodes), ways=len(net.ways), addresses=len(net.addresses), services=len(svc_rows),
                   communes=len(communes),
                   territory_km2=round(sum(geodesic_area_km2(g) for g in boundaries.values()), 1))
    return summary


def ensure_required_addresses(net: Net, towns: dict) -> None:
    have = {(i, s, n) for (_, i, s, n) in net.addresses}
    for insee, reqs in sorted(REQUIRED_NUMBERS.items()):
        for street, number in reqs:
            if (insee, street, number) not in have:
                raise SystemExit(f"required address {number} {street} ({insee}) was not generated")


def write_communes(path: Path, communes: list[dict], boundaries: dict) -> None:
    """The real boundaries as published (IGN Admin Express), with the attributes of the fact table."""
    features = []
    for c in communes:
        geom = boundaries[c["insee"]]
        features.append({"type": "Feature", "properties": {
            "insee": c["insee"], "name": c["name"], "epci": c["epci"], "population": int(c["population"]),
            "population_year": int(c["population_year"]), "area_km2": round(geodesic_area_km2(geom), 2),
            "source": "boundary: " + BOUNDARY_SOURCE + "; population: INSEE (population municipale); "
                      "attributes from data/facts/communes.csv"},
            "geometry": mapping(round_geom(geom))})
    write_json(path, {"type": "FeatureCollection", "attribution": BOUNDARY_ATTRIBUTION,
                      "licence": "Licence Ouverte / Etalab 2.0", "source": BOUNDARY_SOURCE,
                      "features": features})


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=ROOT / "data", help="output folder (default: the repo's data/)")
    ap.add_argument("--facts", type=Path, default=ROOT / "data" / "facts", help="fact tables folder")
    ap.add_argument("--shared", type=Path, default=SHARED,
                    help="shared reference data with the real commune boundaries (default: ../shared/audomarois "
                         "next to the repository)")
    ap.add_argument("--calendar", action="store_true",
                    help="only rewrite FACTS/calendar.csv from the holidays and vacances-scolaires-france libraries")
    args = ap.parse_args(argv)
    if args.calendar:
        write_csv(args.facts / "calendar.csv", CALENDAR_HEADER, calendar_rows_from_libraries())
        print(f"wrote {args.facts / 'calendar.csv'}")
        return 0
    t0 = time.perf_counter()
    REQUIRED_NUMBERS.clear()
    try:
        summary = build(args.out, args.facts, args.shared)
    except SharedDataMissing as exc:
        print(f"build_default_data: {exc}", file=sys.stderr)
        return 2
    summary["seconds"] = round(time.perf_counter() - t0, 1)
    print("build_default_data: " + ", ".join(f"{k}={v}" for k, v in summary.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
