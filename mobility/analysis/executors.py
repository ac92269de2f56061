"""Pluggable executors for batch analysis jobs: in process, a local process pool, or a Dask cluster.

A batch (surfaces for many sites, categories, dates, scenarios) is a list of picklable
:class:`SurfaceJob`; :func:`run_jobs` maps :func:`run_surface_job` over them with an executor and
returns lightweight :class:`SurfaceArrays` (the per-departure arrays, no grid) in job order.

* ``make_executor(None | "inprocess")`` -- plain loop in this process (uses the caller's context);
* ``make_executor("processes[:N]")`` -- ``concurrent.futures.ProcessPoolExecutor`` with N workers;
* ``make_executor("tcp://host:8786")`` (or ``"dask:tcp://..."``) -- ``dask.distributed.Client`` on that
  scheduler; a ``Client`` (e.g. on a ``LocalCluster``) can be passed as is.

Workers load the context of the job's inputs once per process (``load_context``, from the on-disk
cache), except in the calling process where the context registered by :func:`register_context` is used
(which is also what a ``LocalCluster(processes=False)`` worker sees).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Sequence

import numpy as np

from mobility.planning.planner import PlanOptions

_CONTEXTS: dict[tuple, Any] = {}


def context_key(ctx) -> tuple:
    net = ctx.planner.network
    return (tuple(net.gtfs_paths), net.osm_path, ctx.services_path, ctx.communes_path,
            getattr(ctx, "population_path", None))


def register_context(ctx) -> tuple:
    """Make ``ctx`` the one used by jobs with its inputs in this process; returns its key."""
    key = context_key(ctx)
    _CONTEXTS[key] = ctx
    return key


def worker_context(key: tuple):
    ctx = _CONTEXTS.get(key)
    if ctx is None:
        from mobility.planning.context import load_context

        gtfs, osm, services, communes, population = key
        ctx = load_context(list(gtfs), osm, services, communes, population_path=population)
        _CONTEXTS[key] = ctx
    return ctx


@dataclass(frozen=True)
class SurfaceJob:
    """One surface to compute (picklable).  ``scenario``: changes (see :mod:`mobility.analysis.scenario`)."""

    context_key: tuple
    target: Any  # str spec or Target
    date: dt.date
    window: tuple[dt.time, dt.time]
    step_min: int = 5
    direction: str = "to"
    cell_m: float = 200.0
    limit_min: int = 90
    percentiles: tuple[int, ...] = (5, 25, 50)
    options: PlanOptions = field(default_factory=PlanOptions)
    scenario: tuple = ()
    tag: str = ""
    modes: str = "transit+tad"


@dataclass
class SurfaceArrays:
    """The result of a job: what is needed to rebuild a Surface on the caller's grid."""

    job: SurfaceJob
    target: Any
    departures_s: np.ndarray
    times_s: np.ndarray
    planned_s: np.ndarray
    walk_only_s: np.ndarray
    stats: dict

    def surface(self, ctx):
        from mobility.analysis.surface import Surface, grid_for

        j = self.job
        return Surface(grid_for(ctx, j.cell_m), self.target, j.direction, j.date, j.window, j.step_min, j.limit_min,
                       j.options, self.departures_s, self.times_s, self.planned_s, self.walk_only_s,
                       j.percentiles, _scenario_label(j.scenario), self.stats, j.modes)


def _scenario_label(changes) -> str:
    return "; ".join(c.describe() for c in changes) if changes else ""


def run_surface_job(job: SurfaceJob) -> SurfaceArrays:
    """Compute one job (runs on a worker)."""
    from mobility.analysis.scenario import scenario_setup
    from mobility.analysis.surface import compute_surface

    ctx = worker_context(job.context_key)
    target, extra = job.target, {}
    if job.scenario:
        target, extra = scenario_setup(ctx, job.scenario, job.target, job.date, job.options, job.cell_m)
    s = compute_surface(ctx, target, job.date, job.window, step_min=job.step_min, direction=job.direction,
                        cell_m=job.cell_m, limit_min=job.limit_min, percentiles=job.percentiles,
                        options=job.options, scenario=_scenario_label(job.scenario), modes=job.modes, **extra)
    return SurfaceArrays(job, s.target, s.departures_s, s.times_s, s.planned_s, s.walk_only_s, s.stats)


class InProcessExecutor:
    name = "inprocess"

    def map(self, fn: Callable, items: Sequence, progress: bool = False, desc: str = "") -> list:
        return [fn(x) for x in _bar(items, progress, desc)]


class ProcessPoolExecutor:
    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers
        self.name = f"processes:{workers or 'auto'}"

    def map(self, fn: Callable, items: Sequence, progress: bool = False, desc: str = "") -> list:
        import concurrent.futures as cf

        items = list(items)
        out: list = [None] * len(items)
        with cf.ProcessPoolExecutor(max_workers=self.workers) as pool:
            futs = {pool.submit(fn, x): i for i, x in enumerate(items)}
            for f in _bar(cf.as_completed(futs), progress, desc, total=len(items)):
                out[futs[f]] = f.result()
        return out


class DaskExecutor:
    def __init__(self, client_or_address) -> None:
        from dask.distributed import Client

        self.client = client_or_address if isinstance(client_or_address, Client) else Client(client_or_address)
        self.name = f"dask:{self.client.scheduler.address if self.client.scheduler else '?'}"

    def map(self, fn: Callable, items: Sequence, progress: bool = False, desc: str = "") -> list:
        from dask.distributed import as_completed

        items = list(items)
        futs = self.client.map(fn, items, pure=False)
        index = {f.key: i for i, f in enumerate(futs)}
        out: list = [None] * len(items)
        for f in _bar(as_completed(futs), progress, desc, total=len(items)):
            out[index[f.key]] = f.result()
        return out


def make_executor(spec=None):
    """An executor from a spec: None/"inprocess", "processes[:N]", "tcp://..."/"dask:ADDR", a Client."""
    if spec is None or spec == "inprocess":
        return InProcessExecutor()
    if hasattr(spec, "map") and not isinstance(spec, str):
        try:
            from dask.distributed import Client

            if isinstance(spec, Client):
                return DaskExecutor(spec)
        except ImportError:
            pass
        return spec
    text = str(spec)
    if text.startswith("processes"):
        n = text.split(":", 1)[1] if ":" in text else ""
        return ProcessPoolExecutor(int(n) if n else None)
    if text.startswith("dask:"):
        text = text[5:]
    return DaskExecutor(text)


def run_jobs(jobs: Iterable[SurfaceJob], executor=None, progress: bool = False, desc: str = "surfaces") -> list:
    """Results of the jobs, in order."""
    return make_executor(executor).map(run_surface_job, list(jobs), progress=progress, desc=desc)


def _bar(it, progress: bool, desc: str, total: int | None = None):
    if not progress:
        return it
    from tqdm import tqdm

    return tqdm(it, desc=desc, total=total if total is not None else (len(it) if hasattr(it, "__len__") else None),
                unit="job")
