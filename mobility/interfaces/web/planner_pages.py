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

from flask import Blueprint, current_app, g, render_template, request

from mobility.interfaces.web.state import holder_of
from mobility.interfaces.web.pages import form_choices, form_values, loading_page

bp = Blueprint("planner", __name__, url_prefix="/planificateur")


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
    if available and request.args.get("to"):
        from urllib.parse import urlencode

        iso_url = "/api/isochrones?" + urlencode({**{k: values.get(k, "") for k in ("to", "date", "time", "window")},
                                                  "lang": g.lang})  # its error messages in the page's language
    # no ``map_data``: the page draws its own Lambert-93 map (static/js/planner_map.js), not the trip map
    return render_template("planner.html", values=values, choices=form_choices(ctx, g.lang), available=available,
                           iso_url=iso_url)
