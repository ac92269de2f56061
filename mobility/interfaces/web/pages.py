"""Resident pages: the form (``/``) and the server-rendered results (``/itineraire``), French by default.

Forms use GET only (nothing changes on the server, so no CSRF token is needed); results work without
JavaScript, which only adds the address autocomplete and the map.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Mapping

from flask import Blueprint, Response, current_app, g, render_template, request

from mobility.errors import MobilityError
from mobility.interfaces.web.state import LoadingError, holder_of
from mobility.interfaces.web.i18n import label_itineraries, translator
from mobility.interfaces.web.params import PlanRequest, plan_request
from mobility.interfaces.web.planning import answer_cache, plan_json
from mobility.interfaces.web.views import (booking_boxes, error_message, field_error, place_name,
                                          shifted_queries)

bp = Blueprint("pages", __name__)


def form_choices(ctx, lang: str) -> dict[str, Any]:
    """Categories and sites for the destination select (mairies apart: there is one per commune)."""
    from mobility.domain.categories import category_label

    cats = [(c, category_label(c, lang)) for c in ctx.catalogue.categories()]
    sites = sorted(ctx.catalogue.sites, key=lambda s: (s.commune, s.name))
    return {"categories": cats,
            "sites": [(s.id, f"{s.name} ({s.commune})") for s in sites if s.main_category != "mairie"],
            "mairies": [(s.id, f"{s.commune} — {s.name}") for s in sites if s.main_category == "mairie"]}


def default_date(ctx) -> dt.date:
    """Today, within the timetable's service dates."""
    today = dt.date.today()
    rng = ctx.planner.network.service_range()
    if rng is None:
        return today
    return min(max(today, rng[0]), rng[1])


def flat(args) -> dict[str, str]:
    """Query arguments with the last value of repeated names (a checkbox after its hidden default)."""
    if hasattr(args, "lists"):
        return {k: v[-1] for k, v in args.lists()}
    return dict(args)


def picked_id(ctx, value: str) -> str:
    """"svc-001 — Maison des services…" or "caf — CAF" (an autocomplete pick) -> "svc-001" / "caf"."""
    head, sep, _ = value.partition(" — ")
    if not sep:
        return value
    head = head.strip()
    if head in {s.id for s in ctx.catalogue.sites} or head in ctx.catalogue.categories():
        return head
    return value


def form_values(ctx, args: Mapping[str, str], lang: str = "fr") -> dict[str, str]:
    """What the form shows: the request's values, else defaults. A destination given as a site id or a
    category key (a re-plan link, an autocomplete pick) shows its name; the id goes in ``to_id``."""
    values = {k: str(v)[:200] for k, v in flat(args).items()}
    to = picked_id(ctx, values.get("to", ""))
    name = place_name(ctx, to, lang)
    if name is not None:
        values["to_id"], values["to_name"] = to, name
    elif values.get("to_id") and place_name(ctx, values["to_id"], lang) is None:
        values.pop("to_id")
    values.setdefault("date", default_date(ctx).isoformat())
    values.setdefault("time", "09:00")
    values.setdefault("max_walk_m", "2000")
    values.setdefault("arrive_by", "0")
    return values


def run_plan(ctx, args: Mapping[str, str], lang: str,
             channel: str | None = None) -> tuple[PlanRequest | None, dict | None, dict | None, int]:
    """(request, TripPlan JSON, error, HTTP status). An error is a :func:`~views.field_error` dict (the
    field it is about, a code for the sentence in the page's language, clickable candidates), shown at
    the field. With a ``channel`` (resident, operator) the request is journaled for the observatory."""
    from mobility.interfaces.web.observatory import journal_plan

    req = None
    try:
        values = flat(args)
        for end in ("from", "to"):
            if isinstance(values.get(end), str):
                values[end] = picked_id(ctx, values[end])
        to_id = str(values.pop("to_id", "") or "").strip()
        if to_id and str(values.get("to", "")).strip() == place_name(ctx, to_id, lang):
            values["to"] = to_id  # the id behind the name the field shows (an autocomplete pick, a re-plan)
        req = plan_request(values, lang_default=lang)
        if req.lang != lang:
            req = PlanRequest(**{**req.__dict__, "lang": lang})
        answer = plan_json(ctx, req, answer_cache())
    except LoadingError:
        raise
    except MobilityError as exc:
        if channel:
            journal_plan(channel, req, error=exc)
        err = field_error(ctx, values, exc)
        err["message"] = error_message(err, lang, ctx, exc)
        return None, None, err, exc.http_status
    if channel:
        journal_plan(channel, req, answer)
    return req, answer, None, 200


def loading_page() -> Response:
    t = translator(g.lang)
    return Response(render_template("error.html", status=503, code="loading", message=t("loading")), status=503,
                    headers={"Retry-After": "5"})


def trip_view(trip: dict | None, req: PlanRequest | None = None, lang: str = "fr") -> dict | None:
    """A TripPlan JSON for the templates: comparison labels, one booking box per itinerary (outbound and
    return options), earlier/later re-plans."""
    if trip is None:
        return None
    holder = holder_of(current_app)
    its = trip.get("itineraries") or []
    ret = trip.get("return") or {}
    return {**trip, "labels": label_itineraries(its),
            "bookings": [booking_boxes(it, trip, lang, holder) for it in its],
            "return_bookings": [booking_boxes(it, trip, lang, holder) for it in ret.get("options") or []],
            "shift": shifted_queries(req, trip)}


def map_data(trip: dict | None) -> dict:
    """What the map script draws: the legs (outbound and return) and both ends."""
    if not trip:
        return {}
    its = trip.get("itineraries") or []
    legs = [{"mode": leg["mode"], "geometry": leg.get("geometry"),
             "route": (leg.get("route") or {}).get("short_name"), "from": leg.get("from"), "to": leg.get("to")}
            for leg in (its[0]["legs"] if its else [])]
    back = (trip.get("return") or {}).get("itineraries") or []
    ret = [{"mode": leg["mode"], "geometry": leg.get("geometry")} for leg in (back[0]["legs"] if back else [])]
    return {"origin": trip.get("origin"), "destination": trip.get("destination"), "legs": legs, "return": ret}


@bp.get("/")
def index():
    holder = holder_of(current_app)
    if holder.status != "ok":
        return loading_page()
    ctx = holder.get()
    return render_template("resident.html", values=form_values(ctx, request.args, g.lang), trip=None, error=None,
                           choices=form_choices(ctx, g.lang), map_data={})


@bp.get("/itineraire")
def results():
    holder = holder_of(current_app)
    if holder.status != "ok":
        return loading_page()
    ctx = holder.get()
    req, trip, error, status = run_plan(ctx, request.args, g.lang, channel="resident")
    return render_template("resident.html", values=form_values(ctx, request.args, g.lang), trip=trip_view(trip, req, g.lang),
                           error=error, req=req, choices=form_choices(ctx, g.lang), map_data=map_data(trip)), status
