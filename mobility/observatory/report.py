"""Figures of the observatory: the summary of a period (JSON), its charts (matplotlib, PNG data URIs),
the self-contained HTML report, and the by-commune exports (CSV, GeoPackage for QGIS).

Every figure is a count over the ``requests`` table filtered by period (request time, UTC days), channel and
category; "unmet" means served another day or no itinerary at all (bad inputs are counted apart).
"""

from __future__ import annotations

import base64
import csv
import datetime as dt
import functools
import io
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from mobility.config import DEFAULT_COMMUNES_PATH
from mobility.errors import InputError
from mobility.i18n import N_, message
from mobility.observatory.db import requests, survey_answers, survey_responses
from mobility.observatory.journal import CHANNELS, OUTCOMES, UNMET

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
#: the dashboard's default period when none is asked: this many days up to today
DEFAULT_DAYS = 31


@dataclass(frozen=True)
class Filters:
    """A period of request days (inclusive) and optional channel and category."""

    start: dt.date
    end: dt.date
    channel: str | None = None
    category: str | None = None

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise InputError("err_period_reversed")
        if (self.end - self.start).days > 3660:
            raise InputError("err_period_too_long")
        if self.channel is not None and self.channel not in CHANNELS:
            raise InputError("err_channel", channels=", ".join(CHANNELS))
        if self.category is not None and (len(self.category) > 40 or not self.category.replace("_", "").isalnum()):
            raise InputError("err_category_key")

    @classmethod
    def parse(cls, start: str | None, end: str | None, channel: str | None = None, category: str | None = None,
              today: dt.date | None = None) -> "Filters":
        """From ISO dates (``from``/``to``; default the last :data:`DEFAULT_DAYS` days)."""
        today = today or dt.datetime.now(dt.timezone.utc).date()
        e = _iso_date(end, "to") if end else today
        s = _iso_date(start, "from") if start else e - dt.timedelta(days=DEFAULT_DAYS - 1)
        return cls(s, e, channel or None, category or None)

    def where(self, table=requests) -> list:
        lo = dt.datetime.combine(self.start, dt.time())
        hi = dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time())
        conds = [table.c.created_at >= lo, table.c.created_at < hi]
        if self.channel:
            conds.append(table.c.channel == self.channel)
        if self.category:
            conds.append(table.c.destination_category == self.category)
        return conds

    def query(self) -> dict[str, str]:
        out = {"from": self.start.isoformat(), "to": self.end.isoformat()}
        if self.channel:
            out["channel"] = self.channel
        if self.category:
            out["category"] = self.category
        return out


def _iso_date(text: str, name: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text.strip())
    except (ValueError, AttributeError):
        raise InputError("err_param_date_named", name=name) from None


def load_commune_table(communes: pd.DataFrame | None = None) -> pd.DataFrame:
    """insee, name, population (and geometry) of the communes layer (the embedded one by default)."""
    if communes is None:
        path = Path(os.environ.get("MOBILITY_COMMUNES") or DEFAULT_COMMUNES_PATH)
        communes = _communes_file(str(path), path.stat().st_mtime_ns if path.exists() else 0)
    return communes


@functools.lru_cache(maxsize=4)
def _communes_file(path: str, _mtime: int) -> pd.DataFrame:
    """The communes layer, parsed once per file version (reports are asked again and again)."""
    from mobility.planning.context import load_communes

    return load_communes(path)


# ------------------------------------------------------------------------------------------- summary

def summary(engine: Engine, filters: Filters, communes: pd.DataFrame | None = None) -> dict[str, Any]:
    """Every figure of the dashboard for ``filters`` (the JSON of ``/api/observatory/summary``)."""
    communes = load_commune_table(communes)
    r = requests.c
    where = filters.where()
    unmet = sa.func.sum(sa.case((r.outcome.in_(UNMET), 1), else_=0))
    with engine.connect() as conn:
        def grouped(*cols, extra=()):
            q = sa.select(*cols, sa.func.count(), unmet).where(*where, *extra).group_by(*cols).order_by(*cols)
            return conn.execute(q).all()

        total = conn.execute(sa.select(sa.func.count()).select_from(requests).where(*where)).scalar_one()
        by_outcome = {o: 0 for o in OUTCOMES} | {o: n for o, n, _ in grouped(r.outcome)}
        by_reason = {k or "unknown": n for k, n, _ in grouped(r.reason, extra=[r.outcome.in_(UNMET)])}
        bad_input = {k or "bad_request": n for k, n, _ in grouped(r.reason, extra=[r.outcome == "bad_input"])}
        by_channel = {c: 0 for c in CHANNELS} | {c: n for c, n, _ in grouped(r.channel)}
        by_category = [{"category": c, "requests": n, "unmet": int(u or 0)} for c, n, u in grouped(r.destination_category)]
        by_commune_rows = grouped(r.commune_insee)
        by_mode = {m or "unknown": n for m, n, _ in grouped(r.modes, extra=[r.outcome.in_(("served", "served_other_day"))])}
        day = sa.func.date(r.created_at) if engine.dialect.name == "sqlite" else sa.cast(r.created_at, sa.Date)
        per_day = conn.execute(sa.select(day, r.channel, sa.func.count()).where(*where)
                               .group_by(day, r.channel).order_by(day)).all()
        tad = conn.execute(sa.select(sa.func.count()).select_from(requests)
                           .where(*where, r.tad_booking.is_(True))).scalar_one()
        booking_closed = conn.execute(sa.select(sa.func.count()).select_from(requests)
                                      .where(*where, r.reason == "booking_closed")).scalar_one()
        served = by_outcome.get("served", 0) + by_outcome.get("served_other_day", 0)
        surveys = _survey_counts(conn, filters)
    names = dict(zip(communes["insee"].astype(str), communes["name"]))
    pops = dict(zip(communes["insee"].astype(str), communes["population"].astype(int)))
    by_commune = []
    for insee, n, u in by_commune_rows:
        pop = pops.get(insee) if insee else None
        by_commune.append({"insee": insee, "name": names.get(insee) if insee else None, "population": pop,
                           "requests": n, "unmet": int(u or 0),
                           "unmet_per_1000": round(1000.0 * int(u or 0) / pop, 2) if pop else None})
    by_commune.sort(key=lambda c: (-c["requests"], c["insee"] or "~"))
    weighted = sorted((c for c in by_commune if c["unmet"] and c["unmet_per_1000"] is not None),
                      key=lambda c: (-c["unmet_per_1000"], c["insee"]))
    unmet_total = sum(by_outcome.get(o, 0) for o in UNMET)
    answered = total - by_outcome.get("bad_input", 0)
    days: dict[str, dict[str, int]] = {}
    for d, ch, n in per_day:
        days.setdefault(str(d), {c: 0 for c in CHANNELS})[ch] = n
    return {
        "period": filters.query(),
        "requests": total,
        "by_outcome": by_outcome,
        "unmet": {"requests": unmet_total, "share": round(unmet_total / answered, 4) if answered else None,
                  "by_reason": by_reason},
        "bad_input": bad_input,
        "by_channel": by_channel,
        "by_day": [{"date": d, **v} for d, v in sorted(days.items())],
        "by_category": sorted(by_category, key=lambda c: (-c["requests"], c["category"] or "~")),
        "by_commune": by_commune,
        "unmet_communes": weighted[:10],
        "modes": by_mode,
        "tad": {"requests": tad, "share_of_served": round(tad / served, 4) if served else None,
                "booking_closed": booking_closed},
        "surveys": surveys,
    }


def _survey_counts(conn, filters: Filters) -> dict[str, Any]:
    """Answers to the surveys of the period's requests: responses, counts per question and value, comments."""
    s, a, r = survey_responses.c, survey_answers.c, requests.c
    joined = survey_responses.join(requests, s.request_ref == r.ref)
    where = filters.where()
    n = conn.execute(sa.select(sa.func.count()).select_from(joined).where(*where)).scalar_one()
    rows = conn.execute(sa.select(a.question, a.value, sa.func.count())
                        .select_from(survey_answers.join(joined, a.response_id == s.id))
                        .where(*where).group_by(a.question, a.value).order_by(a.question, a.value)).all()
    questions: dict[str, dict[str, int]] = {}
    texts: dict[str, int] = {}
    for q, v, c in rows:
        questions.setdefault(q, {})[v] = c
    from mobility.observatory.surveys import load_survey

    try:
        survey = load_survey()
        text_keys = {q.key for q in survey.questions if q.type == "text"}
    except Exception:  # a broken survey file must not hide the figures
        text_keys = set()
    comments: list[str] = []
    for key in text_keys & set(questions):
        texts[key] = sum(questions.pop(key).values())
        comments += [v for (v,) in conn.execute(
            sa.select(a.value).select_from(survey_answers.join(joined, a.response_id == s.id))
            .where(*where, a.question == key).order_by(s.created_at.desc()).limit(20)).all()]
    return {"responses": n, "questions": questions, "comments": texts, "recent_comments": comments}


# ------------------------------------------------------------------------------------------- words

#: the words of the report and the dashboard: keys rep_* of the catalogs (mobility.i18n)
_WORD_KEYS = [N_("rep_title"), N_("rep_period"), N_("rep_requests"), N_("rep_unmet"), N_("rep_unmet_share"),
              N_("rep_over_time"), N_("rep_by_commune"), N_("rep_by_category"), N_("rep_outcomes"),
              N_("rep_reasons"), N_("rep_unmet_communes"), N_("rep_tad"), N_("rep_tad_share"),
              N_("rep_missed_deadline"), N_("rep_surveys"), N_("rep_responses"), N_("rep_comments"),
              N_("rep_commune"), N_("rep_population"), N_("rep_per_1000"), N_("rep_none"), N_("rep_resident"),
              N_("rep_operator"), N_("rep_api"), N_("rep_served"), N_("rep_served_other_day"),
              N_("rep_no_itinerary"), N_("rep_bad_input"), N_("rep_no_service"), N_("rep_booking_closed"),
              N_("rep_site_closed"), N_("rep_walking_limit"), N_("rep_other"), N_("rep_unknown"),
              N_("rep_generated"), N_("rep_filters"), N_("rep_channel"), N_("rep_category"), N_("rep_all"),
              N_("rep_map_alt"), N_("rep_modes"), N_("rep_privacy")]


def words(lang: str) -> dict[str, str]:
    return {k[4:]: message(k, lang) for k in _WORD_KEYS}


# ------------------------------------------------------------------------------------------- charts

def _figure(width: float = 6.4, height: float = 3.2):
    from matplotlib.figure import Figure  # the object API: no pyplot global state, safe in threads

    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    return fig, fig.add_subplot()


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _barh(labels: list[str], values: list[float], xlabel: str = "", color: str = "#1f5f8b") -> str:
    fig, ax = _figure(6.4, max(1.6, 0.32 * len(labels) + 0.8))
    ax.barh(labels[::-1], values[::-1], color=color)
    ax.set_xlabel(xlabel)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return _png(fig)


def charts(summary_: dict[str, Any], lang: str = "fr", communes: pd.DataFrame | None = None,
           category_label=None) -> dict[str, str]:
    """PNG data URIs of the dashboard's charts (only those with data)."""
    w = words(lang)
    label = category_label or (lambda c, _lang: c)
    out: dict[str, str] = {}
    if not summary_["requests"]:
        return out
    days = summary_["by_day"]
    if days:
        fig, ax = _figure(7.2, 3.0)
        x = [dt.date.fromisoformat(d["date"]) for d in days]
        bottom = [0] * len(days)
        for ch, colour in zip(CHANNELS, ("#1f5f8b", "#d9822b", "#5a9e4b")):
            vals = [d.get(ch, 0) for d in days]
            ax.bar(x, vals, bottom=bottom, label=w[ch], color=colour, width=0.8)
            bottom = [b + v for b, v in zip(bottom, vals)]
        ax.legend(frameon=False, fontsize=8)
        ax.set_ylabel(w["requests"])
        fig.autofmt_xdate()
        out["over_time"] = _png(fig)
    outcomes = [(w.get(k, k), v) for k, v in summary_["by_outcome"].items() if v]
    if outcomes:
        out["outcomes"] = _barh([k for k, _ in outcomes], [v for _, v in outcomes], w["requests"])
    reasons = sorted(summary_["unmet"]["by_reason"].items(), key=lambda kv: -kv[1])
    if reasons:
        out["reasons"] = _barh([w.get(k or "unknown", k) for k, _ in reasons], [v for _, v in reasons],
                               w["requests"], "#b5442b")
    cats = summary_["by_category"][:12]
    if cats:
        out["by_category"] = _barh([label(c["category"], lang) if c["category"] else w["unknown"] for c in cats],
                                   [c["requests"] for c in cats], w["requests"])
    weighted = summary_["unmet_communes"]
    if weighted:
        out["unmet_communes"] = _barh([c["name"] or c["insee"] for c in weighted],
                                      [c["unmet_per_1000"] for c in weighted], w["per_1000"], "#b5442b")
    modes = sorted(summary_["modes"].items(), key=lambda kv: -kv[1])
    if modes:
        out["modes"] = _barh([w.get(k, k) for k, _ in modes], [v for _, v in modes], w["requests"], "#5a9e4b")
    out["communes_map"] = commune_map(summary_, communes, lang)
    return out


def commune_map(summary_: dict[str, Any], communes: pd.DataFrame | None = None, lang: str = "fr") -> str:
    """Choropleth of the requests by commune of origin on the communes layer (PNG data URI)."""
    gdf = commune_frame(summary_, communes)
    fig, ax = _figure(6.4, 5.6)
    gdf.plot(column="requests", ax=ax, cmap="Blues", edgecolor="#666666", linewidth=0.3, legend=True,
             legend_kwds={"label": words(lang)["requests"], "shrink": 0.6},
             missing_kwds={"color": "#eeeeee"})
    ax.set_axis_off()
    ax.set_aspect(1.55)  # about 1/cos(50.7°): the map looks like the territory
    return _png(fig)


def commune_frame(summary_: dict[str, Any], communes: pd.DataFrame | None = None):
    """GeoDataFrame of every commune with its figures (0 where no request came from it)."""
    import geopandas as gpd

    communes = load_commune_table(communes)
    figures = {c["insee"]: c for c in summary_["by_commune"] if c["insee"]}
    rows = []
    for insee, name, pop, geom in zip(communes["insee"].astype(str), communes["name"], communes["population"],
                                      communes["geometry"]):
        f = figures.get(insee, {})
        req, unmet = int(f.get("requests", 0)), int(f.get("unmet", 0))
        rows.append({"insee": insee, "name": name, "population": int(pop), "requests": req, "unmet": unmet,
                     "unmet_share": round(unmet / req, 4) if req else None,
                     "unmet_per_1000": round(1000.0 * unmet / int(pop), 2) if int(pop) else None, "geometry": geom})
    return gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")


# ------------------------------------------------------------------------------------------- outputs

EXPORT_COLUMNS = ("insee", "name", "population", "requests", "unmet", "unmet_share", "unmet_per_1000")


def commune_csv(summary_: dict[str, Any], communes: pd.DataFrame | None = None) -> str:
    """The figures by commune as CSV (every commune of the layer, plus requests of unknown origin)."""
    gdf = commune_frame(summary_, communes)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    for row in gdf.itertuples(index=False):
        writer.writerow(["" if pd.isna(getattr(row, c)) else getattr(row, c) for c in EXPORT_COLUMNS])
    unknown = next((c for c in summary_["by_commune"] if not c["insee"]), None)
    if unknown:
        writer.writerow(["", "", "", unknown["requests"], unknown["unmet"],
                         round(unknown["unmet"] / unknown["requests"], 4) if unknown["requests"] else "", ""])
    return buf.getvalue()


def commune_geopackage(summary_: dict[str, Any], path: str | os.PathLike,
                       communes: pd.DataFrame | None = None) -> Path:
    """The figures by commune as a GeoPackage layer ``demand_by_commune`` (open it in QGIS)."""
    path = Path(path)
    if path.exists():
        path.unlink()  # a GeoPackage is a database: start afresh rather than append a second layer
    commune_frame(summary_, communes).to_file(path, driver="GPKG", layer="demand_by_commune")
    return path


def render_html(summary_: dict[str, Any], charts_: dict[str, str], lang: str = "fr", *, standalone: bool = True,
                category_label=None) -> str:
    """The report as HTML: a whole self-contained page, or (``standalone=False``) the body the dashboard shows."""
    import jinja2

    from mobility.observatory.surveys import load_survey

    try:
        questions = {q["key"]: q for q in load_survey().localized(lang)["questions"]}
    except Exception:  # a broken survey file: show the keys rather than no report
        questions = {}

    def qlabel(key: str) -> str:
        return questions.get(key, {}).get("label") or key

    def vlabel(key: str, value: str) -> str:
        choices = {c["value"]: c["label"] for c in questions.get(key, {}).get("choices", [])}
        return choices.get(value, value)

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATE_DIR)), autoescape=True)
    return env.get_template("report.html").render(
        s=summary_, charts=charts_, w=words(lang), lang=lang, standalone=standalone, qlabel=qlabel, vlabel=vlabel,
        category_label=category_label or (lambda c, _lang: c),
        generated=dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"))


def write_report(engine: Engine, filters: Filters, out: str | os.PathLike, lang: str = "fr",
                 communes: pd.DataFrame | None = None) -> dict[str, Any]:
    """``mobility observatory report``: the HTML report of ``filters`` written to ``out``; its summary."""
    from mobility.domain.categories import category_label

    communes = load_commune_table(communes)
    s = summary(engine, filters, communes)
    html = render_html(s, charts(s, lang, communes, category_label), lang, category_label=category_label)
    Path(out).write_text(html, encoding="utf-8")
    return s


def percent(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.1f} %"


