"""JSON API blueprint (``/api``): plan, geocode, services, layers, health, OpenAPI document.

Same semantics and JSON as the Python API (:func:`mobility.planning.services.plan_trip`); errors are
``{"error": {"code", "message"}}`` with the status of the :class:`~mobility.errors.MobilityError`.
"""

from __future__ import annotations

import time

from flask import Blueprint, Response, current_app, g, jsonify, request

from mobility import __version__
from mobility.errors import InputError, MobilityError, NotFoundError
from mobility.interfaces.web.i18n import translator
from mobility.interfaces.web.state import holder_of
from mobility.interfaces.web.layers import LAYERS, layer_bytes
from mobility.interfaces.web.openapi import MAX_HEALTH_PROBLEMS
from mobility.interfaces.web.params import (MAX_TEXT, PLAN_PARAMS, json_object, number, plan_request,
                                            reject_unknown, text)
from mobility.interfaces.web.planning import answer_cache, plan_json

bp = Blueprint("api", __name__, url_prefix="/api")


def _ctx():
    return holder_of(current_app).get()


def _lang(values) -> str:
    """``lang``, else the request's language (``Accept-Language``, else French)."""
    default = getattr(g, "lang", "fr")
    lang = text(values, "lang", default=default) or default
    if lang not in ("fr", "en"):
        raise InputError("err_param_lang")
    return lang


@bp.route("/plan", methods=["GET", "POST"])
def plan():
    """Door-to-service itineraries (GET query parameters or POST JSON object)."""
    if request.method == "POST":
        if not request.is_json:
            return _error(415, "unsupported_media_type", translator(g.lang)("err_send_json"))
        values = json_object(request.get_data(cache=True))  # size bounded by MAX_CONTENT_LENGTH
        if values.get("lang") in ("fr", "en"):
            g.lang = values["lang"]  # the language of the error messages too
    else:
        values = request.args
    from mobility.interfaces.web.observatory import journal_plan

    req = None
    try:
        reject_unknown(values, PLAN_PARAMS)
        req = plan_request(values, lang_default=getattr(g, "lang", "fr"))
        answer = plan_json(_ctx(), req, answer_cache())
    except MobilityError as exc:  # journaled like a served request (every request, cached or not)
        journal_plan("api", req, error=exc)
        raise
    ref = journal_plan("api", req, answer)
    resp = jsonify(answer)
    if ref:  # what a client quotes to POST /api/survey (the JSON answer stays as cached)
        resp.headers["X-Observatory-Ref"] = ref
    return resp


@bp.get("/geocode")
def geocode():
    """Places matching free text: addresses, streets, communes, stops, service sites."""
    q = text(request.args, "q", required=True)
    limit = int(number(request.args, "limit", 8, 1, 20, integer=True))
    ctx = _ctx()
    results = [r.to_dict() for r in ctx.geocoder.search(q, limit)]
    return jsonify({"query": q, "results": results})


def _site_json(site, lang: str) -> dict:
    from mobility.planning.services import site_json

    return site_json(site, lang)


@bp.get("/services")
def services():
    """The service sites, optionally of one category (key or free text: "caf", "town hall")."""
    lang = _lang(request.args)
    category = text(request.args, "category")
    ctx = _ctx()
    sites = ctx.catalogue.by_category(category) if category else ctx.catalogue.sites
    from mobility.domain.categories import category_label

    return jsonify({"category": category or None,
                    "categories": [{"key": c, "label": category_label(c, lang)} for c in ctx.catalogue.categories()],
                    "services": [_site_json(s, lang) for s in sites]})


@bp.get("/services/<site_id>")
def service(site_id: str):
    if len(site_id) > MAX_TEXT:
        raise InputError("err_site_id_too_long", n=MAX_TEXT)
    lang = _lang(request.args)
    return jsonify(_site_json(_ctx().catalogue.get(site_id), lang))


@bp.get("/layers/<name>.geojson")
def layer(name: str):
    """A vector layer of the territory (GeoJSON FeatureCollection), built once and cached."""
    if name not in LAYERS:
        raise NotFoundError("err_unknown_layer", name=name[:50], known=", ".join(LAYERS))
    data = layer_bytes(holder_of(current_app), name)
    resp = Response(data, mimetype="application/geo+json")
    resp.headers["Cache-Control"] = "public, max-age=3600"
    return resp


@bp.get("/isochrones")
def isochrones():
    """Access-time areas (isochrones, GeoJSON) to a site or a category, from ``mobility.analysis``; the
    collection's ``properties`` also give the sites reached (``targets``) and the territory's population."""
    from mobility.interfaces.web.planner_pages import isochrone_collection, surface_request

    lang = _lang(request.args)  # the language of the labels and of the error messages
    ctx = _ctx()
    target, when, end = surface_request(request.args)
    key = ("isochrones", target.casefold(), when, end, lang)
    cache = answer_cache()
    hit = cache.get(key)
    if hit is None:
        hit = isochrone_collection(ctx, target, when, end, lang)
        cache.put(key, hit)
    return jsonify(hit)


@bp.get("/health")
def health():
    """Liveness and data status: 200 when ready, 503 while loading or after a load failure."""
    holder = holder_of(current_app)
    status = holder.status
    body = {"status": status, "version": __version__,
            "uptime_s": round(time.time() - holder.started_at, 1)}
    if status == "ok":
        ctx = holder.get()
        rng = ctx.planner.network.service_range()
        body.update({"load_seconds": round(holder.load_seconds or 0.0, 2), "sites": len(ctx.catalogue.sites),
                     "stops": int(len(ctx.planner.network.stops)),
                     "service_dates": [rng[0].isoformat(), rng[1].isoformat()] if rng else None})
        problems = getattr(ctx.planner.network, "problems", [])
        body["validation"] = {"warnings": sum(p.severity == "warning" for p in problems),
                              "problems": [p.to_dict() for p in problems[:MAX_HEALTH_PROBLEMS]]}
    elif status == "error" and holder.error_message:
        body["message"] = holder.error_message  # e.g. "trips.txt, line 4, field 'trip_id': ... repeated"
    resp = jsonify(body)
    resp.status_code = 200 if status == "ok" else 503
    if status != "ok":
        resp.headers["Retry-After"] = "5"
    return resp


@bp.get("/openapi.json")
def openapi():
    from mobility.interfaces.web.openapi import openapi_document

    return jsonify(openapi_document())


def _error(status: int, code: str, message: str):
    resp = jsonify({"error": {"code": code, "message": message}})
    resp.status_code = status
    return resp
