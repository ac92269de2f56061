"""Read OpenStreetMap extracts and build street graphs in OSMnx conventions.

One pass over the file with pyosmium (:func:`load_osm`) keeps what the planner needs:
highway ways with their tags and node coordinates, and address points. Graph builders
then turn that into networkx ``MultiDiGraph`` objects shaped like OSMnx's:

* ``G.graph["crs"] == "epsg:4326"``;
* nodes keyed by OSM node id with ``x`` (lon), ``y`` (lat) and ``street_count``;
* edges ``(u, v, key)`` with ``osmid`` (way id), ``length`` (metres), ``oneway``,
  ``reversed`` and, when the way carries them, ``highway``, ``name``, ``ref``, ``maxspeed``
  (tags absent from the way are absent from the edge, as in OSMnx).

Graphs are *unsimplified*: one edge per pair of consecutive way nodes, so an edge is a
straight segment, which keeps snapping exact and simple.

Differences from OSMnx, on purpose:

* ``access=no`` is excluded like ``access=private`` unless the mode's own tag (``foot`` for
  walking; ``motor_vehicle``/``motorcar``/``vehicle`` for driving) permits it;
* walking keeps ``highway=cycleway`` when ``foot`` is yes/designated/permissive (French
  "voies vertes"), and by default keeps streets tagged ``sidewalk=separate`` (OSMnx drops
  them; pass ``exclude_separate_sidewalks=True`` to match it) because dropping them can
  disconnect places where the sidewalks are only partly mapped;
* driving treats ``highway=motorway`` and ``junction=circular`` as implicitly one-way;
* ways referencing nodes missing from the extract are split at the missing nodes.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from mobility.errors import DataError

if TYPE_CHECKING:  # networkx is imported where graphs are built, so that routing starts faster
    import networkx as nx
from mobility.geo import haversine_m

CRS = "epsg:4326"

# --------------------------------------------------------------------------------------
# reading


@dataclass
class OsmWay:
    """A way as read from the file: id, all its tags and its node ids in order."""

    id: int
    tags: dict[str, str]
    nodes: np.ndarray  # int64 OSM node ids; some may lack a location (outside the extract)


@dataclass
class OsmData:
    """What :func:`load_osm` keeps from an extract.

    ``node_ids`` is sorted; ``node_lat``/``node_lon`` (degrees) are aligned with it and
    cover every located node of every highway way. ``addresses`` are the raw address
    records (see :func:`address_points`).
    """

    path: str
    ways: list[OsmWay]
    node_ids: np.ndarray
    node_lat: np.ndarray
    node_lon: np.ndarray
    addresses: list[dict] = field(default_factory=list)

    def coords(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(found, lat, lon)`` for an array of node ids; ``found`` is a bool mask."""
        ids = np.asarray(ids, dtype=np.int64)
        pos = np.searchsorted(self.node_ids, ids)
        pos = np.minimum(pos, max(len(self.node_ids) - 1, 0))
        if len(self.node_ids) == 0:
            found = np.zeros(len(ids), dtype=bool)
            return found, np.full(len(ids), np.nan), np.full(len(ids), np.nan)
        found = self.node_ids[pos] == ids
        return found, np.where(found, self.node_lat[pos], np.nan), np.where(found, self.node_lon[pos], np.nan)


_ADDRESS_KEYS = {
    "addr:housenumber": "housenumber",
    "addr:street": "street",
    "addr:place": "place",
    "addr:city": "city",
    "addr:postcode": "postcode",
}


def _address_record(osm_type: str, osm_id: int, lat: float, lon: float, tags) -> dict:
    rec = {"osm_type": osm_type, "osm_id": osm_id, "lat": lat, "lon": lon}
    for key, col in _ADDRESS_KEYS.items():
        rec[col] = tags.get(key)
    return rec


def load_osm(path: str | Path) -> OsmData:
    """Read an OSM extract (``.osm.pbf``, ``.osm`` XML or ``.osm.gz``) in one pass.

    Keeps every way with a ``highway`` tag (tags and node ids), the coordinates of their
    nodes, and address points: nodes with ``addr:housenumber`` and the centroid (mean of
    the node coordinates) of ways with ``addr:housenumber``. Relations are ignored.

    Raises :class:`~mobility.errors.DataError` naming the file when it is missing,
    unreadable or corrupt, or holds no highway at all.
    """
    import osmium  # imported here so that importing this module stays cheap

    path = Path(path)
    if not path.is_file():
        raise DataError("OpenStreetMap file not found", path=str(path))

    ways: list[OsmWay] = []
    addresses: list[dict] = []
    ref_ids: list[int] = []
    ref_lat: list[float] = []
    ref_lon: list[float] = []
    try:
        processor = (
            osmium.FileProcessor(str(path))
            .with_locations()
            .with_filter(osmium.filter.KeyFilter("highway", "addr:housenumber"))
        )
        for obj in processor:
            tags = obj.tags
            if obj.is_node():
                if "addr:housenumber" in tags:
                    loc = obj.location
                    if loc.valid():
                        addresses.append(_address_record("node", obj.id, loc.lat, loc.lon, tags))
            elif obj.is_way():
                ids = []
                lats = []
                lons = []
                for nref in obj.nodes:
                    ids.append(nref.ref)
                    loc = nref.location
                    if loc.valid():
                        lats.append(loc.lat)
                        lons.append(loc.lon)
                    else:
                        lats.append(math.nan)
                        lons.append(math.nan)
                if "addr:housenumber" in tags:
                    good = [(la, lo) for la, lo in zip(lats, lons) if not math.isnan(la)]
                    if good:
                        # closed ways repeat their first node: do not count it twice
                        if len(good) > 1 and ids[0] == ids[-1]:
                            good = good[:-1]
                        lat_c = sum(g[0] for g in good) / len(good)
                        lon_c = sum(g[1] for g in good) / len(good)
                        addresses.append(_address_record("way", obj.id, lat_c, lon_c, tags))
                if "highway" in tags:
                    ways.append(OsmWay(obj.id, {t.k: t.v for t in tags}, np.array(ids, dtype=np.int64)))
                    ref_ids.extend(ids)
                    ref_lat.extend(lats)
                    ref_lon.extend(lons)
    except (RuntimeError, ValueError, OSError, EOFError, osmium.InvalidLocationError) as exc:
        # pyosmium reports open/parse errors as RuntimeError, a bad coordinate as InvalidLocationError
        raise DataError(f"cannot read OpenStreetMap data ({type(exc).__name__}: {exc})", path=str(path)) from exc

    if not ways:
        raise DataError("no highway found in OpenStreetMap file (empty or wrong extract?)", path=str(path))

    all_ids = np.array(ref_ids, dtype=np.int64)
    all_lat = np.array(ref_lat, dtype=float)
    all_lon = np.array(ref_lon, dtype=float)
    located = ~np.isnan(all_lat)
    node_ids, first = np.unique(all_ids[located], return_index=True)
    return OsmData(
        path=str(path),
        ways=ways,
        node_ids=node_ids,
        node_lat=all_lat[located][first],
        node_lon=all_lon[located][first],
        addresses=addresses,
    )


def address_points(osm: OsmData) -> pd.DataFrame:
    """Address points as a DataFrame for the geocoder.

    Columns: ``osm_type`` ('node' or 'way'), ``osm_id``, ``lat``, ``lon`` (degrees),
    ``housenumber``, ``street`` (``addr:street``, else ``addr:place`` as used for French
    hamlets), ``city``, ``postcode``; missing values are ``None``. Way addresses are at
    the centroid of the way's nodes.
    """
    cols = ["osm_type", "osm_id", "lat", "lon", "housenumber", "street", "city", "postcode"]
    if not osm.addresses:
        return pd.DataFrame({c: pd.Series(dtype=float if c in ("lat", "lon") else object) for c in cols})
    df = pd.DataFrame.from_records(osm.addresses)
    df["street"] = df["street"].where(df["street"].notna(), df["place"])
    df = df[cols].reset_index(drop=True)
    text = ["osm_type", "housenumber", "street", "city", "postcode"]
    df[text] = df[text].astype(object).where(df[text].notna(), None)
    return df.astype({"osm_id": "int64", "lat": "float64", "lon": "float64"})


# --------------------------------------------------------------------------------------
# speeds

#: default speed (km/h) by highway class when ``maxspeed`` is missing or unusable (French
#: limits: 130 autoroute, 80 two-lane rural road, 50 in town). :func:`drive_graph` passes
#: it to ``osmnx.routing.add_edge_speeds(hwy_speeds=...)``; the array path of
#: :func:`edge_table` reads it through :func:`edge_speed_kph`.
HIGHWAY_SPEED_KPH: dict[str, float] = {
    "motorway": 130.0,
    "motorway_link": 70.0,
    "trunk": 110.0,
    "trunk_link": 70.0,
    "primary": 80.0,
    "primary_link": 60.0,
    "secondary": 80.0,
    "secondary_link": 60.0,
    "tertiary": 70.0,
    "tertiary_link": 50.0,
    "unclassified": 50.0,
    "residential": 50.0,
    "road": 50.0,
    "busway": 50.0,
    "living_street": 20.0,
    "service": 30.0,
}
#: speed (km/h) for a highway class missing from :data:`HIGHWAY_SPEED_KPH`
FALLBACK_SPEED_KPH = 50.0
#: the French defaults under the name of issue 15 (same object as :data:`HIGHWAY_SPEED_KPH`)
FRENCH_DEFAULTS_KPH = HIGHWAY_SPEED_KPH

#: implicit ``maxspeed`` values (lower case) in km/h: French codes, then generic suffixes
#: used for any country code (``XX:urban`` ...). ``none`` (no limit) maps to the class
#: default, see :func:`edge_speed_kph`.
IMPLICIT_MAXSPEED_KPH: dict[str, float] = {
    "fr:urban": 50.0,
    "fr:rural": 80.0,
    "fr:zone30": 30.0,
    "fr:zone20": 20.0,
    "fr:living_street": 20.0,
    "fr:walk": 6.0,
    "fr:motorway": 130.0,
    "fr:expressway": 110.0,
    "fr:trunk": 110.0,
    "de:urban": 50.0,
    "de:rural": 100.0,
    "de:living_street": 7.0,
    "de:motorway": 130.0,
    "be-vlg:rural": 70.0,
    "be-wal:rural": 90.0,
    "br:urban": 50.0,
    "br:rural": 80.0,
    "gb:nsl_single": 96.56,
    "gb:nsl_dual": 112.65,
    "gb:motorway": 112.65,
    "walk": 6.0,
    "living_street": 20.0,
}
_GENERIC_SUFFIX_KPH = {
    "urban": 50.0,
    "rural": 80.0,
    "motorway": 120.0,
    "trunk": 100.0,
    "living_street": 20.0,
    "walk": 6.0,
    "zone30": 30.0,
    "zone:30": 30.0,
    "zone20": 20.0,
    "zone:20": 20.0,
}
_UNIT_FACTORS = {"": 1.0, "km/h": 1.0, "kmh": 1.0, "kph": 1.0, "mph": 1.609344, "knots": 1.852}
_SPEED_RE = re.compile(r"^\s*([0-9]+(?:[.,][0-9]+)?)\s*(km/h|kmh|kph|mph|knots)?\s*$", re.IGNORECASE)


def _parse_single_maxspeed(value: str) -> float | None:
    value = value.strip()
    m = _SPEED_RE.match(value)
    if m:
        kph = float(m.group(1).replace(",", ".")) * _UNIT_FACTORS[(m.group(2) or "").lower()]
        return kph if kph > 0 else None
    low = value.lower()
    if low in IMPLICIT_MAXSPEED_KPH:
        return IMPLICIT_MAXSPEED_KPH[low]
    if ":" in low:
        suffix = low.split(":", 1)[1]
        if suffix in _GENERIC_SUFFIX_KPH:
            return _GENERIC_SUFFIX_KPH[suffix]
        m = re.match(r"^zone:?(\d+)$", suffix)
        if m:
            return float(m.group(1))
    return None


def parse_maxspeed(value: str | None) -> float | None:
    """Speed limit in km/h from a raw OSM ``maxspeed`` value, or None if unusable.

    Understands plain numbers (km/h), units (``"50 mph"``, ``"30 km/h"``, ``"10 knots"``),
    implicit values (:data:`IMPLICIT_MAXSPEED_KPH`, e.g. ``"FR:urban"`` -> 50,
    ``"FR:zone30"`` -> 30, any ``"XX:urban"`` -> 50) and several values separated by
    ``;`` or ``|`` (per lane or alternatives), which are averaged like OSMnx does.
    ``"none"``, ``"signals"``, ``"variable"`` and garbage give None (the caller then
    uses the highway class default).
    """
    if value is None:
        return None
    parts = [p for p in re.split(r"[;|]", str(value)) if p.strip()]
    speeds = [s for s in (_parse_single_maxspeed(p) for p in parts) if s is not None]
    if not speeds:
        return None
    return float(sum(speeds) / len(speeds))


def directional_maxspeed(tags: dict[str, str], forward: bool = True) -> tuple[float | None, str | None]:
    """``(km/h, raw value)`` of the speed limit of a way in one direction (``forward`` = along
    the node order): ``maxspeed:forward``/``:backward``, else ``maxspeed``; ``(None, raw or
    None)`` when no usable value is tagged (see :func:`parse_maxspeed`)."""
    directional = tags.get("maxspeed:forward" if forward else "maxspeed:backward")
    for raw in (directional, tags.get("maxspeed")):
        kph = parse_maxspeed(raw)
        if kph is not None:
            return kph, raw
    return None, directional if directional is not None else tags.get("maxspeed")


def osmnx_maxspeed(kph: float) -> str:
    """A km/h value written so that OSMnx's ``maxspeed`` cleaning reads it back exactly
    (positional notation, shortest round-trip digits: ``50.0`` -> ``"50"``)."""
    return np.format_float_positional(float(kph), trim="-")


def edge_speed_kph(tags: dict[str, str], forward: bool = True) -> float:
    """Free-flow speed (km/h) of a way: ``maxspeed:forward``/``:backward`` for the given
    direction, else ``maxspeed``, else the highway class default (:data:`HIGHWAY_SPEED_KPH`,
    :data:`FALLBACK_SPEED_KPH` for a class it lacks).

    This is the array path's speed; :func:`drive_graph` gets the same numbers from OSMnx's
    ``add_edge_speeds`` fed with :func:`osmnx_maxspeed` of :func:`directional_maxspeed`.
    """
    kph, _ = directional_maxspeed(tags, forward)
    if kph is not None:
        return kph
    return HIGHWAY_SPEED_KPH.get(tags.get("highway", ""), FALLBACK_SPEED_KPH)


def travel_time_s(length_m, speed_kph):
    """Free-flow travel time in seconds, with the very arithmetic of
    ``osmnx.routing.add_edge_travel_times`` (km divided by km/s), so that the array path
    and the OSMnx graph agree to the last bit."""
    return (np.asarray(length_m, dtype=float) / 1000) / (np.asarray(speed_kph, dtype=float) / (60 * 60))


# --------------------------------------------------------------------------------------
# filters

_PERMIT = {"yes", "designated", "permissive", "destination", "customers", "delivery", "official"}
_WALK_EXCLUDED_HIGHWAY = {
    "abandoned", "bus_guideway", "construction", "cycleway", "motorway", "motorway_link",
    "motorway_junction", "no", "planned", "platform", "proposed", "raceway", "razed",
    "rest_area", "services", "disused", "dismantled",
}
_DRIVE_EXCLUDED_HIGHWAY = {
    "abandoned", "bridleway", "bus_guideway", "busway", "construction", "corridor", "cycleway",
    "elevator", "escalator", "footway", "no", "path", "pedestrian", "planned", "platform",
    "proposed", "raceway", "razed", "rest_area", "service", "services", "steps", "track",
    "bus_stop", "disused", "dismantled",
}
_DRIVE_EXCLUDED_SERVICE = {"alley", "driveway", "emergency_access", "parking", "parking_aisle", "private"}
_DRIVE_SERVICE_EXCLUDED_SERVICE = {"emergency_access", "parking", "parking_aisle", "private"}
_SEPARATE_SIDEWALK_KEYS = ("sidewalk", "sidewalk:both", "sidewalk:left", "sidewalk:right")


def is_walkable(tags: dict[str, str], *, exclude_separate_sidewalks: bool = False) -> bool:
    """Whether a highway way belongs to the walking network (OSMnx "walk" filter, see module doc)."""
    hwy = tags.get("highway")
    if not hwy or tags.get("area") == "yes":
        return False
    foot = tags.get("foot")
    if hwy in _WALK_EXCLUDED_HIGHWAY and not (hwy == "cycleway" and foot in _PERMIT):
        return False
    if foot in ("no", "private"):
        return False
    if tags.get("access") in ("private", "no") and foot not in _PERMIT:
        return False
    if tags.get("service") == "private":
        return False
    if exclude_separate_sidewalks and any(tags.get(k) == "separate" for k in _SEPARATE_SIDEWALK_KEYS):
        return False
    return True


def is_drivable(tags: dict[str, str], *, include_service: bool = False) -> bool:
    """Whether a highway way belongs to the driving network (OSMnx "drive", or
    "drive_service" when ``include_service``)."""
    hwy = tags.get("highway")
    if not hwy or tags.get("area") == "yes":
        return False
    if hwy in _DRIVE_EXCLUDED_HIGHWAY and not (include_service and hwy == "service"):
        return False
    motor = [tags.get(k) for k in ("motor_vehicle", "motorcar", "vehicle")]
    if tags.get("motor_vehicle") in ("no", "private") or tags.get("motorcar") in ("no", "private"):
        return False
    if tags.get("access") in ("private", "no") and not any(m in _PERMIT for m in motor):
        return False
    excluded_service = _DRIVE_SERVICE_EXCLUDED_SERVICE if include_service else _DRIVE_EXCLUDED_SERVICE
    return tags.get("service") not in excluded_service


_ONEWAY_FORWARD = {"yes", "true", "1"}
_ONEWAY_REVERSE = {"-1", "reverse"}


def oneway_direction(tags: dict[str, str]) -> int:
    """Driving direction of a way: 0 two-way, 1 along the node order, -1 against it.

    ``oneway=yes/true/1`` -> 1, ``oneway=-1/reverse`` -> -1, ``oneway=no/false/0`` -> 0;
    otherwise roundabouts (``junction=roundabout/circular``) and ``highway=motorway`` are
    implicitly one-way. ``oneway=reversible/alternating`` is two-way.
    """
    value = (tags.get("oneway") or "").strip().lower()
    if value in _ONEWAY_FORWARD:
        return 1
    if value in _ONEWAY_REVERSE:
        return -1
    if value in ("no", "false", "0"):
        return 0
    if tags.get("junction") in ("roundabout", "circular") or tags.get("highway") == "motorway":
        return 1
    return 0


def is_step_free(tags: dict[str, str]) -> bool:
    """False for ``highway=steps`` and ``wheelchair=no``; True otherwise."""
    return tags.get("highway") != "steps" and tags.get("wheelchair") != "no"


# --------------------------------------------------------------------------------------
# graphs

_EDGE_TAGS = ("highway", "name", "ref", "maxspeed")


def _segment_arrays(osm: OsmData) -> dict[str, np.ndarray]:
    """Every pair of consecutive located nodes of every highway way, computed once per
    :class:`OsmData`: ``u``, ``v`` (OSM node ids), ``way`` (index into ``osm.ways``) and
    ``length_m``."""
    cached = getattr(osm, "_segments_cache", None)
    if cached is not None:
        return cached
    lens = np.fromiter((len(w.nodes) for w in osm.ways), dtype=np.int64, count=len(osm.ways))
    nodes = np.concatenate([w.nodes for w in osm.ways]) if osm.ways else np.zeros(0, np.int64)
    way_idx = np.repeat(np.arange(len(osm.ways)), lens)
    found, lat, lon = osm.coords(nodes)
    ok = (way_idx[:-1] == way_idx[1:]) & found[:-1] & found[1:]
    seg = {
        "u": nodes[:-1][ok],
        "v": nodes[1:][ok],
        "way": way_idx[:-1][ok],
        "length_m": np.asarray(haversine_m(lat[:-1][ok], lon[:-1][ok], lat[1:][ok], lon[1:][ok]), dtype=float),
    }
    osm._segments_cache = seg
    return seg


def _largest_component_mask(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Mask of the edges u->v in the largest weakly connected component."""
    from scipy.sparse import coo_matrix  # imported here: reading a cached network needs no scipy
    from scipy.sparse.csgraph import connected_components

    if len(u) == 0:
        return np.zeros(0, dtype=bool)
    nodes, inv = np.unique(np.concatenate([u, v]), return_inverse=True)
    m = len(u)
    adj = coo_matrix((np.ones(m), (inv[:m], inv[m:])), shape=(len(nodes), len(nodes)))
    _, labels = connected_components(adj, directed=True, connection="weak")
    return labels[inv[:m]] == np.bincount(labels).argmax()


def edge_table(osm: OsmData, mode: str = "walk", *, retain_all: bool = False,
               exclude_separate_sidewalks: bool = False, include_service: bool = False) -> pd.DataFrame:
    """Directed street edges of the ``"walk"`` or ``"drive"`` network as a DataFrame.

    This is what :func:`walk_graph` and :func:`drive_graph` put in their graphs, without
    the cost of building networkx objects (``StreetNetwork.from_osm`` uses it directly).
    Columns: ``u``, ``v`` (OSM node ids), ``way`` (index into ``osm.ways``), ``osmid``,
    ``length_m``, ``reversed``, ``forward`` (the edge runs along the way's node order, which
    picks ``maxspeed:forward`` over ``:backward``), ``oneway``, ``step_free`` and, for
    ``"drive"``, ``speed_kph`` (:func:`edge_speed_kph`) and ``travel_time_s``
    (:func:`travel_time_s`), the numbers :func:`drive_graph` gets from OSMnx. See the graph
    builders for the rules.
    """
    if mode not in ("walk", "drive"):
        raise ValueError(f"mode must be 'walk' or 'drive', not {mode!r}")
    seg = _segment_arrays(osm)
    n_ways = len(osm.ways)
    include = np.zeros(n_ways, dtype=bool)
    direction = np.zeros(n_ways, dtype=np.int8)
    step_free = np.ones(n_ways, dtype=bool)
    fwd_kph = np.full(n_ways, np.nan)
    bwd_kph = np.full(n_ways, np.nan)
    for i, way in enumerate(osm.ways):
        tags = way.tags
        if mode == "walk":
            include[i] = is_walkable(tags, exclude_separate_sidewalks=exclude_separate_sidewalks)
            step_free[i] = is_step_free(tags)
        elif is_drivable(tags, include_service=include_service):
            include[i] = True
            direction[i] = oneway_direction(tags)
            fwd_kph[i] = edge_speed_kph(tags, forward=True)
            bwd_kph[i] = edge_speed_kph(tags, forward=False)

    sel = include[seg["way"]]
    u, v, way, length = seg["u"][sel], seg["v"][sel], seg["way"][sel], seg["length_m"][sel]
    d = direction[way]
    # forward copies (along the node order) for two-way and oneway=yes; backward copies for
    # two-way (reversed=True) and oneway=-1 (reversed=False, OSMnx convention)
    fwd = d >= 0
    bwd = d <= 0
    cols = {
        "u": np.concatenate([u[fwd], v[bwd]]),
        "v": np.concatenate([v[fwd], u[bwd]]),
        "way": np.concatenate([way[fwd], way[bwd]]),
        "length_m": np.concatenate([length[fwd], length[bwd]]),
        "reversed": np.concatenate([np.zeros(fwd.sum(), bool), d[bwd] == 0]),
        "forward": np.concatenate([np.ones(fwd.sum(), bool), np.zeros(bwd.sum(), bool)]),
        "oneway": np.concatenate([d[fwd] != 0, d[bwd] != 0]),
    }
    cols["osmid"] = np.fromiter((w.id for w in osm.ways), dtype=np.int64, count=n_ways)[cols["way"]]
    cols["step_free"] = step_free[cols["way"]]
    if mode == "drive":
        cols["speed_kph"] = np.concatenate([fwd_kph[way[fwd]], bwd_kph[way[bwd]]])
        cols["travel_time_s"] = travel_time_s(cols["length_m"], cols["speed_kph"])
    table = pd.DataFrame(cols)
    if table.empty:
        raise DataError(f"no {'walkable' if mode == 'walk' else 'drivable'} street in OpenStreetMap file",
                        path=osm.path)
    if not retain_all:
        table = table[_largest_component_mask(table["u"].to_numpy(), table["v"].to_numpy())]
    return table.reset_index(drop=True)


def _street_counts(node_ids: np.ndarray, table: pd.DataFrame) -> np.ndarray:
    """Physical street segments per node as in ``osmnx.stats.count_streets_per_node``: a
    two-way street counts once, a self-loop twice."""
    u = table["u"].to_numpy()
    v = table["v"].to_numpy()
    segs = np.unique(np.column_stack([np.minimum(u, v), np.maximum(u, v), table["osmid"].to_numpy()]), axis=0)
    return np.bincount(np.searchsorted(node_ids, segs[:, :2].ravel()), minlength=len(node_ids))


def graph_from_table(osm: OsmData, table: pd.DataFrame, *, osmnx_maxspeed_tags: bool = False) -> nx.MultiDiGraph:
    """networkx ``MultiDiGraph`` (OSMnx conventions, see module doc) from :func:`edge_table`.

    Copies ``speed_kph``/``travel_time`` when the table has them. With
    ``osmnx_maxspeed_tags`` each edge's ``maxspeed`` becomes the limit of its own direction
    in plain km/h (:func:`directional_maxspeed`, :func:`osmnx_maxspeed`: ``FR:urban`` ->
    ``"50"``, ``30 mph`` -> ``"48.28032"``), absent when nothing usable is tagged, and the
    raw value it came from is kept as ``maxspeed_tag`` when it differs.
    """
    node_ids = np.unique(np.concatenate([table["u"].to_numpy(), table["v"].to_numpy()]))
    _, lat, lon = osm.coords(node_ids)
    counts = _street_counts(node_ids, table)
    import networkx as nx  # only graph building needs it; routing runs on CSR arrays

    G = nx.MultiDiGraph(crs=CRS)
    G.add_nodes_from(
        (n, {"y": la, "x": lo, "street_count": c})
        for n, la, lo, c in zip(node_ids.tolist(), lat.tolist(), lon.tolist(), counts.tolist())
    )
    bases = {}
    drive = "speed_kph" in table.columns
    edges = []
    columns = [table[c].tolist() for c in ("u", "v", "way", "length_m", "reversed", "oneway", "step_free", "forward")]
    extra = [table[c].tolist() for c in ("speed_kph", "travel_time_s")] if drive else None
    for i, (u, v, w, length, rev, one, sf, fwd) in enumerate(zip(*columns)):
        key = (w, fwd) if osmnx_maxspeed_tags else w
        base = bases.get(key)
        if base is None:
            way = osm.ways[w]
            base = {"osmid": way.id}
            base.update({k: way.tags[k] for k in _EDGE_TAGS if k in way.tags})
            if osmnx_maxspeed_tags:
                base.pop("maxspeed", None)
                kph, raw = directional_maxspeed(way.tags, fwd)
                if kph is not None:
                    base["maxspeed"] = osmnx_maxspeed(kph)
                if raw is not None and raw != base.get("maxspeed"):
                    base["maxspeed_tag"] = raw
            bases[key] = base
        data = dict(base, length=length, oneway=one, reversed=rev, step_free=sf)
        if drive:
            data["speed_kph"] = extra[0][i]
            data["travel_time"] = extra[1][i]
        edges.append((u, v, data))
    G.add_edges_from(edges)
    return G


def walk_graph(osm: OsmData, *, retain_all: bool = False,
               exclude_separate_sidewalks: bool = False) -> nx.MultiDiGraph:
    """Walking network: every walkable way (:func:`is_walkable`) in both directions.

    One-way tags are ignored (``oneway`` is always False); the reverse copy of each edge
    has ``reversed=True``. Each edge also has ``step_free`` (:func:`is_step_free`).
    With ``retain_all=False`` (the OSMnx default) only the largest weakly connected
    component is kept, so nothing snaps onto an unreachable fragment.
    """
    table = edge_table(osm, "walk", retain_all=retain_all, exclude_separate_sidewalks=exclude_separate_sidewalks)
    return graph_from_table(osm, table)


def drive_graph(osm: OsmData, *, retain_all: bool = False, include_service: bool = False) -> nx.MultiDiGraph:
    """Driving network honouring one-way streets (:func:`oneway_direction`).

    ``speed_kph`` and ``travel_time`` (seconds) come from OSMnx:
    ``osmnx.routing.add_edge_speeds(G, hwy_speeds=FRENCH_DEFAULTS_KPH)`` then
    ``add_edge_travel_times``. Our part is the French knowledge OSMnx lacks: each edge's
    ``maxspeed`` is first rewritten to the plain km/h limit of the edge's direction
    (``maxspeed:forward``/``:backward``, implicit codes such as ``FR:urban``/``FR:rural``/
    ``FR:motorway`` = 130, units; the raw value stays in ``maxspeed_tag``), and the class
    defaults are :data:`FRENCH_DEFAULTS_KPH`, with :data:`FALLBACK_SPEED_KPH` for any other
    class present (OSMnx would otherwise impute the mean observed limit of that class).
    The result equals the array path (``edge_table(osm, "drive")``, used by
    ``StreetNetwork.from_osm``) edge by edge; ``tests/test_osm_speeds.py`` pins it.

    As in OSMnx, edges of ``oneway=-1`` ways follow the driving direction with
    ``reversed=False``; the opposite copy of a two-way edge has ``reversed=True``.
    ``include_service`` switches to OSMnx's "drive_service" filter. With
    ``retain_all=False`` only the largest weakly connected component is kept.
    ``step_free`` is True on every edge.
    """
    from osmnx.routing import add_edge_speeds, add_edge_travel_times

    table = edge_table(osm, "drive", retain_all=retain_all, include_service=include_service)
    G = graph_from_table(osm, table.drop(columns=["speed_kph", "travel_time_s"]), osmnx_maxspeed_tags=True)
    hwy_speeds = dict(FRENCH_DEFAULTS_KPH)
    for way in set(table["way"].tolist()):
        hwy_speeds.setdefault(osm.ways[way].tags["highway"], FALLBACK_SPEED_KPH)
    add_edge_speeds(G, hwy_speeds=hwy_speeds, fallback=FALLBACK_SPEED_KPH)
    add_edge_travel_times(G)
    return G
