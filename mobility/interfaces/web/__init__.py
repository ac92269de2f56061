"""Flask front end of ``mobility``: JSON API, resident form, operator console, planner page.

:func:`create_app` is the application factory used by ``mobility serve`` (waitress) and the tests::

    app = create_app()                      # loads the embedded data in a background thread
    app = create_app(context=ctx)           # an already loaded Context (tests)
    app = create_app({"MOBILITY_GTFS": ["feed.zip"], "MOBILITY_OSM": "x.osm.pbf"})

Templates and static files live in the top-level ``web/`` folder (package data of a wheel, see
:mod:`mobility.config`). The context loads once per process
(from the on-disk cache); while it loads, the API answers 503 JSON and pages a short "loading" page.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import urlsplit

from flask import Flask, Response, g, request
from werkzeug.exceptions import HTTPException

from mobility.config import WEB_DIR
from mobility.errors import DeadlineExceeded, MobilityError
from mobility.i18n import DOMAIN, LOCALE_DIR, N_, lang_from_accept
from mobility.interfaces.web.i18n import translator
from mobility.interfaces.web.state import (ContextHolder, LoadingError, error_response, holder_of,  # noqa: F401
                                           wants_json)

log = logging.getLogger(__name__)

WEB_ROOT = WEB_DIR
LANGS = ("fr", "en")
LANG_COOKIE = "lang"

DEFAULT_CONFIG: dict[str, Any] = {
    "MAX_CONTENT_LENGTH": 16 * 1024,          # bytes of a request body (POST /api/plan JSON)
    "MOBILITY_GTFS": None,                     # list of GTFS paths (None: embedded data)
    "MOBILITY_OSM": None,
    "MOBILITY_SERVICES": None,
    "MOBILITY_COMMUNES": None,
    "MOBILITY_TILE_URL": None,                 # e.g. "https://tile.example.org/{z}/{x}/{y}.png" (internet deployments)
    "MOBILITY_TILE_ATTRIBUTION": "",
    "MOBILITY_PLAN_CACHE_SIZE": 512,
    "MOBILITY_COMPUTE_DEADLINE_S": 15.0,      # a plan computing longer is stopped (503 "timeout"), see mobility.deadline           # answers of /api/plan kept in memory (same request, same answer)
    "JSON_SORT_KEYS": False,
    # the mobility centre named on the print view (name: the site title of the page's language when unset);
    # the phone defaults to the TAD booking number of the embedded feed (reconstructed, fictitious)
    "MOBILITY_CENTRE_NAME": None,
    "MOBILITY_CENTRE_PHONE": "+33 3 53 48 00 00",
    "MOBILITY_CENTRE_HOURS": None,
    # Flask-Compress: answers compressed when the client accepts it (zstd, br, gzip or deflate), the streamed
    # static files too (the extension leaves gzip out of its streaming list by default)
    "COMPRESS_ALGORITHM": ["zstd", "br", "gzip", "deflate"],
    "COMPRESS_ALGORITHM_STREAMING": ["zstd", "br", "gzip", "deflate"],
    "COMPRESS_STREAMING_ENDPOINT_CONDITIONAL": ["static", "leaflet_static"],
    "COMPRESS_MIN_SIZE": 500,
}

#: the messages of the HTTP errors (err_http_<status>), chosen at run time
_HTTP_KEYS = [N_("err_http_400"), N_("err_http_404"), N_("err_http_405"), N_("err_http_413"), N_("err_http_414"),
              N_("err_http_415"), N_("err_http_431")]
#: Cache-Control of a static file asked with its version (``?v=<hash of its bytes>``, added by url_for)
IMMUTABLE = "public, max-age=31536000, immutable"
#: additional types compressed (the map layers)
COMPRESS_EXTRA_MIMETYPES = ("application/geo+json",)


def current_lang() -> str:
    """Language of a page: ?lang=, then the cookie, then French. Of an API answer's messages: ?lang= (or the
    ``lang`` of a JSON body), then ``Accept-Language``, then French."""
    lang = request.args.get("lang", "")
    if lang in LANGS:
        return lang
    if wants_json():  # (POST /api/plan reads the body's "lang" once it has parsed the body)
        return lang_from_accept(request.headers.get("Accept-Language")) or "fr"
    cookie = request.cookies.get(LANG_COOKIE, "")
    return cookie if cookie in LANGS else "fr"


def _csp(tile_url: str | None) -> str:
    img = "'self' data:"
    if tile_url:
        parts = urlsplit(tile_url.replace("{s}", "a"))
        if parts.scheme in ("http", "https") and parts.netloc:
            host = parts.netloc.replace("a.", "*.", 1) if "{s}" in tile_url else parts.netloc
            img += f" {parts.scheme}://{host}"
    return ("default-src 'self'; script-src 'self'; style-src 'self'; img-src " + img + "; "
            "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
            "frame-ancestors 'none'")


def create_app(config: Mapping[str, Any] | None = None, context=None) -> Flask:
    """The Flask application. ``context``: an already loaded Context (else loaded in the background)."""
    app = Flask(__name__, template_folder=str(WEB_ROOT / "templates"), static_folder=str(WEB_ROOT / "static"),
                static_url_path="/static")
    app.config.update(DEFAULT_CONFIG)
    if config:
        app.config.update(config)
    app.json.sort_keys = False
    app.json.ensure_ascii = False
    loader_kwargs = {"gtfs_paths": app.config["MOBILITY_GTFS"], "osm_path": app.config["MOBILITY_OSM"],
                     "services_path": app.config["MOBILITY_SERVICES"],
                     "communes_path": app.config["MOBILITY_COMMUNES"]}
    holder = ContextHolder(context, loader_kwargs)
    app.extensions["mobility"] = holder
    csp = _csp(app.config["MOBILITY_TILE_URL"])

    from flask_babel import Babel

    # Flask-Babel reads the same catalogs (``_``/``gettext`` and the format_* filters in the templates)
    Babel(app, locale_selector=lambda: getattr(g, "lang", "fr"), default_locale="fr",
          default_timezone="Europe/Paris", default_domain=DOMAIN, default_translation_directories=str(LOCALE_DIR))
    from flask_compress import Compress

    compress = Compress()
    compress.init_app(app)
    compress.compress_mimetypes_set |= set(COMPRESS_EXTRA_MIMETYPES)
    _version_static(app)
    from mobility.interfaces.web import api, operator, pages, planner_pages
    app.register_blueprint(api.bp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(operator.bp)
    app.register_blueprint(planner_pages.bp)
    from mobility.interfaces.web import observatory

    observatory.init_app(app)  # journal of plan requests, survey, dashboard
    _register_vendor(app)
    from mobility.interfaces.web import i18n

    for name in ("hm", "minutes", "metres"):
        app.add_template_filter(getattr(i18n, name), name)
    app.add_template_global(i18n.leg_lines, "leg_lines")
    app.add_template_global(i18n.booking_text, "booking_text")
    app.add_template_global(i18n.day_label, "day_label")
    app.add_template_global(i18n.js_strings, "js_strings")
    app.add_template_global(_lang_switch_url, "lang_switch_url")
    app.add_template_global(_with_arg, "with_arg")
    from mobility.interfaces.web.views import national_phone

    app.add_template_global(national_phone, "national_phone")

    @app.get("/favicon.ico")
    def favicon():
        return app.send_static_file("favicon.svg")

    @app.before_request
    def _lang() -> None:
        g.lang = current_lang()

    @app.context_processor
    def _inject() -> dict:
        lang = getattr(g, "lang", "fr")
        return {"lang": lang, "t": translator(lang), "tile_url": app.config["MOBILITY_TILE_URL"] or "",
                "tile_attribution": app.config["MOBILITY_TILE_ATTRIBUTION"] or ""}

    @app.after_request
    def _headers(resp: Response) -> Response:
        h = resp.headers
        h.setdefault("Content-Security-Policy", csp)
        h["X-Content-Type-Options"] = "nosniff"
        h["X-Frame-Options"] = "DENY"
        h["Referrer-Policy"] = "same-origin"
        h["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(self)"
        h["Cross-Origin-Opener-Policy"] = "same-origin"
        h.pop("Server", None)
        if wants_json():  # an API answer's words follow Accept-Language when no lang is given
            h.add("Vary", "Accept-Language")
        lang = request.args.get("lang")
        if lang in LANGS and not wants_json() and request.cookies.get(LANG_COOKIE) != lang:
            resp.set_cookie(LANG_COOKIE, lang, max_age=365 * 24 * 3600, samesite="Lax", httponly=True)
        return resp

    @app.errorhandler(MobilityError)
    def _mobility_error(exc: MobilityError):
        status = getattr(exc, "http_status", 400)
        if isinstance(exc, DeadlineExceeded):
            log.warning("request stopped at its compute deadline: %s %s", request.method, request.full_path)
        elif status >= 500 and not isinstance(exc, LoadingError):
            log.error("data error: %s", exc)
        return error_response(status, exc.code, exc.text(getattr(g, "lang", "fr")))

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        codes = {400: "bad_request", 404: "not_found", 405: "method_not_allowed", 413: "too_large",
                 415: "unsupported_media_type", 414: "uri_too_long", 431: "headers_too_large"}
        code = codes.get(exc.code or 500, "http_error")
        t = translator(getattr(g, "lang", "fr"))
        if exc.code in codes:
            message = t(f"err_http_{exc.code}", method=request.method)
        else:
            message = t("err_http_other", status=exc.code or 500)
        resp = error_response(exc.code or 500, code, message)
        if exc.code == 405 and hasattr(exc, "valid_methods") and exc.valid_methods:
            resp.headers["Allow"] = ", ".join(exc.valid_methods)
        return resp

    @app.errorhandler(Exception)
    def _internal(exc: Exception):
        log.exception("unhandled error on %s", request.path)
        return error_response(500, "internal_error", translator(getattr(g, "lang", "fr"))("err_internal"))

    holder.start()
    return app


def _version_static(app: Flask) -> None:
    """``url_for('static', filename=f)`` gets ``?v=<hash of the file's bytes>``; a static file asked with its
    current version is cached a year (``immutable``), without one (or with a stale one) it is revalidated."""
    import hashlib

    versions: dict[str, tuple[float, str]] = {}
    root = Path(app.static_folder or "")

    def version(filename: str) -> str | None:
        path = root / filename
        try:
            mtime = path.stat().st_mtime
        except OSError:
            return None
        known = versions.get(filename)
        if known is None or known[0] != mtime:
            known = (mtime, hashlib.sha256(path.read_bytes()).hexdigest()[:12])
            versions[filename] = known
        return known[1]

    @app.url_defaults
    def _static_version(endpoint: str, values: dict) -> None:
        if endpoint == "static" and "filename" in values and "v" not in values:
            v = version(values["filename"])
            if v:
                values["v"] = v

    @app.after_request
    def _static_cache(resp: Response) -> Response:
        if request.endpoint == "static" and resp.status_code in (200, 304):
            filename = (request.view_args or {}).get("filename", "")
            if request.args.get("v") and request.args.get("v") == version(filename):
                resp.headers["Cache-Control"] = IMMUTABLE
            else:
                resp.headers["Cache-Control"] = "no-cache"
        return resp


def _register_vendor(app: Flask) -> None:
    """Leaflet from the ``xstatic-leaflet`` package at /static/vendor/leaflet/ (no CDN)."""
    from flask import abort, send_from_directory

    try:
        import xstatic.pkg.leaflet as xleaflet

        base = Path(xleaflet.BASE_DIR)
    except ImportError:  # pragma: no cover - install_requires has it
        base = WEB_ROOT / "static" / "vendor" / "leaflet"

    @app.route("/static/vendor/leaflet/<path:filename>")
    def leaflet_static(filename: str):
        if not (filename.endswith((".js", ".css", ".png")) and ".." not in filename):
            abort(404)
        return send_from_directory(base, filename, max_age=7 * 24 * 3600)


def _with_arg(name: str, value: str) -> str:
    """The current page with one query argument replaced (a candidate address, another site)."""
    from urllib.parse import urlencode

    drop = {name, "to_id"} if name == "to" else {name}
    args = [(k, v) for k, v in request.args.items(multi=True) if k not in drop] + [(name, value)]
    return request.path + "?" + urlencode(args)


def _lang_switch_url() -> str:
    """The current page in the other language (keeps the query)."""
    from urllib.parse import urlencode

    other = "en" if getattr(g, "lang", "fr") == "fr" else "fr"
    args = [(k, v) for k, v in request.args.items(multi=True) if k != "lang"] + [("lang", other)]
    return request.path + "?" + urlencode(args)
