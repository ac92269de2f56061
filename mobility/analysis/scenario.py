"""Scenarios: add or remove service sites, lines or TAD zones, and compare with the baseline.

Scenario file: a GeoJSON FeatureCollection (one change per feature) or a CSV (one change per row).
Common properties / columns: ``action`` = ``add`` | ``remove``; ``kind`` = ``site`` | ``line`` |
``tad_zone`` (``zone`` is accepted too); ``id``; ``name``.

* **add site**: ``categories`` ("france_services;caf"), a Point geometry (or ``lat``/``lon`` columns).
* **remove site**: ``id`` = a site of the catalogue.
* **remove line**: ``id`` = the GTFS ``route_id`` (or its short name): its trips carry nobody (exact).
* **add line** (LineString geometry, or properties only):

  - ``stops``: the stops in order, ``;``-separated (or a JSON list): an existing GTFS ``stop_id``, or a
    new stop ``LAT LON`` / ``LAT,LON``; without ``stops`` every vertex of the LineString is a new stop;
    ``stop_names`` (``;``-separated, optional) names the new stops;
  - ``headway_min`` (default 30), ``first`` / ``last`` departure from each terminus (default ``06:30`` /
    ``19:30``), ``weekdays`` (default ``mon-fri``; e.g. ``mon,tue,wed,thu,fri,sat`` or ``0-4``),
    ``speed_kmh`` commercial speed (default :data:`DEFAULT_SPEED_KMH` = 25 km/h, stops included),
    ``short_name`` (default: the name), ``route_type`` (default 3, bus);
  - running time between consecutive stops = shortest *driving distance* on the OSM drive network
    (straight line x 1.3 when no road joins them) / the commercial speed, rounded up to the second;
    trips run in both directions, every ``headway_min`` from ``first`` to ``last`` inclusive;
  - new stops are snapped to the walk network (like the feed's stops: within 500 m) and get walking
    footpaths to every stop within 1 km (as :mod:`mobility.network.build` does); the trips go into a
    copy of the feed (a :class:`ScenarioFeed` wrapping it), the cached network is never modified.
* **add tad_zone** (Polygon / MultiPolygon geometry; in a CSV a ``wkt`` column):

  - ``hubs``: hub stop id(s), ``;``-separated, or ``hub_site``: a site id (its nearest stop is the hub);
  - ``window`` (default ``07:00-19:00``: pickups and drop-offs), ``weekdays`` (default ``mon-fri``);
  - rides: zone -> hub, hub -> zone and inside the zone (``internal``, default true);
  - ride time: ``duration_factor`` x driving + ``duration_offset_min`` (defaults 1.5 and 5, the flex
    model's defaults); booking rule defaults: ``booking_type`` 2, ``prior_notice_last_day`` 1,
    ``prior_notice_last_time`` ``17:00`` (recorded; analytics assume rides booked in advance);
  - it becomes an extra flex service in a copy of the network's flex model (the planner is unchanged).
* **remove tad_zone**: ``id`` = the zone's location id, key or name: its rides are removed.

Exactness: site changes change the target set; line / zone changes are applied to copies of the
timetable, stops, footpaths and flex model, so adding a line or a zone never makes a cell worse
(monotonicity, tested) and removing one never makes it better.  New stops of a new line inside an
existing TAD zone are not TAD stops of that zone.

:func:`compare` runs baseline and scenario surfaces (through an executor) per category and reports,
per threshold, the population gaining / losing access (median travel time within the threshold), and
per cell the difference (map: :func:`mobility.analysis.maps.render_difference`).
"""

from __future__ import annotations

import copy
import csv
import datetime as dt
import json
import math
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from mobility.analysis.grid import cell_stop_links
from mobility.errors import InputError
from mobility.i18n import N_, Msg, message

DEFAULT_SPEED_KMH = 25.0
DEFAULT_HEADWAY_MIN = 30
DEFAULT_FIRST = "06:30"
DEFAULT_LAST = "19:30"
DEFAULT_TAD_WINDOW = "07:00-19:00"
_DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
_DAYS_FR = ["lun", "mar", "mer", "jeu", "ven", "sam", "dim"]


@dataclass(frozen=True)
class Change:
    """One change of a scenario.  ``props``: all its properties (JSON text, for lines and zones);
    ``geometry``: its GeoJSON geometry (JSON text) or ""."""

    action: str
    kind: str
    id: str = ""
    name: str = ""
    categories: tuple[str, ...] = ()
    lat: float = float("nan")
    lon: float = float("nan")
    props: str = ""
    geometry: str = ""

    #: the sentence of each action and kind (keys chosen at run time)
    _DESCRIBE = (N_("scn_add_site"), N_("scn_remove_site"), N_("scn_add_line"), N_("scn_remove_line"),
                 N_("scn_add_zone"), N_("scn_remove_zone"))

    def describe(self, lang: str | None = "en") -> str:
        """'add TAD zone Plateau' / 'ajout zone TAD Plateau' (in ``lang``)."""
        what = self.name or self.id
        return message(f"scn_{self.action}_{self.kind}", lang or "en", what=what).strip()

    @property
    def properties(self) -> dict:
        return json.loads(self.props) if self.props else {}

    @property
    def geom(self) -> dict:
        return json.loads(self.geometry) if self.geometry else {}


def _change(props: dict, lat=None, lon=None, where: str = "", geometry: dict | None = None) -> Change:
    action = str(props.get("action", "")).strip().lower()
    kind = str(props.get("kind", "site")).strip().lower() or "site"
    kind = {"tad_zone": "zone", "tad": "zone", "zone_tad": "zone"}.get(kind, kind)
    if action not in ("add", "remove"):
        raise InputError("err_scn_action", where=where, action=repr(action))
    if kind not in ("site", "line", "zone"):
        raise InputError("err_scn_kind", where=where, kind=repr(kind))
    cats = tuple(c.strip() for c in str(props.get("categories") or "").split(";") if c.strip())
    lat = float(props["lat"]) if lat is None and props.get("lat") not in (None, "") else lat
    lon = float(props["lon"]) if lon is None and props.get("lon") not in (None, "") else lon
    if geometry is None and props.get("wkt"):
        import shapely

        try:
            geometry = shapely.geometry.mapping(shapely.from_wkt(str(props["wkt"])))
        except Exception as exc:  # noqa: BLE001
            raise InputError("err_scn_wkt", where=where, detail=str(exc)) from None
    clean = {k: v for k, v in props.items() if v not in (None, "")}
    ch = Change(action, kind, str(props.get("id") or props.get("route_id") or "").strip(),
                str(props.get("name") or "").strip(), cats,
                float("nan") if lat is None else float(lat), float("nan") if lon is None else float(lon),
                json.dumps(clean, sort_keys=True, ensure_ascii=False, default=str),
                json.dumps(geometry, sort_keys=True) if geometry else "")
    if kind == "site" and action == "add":
        if not cats or not np.isfinite(ch.lat) or not np.isfinite(ch.lon):
            raise InputError("err_scn_site_needs", where=where)
    if action == "remove" and not ch.id:
        raise InputError("err_scn_remove_needs_id", where=where)
    if kind == "zone" and action == "add":
        if (geometry or {}).get("type") not in ("Polygon", "MultiPolygon"):
            raise InputError("err_scn_zone_polygon", where=where)
        if not (props.get("hubs") or props.get("hub_site")):
            raise InputError("err_scn_zone_hubs", where=where)
        _parse_window(str(props.get("window") or DEFAULT_TAD_WINDOW), where)
        _weekdays(props.get("weekdays"), where)
    if kind == "line" and action == "add":
        items = _stop_items(props, geometry)
        if len(items) < 2:
            raise InputError("err_scn_line_stops", where=where)
        _line_params(props, where)
    return ch


def _hhmm(text: str, where: str = "") -> int:
    m = re.match(r"^\s*(\d{1,2})[:h](\d{2})(?::(\d{2}))?\s*$", str(text))
    if not m:
        raise InputError("err_scn_time", where=where, text=repr(text))
    return int(m.group(1)) * 3600 + int(m.group(2)) * 60 + int(m.group(3) or 0)


def _parse_window(text: str, where: str = "") -> tuple[int, int]:
    parts = str(text).replace("–", "-").split("-")
    if len(parts) != 2:
        raise InputError("err_scn_window", where=where, text=repr(text))
    a, b = _hhmm(parts[0], where), _hhmm(parts[1], where)
    if b <= a:
        raise InputError("err_scn_window_reversed", where=where, text=repr(text))
    return a, b


def _weekdays(spec, where: str = "") -> tuple[int, ...]:
    """'mon-fri' (default), 'mon,tue,sat', 'lun-ven', '0-4', '0,1,2' -> weekday numbers (Monday 0)."""
    text = str(spec or "mon-fri").strip().lower()
    out: set[int] = set()

    def day(tok: str) -> int:
        tok = tok.strip()[:3]
        if tok.isdigit():
            v = int(tok)
            if 0 <= v <= 6:
                return v
        for names in (_DAYS, _DAYS_FR):
            if tok in names:
                return names.index(tok)
        raise InputError("err_scn_unknown_day", where=where, spec=repr(spec), day=repr(tok))

    for part in re.split(r"[;,\s]+", text):
        if not part:
            continue
        if "-" in part:
            a, b = part.split("-", 1)
            da, db = day(a), day(b)
            out.update(range(da, db + 1) if da <= db else [*range(da, 7), *range(0, db + 1)])
        else:
            out.add(day(part))
    if not out:
        raise InputError("err_scn_no_weekday", where=where, spec=repr(spec))
    return tuple(sorted(out))


def _stop_items(props: dict, geometry: dict | None) -> list:
    """The stops of a new line: existing stop ids (str) or (lat, lon) pairs, in order."""
    raw = props.get("stops")
    items: list = []
    if raw not in (None, ""):
        parts = raw if isinstance(raw, list) else [p for p in str(raw).split(";")]
        for p in parts:
            if isinstance(p, (list, tuple)) and len(p) == 2:
                items.append((float(p[0]), float(p[1])))
                continue
            p = str(p).strip()
            if not p:
                continue
            m = re.match(r"^(-?\d+(?:\.\d+)?)[\s,]+(-?\d+(?:\.\d+)?)$", p)
            items.append((float(m.group(1)), float(m.group(2))) if m else p)
    elif geometry and geometry.get("type") == "LineString":
        items = [(float(c[1]), float(c[0])) for c in geometry["coordinates"]]
    return items


def _line_params(props: dict, where: str = "") -> dict:
    try:
        headway = float(props.get("headway_min") or DEFAULT_HEADWAY_MIN)
        speed = float(props.get("speed_kmh") or DEFAULT_SPEED_KMH)
    except ValueError:
        raise InputError("err_scn_line_numbers", where=where) from None
    if not (1 <= headway <= 720) or not (3 <= speed <= 150):
        raise InputError("err_scn_line_ranges", where=where)
    first = _hhmm(props.get("first") or DEFAULT_FIRST, where)
    last = _hhmm(props.get("last") or DEFAULT_LAST, where)
    if last < first:
        raise InputError("err_scn_last_before_first", where=where)
    return {"headway_s": int(round(headway * 60)), "speed_mps": speed / 3.6, "first_s": first, "last_s": last,
            "weekdays": _weekdays(props.get("weekdays"), where)}


def load_scenario(path: str | Path) -> tuple[Change, ...]:
    path = Path(path)
    if not path.exists():
        raise InputError("err_scn_file_not_found", path=str(path))
    changes = []
    if path.suffix.lower() in (".geojson", ".json"):
        try:
            feats = json.loads(path.read_text(encoding="utf-8"))["features"]
        except (ValueError, KeyError, TypeError) as exc:
            raise InputError("err_scn_not_geojson", path=str(path), detail=str(exc)) from None
        for i, f in enumerate(feats, 1):
            geom = f.get("geometry") or {}
            lat = lon = None
            if geom.get("type") == "Point":
                lon, lat = geom["coordinates"][:2]
            changes.append(_change(f.get("properties") or {}, lat, lon, Msg("scn_where_feature", n=i),
                                   geom or None))
    else:
        with open(path, newline="", encoding="utf-8") as fh:
            for i, row in enumerate(csv.DictReader(fh), 2):
                changes.append(_change(row, None, None, Msg("scn_where_row", n=i)))
    if not changes:
        raise InputError("err_scn_empty", path=str(path))
    return tuple(changes)


def affected_categories(ctx, changes) -> list[str]:
    cats: list[str] = []
    for c in changes:
        if c.kind != "site":
            continue
        site_cats = c.categories if c.action == "add" else ctx.catalogue.get(c.id).categories
        cats += [k for k in site_cats if k not in cats]
    return cats


def scenario_setup(ctx, changes, target, date: dt.date, options, cell_m: float = 200.0):
    """(Target with the site changes applied, keyword arguments of :func:`compute_surface`: ``timetable``,
    and for added lines ``planner`` + ``access`` over a scenario network, for zones ``flex``)."""
    from mobility.analysis.surface import grid_for

    target, tt = scenario_inputs_sites(ctx, changes, target)
    lines = tuple(c for c in changes if c.kind == "line" and c.action == "add")
    zones = tuple(c for c in changes if c.kind == "zone")
    removed = {c.id for c in changes if c.kind == "line" and c.action == "remove"}
    kw: dict = {}
    net = ctx.planner.network
    planner = ctx.planner
    if lines:
        sn = scenario_network(ctx, lines)
        planner, net = sn.planner, sn.network
        kw["planner"] = planner
        kw["access"] = sn.access(grid_for(ctx, cell_m), options.max_walk_m)
    if zones:
        kw["flex"] = scenario_flex(ctx, net, zones)
    if removed or lines:
        tt0 = net.timetable(date, walk_speed_mps=options.walk_speed_mps, max_walk_m=options.max_walk_m,
                            min_transfer_s=options.min_transfer_s)
        kw["timetable"] = without_routes(tt0, removed) if removed else tt0
    return target, kw


def scenario_inputs_sites(ctx, changes, target):
    from mobility.analysis.surface import TargetPoint, resolve_target

    base = resolve_target(ctx, target)
    points = list(base.points)
    for c in changes:
        if c.kind != "site":
            continue
        if c.action == "remove":
            ctx.catalogue.get(c.id)  # NotFoundError if unknown
            points = [p for p in points if p.site_id != c.id]
        elif base.kind == "category" and base.category in c.categories or base.kind == "site" and c.id == \
                (base.points[0].site_id if base.points else ""):
            points.append(TargetPoint(c.lat, c.lon, c.id or f"new:{c.name}", c.name or "new site"))
    return base.with_points(points), None


# ------------------------------------------------------------------------------------------- new lines

class ScenarioFeed:
    """A feed with extra stops, routes, trips and weekday services; everything else is the wrapped feed's."""

    def __init__(self, base, stops: pd.DataFrame, routes: pd.DataFrame, trips: pd.DataFrame,
                 stop_times: pd.DataFrame, services: dict) -> None:
        self._base = base
        self.stops = pd.concat([base.stops, stops], ignore_index=True)
        self.routes = pd.concat([base.routes, routes], ignore_index=True)
        self.trips = pd.concat([base.trips, trips], ignore_index=True)
        self.stop_times = pd.concat([base.stop_times, stop_times], ignore_index=True)
        self._services = dict(services)  # service_id -> weekdays

    def __getattr__(self, name):
        if name.startswith("__") or name == "_base":
            raise AttributeError(name)
        return getattr(self._base, name)

    def active_service_ids(self, day: dt.date) -> frozenset:
        extra = {sid for sid, wds in self._services.items() if day.weekday() in wds}
        return frozenset(self._base.active_service_ids(day)) | extra


@dataclass(eq=False)
class ScenarioNetwork:
    """A copy of the network with new lines: ``network`` (new stops, footpaths, feed), its planner,
    ``first_new_row`` (rows of ``network.stops`` from there on are new)."""

    network: object
    planner: object
    first_new_row: int
    _access: dict

    def access(self, grid, max_walk_m: float):
        """The grid's walking links to the scenario's stops (the baseline links + the new stops')."""
        key = (id(grid), float(max_walk_m))
        if key not in self._access:
            from mobility.analysis.grid import Access

            base = grid.access(_BASE_NET[id(self)], max_walk_m)
            new = _new_stop_links(grid, self.network, self.first_new_row, max_walk_m)
            cell = np.concatenate([np.repeat(np.arange(grid.n_cells), np.diff(base.ptr)), new[0]])
            stop = np.concatenate([base.stop, new[1]])
            walk = np.concatenate([base.walk_m, new[2]])
            order = np.lexsort((stop, cell))
            ptr = np.zeros(grid.n_cells + 1, np.int64)
            np.cumsum(np.bincount(cell, minlength=grid.n_cells), out=ptr[1:])
            self._access[key] = Access(ptr, stop[order], walk[order])
        return self._access[key]


_BASE_NET: dict = {}
_SCEN_CACHE: "OrderedDict" = OrderedDict()
_SCEN_LOCK = threading.Lock()


def _new_stop_links(grid, net, first_row: int, max_walk_m: float):
    """Cell walking links of the stops a scenario added (rows ``first_row..`` of ``net.stops``)."""
    return cell_stop_links(grid, net, max_walk_m, first_row)


def _slug(text: str) -> str:
    import unicodedata

    t = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", t).strip("-") or "x"


def _drive_m(drive, a, b) -> float:
    """Driving distance (m) between two (lat, lon) points on the drive network; 1.3 x straight if none."""
    from mobility.geo import haversine_m
    from mobility.network.flex import DRIVE_SNAP_MAX_M

    straight = float(haversine_m(a[0], a[1], b[0], b[1]))
    if drive is None:
        return 1.3 * straight
    sa, sb = drive.snap(a[0], a[1], DRIVE_SNAP_MAX_M), drive.snap(b[0], b[1], DRIVE_SNAP_MAX_M)
    if sa is None or sb is None:
        return 1.3 * straight
    d = float(drive.point_to_points_m(sa, [sb])[0]) + sa.dist_m + sb.dist_m
    return d if math.isfinite(d) else 1.3 * straight


def scenario_network(ctx, lines) -> ScenarioNetwork:
    """The network with the new lines (memoised per context and lines; the baseline is not modified)."""
    # Change has NaN fields (nan != nan): key on its text, so copies (pickled jobs) hit the memo too
    key = (id(ctx.planner.network), tuple((c.action, c.kind, c.id, c.name, c.props, c.geometry) for c in lines))
    with _SCEN_LOCK:
        if key in _SCEN_CACHE:
            _SCEN_CACHE.move_to_end(key)
            return _SCEN_CACHE[key]
    sn = _build_scenario_network(ctx, lines)
    with _SCEN_LOCK:
        _SCEN_CACHE[key] = sn
        _BASE_NET[id(sn)] = ctx.planner.network
        while len(_SCEN_CACHE) > 4:
            old = _SCEN_CACHE.popitem(last=False)[1]
            _BASE_NET.pop(id(old), None)
    return sn


def _build_scenario_network(ctx, lines) -> ScenarioNetwork:
    from mobility.network.build import FOOTPATH_RADIUS_M, STOP_SNAP_MAX_M, _attach_snaps, stop_footpaths
    from mobility.planning.planner import Planner

    net = ctx.planner.network
    feed = net.feeds[0]
    multi = len(net.feeds) > 1
    key_of = (lambda sid: f"{feed.feed_id}:{sid}") if multi else (lambda sid: sid)
    base_stops = net.stops
    by_id = {}
    for k, sid, fi in zip(base_stops["stop_key"], base_stops["stop_id"], base_stops["feed_index"]):
        by_id.setdefault(str(k), str(k))
        if int(fi) == 0:
            by_id.setdefault(str(sid), str(k))
    pos = {str(k): (float(a), float(b)) for k, a, b in zip(base_stops["stop_key"], base_stops["lat"], base_stops["lon"])}
    new_stops, routes, trips, stop_times, services = [], [], [], [], {}
    agency = str(feed.agency["agency_id"].iloc[0]) if len(feed.agency) and "agency_id" in feed.agency else ""
    for li, ch in enumerate(lines):
        props = ch.properties
        where = Msg("scn_where_line", name=ch.name or ch.id or li + 1)
        par = _line_params(props, where)
        slug = f"scn-{li + 1}-{_slug(ch.name or ch.id or 'line')}"
        names = [n.strip() for n in str(props.get("stop_names") or "").split(";")]
        seq = []  # (stop_id in the feed, lat, lon)
        for k, item in enumerate(_stop_items(props, ch.geom)):
            if isinstance(item, str):
                skey = by_id.get(item)
                if skey is None or not skey.startswith(f"{feed.feed_id}:" if multi else ""):
                    raise InputError("err_scn_unknown_stop", where=where, stop=repr(item))
                sid = skey.split(":", 1)[1] if multi else skey
                seq.append((sid, *pos[skey]))
            else:
                sid = f"{slug}-s{k + 1}"
                name = names[k] if k < len(names) and names[k] else f"{ch.name or 'Nouvelle ligne'} - arrêt {k + 1}"
                new_stops.append({"stop_id": sid, "stop_name": name, "stop_lat": item[0], "stop_lon": item[1],
                                  "location_type": 0, "parent_station": "", "wheelchair_boarding": 0})
                seq.append((sid, item[0], item[1]))
        run = [0]
        for a, b in zip(seq, seq[1:]):
            run.append(run[-1] + int(math.ceil(_drive_m(net.drive, a[1:], b[1:]) / par["speed_mps"])))
        rid = slug
        routes.append({"route_id": rid, "agency_id": agency, "route_short_name": str(props.get("short_name") or ch.name
                                                                                      or rid),
                       "route_long_name": ch.name or rid, "route_type": int(props.get("route_type") or 3)})
        sid_svc = f"{slug}-svc"
        services[sid_svc] = set(par["weekdays"])
        for direction, order in ((0, seq), (1, seq[::-1])):
            offs = run if direction == 0 else [run[-1] - x for x in run[::-1]]
            t, n = par["first_s"], 0
            while t <= par["last_s"]:
                tid = f"{slug}-d{direction}-{n:03d}"
                trips.append({"trip_id": tid, "route_id": rid, "service_id": sid_svc,
                              "trip_headsign": order[-1][0], "direction_id": direction, "wheelchair_accessible": 0})
                for q, (st, _la, _lo) in enumerate(order):
                    stop_times.append({"trip_id": tid, "stop_sequence": q + 1, "stop_id": st,
                                       "arrival_s": t + offs[q], "departure_s": t + offs[q], "pickup_type": 0,
                                       "drop_off_type": 0})
                t += par["headway_s"]
                n += 1
    ns_df = pd.DataFrame(new_stops, columns=["stop_id", "stop_name", "stop_lat", "stop_lon", "location_type",
                                              "parent_station", "wheelchair_boarding"])
    sfeed = ScenarioFeed(feed, ns_df, pd.DataFrame(routes), pd.DataFrame(trips), pd.DataFrame(stop_times),
                         services)
    # new stops: snapped like build_network does, footpaths to the stops within FOOTPATH_RADIUS_M
    rows = pd.DataFrame({"stop_key": [key_of(x) for x in ns_df["stop_id"]], "feed_index": 0,
                         "stop_id": ns_df["stop_id"].astype(str), "stop_name": ns_df["stop_name"].astype(str),
                         "lat": ns_df["stop_lat"].astype(float), "lon": ns_df["stop_lon"].astype(float)})
    rows = _attach_snaps(rows, net.walk)
    far = rows["snap_edge"].to_numpy() < 0
    if far.any():
        raise InputError("err_scn_stops_far", stops=", ".join(rows["stop_name"][far]),
                         dist=f"{STOP_SNAP_MAX_M:.0f}")
    stops = pd.concat([base_stops, rows], ignore_index=True)
    fps = {}
    if len(rows):
        from mobility.geo import haversine_m

        near = np.zeros(len(base_stops), bool)
        for la, lo in zip(rows["lat"], rows["lon"]):
            near |= haversine_m(base_stops["lat"].to_numpy(), base_stops["lon"].to_numpy(), la, lo) <= \
                FOOTPATH_RADIUS_M * 1.01 + 600
        sub = pd.concat([base_stops[near], rows], ignore_index=True)
        new_keys = set(rows["stop_key"])
        for step_free, base_fp in ((False, net.footpaths), (True, net.footpaths_step_free)):
            fp = stop_footpaths(net.walk, sub, step_free=step_free)
            fp = fp[fp["from_key"].isin(new_keys) | fp["to_key"].isin(new_keys)]
            fps[step_free] = pd.concat([base_fp, fp], ignore_index=True)
    else:
        fps = {False: net.footpaths, True: net.footpaths_step_free}
    feeds = [sfeed, *net.feeds[1:]]
    scen = replace(net, feeds=feeds, stops=stops, footpaths=fps[False], footpaths_step_free=fps[True],
                   inputs_key=net.inputs_key + ":scenario", _timetables=OrderedDict(), _lock=threading.Lock())
    return ScenarioNetwork(scen, Planner(scen), len(base_stops), {})


# ------------------------------------------------------------------------------------------- TAD zones

def scenario_flex(ctx, net, zones):
    """A copy of the network's flex model with the zones added / removed (the original is untouched)."""
    import shapely

    from mobility.network.flex import DRIVE_SNAP_MAX_M, BookingRule, FlexRow, FlexTrip, Hop, Zone

    base = net.flex
    fx = copy.copy(base)
    fx.zones = list(base.zones)
    fx.trips = list(base.trips)
    fx.hops = list(base.hops)
    fx.rules = dict(base.rules)
    fx.zone_stops = list(base.zone_stops)
    fx.stop_drive = dict(base.stop_drive)
    fx.warnings = list(base.warnings)
    fx._tree = None
    fx._drive_cache = OrderedDict()
    stops = net.stops
    by_id = {}
    for k, sid in zip(stops["stop_key"].astype(str), stops["stop_id"].astype(str)):
        by_id.setdefault(k, k)
        by_id.setdefault(sid, k)
    removed_trips: set[int] = set()
    for zi_ch, ch in enumerate(zones):
        props = ch.properties
        where = Msg("scn_where_zone", name=ch.name or ch.id or zi_ch + 1)
        if ch.action == "remove":
            hit = [i for i, z in enumerate(fx.zones) if ch.id in (z.key, z.location_id, z.name)]
            if not hit:
                raise InputError("err_scn_unknown_zone", where=where, zone=repr(ch.id),
                                 known=", ".join(z.location_id for z in fx.zones))
            for ti, t in enumerate(fx.trips):
                if any(r.zone in hit for r in t.rows):
                    removed_trips.add(ti)
            continue
        geom = shapely.geometry.shape(ch.geom)
        if not geom.is_valid:
            geom = geom.buffer(0)
        slug = f"scn-zone-{zi_ch + 1}-{_slug(ch.name or ch.id or 'zone')}"
        hubs: list[str] = []
        for h in str(props.get("hubs") or "").replace(",", ";").split(";"):
            h = h.strip()
            if not h:
                continue
            if h not in by_id:
                raise InputError("err_scn_unknown_hub", where=where, stop=repr(h))
            hubs.append(by_id[h])
        if props.get("hub_site"):
            from mobility.geo import haversine_m

            site = ctx.catalogue.get(str(props["hub_site"]))
            d = haversine_m(stops["lat"].to_numpy(), stops["lon"].to_numpy(), site.lat, site.lon)
            hubs.append(str(stops["stop_key"].iloc[int(np.argmin(d))]))
        w0, w1 = _parse_window(str(props.get("window") or DEFAULT_TAD_WINDOW), where)
        wds = _weekdays(props.get("weekdays"), where)
        service = "weekdays:" + ",".join(str(d) for d in wds)
        factor = float(props.get("duration_factor") or 1.5)
        offset = float(props.get("duration_offset_min") if props.get("duration_offset_min") not in (None, "") else 5)
        rule_key = f"{slug}:booking"
        fx.rules[rule_key] = BookingRule(
            rule_key, rule_key, -1, int(props.get("booking_type") if props.get("booking_type") not in (None, "") else 2),
            prior_notice_duration_min=int(props.get("prior_notice_duration_min") or -1),
            prior_notice_last_day=int(props.get("prior_notice_last_day") or 1),
            prior_notice_last_time_s=_hhmm(props.get("prior_notice_last_time") or "17:00", where),
            message=str(props.get("booking_message") or "Réservation la veille avant 17h"),
            phone_number=str(props.get("phone") or ""))
        zi = len(fx.zones)
        fx.zones.append(Zone(slug, ch.id or slug, -1, ch.name or slug, geom))
        inside = shapely.contains(geom, shapely.points(stops["lon"].to_numpy(float), stops["lat"].to_numpy(float)))
        fx.zone_stops.append(tuple(str(k) for k in stops["stop_key"].to_numpy()[inside]))
        zrow_p = FlexRow(zi, (), w0, w1, False, True, False, rule_key, None, True, False)
        zrow_d = FlexRow(zi, (), w0, w1, False, False, True, None, rule_key, False, True)
        pairs = []
        if hubs:
            pairs.append(("vers-pole", zrow_p, FlexRow(-1, tuple(hubs), w0, w1, False, False, True, None, rule_key,
                                                       False, True)))
            pairs.append(("depuis-pole", FlexRow(-1, tuple(hubs), w0, w1, False, True, False, rule_key, None, True,
                                                 False), zrow_d))
        if str(props.get("internal", "true")).strip().lower() not in ("false", "0", "no", "non"):
            pairs.append(("interne", zrow_p, zrow_d))
        for label, a, b in pairs:
            fx.trips.append(FlexTrip(-1, f"{slug}-{label}", slug, service, ch.name or slug, factor, offset * 60.0,
                                     (a, b)))
        used = set(hubs) | set(fx.zone_stops[zi])
        sub = stops[stops["stop_key"].astype(str).isin(used - set(fx.stop_drive))]
        if len(sub) and net.drive is not None:
            snaps = net.drive.snap_many(sub["lat"].to_numpy(float), sub["lon"].to_numpy(float), DRIVE_SNAP_MAX_M)
            for i, k in enumerate(sub["stop_key"].astype(str).tolist()):
                if snaps[i] is not None:
                    fx.stop_drive[k] = snaps[i]
    # hops and their indexes, rebuilt (trips of removed zones carry nobody)
    fx.hops = []
    fx.by_board_zone, fx.by_alight_zone, fx.by_board_stop, fx.by_alight_stop = {}, {}, {}, {}
    for ti, trip in enumerate(fx.trips):
        if ti in removed_trips:
            continue
        rows = trip.rows
        for i, a in enumerate(rows):
            if not a.pickup:
                continue
            later = list(range(i + 1, len(rows)))
            if a.zone >= 0 and a.drop_off and not any(rows[j].zone == a.zone for j in later):
                later = [i, *later]
            for j in later:
                b = rows[j]
                if not b.drop_off or (a.timed and b.timed):
                    continue
                h = len(fx.hops)
                fx.hops.append(Hop(ti, i, j))
                if a.zone >= 0:
                    fx.by_board_zone.setdefault(a.zone, []).append(h)
                for st in a.stops:
                    fx.by_board_stop.setdefault(st, []).append(h)
                if b.zone >= 0:
                    fx.by_alight_zone.setdefault(b.zone, []).append(h)
                for st in b.stops:
                    fx.by_alight_stop.setdefault(st, []).append(h)
    return fx


def scenario_inputs(ctx, changes, target, date: dt.date, options):
    """(Target with the site changes applied, timetable with the line removals or None) -- the site and
    line-removal part of :func:`scenario_setup` (kept for callers of the first API)."""
    new_target, _ = scenario_inputs_sites(ctx, changes, target)
    removed = {c.id for c in changes if c.kind == "line" and c.action == "remove"}
    tt = None
    if removed:
        tt0 = ctx.planner.network.timetable(date, walk_speed_mps=options.walk_speed_mps,
                                            max_walk_m=options.max_walk_m, min_transfer_s=options.min_transfer_s)
        tt = without_routes(tt0, removed)
    return new_target, tt


def without_routes(tt, route_ids: set[str]):
    """A copy of a forward timetable where the routes (GTFS route_id or short name) carry nobody."""
    hit = {i for i, (rid, short) in enumerate(zip(tt.route_orig_ids, tt.route_short_names))
           if rid in route_ids or short in route_ids or tt.route_ids[i] in route_ids}
    if not hit:
        raise InputError("err_scn_unknown_lines", lines=", ".join(sorted(route_ids)))
    pats = np.isin(tt.pattern_route, list(hit))
    mask = np.repeat(pats, np.diff(tt.pattern_stop_ptr))
    board = tt.pattern_can_board.copy()
    alight = tt.pattern_can_alight.copy()
    board[mask] = 0
    alight[mask] = 0
    return replace(tt, pattern_can_board=board, pattern_can_alight=alight)


def difference_table(base, scen, thresholds_min=(15, 30, 45, 60), stat: str = "p50") -> pd.DataFrame:
    pop = base.grid.population
    a, b = base.stat_min(stat), scen.stat_min(stat)
    rows = []
    for t in thresholds_min:
        ina = np.nan_to_num(a, nan=np.inf) <= t
        inb = np.nan_to_num(b, nan=np.inf) <= t
        rows.append({"threshold_min": t, "population_baseline": round(float(pop[ina].sum())),
                     "population_scenario": round(float(pop[inb].sum())),
                     "population_gaining": round(float(pop[inb & ~ina].sum())),
                     "population_losing": round(float(pop[ina & ~inb].sum()))})
    return pd.DataFrame(rows)
