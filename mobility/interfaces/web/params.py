"""Request parameters of the API and the pages: parsed, validated and bounded in one place.

Every text is at most :data:`MAX_TEXT` characters, numbers lie within the planner's ranges, dates are ISO
(``YYYY-MM-DD`` + ``HH:MM``, or ``YYYY-MM-DDTHH:MM``). Bad values raise :class:`InputError` (HTTP 400)
naming the parameter.
"""

from __future__ import annotations

import datetime as dt
import difflib
import inspect
import json
import math
from dataclasses import dataclass, fields
from typing import Any, Mapping

from mobility.errors import InputError
from mobility.planning.planner import PlanOptions

MAX_TEXT = 200
#: a JSON request body nests at most this deep (8,000 brackets made the parser raise RecursionError)
MAX_JSON_DEPTH = 20
_TRUE = {"1", "true", "on", "yes", "oui"}
_FALSE = {"0", "false", "off", "no", "non", ""}

#: parameters of /api/plan (GET query or POST JSON body); also the OpenAPI list
PLAN_PARAMS = ("from", "to", "date", "time", "datetime", "arrive_by", "wheelchair", "max_walk_m", "max_walk_leg_m",
               "walk_speed_mps", "max_transfers", "allow_tad", "return_after_min", "booked_at", "lang")


def text(values: Mapping[str, Any], name: str, *, required: bool = False, default: str = "") -> str:
    """A stripped text of at most MAX_TEXT characters."""
    raw = values.get(name)
    if raw is None:
        if required:
            raise _required(name)
        return default
    if not isinstance(raw, str):
        raise InputError("err_param_not_text", name=name)
    value = raw.strip()
    if len(value) > MAX_TEXT:
        raise InputError("err_param_too_long", name=name, n=MAX_TEXT)
    if required and not value:
        raise _required(name, empty=True)
    return value


def _required(name: str, empty: bool = False) -> InputError:
    """The error of a missing parameter: in words for the two ends of a journey."""
    if name in ("from", "to"):
        return InputError("err_origin_empty" if name == "from" else "err_destination_empty")
    return InputError("err_param_empty" if empty else "err_param_required", name=name)


def reject_unknown(values: Mapping[str, Any], known: tuple[str, ...]) -> None:
    """InputError naming the first parameter of ``values`` not in ``known`` (with the nearest known name, when
    one is close): a misspelt ``when=`` or ``arive_by=`` must not be answered as if it had not been sent."""
    for name in values.keys():
        if name not in known:
            shown = str(name)[:40]
            close = difflib.get_close_matches(str(name), known, n=1)
            if close:
                raise InputError("err_param_unknown_close", name=shown, close=close[0])
            raise InputError("err_param_unknown", name=shown, known=", ".join(known))


def boolean(values: Mapping[str, Any], name: str, default: bool) -> bool:
    raw = values.get(name)
    if raw is None:
        return default
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.strip().lower() in _TRUE | _FALSE:
        return raw.strip().lower() in _TRUE
    raise InputError("err_param_boolean", name=name)


def number(values: Mapping[str, Any], name: str, default: float | None, lo: float, hi: float,
           *, integer: bool = False) -> float | int | None:
    raw = values.get(name)
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return default
    if isinstance(raw, bool):
        raise InputError("err_param_number", name=name)
    try:
        if isinstance(raw, str):
            if len(raw) > 20:
                raise ValueError
            raw = raw.strip().replace(",", ".")
        value = float(raw)
        if not math.isfinite(value):  # "1e400", "inf", "nan": int() would overflow, comparisons lie
            raise InputError("err_param_range", name=name, lo=lo, hi=hi)
        if integer:
            if value != int(value):
                raise ValueError
            value = int(value)
    except (TypeError, ValueError, OverflowError):
        raise InputError("err_param_integer" if integer else "err_param_number", name=name) from None
    if not (lo <= value <= hi):
        raise InputError("err_param_range", name=name, lo=lo, hi=hi)
    return value


def json_depth(data: bytes) -> int:
    """Deepest nesting of brackets in a JSON text, strings skipped (a linear scan, no recursion)."""
    depth = deepest = 0
    in_string = escaped = False
    for ch in data.decode("utf-8", errors="replace"):
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


def json_object(data: bytes) -> dict:
    """A request body as a JSON object: InputError when it is not JSON, too deep or not an object."""
    if json_depth(data) > MAX_JSON_DEPTH:
        raise InputError("err_body_too_deep", n=MAX_JSON_DEPTH)
    try:
        body = json.loads(data.decode("utf-8"), parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        raise InputError("err_body_not_json") from None
    if not isinstance(body, dict):
        raise InputError("err_body_not_object")
    return body


def _reject_constant(name: str):
    raise ValueError(f"{name} is not JSON")


def _parse_dt(value: str, name: str) -> dt.datetime:
    for fmt in ("%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"):
        try:
            when = dt.datetime.strptime(value, fmt)
            break
        except ValueError:
            continue
    else:
        raise InputError("err_param_datetime", name=name)
    if not (2000 <= when.year <= 2100):
        raise InputError("err_param_out_of_range", name=name)
    return when


def when_of(values: Mapping[str, Any], now: dt.datetime | None = None) -> dt.datetime:
    """``datetime``, or ``date`` + ``time`` (each defaulting to today / now), local time of the feed."""
    stamp = text(values, "datetime")
    if stamp:
        return _parse_dt(stamp, "datetime")
    now = now or dt.datetime.now().replace(second=0, microsecond=0)
    day = text(values, "date")
    hour = text(values, "time")
    try:
        d = dt.date.fromisoformat(day) if day else now.date()
    except ValueError:
        raise InputError("err_param_date") from None
    try:
        t = dt.time.fromisoformat(hour) if hour else now.time()
    except ValueError:
        raise InputError("err_param_time") from None
    if not (2000 <= d.year <= 2100):
        raise InputError("err_param_out_of_range", name="date")
    return dt.datetime.combine(d, t.replace(second=0, microsecond=0, tzinfo=None))


@dataclass(frozen=True)
class PlanRequest:
    """A validated /api/plan request."""

    origin: str
    destination: str
    when: dt.datetime
    arrive_by: bool = False
    wheelchair: bool = False
    max_walk_m: float = 2000.0
    max_walk_leg_m: float | None = None
    walk_speed_mps: float = 1.2
    max_transfers: int = 3
    allow_tad: bool = True
    return_after_min: int | None = None
    booked_at: dt.datetime | None = None
    lang: str = "fr"

    def options(self) -> PlanOptions:
        kwargs: dict[str, Any] = dict(walk_speed_mps=float(self.walk_speed_mps), max_walk_m=float(self.max_walk_m),
                                      max_walk_leg_m=self.max_walk_leg_m, max_transfers=int(self.max_transfers), wheelchair=self.wheelchair)
        if "allow_tad" in {f.name for f in fields(PlanOptions)}:  # once the TAD work lands
            kwargs["allow_tad"] = self.allow_tad
        return PlanOptions(**kwargs).validated()

    def key(self) -> tuple:
        """Cache key: two equal requests get the same answer."""
        return (self.origin.casefold(), self.destination.casefold(), self.when, self.arrive_by, self.wheelchair,
                self.max_walk_m, self.max_walk_leg_m, self.walk_speed_mps, self.max_transfers, self.allow_tad, self.return_after_min,
                self.booked_at, self.lang)

    def query(self) -> dict[str, str]:
        """The request as query parameters (links: print view, re-plan)."""
        out = {"from": self.origin, "to": self.destination, "date": self.when.date().isoformat(),
               "time": self.when.strftime("%H:%M"), "arrive_by": "1" if self.arrive_by else "0"}
        if self.wheelchair:
            out["wheelchair"] = "1"
        if self.max_walk_m != 2000.0:
            out["max_walk_m"] = f"{self.max_walk_m:g}"
        if self.max_walk_leg_m is not None:
            out["max_walk_leg_m"] = f"{self.max_walk_leg_m:g}"
        if self.walk_speed_mps != 1.2:
            out["walk_speed_mps"] = f"{self.walk_speed_mps:g}"
        if self.max_transfers != 3:
            out["max_transfers"] = str(self.max_transfers)
        if not self.allow_tad:
            out["allow_tad"] = "0"
        if self.return_after_min is not None:
            out["return_after_min"] = str(self.return_after_min)
        if self.booked_at is not None:
            out["booked_at"] = self.booked_at.strftime("%Y-%m-%dT%H:%M")
        return out


def plan_request(values: Mapping[str, Any], *, lang_default: str = "fr") -> PlanRequest:
    """Validate /api/plan parameters (a query MultiDict or a JSON object)."""
    origin = text(values, "from", required=True)
    destination = text(values, "to", required=True)
    when = when_of(values)
    lang = text(values, "lang", default=lang_default) or lang_default
    if lang not in ("fr", "en"):
        raise InputError("err_param_lang")
    ret = number(values, "return_after_min", None, 0, 720, integer=True)
    leg = number(values, "max_walk_leg_m", None, 0, 20000)
    booked = text(values, "booked_at")
    return PlanRequest(
        origin=origin, destination=destination, when=when,
        arrive_by=boolean(values, "arrive_by", False),
        wheelchair=boolean(values, "wheelchair", False),
        max_walk_m=float(number(values, "max_walk_m", 2000.0, 0, 20000)),
        max_walk_leg_m=None if leg is None else float(leg),
        walk_speed_mps=float(number(values, "walk_speed_mps", 1.2, 0.3, 3.0)),
        max_transfers=int(number(values, "max_transfers", 3, 0, 8, integer=True)),
        allow_tad=boolean(values, "allow_tad", True),
        return_after_min=None if ret is None else int(ret),
        booked_at=_parse_dt(booked, "booked_at") if booked else None,
        lang=lang,
    )


def plan_extra_kwargs(planner, req: PlanRequest) -> dict[str, Any]:
    """Keyword arguments of Planner.plan that this planner supports (``booked_at``, ``allow_tad``)."""
    try:
        accepted = set(inspect.signature(planner.plan).parameters)
    except (TypeError, ValueError):  # pragma: no cover
        accepted = set()
    extra: dict[str, Any] = {}
    if req.booked_at is not None and "booked_at" in accepted:
        extra["booked_at"] = req.booked_at
    if "allow_tad" in accepted and "allow_tad" not in {f.name for f in fields(PlanOptions)}:
        extra["allow_tad"] = req.allow_tad
    return extra
