"""Accessibility tables: per commune and service category, how long residents take to reach the nearest site.

For each category, one surface *to the category* (the nearest site in time, per departure: see
:mod:`mobility.analysis.surface`) on the grid; a resident's travel time is the chosen statistic over the
departures of the window (default the median, p50) at the cell they live in (population per cell: see
:mod:`mobility.analysis.grid`).  Per (commune, category):

* ``population``; ``mean_min``: population-weighted mean travel time over the residents reached within
  the limit; ``share_15`` / ``share_30`` / ``share_45``: share of the commune's residents whose time is
  within 15/30/45 min (France Services target: < 30 min); ``share_no_service``: share not reached
  within the limit (including cells outside the walk network, ``share_outside_network``).

The territory summary line per category uses the same numbers over all communes.  Modes (``modes=``):
``"transit+tad"`` (default: public transport, walking and on-demand TAD, every TAD ride assumed booked in
advance -- "transport public et TAD (réservé à l'avance)") or ``"transit"``; the summary says which.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from mobility.domain.categories import category_label
from mobility.i18n import day_text, message, number

SHARE_THRESHOLDS_MIN = (15, 30, 45)


def commune_table(ctx, surface, stat: str = "p50", thresholds_min=SHARE_THRESHOLDS_MIN) -> pd.DataFrame:
    """Per-commune rows for one surface (population-weighted, exact commune populations)."""
    g = surface.grid
    values = surface.stat_min(stat)
    v = values[g.pop_cell]
    w = g.pop_value
    com = g.pop_commune
    outside = ~g.snapped[g.pop_cell]
    n = len(ctx.communes)
    pop = np.bincount(com, weights=w, minlength=n)
    reached = np.isfinite(v)
    pop_reached = np.bincount(com[reached], weights=w[reached], minlength=n)
    tw = np.bincount(com[reached], weights=(w * v)[reached], minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        df = pd.DataFrame({"insee": ctx.communes["insee"].to_numpy(), "commune": ctx.communes["name"].to_numpy(),
                           "population": np.round(pop).astype(int),
                           "mean_min": np.where(pop_reached > 0, tw / pop_reached, np.nan)})
        for t in thresholds_min:
            ok = reached & (v <= t)
            df[f"share_{t}"] = np.bincount(com[ok], weights=w[ok], minlength=n) / pop
        df["share_no_service"] = 1.0 - pop_reached / pop
        df["share_outside_network"] = np.bincount(com[outside], weights=w[outside], minlength=n) / pop
    df["mean_min"] = df["mean_min"].round(1)
    return df


def territory_row(surface, stat: str = "p50", thresholds_min=SHARE_THRESHOLDS_MIN) -> dict:
    g = surface.grid
    v = surface.stat_min(stat)[g.pop_cell]
    w = g.pop_value
    total = float(w.sum())
    reached = np.isfinite(v)
    row = {"population": round(total),
           "mean_min": round(float((w * v)[reached].sum() / w[reached].sum()), 1) if reached.any() else np.nan}
    for t in thresholds_min:
        row[f"share_{t}"] = float(w[reached & (v <= t)].sum() / total)
    row["share_no_service"] = float(1 - w[reached].sum() / total)
    return row


def summary_sentence(category: str, row: dict, date: dt.date, window, threshold_min: int = 30,
                     lang: str = "en", modes: str = "transit+tad") -> str:
    from mobility.analysis.tad import modes_label

    w0, w1 = (t.strftime("%H:%M") for t in window)
    share = number(100 * row[f"share_{threshold_min}"], lang)
    return message("access_summary", lang, share=share, n=threshold_min, label=category_label(category, lang),
                   how=modes_label(modes, lang), day=day_text(date, lang), w0=w0, w1=w1)


def accessibility(ctx, date: dt.date, window, *, categories=None, step_min: int = 5, cell_m: float = 200.0,
                  limit_min: int = 90, percentile: int = 50, options=None, executor=None,
                  progress: bool = False, modes: str = "transit+tad",
                  lang: str = "en") -> tuple[pd.DataFrame, pd.DataFrame]:
    """(per commune x category table, per category territory summary; its ``summary`` sentences in ``lang``).
    One surface per category."""
    from mobility.analysis.executors import SurfaceJob, register_context, run_jobs
    from mobility.planning.planner import PlanOptions

    cats = list(categories or ctx.catalogue.categories())
    key = register_context(ctx)
    opts = options or PlanOptions()
    jobs = [SurfaceJob(key, c, date, tuple(window), step_min, "to", cell_m, limit_min, (int(percentile),), opts,
                       (), c, modes) for c in cats]
    res = run_jobs(jobs, executor, progress=progress, desc="categories")
    stat = f"p{int(percentile)}"
    tables, rows = [], []
    for cat, r in zip(cats, res):
        s = r.surface(ctx)
        t = commune_table(ctx, s, stat)
        t.insert(0, "category", cat)
        tables.append(t)
        row = {"category": cat, "sites": len(s.target.points)}
        row.update(territory_row(s, stat))
        row["modes"] = modes
        row["summary"] = summary_sentence(cat, row, date, window, modes=modes, lang=lang)
        rows.append(row)
    return pd.concat(tables, ignore_index=True), pd.DataFrame(rows)
