"""The web side of planning: a validated request -> the TripPlan JSON, with a small in-memory answer cache.

Uses :func:`mobility.planning.services.plan_trip` (free-text ends, service sites and categories, opening
hours, return trip). Identical requests within the process (a call centre asks the same trips again and
again) are answered from an LRU cache of the JSON; errors are cached too.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from dataclasses import replace
from typing import Any

from flask import current_app, has_app_context

from mobility.deadline import within
from mobility.errors import MobilityError
from mobility.interfaces.web.params import PlanRequest, plan_extra_kwargs
from mobility.interfaces.web.state import holder_of


class AnswerCache:
    """Thread-safe LRU of JSON answers (or the MobilityError they raised)."""

    def __init__(self, size: int) -> None:
        self.size = max(0, int(size))
        self._data: OrderedDict[tuple, Any] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: tuple) -> Any:
        with self._lock:
            if key in self._data:
                self._data.move_to_end(key)
                self.hits += 1
                return self._data[key]
            self.misses += 1
            return None

    def put(self, key: tuple, value: Any) -> None:
        if not self.size:
            return
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.size:
                self._data.popitem(last=False)


def answer_cache() -> AnswerCache:
    """The application's answer cache (one per loaded context, created on first use)."""
    holder = holder_of(current_app)
    cache = holder.extras.get("plan_cache")
    if cache is None:
        with holder.extras_lock:
            cache = holder.extras.setdefault("plan_cache",
                                             AnswerCache(current_app.config["MOBILITY_PLAN_CACHE_SIZE"]))
    return cache


def booked_now(tz) -> dt.datetime:
    """"Now" for booking deadlines, rounded up to the next minute (local wall time of the feed): a deadline
    at a whole minute compares the same with it as with the exact time, and the answer cache keys on it, so
    an answer never outlives the booking state it was computed with."""
    now = dt.datetime.now(tz).replace(tzinfo=None)
    rounded = now.replace(second=0, microsecond=0)
    return rounded if rounded == now else rounded + dt.timedelta(minutes=1)


def plan_json(ctx, req: PlanRequest, cache: AnswerCache | None = None) -> dict:
    """The TripPlan JSON of ``req`` (raises MobilityError: 400/404/422)."""
    if req.booked_at is None:  # "book now": the answer depends on the time, so the cache key must too
        req = replace(req, booked_at=booked_now(ctx.planner.tz))
    key = req.key()
    if cache is not None:
        hit = cache.get(key)
        if isinstance(hit, MobilityError):
            raise hit
        if hit is not None:
            return hit
    try:
        with within(_deadline_s()):
            out = _compute(ctx, req)
    except MobilityError as exc:
        if cache is not None and exc.http_status < 500:
            cache.put(key, exc)
        raise
    if cache is not None:
        cache.put(key, out)
    return out


def _deadline_s() -> float | None:
    """The app's compute deadline of a request (``MOBILITY_COMPUTE_DEADLINE_S``), None outside a request."""
    return current_app.config.get("MOBILITY_COMPUTE_DEADLINE_S") if has_app_context() else None


def _compute(ctx, req: PlanRequest) -> dict:
    from mobility.planning.services import plan_trip

    extra = plan_extra_kwargs(ctx.planner, req)
    trip = plan_trip(ctx, req.origin, req.destination, req.when, arrive_by=req.arrive_by, options=req.options(),
                     return_after_min=req.return_after_min, lang=req.lang, **extra)
    out = trip.to_json()
    out.setdefault("notes", [])
    return out
