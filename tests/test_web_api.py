"""JSON API and pages through Flask's test client: answers, every error path, OpenAPI conformance, security."""

from __future__ import annotations

import html
import re
import threading

import pytest

from mobility.interfaces.web import create_app, holder_of
from mobility.interfaces.web.params import PLAN_PARAMS

DAY = "2026-12-01"
TRIP = {"from": "Place Foch, Saint-Omer", "to": "svc-001", "date": DAY, "time": "10:30", "arrive_by": "1"}


@pytest.fixture(scope="module")
def web_context():
    from mobility.planning.context import load_context

    return load_context()


@pytest.fixture(scope="module")
def app(web_context):
    return create_app(context=web_context)


@pytest.fixture()
def client(app):
    return app.test_client()


@pytest.fixture(scope="module")
def spec(app):
    return app.test_client().get("/api/openapi.json").get_json()


# ------------------------------------------------------------------------------------------ OpenAPI helpers

def _validate(spec: dict, instance, ref: str) -> None:
    from openapi_schema_validator import OAS30Validator

    schema = {"$ref": ref, "components": spec["components"]}
    OAS30Validator(schema).validate(instance)


def conforms(spec: dict, resp, path: str, method: str = "get") -> None:
    """``resp`` has a status documented for (path, method) and its body validates against the schema."""
    op = spec["paths"][path][method]
    status = str(resp.status_code)
    assert status in op["responses"], f"{method.upper()} {path}: status {status} not documented"
    doc = op["responses"][status]
    if "$ref" in doc:
        doc = spec["components"]["responses"][doc["$ref"].rsplit("/", 1)[1]]
    media, body = next(iter(doc["content"].items()))
    assert resp.mimetype == media
    schema = body["schema"]
    instance = resp.get_json(force=True)
    if "$ref" in schema:
        _validate(spec, instance, schema["$ref"])
    else:
        from openapi_schema_validator import OAS30Validator

        OAS30Validator({**schema, "components": spec["components"]}).validate(instance)


def error_of(resp, status: int, code: str | None = None) -> dict:
    assert resp.status_code == status, resp.get_data(as_text=True)[:500]
    assert resp.mimetype == "application/json"
    body = resp.get_json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}
    if code:
        assert body["error"]["code"] == code
    return body["error"]


# ------------------------------------------------------------------------------------------ OpenAPI document

def test_openapi_document_is_valid(spec):
    from openapi_spec_validator import validate

    validate(spec)
    assert spec["openapi"].startswith("3.")


def test_every_documented_path_exists(app, spec):
    rules = {(re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", r.rule), m) for r in app.url_map.iter_rules()
             for m in r.methods}
    for path, ops in spec["paths"].items():
        for method in ops:
            assert (path, method.upper()) in rules, f"{method.upper()} {path} documented but not served"
    api_rules = {r for r, _ in rules if r.startswith("/api/")}
    assert api_rules <= set(spec["paths"]), f"undocumented: {api_rules - set(spec['paths'])}"


def test_documented_plan_parameters_are_the_real_ones(spec, client):
    documented = [p["name"] for p in spec["paths"]["/api/plan"]["get"]["parameters"]]
    assert sorted(documented) == sorted(PLAN_PARAMS)
    body = spec["paths"]["/api/plan"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert sorted(body["properties"]) == sorted(PLAN_PARAMS)
    # each documented parameter is read and validated: a bad value is refused naming it
    bad = {"from": "x" * 201, "to": "x" * 201, "date": "2026-13-45", "time": "25:99", "datetime": "tomorrow",
           "arrive_by": "maybe", "wheelchair": "maybe", "max_walk_m": "-5", "max_walk_leg_m": "-1", "walk_speed_mps": "9",
           "max_transfers": "1.5", "allow_tad": "maybe", "return_after_min": "9999", "booked_at": "soon",
           "lang": "de"}
    assert set(bad) == set(PLAN_PARAMS)
    for name, value in bad.items():
        resp = client.get("/api/plan", query_string={**TRIP, name: value})
        err = error_of(resp, 400, "bad_request")
        assert name in err["message"], (name, err)
        conforms(spec, resp, "/api/plan")


def test_an_unknown_plan_parameter_is_refused_naming_it(client, spec):
    # a misspelt time must not be answered as "now": 400, naming the parameter and the nearest real one
    resp = client.get("/api/plan", query_string={**TRIP, "arive_by": "true"}, headers={"Accept-Language": "en"})
    err = error_of(resp, 400, "bad_request")
    assert err["message"] == "Unknown parameter 'arive_by': did you mean 'arrive_by'?"
    conforms(spec, resp, "/api/plan")
    resp = client.get("/api/plan", query_string={**TRIP, "when": "2026-12-02T09:00"})
    err = error_of(resp, 400, "bad_request")
    assert err["message"].startswith("Paramètre inconnu « when » ; paramètres admis : from, to, date, time")
    resp = client.post("/api/plan", json={**TRIP, "lang": "en", "wheelchairs": True})
    assert error_of(resp, 400, "bad_request")["message"] == ("Unknown parameter 'wheelchairs': did you mean "
                                                            "'wheelchair'?")
    conforms(spec, resp, "/api/plan", "post")
    assert client.get("/api/plan", query_string=TRIP).status_code == 200


# ------------------------------------------------------------------------------------------ answers

def test_health(client, spec):
    resp = client.get("/api/health")
    assert resp.status_code == 200 and resp.get_json()["status"] == "ok"
    conforms(spec, resp, "/api/health")


def test_plan_get_and_post_agree(client, spec):
    got = client.get("/api/plan", query_string=TRIP)
    assert got.status_code == 200
    conforms(spec, got, "/api/plan")
    trip = got.get_json()
    assert trip["service"]["id"] == "svc-001"
    assert trip["itineraries"], trip["notes"]
    assert trip["itineraries"][0]["legs"][0]["geometry"]["type"] == "LineString"
    posted = client.post("/api/plan", json={**TRIP, "arrive_by": True})
    assert posted.status_code == 200
    conforms(spec, posted, "/api/plan", "post")
    assert posted.get_json() == trip


def test_plan_matches_python_api(client, web_context):
    import datetime as dt

    from mobility.planning.services import plan_trip

    # the same request moment for both (the web's "now" is rounded up to the minute, and the answer says it)
    trip = plan_trip(web_context, TRIP["from"], "svc-001", dt.datetime(2026, 12, 1, 10, 30), arrive_by=True,
                     return_after_min=60, booked_at=dt.datetime(2026, 12, 1, 10, 0))
    resp = client.get("/api/plan", query_string={**TRIP, "return_after_min": "60", "booked_at": "2026-12-01T10:00"})
    assert resp.get_json() == trip.to_json()
    assert resp.get_json()["return"]["status"] in ("ok", "none_same_day")


def test_plan_datetime_and_category(client, spec):
    resp = client.get("/api/plan", query_string={"from": "Place Foch, Saint-Omer", "to": "caf",
                                                 "datetime": f"{DAY}T09:00", "lang": "en"})
    assert resp.status_code == 200
    conforms(spec, resp, "/api/plan")
    assert "caf" in resp.get_json()["service"]["categories"]


def test_geocode(client, spec):
    resp = client.get("/api/geocode", query_string={"q": "rue de l eglise therouanne", "limit": "3"})
    assert resp.status_code == 200
    conforms(spec, resp, "/api/geocode")
    results = resp.get_json()["results"]
    assert 1 <= len(results) <= 3 and "Thérouanne" in results[0]["label"]


def test_services(client, spec):
    resp = client.get("/api/services")
    conforms(spec, resp, "/api/services")
    assert len(resp.get_json()["services"]) > 50
    caf = client.get("/api/services", query_string={"category": "caf"})
    conforms(spec, caf, "/api/services")
    assert all("caf" in s["categories"] for s in caf.get_json()["services"])
    one = client.get("/api/services/svc-001")
    conforms(spec, one, "/api/services/{site_id}")
    assert "Fauquembergues" in one.get_json()["name"]


@pytest.mark.parametrize("name", ["communes", "roads", "stops", "lines", "tad_zones", "services"])
def test_layers(client, spec, name):
    resp = client.get(f"/api/layers/{name}.geojson")
    assert resp.status_code == 200
    assert "max-age" in resp.headers["Cache-Control"]
    conforms(spec, resp, "/api/layers/{name}.geojson")
    if name != "tad_zones":
        assert resp.get_json()["features"]


# ------------------------------------------------------------------------------------------ error paths

def test_bad_parameters_400(client, spec):
    cases = [{}, {"from": "x"}, {**TRIP, "from": "   "}, {**TRIP, "date": "2030-01-01"},
             {**TRIP, "from": "10,10"}, {**TRIP, "max_walk_m": "abc"}, {**TRIP, "max_walk_m": "1" * 30}]
    for q in cases:
        resp = client.get("/api/plan", query_string=q)
        error_of(resp, 400, "bad_request")
        conforms(spec, resp, "/api/plan")
    for q in [{}, {"q": ""}, {"q": "a" * 201}, {"q": "gare", "limit": "0"}, {"q": "gare", "limit": "x"}]:
        resp = client.get("/api/geocode", query_string=q)
        error_of(resp, 400)
        conforms(spec, resp, "/api/geocode")
    resp = client.get("/api/services/" + "x" * 201)
    error_of(resp, 400)
    resp = client.post("/api/plan", json=[1, 2])
    error_of(resp, 400)
    resp = client.post("/api/plan", data="{not json", content_type="application/json")
    error_of(resp, 400)
    resp = client.post("/api/plan", json={**TRIP, "from": 12})
    error_of(resp, 400)
    conforms(spec, resp, "/api/plan", "post")


def test_not_found_404(client, spec):
    resp = client.get("/api/plan", query_string={**TRIP, "from": "stop:NOPE"})
    error_of(resp, 404, "not_found")
    conforms(spec, resp, "/api/plan")
    resp = client.get("/api/services/svc-999")
    error_of(resp, 404, "not_found")
    conforms(spec, resp, "/api/services/{site_id}")
    resp = client.get("/api/services", query_string={"category": "zzzz"})
    error_of(resp, 404)
    conforms(spec, resp, "/api/services")
    resp = client.get("/api/layers/nope.geojson")
    error_of(resp, 404)
    conforms(spec, resp, "/api/layers/{name}.geojson")
    error_of(client.get("/api/nope"), 404)
    page = client.get("/nope")
    assert page.status_code == 404 and page.mimetype == "text/html"


def test_method_not_allowed_405(client):
    for method, path in [("delete", "/api/plan"), ("put", "/api/plan"), ("post", "/api/geocode"),
                         ("post", "/api/health"), ("delete", "/api/services/svc-001")]:
        resp = getattr(client, method)(path)
        error_of(resp, 405, "method_not_allowed")
        assert "GET" in resp.headers["Allow"]


def test_too_large_413_and_not_json_415(client, spec):
    resp = client.post("/api/plan", data='{"from": "' + "x" * 20000 + '"}', content_type="application/json")
    error_of(resp, 413, "too_large")
    conforms(spec, resp, "/api/plan", "post")
    resp = client.post("/api/plan", data="from=a&to=b", content_type="application/x-www-form-urlencoded")
    error_of(resp, 415)
    conforms(spec, resp, "/api/plan", "post")


def test_no_itinerary_422(client, spec):
    resp = client.get("/api/plan", query_string={"from": "50.7539,2.2669", "to": "50.5934,2.1009",
                                                 "max_walk_m": "0", "datetime": f"{DAY}T08:00"})
    error_of(resp, 422, "no_itinerary")
    conforms(spec, resp, "/api/plan")


def test_loading_503_then_ready(monkeypatch, web_context, spec):
    import mobility.planning.context as context_module

    release = threading.Event()

    def slow_load(**kwargs):
        release.wait(30)
        return web_context

    monkeypatch.setattr(context_module, "load_context", slow_load)
    app = create_app()
    client = app.test_client()
    for path in ("/api/health", "/api/plan?from=a&to=b", "/api/geocode?q=gare", "/api/services",
                 "/api/layers/communes.geojson"):
        resp = client.get(path)
        assert resp.status_code == 503 and resp.headers["Retry-After"]
        if path != "/api/health":
            error_of(resp, 503, "loading")
    conforms(spec, client.get("/api/health"), "/api/health")
    conforms(spec, client.get("/api/plan?from=a&to=b"), "/api/plan")
    page = client.get("/")
    assert page.status_code == 503 and page.mimetype == "text/html"
    release.set()
    assert holder_of(app).wait(30)
    assert client.get("/api/health").status_code == 200


def test_load_failure_503(monkeypatch):
    import mobility.planning.context as context_module

    def broken(**kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(context_module, "load_context", broken)
    app = create_app()
    holder_of(app).wait(10)
    client = app.test_client()
    assert client.get("/api/health").get_json()["status"] == "error"
    err = error_of(client.get("/api/services"), 503)
    assert "disk on fire" not in err["message"]


def test_internal_error_500_is_generic_json(web_context):
    app = create_app(context=web_context)

    @app.get("/api/boom")
    def boom():
        raise RuntimeError("secret detail /etc/passwd")

    @app.get("/boom")
    def boom_page():
        raise RuntimeError("secret detail /etc/passwd")

    client = app.test_client()
    err = error_of(client.get("/api/boom"), 500, "internal_error")
    assert "secret" not in err["message"]
    page = client.get("/boom")
    assert page.status_code == 500 and b"Traceback" not in page.data and b"secret" not in page.data


# ------------------------------------------------------------------------------------------ security

@pytest.mark.parametrize("path", ["/", "/itineraire?from=Place+Foch%2C+Saint-Omer&to=svc-001&date=2026-12-01",
                                  "/operateur/", "/operateur/imprimer?from=a&to=b", "/planificateur/",
                                  "/api/health", "/api/plan", "/static/css/app.css"])
def test_security_headers(client, path):
    resp = client.get(path)
    csp = resp.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "style-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp and "default-src 'self'" in csp
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Referrer-Policy"]
    assert resp.headers["X-Frame-Options"] == "DENY"


def test_tile_url_extends_only_img_src(web_context):
    app = create_app({"MOBILITY_TILE_URL": "https://tiles.example.org/{z}/{x}/{y}.png"}, context=web_context)
    csp = app.test_client().get("/").headers["Content-Security-Policy"]
    assert "img-src 'self' data: https://tiles.example.org" in csp
    assert "script-src 'self';" in csp


@pytest.mark.parametrize("path", ["/", "/itineraire?" + "&".join(f"{k}={v}" for k, v in TRIP.items()),
                                  "/operateur/?from=Delettes&to=svc-001&date=2026-12-01&time=08:00",
                                  "/operateur/imprimer?from=Delettes&to=svc-001&date=2026-12-01&time=08:00",
                                  "/planificateur/"])
def test_pages_have_no_inline_script_or_style(client, path):
    resp = client.get(path)
    assert resp.status_code == 200
    text = resp.get_data(as_text=True)
    for tag in re.findall(r"<script\b[^>]*>", text):
        assert "src=" in tag or 'type="application/json"' in tag, tag
    assert "<style" not in text and not re.search(r"\sstyle=", text)
    assert not re.search(r"\son[a-z]+=", text), "inline event handler"


def test_templates_escape_input(client):
    evil = '<script>alert("x")</script>'
    for path in ("/itineraire", "/operateur/", "/operateur/imprimer"):
        resp = client.get(path, query_string={"from": evil, "to": evil, "date": DAY})
        text = resp.get_data(as_text=True)
        assert evil not in text
        assert html.escape(evil, quote=False).replace("&quot;", '"')[:10] in text or "&lt;script&gt;" in text


def test_no_debug_endpoints(app, client):
    assert not app.debug
    for path in ("/console", "/debug", "/__debug__", "/api/debug"):
        assert client.get(path).status_code == 404
    assert app.config["MAX_CONTENT_LENGTH"] and app.config["MAX_CONTENT_LENGTH"] <= 64 * 1024


def test_forms_only_get(client):
    for path in ("/", "/operateur/", "/planificateur/"):
        text = client.get(path).get_data(as_text=True)
        methods = re.findall(r"<form\b[^>]*method=\"([a-z]+)\"", text)
        assert methods and set(methods) == {"get"}
        assert client.post(path).status_code == 405


# ------------------------------------------------------------------------------------------ pages

def test_language_switch_and_cookie(client):
    fr = client.get("/")
    assert '<html lang="fr">' in fr.get_data(as_text=True)
    en = client.get("/?lang=en")
    assert '<html lang="en">' in en.get_data(as_text=True)
    assert "lang=en" in en.headers.get("Set-Cookie", "")
    again = client.get("/")  # the cookie persists the choice
    assert '<html lang="en">' in again.get_data(as_text=True)
    back = client.get("/?lang=fr")
    assert '<html lang="fr">' in back.get_data(as_text=True)


def test_results_page_without_js(client):
    resp = client.get("/itineraire", query_string={**TRIP, "return_after_min": "60"})
    text = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "Maison des services publics du canton de Fauquembergues" in text
    assert 'class="card' in text and "Prendre le bus" in text and "Retour" in text


def test_tad_booking_shown_to_operator(client):
    resp = client.get("/operateur/", query_string={"from": "Delettes", "to": "svc-001", "date": DAY, "time": "08:00"})
    text = resp.get_data(as_text=True)
    if "has-booking" not in text:
        pytest.skip("no TAD leg in this answer (TAD legs not produced by the planner yet)")
    assert "Réservation obligatoire" in text and 'href="tel:' in text


def test_print_view_in_french(client):
    resp = client.get("/operateur/imprimer", query_string=TRIP)
    text = resp.get_data(as_text=True)
    assert '<html lang="fr">' in text and "Votre itinéraire" in text and 'media="print"' in text


def test_planner_page(client):
    text = client.get("/planificateur/").get_data(as_text=True)
    assert 'id="map"' in text


def test_leaflet_served_locally(client):
    assert client.get("/static/vendor/leaflet/leaflet.js").status_code == 200
    assert client.get("/static/vendor/leaflet/leaflet.css").status_code == 200
    assert client.get("/static/vendor/leaflet/../__init__.py").status_code == 404


@pytest.mark.slow  # isochrones of a day's window (~3 s): CI's second step
def test_isochrones(client, spec):
    from mobility.interfaces.web.planner_pages import analysis_api

    error_of(client.get("/api/isochrones", query_string={"to": "svc-001", "window": "5"}), 400)
    resp = client.get("/api/isochrones", query_string={"to": "svc-001", "date": DAY, "time": "09:00", "window": "60"})
    conforms(spec, resp, "/api/isochrones")
    if analysis_api() is None:
        error_of(resp, 404)
        return
    assert resp.status_code == 200 and resp.get_json()["features"]
    page = client.get("/planificateur/", query_string={"to": "svc-001", "date": DAY, "time": "09:00"})
    assert 'data-isochrones="/api/isochrones?' in page.get_data(as_text=True)


@pytest.mark.parametrize("query, reason", [
    ({"from": "Thérouanne", "to": "svc-001", "datetime": "2026-12-05T09:00", "return_after_min": "60",
      "booked_at": "2026-11-30T10:00"}, "site_closed"),
    ({"from": "12 rue de l'Église, Thérouanne", "to": "caf", "datetime": "2026-12-02T09:30", "arrive_by": "1",
      "booked_at": "2026-11-30T10:00", "lang": "en"}, None),
])
def test_plan_answer_carries_dates_states_and_return_choices(client, spec, query, reason):
    resp = client.get("/api/plan", query_string=query)
    conforms(spec, resp, "/api/plan")
    body = resp.get_json()
    assert body["requested_date"] == query["datetime"][:10]
    assert (body["day_changed"] or {}).get("reason") == reason
    assert body["date"] == body["itineraries"][0]["date"]
    assert all("service_at_arrival" in it and "long_waits" in it for it in body["itineraries"])
    if reason is None:
        assert body["itineraries"][0]["service_at_arrival"]["message"].startswith("arrival ")  # English, as asked
    else:
        assert [o["kind"] for o in body["return"]["options"]][0] == "first"
