"""What the web blueprints share: the process-wide context holder, its 503 while loading, and error answers
(JSON on API paths, a small page elsewhere). Imported by every blueprint; imports none of them."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, Mapping

from flask import Flask, Response, g, jsonify, render_template, request

from mobility.errors import MobilityError

log = logging.getLogger("mobility.interfaces.web")


class LoadingError(MobilityError):
    """The data is still loading (or failed to load): the API answers 503."""

    code = "loading"
    http_status = 503


class ContextHolder:
    """The process-wide :class:`~mobility.planning.context.Context`, loaded once, lazily in a thread, and warmed
    up (:meth:`~mobility.planning.planner.Planner.warm_up`) before it is handed out."""

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
            ctx = load_context(**self._kwargs)
            t1 = time.time()
            ctx.planner.warm_up()  # before the API answers: the first request does not load the kernels
            self._ctx = ctx
            self.load_seconds = time.time() - t0
            log.info("context loaded in %.2f s (and warmed up in %.2f s)", t1 - t0, time.time() - t1)
            log_problems(getattr(ctx.planner.network, "problems", []))
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
            raise LoadingError("err_load_failed")
        raise LoadingError("err_loading")


def wants_json() -> bool:
    """API paths answer JSON errors; pages answer HTML."""
    return request.path.startswith("/api/") or request.path == "/api"


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


def holder_of(app: Flask) -> ContextHolder:
    return app.extensions["mobility"]


def log_problems(problems, most: int = 50) -> None:
    """The validation warnings of the data, one log line each (the first ``most``), then a count."""
    for p in problems[:most]:
        log.warning("data validation: %s", p)
    if len(problems) > most:
        log.warning("data validation: ... and %d more (see /api/health or mobility info --json)", len(problems) - most)
    elif not problems:
        log.info("data validation: no warning")
