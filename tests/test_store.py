"""The start-up path and the on-disk cache format (mobility.network.store): fast --help, no pickle, atomic
entries that a corrupt or planted file cannot subvert, pruning, and the multi-process server."""

from __future__ import annotations

import datetime as dt
import http.client
import json
import math
import os
import pickle
import re
import subprocess
import sys
import time
from collections import OrderedDict, defaultdict
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mobility.network import store

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("numpy", "pandas", "scipy", "geopandas", "numba", "shapely", "flask", "sqlalchemy", "matplotlib")


def _env(**extra) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.update(extra)
    return env


@pytest.mark.parametrize("argv", [["--help"], ["plan", "--help"], ["isochrone", "--help"], ["serve", "--help"]])
def test_help_imports_nothing_heavy(argv):
    code = ("import sys, runpy\n"
            f"sys.argv = ['mobility', *{argv!r}]\n"
            "try:\n    runpy.run_module('mobility', run_name='__main__')\nexcept SystemExit:\n    pass\n"
            f"heavy = sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r})\n"
            "print('HEAVY', heavy, file=sys.stderr)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=_env(), timeout=60)
    assert "usage: mobility" in out.stdout
    assert "HEAVY []" in out.stderr, out.stderr


# ------------------------------------------------------------------------------------------------ format
class _Thing:
    def __init__(self, **kw):
        self.__dict__.update(kw)


def _roundtrip(tmp_path, obj, classes=()):
    path = tmp_path / "thing-0123456789abcdef.store"
    store.save(path, obj, kind="thing", version=1, key="k", classes=classes)
    return store.load(path, kind="thing", version=1, key="k", classes=classes)


def test_roundtrip_keeps_types_values_and_sharing(tmp_path):
    import shapely

    arr = np.arange(10, dtype=np.int32)
    df = pd.DataFrame({"a": [1, 2, 3], "s": pd.Series(["x", None, "é"], dtype="str"),
                       "o": pd.Series(["p", np.nan, "q"], dtype=object), "d": [dt.date(2026, 12, 1)] * 3,
                       "f": [1.5, math.nan, -0.0], "b": [True, False, True],
                       "c": pd.Categorical(["u", "v", "u"])}, index=pd.Index([5, 6, 7], name="i"))
    thing = _Thing(arr=arr, same=arr, df=df, scalar=np.float64(2.5), big=2**70, inf=math.inf,
                   d={dt.date(2026, 1, 1): (1, "a"), (1, 2): {3}}, od=OrderedDict(b=1, a=2),
                   dd=defaultdict(list, {"k": [1]}), empty=np.zeros((0, 3)), words=["w%d" % i for i in range(100)],
                   zone=shapely.box(0, 0, 1, 1), text=np.array(["ab", "c"]), when=dt.datetime(2026, 1, 2, 3, 4))
    back = _roundtrip(tmp_path, thing, classes=(_Thing,))
    assert isinstance(back, _Thing)
    assert back.arr.dtype == np.int32 and back.arr.tolist() == list(range(10)) and back.same is back.arr
    assert back.arr.flags.writeable  # copy-on-write mapping: the planner may write into its arrays
    pd.testing.assert_frame_equal(back.df, df)
    assert list(back.df.dtypes) == list(df.dtypes)
    assert type(back.scalar) is np.float64 and back.scalar == 2.5
    assert back.big == 2**70 and back.inf == math.inf
    assert back.d == thing.d and type(back.od) is OrderedDict and list(back.od) == ["b", "a"]
    assert type(back.dd) is defaultdict and back.dd["new"] == [] and back.dd["k"] == [1]
    assert back.empty.shape == (0, 3) and back.words == thing.words
    assert back.zone.equals(thing.zone) and back.text.tolist() == ["ab", "c"] and back.when == thing.when


def test_unknown_type_is_not_written(tmp_path):
    with pytest.raises(store.StoreError):
        store.save(tmp_path / "thing-0123456789abcdef.store", _Thing(a=1), kind="thing", version=1, key="k",
                   classes=())
    assert list(tmp_path.iterdir()) == []  # the temporary folder is gone too


def test_a_class_not_allowed_is_never_built(tmp_path):
    path = tmp_path / "thing-0123456789abcdef.store"
    store.save(path, _Thing(a=1), kind="thing", version=1, key="k", classes=(_Thing,))
    assert store.load(path, kind="thing", version=1, key="k", classes=()) is None
    # a manifest naming any importable callable is refused the same way (names are looked up, never imported)
    head = json.loads((path / "manifest.json").read_text())
    head["root"] = {"t": "new", "cls": "os.system", "args": {"t": "tuple", "items": ["touch /tmp/pwned"]}}
    (path / "manifest.json").write_text(json.dumps(head))
    assert store.load(path, kind="thing", version=1, key="k", classes=(_Thing,)) is None


@pytest.mark.parametrize("damage", ["truncate", "garbage", "manifest", "version", "key", "missing"])
def test_damaged_entries_read_as_absent(tmp_path, damage):
    path = tmp_path / "thing-0123456789abcdef.store"
    store.save(path, {"a": np.arange(1000)}, kind="thing", version=1, key="k", classes=())
    arrays, manifest = path / "arrays.bin", path / "manifest.json"
    if damage == "truncate":
        arrays.write_bytes(arrays.read_bytes()[:100])
    elif damage == "garbage":
        manifest.write_bytes(os.urandom(200))
    elif damage == "manifest":
        manifest.write_text(manifest.read_text()[:50])
    elif damage == "missing":
        arrays.unlink()
    version, key = (2, "k") if damage == "version" else (1, "other") if damage == "key" else (1, "k")
    assert store.load(path, kind="thing", version=version, key=key, classes=()) is None


# ------------------------------------------------------------------------------------------------ the network cache
@pytest.fixture()
def cache(monkeypatch, tmp_path):
    import mobility.config as config

    monkeypatch.setattr(config, "_warned", set())
    monkeypatch.setattr(config, "_cleaned", set())
    folder = tmp_path / "cache"
    monkeypatch.setenv("MOBILITY_CACHE_DIR", str(folder))
    return folder


class _Boom:
    def __reduce__(self):
        return (os.system, (f"touch {_Boom.marker}",))


def test_planted_pickle_is_never_loaded(cache, tmp_path):
    """A pickle planted under any cache entry's name (old or new) is not unpickled: its code does not run."""
    from mobility.network.build import inputs_key, load_network
    from mobility.config import DEFAULT_GTFS_PATHS, DEFAULT_OSM_PATH

    marker = tmp_path / "pwned"
    _Boom.marker = marker
    cache.mkdir()
    key = inputs_key(DEFAULT_GTFS_PATHS, DEFAULT_OSM_PATH)
    payload = pickle.dumps(_Boom())
    (cache / f"network-{key}.pickle").write_bytes(payload)
    planted = cache / f"network-{key}.store"
    planted.mkdir()
    (planted / "manifest.json").write_bytes(payload)
    (planted / "arrays.bin").write_bytes(payload)
    net = load_network()
    assert len(net.stops) > 100 and not marker.exists()
    assert not (cache / f"network-{key}.pickle").exists()  # pruned: the old format is never read again
    assert json.loads((planted / "manifest.json").read_text())["format"] == store.FORMAT  # rebuilt in place


def test_corrupt_network_entry_is_rebuilt(cache, caplog):
    from mobility.network.build import load_network

    first = load_network()
    entry = next(cache.glob("network-*.store"))
    (entry / "arrays.bin").write_bytes(b"\0" * 10)  # truncated
    again = load_network()
    assert len(again.stops) == len(first.stops)
    assert not [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")]
    reread = load_network()  # the rebuilt entry is good again, and its arrays are mapped, not copied
    assert np.array_equal(reread.walk.length_m, first.walk.length_m)
    assert _mapped(reread.walk.length_m) and _mapped(reread.stops["lat"].to_numpy())


def _mapped(a: np.ndarray) -> bool:
    import mmap

    while isinstance(a, np.ndarray):
        a = a.base
    return isinstance(a, memoryview) and isinstance(a.obj, mmap.mmap)


def test_prune_removes_old_versions_stale_and_beyond_the_cap(tmp_path):
    folder = tmp_path
    (folder / "network-00000000aaaaaaaa.pickle").write_bytes(b"old format")
    (folder / "notes.txt").write_text("not ours")
    for name, version in (("network-11111111aaaaaaaa", 1), ("network-22222222aaaaaaaa", 2),
                          ("network-33333333aaaaaaaa", 2), ("network-44444444aaaaaaaa", 2),
                          ("geocoder-55555555aaaaaaaa", 9)):
        store.save(folder / f"{name}.store", np.zeros(100_000), kind=name.split("-")[0], version=version,
                   key="k", classes=())
    old = time.time() - 40 * 86400
    os.utime(folder / "network-22222222aaaaaaaa.store" / "manifest.json", (old, old))  # unused for 40 days
    lru = time.time() - 3600
    os.utime(folder / "network-33333333aaaaaaaa.store" / "manifest.json", (lru, lru))
    removed = store.prune(folder, versions={"network": 2}, keep=[folder / "network-44444444aaaaaaaa.store"],
                          limit=10 * 800_000)
    assert sorted(removed) == ["network-00000000aaaaaaaa.pickle", "network-11111111aaaaaaaa.store",
                               "network-22222222aaaaaaaa.store"]
    # beyond the cap: the least recently used goes first, the kept entry never
    removed = store.prune(folder, versions={"network": 2}, keep=[folder / "network-44444444aaaaaaaa.store"],
                          limit=2 * 800_000 + 100_000)  # three entries of 800 kB left: one must go
    assert removed == ["network-33333333aaaaaaaa.store"]
    left = sorted(p.name for p in folder.iterdir())
    assert left == ["geocoder-55555555aaaaaaaa.store", "network-44444444aaaaaaaa.store", "notes.txt"]


def test_concurrent_writers_leave_one_complete_entry(tmp_path):
    path = tmp_path / "thing-0123456789abcdef.store"
    for value in (1, 2):  # the second write replaces the first entry (a rebuild after a corrupt read)
        store.save(path, {"v": np.full(10, value)}, kind="thing", version=1, key="k", classes=())
    assert store.load(path, kind="thing", version=1, key="k", classes=())["v"].tolist() == [2] * 10
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


# ------------------------------------------------------------------------------------------------ serving
@pytest.mark.slow
def test_serve_with_two_workers_answers_health_and_stops():
    proc = subprocess.Popen([sys.executable, "-m", "mobility", "serve", "--port", "0", "--workers", "2"],
                            cwd=ROOT, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        port = int(re.search(r":(\d+)/", proc.stdout.readline()).group(1))
        deadline, answers = time.time() + 120, 0
        while answers < 4:  # connections are refused until the workers listen (the data loads before the fork)
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                conn.request("GET", "/api/health", headers={"Accept": "application/json"})
                resp = conn.getresponse()
                body = json.loads(resp.read())
                conn.close()
            except ConnectionRefusedError:
                assert time.time() < deadline and proc.poll() is None
                time.sleep(0.1)
                continue
            assert resp.status == 200 and body["status"] == "ok" and body["stops"] > 100
            answers += 1
        psutil = pytest.importorskip("psutil")
        workers = psutil.Process(proc.pid).children()
        assert len(workers) == 2
        workers[0].kill()  # a worker that dies is replaced
        deadline = time.time() + 30
        while {p.pid for p in psutil.Process(proc.pid).children()} & {workers[0].pid} or len(
                psutil.Process(proc.pid).children()) < 2:
            assert time.time() < deadline, "the dead worker was not replaced"
            time.sleep(0.1)
    finally:
        proc.terminate()
        assert proc.wait(20) == 0


_SUPERVISOR = """
import sys, time
from mobility.interfaces import prefork
prefork.STOP_GRACE_S = 30.0  # a worker that misses its SIGTERM would hold the stop that long
sys.exit(prefork.run(lambda: time.sleep(120), 3))
"""


def test_a_stop_while_workers_start_stops_every_worker():
    """SIGTERM at any moment of the start (during a fork too) stops the supervisor and all its workers, status 0:
    the signal waits until the child is recorded, and in the child until the worker's own handler is in place."""
    psutil = pytest.importorskip("psutil")
    rng = np.random.default_rng(3)
    for delay_s in rng.uniform(0.0, 0.01, 25):
        proc = subprocess.Popen([sys.executable, "-c", _SUPERVISOR], cwd=ROOT, env=_env())
        sup = psutil.Process(proc.pid)
        deadline = time.time() + 30
        while not sup.children() and time.time() < deadline:  # the interpreter has started and forks
            time.sleep(0.001)
        time.sleep(float(delay_s))
        kids = sup.children()
        proc.terminate()
        assert proc.wait(10) == 0
        for kid in kids:
            assert not kid.is_running() or kid.status() == psutil.STATUS_ZOMBIE


def test_orphan_temporary_entries_are_cleaned_at_start(cache):
    """A writer killed while writing (or while replacing an entry) leaves a folder: removed at the next start."""
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True).stdout.strip()
    cache.mkdir()
    orphans = [cache / f"network-0123456789abcdef.tmp{dead}", cache / f"geocoder-0123456789abcdef.tmp{dead}old"]
    for folder in orphans:
        folder.mkdir()
        (folder / "arrays.bin").write_bytes(b"x" * 1000)
    mine = cache / f"network-0123456789abcdef.tmp{os.getpid()}"
    mine.mkdir()
    from mobility.config import cache_dir

    assert cache_dir() == cache
    assert not any(p.exists() for p in orphans) and mine.exists()
