"""Operator console (``/operateur``): keyboard-first planning, results side by side, printable itinerary.

Recent requests of the session are kept in the browser (localStorage) by ``operator.js``; the print view
(``/operateur/imprimer``) is in French unless ``lang=en`` is asked explicitly.
"""

from __future__ import annotations

from flask import Blueprint, current_app, g, render_template, request

from mobility.interfaces.web.state import holder_of
from mobility.interfaces.web.i18n import translator
from mobility.interfaces.web.pages import form_choices, form_values, loading_page, map_data, run_plan, trip_view
from mobility.interfaces.web.planning import answer_cache

bp = Blueprint("operator", __name__, url_prefix="/operateur")


@bp.get("/")
def console():
    holder = holder_of(current_app)
    if holder.status != "ok":
        return loading_page()
    ctx = holder.get()
    planned = bool(request.args.get("from") or request.args.get("to"))
    req = trip = error = None
    status = 200
    if planned:
        req, trip, error, status = run_plan(ctx, request.args, g.lang, channel="operator")
    return render_template("operator.html", values=form_values(ctx, request.args, g.lang),
                           trip=trip_view(trip, req, g.lang),
                           error=error, req=req, choices=form_choices(ctx, g.lang), map_data=map_data(trip),
                           planned=planned), status


@bp.get("/imprimer")
def print_view():
    holder = holder_of(current_app)
    if holder.status != "ok":
        return loading_page()
    ctx = holder.get()
    lang = "en" if request.args.get("lang") == "en" else "fr"  # French to post or hand to the resident
    g.lang = lang
    req, trip, error, status = run_plan(ctx, request.args, lang)
    return render_template("print.html", trip=trip_view(trip, req, lang), error=error, req=req, lang=lang,
                           t=translator(lang), centre=centre(), values=form_values(ctx, request.args, lang)), status


def centre() -> dict:
    """The mobility centre named on the print view (``MOBILITY_CENTRE_NAME``, ``MOBILITY_CENTRE_PHONE``)."""
    from mobility.interfaces.web.views import national_phone, tel_href

    phone = national_phone(current_app.config.get("MOBILITY_CENTRE_PHONE") or "")
    return {"name": current_app.config.get("MOBILITY_CENTRE_NAME") or translator(g.lang)("site_title"),
            "phone": phone, "tel": tel_href(phone) if phone else "",
            "hours": current_app.config.get("MOBILITY_CENTRE_HOURS") or ""}


@bp.get("/imprimer/carte.png")
def print_map():
    """A small static map of the trip (PNG, Lambert-93, drawn server-side from our own layers)."""
    from flask import Response

    from mobility.interfaces.web.trip_map import trip_png

    holder = holder_of(current_app)
    if holder.status != "ok":
        return loading_page()
    ctx = holder.get()
    lang = "en" if request.args.get("lang") == "en" else "fr"
    req, trip, error, status = run_plan(ctx, request.args, lang)
    if trip is None:
        return Response(status=status)
    its = trip.get("itineraries") or []
    back = (trip.get("return") or {}).get("options") or []
    # the drawn legs identify the picture (an answer to "book now" may change from one minute to the next)
    key = ("trip-png", req.key(), lang, tuple((it["departure"], it["arrival"]) for it in its[:1] + back[:1]))
    cache = answer_cache()
    png = cache.get(key)
    if png is None:
        png = trip_png(ctx, trip, lang)
        cache.put(key, png)
    resp = Response(png, mimetype="image/png")
    resp.headers["Cache-Control"] = "private, max-age=300"
    return resp
