"""Scenario comparison: baseline and scenario surfaces of each affected category, computed on an executor, and
the population gaining or losing access (``mobility scenario``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from mobility.analysis.executors import SurfaceJob, register_context, run_jobs
from mobility.analysis.scenario import affected_categories, difference_table
from mobility.errors import InputError


@dataclass
class ScenarioResult:
    """One category: the two surfaces and the population gaining / losing access per threshold."""

    category: str
    baseline: object  # Surface
    scenario: object  # Surface
    table: pd.DataFrame  # per threshold: population gaining / losing access


def compare(ctx, changes, date: dt.date, window, *, categories=None, step_min: int = 5, cell_m: float = 200.0,
            limit_min: int = 90, percentile: int = 50, thresholds_min=(15, 30, 45, 60), options=None,
            executor=None, progress: bool = False, modes: str = "transit+tad") -> list[ScenarioResult]:
    """Baseline vs scenario for each category (default: the categories of the changed sites)."""
    from mobility.planning.planner import PlanOptions

    cats = list(categories or affected_categories(ctx, changes))
    if not cats:
        raise InputError("err_scn_no_category")
    key = register_context(ctx)
    opts = options or PlanOptions()
    jobs = []
    for cat in cats:
        for scen in ((), tuple(changes)):
            jobs.append(SurfaceJob(key, cat, date, tuple(window), step_min, "to", cell_m, limit_min, (int(percentile),),
                                   opts, scen, cat, modes))
    res = run_jobs(jobs, executor, progress=progress, desc="scenario surfaces")
    out = []
    stat = f"p{int(percentile)}"
    for i, cat in enumerate(cats):
        base, scen = res[2 * i].surface(ctx), res[2 * i + 1].surface(ctx)
        out.append(ScenarioResult(cat, base, scen, difference_table(base, scen, thresholds_min, stat)))
    return out
