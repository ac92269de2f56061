"""``mobility serve``: the web front end and JSON API on a production WSGI server (waitress).

    mobility serve [--host 127.0.0.1] [--port 8000] [--threads 8] [--workers 1] [--gtfs FEED ... --osm EXTRACT]
                   [--connection-limit 1000] [--channel-timeout 30] [--request-deadline 20] [--compute-deadline 15]

One process (``--workers 1``, the default): the port is bound and the URL printed before anything heavy is
imported; the app is then created and the data loads in a background thread (connections wait in the listen
backlog until the app exists, then the API answers 503 until the data is loaded and warmed up); the
validation warnings of the data are logged once it is loaded.
``--workers N``: N processes on one socket (:mod:`mobility.interfaces.prefork`): the data is loaded once, before
they are forked (memory-mapped from the cache, shared between them); the URL is printed at once and the port
answers once the workers listen. Each worker has ``--threads`` threads and the bounds below.
Nothing a plan does not need is loaded before the first plan is answered: the observatory journal's database
(SQLAlchemy, its schema upgrade) opens in the background at its first write (:mod:`mobility.observatory.journal`).

Slow or hostile clients are bounded: a connection idle for ``--channel-timeout`` seconds is closed, a request
whose headers and body have not all arrived ``--request-deadline`` seconds after its first byte is dropped,
a declared body larger than :data:`MAX_BODY_BYTES` is refused at once (413) and headers are at most
:data:`MAX_HEADER_BYTES`. Up to ``--connection-limit`` connections are open at once (idle ones cost a socket,
not a thread); put a buffering reverse proxy in front for more (README, "Robustness"). A plan still computing
``--compute-deadline`` seconds after it started stops at the planner's next check (:mod:`mobility.deadline`) and
answers 503, so abandoned work does not pile up behind the clients that gave up.
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from mobility.i18n import message
from mobility.interfaces.cli import cli_lang

if TYPE_CHECKING:
    from mobility.interfaces.web.state import ContextHolder

#: request bodies (POST /api/plan JSON) beyond this are refused by waitress before they are read (bytes)
MAX_BODY_BYTES = 64 * 1024
#: request line + headers (bytes)
MAX_HEADER_BYTES = 32 * 1024

log = logging.getLogger("mobility.serve")


def register(sub) -> None:
    p = sub.add_parser("serve", help="run the web front end and JSON API (waitress)")
    p.add_argument("--gtfs", action="append", metavar="PATH",
                   help="GTFS feed (.zip or folder); repeatable (default: the embedded data)")
    p.add_argument("--osm", metavar="PATH", help="OSM extract (default: the embedded data)")
    p.add_argument("--services", metavar="PATH", help="service sites CSV/GeoJSON (default: the embedded ones)")
    p.add_argument("--communes", metavar="PATH", help="commune areas GeoJSON (default: the embedded ones)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port (8000; 0 picks a free one)")
    p.add_argument("--threads", type=int, default=8, help="worker threads (per process) (8)")
    p.add_argument("--workers", type=_bounded_int(1, 64), default=1,
                   help="server processes sharing the port and the loaded data; 2 on a 2-core machine (1)")
    p.add_argument("--connection-limit", type=_bounded_int(1, 100_000), default=1000,
                   help="most connections open at once; more wait in the listen backlog (1000)")
    p.add_argument("--channel-timeout", type=_bounded_int(1, 3600), default=30,
                   help="close a connection idle this long, seconds (30)")
    p.add_argument("--request-deadline", type=_bounded_int(1, 3600), default=20,
                   help="drop a request not fully received this long after its first byte, seconds (20)")
    p.add_argument("--compute-deadline", type=_bounded_int(1, 3600), default=15,
                   help="stop a plan still computing this long after it started, seconds; it answers 503 (15)")
    p.add_argument("--tile-url", default=os.environ.get("MOBILITY_TILE_URL"),
                   help="background map tiles URL template, for deployments with internet (default: none)")
    p.set_defaults(handler=run_serve)


def _bounded_int(lo: int, hi: int):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(message("err_cli_not_integer", cli_lang(), text=text)) from None
        if not lo <= value <= hi:
            raise argparse.ArgumentTypeError(message("err_cli_int_range", cli_lang(), value=value, lo=lo, hi=hi))
        return value
    return parse


def make_server(app, *, host: str, port: int, threads: int, connection_limit: int = 1000,
                channel_timeout_s: int = 30, request_deadline_s: int = 20, sock=None):
    """A waitress server with the bounds above (also used by the tests and scripts/loadcheck.py); ``sock``: an
    already listening socket to serve (the prefork workers), instead of binding ``host``:``port``."""
    from waitress.channel import HTTPChannel
    from waitress.server import TcpWSGIServer, create_server

    class DeadlineChannel(HTTPChannel):
        """Remembers when the request being received started, so that the server can drop it when late."""

        request_started = 0.0

        def received(self, data):
            if self.request is None and data:
                self.request_started = time.time()
            return super().received(data)

    class DeadlineServer(TcpWSGIServer):
        channel_class = DeadlineChannel

        def maintenance(self, now):
            super().maintenance(now)  # idle connections (channel_timeout)
            late = now - request_deadline_s
            for channel in list(self.active_channels.values()):
                if getattr(channel, "request", None) is not None and 0 < channel.request_started < late:
                    channel.will_close = True  # headers or body still incomplete: slowloris or a lying length

    where = {"sockets": [sock]} if sock is not None else {"host": host, "port": port}
    server = create_server(app, **where, threads=max(1, threads), ident="mobility",
                           clear_untrusted_proxy_headers=True, connection_limit=connection_limit,
                           channel_timeout=channel_timeout_s, cleanup_interval=max(1, min(channel_timeout_s,
                                                                                          request_deadline_s) // 4),
                           max_request_body_size=MAX_BODY_BYTES, max_request_header_size=MAX_HEADER_BYTES,
                           asyncore_use_poll=True)  # select() cannot watch sockets numbered 1024 and up
    servers = [server] if isinstance(server, TcpWSGIServer) else [
        s for s in getattr(server, "map", {}).values() if isinstance(s, TcpWSGIServer)]
    for s in servers:
        s.__class__ = DeadlineServer  # same state, the two methods above
    return server


def _announce(host, port) -> None:
    shown = f"[{host}]" if ":" in str(host) else host
    # (the URL stays first and alone in its form: scripts/loadcheck.py and the tests read it)
    print(f"mobility: {message('serve_announce', cli_lang(), url=f'http://{shown}:{port}/')}", flush=True)


class _LateApp:
    """The WSGI application of a server bound before the Flask app exists: it calls :attr:`app`, which is set
    before the server runs (until then connections wait in the listen backlog)."""

    app: Callable[[dict, Callable], Iterable[bytes]] | None = None

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        return self.app(environ, start_response)


def _one_blas_thread() -> None:
    """One OpenBLAS thread per process unless the environment asks otherwise: a plan does no large linear
    algebra, the server's parallelism is its threads and workers, and OpenBLAS starting a thread pool in
    numpy and again in scipy costs about 0.2 s of the start (it has no effect once numpy is imported)."""
    if "numpy" not in sys.modules:
        os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


def _pause_gc() -> None:
    """No cyclic garbage collection while the server starts: the imports and the data make some 200,000
    long-lived objects, and the collections that their allocation triggers, each walking a heap that keeps
    growing, cost about 0.3 s of the start. :func:`_resume_gc` ends the pause."""
    gc.disable()


def _resume_gc() -> None:
    """After the start: the objects made so far (modules, the loaded context) move to the permanent
    generation, which later collections skip (a full one over them takes 0.2 s, a pause in whichever request
    triggers it; after a fork, no collection writes to the pages the workers share), then collections resume."""
    gc.freeze()
    gc.enable()


def _resume_gc_when_loaded(holder: ContextHolder) -> None:
    """:func:`_resume_gc` once ``holder``'s data is loaded (or failed to load), from a daemon thread."""
    def wait() -> None:
        holder.wait()
        _resume_gc()

    threading.Thread(target=wait, name="mobility-gc-resume", daemon=True).start()


def _flush_journal(app) -> None:
    """Write what the observatory journal still holds in memory before the process stops (a graceful stop:
    Ctrl-C, or SIGTERM to a worker)."""
    st = app.extensions.get("observatory") if app is not None else None
    if st is not None and not st.journal.flush(5.0):
        log.warning("observatory journal: entries still queued at shutdown were not written")


def run_serve(args: argparse.Namespace) -> int:
    _pause_gc()
    _one_blas_thread()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    config = {"MOBILITY_GTFS": args.gtfs, "MOBILITY_OSM": args.osm, "MOBILITY_SERVICES": args.services,
              "MOBILITY_COMMUNES": args.communes, "MOBILITY_TILE_URL": args.tile_url,
              "MOBILITY_COMPUTE_DEADLINE_S": float(args.compute_deadline)}
    bounds = {"threads": args.threads, "connection_limit": args.connection_limit,
              "channel_timeout_s": args.channel_timeout, "request_deadline_s": args.request_deadline}
    if args.workers > 1:
        return _run_prefork(args, config, bounds)
    # the port and the URL first; then the app, whose imports (Flask, the planner) and data load follow
    late = _LateApp()
    server = make_server(late, host=args.host, port=args.port, **bounds)
    _announce(server.effective_host, server.effective_port)
    try:
        from mobility.interfaces.web import create_app, holder_of

        late.app = create_app(config)
        _resume_gc_when_loaded(holder_of(late.app))
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
        _flush_journal(late.app)
    return 0


def _run_prefork(args: argparse.Namespace, config: dict, bounds: dict) -> int:
    """``--workers N``: load in this process, then fork the servers (:mod:`mobility.interfaces.prefork`)."""
    from mobility.interfaces import prefork

    reserved = prefork.reserve(args.host, args.port)
    host, port = reserved.getsockname()[:2]
    _announce(host, port)  # before the heavy imports below
    t0 = time.time()
    import waitress.channel  # (make_server's imports, done once here rather than in each worker)
    import waitress.server  # noqa: F401

    from mobility.errors import MobilityError
    from mobility.interfaces.web import create_app
    from mobility.interfaces.web.state import log_problems
    from mobility.planning.context import load_context

    try:
        ctx = load_context(args.gtfs, args.osm, args.services, args.communes)
    except MobilityError as exc:
        print(f"mobility: error: {exc.text(cli_lang())}", file=sys.stderr)
        return 2
    log_problems(getattr(ctx.planner.network, "problems", []))
    ctx.planner.warm_up()  # the kernels and today's timetable, loaded once and inherited by the workers
    app = create_app(config, context=ctx)  # (its journal opens in each worker, at its first write)
    log.info("context loaded in %.1f s; starting %d workers", time.time() - t0, args.workers)

    def serve_forever() -> None:
        server = make_server(app, host=host, port=port, sock=prefork.listener(reserved), **bounds)
        try:
            server.run()
        finally:
            server.close()
            _flush_journal(app)

    _resume_gc()  # (frozen before the fork: the workers' collections leave the shared pages alone)
    try:
        return prefork.run(serve_forever, args.workers)
    finally:
        reserved.close()


if __name__ == "__main__":  # pragma: no cover
    from mobility.interfaces.cli import main

    sys.exit(main(["serve", *sys.argv[1:]]))
