"""Planner page (``/planificateur``): access-time maps (isochrones) to a site or a category.

The map is projected in Lambert-93 (EPSG:2154) by ``static/js/planner_map.js`` over the application's own
layers: commune boundaries and names, hatched TAD zones, numbered lines, sites by category, legend, scale
bar, north arrow, caption and source line.

Uses ``mobility.analysis`` when it offers an isochrone API (see :func:`analysis_api`); until then the
page shows the territory map and says the isochrones are coming.
"""

from __future__ import annotations

import importlib
from typing import Callable

import datetime as dt
import io

from flask import Blueprint, Response, current_app, g, render_template, request

from mobility.errors import NotFoundError
from mobility.interfaces.web.state import holder_of
from mobility.interfaces.web.pages import form_choices, form_values, loading_page
from mobility.interfaces.web.planning import answer_cache

bp = Blueprint("planner", __name__, url_prefix="/planificateur")

#: the statistic and modes of the page's maps (those of ``isochrones_geojson``'s defaults)
STAT, MODES, STEP_MIN = "p50", "transit+tad", 5
EXPORTS = {"geojson": "application/geo+json", "gpkg": "application/geopackage+sqlite3", "png": "image/png",
           "csv": "text/csv"}


def surface_request(args) -> tuple[str, dt.datetime, dt.datetime]:
    """(target, window start, window end) of an isochrone request (``to``, ``date``, ``time``, ``window``)."""
    from mobility.interfaces.web.params import number, text, when_of

    target = text(args, "to", required=True)
    when = when_of(args)
    window = int(number(args, "window", 60, 15, 240, integer=True))
    end = min(when + dt.timedelta(minutes=window), dt.datetime.combine(when.date(), dt.time(23, 59)))
    return target, when, end


def cached_surface(ctx, target: str, when: dt.datetime, end: dt.datetime):
    """The travel-time surface to ``target`` over the window (median over departures every 5 min, public
    transport and TAD), computed once per request and kept in the answer cache."""
    from mobility.analysis.surface import compute_surface

    key = ("surface", target.casefold(), when, end)
    cache = answer_cache()
    hit = cache.get(key)
    if hit is None:
        hit = compute_surface(ctx, target, when.date(), (when.time(), end.time()), step_min=STEP_MIN, direction="to",
                              percentiles=(50,), modes=MODES)
        cache.put(key, hit)
    return hit


def isochrone_collection(ctx, target: str, when: dt.datetime, end: dt.datetime, lang: str = "fr") -> dict:
    """The isochrones GeoJSON of ``isochrones_geojson`` plus the sites reached and the population total; its
    labels in ``lang``."""
    from mobility.analysis.isochrones import feature_collection

    surface = cached_surface(ctx, target, when, end)
    out = feature_collection(surface, stat=STAT, lang=lang)
    out["properties"]["targets"] = [{"site_id": p.site_id, "name": p.name, "lat": p.lat, "lon": p.lon}
                                    for p in surface.target.points]
    out["properties"]["population_total"] = round(float(surface.grid.population.sum()), 1)
    return out


@bp.get("/export.<fmt>")
def export(fmt: str):
    """The page's map as a file: isochrones (GeoJSON, GeoPackage), the PNG map, the cells' times (CSV)."""
    if fmt not in EXPORTS:
        raise NotFoundError("err_unknown_export", fmt=fmt[:20], known=", ".join(EXPORTS))
    holder = holder_of(current_app)
    if holder.status != "ok":
        return loading_page()
    ctx = holder.get()
    target, when, end = surface_request(request.args)
    surface = cached_surface(ctx, target, when, end)
    if fmt == "geojson":
        import json

        data = json.dumps(isochrone_collection(ctx, target, when, end, "en" if g.lang == "en" else "fr"),
                          ensure_ascii=False).encode("utf-8")
    elif fmt == "csv":
        data = surface.to_frame().to_csv(index=False).encode("utf-8")
    else:
        import tempfile
        from pathlib import Path

        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"isochrones.{fmt}"
            if fmt == "png":
                from mobility.analysis.maps import render_surface

                lang = "en" if g.lang == "en" else "fr"
                render_surface(ctx, surface, path, STAT, lang=lang)
            else:
                from mobility.analysis.isochrones import write_isochrones

                write_isochrones(surface, path, stat=STAT, lang="en" if g.lang == "en" else "fr")
            data = path.read_bytes()
    slug = "".join(c if c.isalnum() or c in "-_" else "_" for c in target)[:40]
    name = f"isochrones_{slug}_{when:%Y-%m-%d_%H%M}-{end:%H%M}.{fmt}"
    resp = Response(io.BytesIO(data).getvalue(), mimetype=EXPORTS[fmt])
    resp.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return resp


def analysis_api() -> Callable | None:
    """The isochrone function of ``mobility.analysis`` if it exists (None otherwise)."""
    for module, name in (("mobility.analysis.isochrones", "isochrones_geojson"),):
        try:
            mod = importlib.import_module(module)
        except ImportError:
            continue
        fn = getattr(mod, name, None)
        if callable(fn):
            return fn
    return None


@bp.get("/")
def planner():
    holder = holder_of(current_app)
    if holder.status != "ok":
        return loading_page()
    ctx = holder.get()
    values = form_values(ctx, request.args)
    available = analysis_api() is not None
    iso_url = ""
    exports: dict[str, str] = {}
    if available and request.args.get("to"):
        from urllib.parse import urlencode

        query = urlencode({k: values.get(k, "") for k in ("to", "date", "time", "window")})
        iso_url = "/api/isochrones?" + query + "&" + urlencode({"lang": g.lang})  # errors in the page's language
        exports = {fmt: f"/planificateur/export.{fmt}?{query}" for fmt in EXPORTS}
    # no ``map_data``: the page draws its own Lambert-93 map (static/js/planner_map.js), not the trip map
    return render_template("planner.html", values=values, choices=form_choices(ctx, g.lang), available=available,
                           iso_url=iso_url, exports=exports, target=values.get("to_id") or values.get("to", ""))
