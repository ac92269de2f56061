"""Offline geocoder: free text ("12 r de l eglise therouanne", "st omer", "gare") -> ranked places, and back.

Everything searchable becomes a *document* with name tokens (the street, commune, stop or service name) and
context tokens (its commune, postcode). Addresses hang off their street document by house number, so the index
stays at street granularity. A query is normalised (:mod:`mobility.domain.textnorm`), glued words are split
("saintomer"), each word is matched against the vocabulary exactly, by prefix (2+ letters) or within a small
edit distance (a SymSpell deletion index), and documents are scored with numpy over inverted indexes:

    score = 0.7 * (IDF-weighted share of the query words found) + 0.3 * (share of the name words found)
            - 0.06 if the name words are not typed consecutively and in order
            - 0.06 if the commune is only partly typed ("wardrecques" vs Campagne-lès-Wardrecques)

so "saint omer" ranks the commune Saint-Omer (1.0) above "Rue de Saint-Omer" and the streets *in* Saint-Omer,
and "route de setques quelmes" ranks Route de Setques (Quelmes) above Route de Quelmes (Setques). A query
starting with a house number ranks the address above its street (x0.95) and the rest.
"""

from __future__ import annotations

import bisect
import math
import re
from collections import defaultdict
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
import shapely
from rapidfuzz.distance import OSA

from mobility.errors import DataError, InputError
from mobility.i18n import Msg
from mobility.domain.textnorm import STOP_WORDS, normalize, tokens

KINDS = ("address", "street", "commune", "stop", "service")
_KIND_RANK = {"address": 0, "street": 1, "service": 2, "stop": 3, "commune": 4, "point": 5}

#: names and queries are cut to this many characters before matching (a 5 MB stop name must not hang the index)
MAX_TEXT_CHARS = 200
#: longer words are matched exactly or by prefix only: the deletion neighbourhood grows with the cube of length
MAX_FUZZY_CHARS = 24

#: weight of the query coverage vs the name coverage in a score
QUERY_WEIGHT = 0.7
#: below this score resolve() answers "no match"
MIN_SCORE = 0.6
#: results closer than this to the best one, in another commune, make resolve() ambiguous
AMBIGUITY_GAP = 0.05
#: score factor of non-address results when the query starts with a house number
NUMBER_PENALTY = 0.95
#: score malus of a document whose name words are not typed consecutively, in order, in the query
ORDER_PENALTY = 0.06
#: a point this far (degrees, ~300 m) outside the commune polygons still counts as inside the territory
TERRITORY_TOLERANCE_DEG = 0.003

_HOUSENUMBER = re.compile(r"^\d{1,4}[a-z]?$")
_GLUED_NUMBER = re.compile(r"^(\d{1,4})([a-z]{3,})$")
_SUFFIXES = {"bis", "ter", "quater", "a", "b", "c", "d"}
_COORDS = (re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*(?:[,;/]\s*|\s+)(-?\d+(?:\.\d+)?)\s*$"),
           re.compile(r"^\s*(-?\d+,\d+)\s*(?:[;/]\s*|\s+)(-?\d+,\d+)\s*$"))


@dataclass(frozen=True)
class GeocodeResult:
    """One place found. ``kind``: address, street, commune, stop, service (or point for raw coordinates)."""

    label: str
    kind: str
    lat: float
    lon: float
    score: float
    id: str | None = None
    commune: str | None = None
    distance_m: float | None = None  # reverse geocoding only
    postcode: str | None = None
    housenumber: str | None = None
    street: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def parse_coordinates(text: str) -> tuple[float, float] | None:
    """(lat, lon) from "50.75,2.25", "50.75 2.25", "50,75; 2,25"; None if ``text`` is not a coordinate pair."""
    for i, pattern in enumerate(_COORDS):
        m = pattern.match(text)
        if m and (i == 1 or "." in text):
            lat, lon = (float(g.replace(",", ".")) for g in m.groups())
            if abs(lat) <= 90 and abs(lon) <= 180:
                return lat, lon
    return None


def housenumber_key(value: Any) -> str:
    """Comparable house number: "12 bis" -> "12bis", "12B" -> "12b"."""
    return normalize(str(value)).replace(" ", "") if value is not None and value == value else ""


def _text(value: Any) -> str:
    """A cell as stripped text ('' for None/NaN)."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return ""
    return str(value).strip()


def _metres(lat0: float) -> tuple[float, float]:
    """Metres per degree of (latitude, longitude) around ``lat0`` (equirectangular)."""
    return 110_574.0, 111_320.0 * math.cos(math.radians(lat0))


class _Docs:
    """Column store of searchable documents, appended during build."""

    def __init__(self) -> None:
        self.kind: list[str] = []
        self.label: list[str] = []
        self.lat: list[float] = []
        self.lon: list[float] = []
        self.id: list[str | None] = []
        self.commune: list[str | None] = []
        self.postcode: list[str | None] = []
        self.name: list[str] = []  # street / commune / stop / service name as displayed
        self.name_tokens: list[list[str]] = []
        self.ctx_tokens: list[list[str]] = []

    def add(self, kind: str, label: str, lat: float, lon: float, name: str, ident: str | None,
            commune: str | None, postcode: str | None = None) -> int:
        label, name = label[:MAX_TEXT_CHARS], name[:MAX_TEXT_CHARS]
        self.kind.append(kind)
        self.label.append(label)
        self.lat.append(float(lat))
        self.lon.append(float(lon))
        self.id.append(ident)
        self.commune.append(commune or None)
        self.postcode.append(postcode or None)
        self.name.append(name)
        self.name_tokens.append(list(dict.fromkeys(tokens(name))))
        ctx = tokens(commune) if commune else []
        if postcode:
            ctx.append(normalize(postcode))
        self.ctx_tokens.append(list(dict.fromkeys(ctx)))
        return len(self.kind) - 1


class _NearestPoint:
    """The nearest of fixed 2-D points (metres), for reverse geocoding and the commune of a point: a scipy
    ``cKDTree`` built at the first query rather than when the geocoder is loaded, since importing
    ``scipy.spatial`` costs a quarter of a second and a server's plans between named places never ask. Only the
    points are stored (:meth:`__getstate__`); the tree is the one ``cKDTree(points)`` always builds."""

    def __init__(self, points: np.ndarray) -> None:
        self.points = np.asarray(points, dtype=float).reshape(-1, 2)
        self._tree: Any = None

    def query(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(distance, index)`` of the nearest point of each of ``points`` ``(n, 2)`` (as ``cKDTree.query``)."""
        if self._tree is None:  # (two threads may both build it: the same tree, one kept)
            from scipy.spatial import cKDTree

            self._tree = cKDTree(self.points)
        return self._tree.query(points)

    def __getstate__(self) -> dict:
        return {"points": self.points}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["points"])


class Geocoder:
    """Search addresses, streets, communes, stops and service sites of the territory. Build with
    :meth:`build`; then :meth:`search`, :meth:`resolve`, :meth:`reverse`."""

    # ------------------------------------------------------------------------------------------- building
    @classmethod
    def build(cls, addresses: pd.DataFrame | None = None, streets: pd.DataFrame | None = None,
              communes: pd.DataFrame | None = None, stops: pd.DataFrame | None = None,
              services: Any = None) -> "Geocoder":
        """Index the inputs (each optional, plain DataFrames):

        * ``addresses``: lat, lon, housenumber, street, city, postcode (+ osm_id) — e.g. ``address_points(osm)``;
        * ``streets``: name, city, lat, lon — one representative point per street and commune;
        * ``communes``: insee, name, lat, lon (+ population, + ``geometry`` shapely polygons in lon/lat, which
          give the commune of points without one and the territory outline); a GeoDataFrame works too;
        * ``stops``: stop_id, stop_name, lat, lon;
        * ``services``: a :class:`~mobility.loaders.services.ServiceCatalogue` or a DataFrame id, name, lat, lon
          (+ commune).
        A missing city/commune is taken from the polygons, else from the nearest commune centre.
        """
        geo = cls()
        geo._init_communes(communes)
        docs = _Docs()
        geo._add_communes(docs)
        geo._add_streets(docs, addresses, streets)
        geo._add_stops(docs, stops)
        geo._add_services(docs, services)
        geo._finish(docs)
        return geo

    def _init_communes(self, communes: pd.DataFrame | None) -> None:
        self.communes = pd.DataFrame(columns=["insee", "name", "lat", "lon"]) if communes is None else communes
        has_points = {"lat", "lon"} <= set(self.communes.columns) or "geometry" in self.communes.columns
        if "name" not in self.communes.columns or not has_points:
            raise DataError("geocoder input 'communes' needs a name column and lat/lon columns or a geometry")
        polys = None
        if communes is not None and "geometry" in communes.columns:
            polys = [shapely.make_valid(g) if g is not None and not g.is_empty else None
                     for g in communes["geometry"]]
        self._polygons = polys
        lats, lons = [], []
        for i, row in enumerate(self.communes.itertuples(index=False)):
            lat, lon = getattr(row, "lat", None), getattr(row, "lon", None)
            if (lat is None or pd.isna(lat)) and polys and polys[i] is not None:
                pt = polys[i].representative_point()
                lat, lon = pt.y, pt.x
            if lat is None or pd.isna(lat):
                raise DataError(f"geocoder input 'communes': no coordinates for '{_text(row.name)}'")
            lats.append(float(lat))
            lons.append(float(lon))
        self._commune_lat = np.asarray(lats, dtype=float)
        self._commune_lon = np.asarray(lons, dtype=float)
        self._commune_names = [_text(n) for n in self.communes["name"]] if len(self.communes) else []
        valid = [p for p in (polys or []) if p is not None]
        for p in valid:
            shapely.prepare(p)
        self._territory = shapely.STRtree(valid) if valid else None

    def _commune_of(self, lats: np.ndarray, lons: np.ndarray) -> list[str | None]:
        """Commune names of points: containing polygon, else nearest commune centre (None if no communes)."""
        n = len(lats)
        out: list[str | None] = [None] * n
        if not self._commune_names or n == 0:
            return out
        found = np.full(n, -1)
        if self._polygons:
            for i, poly in enumerate(self._polygons):
                if poly is not None:
                    inside = shapely.contains_xy(poly, lons, lats) & (found < 0)
                    found[inside] = i
        missing = found < 0
        if missing.any():
            fy, fx = _metres(float(np.mean(self._commune_lat)))
            _, idx = _NearestPoint(np.c_[self._commune_lat * fy, self._commune_lon * fx]).query(
                np.c_[lats[missing] * fy, lons[missing] * fx])
            found[missing] = idx
        return [self._commune_names[i] for i in found]

    def _add_communes(self, docs: _Docs) -> None:
        for i, row in enumerate(self.communes.itertuples(index=False)):
            name = _text(row.name)
            docs.add("commune", name, self._commune_lat[i], self._commune_lon[i], name,
                     _text(getattr(row, "insee", "")) or None, name)

    def _add_streets(self, docs: _Docs, addresses: pd.DataFrame | None, streets: pd.DataFrame | None) -> None:
        """One document per (street, commune); the addresses of a street are kept by house number."""
        self._addr = pd.DataFrame(columns=["lat", "lon", "housenumber", "street", "city", "postcode", "osm_id"])
        self._street_numbers: dict[int, dict[str, int]] = {}
        groups: dict[tuple[str, str], dict[str, Any]] = {}
        if addresses is not None and len(addresses):
            addresses = _with_coordinates(addresses, "addresses", ())
            addr = pd.DataFrame({
                "lat": addresses["lat"].astype(float).to_numpy(),
                "lon": addresses["lon"].astype(float).to_numpy(),
                **{c: [_text(v) for v in addresses[c]] if c in addresses.columns else [""] * len(addresses)
                   for c in ("housenumber", "street", "city", "postcode", "osm_id")},
            })
            no_city = (addr["city"] == "").to_numpy()
            if no_city.any():
                addr.loc[no_city, "city"] = [c or "" for c in self._commune_of(
                    addr["lat"].to_numpy()[no_city], addr["lon"].to_numpy()[no_city])]
            self._addr = addr
            for street, city, idx in _group_rows(addr["street"].tolist(), addr["city"].tolist()):
                if not street:
                    continue
                g = groups.setdefault((_key(street), _key(city)), {"street": street, "city": city, "rows": []})
                g["rows"].extend(idx)
        if streets is not None and len(streets):
            streets = _with_coordinates(streets, "streets", ("name",))
            cities = [_text(c) for c in streets["city"]] if "city" in streets.columns else [""] * len(streets)
            lat = streets["lat"].astype(float).to_numpy()
            lon = streets["lon"].astype(float).to_numpy()
            missing = [i for i, c in enumerate(cities) if not c]
            if missing:
                for i, c in zip(missing, self._commune_of(lat[missing], lon[missing])):
                    cities[i] = c or ""
            for name, city, la, lo in zip(streets["name"], cities, lat, lon):
                name = _text(name)
                if name:
                    g = groups.setdefault((_key(name), _key(city)), {"street": name, "city": city, "rows": []})
                    g.setdefault("point", (la, lo))
        a_lat, a_lon = self._addr["lat"].to_numpy(), self._addr["lon"].to_numpy()
        hns = [housenumber_key(h) for h in self._addr["housenumber"]]
        postcodes = self._addr["postcode"].tolist()
        for g in groups.values():
            rows = g["rows"]
            if "point" in g:
                lat, lon = g["point"]
            else:  # the address nearest to the median point, so the point lies on the street
                mlat, mlon = np.median(a_lat[rows]), np.median(a_lon[rows])
                k = rows[int(np.argmin((a_lat[rows] - mlat) ** 2 + (a_lon[rows] - mlon) ** 2))]
                lat, lon = a_lat[k], a_lon[k]
            codes = [postcodes[r] for r in rows if postcodes[r]]
            postcode = max(set(codes), key=codes.count) if codes else None
            label = f"{g['street']}, {g['city']}" if g["city"] else g["street"]
            doc = docs.add("street", label, lat, lon, g["street"], None, g["city"] or None, postcode)
            numbers: dict[str, int] = {}
            for r in rows:
                if hns[r]:
                    numbers.setdefault(hns[r], r)
            if numbers:
                self._street_numbers[doc] = numbers

    def _add_stops(self, docs: _Docs, stops: pd.DataFrame | None) -> None:
        if stops is None or not len(stops):
            return
        stops = _with_coordinates(stops, "stops", ("stop_id", "stop_name"))
        lat, lon = stops["lat"].to_numpy(), stops["lon"].to_numpy()
        communes = self._commune_of(lat, lon)
        for sid, name, la, lo, commune in zip(stops["stop_id"], stops["stop_name"], lat, lon, communes):
            name = _text(name)[:MAX_TEXT_CHARS]
            label = f"{name} ({commune})" if commune and _key(commune) not in _key(name) else name
            docs.add("stop", label, la, lo, name, _text(sid), commune)

    def _add_services(self, docs: _Docs, services: Any) -> None:
        if services is None:
            return
        frame = services.to_frame() if hasattr(services, "to_frame") else services
        frame = _with_coordinates(frame, "services", ("id", "name"))
        lat, lon = frame["lat"].to_numpy(), frame["lon"].to_numpy()
        communes = [_text(c) for c in frame["commune"]] if "commune" in frame.columns else [""] * len(frame)
        missing = [i for i, c in enumerate(communes) if not c]
        if missing:
            for i, c in zip(missing, self._commune_of(lat[missing], lon[missing])):
                communes[i] = c or ""
        for sid, name, la, lo, commune in zip(frame["id"], frame["name"], lat, lon, communes):
            name = _text(name)
            label = f"{name}, {commune}" if commune and _key(commune) not in _key(name) else name
            docs.add("service", label, la, lo, name, _text(sid), commune or None)

    def _finish(self, docs: _Docs) -> None:
        """Freeze documents into arrays and build the token indexes."""
        self._docs = docs
        self._kind = np.asarray(docs.kind)
        self._lat = np.asarray(docs.lat, dtype=float)
        self._lon = np.asarray(docs.lon, dtype=float)
        self._name_len = np.maximum(1, np.asarray([len(t) for t in docs.name_tokens], dtype=float))
        self._commune_len = np.asarray([len(tokens(c)) if c else 0 for c in docs.commune], dtype=float)
        name_post: dict[str, list[int]] = defaultdict(list)
        ctx_post: dict[str, list[int]] = defaultdict(list)
        df: dict[str, set[int]] = defaultdict(set)
        for d, (nt, ct) in enumerate(zip(docs.name_tokens, docs.ctx_tokens)):
            for t in nt:
                name_post[t].append(d)
                df[t].add(d)
            for t in ct:
                ctx_post[t].append(d)
                df[t].add(d)
        n = max(1, len(docs.kind))
        self._name_post = {t: np.asarray(v, dtype=np.int64) for t, v in name_post.items()}
        self._ctx_post = {t: np.asarray(v, dtype=np.int64) for t, v in ctx_post.items()}
        self._idf = {t: math.log(1.0 + n / len(v)) for t, v in df.items()}
        self._max_idf = math.log(1.0 + n)
        self._vocab = sorted(self._idf)
        self._deletes: dict[str, list[str]] = defaultdict(list)
        for t in self._vocab:
            if 4 <= len(t) <= MAX_FUZZY_CHARS and not t.isdigit():
                for variant in _deletions(t, 2 if len(t) >= 8 else 1):
                    self._deletes[variant].append(t)
        # address columns as lists: fast row access for results
        self._addr_cols = {c: self._addr[c].tolist() for c in self._addr.columns}
        self._addr_label = [
            ", ".join(p for p in (f"{h} {s}".strip(), f"{pc} {c}".strip()) if p)
            for h, s, pc, c in zip(self._addr_cols["housenumber"], self._addr_cols["street"],
                                   self._addr_cols["postcode"], self._addr_cols["city"])]
        # reverse geocoding: addresses, else street documents
        if len(self._addr):
            pts_lat, pts_lon = self._addr["lat"].to_numpy(), self._addr["lon"].to_numpy()
        else:
            pts_lat, pts_lon = self._lat, self._lon
        lat0 = float(np.mean(pts_lat)) if len(pts_lat) else 50.7
        self._fy, self._fx = _metres(lat0)
        self._nearest = _NearestPoint(np.c_[pts_lat * self._fy, pts_lon * self._fx]) if len(pts_lat) else None
        all_lat = np.r_[self._lat, self._commune_lat]
        all_lon = np.r_[self._lon, self._commune_lon]
        self._bbox = ((all_lat.min(), all_lon.min(), all_lat.max(), all_lon.max()) if len(all_lat) else None)

    # ------------------------------------------------------------------------------------------- matching
    def _matches(self, word: str) -> list[tuple[str, float]]:
        """Vocabulary tokens matching a query word, with a weight: exact 1, prefix (2+ letters) 0.75-0.95,
        1 edit 0.8 (4+ letters), 2 edits 0.65 (8+ letters)."""
        found: dict[str, float] = {}
        if word in self._idf:
            found[word] = 1.0
        if word.isdigit():
            return list(found.items())
        if len(word) >= 2:
            i = bisect.bisect_left(self._vocab, word)
            for t in self._vocab[i:i + 30]:
                if not t.startswith(word):
                    break
                if t != word:
                    found[t] = max(found.get(t, 0.0), 0.75 + 0.2 * len(word) / len(t))
        if 4 <= len(word) <= MAX_FUZZY_CHARS:
            max_dist = 2 if len(word) >= 8 else 1
            candidates: set[str] = set()
            for variant in _deletions(word, max_dist):
                candidates.update(self._deletes.get(variant, ()))
            for t in candidates:
                if t in found and found[t] >= 0.8:
                    continue
                limit = min(max_dist, 2 if len(t) >= 8 else 1)
                dist = OSA.distance(word, t, score_cutoff=limit)  # rapidfuzz: limit + 1 beyond the limit
                if 0 < dist <= limit:
                    found[t] = max(found.get(t, 0.0), 0.8 if dist == 1 else 0.65)
        return list(found.items())

    def _repair(self, words: list[str]) -> list[str]:
        """Undo missing spaces: "1boulevard" -> 1 boulevard, "saintomer" -> saint omer (both parts known)."""
        out: list[str] = []
        for w in words:
            m = _GLUED_NUMBER.match(w)
            if m and m.group(2) not in _SUFFIXES:
                w = f"{m.group(1)} {m.group(2)}"
            for part in w.split():
                if part in self._idf or not 5 <= len(part) <= MAX_FUZZY_CHARS or part.isdigit():
                    out.append(part)
                    continue
                for i in range(2, len(part) - 1):
                    head, tail = part[:i], part[i:]
                    if ((head in self._idf or head in STOP_WORDS) and (tail in self._idf or tail in STOP_WORDS)
                            and not (head in STOP_WORDS and tail in STOP_WORDS)):
                        out.extend(p for p in tokens(f"{head} {tail}"))
                        break
                else:
                    out.append(part)
        return out

    def _score(self, words: list[str]) -> tuple[np.ndarray, list[set[str]], np.ndarray]:
        """Score of every document, the vocabulary tokens each query word matched, and per document the
        number of query words found in its context (commune, postcode)."""
        n = len(self._kind)
        matched: list[set[str]] = []
        ctx_hits = np.zeros(n)
        total = np.zeros(n)
        name_hits = np.zeros(n)
        idf_sum = 0.0
        for word in words:
            matches = self._matches(word)
            matched.append({t for t, _ in matches})
            if not matches:
                idf_sum += self._max_idf
                continue
            best = max(matches, key=lambda m: m[1])
            idf = self._idf[best[0]]
            idf_sum += idf
            name_w = np.zeros(n)
            ctx_w = np.zeros(n)
            for token, w in matches:
                post = self._name_post.get(token)
                if post is not None:
                    name_w[post] = np.maximum(name_w[post], w)
                post = self._ctx_post.get(token)
                if post is not None:
                    ctx_w[post] = np.maximum(ctx_w[post], w)
            total += np.maximum(name_w, ctx_w) * idf
            name_hits += name_w
            ctx_hits += ctx_w > 0
        if idf_sum == 0:
            return total, matched, ctx_hits
        name_cov = np.minimum(1.0, name_hits / self._name_len)
        return QUERY_WEIGHT * total / idf_sum + (1 - QUERY_WEIGHT) * name_cov, matched, ctx_hits

    def _name_in_order(self, d: int, matched: list[set[str]]) -> bool:
        """True if the document's name words are matched by consecutive query words, in order (so
        "route de setques quelmes" is Route de Setques in Quelmes, not Route de Quelmes in Setques)."""
        name = self._docs.name_tokens[d]
        if not name:
            return False
        for start in range(len(matched) - len(name) + 1):
            if all(tok in matched[start + i] for i, tok in enumerate(name)):
                return True
        return False

    # -------------------------------------------------------------------------------------------- queries
    def search(self, text: str, limit: int = 10) -> list[GeocodeResult]:
        """Places matching ``text``, best first (scores in 0..1). Coordinates "LAT,LON" inside the territory
        give one ``point`` result."""
        text = text[:MAX_TEXT_CHARS]
        coords = parse_coordinates(text)
        if coords is not None:
            return [self._point(*coords)] if self.contains(*coords) else []
        words = self._repair(tokens(text))
        number = None
        if len(words) >= 2 and _HOUSENUMBER.match(words[0]):
            number = words.pop(0)
            if words and words[0] in _SUFFIXES and len(words) >= 2:
                number += words.pop(0)
        if not words or not len(self._kind):
            return []
        scores, matched, ctx_hits = self._score(words)
        k = min(len(scores), limit * 3 + 10)
        top = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
        candidates: list[tuple[float, int, str, str, int]] = []  # score, kind rank, label, kind, doc/row
        for d in top.tolist():
            s = float(scores[d])
            if s <= 0.3:
                continue
            if not self._name_in_order(d, matched):
                s -= ORDER_PENALTY
            if 0 < ctx_hits[d] < self._commune_len[d]:  # "wardrecques" vs Campagne-lès-Wardrecques
                s -= ORDER_PENALTY
            if number is not None:
                row = self._street_numbers.get(d, {}).get(number)
                if row is not None:
                    candidates.append((round(s, 4), 0, self._addr_label[row], "address", row))
                s *= NUMBER_PENALTY
            kind = self._docs.kind[d]
            candidates.append((round(s, 4), _KIND_RANK[kind], self._docs.label[d], kind, d))
        candidates.sort(key=lambda c: (-c[0], c[1], c[2]))
        return [self._address(i, s) if kind == "address" else self._result(i, s)
                for s, _, _, kind, i in candidates[:limit]]

    def resolve(self, text: str) -> GeocodeResult:
        """The one place ``text`` designates. ``InputError`` (message in French) when nothing matches, when
        several places in different communes match about as well (the message lists them), or for
        coordinates outside the territory."""
        text = (text or "").strip()[:MAX_TEXT_CHARS]
        if not text:
            raise InputError("err_address_empty")
        coords = parse_coordinates(text)
        if coords is not None:
            lat, lon = coords
            if not self.contains(lat, lon):
                hint = Msg("err_hint_swapped") if self.contains(lon, lat) else ""
                raise InputError("err_point_outside", lat=f"{lat:.5f}", lon=f"{lon:.5f}", hint=hint)
            return self._point(lat, lon)
        results = self.search(text, limit=10)
        if not results or results[0].score < MIN_SCORE:
            hint = ""
            if results:
                hint = Msg("err_hint_did_you_mean", places=" ; ".join(r.label for r in results[:3]))
            raise InputError("err_no_address", text=text, hint=hint)
        best = results[0]
        close = [r for r in results if r.score >= best.score - AMBIGUITY_GAP]
        communes = {_key(r.commune or r.label) for r in close}
        if len(communes) > 1:
            listed = " ; ".join(r.label for r in close[:6])
            raise InputError("err_ambiguous", text=text, places=listed)
        return best

    def reverse(self, lat: float, lon: float) -> GeocodeResult:
        """The address nearest to (lat, lon) (street documents if there are no addresses), with distance_m."""
        if self._nearest is None:
            raise InputError("err_no_addresses_loaded")
        dist, i = (a[0] for a in self._nearest.query(np.array([[lat * self._fy, lon * self._fx]])))
        if len(self._addr):
            res = self._address(int(i), 1.0)
        else:
            res = self._result(int(i), 1.0)
        return GeocodeResult(**{**res.to_dict(), "distance_m": round(float(dist), 1)})

    def contains(self, lat: float, lon: float) -> bool:
        """True if the point lies in the territory (commune polygons, else the bounding box of the data)."""
        if self._territory is not None:
            near = self._territory.query(shapely.Point(lon, lat), predicate="dwithin",
                                         distance=TERRITORY_TOLERANCE_DEG)
            return len(near) > 0
        if self._bbox is None:
            return False
        s, w, n, e = self._bbox
        pad = 0.02
        return s - pad <= lat <= n + pad and w - pad <= lon <= e + pad

    # ------------------------------------------------------------------------------------------- results
    def _result(self, d: int, score: float) -> GeocodeResult:
        docs = self._docs
        kind = docs.kind[d]
        return GeocodeResult(
            label=docs.label[d], kind=kind, lat=docs.lat[d], lon=docs.lon[d], score=score, id=docs.id[d],
            commune=docs.commune[d], postcode=docs.postcode[d],
            street=docs.name[d] if kind == "street" else None)

    def _address(self, row: int, score: float) -> GeocodeResult:
        a = self._addr_cols
        return GeocodeResult(
            label=self._addr_label[row], kind="address", lat=float(a["lat"][row]), lon=float(a["lon"][row]),
            score=score, id=a["osm_id"][row] or None, commune=a["city"][row] or None,
            postcode=a["postcode"][row] or None, housenumber=a["housenumber"][row] or None,
            street=a["street"][row] or None)

    def _point(self, lat: float, lon: float) -> GeocodeResult:
        commune = self._commune_of(np.array([lat]), np.array([lon]))[0]
        label = f"{lat:.5f}, {lon:.5f}"
        if self._nearest is not None:
            near = self.reverse(lat, lon)
            if near.distance_m is not None and near.distance_m <= 150:
                label += f" (près de {near.label})"
        return GeocodeResult(label=label, kind="point", lat=lat, lon=lon, score=1.0, commune=commune)


def _with_coordinates(frame: pd.DataFrame, what: str, required: tuple[str, ...]) -> pd.DataFrame:
    """``frame`` with float ``lat``/``lon`` columns (GTFS ``stop_lat``/``stop_lon`` accepted), rows without
    coordinates dropped; ``DataError`` naming missing columns."""
    if "lat" not in frame.columns and "stop_lat" in frame.columns:
        frame = frame.rename(columns={"stop_lat": "lat", "stop_lon": "lon"})
    missing = [c for c in ("lat", "lon", *required) if c not in frame.columns]
    if missing:
        raise DataError(f"geocoder input '{what}' lacks column(s) {', '.join(missing)}")
    frame = frame.assign(lat=pd.to_numeric(frame["lat"], errors="coerce"),
                         lon=pd.to_numeric(frame["lon"], errors="coerce"))
    return frame[frame["lat"].notna() & frame["lon"].notna()].reset_index(drop=True)


def _key(text: str) -> str:
    return " ".join(tokens(text or ""))


def _group_rows(streets: list[str], cities: list[str]) -> list[tuple[str, str, list[int]]]:
    groups: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, sc in enumerate(zip(streets, cities)):
        groups[sc].append(i)
    return [(s, c, rows) for (s, c), rows in groups.items()]


def _deletions(word: str, depth: int) -> set[str]:
    """``word`` with 0..depth characters deleted (the SymSpell neighbourhood)."""
    out = {word}
    frontier = {word}
    for _ in range(depth):
        frontier = {w[:i] + w[i + 1:] for w in frontier for i in range(len(w))}
        out |= frontier
    return out
