"""Operator console (``/operateur``): keyboard-first planning, results side by side, printable itinerary.

Recent requests of the session are kept in the browser (localStorage) by ``operator.js``; the print view
(``/operateur/imprimer``) is in French unless ``lang=en`` is asked explicitly.
"""

from __future__ import annotations

from flask import Blueprint, current_app, g, render_template, request

from mobility.interfaces.web.state import holder_of
from mobility.interfaces.web.i18n import translator
from mobility.interfaces.web.pages import form_choices, form_values, loading_page, map_data, run_plan, trip_view

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
    return render_template("operator.html", values=form_values(ctx, request.args), trip=trip_view(trip),
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
    return render_template("print.html", trip=trip_view(trip), error=error, req=req, lang=lang,
                           t=translator(lang)), status
