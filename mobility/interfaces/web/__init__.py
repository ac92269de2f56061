"""Flask front end of ``mobility``: JSON API, resident form, operator console, planner page.

:func:`create_app` is the application factory used by ``mobility serve`` (waitress) and the tests::

    app = create_app()                      # loads the embedded data in a background thread
    app = create_app(context=ctx)           # an already loaded Context (tests)
    app = create_app({"MOBILITY_GTFS": ["feed.zip"], "MOBILITY_OSM": "x.osm.pbf"})

Templates and static files live in the top-level ``web/`` folder. The context loads once per process
(from the on-disk cache); while it loads, the API answers 503 JSON and pages a short "loading" page.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import urlsplit

from flask import Flask, Response, g, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from mobility.config import PROJECT_ROOT
from mobility.errors import MobilityError

log = logging.getLogger(__name__)

WEB_ROOT = PROJECT_ROOT / "web"
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
    "MOBILITY_PLAN_CACHE_SIZE": 512,           # answers of /api/plan kept in memory (same request, same answer)
    "JSON_SORT_KEYS": False,
}


class LoadingError(MobilityError):
    """The data is still loading (or failed to load): the API answers 503."""

    code = "loading"
    http_status = 503


class ContextHolder:
    """The process-wide :class:`~mobility.planning.context.Context`, loaded once, lazily in a thread."""

    def __init__(self, context=None, loader_kwargs: Mapping[str, Any] | None = None) -> None:
        self._ctx = context
        self._error: BaseException | None = None
        self._kwargs = dict(loader_kwargs or {})
        self._ready = threading.Event()
        self.started_at = time.time()
        self.load_seconds: float | None = 0.0 if context is not None else None
        self.extras: dict[str, Any] = {}  # per-context caches (GeoJSON layers, plan answers)
        self.extras_lock = threading.Lock()
        if context is not None:
            self._ready.set()

    def start(self) -> None:
        """Start loading in a daemon thread (no-op when already loaded)."""
        if self._ready.is_set():
            return
        threading.Thread(target=self._load, name="mobility-context-loader", daemon=True).start()

    def _load(self) -> None:
        from mobility.planning.context import load_context

        t0 = time.time()
        try:
            self._ctx = load_context(**self._kwargs)
            self.load_seconds = time.time() - t0
            log.info("context loaded in %.1f s", self.load_seconds)
            log_problems(getattr(self._ctx.planner.network, "problems", []))
        except MobilityError as exc:  # bad data: its one-line message says what and where, no traceback
            log.error("data could not be loaded: %s", exc)
            self._error = exc
        except BaseException as exc:  # reported by /api/health and every API call
            log.exception("context failed to load")
            self._error = exc
        finally:
            self._ready.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until loaded (or failed); True when a context is available."""
        self._ready.wait(timeout)
        return self._ctx is not None

    @property
    def error_message(self) -> str | None:
        """The one-line message of a data error that stopped the load (None otherwise)."""
        return str(self._error) if isinstance(self._error, MobilityError) else None

    @property
    def status(self) -> str:
        if self._ctx is not None:
            return "ok"
        return "error" if self._error is not None else "loading"

    def get(self):
        """The context, or LoadingError (503) while it loads or when it failed."""
        if self._ctx is not None:
            return self._ctx
        if self._error is not None:
            raise LoadingError("the data could not be loaded; see the server log")
        raise LoadingError("the data is still loading; retry in a few seconds")


def log_problems(problems, most: int = 50) -> None:
    """The validation warnings of the data, one log line each (the first ``most``), then a count."""
    for p in problems[:most]:
        log.warning("data validation: %s", p)
    if len(problems) > most:
        log.warning("data validation: ... and %d more (see /api/health or mobility info --json)", len(problems) - most)
    elif not problems:
        log.info("data validation: no warning")


def wants_json() -> bool:
    """API paths answer JSON errors; pages answer HTML."""
    return request.path.startswith("/api/") or request.path == "/api"


def current_lang() -> str:
    """Language of a page: ?lang=, then the cookie, then French."""
    lang = request.args.get("lang", "")
    if lang in LANGS:
        return lang
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

    from mobility.interfaces.web import api, operator, pages, planner_pages
    from mobility.interfaces.web.i18n import translator

    app.register_blueprint(api.bp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(operator.bp)
    app.register_blueprint(planner_pages.bp)
    _register_vendor(app)
    from mobility.interfaces.web import i18n

    for name in ("hm", "minutes", "metres"):
        app.add_template_filter(getattr(i18n, name), name)
    app.add_template_global(i18n.leg_lines, "leg_lines")
    app.add_template_global(i18n.booking_text, "booking_text")
    app.add_template_global(i18n.day_label, "day_label")
    app.add_template_global(_lang_switch_url, "lang_switch_url")

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
        lang = request.args.get("lang")
        if lang in LANGS and not wants_json() and request.cookies.get(LANG_COOKIE) != lang:
            resp.set_cookie(LANG_COOKIE, lang, max_age=365 * 24 * 3600, samesite="Lax", httponly=True)
        return resp

    @app.errorhandler(MobilityError)
    def _mobility_error(exc: MobilityError):
        status = getattr(exc, "http_status", 400)
        if status >= 500 and not isinstance(exc, LoadingError):
            log.error("data error: %s", exc)
        return error_response(status, exc.code, str(exc))

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        codes = {400: "bad_request", 404: "not_found", 405: "method_not_allowed", 413: "too_large",
                 415: "unsupported_media_type", 414: "uri_too_long", 431: "headers_too_large"}
        code = codes.get(exc.code or 500, "http_error")
        message = {404: "no such page or resource", 405: f"method {request.method} not allowed here",
                   413: "request body too large"}.get(exc.code or 0, exc.description or exc.name)
        resp = error_response(exc.code or 500, code, message)
        if exc.code == 405 and hasattr(exc, "valid_methods") and exc.valid_methods:
            resp.headers["Allow"] = ", ".join(exc.valid_methods)
        return resp

    @app.errorhandler(Exception)
    def _internal(exc: Exception):
        log.exception("unhandled error on %s", request.path)
        return error_response(500, "internal_error", "internal error; the incident was logged")

    holder.start()
    return app


def error_response(status: int, code: str, message: str):
    """JSON ``{"error": {code, message}}`` on API paths, a small HTML page elsewhere."""
    if wants_json():
        resp = jsonify({"error": {"code": code, "message": message}})
        resp.status_code = status
    else:
        from mobility.interfaces.web.i18n import translator

        lang = getattr(g, "lang", "fr")
        resp = Response(render_template("error.html", status=status, code=code, message=message,
                                        lang=lang, t=translator(lang)), status=status, mimetype="text/html")
    if status == 503:
        resp.headers["Retry-After"] = "5"
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


def _lang_switch_url() -> str:
    """The current page in the other language (keeps the query)."""
    from urllib.parse import urlencode

    other = "en" if getattr(g, "lang", "fr") == "fr" else "fr"
    args = [(k, v) for k, v in request.args.items(multi=True) if k != "lang"] + [("lang", other)]
    return request.path + "?" + urlencode(args)


def holder_of(app: Flask) -> ContextHolder:
    return app.extensions["mobility"]
