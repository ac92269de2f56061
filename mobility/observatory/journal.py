"""The request journal: turn a plan request and its answer into one anonymous row, written in the background.

:func:`entry_from_answer` keeps only categorical facts (commune INSEE code of the resolved origin, destination
site and category, requested day and hour, outcome, reason, modes, minutes); :class:`Journal` queues rows and
a writer thread inserts them in batches, so a plan never waits for the database and a database failure only
logs a warning. SQLAlchemy (and the schema upgrade) is loaded by the writer when it writes its first rows (a
second after the first entry, or at the first flush), not when this module is imported: ``mobility serve``
answers its first plans without it, and what was recorded before the database was open waits in the queue.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import queue
import secrets
import threading
import time
import weakref
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Mapping

import shapely

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

log = logging.getLogger(__name__)

CHANNELS = ("resident", "operator", "api")
OUTCOMES = ("served", "served_other_day", "no_itinerary", "bad_input")
#: outcomes where the need was not met on the requested day
UNMET = ("served_other_day", "no_itinerary")
#: leg modes -> the observatory's mode families
_MODE_FAMILY = {"bus": "bus", "coach": "bus", "trolleybus": "bus", "tram": "bus", "subway": "bus", "tad": "tad",
                "rail": "train", "ferry": "other", "cable_car": "other", "gondola": "other", "funicular": "other"}


def new_ref() -> str:
    """A random handle for a journal entry (what a survey answer quotes; reveals nothing)."""
    return secrets.token_hex(16)


@dataclass
class Entry:
    """One journal row (see :data:`mobility.observatory.db.requests`)."""

    ref: str
    created_at: dt.datetime
    channel: str
    outcome: str
    commune_insee: str | None = None
    destination_site: str | None = None
    destination_category: str | None = None
    requested_date: dt.date | None = None
    requested_hour: int | None = None
    arrive_by: bool | None = None
    round_trip: bool | None = None
    wheelchair: bool | None = None
    reason: str | None = None
    served_date: dt.date | None = None
    modes: str | None = None
    travel_min: int | None = None
    wait_min: int | None = None
    walk_min: int | None = None
    walk_m: int | None = None
    tad_booking: bool | None = None
    lang: str | None = None


# ------------------------------------------------------------------------------------------- communes

_commune_trees: "weakref.WeakKeyDictionary[Any, tuple]" = weakref.WeakKeyDictionary()


def commune_of(ctx, lat: float, lon: float) -> str | None:
    """INSEE code of the commune containing (lat, lon) on the context's commune layer, or None."""
    communes = getattr(ctx, "communes", None)
    if communes is None or not len(communes):
        return None
    try:
        tree, codes = _commune_trees[ctx]
    except (KeyError, TypeError):
        tree, codes = shapely.STRtree(list(communes["geometry"])), list(communes["insee"])
        try:
            _commune_trees[ctx] = (tree, codes)
        except TypeError:  # a context that cannot be weakly referenced: no cache
            pass
    hits = tree.query(shapely.Point(float(lon), float(lat)), predicate="intersects")
    return str(codes[int(min(hits))]) if len(hits) else None


# ------------------------------------------------------------------------------------------- entries

def entry_from_answer(ctx, channel: str, *, origin: str | None = None, destination: str | None = None,
                      when: dt.datetime | None = None,
                      arrive_by: bool | None = None, round_trip: bool | None = None, wheelchair: bool | None = None,
                      lang: str | None = None, answer: Mapping[str, Any] | None = None,
                      error: BaseException | None = None, ref: str | None = None,
                      at: dt.datetime | None = None) -> Entry:
    """The journal row of one plan request: ``answer`` is the TripPlan JSON, or ``error`` what it raised.

    ``origin`` and ``destination`` are what the user typed: the origin only gives its commune (resolved again
    when the planner raised, so that a trip with no itinerary still counts for its commune); a category is
    recorded as such even when one site was chosen. ``at`` is the time of the request (default now, UTC).
    """
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r} (expected one of {', '.join(CHANNELS)})")
    entry = Entry(ref=ref or new_ref(), created_at=_utc_naive(at), channel=channel, outcome="bad_input",
                  requested_date=when.date() if when else None, requested_hour=when.hour if when else None,
                  arrive_by=arrive_by, round_trip=round_trip, wheelchair=wheelchair,
                  lang=lang if lang in ("fr", "en") else None)
    entry.destination_site, entry.destination_category = _destination(ctx, destination, answer)
    if answer is None:
        entry.outcome, entry.reason = _error_outcome(error)
        entry.commune_insee = _origin_commune(ctx, origin)
        return entry
    resolved = answer.get("origin") or {}  # used for its commune only, never stored
    if "lat" in resolved and "lon" in resolved:
        entry.commune_insee = commune_of(ctx, resolved["lat"], resolved["lon"])
    its = answer.get("itineraries") or []
    if not its:
        entry.outcome = "no_itinerary"
        opening = answer.get("opening") or {}
        entry.reason = "site_closed" if opening.get("open_on_arrival") is False else "no_service"
        return entry
    first = its[0]
    served = _date_of(answer.get("date")) or _date_of(first.get("departure"))
    entry.served_date = served
    entry.outcome, entry.reason = "served", None
    changed = answer.get("day_changed")
    if isinstance(changed, Mapping):  # the planner says why it answers for another day (issue 18 contract)
        entry.outcome, entry.reason = "served_other_day", str(changed.get("reason") or "other")[:32]
    elif served is not None and entry.requested_date is not None and served != entry.requested_date:
        opening = answer.get("opening") or {}
        closed = opening.get("open_on_arrival") is False or opening.get("proposed_arrival")
        entry.outcome, entry.reason = "served_other_day", "site_closed" if closed else "no_service"
    legs = first.get("legs") or []
    families = sorted({_MODE_FAMILY.get(leg.get("mode"), "other") for leg in legs if leg.get("mode") != "walk"})
    entry.modes = ",".join(families) if families else "walk_only"
    entry.travel_min = _minutes(first.get("duration_s"))
    entry.wait_min = _minutes(first.get("wait_s"))
    entry.walk_min = _minutes(first.get("walk_s"))
    entry.walk_m = int(round(float(first.get("walk_m") or 0)))
    entry.tad_booking = bool(first.get("tad_bookings")) or any(leg.get("booking") for leg in legs)
    return entry


def _destination(ctx, destination: str | None, answer: Mapping[str, Any] | None) -> tuple[str | None, str | None]:
    """(site id, category) of the request: the chosen site, and the category asked for or the site's own."""
    from mobility.domain.categories import match_category

    service = (answer or {}).get("service") or {}
    site_id = service.get("id")
    category = match_category(destination) if destination else None
    catalogue = getattr(ctx, "catalogue", None)
    if site_id is None and destination and catalogue is not None:
        try:  # a site asked by id that could not be reached is still the site asked for
            site_id = catalogue.get(destination.strip()).id
        except Exception:
            site_id = None
    if category is None and site_id and catalogue is not None:
        try:
            category = catalogue.get(site_id).main_category
        except Exception:
            category = None
    return (str(site_id)[:32] if site_id else None), (str(category)[:40] if category else None)


def _origin_commune(ctx, origin: str | None) -> str | None:
    """The commune of what the user typed as origin, when it resolves (None for a bad origin)."""
    if not origin or ctx is None:
        return None
    from mobility.planning.services import resolve_endpoint

    try:
        place = resolve_endpoint(ctx, origin, "origin").place
    except Exception:  # a bad origin is the reason of the error: no commune
        return None
    return commune_of(ctx, place.lat, place.lon)


def _error_outcome(error: BaseException | None) -> tuple[str, str | None]:
    from mobility.errors import NoRouteError

    if isinstance(error, NoRouteError):
        return "no_itinerary", "no_service"
    code = getattr(error, "code", None) or "bad_request"
    return "bad_input", str(code)[:32]


def _date_of(iso: Any) -> dt.date | None:
    if not iso or not isinstance(iso, str):
        return None
    try:
        return dt.datetime.fromisoformat(iso).date() if "T" in iso else dt.date.fromisoformat(iso)
    except ValueError:
        return None


def _minutes(seconds: Any) -> int | None:
    return None if seconds is None else int(round(float(seconds) / 60.0))


def _utc_naive(at: dt.datetime | None) -> dt.datetime:
    """Timestamps are stored as naive UTC (SQLite has no time zones)."""
    at = at or dt.datetime.now(dt.timezone.utc)
    if at.tzinfo is not None:
        at = at.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return at.replace(microsecond=0)


# ------------------------------------------------------------------------------------------- writing

def write_entries(engine: Engine, entries: list[Entry]) -> None:
    """Insert rows in one transaction (synchronous: the seed script and the tests use it directly)."""
    if entries:
        from mobility.observatory.db import requests

        with engine.begin() as conn:
            conn.execute(requests.insert(), [asdict(e) for e in entries])


class Journal:
    """A queue of entries and the daemon thread that writes them (batches of up to :attr:`batch` rows).

    :meth:`record` never blocks and never raises; :meth:`flush` waits until what was recorded is written
    (tests, shutdown, before a survey answer looks up its entry).
    """

    batch = 200
    #: seconds the writer waits before opening the database, unless a flush asks for the rows sooner: the
    #: requests that start a server are answered before SQLAlchemy loads (0.3 s of CPU, competing with them)
    open_delay_s = 1.0

    def __init__(self, url: str | None = None, engine: Engine | None = None) -> None:
        self._url = url
        self._engine = engine
        self._wake = threading.Event()
        self._queue: queue.Queue[Entry | None] = queue.Queue(maxsize=100_000)
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self.written = 0
        self.failed = 0

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            from mobility.observatory.db import engine_for

            self._engine = engine_for(self._url)
        return self._engine

    def record(self, entry: Entry) -> None:
        try:
            self._ensure_thread()
            self._queue.put_nowait(entry)
        except Exception as exc:  # a full queue or no thread: the plan goes on without its journal row
            self.failed += 1
            log.warning("observatory journal: entry dropped (%s)", exc)

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every recorded entry has been written (or dropped); False on timeout."""
        if self._thread is None:
            return True
        done = threading.Event()
        self._queue.put(_Marker(done))  # type: ignore[arg-type]
        self._wake.set()
        return done.wait(timeout)

    def close(self, timeout: float = 10.0) -> None:
        if self._thread is not None:
            self.flush(timeout)
            self._queue.put(None)
            self._thread.join(timeout)
            self._thread = None

    def _ensure_thread(self) -> None:
        if self._thread is None:
            with self._start_lock:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._run, name="observatory-journal", daemon=True)
                    self._thread.start()

    def _run(self) -> None:
        if self._engine is None:
            self._wake.wait(self.open_delay_s)
        stop = False
        while not stop:
            items = [self._queue.get()]
            while len(items) < self.batch:
                try:
                    items.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            stop = any(item is None for item in items)
            self._write([item for item in items if isinstance(item, Entry)])
            for item in items:  # markers after the entries queued before them are written
                if isinstance(item, _Marker):
                    item.done.set()

    def _write(self, pending: list[Entry]) -> None:
        for attempt in range(3):
            try:
                write_entries(self.engine, pending)
                self.written += len(pending)
                return
            except Exception as exc:  # logged, never raised: journaling must not break planning
                time.sleep(0.1 * (attempt + 1))
                if attempt == 2:
                    self.failed += len(pending)
                    log.warning("observatory journal: %d entries not written (%s)", len(pending),
                                str(exc).splitlines()[0] if str(exc) else type(exc).__name__)


@dataclass
class _Marker:
    done: threading.Event


# ------------------------------------------------------------------------------------------- retention

#: months a journal row (and its survey answer) is kept; ``MOBILITY_OBSERVATORY_RETENTION_MONTHS`` overrides
DEFAULT_RETENTION_MONTHS = 24


def retention_months() -> int:
    raw = os.environ.get("MOBILITY_OBSERVATORY_RETENTION_MONTHS", "").strip()
    try:
        months = int(raw) if raw else DEFAULT_RETENTION_MONTHS
    except ValueError:
        raise ValueError(f"MOBILITY_OBSERVATORY_RETENTION_MONTHS must be a whole number of months, not {raw!r}")
    if months < 1:
        raise ValueError("MOBILITY_OBSERVATORY_RETENTION_MONTHS must be at least 1")
    return months


def retention_cutoff(months: int, now: dt.datetime | None = None) -> dt.datetime:
    """The instant (naive UTC) before which rows are expired: ``now`` minus ``months`` calendar months."""
    now = _utc_naive(now)
    year, month = divmod(now.year * 12 + (now.month - 1) - months, 12)
    month += 1
    last_day = (dt.date(year + (month == 12), month % 12 + 1, 1) - dt.timedelta(days=1)).day
    return now.replace(year=year, month=month, day=min(now.day, last_day))


def purge(engine: Engine, months: int | None = None, now: dt.datetime | None = None,
          dry_run: bool = False) -> dict[str, int]:
    """Delete the journal rows older than the retention period, with their survey answers; the counts."""
    import sqlalchemy as sa

    from mobility.observatory.db import requests, survey_answers, survey_responses

    cutoff = retention_cutoff(retention_months() if months is None else months, now)
    old_refs = sa.select(requests.c.ref).where(requests.c.created_at < cutoff)
    old_responses = sa.select(survey_responses.c.id).where(survey_responses.c.request_ref.in_(old_refs))
    with engine.begin() as conn:
        counts = {
            "requests": conn.execute(sa.select(sa.func.count()).select_from(requests)
                                     .where(requests.c.created_at < cutoff)).scalar_one(),
            "survey_responses": conn.execute(sa.select(sa.func.count()).select_from(survey_responses)
                                             .where(survey_responses.c.request_ref.in_(old_refs))).scalar_one(),
        }
        if not dry_run:  # children first: SQLite only cascades when foreign keys are on
            conn.execute(survey_answers.delete().where(survey_answers.c.response_id.in_(old_responses)))
            conn.execute(survey_responses.delete().where(survey_responses.c.request_ref.in_(old_refs)))
            conn.execute(requests.delete().where(requests.c.created_at < cutoff))
    return {**counts, "cutoff": cutoff.isoformat()}  # type: ignore[dict-item]
