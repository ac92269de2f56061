#!/usr/bin/env python3
"""Small load check of ``/api/plan`` (not a unit test): loopback only, bounded in time and request count.

Starts ``mobility serve`` (waitress, several threads; ``--workers N``: N server processes) on 127.0.0.1 with an
ephemeral port in a subprocess,
waits for the data, plans each distinct request of a small call-centre-like mix once (cold figure), then
sends the mix from client threads (http.client) for ``--seconds`` or ``--max-requests`` and prints the
throughput. Exits 1 on any error or below ``--target`` requests per second.

    python scripts/loadcheck.py [--seconds 20] [--clients 8] [--threads 8] [--workers 1] [--target 50] [--unique]

With ``--unique`` every measured request is different (origin x service site x departure minute), so the
server's answer cache never helps: this measures planning throughput itself. ``--realistic`` is the web mix of
issue 11, also without repeats: a third of the destinations are coordinates (an address picked on the map), a
third site ids, a third categories (``caf``, ``mairie``, ``france services``, ``cpam``), from coordinates near the
stops of the territory, departures and arrivals over the day; p50/p95 latency is reported and ``--p95-ms``
bounds it.

Slow-client mode instead checks that idle and half-sent connections cannot lock other clients out:

    python scripts/loadcheck.py --slow-clients 300 [--max-latency 1.0]

opens that many connections that each send half a request and then stay silent, measures ``/api/health`` from
a fresh connection while they are open (each answer must come within ``--max-latency`` seconds), checks that a
declared 999,999,999-byte body is refused at once (413), then closes them. Exits 1 on a failure.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
#: seconds between two /api/health calls while the server starts (the "ready" figures are this precise)
POLL_S = 0.05

ORIGINS = ["Place Foch, Saint-Omer", "Arques", "Longuenesse", "Lumbres", "Aire-sur-la-Lys", "Thérouanne",
           "Delettes", "Fauquembergues", "gare saint-omer", "Wizernes"]
DESTINATIONS = ["svc-001", "caf", "mairie", "france services"]


def request_mix() -> list[str]:
    """A fixed mix of distinct requests (origins x destinations, depart-at and arrive-by)."""
    out = []
    for i, origin in enumerate(ORIGINS):
        for j, dest in enumerate(DESTINATIONS):
            q = {"from": origin, "to": dest, "date": "2026-12-01", "time": "09:00" if (i + j) % 2 else "10:30",
                 "arrive_by": "1" if (i + j) % 2 == 0 else "0"}
            out.append("/api/plan?" + urlencode(q))
    return out


SITES = ["svc-001", "svc-002", "svc-004", "svc-007", "svc-008", "svc-010", "svc-018", "svc-019"]


def unique_request(n: int) -> str:
    """The n-th request of a sequence without repeats (for n < 10 x 8 x 840)."""
    origin = ORIGINS[n % len(ORIGINS)]
    site = SITES[(n // len(ORIGINS)) % len(SITES)]
    minute = 6 * 60 + (n // (len(ORIGINS) * len(SITES))) % (14 * 60)
    q = {"from": origin, "to": site, "date": "2026-12-01", "time": f"{minute // 60:02d}:{minute % 60:02d}",
         "arrive_by": "1" if n % 2 else "0"}
    return "/api/plan?" + urlencode(q)


#: coordinates of the territory (town centres) used as origins and map-picked destinations
POINTS = [(50.7500, 2.2520), (50.7290, 2.3030), (50.7320, 2.2440), (50.7070, 2.1010), (50.6380, 2.3960),
          (50.6360, 2.2500), (50.6533, 2.18185), (50.6150, 2.0850), (50.7100, 2.2350), (50.7100, 2.2480),
          (50.7420, 2.3320), (50.6910, 2.1830)]
CATEGORIES = ["caf", "mairie", "france services", "cpam"]


def realistic_request(n: int) -> str:
    """The n-th request of the realistic mix (coordinates / site ids / categories in turn), never repeated."""
    a = POINTS[n % len(POINTS)]
    jitter = ((n * 37) % 101 - 50) * 1e-5, ((n * 53) % 97 - 48) * 1e-5
    origin = f"{a[0] + jitter[0]:.5f},{a[1] + jitter[1]:.5f}"
    kind = n % 3
    if kind == 0:
        b = POINTS[(n * 7 + 3) % len(POINTS)]
        dest = f"{b[0] - jitter[1]:.5f},{b[1] - jitter[0]:.5f}"
    elif kind == 1:
        dest = SITES[(n // 3) % len(SITES)]
    else:
        dest = CATEGORIES[(n // 3) % len(CATEGORIES)]
    minute = 6 * 60 + (n * 13) % (13 * 60)
    q = {"from": origin, "to": dest, "date": "2026-12-01", "time": f"{minute // 60:02d}:{minute % 60:02d}",
         "arrive_by": "1" if (n // 3) % 2 else "0", "booked_at": "2026-11-20T08:00"}
    return "/api/plan?" + urlencode(q)


def start_server(threads: int, extra: list[str] | None = None, workers: int = 1) -> tuple[subprocess.Popen, str, int]:
    env = dict(os.environ)
    cmd = [sys.executable, "-m", "mobility.interfaces.serve", "--host", "127.0.0.1", "--port", "0",
           "--threads", str(threads), "--workers", str(workers), *(extra or [])]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = proc.stdout.readline()
    m = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
    if not m:
        proc.kill()
        raise SystemExit(f"loadcheck: server did not start ({line.strip()!r})")
    return proc, "127.0.0.1", int(m.group(1))


def get(conn: http.client.HTTPConnection, path: str) -> tuple[int, bytes]:
    conn.request("GET", path, headers={"Accept": "application/json"})
    resp = conn.getresponse()
    return resp.status, resp.read()


def slow_clients(host: str, port: int, n: int, max_latency_s: float) -> int:
    """Hold ``n`` half-sent connections open and time /api/health meanwhile (see the module docstring)."""
    socks: list[socket.socket] = []
    try:
        t0 = time.time()
        for i in range(n):
            s = socket.create_connection((host, port), timeout=5)
            s.sendall(f"GET /api/health HTTP/1.1\r\nHost: {host}\r\nX-Slow-Client: {i}".encode())  # no end
            socks.append(s)
        print(f"slow clients: {len(socks)} half-sent connections open in {time.time() - t0:.2f} s")
        worst = 0.0
        for _ in range(5):
            t1 = time.time()
            conn = http.client.HTTPConnection(host, port, timeout=max(5.0, 5 * max_latency_s))
            status, _ = get(conn, "/api/health")
            conn.close()
            took = time.time() - t1
            worst = max(worst, took)
            if status != 200:
                print(f"loadcheck: /api/health answered {status} with the slow clients open", file=sys.stderr)
                return 1
        print(f"slow clients: /api/health worst {1000 * worst:.0f} ms over 5 calls (limit {1000 * max_latency_s:.0f} ms)")
        t2 = time.time()
        liar = socket.create_connection((host, port), timeout=10)
        liar.sendall(f"POST /api/plan HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
                     "Content-Length: 999999999\r\n\r\n".encode() + b"{" * 100)
        first = liar.recv(64).decode("latin-1")
        liar.close()
        refused = time.time() - t2
        print(f"lying Content-Length: {first.splitlines()[0] if first else 'connection closed'} "
              f"after {1000 * refused:.0f} ms")
        print(json.dumps({"slow_clients": len(socks), "health_worst_ms": round(1000 * worst),
                          "lying_length_ms": round(1000 * refused)}))
        if worst > max_latency_s or " 413 " not in first[:20] or refused > max_latency_s:
            print("loadcheck: FAILED (slow clients)", file=sys.stderr)
            return 1
        print("loadcheck: OK (slow clients)")
        return 0
    finally:
        for s in socks:
            s.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=20.0, help="duration of the measured phase (20, at most 60)")
    ap.add_argument("--max-requests", type=int, default=5000, help="stop after this many requests (5000)")
    ap.add_argument("--clients", type=int, default=8, help="client threads (8)")
    ap.add_argument("--threads", type=int, default=8, help="waitress worker threads, per process (8)")
    ap.add_argument("--workers", type=int, default=1, help="server processes (mobility serve --workers) (1)")
    ap.add_argument("--target", type=float, default=50.0, help="requests per second to hold (50)")
    ap.add_argument("--unique", action="store_true", help="never repeat a request (no answer-cache hits)")
    ap.add_argument("--realistic", action="store_true",
                    help="the web mix without repeats: a third each coordinates, site ids, categories")
    ap.add_argument("--p95-ms", type=float, default=None, help="fail when the p95 latency is above this")
    ap.add_argument("--slow-clients", type=int, default=0, metavar="N",
                    help="slow-client mode: N half-sent idle connections, then time /api/health (at most 2000)")
    ap.add_argument("--max-latency", type=float, default=1.0, help="slow-client mode: seconds per /api/health (1)")
    args = ap.parse_args()
    seconds = min(max(args.seconds, 1.0), 60.0)

    t_start = time.time()
    proc, host, port = start_server(args.threads, workers=args.workers)
    try:
        deadline = time.time() + 180
        conn = http.client.HTTPConnection(host, port, timeout=30)
        while True:
            try:
                status, _ = get(conn, "/api/health")
            except OSError:
                status = 0
                conn = http.client.HTTPConnection(host, port, timeout=30)
            if status == 200:
                break
            if time.time() > deadline:
                raise SystemExit("loadcheck: the data did not load within 180 s")
            time.sleep(POLL_S)
        print(f"ready: /api/health answered 200 {time.time() - t_start:.2f} s after the start "
              f"({args.workers} process{'es' if args.workers > 1 else ''})")

        if args.slow_clients:
            return slow_clients(host, port, min(max(args.slow_clients, 1), 2000), args.max_latency)

        mix = request_mix()
        t0 = time.time()
        outcomes: dict[int, int] = {}
        for k, path in enumerate(mix):  # cold: each distinct request computed once
            status, _ = get(conn, path)
            outcomes[status] = outcomes.get(status, 0) + 1
            if k == 0:
                print(f"ready: the first plan answered {status} {time.time() - t_start:.2f} s after the start")
        cold = time.time() - t0
        print(f"cold: {len(mix)} distinct requests in {cold:.2f} s ({len(mix) / cold:.1f} req/s, "
              f"{1000 * cold / len(mix):.0f} ms each); statuses {outcomes}")
        if any(s >= 500 for s in outcomes):
            print("loadcheck: server errors in the cold phase", file=sys.stderr)
            return 1

        counts = {"ok": 0, "client_error": 0, "error": 0}
        latencies: list[float] = []
        lock = threading.Lock()
        stop_at = time.time() + seconds
        budget = [args.max_requests]
        sequence = [0]

        def client(k: int) -> None:
            c = http.client.HTTPConnection(host, port, timeout=30)
            i = k
            while time.time() < stop_at:
                with lock:
                    if budget[0] <= 0:
                        return
                    budget[0] -= 1
                    sequence[0] += 1
                    n = sequence[0]
                path = (realistic_request(n) if args.realistic else unique_request(n) if args.unique
                        else mix[i % len(mix)])
                t_req = time.perf_counter()
                try:
                    status, _ = get(c, path)
                    kind = "ok" if status == 200 else ("client_error" if 400 <= status < 500 else "error")
                except OSError:
                    kind = "error"
                    c = http.client.HTTPConnection(host, port, timeout=30)
                took = time.perf_counter() - t_req
                with lock:
                    counts[kind] += 1
                    latencies.append(took)
                i += 1

        t1 = time.time()
        workers = [threading.Thread(target=client, args=(k,)) for k in range(args.clients)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        elapsed = time.time() - t1
        total = sum(counts.values())
        rate = total / elapsed
        lat = sorted(latencies)
        p50 = 1000 * lat[len(lat) // 2] if lat else float("nan")
        p95 = 1000 * lat[min(len(lat) - 1, int(0.95 * len(lat)))] if lat else float("nan")
        print(f"load: {total} requests in {elapsed:.1f} s with {args.clients} clients -> {rate:.0f} req/s "
              f"(ok {counts['ok']}, 4xx {counts['client_error']}, errors {counts['error']}); latency p50 "
              f"{p50:.0f} ms, p95 {p95:.0f} ms")
        print(json.dumps({"workers": args.workers, "unique_requests": args.unique, "realistic": args.realistic,
                          "req_per_s": round(rate, 1), "p50_ms": round(p50), "p95_ms": round(p95),
                          "cold_ms_per_request": round(1000 * cold / len(mix)), **counts}))
        if counts["error"] or rate < args.target or (args.p95_ms is not None and p95 > args.p95_ms):
            print(f"loadcheck: FAILED (target {args.target:g} req/s"
                  f"{'' if args.p95_ms is None else f', p95 <= {args.p95_ms:g} ms'} with no error)", file=sys.stderr)
            return 1
        print(f"loadcheck: OK (>= {args.target:g} req/s, no error)")
        return 0
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


if __name__ == "__main__":
    sys.exit(main())
