"""The observatory journal on PostgreSQL (``MOBILITY_DB_URL=postgresql+psycopg://...``): a throw-away cluster
started with the machine's initdb/pg_ctl; skipped with the reason where PostgreSQL or psycopg is absent."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import socket
import subprocess
import tempfile

import pytest
import sqlalchemy as sa

from mobility.observatory import db, journal as jn, report
from mobility.observatory.surveys import load_survey, record_answers

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def pg_url():
    pytest.importorskip("psycopg", reason="psycopg is not installed (pip install 'psycopg[binary]')")
    initdb, pg_ctl = shutil.which("initdb"), shutil.which("pg_ctl")
    if not (initdb and pg_ctl):
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) not found")
    prefix: list[str] = []
    folder = tempfile.mkdtemp(prefix="mobility-pg-")
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        if not shutil.which("runuser"):
            pytest.skip("running as root without runuser: cannot start PostgreSQL")
        try:
            shutil.chown(folder, "postgres")
        except (LookupError, PermissionError):
            pytest.skip("no 'postgres' user to run the server")
        prefix = ["runuser", "-u", "postgres", "--"]
    data, port = os.path.join(folder, "data"), _free_port()
    try:
        subprocess.run(prefix + [initdb, "-D", data, "-A", "trust", "-U", "obs"], check=True, capture_output=True,
                       timeout=120)
        subprocess.run(prefix + [pg_ctl, "-D", data, "-w", "-l", os.path.join(folder, "log"), "-o",
                                 f"-p {port} -k {folder} -c listen_addresses=''", "start"], check=True,
                       capture_output=True, timeout=120)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        shutil.rmtree(folder, ignore_errors=True)
        pytest.skip(f"PostgreSQL did not start: {exc}")
    yield f"postgresql+psycopg://obs@/postgres?host={folder}&port={port}"
    db.dispose_all()
    subprocess.run(prefix + [pg_ctl, "-D", data, "-m", "fast", "stop"], capture_output=True, timeout=60)
    shutil.rmtree(folder, ignore_errors=True)


def test_journal_surveys_summary_and_purge_on_postgresql(pg_url):
    engine = db.engine_for(pg_url)
    assert engine.dialect.name == "postgresql" and db.current_revision(engine) == "0001"
    journal = jn.Journal(pg_url)
    now = dt.datetime(2026, 12, 1, 12)
    old = [jn.Entry(ref=jn.new_ref(), created_at=dt.datetime(2024, 11, 1), channel="api", outcome="served")]
    fresh = [jn.Entry(ref=jn.new_ref(), created_at=dt.datetime(2026, 11, 1 + i % 28, 9), channel=jn.CHANNELS[i % 3],
                      outcome=jn.OUTCOMES[i % 4], commune_insee="62765", destination_category="caf",
                      tad_booking=i % 5 == 0) for i in range(200)]
    for e in old + fresh:
        journal.record(e)
    journal.close(30)
    assert journal.written == 201
    record_answers(engine, load_survey(), fresh[0].ref, {"useful": "yes", "obstacles": ["cost"]})
    s = report.summary(engine, report.Filters(dt.date(2026, 11, 1), dt.date(2026, 11, 30)))
    assert s["requests"] == 200 and s["by_outcome"]["served"] == 50 and s["tad"]["requests"] == 40
    assert s["by_commune"][0]["insee"] == "62765" and s["surveys"]["questions"]["useful"] == {"yes": 1}
    assert sum(d["resident"] + d["operator"] + d["api"] for d in s["by_day"]) == 200
    assert jn.purge(engine, 24, now)["requests"] == 1
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM requests")).scalar_one() == 200
