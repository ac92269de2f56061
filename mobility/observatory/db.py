"""The observatory database: engine per URL (SQLite WAL by default, PostgreSQL by URL), schema, migrations.

``MOBILITY_DB_URL`` chooses the database (``postgresql+psycopg://user@host/db``); by default one SQLite
file under the data folder. :func:`engine_for` upgrades the schema with the Alembic scripts shipped in
``migrations/`` on first use, so a new deployment needs no manual step (a database already at
:data:`HEAD_REVISION` is opened without loading Alembic).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError, ProgrammingError

from mobility.config import state_dir

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
#: the newest revision of ``migrations/versions`` (a test checks it against Alembic's head): a database there
#: already is opened without loading Alembic and its scripts (0.3 s of a server's start)
HEAD_REVISION = "0001"
DEFAULT_DB_PATH = state_dir() / "journal.sqlite"

metadata = sa.MetaData()

#: one row per plan request; ``ref`` is the random public handle a survey answer refers to
requests = sa.Table(
    "requests", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("ref", sa.String(32), nullable=False, unique=True),
    sa.Column("created_at", sa.DateTime, nullable=False, index=True),      # UTC, naive
    sa.Column("channel", sa.String(16), nullable=False),                   # resident | operator | api
    sa.Column("commune_insee", sa.String(5), nullable=True, index=True),   # of the resolved origin
    sa.Column("destination_site", sa.String(32), nullable=True),
    sa.Column("destination_category", sa.String(40), nullable=True),
    sa.Column("requested_date", sa.Date, nullable=True),
    sa.Column("requested_hour", sa.SmallInteger, nullable=True),
    sa.Column("arrive_by", sa.Boolean, nullable=True),
    sa.Column("round_trip", sa.Boolean, nullable=True),
    sa.Column("wheelchair", sa.Boolean, nullable=True),
    sa.Column("outcome", sa.String(20), nullable=False),  # served | served_other_day | no_itinerary | bad_input
    sa.Column("reason", sa.String(32), nullable=True),
    sa.Column("served_date", sa.Date, nullable=True),
    sa.Column("modes", sa.String(40), nullable=True),     # comma-separated: bus, tad, train, walk_only
    sa.Column("travel_min", sa.Integer, nullable=True),
    sa.Column("wait_min", sa.Integer, nullable=True),
    sa.Column("walk_min", sa.Integer, nullable=True),
    sa.Column("walk_m", sa.Integer, nullable=True),
    sa.Column("tad_booking", sa.Boolean, nullable=True),
    sa.Column("lang", sa.String(2), nullable=True),
)

#: one row per filled questionnaire, linked to its journal entry by ``request_ref``
survey_responses = sa.Table(
    "survey_responses", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("request_ref", sa.String(32), sa.ForeignKey("requests.ref", ondelete="CASCADE"), nullable=False,
              unique=True),
    sa.Column("created_at", sa.DateTime, nullable=False, index=True),
    sa.Column("channel", sa.String(16), nullable=False),  # resident | operator
    sa.Column("survey_id", sa.String(40), nullable=False),
)

#: one row per answered value (a multiple choice gives several rows)
survey_answers = sa.Table(
    "survey_answers", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("response_id", sa.Integer, sa.ForeignKey("survey_responses.id", ondelete="CASCADE"), nullable=False,
              index=True),
    sa.Column("question", sa.String(40), nullable=False),
    sa.Column("value", sa.String(500), nullable=False),
)


def default_url() -> str:
    """``MOBILITY_DB_URL``, else the SQLite file of :func:`mobility.config.state_dir`."""
    url = os.environ.get("MOBILITY_DB_URL", "").strip()
    return url or f"sqlite:///{DEFAULT_DB_PATH}"


_engines: dict[str, Engine] = {}
_lock = threading.Lock()


def engine_for(url: str | None = None) -> Engine:
    """The process-wide engine of ``url`` (default :func:`default_url`), schema upgraded to the latest."""
    url = url or default_url()
    with _lock:
        engine = _engines.get(url)
        if engine is None:
            engine = _create_engine(url)
            if _stored_revision(engine) != HEAD_REVISION:
                upgrade(engine)
            _engines[url] = engine
    return engine


def dispose_all() -> None:
    """Close every engine (a new call to :func:`engine_for` opens a fresh one, as after a restart)."""
    with _lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()


def _create_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = sa.engine.make_url(url).database
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # several writers (threads, waitress workers, CLI) share the file: wait for the lock, never fail fast
        engine = sa.create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return sa.create_engine(url, pool_pre_ping=True)


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")      # readers never block the writer
    cur.execute("PRAGMA synchronous=NORMAL")    # durable at checkpoints; safe with WAL
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Run the Alembic migrations up to ``revision``. Two processes starting on an empty database may race
    to create the tables: the loser retries and finds the schema up to date."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    for attempt in range(5):
        try:
            with engine.begin() as conn:
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, revision)
            return
        except (OperationalError, ProgrammingError) as exc:
            if attempt == 4:
                raise
            log.info("schema upgrade raced another process (%s); retrying", str(exc).splitlines()[0])
            time.sleep(0.2 * (attempt + 1))


def _stored_revision(engine: Engine) -> str | None:
    """The revision in ``alembic_version``, read without Alembic (None: no such table, or several rows)."""
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalars().all()
    except (OperationalError, ProgrammingError):  # a new database
        return None
    return rows[0] if len(rows) == 1 else None


def current_revision(engine: Engine) -> str | None:
    """The schema revision the database is at (None before the first migration)."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()
