"""RAPTOR / McRAPTOR rounds on :class:`mobility.network.timetable.Timetable` arrays (numba).

Model: Delling, Pajor & Werneck, "Round-Based Public Transit Routing" (2012) -- RAPTOR rounds, McRAPTOR
bags -- with the array layout of OpenTripPlanner's raptor module / Conveyal R5.

Rounds and labels
    Round k = k vehicles boarded (k - 1 transfers).  Two kinds of labels, each kept in a *bag* per
    (round, stop):

    * ride labels ``L[k, stop]``: arrival at ``stop`` by alighting the k-th vehicle (time, walk_m);
    * ready labels ``R[k, stop]``: the rider can board the (k+1)-th vehicle at ``stop`` from this time
      (round 0: the access ``sources``; k >= 1: a ride label + an optional footpath + ``min_transfer_s``).
      The last round (k = ``max_rounds``) has none: no vehicle would be boarded from them.

    A bag holds the labels of *exactly* k vehicles that are not dominated -- over (time, walk_m), or over
    time only when ``pareto=False`` -- by a label of the same or an earlier round at that stop, so the
    union over rounds is the Pareto set over (time, vehicles, walk).  Footpaths are applied only between
    two rides (at most one footpath per change, as in RAPTOR; the street layer gives door-to-stop access
    and egress itself), the change slack ``min_transfer_s`` is added on every change (same stop or via a
    footpath) and never to access/egress.  Journeys have at least one ride: the walk-only option is the
    street layer's business.

Bag capacity
    With ``pareto=True`` bags hold at most ``bag_capacity`` labels (default 8, >= 2).  When a bag
    overflows, the label closest in time to its predecessor is evicted, never the earliest label nor the
    least-walking one, so the earliest arrival (per round, per stop, at the destination) stays *exact*;
    only intermediate trade-offs of a crowded bag may be lost.  ``pareto=False`` is plain RAPTOR (one
    label per bag, walk only as tie-break) and faster.

Target pruning
    With ``egress`` (earliest_arrival) / ``access`` (latest_departure) given, labels that cannot lead to
    a destination journey better than one already found are pruned (destination bag of up to 256
    labels).  The destination results stay exact, but per-stop times (``times_s``) then only cover
    stops that could still improve the destination, and the last round keeps ride labels only at the
    candidates' stops (it scans each pattern up to its last such stop): the others could only lead to
    a further ride.  Pass the same candidates to ``pareto_journeys``; to read the labels of another
    stop, add it as a candidate with a walk over ``max_walk_m`` (never a destination label).

Arrive-by
    ``latest_departure`` runs the same kernel on ``tt.reversed()`` (time negated): exact mirror of the
    depart-after search, including the headway rule (see timetable docstring).  Results and journeys
    are translated back to forward time.

Compilation: the kernel is ``@njit(cache=True, nogil=True)``; the first call in a fresh environment compiles it
(several seconds), later processes load it from ``__pycache__``. It runs without the GIL, so the threads of one
server process search on every core: each search takes label arrays of its own (:func:`_take_labels`) and only
reads the timetable's.
"""

from __future__ import annotations

import collections
import dataclasses
import math
import sys
import weakref
from dataclasses import dataclass

import numpy as np
from numba import njit

from mobility.errors import InputError
from mobility.network.timetable import Timetable

__all__ = ["INF", "Leg", "Journey", "RaptorResult", "earliest_arrival", "latest_departure", "pareto_journeys"]

#: "unreached" time value (forward); arrive-by results use ``-INF``
INF = np.int64(1) << np.int64(62)
_TARGET_CAP = 256


# ------------------------------------------------------------------------------------------------ kernel

@njit(cache=True, inline="always")
def _dom(a_t, a_w, b_t, b_w, use_walk):
    return a_t <= b_t and ((not use_walk) or a_w <= b_w)


@njit(cache=True)
def _bag_evict(bt, bw, a, b, t, w, cap):
    """A full bag ``bt[a, b, :]`` (no label dominated by or dominating (t, w)): the slot freed for (t, w), the
    label closest in time to its predecessor among the cap labels and the new one (never the first nor the
    last of the time-sorted staircase); -1 when that is the new label itself."""
    m = cap + 1
    ts = np.empty(m, np.int64)
    ws = np.empty(m, np.float64)
    ids = np.empty(m, np.int64)
    for i in range(cap):
        ts[i] = bt[a, b, i]
        ws[i] = bw[a, b, i]
        ids[i] = i
    ts[cap] = t
    ws[cap] = w
    ids[cap] = -1
    # sort by (time, walk) -- insertion sort, m is small
    for i in range(1, m):
        j = i
        while j > 0 and (ts[j - 1] > ts[j] or (ts[j - 1] == ts[j] and ws[j - 1] > ws[j])):
            ts[j - 1], ts[j] = ts[j], ts[j - 1]
            ws[j - 1], ws[j] = ws[j], ws[j - 1]
            ids[j - 1], ids[j] = ids[j], ids[j - 1]
            j -= 1
    best = 1
    gap = ts[1] - ts[0]
    for i in range(2, m - 1):
        g = ts[i] - ts[i - 1]
        if g < gap:
            gap = g
            best = i
    victim = ids[best]
    if victim >= 0:
        bt[a, b, victim] = INF
    return victim


@njit(cache=True, inline="always")
def _patterns_to_scan(r_list, r_cnt, r_marked, stop_pattern_ptr, stop_patterns, stop_pattern_pos, can_board,
                      pattern_stop_ptr, first_pos, q_pat):
    """The patterns through the marked stops, each from its first boardable marked position (``first_pos``);
    clears the marks. Returns how many patterns were put in ``q_pat``."""
    q_cnt = 0
    for ri in range(r_cnt):
        s = r_list[ri]
        r_marked[s] = 0
        for e in range(stop_pattern_ptr[s], stop_pattern_ptr[s + 1]):
            p = stop_patterns[e]
            pos = stop_pattern_pos[e]
            if can_board[pattern_stop_ptr[p] + pos] == 0:
                continue
            if first_pos[p] < 0:
                q_pat[q_cnt] = p
                q_cnt += 1
                first_pos[p] = pos
            elif pos < first_pos[p]:
                first_pos[p] = pos
    return q_cnt


@njit(cache=True, inline="always")
def _first_run(freq_start, board_wait, trip_dep, p, tb, pos, t):
    """Start of the run of headway-based pattern ``p`` that a rider ready at ``t`` boards at ``pos`` (the
    expected wait included, see the timetable docstring); ``freq_end[p]`` or later when none is left."""
    return max(freq_start[p], t + board_wait[p] - trip_dep[tb + pos])


@njit(cache=True, inline="always")
def _first_trip(trip_dep, tb, n, pos, T, t, wheelchair, trip_wch, tp0):
    """Offset in its pattern of the first trip leaving position ``pos`` at or after ``t`` (step-free trips
    only for a wheelchair request): the boarding rule of RAPTOR, shared by the single and range kernels;
    ``T`` when there is none."""
    lo = 0
    hi = T
    while lo < hi:
        mid = (lo + hi) >> 1
        if trip_dep[tb + mid * n + pos] < t:
            lo = mid + 1
        else:
            hi = mid
    if wheelchair:
        while lo < T and trip_wch[tp0 + lo] != 1:
            lo += 1
    return lo


@njit(cache=True, inline="always")
def _alighting_s(tv, p, pos, n, tb, freq, trip_arr, alight_wait):
    """Arrival at position ``pos`` of the vehicle boarded as ``tv`` (a trip's offset in its pattern, or the
    start of a run of a headway-based pattern)."""
    if freq:
        return tv + trip_arr[tb + pos] + alight_wait[p]
    return trip_arr[tb + tv * n + pos]


@njit(cache=True, inline="always")
def _change(f, q, t0, w0, fp_ptr, fp_to, fp_dur, fp_walk, slack):
    """Change ``f`` after alighting at stop ``q`` at ``t0`` having walked ``w0``: ``f = fp_ptr[q] - 1`` is
    staying at ``q``, else footpath ``f``. Returns (stop, ready time, walk, footpath or -1)."""
    if f < fp_ptr[q]:
        return q, t0 + slack, w0, -1
    return fp_to[f], t0 + fp_dur[f] + slack, w0 + fp_walk[f], f


@njit(cache=True, nogil=True)
def _raptor_kernel(pattern_stop_ptr, pattern_stops, can_board, can_alight, pattern_trip_ptr, trip_times_ptr,
                   trip_arr, trip_dep, is_freq, freq_start, freq_end, board_wait, alight_wait,
                   stop_pattern_ptr, stop_patterns, stop_pattern_pos,
                   fp_ptr, fp_to, fp_dur, fp_walk, trip_wch, stop_wch,
                   src_stop, src_time, src_walk, eg_stop, eg_s, eg_walk,
                   max_rounds, slack, wheelchair, max_walk, use_walk, cap, labels, touched, n_touched,
                   fp_order, fp_low_walk, arr_rises):
    n_stops = stop_pattern_ptr.shape[0] - 1
    n_pat = pattern_stop_ptr.shape[0] - 1
    K1 = max_rounds + 1
    # ride labels L_*, ready labels R_* ([stop, k, slot], see _Labels); the stops of the previous search that
    # used these arrays are emptied first, so a search only touches what it reaches
    (L_n, L_t, L_w, L_how, R_n, R_t, R_w, R_how, mark) = labels
    for j in range(n_touched[0]):
        s = touched[j]
        mark[s] = 0
        for k in range(K1):  # slots at or past a bag's count were never written
            for i in range(L_n[s, k]):
                L_t[s, k, i] = INF
            for i in range(R_n[s, k]):
                R_t[s, k, i] = INF
            L_n[s, k] = 0
            R_n[s, k] = 0
    n_touched[0] = 0

    # egress candidates per stop (for destination pruning)
    n_eg = eg_stop.shape[0]
    eg_ptr = np.zeros(n_stops + 1, np.int64)
    for e in range(n_eg):
        eg_ptr[eg_stop[e] + 1] += 1
    for s in range(n_stops):
        eg_ptr[s + 1] += eg_ptr[s]
    eg_idx = np.empty(n_eg, np.int64)
    fill = eg_ptr[:-1].copy()
    for e in range(n_eg):
        eg_idx[fill[eg_stop[e]]] = e
        fill[eg_stop[e]] += 1
    eg_min_s = INF
    eg_min_w = np.inf
    for e in range(n_eg):
        eg_min_s = min(eg_min_s, eg_s[e])
        eg_min_w = min(eg_min_w, eg_walk[e])
    if n_eg == 0:
        eg_min_s = 0
        eg_min_w = 0.0
    tg_t = np.full(_TARGET_CAP, INF, np.int64)
    tg_w = np.zeros(_TARGET_CAP, np.float64)
    tg_n = 0
    st_t = np.empty(_TARGET_CAP, np.int64)  # the times of the live destination labels, ascending (beyond's staircase)
    st_mw = np.empty(_TARGET_CAP, np.float64)  # the least walk of the labels st_t[:i + 1]
    st_n = 0

    # The steps below run for every label (hundreds of thousands per search on a city feed). They are closures
    # reading the label arrays as free variables: numba inlines them without the atomic reference counting it
    # does for each array passed to a function (two updates per array and call), which cost more than the
    # search itself: a bag is never passed to a compiled function on a label's path.
    def beyond(t, w, st_n):
        """Whether every label of time >= ``t`` and walk >= ``w``, at any stop, is pruned: over the walk limit,
        or dominated at the destination (monotone in both: the footpath loop stops at the first such). Read from
        the destination labels' staircase ``st_*`` (:func:`staircase`): one scan up to the first later label."""
        if w > max_walk or w + eg_min_w > max_walk:
            return True
        reach_t = t + eg_min_s
        i = 0
        while i < st_n and st_t[i] <= reach_t:
            i += 1
        return i > 0 and ((not use_walk) or st_mw[i - 1] <= w + eg_min_w)

    def staircase(tg_n):
        """Rebuild ``st_*`` from the destination labels ``tg_*[:tg_n]`` (a few hundred times per search, against
        some 150k pruning checks on a city feed): their count."""
        n = 0
        for i in range(tg_n):
            if tg_t[i] < INF:
                m = n
                while m > 0 and st_t[m - 1] > tg_t[i]:
                    st_t[m] = st_t[m - 1]
                    st_mw[m] = st_mw[m - 1]
                    m -= 1
                st_t[m] = tg_t[i]
                st_mw[m] = tg_w[i]
                n += 1
        for i in range(1, n):
            st_mw[i] = min(st_mw[i], st_mw[i - 1])
        return n

    def dominated_before(t, w, s, k, ride):
        """Dominance by a label of an earlier round at stop ``s``."""
        for kk in range(1 if ride else 0, k):  # round 0 has no ride labels
            for i in range(L_n[s, kk] if ride else R_n[s, kk]):
                bt = L_t[s, kk, i] if ride else R_t[s, kk, i]
                if bt < INF and _dom(bt, L_w[s, kk, i] if ride else R_w[s, kk, i], t, w, use_walk):
                    return True
        return False

    def pruned(t, w, s, k, ride, st_n):
        """Walk limit, destination pruning and dominance by a label of an earlier round at stop ``s`` (its
        ride labels when ``ride``, else its ready labels)."""
        return beyond(t, w, st_n) or dominated_before(t, w, s, k, ride)

    def touch(s):
        """Remember that stop ``s`` holds labels (emptied by the next search on these arrays)."""
        if mark[s] == 0:
            mark[s] = 1
            touched[n_touched[0]] = s
            n_touched[0] += 1

    def insert(t, w, s, k, ride):
        """Insert (t, w) into the bag of stop ``s``, round ``k`` (ride labels when ``ride``, else ready labels):
        the slot for (t, w), the bag's count (a high-water mark; INF times are empty slots) updated; -1 when
        rejected. Dominated labels are tombstoned; on overflow the label closest in time to its predecessor is
        evicted (:func:`_bag_evict`)."""
        n = L_n[s, k] if ride else R_n[s, k]
        free = -1
        # one pass: the labels of a bag do not dominate one another, so none that (t, w) dominates comes before
        # one that dominates (t, w)
        for i in range(n):
            bt = L_t[s, k, i] if ride else R_t[s, k, i]
            if bt < INF:
                bw = L_w[s, k, i] if ride else R_w[s, k, i]
                if _dom(bt, bw, t, w, use_walk):
                    return -1
                if _dom(t, w, bt, bw, use_walk):
                    bt = INF
                    if ride:
                        L_t[s, k, i] = INF
                    else:
                        R_t[s, k, i] = INF
            if bt >= INF and free < 0:
                free = i
        if free >= 0:
            return free
        if n < cap:
            if ride:
                L_n[s, k] = n + 1
            else:
                R_n[s, k] = n + 1
            touch(s)
            return n
        return _bag_evict(L_t, L_w, s, k, t, w, cap) if ride else _bag_evict(R_t, R_w, s, k, t, w, cap)

    r_marked = np.zeros(n_stops, np.uint8)
    r_list = np.empty(n_stops, np.int64)
    r_cnt = 0
    l_marked = np.zeros(n_stops, np.uint8)
    l_list = np.empty(n_stops, np.int64)
    first_fp = np.empty(n_stops, np.int64)  # the change that first put a stop in r_list (-1: staying)

    # round 0: access
    for i in range(src_stop.shape[0]):
        s = src_stop[i]
        t = src_time[i]
        w = src_walk[i]
        if w > max_walk:
            continue
        slot = insert(t, w, s, 0, False)
        if slot < 0:
            continue
        R_t[s, 0, slot] = t
        R_w[s, 0, slot] = w
        R_how[s, 0, slot, 0] = i
        R_how[s, 0, slot, 1] = -1
        R_how[s, 0, slot, 2] = -1
        if r_marked[s] == 0:
            r_marked[s] = 1
            r_list[r_cnt] = s
            r_cnt += 1

    first_pos = np.full(n_pat, -1, np.int64)
    q_pat = np.empty(n_pat, np.int64)
    # the bag of the vehicles being ridden along a pattern (1 x 1 x cap, as _bag_evict addresses bags)
    rb_t = np.full((1, 1, cap), INF, np.int64)
    rb_w = np.zeros((1, 1, cap), np.float64)
    rb_bpos = np.zeros(cap, np.int32)
    rb_par = np.zeros(cap, np.int32)
    rb_beyond = np.zeros(cap, np.uint8)  # already pruned at every later stop (see arr_rises)

    def ride_slot(t, w, n):
        """``insert``'s rule on the route bag ``rb_*`` of ``n`` slots: (slot or -1, new count)."""
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

    rounds_done = 0

    for k in range(1, K1):
        if r_cnt == 0:
            break
        rounds_done = k
        # with egress candidates, the last round's ride labels are only kept where they reach the destination
        at_egress_only = k == K1 - 1 and n_eg > 0
        # collect patterns through stops with new ready labels
        q_cnt = _patterns_to_scan(r_list, r_cnt, r_marked, stop_pattern_ptr, stop_patterns, stop_pattern_pos,
                                  can_board, pattern_stop_ptr, first_pos, q_pat)
        r_cnt = 0
        l_cnt = 0
        # route scans
        for qi in range(q_cnt):
            p = q_pat[qi]
            p0 = pattern_stop_ptr[p]
            n = pattern_stop_ptr[p + 1] - p0
            T = pattern_trip_ptr[p + 1] - pattern_trip_ptr[p]
            tp0 = pattern_trip_ptr[p]
            tb = trip_times_ptr[p]
            freq = is_freq[p] == 1
            rises = arr_rises[p] == 1
            rb_n = 0
            end = n
            if at_egress_only:  # up to the pattern's last egress stop
                end = first_pos[p]
                for pos in range(n - 1, first_pos[p], -1):
                    s = pattern_stops[p0 + pos]
                    if eg_ptr[s + 1] > eg_ptr[s] and can_alight[p0 + pos] == 1:
                        end = pos + 1
                        break
            for pos in range(first_pos[p], end):
                s = pattern_stops[p0 + pos]
                stop_ok = (not wheelchair) or stop_wch[s] == 1
                if not stop_ok:
                    continue
                # alight
                if rb_n > 0 and can_alight[p0 + pos] == 1 and ((not at_egress_only) or eg_ptr[s + 1] > eg_ptr[s]):
                    for b in range(rb_n):
                        if rb_t[0, 0, b] >= INF or rb_beyond[b] == 1:
                            continue
                        t = _alighting_s(rb_t[0, 0, b], p, pos, n, tb, freq, trip_arr, alight_wait)
                        w = rb_w[0, 0, b]
                        if beyond(t, w, st_n):
                            # arrivals only rise along the pattern and the destination bag only improves: this
                            # vehicle's alightings at the later stops are pruned too
                            rb_beyond[b] = 1 if rises else 0
                            continue
                        if dominated_before(t, w, s, k, True):
                            continue
                        slot = insert(t, w, s, k, True)
                        if slot < 0:
                            continue
                        L_t[s, k, slot] = t
                        L_w[s, k, slot] = w
                        L_how[s, k, slot, 0] = p
                        L_how[s, k, slot, 1] = tp0 + (0 if freq else rb_t[0, 0, b])
                        L_how[s, k, slot, 2] = rb_t[0, 0, b] if freq else -1
                        L_how[s, k, slot, 3] = rb_bpos[b]
                        L_how[s, k, slot, 4] = pos
                        L_how[s, k, slot, 5] = rb_par[b]
                        if l_marked[s] == 0:
                            l_marked[s] = 1
                            l_list[l_cnt] = s
                            l_cnt += 1
                        # destination labels (for pruning)
                        for ei in range(eg_ptr[s], eg_ptr[s + 1]):
                            e = eg_idx[ei]
                            dt = t + eg_s[e]
                            dw = w + eg_walk[e]
                            if dw > max_walk:
                                continue
                            dominated = False
                            free = -1
                            for i in range(tg_n):
                                if tg_t[i] < INF and _dom(tg_t[i], tg_w[i], dt, dw, use_walk):
                                    dominated = True
                                    break
                            if dominated:
                                continue
                            for i in range(tg_n):
                                if tg_t[i] < INF and _dom(dt, dw, tg_t[i], tg_w[i], use_walk):
                                    tg_t[i] = INF
                                if tg_t[i] >= INF and free < 0:
                                    free = i
                            if free < 0 and tg_n < _TARGET_CAP:
                                free = tg_n
                                tg_n += 1
                            if free >= 0:
                                tg_t[free] = dt
                                tg_w[free] = dw
                                st_n = staircase(tg_n)
                # board
                if can_board[p0 + pos] == 1 and R_n[s, k - 1] > 0:
                    if freq and wheelchair and trip_wch[tp0] != 1:
                        continue
                    for r in range(R_n[s, k - 1]):
                        t = R_t[s, k - 1, r]
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
                        w = R_w[s, k - 1, r]
                        slot, rb_n = ride_slot(tv, w, rb_n)
                        if slot < 0:
                            continue
                        rb_t[0, 0, slot] = tv
                        rb_w[0, 0, slot] = w
                        rb_bpos[slot] = pos
                        rb_par[slot] = r
                        rb_beyond[slot] = 0
            first_pos[p] = -1
            for b in range(rb_n):
                rb_t[0, 0, b] = INF
        if k == K1 - 1:  # the ready labels of the last round would board no vehicle
            break
        # transfers: ride labels of round k -> ready labels of round k
        for li in range(l_cnt):
            q = l_list[li]
            l_marked[q] = 0
            for b in range(L_n[q, k]):
                t0 = L_t[q, k, b]
                if t0 >= INF:
                    continue
                w0 = L_w[q, k, b]
                seg = r_cnt
                # staying, then the footpaths by duration (fp_order) until all the rest can only be pruned
                for j in range(fp_ptr[q] - 1, fp_ptr[q + 1]):
                    f = j if j < fp_ptr[q] else fp_order[j]
                    s, t, w, ff = _change(f, q, t0, w0, fp_ptr, fp_to, fp_dur, fp_walk, slack)
                    if ff >= 0 and beyond(t, w0 + fp_low_walk[j], st_n):
                        break
                    if pruned(t, w, s, k, False, st_n):
                        continue
                    slot = insert(t, w, s, k, False)
                    if slot < 0:
                        continue
                    R_t[s, k, slot] = t
                    R_w[s, k, slot] = w
                    R_how[s, k, slot, 0] = q
                    R_how[s, k, slot, 1] = ff
                    R_how[s, k, slot, 2] = b
                    if r_marked[s] == 0:
                        r_marked[s] = 1
                        r_list[r_cnt] = s
                        first_fp[s] = ff
                        r_cnt += 1
                # the stops this label reached first, in storage order (as a scan in that order lists them):
                # the next round scans patterns in r_list order, which decides ties
                for i in range(seg + 1, r_cnt):
                    x = r_list[i]
                    m = i
                    while m > seg and first_fp[r_list[m - 1]] > first_fp[x]:
                        r_list[m] = r_list[m - 1]
                        m -= 1
                    r_list[m] = x
    return rounds_done


# ------------------------------------------------------------------------------------------- Python API

@dataclass(frozen=True)
class Leg:
    """One leg, in forward time.  ``kind``: 'access' | 'ride' | 'transfer' | 'egress'.

    access: door -> ``to_stop`` (``from_stop`` -1); egress: ``from_stop`` -> door (``to_stop`` -1);
    ``start_s == end_s`` when the caller gave no duration.  transfer: footpath between two rides (only
    present when the stops differ; a same-stop change has no leg), ``duration_s`` is the walk, the
    change slack is waiting time before the next ride.  ride: vehicle times at the board/alight stops;
    ``run_start_s`` is the expected run start for headway-based service (else -1).
    """

    kind: str
    from_stop: int
    to_stop: int
    start_s: int
    end_s: int
    walk_m: float = 0.0
    duration_s: int = 0
    pattern: int = -1
    trip: int = -1
    route: int = -1
    route_id: str = ""
    trip_id: str = ""
    board_pos: int = -1
    alight_pos: int = -1
    run_start_s: int = -1
    headway_based: bool = False
    board_booking: bool = False
    alight_booking: bool = False
    day_offset: int = 0


_LEG_FIELDS = tuple(f.name for f in dataclasses.fields(Leg))
_LEG_DEFAULTS = {f.name: f.default for f in dataclasses.fields(Leg) if f.default is not dataclasses.MISSING}


def _leg(*values) -> Leg:
    """``Leg(*values)`` without the frozen dataclass's one ``object.__setattr__`` per field (19 of them): the
    same object (fields, equality, hash), in less than half the time -- a journey is rebuilt leg by leg for
    every option of every request."""
    leg = object.__new__(Leg)
    fields = dict(_LEG_DEFAULTS)
    fields.update(zip(_LEG_FIELDS, values))
    leg.__dict__.update(fields)
    return leg


@dataclass(frozen=True)
class Journey:
    legs: tuple[Leg, ...]
    departure_s: int
    arrival_s: int
    n_rides: int
    walk_m: float

    @property
    def n_transfers(self) -> int:
        return self.n_rides - 1

    @property
    def rides(self) -> list[Leg]:
        return [leg for leg in self.legs if leg.kind == "ride"]


def _as_candidates(tt: Timetable, cands, name: str, min_cols: int = 2):
    """(stops int64, times int64, walk float64, duration int64 or None)."""
    if hasattr(cands, "columns"):  # DataFrame
        cols = list(cands.columns)
        stop_col = next((c for c in ("stop_index", "stop", "stop_id") if c in cols), cols[0])
        arrays = [cands[stop_col].to_numpy()] + [cands[c].to_numpy() for c in cols if c != stop_col][:3]
    else:
        arrays = [np.asarray(a) for a in cands]
    if len(arrays) < min_cols:
        raise InputError(f"{name}: expected arrays (stop, time, walk_m[, duration_s])")
    stops = arrays[0]
    if stops.dtype.kind in "OUS":
        try:
            stops = np.array([tt.stop_index[str(s)] for s in stops], np.int64)
        except KeyError as exc:
            raise InputError(f"{name}: unknown stop {exc.args[0]!r}") from None
    stops = stops.astype(np.int64)
    n = len(stops)
    if n and (stops.min() < 0 or stops.max() >= tt.n_stops):
        raise InputError(f"{name}: stop index out of range")
    times = arrays[1].astype(np.int64)
    walk = arrays[2].astype(np.float64) if len(arrays) > 2 else np.zeros(n)
    dur = arrays[3].astype(np.int64) if len(arrays) > 3 else None
    if not (len(times) == len(walk) == n) or (dur is not None and len(dur) != n):
        raise InputError(f"{name}: arrays of different lengths")
    return stops, times, walk, dur


class _Labels:
    """The label arrays of one search, in the kernel's layout ``[stop, k, slot]`` (a stop's rounds side by side:
    what one relaxation reads lies in a few adjacent cache lines), and the stops that search wrote.

    Allocating and filling them for every search cost a third of a city search (page faults on some
    20 MB), so they are recycled (:func:`_take_labels`): the next search empties only the stops listed in
    ``touched``. Order: L_n, L_t, L_w, L_how, R_n, R_t, R_w, R_how, then the per-stop mark of ``touched``;
    ``L_how[stop, k, slot]`` holds how a ride label was reached (pattern, trip, run start, boarding and alighting
    positions, parent ready label) and ``R_how`` that of a ready label (from stop, footpath, parent ride label),
    side by side: storing a label writes one cache line, not one per field.
    """

    def __init__(self, n_stops: int, n_rounds: int, cap: int) -> None:
        shape = (n_stops, n_rounds, cap)

        def n_t_w():  # counts, times (INF: no label), walks
            return np.zeros((n_stops, n_rounds), np.int32), np.full(shape, INF, np.int64), np.empty(shape, np.float64)

        rides = (*n_t_w(), np.empty(shape + (6,), np.int32))  # pat trip run bpos apos par
        ready = (*n_t_w(), np.empty(shape + (3,), np.int32))  # from fp par
        self.key = shape
        self.arrays = rides + ready + (np.zeros(n_stops, np.uint8),)
        del rides, ready  # the arrays' reference counts below are then those of arrays nothing else refers to
        self.touched = np.empty(n_stops, np.int64)
        self.n_touched = np.zeros(1, np.int64)
        self.refs = _refcounts(self)

    def views(self) -> tuple:
        """The 15 label arrays of :class:`RaptorResult` (``_LABEL_NAMES``) as ``[k, stop, slot]`` views (``[k, stop]``
        for the counts), the fields of ``L_how`` and ``R_how`` one by one."""
        l_n, l_t, l_w, l_how, r_n, r_t, r_w, r_how = self.arrays[:8]

        def by_round(a):
            return a.T if a.ndim == 2 else a.transpose(1, 0, 2)

        return (by_round(l_n), by_round(l_t), by_round(l_w), *(by_round(l_how[..., j]) for j in range(6)),
                by_round(r_n), by_round(r_t), by_round(r_w), *(by_round(r_how[..., j]) for j in range(3)))


def _refcounts(labels: _Labels) -> list[int]:
    return [sys.getrefcount(a) for a in labels.arrays]


#: label arrays free for the next search, per shape; a few per shape (one per thread at work is enough)
_FREE_LABELS: dict[tuple, collections.deque] = {}
_FREE_PER_SHAPE = 2


def _take_labels(n_stops: int, n_rounds: int, cap: int) -> _Labels:
    try:  # deque operations are atomic: no lock, which __del__ could not take safely
        return _FREE_LABELS[(n_stops, n_rounds, cap)].pop()
    except (KeyError, IndexError):
        return _Labels(n_stops, n_rounds, cap)


def _give_back(labels: _Labels) -> None:
    """Recycle ``labels`` unless something still refers to one of its arrays (a view kept from a result)."""
    if _refcounts(labels) == labels.refs:
        _FREE_LABELS.setdefault(labels.key, collections.deque(maxlen=_FREE_PER_SHAPE)).append(labels)


_SCAN_ARRAYS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _scan_arrays(tt: Timetable) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """What lets the kernel skip work that can only be pruned, cached per timetable:

    * ``fp_order``, ``fp_low_walk_m``: each stop's footpaths by (duration, walk, storage index), and the least
      walk of each footpath and those after it in that order. The kernel relaxes a stop's footpaths in this
      order and stops at the first whose time and least walk are already pruned;
    * ``arr_rises`` (uint8 per pattern): 1 when every trip's arrivals never decrease along the pattern, so that a
      vehicle pruned at one stop is pruned at every later one (0 on data where times go back)."""
    cached = _SCAN_ARRAYS.get(tt)
    if cached is None:
        ptr = tt.footpath_ptr.astype(np.int64)
        walk_m = tt.footpath_walk.astype(np.float64)
        fr = np.repeat(np.arange(tt.n_stops, dtype=np.int64), np.diff(ptr))
        fp_order = np.lexsort((np.arange(len(fr)), walk_m, tt.footpath_dur, fr)).astype(np.int64)
        low_walk_m = walk_m[fp_order]
        for a, b in zip(ptr[:-1], ptr[1:]):
            if b - a > 1:
                low_walk_m[a:b] = np.minimum.accumulate(low_walk_m[a:b][::-1])[::-1]
        sp, tp, tm = tt.pattern_stop_ptr, tt.pattern_trip_ptr, tt.trip_times_ptr
        arr_rises = np.ones(tt.n_patterns, np.uint8)
        for p in range(tt.n_patterns):
            n, n_trips = int(sp[p + 1] - sp[p]), int(tp[p + 1] - tp[p])
            if n > 1 and n_trips:
                arr = tt.trip_arr[tm[p]:tm[p] + n * n_trips].reshape(n_trips, n)
                arr_rises[p] = bool((np.diff(arr, axis=1) >= 0).all())
        cached = _SCAN_ARRAYS[tt] = (fp_order, low_walk_m, arr_rises)
    return cached


def _run(tt: Timetable, stops, times, walk, eg, max_rounds, slack, wheelchair, max_walk_m, pareto, cap):
    """(label arrays, rounds done) of one kernel search."""
    if max_rounds < 1:
        raise InputError("max_rounds must be >= 1")
    if pareto and cap < 2:
        raise InputError("bag_capacity must be >= 2")
    cap = cap if pareto else 1
    eg_stop, eg_s, eg_w = eg
    max_walk = float(max_walk_m) if max_walk_m is not None else math.inf
    labels = _take_labels(tt.n_stops, int(max_rounds) + 1, int(cap))
    rounds = _raptor_kernel(*tt.kernel_arrays(), stops, times, walk, eg_stop, eg_s, eg_w,
                            int(max_rounds), int(slack), bool(wheelchair), max_walk, bool(pareto), int(cap),
                            labels.arrays, labels.touched, labels.n_touched, *_scan_arrays(tt))
    return labels, rounds


_NO_EG = (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float64))


def earliest_arrival(tt: Timetable, sources, max_rounds: int = 8, *, min_transfer_s: int | None = None,
                     wheelchair: bool = False, max_walk_m: float = math.inf, egress=None,
                     pareto: bool = True, bag_capacity: int = 8) -> "RaptorResult":
    """Depart-after search from ``sources = (stop_index, arrival_s, walk_m[, access_duration_s])``.

    ``max_rounds``: most vehicles per journey.  ``min_transfer_s``: change slack (default
    ``tt.min_transfer_s``).  ``egress = (stop_index, egress_s, walk_m)`` enables destination pruning
    (optional).  ``pareto=False``: plain RAPTOR (earliest arrival per round only).  ``wheelchair``: only
    stops with ``stop_wheelchair == 1`` and trips with ``wheelchair_accessible == 1`` are used.
    ``max_walk_m`` bounds access + transfer (+ egress) walking.  First call compiles (cached on disk).
    """
    if tt.is_reversed:
        raise InputError("earliest_arrival needs the forward timetable")
    stops, times, walk, dur = _as_candidates(tt, sources, "sources")
    eg = _NO_EG if egress is None else _as_candidates(tt, egress, "egress")[:3]
    slack = tt.min_transfer_s if min_transfer_s is None else min_transfer_s
    raw = _run(tt, stops, times, walk, eg, max_rounds, slack, wheelchair, max_walk_m, pareto, bag_capacity)
    return RaptorResult(tt, "depart_after", int(max_rounds), int(slack), bool(pareto), float(max_walk_m),
                        stops, times, walk, dur, raw)


def latest_departure(tt: Timetable, targets, max_rounds: int = 8, *, min_transfer_s: int | None = None,
                     wheelchair: bool = False, max_walk_m: float = math.inf, access=None,
                     pareto: bool = True, bag_capacity: int = 8) -> "RaptorResult":
    """Arrive-by search: ``targets = (stop_index, latest_arrival_s at the stop, egress walk_m[,
    egress_duration_s])``.  Pareto over (departure, later is better; vehicles; walk).  ``access =
    (stop_index, access_s, walk_m)`` enables pruning; pass it to :func:`pareto_journeys` for journeys
    from the door.  Runs the kernel on ``tt.reversed()``."""
    fwd = tt.forward()
    rt = fwd.reversed()
    stops, times, walk, dur = _as_candidates(fwd, targets, "targets")
    eg = _NO_EG if access is None else _as_candidates(fwd, access, "access")[:3]
    slack = fwd.min_transfer_s if min_transfer_s is None else min_transfer_s
    raw = _run(rt, stops, -times, walk, eg, max_rounds, slack, wheelchair, max_walk_m, pareto, bag_capacity)
    return RaptorResult(rt, "arrive_by", int(max_rounds), int(slack), bool(pareto), float(max_walk_m),
                        stops, -times, walk, dur, raw)


_LABEL_NAMES = ("L_n", "L_t", "L_w", "L_pat", "L_trip", "L_run", "L_bpos", "L_apos", "L_par", "R_n", "R_t", "R_w",
                "R_from", "R_fp", "R_par")


class RaptorResult:
    """Labels of one search.  ``times_s[k, stop]`` (k = 0..max_rounds, at most k vehicles):

    * depart-after (``arrival_s``): earliest arrival at ``stop`` by alighting a vehicle (k = 0: access
      arrival), ``INF`` if unreached;
    * arrive-by (``departure_s``): latest time to be at ``stop`` ready to board the first vehicle and
      still reach a target with at most k vehicles (k = 0: the target times), ``-INF`` if none.

    ``journeys_to(stop)`` (Pareto labels at one stop) and ``journeys_to(candidates)`` = ``pareto_journeys``.

    Label arrays ``L_*[k, stop, slot]`` / ``R_*[k, stop, slot]``: a slot holds a label where ``L_t`` / ``R_t`` is
    below ``INF``; the other arrays are left unwritten (arbitrary values) everywhere else. ``R_*[max_rounds]`` is
    empty (see the module docstring).
    """

    def __init__(self, tt, direction, max_rounds, slack, pareto, max_walk_m, stops, times, walk, dur, raw):
        self.kernel_tt: Timetable = tt
        self.tt: Timetable = tt.forward()
        self.direction = direction
        self.max_rounds = max_rounds
        self.min_transfer_s = slack
        self.pareto = pareto
        self.max_walk_m = max_walk_m
        self._src = (stops, times, walk, dur)
        self._labels, rounds = raw
        (self.L_n, self.L_t, self.L_w, self.L_pat, self.L_trip, self.L_run, self.L_bpos, self.L_apos,
         self.L_par, self.R_n, self.R_t, self.R_w, self.R_from, self.R_fp, self.R_par) = self._labels.views()
        self.rounds_done = int(rounds)

    def __del__(self) -> None:
        labels = self.__dict__.pop("_labels", None)
        if labels is not None:
            for name in _LABEL_NAMES:
                self.__dict__.pop(name, None)
            _give_back(labels)

    # -- per-stop times
    @property
    def times_s(self) -> np.ndarray:
        best = self.L_t.min(axis=2)  # INF where empty
        best[0] = self.R_t[0].min(axis=1)
        best = np.minimum.accumulate(best, axis=0)
        if self.direction == "arrive_by":
            return -best
        return best

    @property
    def arrival_s(self) -> np.ndarray:
        if self.direction != "depart_after":
            raise AttributeError("arrival_s is for depart-after results; use departure_s")
        return self.times_s

    @property
    def departure_s(self) -> np.ndarray:
        if self.direction != "arrive_by":
            raise AttributeError("departure_s is for arrive-by results; use arrival_s")
        return self.times_s

    def destination_times(self, candidates) -> np.ndarray:
        """Best destination time with at most k vehicles, k = 0..max_rounds (vectorised).
        Forward: earliest arrival (INF none); arrive-by: latest departure from the door (-INF none).
        ``candidates = (stop, egress_s / access_s, walk_m)``; ``max_walk_m`` applies to the total."""
        stops, secs, walk, _ = _as_candidates(self.tt, candidates, "candidates")
        lt = self.L_t[:, stops, :]
        ok = lt < INF  # the other label arrays are only written where a label is
        t = lt + secs[None, :, None]
        w = np.where(ok, self.L_w[:, stops, :], 0.0) + walk[None, :, None]
        t = np.where(ok & (w <= self.max_walk_m), t, INF)
        best = t.reshape(t.shape[0], -1).min(axis=1) if t.size else np.full(self.max_rounds + 1, INF)
        best[0] = INF
        best = np.minimum.accumulate(best)
        return -best if self.direction == "arrive_by" else best

    def journeys_to(self, stop_or_candidates) -> list[Journey]:
        if np.ndim(stop_or_candidates) == 0:
            stop = stop_or_candidates
            if isinstance(stop, str):
                stop = self.tt.stop_index[stop]
            return pareto_journeys(self, ([int(stop)], [0], [0.0]), _with_end_leg=False)
        return pareto_journeys(self, stop_or_candidates)

    # -- reconstruction
    def _chain(self, k: int, stop: int, slot: int) -> tuple[list[tuple], int]:
        """Kernel-order chain: [('ride', p, trip, run, bpos, apos), ('transfer', from, to, fp) ...],
        and the source index reached."""
        steps = []
        tt = self.kernel_tt
        while True:
            p = int(self.L_pat[k, stop, slot])
            trip = int(self.L_trip[k, stop, slot])
            run = int(self.L_run[k, stop, slot])
            bpos = int(self.L_bpos[k, stop, slot])
            apos = int(self.L_apos[k, stop, slot])
            r = int(self.L_par[k, stop, slot])
            steps.append(("ride", p, trip, run, bpos, apos))
            bstop = int(tt.pattern_stops[tt.pattern_stop_ptr[p] + bpos])
            fr = int(self.R_from[k - 1, bstop, r])
            if k - 1 == 0:
                return steps, fr
            fp = int(self.R_fp[k - 1, bstop, r])
            if fp >= 0:
                steps.append(("transfer", fr, bstop, fp))
            slot = int(self.R_par[k - 1, bstop, r])
            stop = fr
            k -= 1

    def _ride_leg(self, p: int, trip: int, run: int, bpos: int, apos: int) -> Leg:
        """A ride in forward terms (indices of the forward timetable)."""
        tt = self.tt
        p0 = int(tt.pattern_stop_ptr[p])
        n = int(tt.pattern_stop_ptr[p + 1]) - p0
        j = trip - int(tt.pattern_trip_ptr[p])
        base = int(tt.trip_times_ptr[p]) + j * n
        freq = bool(tt.pattern_is_freq[p])
        if freq:
            t0 = run + int(tt.trip_dep[base + bpos])
            t1 = run + int(tt.trip_arr[base + apos])
        else:
            t0 = int(tt.trip_dep[base + bpos])
            t1 = int(tt.trip_arr[base + apos])
        route = int(tt.trip_route[trip])
        return _leg("ride", int(tt.pattern_stops[p0 + bpos]), int(tt.pattern_stops[p0 + apos]), t0, t1,
                   0.0, t1 - t0, p, trip, route, tt.route_ids[route], tt.trip_ids[trip], bpos, apos,
                   run if freq else -1, freq, bool(tt.pattern_board_booking[p0 + bpos]),
                   bool(tt.pattern_alight_booking[p0 + apos]), int(tt.trip_day_offset[trip]))

    def _journey(self, k: int, stop: int, slot: int, end: tuple | None) -> Journey:
        """end = (stop, secs, walk, duration-or-None) of the destination candidate (egress in forward,
        access in arrive-by) or None for a journey to/from the stop itself."""
        steps, src = self._chain(k, stop, slot)
        s_stops, s_times, s_walk, s_dur = self._src
        ktt = self.kernel_tt
        fwd_steps = []
        if self.direction == "depart_after":
            for st in reversed(steps):
                if st[0] == "ride":
                    fwd_steps.append(st[1:])
                else:
                    fwd_steps.append(("T", st[1], st[2], st[3]))
        else:
            for st in steps:
                if st[0] == "ride":
                    _, p, trip, run, bpos, apos = st
                    n = int(ktt.pattern_stop_ptr[p + 1] - ktt.pattern_stop_ptr[p])
                    fwd_steps.append((p, int(ktt.trip_orig[trip]), -run, n - 1 - apos, n - 1 - bpos))
                else:
                    # reversed footpath fr -> to is the forward footpath to -> fr
                    _, fr, to, fp = st
                    fwd_steps.append(("T", to, fr, fp))
        legs: list[Leg] = []
        walk_total = 0.0
        prev_end = None
        for st in fwd_steps:
            if st[0] == "T":
                _, a, b, fp = st
                dur = int(ktt.footpath_dur[fp])
                wm = float(ktt.footpath_walk[fp])
                legs.append(_leg("transfer", int(a), int(b), prev_end, prev_end + dur, wm, dur))
                walk_total += wm
            else:
                leg = self._ride_leg(*st)
                legs.append(leg)
                prev_end = leg.end_s
        rides = [leg for leg in legs if leg.kind == "ride"]
        first, last = rides[0], rides[-1]
        if self.direction == "depart_after":
            a_stop, a_time, a_walk = int(s_stops[src]), int(s_times[src]), float(s_walk[src])
            a_dur = int(s_dur[src]) if s_dur is not None else 0
            head = _leg("access", -1, a_stop, a_time - a_dur, a_time, a_walk, a_dur)
            tail = None
            if end is not None:
                e_stop, e_s, e_walk, _ = end
                tail = _leg("egress", int(e_stop), -1, last.end_s, last.end_s + int(e_s), float(e_walk), int(e_s))
        else:
            g_stop, g_walk = int(s_stops[src]), float(s_walk[src])
            g_dur = int(s_dur[src]) if s_dur is not None else 0
            tail = _leg("egress", g_stop, -1, last.end_s, last.end_s + g_dur, g_walk, g_dur)
            # latest time to be at the first stop = -(kernel label time)
            ready = -int(self.L_t[k, stop, slot])
            head = None
            if end is not None:
                e_stop, e_s, e_walk, _ = end
                head = _leg("access", -1, int(e_stop), ready - int(e_s), ready, float(e_walk), int(e_s))
            else:
                head = _leg("access", -1, first.from_stop, ready, ready, 0.0, 0)
        all_legs = [head] + legs + ([tail] if tail is not None else [])
        walk_total += sum(leg.walk_m for leg in (head, tail) if leg is not None)
        return Journey(tuple(all_legs), all_legs[0].start_s, all_legs[-1].end_s, len(rides), walk_total)

    def _summary(self, k: int, stop: int, slot: int, end: tuple | None) -> Journey:
        """:meth:`_journey` without its legs (``legs == ()``): the same departure, arrival, rides and walk, by the
        same arithmetic, its last ride the only leg built."""
        steps, src = self._chain(k, stop, slot)
        s_stops, s_times, s_walk, s_dur = self._src
        ktt = self.kernel_tt
        forward = self.direction == "depart_after"
        walk_total = 0.0
        for st in (reversed(steps) if forward else steps):
            if st[0] == "transfer":
                walk_total += float(ktt.footpath_walk[st[3]])
        if forward:
            last = self._ride_leg(*steps[0][1:])  # the chain starts from the last ride
            a_dur = int(s_dur[src]) if s_dur is not None else 0
            departure = int(s_times[src]) - a_dur
            arrival = last.end_s + (int(end[1]) if end is not None else 0)
            end_walks = (float(s_walk[src]),) + ((float(end[2]),) if end is not None else ())
        else:
            _, p, trip, run, bpos, apos = steps[-1]
            n = int(ktt.pattern_stop_ptr[p + 1] - ktt.pattern_stop_ptr[p])
            last = self._ride_leg(p, int(ktt.trip_orig[trip]), -run, n - 1 - apos, n - 1 - bpos)
            ready = -int(self.L_t[k, stop, slot])
            departure = ready - int(end[1]) if end is not None else ready
            arrival = last.end_s + (int(s_dur[src]) if s_dur is not None else 0)
            end_walks = (float(end[2]) if end is not None else 0.0, float(s_walk[src]))
        walk_total += sum(end_walks)
        return Journey((), departure, arrival, k, walk_total)


@njit(cache=True, nogil=True)
def _destination_front(L_t, L_w, stops, secs, walk, max_walk_m, use_walk):
    """(round, candidate, slot) of the destination labels no other dominates over (time, vehicles, walk):
    every label at a candidate stop plus that candidate's time and walk (within ``max_walk_m``), met round by
    round, candidate by candidate, slot by slot; sorted by (time, vehicles, walk), stably, so that ties keep
    that order; then each label left is kept and drops the later ones it dominates. ``L_t``, ``L_w``: the
    kernel's ``[stop, k, slot]`` arrays."""
    n_rounds = L_t.shape[1]
    cap = L_t.shape[2]
    n = 0
    for k in range(1, n_rounds):
        for e in range(stops.shape[0]):
            for b in range(cap):
                if L_t[stops[e], k, b] < INF:
                    n += 1
    t_s = np.empty(n, np.int64)
    kk = np.empty(n, np.int64)
    ww = np.empty(n, np.float64)
    ee = np.empty(n, np.int64)
    bb = np.empty(n, np.int64)
    m = 0
    for k in range(1, n_rounds):
        for e in range(stops.shape[0]):
            for b in range(cap):
                lt = L_t[stops[e], k, b]
                if lt < INF:
                    w = L_w[stops[e], k, b] + walk[e]
                    if w <= max_walk_m:
                        t_s[m] = lt + secs[e]
                        kk[m] = k
                        ww[m] = w
                        ee[m] = e
                        bb[m] = b
                        m += 1
    # stable sorts, least significant key first: by (time, vehicles, walk)
    order = np.argsort(ww[:m], kind="mergesort")
    order = order[np.argsort(kk[:m][order], kind="mergesort")]
    order = order[np.argsort(t_s[:m][order], kind="mergesort")]
    alive = np.ones(m, np.bool_)
    keep = np.empty(m, np.int64)
    n_keep = 0
    for x in range(m):
        i = order[x]
        if not alive[x]:
            continue
        keep[n_keep] = i
        n_keep += 1
        for y in range(x + 1, m):
            j = order[y]
            if alive[y] and t_s[j] >= t_s[i] and kk[j] >= kk[i] and ((not use_walk) or ww[j] >= ww[i]):
                alive[y] = False
    keep = keep[:n_keep]
    return kk[keep], ee[keep], bb[keep]


def pareto_journeys(result: RaptorResult, candidates, *, select=None, _with_end_leg: bool = True) -> list[Journey]:
    """Pareto-optimal journeys at the destination over (time, vehicles, walk_m).

    Depart-after: ``candidates`` = egress ``(stop_index, egress_s, walk_m)``; minimises arrival.
    Arrive-by: ``candidates`` = access ``(stop_index, access_s, walk_m)``; maximises the departure from
    the door.  Walk is a criterion only for ``pareto=True`` results (else a tie-break).  Sorted by
    vehicles (fewest first).  ``max_walk_m`` of the search applies to the total.

    ``select``: a function given the journeys without their legs (``Journey`` objects with ``legs == ()``, the
    same times, rides and walk, in that order) that returns those wanted, in the order wanted; only those get
    their legs (legs cost more than the rest, and a planner keeps about half of the Pareto set)."""
    stops, secs, walk, _ = _as_candidates(result.tt, candidates, "candidates")
    labels = result._labels.arrays
    kept_k, kept_e, kept_b = _destination_front(labels[1], labels[2], stops, secs, walk, float(result.max_walk_m),
                                                bool(result.pareto))
    kept = list(zip(kept_k.tolist(), kept_e.tolist(), kept_b.tolist()))
    ends = [(stops[e], secs[e], walk[e], None) if _with_end_leg else None for _, e, _ in kept]
    forward = result.direction == "depart_after"
    make = result._journey if select is None else result._summary
    found = [make(k, int(stops[e]), b, end) for (k, e, b), end in zip(kept, ends)]
    where = {id(j): i for i, j in enumerate(found)}  # (before the sort) each one's entry in kept
    found.sort(key=lambda j: (j.n_rides, j.arrival_s if forward else -j.departure_s))
    if select is None:
        return found
    picked = [where[id(j)] for j in select(found)]
    return [result._journey(kept[i][0], int(stops[kept[i][1]]), kept[i][2], ends[i]) for i in picked]
