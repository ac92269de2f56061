"""What ``mobility serve`` does before its first plan: the URL before the heavy imports, no SQLAlchemy (the
observatory journal opens at its first write and loses nothing recorded before), the data warmed up before
the API answers, and the garbage collector paused during the start (see :mod:`mobility.interfaces.serve`)."""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from mobility.observatory import journal as jn

ROOT = Path(__file__).resolve().parents[1]
#: loaded by a plan: never before the URL is printed
HEAVY = ("numpy", "pandas", "scipy", "numba", "shapely", "flask", "sqlalchemy", "alembic", "matplotlib")
#: not needed to answer a plan: loaded by the journal's first write or the dashboard, or (scipy.spatial, whose
#: import costs a quarter of a second) by reverse geocoding and the analyses; snapping searches a grid of its own
LATE = ("sqlalchemy", "alembic", "matplotlib", "scipy.spatial")


def _python(code: str, **env: str) -> subprocess.CompletedProcess:
    environ = {**os.environ, **env}
    environ["PYTHONPATH"] = str(ROOT) + (os.pathsep + environ["PYTHONPATH"] if environ.get("PYTHONPATH") else "")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=environ, timeout=300,
                         check=False)
    assert out.returncode == 0, out.stderr
    return out


@pytest.mark.parametrize("workers", ["1", "2"])
def test_the_url_is_printed_before_the_heavy_imports_with_the_gc_paused(workers):
    code = ("import gc, sys\n"
            "from mobility.interfaces import serve\n"
            "def announce(host, port):\n"
            f"    heavy = sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r})\n"
            "    print('AT_URL', int(port) > 0, gc.isenabled(), heavy)\n"
            "    raise SystemExit(0)\n"
            "serve._announce = announce\n"
            "from mobility.interfaces.cli import main\n"
            f"main(['serve', '--port', '0', '--workers', '{workers}'])\n")
    assert "AT_URL True False []" in _python(code).stdout


def test_the_web_app_answers_a_plan_before_sqlalchemy_is_loaded(tmp_path, embedded_context):
    """Creating the app (its data read from the cache, which ``embedded_context`` filled) and planning load
    none of :data:`LATE`; the plan's journal row is written by the journal's writer, which loads SQLAlchemy
    then."""
    url = f"sqlite:///{tmp_path / 'journal.sqlite'}"
    code = ("import sys\n"
            "def late():\n"
            f"    return sorted(m for m in sys.modules if any(m == x or m.startswith(x + '.') for x in {LATE!r}))\n"
            "import mobility.interfaces.web as web\n"
            "print('IMPORT', late(), 'numba' in sys.modules)\n"
            "from mobility.planning.context import load_context\n"
            f"app = web.create_app({{'MOBILITY_DB_URL': {url!r}}}, context=load_context())\n"
            "print('APP', late())\n"
            "journal = app.extensions['observatory'].journal\n"
            "opened = journal._ensure_thread  # the writer starts (and then loads SQLAlchemy) at the first row\n"
            "journal._ensure_thread = lambda: None\n"
            "r = app.test_client().get('/api/plan?from=Saint-Omer&to=Fauquembergues&datetime=2026-12-01T08:30',\n"
            "                          headers={'Accept': 'application/json'})\n"
            "print('PLAN', r.status_code, late())\n"
            "journal._ensure_thread = opened\n"
            "opened()\n"
            "assert journal.flush(60)\n"
            "import sqlalchemy as sa\n"
            "with journal.engine.connect() as conn:\n"
            "    print('ROWS', conn.execute(sa.text('SELECT count(*) FROM requests')).scalar_one())\n")
    out = _python(code, MOBILITY_JOURNAL="1").stdout
    assert "IMPORT [] False" in out  # the module alone: Flask, not the planner
    assert "APP []" in out and "PLAN 200 []" in out
    assert "ROWS 1" in out


class _SlowJournal(jn.Journal):
    """A journal whose database opens only when :attr:`can_open` is set (as SQLAlchemy loading and the schema
    upgrade take their time)."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.can_open = threading.Event()

    @property
    def engine(self):
        self.can_open.wait(60)
        return super().engine


def test_the_journal_keeps_what_was_recorded_before_its_database_was_open(tmp_path):
    import sqlalchemy as sa

    from mobility.observatory import db

    url = f"sqlite:///{tmp_path / 'journal.sqlite'}"
    journal = _SlowJournal(url)
    refs = []
    for hour in range(5):
        e = jn.Entry(ref=jn.new_ref(), created_at=dt.datetime(2026, 12, 1, hour), channel="api", outcome="served")
        journal.record(e)
        refs.append(e.ref)
    assert journal.written == 0 and journal.failed == 0  # waiting in the queue
    journal.can_open.set()
    assert journal.flush(60)
    try:
        with journal.engine.connect() as conn:
            stored = conn.execute(sa.text("SELECT ref FROM requests ORDER BY created_at")).scalars().all()
        assert stored == refs and journal.written == 5
    finally:
        journal.close()
        db.dispose_all()


def test_the_loader_warms_the_planner_up_before_handing_the_context_out(monkeypatch):
    from mobility.interfaces.web.state import ContextHolder
    from mobility.planning import context as context_module

    seen = []

    class Planner:
        network = None

        def warm_up(self) -> None:
            seen.append(holder.status)  # still "loading": no request plans before the warm-up is done

    class Ctx:
        planner = Planner()

    monkeypatch.setattr(context_module, "load_context", lambda **kw: Ctx())
    holder = ContextHolder(None, {})
    holder.start()
    assert holder.wait(30)
    assert seen == ["loading"] and holder.status == "ok"


def test_the_warm_up_and_the_first_plan_load_no_scipy_linear_algebra(embedded_context):
    """:meth:`Planner.warm_up` starts numba without its probe of scipy's BLAS (:mod:`mobility.jit`): neither
    it nor the plan after it imports ``scipy.linalg``, nor ``scipy.spatial`` (the data read from the cache,
    which ``embedded_context`` filled)."""
    code = ("import sys\n"
            "from mobility.planning.context import load_context\n"
            "import mobility.interfaces.web as web\n"
            "ctx = load_context()\n"
            "ctx.planner.warm_up()\n"
            "r = web.create_app({}, context=ctx).test_client().get(\n"
            "    '/api/plan?from=Saint-Omer&to=Fauquembergues&datetime=2026-12-01T08:30',\n"
            "    headers={'Accept': 'application/json'})\n"
            "import numba.np.arraymath\n"
            "print('PLAN', r.status_code, sorted(m for m in sys.modules if m.startswith(('scipy.linalg', "
            "'scipy.spatial', 'scipy.sparse'))), numba.np.arraymath._HAVE_BLAS)\n")
    assert "PLAN 200 [] False" in _python(code).stdout


#: imported by numba's compiler target (``BaseContext.refresh``), not by the kernels loaded from its cache
TARGET_ONLY = ("numba.typed.typeddict", "numba.np.random", "numba.np.polynomial")
_PLANS = ("import json, sys\n"
          "from mobility.planning.context import load_context\n"
          "import mobility.interfaces.web as web\n"
          "ctx = load_context()\n"
          "ctx.planner.warm_up()\n"
          "client = web.create_app({}, context=ctx).test_client()\n"
          "answers = [client.get(q, headers={'Accept': 'application/json'}).get_json() for q in (\n"
          "    '/api/plan?from=Saint-Omer&to=Fauquembergues&datetime=2026-12-01T08:30',\n"
          "    '/api/plan?from=Arques&to=caf&datetime=2026-12-03T10:00&arrive_by=1')]\n"
          f"print('TARGET', sorted(m for m in sys.modules if m.startswith({TARGET_ONLY!r})))\n"
          "print('ANSWERS', json.dumps(answers, sort_keys=True))\n")


def test_kernels_load_from_the_cache_without_the_compiler_target_and_answer_the_same(embedded_context):
    """:func:`mobility.jit.lean_kernel_loads`: the warm-up and first plans of a process whose kernels are in
    numba's cache (``embedded_context`` filled it) do not initialise numba's compiler target, and their answers
    are those of a process that does (numba's own loading)."""
    lean = _python(_PLANS).stdout
    usual = _python("import mobility.jit as jit\njit._lean = True  # as if patched already: numba's own loads\n"
                    + _PLANS).stdout
    assert "TARGET []" in lean and "TARGET []" not in usual
    answer = lean.split("ANSWERS ", 1)[1]
    assert '"date": "2026-12-01"' in answer and '"state": "open"' in answer
    assert answer == usual.split("ANSWERS ", 1)[1]


def test_a_kernel_compiled_and_loaded_under_lean_loads_runs(tmp_path):
    """A kernel missing from numba's cache still compiles (the compiler starts its target itself), and the next
    process loads it from the cache without the target; both give the right answer."""
    (tmp_path / "lean_kernel.py").write_text(
        "import numpy as np\nfrom numba import njit\n\n"
        "@njit(cache=True)\n"
        "def kernel(keys, xs):\n"
        "    out = np.full(len(xs), -1, np.int64)\n"
        "    for i in range(len(xs)):\n"
        "        out[i] = np.searchsorted(keys, xs[i]) + int(np.hypot(3.0, 4.0))\n"
        "    return out\n", encoding="utf-8")
    code = ("import sys, numpy as np\n"
            "from mobility.jit import lean_kernel_loads\n"
            "lean_kernel_loads()\n"
            "from lean_kernel import kernel\n"
            "print('OUT', kernel(np.array([1.0, 5.0, 9.0]), np.array([0.0, 6.0, 10.0])).tolist(),\n"
            "      kernel.stats.cache_hits, 'numba.np.polynomial' in sys.modules)\n")
    env = {"PYTHONPATH": str(tmp_path), "NUMBA_CACHE_DIR": str(tmp_path / "cache")}
    assert "OUT [5, 7, 8] Counter() True" in _python(code, **env).stdout  # compiled: the whole target
    assert "OUT [5, 7, 8] Counter({(Array(float64, 1, 'C', False, aligned=True), Array(float64, 1, 'C', " \
           "False, aligned=True)): 1}) False" in _python(code, **env).stdout  # loaded: no target


def test_no_kernel_uses_what_the_skipped_blas_probe_decides():
    """numba's BLAS probe, skipped at the warm-up, only chooses how ``np.correlate`` and ``np.convolve`` are
    compiled: no module of the package with compiled kernels calls them."""
    users = [p.name for p in (ROOT / "mobility").rglob("*.py")
             if "njit" in (text := p.read_text(encoding="utf-8")) and re.search(r"\b(correlate|convolve)\b", text)]
    assert users == []


def test_warm_up_loads_the_kernels(embedded_planner):
    from mobility.routing import raptor

    embedded_planner.warm_up()
    kernels = [f for f in vars(raptor).values() if hasattr(f, "signatures") and hasattr(f, "py_func")]
    assert kernels and any(f.signatures for f in kernels)  # loaded from numba's cache (or compiled) already


def test_head_revision_is_the_newest_migration():
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from mobility.observatory import db

    cfg = Config()
    cfg.set_main_option("script_location", str(db.MIGRATIONS_DIR))
    assert ScriptDirectory.from_config(cfg).get_current_head() == db.HEAD_REVISION


def test_an_up_to_date_journal_database_opens_without_alembic(tmp_path):
    url = f"sqlite:///{tmp_path / 'journal.sqlite'}"
    code = ("import sys\n"
            "from mobility.observatory import db\n"
            f"db.engine_for({url!r})\n"
            "print('ALEMBIC', 'alembic' in sys.modules)\n")
    assert "ALEMBIC True" in _python(code).stdout  # a new database: created by the migrations
    assert "ALEMBIC False" in _python(code).stdout  # the next start: already at the head revision


def test_serve_writes_the_queued_journal_entries_when_it_stops(tmp_path):
    from mobility.interfaces import serve
    from mobility.interfaces.web import create_app
    from mobility.observatory import db

    app = create_app({"MOBILITY_DB_URL": f"sqlite:///{tmp_path / 'journal.sqlite'}", "MOBILITY_JOURNAL": True},
                     context=object())
    journal = app.extensions["observatory"].journal
    journal.record(jn.Entry(ref=jn.new_ref(), created_at=dt.datetime(2026, 12, 1, 9), channel="api", outcome="served"))
    try:
        serve._flush_journal(app)  # (well within the writer's first-open delay)
        assert journal.written == 1
    finally:
        journal.close()
        db.dispose_all()
