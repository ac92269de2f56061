"""Range RAPTOR (rRAPTOR) profile searches on :class:`~mobility.network.timetable.Timetable` arrays (numba).

One search answers "for every departure time in a window" at once (Delling, Pajor & Werneck 2012, §4 --
rRAPTOR): one RAPTOR run per *departure event* of the source, latest first, and the labels of a run are
kept for the next (earlier) run, since a journey leaving later is still available to someone ready
earlier (he waits).  A run therefore only propagates the labels it improves.

Labels are the same as in :mod:`mobility.routing.raptor`: per round ``k`` (= vehicles boarded) and stop, a
bag of (time, walk_m) labels (``pareto=True``; the walking budget ``max_walk_m`` bounds access +
transfers + egress exactly like the planner), or a single time label (``pareto=False``, plain RAPTOR with
per-round arrays).  The round's steps are the planner kernel's own, shared as compiled functions of
:mod:`mobility.routing.raptor`: the patterns to scan (``_patterns_to_scan``), the boarding rule (``_first_trip``,
``_first_run``), the alighting time (``_alighting_s``), a change of vehicle (``_change``) and the eviction from a
full bag (``_bag_evict``); the insertion into a bag follows the same rule; only the pruning and what a round records
differ.

Output: a :class:`StopProfile` -- for every stop, the list of labels that were *created* during the runs,
each tagged with the run it was created in.  Every entry is a real journey; together they contain, for
every departure time, the optimal journey (a label not created in a run is dominated by one created in
an earlier-processed run, which is valid for that departure too).  Entries are in forward time:

* forward search (:func:`profile_from`, sources = the origin's access stops at ``run + access_s``):
  ``dep_s`` = departure from the origin door (the run time), ``arr_s`` = arrival at the stop by
  alighting a vehicle, ``walk_m`` = access + transfer walking so far;
* reverse search (:func:`profile_to`, targets = the destination's egress stops, kernel on
  ``tt.reversed()``): ``arr_s`` = arrival at the destination door (the run time), ``dep_s`` = departure
  of the first vehicle from the stop (be at the stop, ready to board, by then), ``walk_m`` = transfer +
  egress walking.

Only ride labels (k >= 1) are recorded: journeys have at least one ride, walking-only is the street
layer's business, as in the planner.

Runs (:func:`run_times`): every time a vehicle leaves a source stop (forward: ``dep - access_s``;
reverse: ``arr + egress_s``) inside the requested range; headway-based patterns add one run per minute of
their window (their boarding rule is continuous).  Pruning: labels with ``time - run > max_duration_s``
(kernel time) or ``time > time_cap`` are dropped; this never loses a journey of duration
``<= max_duration_s``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit

from mobility.errors import InputError
from mobility.network.timetable import Timetable
from mobility.routing.raptor import (INF, _alighting_s, _bag_evict, _change, _dom, _first_run, _first_trip,
                                     _patterns_to_scan)

__all__ = ["StopProfile", "run_times", "profile_from", "profile_to", "merge_profiles"]


@njit(cache=True, nogil=True)
def _range_kernel(pattern_stop_ptr, pattern_stops, can_board, can_alight, pattern_trip_ptr, trip_times_ptr,
                  trip_arr, trip_dep, is_freq, freq_start, freq_end, board_wait, alight_wait,
                  stop_pattern_ptr, stop_patterns, stop_pattern_pos,
                  fp_ptr, fp_to, fp_dur, fp_walk, trip_wch, stop_wch,
                  src_stop, src_off, src_walk, runs, max_rounds, slack, wheelchair, max_walk,
                  max_dur, t_cap, use_walk, cap):
    """``runs``: kernel departure times, descending.  Returns the created ride labels as
    (stop, run index, time, walk_m, round) arrays and the number of route scans."""
    n_stops = stop_pattern_ptr.shape[0] - 1
    n_pat = pattern_stop_ptr.shape[0] - 1
    K1 = max_rounds + 1
    L_n = np.zeros((K1, n_stops), np.int32)
    L_t = np.full((K1, n_stops, cap), INF, np.int64)
    L_w = np.zeros((K1, n_stops, cap), np.float64)
    R_n = np.zeros((K1, n_stops), np.int32)
    R_t = np.full((K1, n_stops, cap), INF, np.int64)
    R_w = np.zeros((K1, n_stops, cap), np.float64)

    out_cap = 1024
    o_stop = np.empty(out_cap, np.int32)
    o_run = np.empty(out_cap, np.int32)
    o_t = np.empty(out_cap, np.int64)
    o_w = np.empty(out_cap, np.float64)
    o_k = np.empty(out_cap, np.int8)
    n_out = 0

    r_marked = np.zeros(n_stops, np.uint8)
    r_list = np.empty(n_stops, np.int64)
    l_marked = np.zeros(n_stops, np.uint8)
    l_list = np.empty(n_stops, np.int64)
    first_pos = np.full(n_pat, -1, np.int64)
    q_pat = np.empty(n_pat, np.int64)
    rb_t = np.full((1, 1, cap), INF, np.int64)  # the route bag, 1 x 1 x cap as _bag_evict addresses bags
    rb_w = np.zeros((1, 1, cap), np.float64)
    scans = 0

    # The label steps are closures reading the bags as free variables: passed to a compiled function, each bag
    # array costs two atomic reference count updates per call, which made a search about 15 % slower.
    def dominated_earlier(t, w, k, s, ride):
        """Dominance by a label of an earlier round at stop ``s`` (ride labels when ``ride``, else ready)."""
        for kk in range(1 if ride else 0, k):  # round 0 has no ride labels
            for i in range(L_n[kk, s] if ride else R_n[kk, s]):
                bt = L_t[kk, s, i] if ride else R_t[kk, s, i]
                if bt < INF and _dom(bt, L_w[kk, s, i] if ride else R_w[kk, s, i], t, w, use_walk):
                    return True
        return False

    def put(t, w, k, s, ride):
        """Insert (t, w) into the bag of stop ``s``, round ``k`` (ride labels when ``ride``, else ready labels) by the
        planner kernel's rule (see ``_raptor_kernel``'s ``insert``): whether it was kept."""
        n = L_n[k, s] if ride else R_n[k, s]
        slot = -1
        for i in range(n):  # one pass, as ``insert`` (why there)
            bt = L_t[k, s, i] if ride else R_t[k, s, i]
            if bt < INF:
                bw = L_w[k, s, i] if ride else R_w[k, s, i]
                if _dom(bt, bw, t, w, use_walk):
                    return False
                if _dom(t, w, bt, bw, use_walk):
                    bt = INF
                    if ride:
                        L_t[k, s, i] = INF
                    else:
                        R_t[k, s, i] = INF
            if bt >= INF and slot < 0:
                slot = i
        if slot < 0 and n < cap:
            slot = n
            if ride:
                L_n[k, s] = n + 1
            else:
                R_n[k, s] = n + 1
        if slot < 0:
            slot = _bag_evict(L_t, L_w, k, s, t, w, cap) if ride else _bag_evict(R_t, R_w, k, s, t, w, cap)
        if slot < 0:
            return False
        if ride:
            L_t[k, s, slot] = t
            L_w[k, s, slot] = w
        else:
            R_t[k, s, slot] = t
            R_w[k, s, slot] = w
        return True

    def ride_slot(t, w, n):
        """The same rule on the route bag ``rb_*`` of ``n`` slots: (slot or -1, new count)."""
        free = -1
        for i in range(n):
            bt = rb_t[0, 0, i]
            if bt < INF:
                if _dom(bt, rb_w[0, 0, i], t, w, use_walk):
                    return -1, n
                if _dom(t, w, bt, rb_w[0, 0, i], use_walk):
                    rb_t[0, 0, i] = INF
                    bt = INF
            if bt >= INF and free < 0:
                free = i
        if free >= 0:
            return free, n
        if n < cap:
            return n, n + 1
        return _bag_evict(rb_t, rb_w, 0, 0, t, w, cap), n

    for ri in range(runs.shape[0]):
        tau = runs[ri]
        bound = min(tau + max_dur, t_cap)
        r_cnt = 0
        for i in range(src_stop.shape[0]):
            s = src_stop[i]
            t = tau + src_off[i]
            w = src_walk[i]
            if w > max_walk or t > bound:
                continue
            if not put(t, w, 0, s, False):
                continue
            if r_marked[s] == 0:
                r_marked[s] = 1
                r_list[r_cnt] = s
                r_cnt += 1
        for k in range(1, K1):
            if r_cnt == 0:
                break
            q_cnt = _patterns_to_scan(r_list, r_cnt, r_marked, stop_pattern_ptr, stop_patterns, stop_pattern_pos,
                                      can_board, pattern_stop_ptr, first_pos, q_pat)
            r_cnt = 0
            l_cnt = 0
            for qi in range(q_cnt):
                p = q_pat[qi]
                scans += 1
                p0 = pattern_stop_ptr[p]
                n = pattern_stop_ptr[p + 1] - p0
                T = pattern_trip_ptr[p + 1] - pattern_trip_ptr[p]
                tp0 = pattern_trip_ptr[p]
                tb = trip_times_ptr[p]
                freq = is_freq[p] == 1
                rb_n = 0
                for pos in range(first_pos[p], n):
                    s = pattern_stops[p0 + pos]
                    if wheelchair and stop_wch[s] != 1:
                        continue
                    if rb_n > 0 and can_alight[p0 + pos] == 1:
                        for b in range(rb_n):
                            if rb_t[0, 0, b] >= INF:
                                continue
                            t = _alighting_s(rb_t[0, 0, b], p, pos, n, tb, freq, trip_arr, alight_wait)
                            w = rb_w[0, 0, b]
                            if t > bound or w > max_walk:
                                continue
                            if dominated_earlier(t, w, k, s, True) or not put(t, w, k, s, True):
                                continue
                            if n_out == out_cap:
                                out_cap *= 2
                                a1 = np.empty(out_cap, np.int32)
                                a1[:n_out] = o_stop
                                o_stop = a1
                                a2 = np.empty(out_cap, np.int32)
                                a2[:n_out] = o_run
                                o_run = a2
                                a3 = np.empty(out_cap, np.int64)
                                a3[:n_out] = o_t
                                o_t = a3
                                a4 = np.empty(out_cap, np.float64)
                                a4[:n_out] = o_w
                                o_w = a4
                                a5 = np.empty(out_cap, np.int8)
                                a5[:n_out] = o_k
                                o_k = a5
                            o_stop[n_out] = s
                            o_run[n_out] = ri
                            o_t[n_out] = t
                            o_w[n_out] = w
                            o_k[n_out] = k
                            n_out += 1
                            if l_marked[s] == 0:
                                l_marked[s] = 1
                                l_list[l_cnt] = s
                                l_cnt += 1
                    if can_board[p0 + pos] == 1 and R_n[k - 1, s] > 0:
                        if freq and wheelchair and trip_wch[tp0] != 1:
                            continue
                        for r in range(R_n[k - 1, s]):
                            t = R_t[k - 1, s, r]
                            if t >= INF:
                                continue
                            if freq:
                                run = _first_run(freq_start, board_wait, trip_dep, p, tb, pos, t)
                                if run >= freq_end[p]:
                                    continue
                                tv = run
                            else:
                                lo = _first_trip(trip_dep, tb, n, pos, T, t, wheelchair, trip_wch, tp0)
                                if lo >= T:
                                    continue
                                tv = lo
                            w = R_w[k - 1, s, r]
                            slot, rb_n = ride_slot(tv, w, rb_n)
                            if slot < 0:
                                continue
                            rb_t[0, 0, slot] = tv
                            rb_w[0, 0, slot] = w
                first_pos[p] = -1
                for b in range(rb_n):
                    rb_t[0, 0, b] = INF
            if k == K1 - 1:  # the ready labels of the last round would board no vehicle
                for li in range(l_cnt):
                    l_marked[l_list[li]] = 0
                break
            # transfers: new ride labels of round k -> ready labels of round k
            for li in range(l_cnt):
                q = l_list[li]
                l_marked[q] = 0
                for b in range(L_n[k, q]):
                    t0 = L_t[k, q, b]
                    if t0 >= INF:
                        continue
                    w0 = L_w[k, q, b]
                    for f in range(fp_ptr[q] - 1, fp_ptr[q + 1]):
                        s, t, w, _ = _change(f, q, t0, w0, fp_ptr, fp_to, fp_dur, fp_walk, slack)
                        if t > bound or w > max_walk:
                            continue
                        if dominated_earlier(t, w, k, s, False) or not put(t, w, k, s, False):
                            continue
                        if r_marked[s] == 0:
                            r_marked[s] = 1
                            r_list[r_cnt] = s
                            r_cnt += 1
        # marks left by an interrupted last round
        for i in range(r_cnt):
            r_marked[r_list[i]] = 0
    return o_stop[:n_out], o_run[:n_out], o_t[:n_out], o_w[:n_out], o_k[:n_out], scans


@njit(cache=True)
def _events(pattern_stop_ptr, pattern_trip_ptr, trip_times_ptr, trip_dep, can_board, is_freq, freq_start,
            freq_end, stop_pattern_ptr, stop_patterns, stop_pattern_pos, src_stop, src_off, lo, hi, freq_step):
    """Kernel run times: vehicle departures at the source stops minus the source offset, in [lo, hi]."""
    out = np.empty(1024, np.int64)
    n_out = 0
    for i in range(src_stop.shape[0]):
        s = src_stop[i]
        for e in range(stop_pattern_ptr[s], stop_pattern_ptr[s + 1]):
            p = stop_patterns[e]
            pos = stop_pattern_pos[e]
            p0 = pattern_stop_ptr[p]
            if can_board[p0 + pos] == 0:
                continue
            n = pattern_stop_ptr[p + 1] - p0
            tb = trip_times_ptr[p]
            if is_freq[p] == 1:
                a = max(lo, freq_start[p] - src_off[i])
                b = min(hi, freq_end[p] + trip_dep[tb + pos] - src_off[i])
                cnt = 0
                t = a
                while t <= b:
                    cnt += 1
                    t += freq_step
                vals = np.empty(cnt, np.int64)
                t = a
                for j in range(cnt):
                    vals[j] = t
                    t += freq_step
            else:
                T = pattern_trip_ptr[p + 1] - pattern_trip_ptr[p]
                vals = np.empty(T, np.int64)
                cnt = 0
                for j in range(T):
                    r = trip_dep[tb + j * n + pos] - src_off[i]
                    if lo <= r <= hi:
                        vals[cnt] = r
                        cnt += 1
            for j in range(cnt):
                if n_out == out.shape[0]:
                    bigger = np.empty(2 * n_out, np.int64)
                    bigger[:n_out] = out
                    out = bigger
                out[n_out] = vals[j]
                n_out += 1
    return out[:n_out]


def run_times(tt: Timetable, src_stop: np.ndarray, src_off_s: np.ndarray, lo_s: int, hi_s: int,
              freq_step_s: int = 60) -> np.ndarray:
    """Distinct kernel-time runs in ``[lo_s, hi_s]`` for these sources, latest first (see module doc)."""
    ev = _events(tt.pattern_stop_ptr, tt.pattern_trip_ptr, tt.trip_times_ptr, tt.trip_dep, tt.pattern_can_board,
                 tt.pattern_is_freq, tt.pattern_freq_start, tt.pattern_freq_end, tt.stop_pattern_ptr,
                 tt.stop_patterns, tt.stop_pattern_pos, np.asarray(src_stop, np.int64),
                 np.asarray(src_off_s, np.int64), int(lo_s), int(hi_s), int(freq_step_s))
    return np.unique(ev)[::-1].copy()


@dataclass
class StopProfile:
    """Profile entries per stop (CSR by stop index of the forward timetable), forward time.

    ``dep_s[ptr[s]:ptr[s+1]]``, ``arr_s``, ``walk_m``, ``rounds``: see the module docstring for what
    dep/arr mean in each direction.  ``n_runs`` runs were made, ``n_scans`` route scans."""

    direction: str  # "from" (forward) or "to" (reverse)
    ptr: np.ndarray
    dep_s: np.ndarray
    arr_s: np.ndarray
    walk_m: np.ndarray
    rounds: np.ndarray
    n_runs: int
    n_scans: int

    @property
    def n_entries(self) -> int:
        return int(self.ptr[-1])

    def entries(self, stop: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        a, b = int(self.ptr[stop]), int(self.ptr[stop + 1])
        return self.dep_s[a:b], self.arr_s[a:b], self.walk_m[a:b]


def _pack(direction: str, n_stops: int, stop, dep, arr, walk, rounds, n_runs, scans) -> StopProfile:
    order = np.lexsort((arr, dep, stop))
    ptr = np.zeros(n_stops + 1, np.int64)
    np.cumsum(np.bincount(stop, minlength=n_stops), out=ptr[1:])
    return StopProfile(direction, ptr, dep[order], arr[order], walk[order], rounds[order], int(n_runs), int(scans))


def _check(max_rounds: int, pareto: bool, cap: int) -> int:
    if max_rounds < 1:
        raise InputError("max_rounds must be >= 1")
    if pareto and cap < 2:
        raise InputError("bag_capacity must be >= 2")
    return cap if pareto else 1


def profile_from(tt: Timetable, sources, depart_from_s: int, depart_to_s: int, max_rounds: int = 4, *,
                 min_transfer_s: int | None = None, max_walk_m: float = math.inf, max_duration_s: int = 4 * 3600,
                 wheelchair: bool = False, pareto: bool = True, bag_capacity: int = 8,
                 extra_runs_s=None) -> StopProfile:
    """Forward profile: departures from an origin door in ``[depart_from_s, depart_to_s]``.

    ``sources = (stop_index, access_s, access_walk_m)`` (forward timetable indices).  Entries: ``dep_s``
    = departure from the door, ``arr_s`` = arrival at the stop, ``walk_m`` = walking so far.
    ``extra_runs_s``: more door departures to run (e.g. the opening of an on-demand window)."""
    tt = tt.forward()
    cap = _check(max_rounds, pareto, bag_capacity)
    stops = np.asarray(sources[0], np.int64)
    off = np.asarray(sources[1], np.int64)
    walk = np.asarray(sources[2], np.float64)
    runs = run_times(tt, stops, off, depart_from_s, depart_to_s)
    if extra_runs_s is not None and len(extra_runs_s):
        runs = np.unique(np.concatenate([runs, np.asarray(extra_runs_s, np.int64)]))[::-1].copy()
    slack = tt.min_transfer_s if min_transfer_s is None else int(min_transfer_s)
    st, ri, t, w, k, scans = _range_kernel(*tt.kernel_arrays(), stops, off, walk, runs, int(max_rounds), slack,
                                           bool(wheelchair), float(max_walk_m), int(max_duration_s), INF,
                                           bool(pareto), int(cap))
    dep = runs[ri] if len(ri) else np.zeros(0, np.int64)
    return _pack("from", tt.n_stops, st, dep, t, w, k, len(runs), scans)


def profile_to(tt: Timetable, targets, arrive_from_s: int, arrive_to_s: int, max_rounds: int = 4, *,
               min_transfer_s: int | None = None, max_walk_m: float = math.inf, max_duration_s: int = 4 * 3600,
               earliest_departure_s: int | None = None, wheelchair: bool = False, pareto: bool = True,
               bag_capacity: int = 8, extra_runs_s=None) -> StopProfile:
    """Reverse profile: arrivals at a destination door in ``[arrive_from_s, arrive_to_s]``.

    ``targets = (stop_index, egress_s, egress_walk_m)``.  Runs on ``tt.reversed()``.  Entries:
    ``arr_s`` = arrival at the door, ``dep_s`` = departure of the first vehicle at the stop.  Labels
    leaving before ``earliest_departure_s`` are pruned.  ``extra_runs_s``: more door arrivals to run."""
    fwd = tt.forward()
    rt = fwd.reversed()
    cap = _check(max_rounds, pareto, bag_capacity)
    stops = np.asarray(targets[0], np.int64)
    off = np.asarray(targets[1], np.int64)
    walk = np.asarray(targets[2], np.float64)
    # kernel time = -forward time; a run tau = -A puts the rider at egress stop e by A - egress_s
    runs = run_times(rt, stops, off, -int(arrive_to_s), -int(arrive_from_s))
    if extra_runs_s is not None and len(extra_runs_s):
        runs = np.unique(np.concatenate([runs, -np.asarray(extra_runs_s, np.int64)]))[::-1].copy()
    slack = fwd.min_transfer_s if min_transfer_s is None else int(min_transfer_s)
    t_cap = INF if earliest_departure_s is None else -int(earliest_departure_s)
    st, ri, t, w, k, scans = _range_kernel(*rt.kernel_arrays(), stops, off, walk, runs, int(max_rounds), slack,
                                           bool(wheelchair), float(max_walk_m), int(max_duration_s), t_cap,
                                           bool(pareto), int(cap))
    arr = -runs[ri] if len(ri) else np.zeros(0, np.int64)
    return _pack("to", fwd.n_stops, st, -t, arr, w, k, len(runs), scans)


def merge_profiles(profiles) -> StopProfile:
    """The union of several profiles of the same direction and timetable (entries of all of them)."""
    profiles = [p for p in profiles if p is not None]
    if len(profiles) == 1:
        return profiles[0]
    n = len(profiles[0].ptr) - 1
    stop = np.concatenate([np.repeat(np.arange(n, dtype=np.int64), np.diff(p.ptr)) for p in profiles])
    cat = lambda name: np.concatenate([getattr(p, name) for p in profiles])  # noqa: E731
    return _pack(profiles[0].direction, n, stop, cat("dep_s"), cat("arr_s"), cat("walk_m"), cat("rounds"),
                 sum(p.n_runs for p in profiles), sum(p.n_scans for p in profiles))
