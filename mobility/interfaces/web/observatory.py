"""The observatory on the web: journaling of plan requests, the survey form and API, the planners' dashboard.

* every plan asked on the resident page, the operator console and ``/api/plan`` leaves one anonymous journal
  row (:func:`journal_plan`; never raises, never waits for the database);
* after a plan, the resident page and the console offer the survey (``POST /enquete``, ``POST /api/survey``),
  linked to the journal row by its random reference;
* ``/observatoire/`` (dashboard, CSV and GeoPackage exports) and ``/api/observatory/summary`` need the token
  of ``MOBILITY_OBSERVATORY_TOKEN`` (``Authorization: Bearer`` or the dashboard's login form); without a
  configured token they answer 403 "disabled": the journal is not public.

SQLAlchemy, the report (pandas, matplotlib) and the survey storage are imported by the first request that
needs them (the journal's writer, a survey answer, the dashboard), not with the app: a plan does not wait
for them at start-up.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

from flask import Blueprint, Flask, Response, current_app, g, jsonify, redirect, render_template, request, url_for

from mobility.errors import InputError, MobilityError
from mobility.interfaces.web.i18n import translator
from mobility.interfaces.web.params import json_object
from mobility.interfaces.web.state import error_response, holder_of
from mobility.observatory import journal as jn

if TYPE_CHECKING:
    from mobility.observatory import report
    from mobility.observatory.surveys import Survey

log = logging.getLogger(__name__)

bp = Blueprint("observatory", __name__)
COOKIE = "observatoire"

def obs_t(lang: str):
    """The observatory's words in ``lang``: the keys ``obs_*`` of the catalogs (``ot('nav')`` in a template
    reads ``obs_nav``)."""
    t = translator(lang)

    def ot(key: str, **fmt) -> str:
        return t("obs_" + key, **fmt)

    return ot


class ObservatoryDisabled(MobilityError):
    code = "observatory_disabled"
    http_status = 403


class Unauthorized(MobilityError):
    code = "unauthorized"
    http_status = 401


class _State:
    """Per-application journal (background writer) and survey (read once from its data file)."""

    def __init__(self, app: Flask) -> None:
        self.enabled = bool(app.config["MOBILITY_JOURNAL"])
        self.url = app.config["MOBILITY_DB_URL"]
        self.journal = jn.Journal(self.url)
        self._survey: Survey | None = None
        self._lock = threading.Lock()

    @property
    def engine(self):
        return self.journal.engine

    def survey(self) -> Survey:
        if self._survey is None:
            from mobility.observatory.surveys import load_survey

            with self._lock:
                self._survey = self._survey or load_survey(current_app.config.get("MOBILITY_SURVEY"))
        return self._survey


def init_app(app: Flask) -> None:
    """Register the blueprint, its configuration (from the environment by default) and the template helpers."""
    app.config.setdefault("MOBILITY_DB_URL", os.environ.get("MOBILITY_DB_URL") or None)
    app.config.setdefault("MOBILITY_OBSERVATORY_TOKEN", os.environ.get("MOBILITY_OBSERVATORY_TOKEN") or None)
    app.config.setdefault("MOBILITY_JOURNAL", os.environ.get("MOBILITY_JOURNAL", "1") not in ("0", "false", "no"))
    app.config.setdefault("MOBILITY_SURVEY", None)
    app.extensions["observatory"] = _State(app)
    app.register_blueprint(bp)
    app.add_template_global(survey_form, "survey_form")
    app.add_template_global(obs_t, "obs_t")


def state() -> _State:
    return current_app.extensions["observatory"]


# ------------------------------------------------------------------------------------------- journal

def journal_plan(channel: str, req=None, answer: Mapping[str, Any] | None = None,
                 error: BaseException | None = None) -> str | None:
    """Journal one plan request (``req`` a PlanRequest, None when the parameters were invalid); its ref.

    Failures are logged, never raised: the resident gets the answer even when the database is down.
    """
    from mobility.interfaces.web.state import LoadingError

    st = current_app.extensions.get("observatory")
    if st is None or not st.enabled or isinstance(error, LoadingError):  # not yet a planning service
        return None
    try:
        holder = holder_of(current_app)
        ctx = holder.get() if holder.status == "ok" else None
        entry = jn.entry_from_answer(
            ctx, channel, origin=getattr(req, "origin", None), destination=getattr(req, "destination", None),
            when=getattr(req, "when", None),
            arrive_by=getattr(req, "arrive_by", None), wheelchair=getattr(req, "wheelchair", None),
            round_trip=(req.return_after_min is not None) if req is not None else None,
            lang=getattr(req, "lang", None), answer=answer, error=error)
        st.journal.record(entry)
        if entry.outcome != "bad_input":  # a typo gets no survey; an unmet need most of all does
            g.observatory_ref = entry.ref
            g.observatory_channel = channel
        return entry.ref
    except Exception as exc:  # never let the journal break a plan
        log.warning("observatory journal: request not journaled (%s: %s)", type(exc).__name__, exc)
        return None


def survey_form() -> dict | None:
    """What ``_survey.html`` shows after a journaled plan (None: no survey on this page)."""
    ref = getattr(g, "observatory_ref", None)
    if not ref:
        return None
    try:
        survey = state().survey().localized(getattr(g, "lang", "fr"))
    except MobilityError as exc:
        log.warning("observatory survey unavailable: %s", exc)
        return None
    channel = "operator" if g.get("observatory_channel") == "operator" else "resident"
    return {**survey, "ref": ref, "channel": channel}


# ------------------------------------------------------------------------------------------- surveys

def _store_survey(values: Mapping[str, Any], answers: Mapping[str, Any]) -> int:
    from mobility.observatory.surveys import record_answers

    st = state()
    ref = values.get("ref")
    if isinstance(ref, str) and not _entry_known(st, ref):
        st.journal.flush(2.0)  # the plan's row may still be in the writer's queue
    try:
        return record_answers(st.engine, st.survey(), ref, answers)
    except MobilityError:
        raise
    except Exception as exc:
        log.warning("observatory survey not stored (%s)", exc)
        raise _Unavailable("the survey answer could not be stored; try again later") from None


def _entry_known(st: _State, ref: str) -> bool:
    from mobility.observatory.surveys import entry_exists

    try:
        return entry_exists(st.engine, ref)
    except Exception:
        return False


class _Unavailable(MobilityError):
    code = "unavailable"
    http_status = 503


@bp.post("/api/survey")
def api_survey():
    """A filled questionnaire: ``{"ref": ..., "answers": {question: value}}``."""
    if not request.is_json:
        return error_response(415, "bad_request", "send a JSON object {ref, answers}")
    body = json_object(request.get_data(cache=True))  # 400 when not a JSON object, too deep or with NaN
    rid = _store_survey(body, body.get("answers"))
    resp = jsonify({"id": rid, "ref": body.get("ref"), "status": "stored"})
    resp.status_code = 201
    return resp


@bp.post("/enquete")
def survey_post():
    """The survey form of the resident page and the console (a plain HTML form: works without JavaScript)."""
    form = request.form
    lang = form.get("lang") if form.get("lang") in ("fr", "en") else g.lang
    g.lang = lang
    answers: dict[str, Any] = {}
    try:
        survey = state().survey()
        for q in survey.questions:
            values = [v for v in form.getlist(q.key) if v != ""]
            if values:
                answers[q.key] = values if q.type == "multi" else values[-1]
        _store_survey(form, answers)
    except MobilityError as exc:
        return render_template("survey_thanks.html", ok=False, message=exc.text(lang), ot=obs_t(lang),
                               back=_safe_back(form.get("back"))), exc.http_status
    return render_template("survey_thanks.html", ok=True, message="", ot=obs_t(lang),
                           back=_safe_back(form.get("back")))


def _safe_back(url: str | None) -> str | None:
    """A same-site path to go back to (never another host)."""
    if url and url.startswith("/") and not url.startswith("//") and "\\" not in url and len(url) < 2000:
        return url
    return None


# ------------------------------------------------------------------------------------------- access

def _token() -> str:
    token = current_app.config.get("MOBILITY_OBSERVATORY_TOKEN")
    if not token:
        raise ObservatoryDisabled(obs_t("en")("disabled") if request.path.startswith("/api/")
                                  else obs_t(g.lang)("disabled"))
    return str(token)


def _cookie_value(token: str) -> str:
    """The login cookie: a digest of the token (the token itself never sits in the browser)."""
    return hmac.new(token.encode(), b"mobility-observatory-session", hashlib.sha256).hexdigest()


def _authorized() -> bool:
    token = _token()
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer ") and hmac.compare_digest(header[7:].strip().encode(), token.encode()):
        return True
    cookie = request.cookies.get(COOKIE, "")
    return bool(cookie) and hmac.compare_digest(cookie.encode(), _cookie_value(token).encode())


def _unauthorized_json() -> Response:
    resp = error_response(401, "unauthorized", "the observatory needs its access token: "
                                               "send 'Authorization: Bearer <token>'")
    resp.headers["WWW-Authenticate"] = 'Bearer realm="observatory"'
    return resp


def _filters() -> report.Filters:
    from mobility.observatory import report

    a = request.args
    for name in ("from", "to", "channel", "category"):
        if len(a.get(name, "")) > 40:
            raise InputError("err_param_too_long", name=name, n=40)
    return report.Filters.parse(a.get("from"), a.get("to"), a.get("channel") or None, a.get("category") or None)


def _communes():
    holder = holder_of(current_app)
    ctx = holder.get() if holder.status == "ok" else None
    return getattr(ctx, "communes", None)


# ------------------------------------------------------------------------------------------- dashboard

@bp.get("/api/observatory/summary")
def api_summary():
    """Figures of a period: requests, by_outcome, by_commune, by_category, surveys (token needed)."""
    if not _authorized():
        return _unauthorized_json()
    from mobility.observatory import report

    st = state()
    st.journal.flush(2.0)
    return jsonify(report.summary(st.engine, _filters(), _communes()))


@bp.get("/observatoire/")
def dashboard():
    if not _authorized():
        return _login_page(status=401)
    from mobility.domain.categories import category_label
    from mobility.observatory import report

    st = state()
    st.journal.flush(2.0)
    filters = _filters()
    communes = _communes()
    s = report.summary(st.engine, filters, communes)
    body = report.render_html(s, report.charts(s, g.lang, communes, category_label), g.lang, standalone=False,
                              category_label=category_label)
    cats = [(c, category_label(c, g.lang)) for c in sorted({c["category"] for c in s["by_category"] if c["category"]}
                                                             | ({filters.category} if filters.category else set()))]
    return render_template("observatory.html", body=body, filters=filters, w=report.words(g.lang), ot=obs_t(g.lang),
                           categories=cats, channels=jn.CHANNELS, query=filters.query())


@bp.post("/observatoire/connexion")
def login():
    token = _token()
    given = (request.form.get("token") or "").strip()
    if not hmac.compare_digest(given.encode(), token.encode()):
        return _login_page(status=401, error=True)
    resp = redirect(url_for("observatory.dashboard"))
    resp.set_cookie(COOKIE, _cookie_value(token), max_age=8 * 3600, httponly=True, samesite="Strict",
                    secure=request.is_secure)
    return resp


@bp.post("/observatoire/deconnexion")
def logout():
    resp = redirect(url_for("observatory.dashboard"))
    resp.delete_cookie(COOKIE)
    return resp


def _login_page(status: int, error: bool = False):
    return render_template("observatory_login.html", ot=obs_t(g.lang), error=error), status


@bp.get("/observatoire/export.csv")
def export_csv():
    if not _authorized():
        return _login_page(status=401)
    from mobility.observatory import report

    st = state()
    filters = _filters()
    s = report.summary(st.engine, filters, _communes())
    resp = Response(report.commune_csv(s, _communes()), mimetype="text/csv")
    resp.headers["Content-Disposition"] = f'attachment; filename="observatoire-{filters.start}-{filters.end}.csv"'
    return resp


@bp.get("/observatoire/export.gpkg")
def export_gpkg():
    if not _authorized():
        return _login_page(status=401)
    from mobility.observatory import report

    st = state()
    filters = _filters()
    s = report.summary(st.engine, filters, _communes())
    with tempfile.TemporaryDirectory() as tmp:
        path = report.commune_geopackage(s, Path(tmp) / "observatoire.gpkg", _communes())
        data = path.read_bytes()
    resp = Response(data, mimetype="application/geopackage+sqlite3")
    resp.headers["Content-Disposition"] = f'attachment; filename="observatoire-{filters.start}-{filters.end}.gpkg"'
    return resp
