"""Lignes virtuelles: fixed-schedule runs that run only if booked, in door-to-door planning.

A ligne virtuelle is made of timed stop_times rows with ``pickup_type`` / ``drop_off_type`` 2 and a booking
rule (see :attr:`mobility.network.flex.FlexService.fixed_rules`). :func:`bookable_timetable` removes, *before* the search, the boardings (and alightings) whose booking
deadline has passed at ``booked_at`` (the timetable patterns are split by
:func:`mobility.network.timetable.restrict_trips`, so RAPTOR stays exact: no Pareto option is lost to
an unbookable ride); :func:`fixed_ride_booking` gives such a ride its ``booking`` (phone, deadline,
message, rule id, instructions) like a TAD leg.  A drop-off rule is checked before the search against
the time at the drop-off stop (its deadline can only be later than the exact one, counted from the
boarding); the planner then drops the rare itinerary whose exact deadline has passed (post-filter).
"""

from __future__ import annotations

import datetime as dt
import threading

import numpy as np

from mobility.planning import booking as bk
from mobility.planning.itinerary import Itinerary
from mobility.timeaxis import TimeAxis, after

_MASKED: dict = {}  # (id(tt), restricted entries) -> (tt, restricted tt): a few recent ones
_MASKED_LOCK = threading.Lock()


def _fixed_rules_of(net) -> dict:
    flex = getattr(net, "flex", None)
    return getattr(flex, "fixed_rules", None) or {}


def _runs_on(net, fi: int, memo: dict):
    def runs(service_id: str, day: dt.date) -> bool:
        key = (fi, day)
        if key not in memo:
            memo[key] = net.feeds[fi].active_service_ids(day)
        return service_id in memo[key]
    return runs


def bookable_timetable(net, axis: TimeAxis, tt, booked_at: dt.datetime):
    """``tt`` without the must-book boardings / alightings of lignes virtuelles whose booking deadline
    has passed at ``booked_at`` (see the module docstring); ``tt`` itself when none is closed."""
    rules_by_trip = _fixed_rules_of(net)
    if not rules_by_trip or tt.is_reversed:
        return tt
    bflag = (tt.pattern_board_booking == 1) & (tt.pattern_can_board == 1)
    aflag = (tt.pattern_alight_booking == 1) & (tt.pattern_can_alight == 1)
    if not (bflag.any() or aflag.any()):
        return tt
    rules = net.flex.rules
    tz = axis.tz
    origin = axis.origin(tt.service_date)
    memo: dict = {}
    dl_memo: dict = {}
    board_ok = None
    alight_ok = None
    sp, tp, tb = tt.pattern_stop_ptr, tt.pattern_trip_ptr, tt.trip_times_ptr
    pats = np.unique(np.searchsorted(sp, np.flatnonzero(bflag | aflag), side="right") - 1)
    for p in pats.tolist():
        if tt.pattern_is_freq[p]:
            continue  # headway windows: checked on the itinerary (post-filter)
        n = int(sp[p + 1] - sp[p])
        bpos = np.flatnonzero(bflag[sp[p]:sp[p + 1]]).tolist()
        apos = np.flatnonzero(aflag[sp[p]:sp[p + 1]]).tolist()
        for j, t in enumerate(range(int(tp[p]), int(tp[p + 1]))):
            r = rules_by_trip.get(tt.trip_ids[t])
            if r is None or len(r[0]) != n:
                continue
            sday = tt.service_date + dt.timedelta(days=int(tt.trip_day_offset[t]))
            fi = int(tt.trip_feed[t])
            base = int(tb[p]) + j * n
            for side, positions, keys, times in ((0, bpos, r[0], tt.trip_dep), (1, apos, r[1], tt.trip_arr)):
                for i in positions:
                    rule = rules.get(keys[i]) if keys[i] else None
                    if rule is None:
                        continue
                    when = int(times[base + i])
                    key = (rule.key, sday) if rule.booking_type == 2 else (rule.key, sday, when)
                    if key not in dl_memo:
                        dl_memo[key] = bk.deadline(rule, after(origin, when), sday, tz,
                                                   _runs_on(net, fi, memo))
                    if booked_at > dl_memo[key]:
                        if side == 0:
                            if board_ok is None:
                                board_ok = np.ones(len(tt.trip_dep), np.uint8)
                            board_ok[base + i] = 0
                        else:
                            if alight_ok is None:
                                alight_ok = np.ones(len(tt.trip_dep), np.uint8)
                            alight_ok[base + i] = 0
    if board_ok is None and alight_ok is None:
        return tt
    from mobility.network.timetable import restrict_trips

    ones = np.ones(len(tt.trip_dep), np.uint8)
    b = ones if board_ok is None else board_ok
    a = ones if alight_ok is None else alight_ok
    key = (id(tt), np.flatnonzero(b == 0).tobytes(), np.flatnonzero(a == 0).tobytes())
    with _MASKED_LOCK:
        hit = _MASKED.get(key)
    if hit is not None and hit[0] is tt:
        return hit[1]
    out = restrict_trips(tt, b, a)
    with _MASKED_LOCK:
        _MASKED[key] = (tt, out)
        while len(_MASKED) > 8:
            _MASKED.pop(next(iter(_MASKED)))
    return out


def fixed_ride_booking(net, tz, tt, leg, at) -> tuple[dict, dt.datetime] | None:
    """The ``booking`` of a ride (RAPTOR leg) that boards or alights at a must-book position of a ligne
    virtuelle with a booking rule (deadline counted from the boarding), and that deadline; else None."""
    if not (leg.board_booking or leg.alight_booking):
        return None
    r = _fixed_rules_of(net).get(tt.trip_ids[leg.trip])
    if r is None:
        return None
    keys = []
    if leg.board_booking and leg.board_pos < len(r[0]) and r[0][leg.board_pos]:
        keys.append(r[0][leg.board_pos])
    if leg.alight_booking and leg.alight_pos < len(r[1]) and r[1][leg.alight_pos]:
        keys.append(r[1][leg.alight_pos])
    rules = []
    for k in keys:
        rule = net.flex.rules.get(k)
        if rule is not None and rule not in rules:
            rules.append(rule)
    if not rules:
        return None
    fi = int(tt.trip_feed[leg.trip])
    runs = _runs_on(net, fi, {})
    sday = tt.service_date + dt.timedelta(days=int(tt.trip_day_offset[leg.trip]))
    pickup = at(leg.start_s)
    dls = [bk.deadline(x, pickup, sday, tz, runs) for x in rules]
    ops = [o for o in (bk.opening(x, pickup, sday, tz, runs) for x in rules) if o is not None]
    feed = net.feeds[fi]
    phone = ""
    if len(feed.agency) and "agency_phone" in feed.agency:
        phone = str(feed.agency["agency_phone"].iloc[0] or "")
    return bk.booking_json(rules, min(dls), max(ops) if ops else None, phone), min(dls)


def booking_closed(it: Itinerary, booked_at: dt.datetime) -> bool:
    """True when a leg of ``it`` must be booked by a deadline before ``booked_at``."""
    return any(leg.deadline is not None and booked_at > leg.deadline for leg in it.legs)
