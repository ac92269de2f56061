"""OpenAPI 3.0 description of the JSON API (served at ``/api/openapi.json``; tests check it against reality)."""

from __future__ import annotations

from typing import Any

from mobility import __version__
from mobility.interfaces.web.layers import LAYERS

_STR200 = {"type": "string", "maxLength": 200}
#: /api/health lists at most this many validation warnings (all are counted)
MAX_HEALTH_PROBLEMS = 50
_BOOL = {"type": "boolean"}


def _param(name: str, schema: dict, description: str, required: bool = False, where: str = "query") -> dict:
    return {"name": name, "in": where, "required": required, "schema": schema, "description": description}


PLAN_QUERY = [
    _param("from", {**_STR200, "minLength": 1}, "origin: address, commune, stop name, 'stop:ID', 'LAT,LON', "
           "service site id or category", True),
    _param("to", {**_STR200, "minLength": 1}, "destination: same forms as 'from'; a category picks the best site", True),
    _param("date", {"type": "string", "format": "date"}, "day (YYYY-MM-DD, default today)"),
    _param("time", {"type": "string", "pattern": r"^\d{2}:\d{2}(:\d{2})?$"}, "local time HH:MM (default now)"),
    _param("datetime", {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$"},
           "date and time YYYY-MM-DDTHH:MM (instead of date + time)"),
    _param("arrive_by", _BOOL, "true: 'time' is the arrival time (default false: departure)"),
    _param("wheelchair", _BOOL, "step-free itineraries only"),
    _param("max_walk_m", {"type": "number", "minimum": 0, "maximum": 20000}, "most walking in total, metres (2000)"),
    _param("max_walk_leg_m", {"type": "number", "minimum": 0, "maximum": 20000},
           "most walking in one leg (to or from a stop, between stops, or all the way), metres; default: only the "
           "total applies"),
    _param("walk_speed_mps", {"type": "number", "minimum": 0.3, "maximum": 3.0}, "walking speed, m/s (1.2)"),
    _param("max_transfers", {"type": "integer", "minimum": 0, "maximum": 8}, "most changes of vehicle (3)"),
    _param("allow_tad", _BOOL, "allow on-demand transport legs (default true)"),
    _param("return_after_min", {"type": "integer", "minimum": 0, "maximum": 720},
           "plan the way back leaving this many minutes after the arrival"),
    _param("booked_at", {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$"},
           "when the TAD booking is made (booking deadlines are checked against it)"),
    _param("lang", {"type": "string", "enum": ["fr", "en"]},
           "language of the messages and of the error messages (default: the Accept-Language header's, else fr)"),
]


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*codes: int) -> dict:
    words = {400: "bad parameter", 404: "unknown id, stop or category", 405: "method not allowed",
             413: "request body too large", 415: "body is not JSON", 422: "no itinerary",
             503: "data still loading, or the request passed its compute deadline", 500: "internal error"}
    return {str(c): {"$ref": f"#/components/responses/E{c}"} for c in codes if c in words}


def openapi_document() -> dict[str, Any]:
    place = {"type": "object", "required": ["name", "lat", "lon"],
             "properties": {"name": {"type": "string"}, "lat": {"type": "number"}, "lon": {"type": "number"},
                            "stop_id": {"type": "string"}}}
    geometry = {"type": "object", "required": ["type", "coordinates"],
                "properties": {"type": {"type": "string", "enum": ["LineString"]},
                               "coordinates": {"type": "array", "items": {"type": "array", "items": {"type": "number"},
                                                                          "minItems": 2, "maxItems": 2}}}}
    booking = {"type": "object", "description": "how to book an on-demand (TAD) leg",
               "properties": {"phone": {"type": "string", "nullable": True},
                              "deadline": {"type": "string", "nullable": True},
                              "message": {"type": "string", "nullable": True},
                              "url": {"type": "string", "nullable": True},
                              "rule_id": {"type": "string", "nullable": True},
                              "instructions": {"type": "string", "nullable": True}}}
    leg = {"type": "object",
           "required": ["mode", "from", "to", "departure", "arrival", "duration_s", "distance_m"],
           "properties": {
               "mode": {"type": "string", "description": "walk, bus, coach, rail, tram, tad..."},
               "from": _ref("Place"), "to": _ref("Place"),
               "departure": {"type": "string", "format": "date-time"},
               "arrival": {"type": "string", "format": "date-time"},
               "duration_s": {"type": "integer"}, "distance_m": {"type": "number"},
               "route": {"type": "object", "properties": {"id": {"type": "string"}, "short_name": {"type": "string"},
                                                          "long_name": {"type": "string"}, "type": {"type": "integer"}}},
               "trip_id": {"type": "string"}, "headsign": {"type": "string"}, "agency": {"type": "string"},
               "intermediate_stops": {"type": "integer"}, "headway_based": {"type": "boolean"},
               "geometry": _ref("LineString"), "booking": _ref("Booking"),
               "window": {"type": "object"}}}
    itinerary = {"type": "object",
                 "required": ["departure", "arrival", "duration_s", "transfers", "walk_m", "walk_s", "wait_s", "legs"],
                 "properties": {"departure": {"type": "string", "format": "date-time"},
                                "arrival": {"type": "string", "format": "date-time"},
                                "duration_s": {"type": "integer"}, "transfers": {"type": "integer", "minimum": 0},
                                "walk_m": {"type": "number"}, "walk_s": {"type": "integer"}, "wait_s": {"type": "integer"},
                                "tad_bookings": {"type": "integer"},
                                "date": {"type": "string", "format": "date", "description": "travel date (departure)"},
                                "tag": {"type": "string", "enum": ["after_opening", "next_day"],
                                        "description": "why this option is offered beside the best ones"},
                                "departed": {"type": "boolean", "enum": [True],
                                             "description": "present when the option leaves before the request "
                                                            "was made (booked_at, else now): too late to take"},
                                "long_waits": {"type": "array", "description": "waits of 30 min or more at one place",
                                               "items": {"type": "object", "required": ["at", "minutes"],
                                                         "properties": {"at": {"type": "string"},
                                                                        "minutes": {"type": "integer"}}}},
                                "service_at_arrival": {
                                    "type": "object", "description": "opening state of the site at this arrival",
                                    "required": ["state", "open", "opens_at", "closes_at", "wait_min"],
                                    "properties": {
                                        "state": {"type": "string", "enum": ["open", "opens_later",
                                                                             "closes_before_stay_end",
                                                                             "closed_that_day", "unknown"]},
                                        "open": {"type": "boolean", "nullable": True},
                                        "opens_at": {"type": "string", "nullable": True},
                                        "closes_at": {"type": "string", "nullable": True},
                                        "wait_min": {"type": "integer", "minimum": 0},
                                        "message": {"type": "string"}}},
                                "kind": {"type": "string", "enum": ["first", "least_wait", "last"]},
                                "kinds": {"type": "array", "items": {"type": "string"}},
                                "legs": {"type": "array", "items": _ref("Leg"), "minItems": 1}}}
    service = {"type": "object", "required": ["id", "name", "categories", "lat", "lon"],
               "properties": {"id": {"type": "string"}, "name": {"type": "string"},
                              "categories": {"type": "array", "items": {"type": "string"}},
                              "category_labels": {"type": "array", "items": {"type": "string"}},
                              "address": {"type": "string"}, "commune": {"type": "string"},
                              "lat": {"type": "number"}, "lon": {"type": "number"},
                              "opening_hours": {"type": "string"}, "opening_hours_text": {"type": "string"},
                              "phone": {"type": "string"}, "wheelchair": {"type": "string"},
                              "status": {"type": "string"}, "status_confirmed": {"type": "boolean"}}}
    trip = {"type": "object", "required": ["request", "date", "requested_date", "day_changed", "resolved", "origin",
                                           "destination", "service", "opening", "itineraries", "return", "notes"],
            "properties": {
                "request": {"type": "object", "required": ["from", "to", "options"],
                            "properties": {"from": _ref("Place"), "to": _ref("Place"),
                                           "depart": {"type": "string", "format": "date-time"},
                                           "arrive": {"type": "string", "format": "date-time"},
                                           "options": {"type": "object"}}},
                "date": {"type": "string", "format": "date", "nullable": True,
                         "description": "travel date of the first itinerary"},
                "requested_date": {"type": "string", "format": "date"},
                "day_changed": {"type": "object", "nullable": True, "required": ["reason", "message"],
                                "properties": {"reason": {"type": "string",
                                                          "enum": ["booking_closed", "no_service", "site_closed"]},
                                               "message": {"type": "string"}}},
                "resolved": {"type": "object", "required": ["from", "to"],
                             "properties": {end: {"type": "object", "required": ["label", "lat", "lon"],
                                                  "properties": {"label": {"type": "string"},
                                                                 "lat": {"type": "number"}, "lon": {"type": "number"},
                                                                 "kind": {"type": "string"},
                                                                 "category": {"type": "string"},
                                                                 "corrected_from": {"type": "string"}}}
                                            for end in ("from", "to")}},
                "choice": {"type": "object", "nullable": True,
                           "properties": {"reason": {"type": "string"}, "message": {"type": "string"}}},
                "alternatives": {"type": "array", "maxItems": 2,
                                 "items": {"type": "object", "required": ["site_id", "name", "arrival", "reason"],
                                           "properties": {"site_id": {"type": "string"}, "name": {"type": "string"},
                                                          "arrival": {"type": "string", "nullable": True},
                                                          "reason": {"type": "string"}}}},
                "origin": _ref("Place"), "destination": _ref("Place"),
                "service": {"allOf": [_ref("Service")], "nullable": True},
                "opening": {"type": "object", "nullable": True,
                            "properties": {"open_on_arrival": {"type": "boolean", "nullable": True},
                                           "message": {"type": "string"},
                                           "next_open": {"type": "string", "nullable": True}}},
                "itineraries": {"type": "array", "items": _ref("Itinerary")},
                "return": {"type": "object", "nullable": True, "required": ["status", "itineraries", "message"],
                           "properties": {"status": {"type": "string", "enum": ["ok", "none_same_day"]},
                                          "itineraries": {"type": "array", "items": _ref("Itinerary")},
                                          "options": {"type": "array", "items": _ref("Itinerary"),
                                                      "description": "first, least_wait and last returns"},
                                          "message": {"type": "string"},
                                          "leave_after": {"type": "string"},
                                          "last_departure": {"type": "string", "nullable": True}}},
                "notes": {"type": "array", "items": {"type": "string"}}}}
    geocode = {"type": "object", "required": ["label", "kind", "lat", "lon", "score"],
               "properties": {"label": {"type": "string"},
                              "kind": {"type": "string", "enum": ["address", "street", "commune", "stop", "service", "point"]},
                              "lat": {"type": "number"}, "lon": {"type": "number"}, "score": {"type": "number"},
                              "id": {"type": "string", "nullable": True}, "commune": {"type": "string", "nullable": True},
                              "distance_m": {"type": "number", "nullable": True},
                              "postcode": {"type": "string", "nullable": True},
                              "housenumber": {"type": "string", "nullable": True},
                              "street": {"type": "string", "nullable": True}}}
    error = {"type": "object", "required": ["error"], "additionalProperties": False,
             "properties": {"error": {"type": "object", "required": ["code", "message"], "additionalProperties": False,
                                      "properties": {"code": {"type": "string"}, "message": {"type": "string"}}}}}
    feature_collection = {"type": "object", "required": ["type", "features"],
                          "properties": {"type": {"type": "string", "enum": ["FeatureCollection"]},
                                         "features": {"type": "array", "items": {
                                             "type": "object", "required": ["type", "geometry", "properties"],
                                             "properties": {"type": {"type": "string", "enum": ["Feature"]},
                                                            "geometry": {"type": "object", "required": ["type"]},
                                                            "properties": {"type": "object"}}}}}}
    health = {"type": "object", "required": ["status", "version"],
              "properties": {"status": {"type": "string", "enum": ["ok", "loading", "error"]},
                             "version": {"type": "string"}, "uptime_s": {"type": "number"},
                             "message": {"type": "string", "description": "why the data failed to load"},
                             "load_seconds": {"type": "number"}, "sites": {"type": "integer"},
                             "stops": {"type": "integer"},
                             "service_dates": {"type": "array", "items": {"type": "string", "format": "date"},
                                               "nullable": True},
                             "validation": {"type": "object", "required": ["warnings", "problems"], "properties": {
                                 "warnings": {"type": "integer", "description": "validation warnings of the data"},
                                 "problems": {"type": "array", "description": f"the first {MAX_HEALTH_PROBLEMS}",
                                              "items": {"type": "object", "properties": {
                                                  "severity": {"type": "string", "enum": ["warning", "error"]},
                                                  "file": {"type": "string"},
                                                  "line": {"type": "integer", "nullable": True},
                                                  "field": {"type": "string", "nullable": True},
                                                  "message": {"type": "string"}}}}}}}}
    plan_body = {"type": "object", "required": ["from", "to"], "additionalProperties": False,
                 "properties": {p["name"]: p["schema"] for p in PLAN_QUERY}}
    lang = _param("lang", {"type": "string", "enum": ["fr", "en"]},
                  "language of the labels and of the error messages (default: the Accept-Language header's, else fr)")
    responses = {f"E{c}": _json(_ref("Error"), d) for c, d in
                 {400: "bad parameter", 404: "unknown id, stop, category or path", 405: "method not allowed",
                  413: "request body too large", 415: "body is not JSON", 422: "no itinerary",
                  500: "internal error", 503: "data still loading, or the plan passed its compute deadline "
                                              "(retry after the Retry-After seconds)"}.items()}
    return {
        "openapi": "3.0.3",
        "info": {"title": "mobility — Audomarois door-to-service trip planner", "version": __version__,
                 "description": "Itineraries by bus, train and on-demand transport (TAD) from a resident's door to "
                                "public services. Errors: {\"error\": {\"code\", \"message\"}}."},
        "paths": {
            "/api/plan": {
                "get": {"summary": "Plan a trip", "operationId": "planGet", "parameters": PLAN_QUERY,
                        "responses": {"200": _json(_ref("TripPlan"), "itineraries"),
                                      **_errors(400, 404, 422, 503, 500)}},
                "post": {"summary": "Plan a trip (JSON body with the same fields)", "operationId": "planPost",
                         "requestBody": {"required": True, "content": {"application/json": {"schema": plan_body}}},
                         "responses": {"200": _json(_ref("TripPlan"), "itineraries"),
                                       **_errors(400, 404, 413, 415, 422, 503, 500)}},
            },
            "/api/geocode": {"get": {
                "summary": "Places matching free text", "operationId": "geocode",
                "parameters": [_param("q", {**_STR200, "minLength": 1}, "text to search", True),
                               _param("limit", {"type": "integer", "minimum": 1, "maximum": 20}, "most results (8)")],
                "responses": {"200": _json({"type": "object", "required": ["query", "results"],
                                            "properties": {"query": {"type": "string"},
                                                           "results": {"type": "array", "items": _ref("GeocodeResult")}}},
                                           "results, best first"), **_errors(400, 503)}}},
            "/api/services": {"get": {
                "summary": "Public-service sites", "operationId": "services",
                "parameters": [_param("category", _STR200, "category key or free text (caf, mairie, town hall...)"),
                               lang],
                "responses": {"200": _json({"type": "object", "required": ["category", "categories", "services"],
                                            "properties": {"category": {"type": "string", "nullable": True},
                                                           "categories": {"type": "array", "items": {
                                                               "type": "object", "required": ["key", "label"],
                                                               "properties": {"key": {"type": "string"},
                                                                              "label": {"type": "string"}}}},
                                                           "services": {"type": "array", "items": _ref("Service")}}},
                                           "sites"), **_errors(400, 404, 503)}}},
            "/api/services/{site_id}": {"get": {
                "summary": "One site", "operationId": "service",
                "parameters": [_param("site_id", _STR200, "site id, e.g. svc-001", True, "path"), lang],
                "responses": {"200": _json(_ref("Service"), "the site"), **_errors(400, 404, 503)}}},
            "/api/layers/{name}.geojson": {"get": {
                "summary": "Vector layer of the territory (for the map)", "operationId": "layer",
                "parameters": [_param("name", {"type": "string", "enum": list(LAYERS)}, "layer", True, "path")],
                "responses": {"200": {"description": "GeoJSON FeatureCollection",
                                      "content": {"application/geo+json": {"schema": _ref("FeatureCollection")}}},
                              **_errors(404, 503)}}},
            "/api/isochrones": {"get": {
                "summary": "Access-time areas (isochrones) to a site or category", "operationId": "isochrones",
                "parameters": [_param("to", {**_STR200, "minLength": 1}, "site id, category or LAT,LON", True),
                               PLAN_QUERY[2], PLAN_QUERY[3],
                               _param("window", {"type": "integer", "minimum": 15, "maximum": 240},
                                      "departures from 'time' over this many minutes (60)"), lang],
                "responses": {"200": _json(_ref("FeatureCollection"), "isochrones, largest first"),
                              **_errors(400, 404, 503, 500)}}},
            "/api/health": {"get": {
                "summary": "Status of the service and its data", "operationId": "health",
                "responses": {"200": _json(_ref("Health"), "ready"),
                              "503": _json(_ref("Health"), "loading or failed")}}},
            "/api/openapi.json": {"get": {"summary": "This document", "operationId": "openapi",
                                          "responses": {"200": {"description": "OpenAPI 3 document",
                                                                "content": {"application/json": {"schema": {"type": "object"}}}}}}},
            **_observatory_paths(),
        },
        "components": {
            "schemas": {"Place": place, "LineString": geometry, "Booking": booking, "Leg": leg, "Itinerary": itinerary,
                        "Service": service, "TripPlan": trip, "GeocodeResult": geocode, "Error": error,
                        "FeatureCollection": feature_collection, "Health": health, **_observatory_schemas()},
            "securitySchemes": {"observatoryToken": {"type": "http", "scheme": "bearer",
                                                     "description": "the token of MOBILITY_OBSERVATORY_TOKEN"}},
            "responses": responses,
        },
    }


# ------------------------------------------------------------------------------------------ observatory

def _observatory_paths() -> dict[str, Any]:
    """``/api/observatory/summary`` (token) and ``/api/survey`` (public, linked to a journaled request)."""
    period = [_param("from", {"type": "string", "format": "date"}, "first day of requests (default: 31 days up to 'to')"),
              _param("to", {"type": "string", "format": "date"}, "last day (default: today, UTC)"),
              _param("channel", {"type": "string", "enum": ["resident", "operator", "api"]}, "one channel only"),
              _param("category", {"type": "string", "maxLength": 40}, "one service category only (caf, mairie...)")]
    status = {401: "missing or wrong token (Authorization: Bearer <token>)",
              403: "the observatory is disabled (no MOBILITY_OBSERVATORY_TOKEN configured)",
              409: "this request already has a survey answer"}
    err = {str(c): _json(_ref("Error"), d) for c, d in status.items()}
    survey_body = {"type": "object", "required": ["ref", "answers"], "properties": {
        "ref": {"type": "string", "minLength": 8, "maxLength": 32,
                "description": "the journaled request's reference: header X-Observatory-Ref of the /api/plan answer"},
        "answers": {"type": "object", "description": "question key -> value, list of values (multi) or text",
                    "additionalProperties": {"oneOf": [{"type": "string", "maxLength": 500},
                                                       {"type": "array", "items": {"type": "string"}}]}}}}
    return {
        "/api/observatory/summary": {"get": {
            "summary": "Figures of the observatory for a period (journal of requests and surveys)",
            "operationId": "observatorySummary", "security": [{"observatoryToken": []}], "parameters": period,
            "responses": {"200": _json(_ref("ObservatorySummary"), "figures"), **_errors(400),
                          "401": err["401"], "403": err["403"], **_errors(500)}}},
        "/api/survey": {"post": {
            "summary": "Store a filled survey (questions of data/observatory/survey.json)", "operationId": "survey",
            "requestBody": {"required": True, "content": {"application/json": {"schema": survey_body}}},
            "responses": {"201": _json({"type": "object", "required": ["id", "ref", "status"],
                                        "properties": {"id": {"type": "integer"}, "ref": {"type": "string"},
                                                       "status": {"type": "string", "enum": ["stored"]}}}, "stored"),
                          **_errors(400, 404, 413, 415), "409": err["409"], **_errors(503, 500)}}},
    }


def _observatory_schemas() -> dict[str, Any]:
    counts = {"type": "object", "additionalProperties": {"type": "integer"}}
    commune = {"type": "object", "required": ["insee", "requests", "unmet"], "properties": {
        "insee": {"type": "string", "nullable": True}, "name": {"type": "string", "nullable": True},
        "population": {"type": "integer", "nullable": True}, "requests": {"type": "integer"},
        "unmet": {"type": "integer"}, "unmet_per_1000": {"type": "number", "nullable": True}}}
    return {"ObservatorySummary": {"type": "object",
                                   "required": ["period", "requests", "by_outcome", "by_commune", "by_category", "surveys"],
                                   "properties": {
        "period": {"type": "object", "additionalProperties": {"type": "string"}},
        "requests": {"type": "integer"},
        "by_outcome": {"type": "object", "properties": {o: {"type": "integer"} for o in
                                                         ("served", "served_other_day", "no_itinerary", "bad_input")}},
        "unmet": {"type": "object", "properties": {"requests": {"type": "integer"},
                                                   "share": {"type": "number", "nullable": True}, "by_reason": counts}},
        "bad_input": counts, "by_channel": counts,
        "by_day": {"type": "array", "items": {"type": "object"}},
        "by_category": {"type": "array", "items": {"type": "object", "required": ["category", "requests", "unmet"],
                                                   "properties": {"category": {"type": "string", "nullable": True},
                                                                  "requests": {"type": "integer"},
                                                                  "unmet": {"type": "integer"}}}},
        "by_commune": {"type": "array", "items": commune},
        "unmet_communes": {"type": "array", "items": commune},
        "modes": counts,
        "tad": {"type": "object", "properties": {"requests": {"type": "integer"},
                                                 "share_of_served": {"type": "number", "nullable": True},
                                                 "booking_closed": {"type": "integer"}}},
        "surveys": {"type": "object", "required": ["responses", "questions"],
                    "properties": {"responses": {"type": "integer"},
                                   "questions": {"type": "object", "additionalProperties": counts},
                                   "comments": counts,
                                   "recent_comments": {"type": "array", "items": {"type": "string"}}}}}}}
