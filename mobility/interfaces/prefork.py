"""``mobility serve --workers N``: N waitress processes serving one port and sharing one loaded context.

The parent reserves the port first (:func:`reserve`; the URL is printed at once), loads the context (from the
on-disk cache, :mod:`mobility.network.store`, whose arrays are memory-mapped: their pages are shared by every
worker, and by any other process that opens the same entry, through the page cache; the rest is shared
copy-on-write by ``fork``), plans one trip so that the compiled
kernels and the first timetable are loaded before the fork (:meth:`~mobility.planning.planner.Planner.warm_up`),
creates the Flask app and then forks the workers.
Each worker is a waitress server (:func:`mobility.interfaces.serve.make_server`: the same bounds on slow
clients, bodies and connections, the same per-request compute deadline) listening on its own socket bound to
that port with ``SO_REUSEPORT`` (:func:`listener`): the kernel spreads new connections evenly over the
workers, so N workers compute N plans at once on N cores (one Python process holds the GIL while it plans).
Until the first worker listens (a second or two when the data is in the cache) connections are refused.

The parent starts no thread before forking and serves nothing itself: it restarts a worker that dies (and
gives up, exit status 1, when workers keep dying within a second of their start), and on SIGTERM or SIGINT
stops the workers (SIGTERM, then SIGKILL after :data:`STOP_GRACE_S` seconds) and exits. A worker whose
parent dies, even killed, is stopped too (Linux ``PR_SET_PDEATHSIG``).
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import time
from typing import Callable

log = logging.getLogger("mobility.serve")

#: pending connections each worker's socket holds
BACKLOG = 1024
#: seconds a worker has to finish after SIGTERM before it is killed
STOP_GRACE_S = 10.0
#: a worker dying this soon after its start counts towards a crash loop
CRASH_WINDOW_S = 1.0
#: this many quick deaths in a row stop the server
MAX_QUICK_DEATHS = 5


class _Stop(Exception):
    pass


def reserve(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host``:``port`` (0: a free port) with ``SO_REUSEPORT``, not listening: it holds the
    port while the data loads; each worker then listens on a socket of its own bound to the same port
    (:func:`listener`), and the kernel spreads new connections evenly over them. Where ``SO_REUSEPORT`` is
    missing the socket listens at once and the workers share it (they then race for each connection)."""
    family, kind, proto, _, addr = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                                      flags=socket.AI_PASSIVE)[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if hasattr(socket, "SO_REUSEPORT"):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(addr)
    else:  # pragma: no cover - not Linux / BSD
        sock.bind(addr)
        sock.listen(BACKLOG)
        sock.setblocking(False)
    return sock


def listener(reserved: socket.socket) -> socket.socket:
    """The worker's own listening socket on the reserved port (or the shared one, without ``SO_REUSEPORT``)."""
    if not hasattr(socket, "SO_REUSEPORT"):  # pragma: no cover
        return reserved
    sock = socket.socket(reserved.family, reserved.type, reserved.proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(reserved.getsockname())
    sock.listen(BACKLOG)
    sock.setblocking(False)
    return sock


def _die_with_parent(parent: int) -> None:
    """Linux: SIGTERM this worker when the parent dies (even by SIGKILL), so that no orphan keeps the port."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # pragma: no cover - not Linux
        return
    if os.getppid() != parent:  # the parent died before the call
        raise SystemExit(0)


def _worker(serve_forever: Callable[[], None], parent: int, mask: set) -> None:
    """The child's whole life: serve until SIGTERM / SIGINT, then exit without running the parent's atexit.

    It starts with those signals blocked (see ``run``'s ``spawn``): one sent since the fork is taken here, by
    the worker's own handler, once it is installed (before, the parent's handler would have run in the child)."""
    def stop(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    code = 0
    try:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        _die_with_parent(parent)
        serve_forever()
    except (KeyboardInterrupt, SystemExit):
        pass
    except BaseException:  # noqa: BLE001 - logged; the parent starts another worker
        log.exception("worker %d failed", os.getpid())
        code = 1
    finally:
        logging.shutdown()
        os._exit(code)


def run(serve_forever: Callable[[], None], workers: int) -> int:
    """Fork ``workers`` processes running ``serve_forever`` and supervise them (see the module docstring)."""
    children: dict[int, float] = {}
    parent = os.getpid()

    def spawn() -> None:
        # SIGTERM / SIGINT wait until the child is recorded (else a stop during the fork would leave it out of
        # _stop_all) and, in the child, until its own handlers are in place
        mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
        try:
            pid = os.fork()
            if pid == 0:
                _worker(serve_forever, parent, mask)
            children[pid] = time.monotonic()
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)

    def stop(signum, frame):
        raise _Stop

    old = {s: signal.signal(s, stop) for s in (signal.SIGTERM, signal.SIGINT)}
    quick_deaths = 0
    status = 0
    try:
        for _ in range(max(1, workers)):
            spawn()
        log.info("%d workers started (pids %s)", len(children), " ".join(map(str, children)))
        while True:
            pid, wstatus = os.wait()
            started = children.pop(pid, None)
            if started is None:
                continue
            code = os.waitstatus_to_exitcode(wstatus)
            quick_deaths = quick_deaths + 1 if time.monotonic() - started < CRASH_WINDOW_S else 0
            if quick_deaths >= MAX_QUICK_DEATHS:
                log.error("workers keep dying at start (last status %s): stopping", code)
                status = 1
                break
            log.warning("worker %d exited with status %s: starting another", pid, code)
            spawn()
    except _Stop:
        pass
    finally:
        for s, handler in old.items():
            signal.signal(s, handler)
        _stop_all(children)
    return status


def _stop_all(children: dict[int, float]) -> None:
    for pid in list(children):
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            children.pop(pid, None)
    deadline = time.monotonic() + STOP_GRACE_S
    while children and time.monotonic() < deadline:
        for pid in list(children):
            try:
                done, _ = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                done = pid
            if done:
                children.pop(pid, None)
        time.sleep(0.05)
    for pid in list(children):
        try:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
