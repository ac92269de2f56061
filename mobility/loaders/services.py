"""Load the catalogue of public-service sites (CSV or GeoJSON) into validated :class:`ServiceSite` records.

Columns (CSV header, or GeoJSON ``properties`` with a Point geometry that supplies lat/lon):
``id,name,categories,commune,insee,address,lat,lon,coord_quality,opening_hours,wheelchair,phone,status,source,note``.
``categories`` is semicolon-separated, the first one is the site's main category (e.g. ``france_services;caf;cpam``
for a France Services hosting CAF and CPAM desks). Required: id, name, categories, lat, lon; the rest may be empty.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import NoReturn

import pandas as pd

from mobility.errors import DataError, NotFoundError
from mobility.domain.categories import (
    find_category, known_categories, match_category, resolve_category, unknown_category_message,
)
from mobility.domain.opening_hours import OpeningHours, OpeningHoursError
from mobility.domain.textnorm import tokens

COLUMNS = ("id", "name", "categories", "commune", "insee", "address", "lat", "lon", "coord_quality",
           "opening_hours", "wheelchair", "phone", "status", "source", "note")
REQUIRED_COLUMNS = ("id", "name", "categories", "lat", "lon")
#: accepted ``wheelchair`` values (OSM) and French equivalents -> stored value
WHEELCHAIR_VALUES = {"": "", "yes": "yes", "no": "no", "limited": "limited", "designated": "designated",
                     "unknown": "", "oui": "yes", "non": "no", "partiel": "limited", "limite": "limited"}
#: ``status`` values meaning the site no longer receives the public
CLOSED_STATUSES = frozenset({"closed", "permanently_closed", "ferme", "fermé", "fermee", "fermée", "inactive",
                             "disused"})
#: words of a ``status`` meaning nobody knows whether the site receives the public today, by kind (a site open
#: in 2011 and not heard of since, a project not confirmed open, unknown): such a site is not chosen for a
#: category; the first kind whose words a status holds is its kind
UNCERTAIN_STATUS_KINDS = (("historic", ("historic", "historique")), ("unconfirmed", ("not confirmed", "non confirmé")),
                          ("unknown", ("unknown", "inconnu")))
UNCERTAIN_STATUS_WORDS = tuple(word for _, words in UNCERTAIN_STATUS_KINDS for word in words)


def uncertain_status_kind(status: str) -> str | None:
    """The kind of uncertainty ``status`` states (``UNCERTAIN_STATUS_KINDS``: "historic", "unconfirmed",
    "unknown"), or None when it states none."""
    text = status.strip().lower()
    return next((kind for kind, words in UNCERTAIN_STATUS_KINDS if any(word in text for word in words)), None)


@dataclass(frozen=True)
class ServiceSite:
    """One place where the public is received (a CAF office, a France Services, a town hall...)."""

    id: str
    name: str
    categories: tuple[str, ...]  # category keys; the first is the main one
    lat: float
    lon: float
    commune: str = ""
    insee: str = ""
    address: str = ""
    coord_quality: str = ""
    opening_hours: OpeningHours | None = field(default=None, compare=False)  # None: hours unknown
    wheelchair: str = ""
    phone: str = ""
    status: str = ""
    source: str = ""
    note: str = ""

    @property
    def main_category(self) -> str:
        return self.categories[0]

    @property
    def opening_hours_text(self) -> str:
        return self.opening_hours.text if self.opening_hours else ""

    @property
    def is_active(self) -> bool:
        """False when ``status`` says the site is closed for good."""
        return self.status.strip().lower() not in CLOSED_STATUSES

    @property
    def status_uncertain(self) -> bool:
        """True when ``status`` says the site may no longer (or not yet) receive the public."""
        return uncertain_status_kind(self.status) is not None

    def offers(self, category: str) -> bool:
        return category in self.categories

    def is_open(self, at: datetime) -> bool | None:
        """Open at ``at``? None when the opening hours are unknown."""
        return None if self.opening_hours is None else self.opening_hours.is_open(at)


class ServiceCatalogue:
    """The service sites, with look-ups by id, by category and by free text."""

    def __init__(self, sites: list[ServiceSite]) -> None:
        self.sites = list(sites)
        self._by_id = {s.id: s for s in self.sites}

    def __len__(self) -> int:
        return len(self.sites)

    def __iter__(self) -> Iterator[ServiceSite]:
        return iter(self.sites)

    def __repr__(self) -> str:
        return f"ServiceCatalogue({len(self.sites)} sites)"

    def get(self, site_id: str) -> ServiceSite:
        """The site with this id; ``NotFoundError`` otherwise."""
        try:
            return self._by_id[str(site_id)]
        except KeyError:
            raise NotFoundError("err_unknown_service_site", id=site_id) from None

    def by_category(self, category: str, *, active_only: bool = False) -> list[ServiceSite]:
        """Every site offering ``category`` (a key, or free text in French/English: "CAF", "town hall"...):
        sites whose main category it is first, then those hosting it (e.g. a France Services with CAF desks).
        ``NotFoundError`` listing the known categories if the text names none."""
        key = resolve_category(category)
        found = [s for s in self.sites if key in s.categories and (s.is_active or not active_only)]
        return sorted(found, key=lambda s: s.main_category != key)

    def search(self, text: str, limit: int | None = None) -> list[ServiceSite]:
        """Sites matching free text, best first: a category named in the text ("I need the CAF", "mairie
        Arques") selects the sites offering it, the other words rank them by name and commune; without a
        category, sites whose name/commune contain the words."""
        words = set(tokens(text))
        key = find_category(text)
        scored = []
        for s in self.sites:
            site_words = set(tokens(f"{s.name} {s.commune}"))
            overlap = len(words & site_words)
            if key:
                if key not in s.categories:
                    continue
                score = (2.0 if s.main_category == key else 1.5) + overlap
            else:
                if not words or overlap == 0:
                    continue
                score = overlap / len(words)
            scored.append((-score, s.name, s))
        scored.sort(key=lambda t: (t[0], t[1]))
        found = [s for _, _, s in scored]
        return found[:limit] if limit else found

    def categories(self) -> list[str]:
        """Category keys offered by at least one site, in vocabulary order."""
        offered = {c for s in self.sites for c in s.categories}
        return [c for c in known_categories() if c in offered]

    def to_frame(self) -> pd.DataFrame:
        """One row per site: id, name, main_category, categories (';'-joined), commune, insee, lat, lon."""
        return pd.DataFrame(
            [(s.id, s.name, s.main_category, ";".join(s.categories), s.commune, s.insee, s.lat, s.lon)
             for s in self.sites],
            columns=["id", "name", "main_category", "categories", "commune", "insee", "lat", "lon"])


# ------------------------------------------------------------------------------------------------- loading
def load_services(path: str | Path) -> ServiceCatalogue:
    """Read and validate a service catalogue (``.csv``, or ``.geojson``/``.json``).

    Raises ``DataError`` naming the file, line (CSV) or feature (GeoJSON) and field of the first bad value.
    """
    path = Path(path)
    if not path.exists():
        raise DataError("service catalogue file not found", path=str(path))
    if path.suffix.lower() in (".geojson", ".json"):
        rows = _geojson_rows(path)
    else:
        rows = _csv_rows(path)
    sites: list[ServiceSite] = []
    seen: dict[str, int | str] = {}
    try:
        for where, row in rows:
            site = _parse_site(row, path, where)
            if site.id in seen:
                _fail(f"duplicate id '{site.id}' (first seen at {_where_text(seen[site.id])})", path, where, "id")
            seen[site.id] = where
            sites.append(site)
    except UnicodeDecodeError as exc:
        raise DataError(f"not UTF-8 text (byte {exc.start}); save the file as UTF-8", path=str(path)) from None
    except (csv.Error, OSError) as exc:  # a field over the csv module's limit, a NUL byte, an unreadable file
        raise DataError(f"malformed file ({exc})", path=str(path)) from None
    except RecursionError:
        raise DataError("invalid JSON: nested too deeply", path=str(path)) from None
    return ServiceCatalogue(sites)


def _where_text(where: int | str) -> str:
    return f"line {where}" if isinstance(where, int) else where


def _fail(message: str, path: Path, where: int | str, field_name: str | None = None) -> NoReturn:
    """Raise DataError; ``where`` is a CSV line number or a GeoJSON "feature N" label."""
    if isinstance(where, int):
        raise DataError(message, path=str(path), line=where, field=field_name)
    raise DataError(f"{where}: {message}", path=str(path), field=field_name)


def _check_columns(names: list[str], path: Path, where: int | str) -> None:
    missing = [c for c in REQUIRED_COLUMNS if c not in names]
    if missing:
        _fail(f"missing column(s) {', '.join(missing)}; expected {','.join(COLUMNS)}", path, where)


def _csv_rows(path: Path) -> Iterator[tuple[int | str, dict[str, str]]]:
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.reader(f)
        try:
            header = [h.strip() for h in next(reader)]
        except StopIteration:
            raise DataError("empty file (no header line)", path=str(path)) from None
        _check_columns(header, path, 1)
        line = reader.line_num + 1
        for values in reader:
            start, line = line, reader.line_num + 1
            if not any(v.strip() for v in values):
                continue
            if len(values) != len(header):
                _fail(f"{len(values)} values for {len(header)} columns (unquoted comma?)", path, start)
            yield start, dict(zip(header, values))


def _geojson_rows(path: Path) -> Iterator[tuple[int | str, dict[str, str]]]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8-sig"))
    except json.JSONDecodeError as exc:
        raise DataError(f"invalid JSON: {exc.msg}", path=str(path), line=exc.lineno) from None
    features = doc.get("features") if isinstance(doc, dict) else None
    if not isinstance(features, list):
        raise DataError("not a GeoJSON FeatureCollection (no 'features' list)", path=str(path))
    for i, feat in enumerate(features, start=1):
        if not isinstance(feat, dict) or not isinstance(feat.get("properties") or {}, dict):
            _fail("not a GeoJSON Feature object with an object of properties", path, f"feature {i}")
        props = dict(feat.get("properties") or {})
        where = f"feature {i}" + (f" (id {props['id']})" if props.get("id") not in (None, "") else "")
        geom = feat.get("geometry")
        if geom and not isinstance(geom, dict):
            _fail("geometry must be a Point [lon, lat]", path, where, "geometry")
        if geom:
            coords = geom.get("coordinates")
            if geom.get("type") != "Point" or not isinstance(coords, list) or len(coords) < 2:
                _fail(f"geometry must be a Point [lon, lat], got {geom.get('type')}", path, where, "geometry")
            props["lon"], props["lat"] = coords[0], coords[1]
        if i == 1:
            _check_columns(list(props), path, where)
        cats = props.get("categories")
        if isinstance(cats, list):
            props["categories"] = ";".join(str(c) for c in cats)
        yield where, {k: "" if v is None else str(v) for k, v in props.items()}


def _parse_site(row: dict[str, str], path: Path, where: int | str) -> ServiceSite:
    def text(name: str) -> str:
        return (row.get(name) or "").strip()

    def required(name: str) -> str:
        value = text(name)
        if not value:
            _fail(f"{name} is empty", path, where, name)
        return value

    def coordinate(name: str, limit: float) -> float:
        raw = required(name)
        try:
            value = float(raw.replace(",", "."))
        except ValueError:
            _fail(f"{name} '{raw}' is not a number", path, where, name)
        if not math.isfinite(value) or abs(value) > limit:
            _fail(f"{name} {raw} is out of range ±{limit:g}", path, where, name)
        return value

    site_id, name = required("id"), required("name")
    categories = []
    for raw in required("categories").split(";"):
        if not raw.strip():
            continue
        key = match_category(raw.strip())
        if key is None:
            _fail(unknown_category_message(raw.strip()), path, where, "categories")
        if key not in categories:
            categories.append(key)
    if not categories:
        _fail("categories is empty", path, where, "categories")
    lat, lon = coordinate("lat", 90), coordinate("lon", 180)
    insee = text("insee")
    if insee and not (len(insee) == 5 and insee.isalnum()):
        _fail(f"insee '{insee}' is not a 5-character INSEE code", path, where, "insee")
    hours = None
    if text("opening_hours"):
        try:
            hours = OpeningHours.parse(text("opening_hours"))
        except OpeningHoursError as exc:
            _fail(str(exc), path, where, "opening_hours")
    wheelchair = text("wheelchair").lower()
    if wheelchair not in WHEELCHAIR_VALUES:
        _fail(f"wheelchair '{wheelchair}' is not one of yes, no, limited, designated", path, where, "wheelchair")
    return ServiceSite(
        id=site_id, name=name, categories=tuple(categories), lat=lat, lon=lon, commune=text("commune"),
        insee=insee, address=text("address"), coord_quality=text("coord_quality"), opening_hours=hours,
        wheelchair=WHEELCHAIR_VALUES[wheelchair], phone=text("phone"), status=text("status"),
        source=text("source"), note=text("note"))
