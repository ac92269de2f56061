"""The package installs like one: a wheel built from the checkout, installed into a fresh venv outside the
repository, serves pages and finds its embedded data from any folder; ``mobility --version``.

The fresh venv takes its third-party dependencies from the running interpreter's site-packages (a ``.pth``
line), so the test needs neither the network nor minutes of dependency installs; ``mobility`` itself comes
only from the wheel. The wheel cases take ~15 s: marked slow (the second step of scripts/test).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import site
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path

import pytest

import mobility

ROOT = Path(__file__).resolve().parents[1]


def test_version_option():
    out = subprocess.run([sys.executable, "-m", "mobility.interfaces.cli", "--version"], capture_output=True,
                         text=True, timeout=60, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == f"mobility {mobility.__version__}"


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(venv bin folder, a working folder outside the repository) with the wheel installed."""
    base = tmp_path_factory.mktemp("wheel")
    dist, src = base / "dist", base / "src"
    # build from a copy: setuptools writes build/ and *.egg-info next to the sources
    src.mkdir()
    for name in ("setup.py", "setup.cfg", "pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    for name in ("mobility", "web", "data"):
        shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.sqlite*"))
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                            "--no-index", "-w", str(dist), str(src)], capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, build.stdout[-2000:] + build.stderr[-2000:]
    (wheel,) = dist.glob("mobility-*.whl")
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    purelib = next((venv / "lib").glob("python*/site-packages"))
    # pip installs the wheel (files, RECORD, the `mobility` console script) into the fresh venv
    inst = subprocess.run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install",
                           "--no-deps", "--no-index", str(wheel)], capture_output=True, text=True, timeout=300,
                          env=_env(base))
    assert inst.returncode == 0, inst.stdout[-2000:] + inst.stderr[-2000:]
    # then the dependencies: the running interpreter's site-packages, after the venv's own (a .pth line adds
    # the folder without processing its .pth files, so an editable install of the checkout stays inactive)
    (purelib / "_deps.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    bindir = venv / "bin"
    work = base / "elsewhere"
    work.mkdir()
    return bindir, work, wheel


def _env(base: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "MOBILITY_DATA_DIR", "VIRTUAL_ENV")}
    env.update(MOBILITY_CACHE_DIR=str(base / "cache"), XDG_DATA_HOME=str(base / "share"), PYTHONNOUSERSITE="1")
    return env


@pytest.mark.slow
def test_wheel_carries_web_files_and_data(installed):
    _, _, wheel = installed
    names = set(zipfile.ZipFile(wheel).namelist())
    for path in ("mobility/_web/templates/base.html", "mobility/_web/static/js/app.js",
                 "mobility/_data/gtfs/audomarois/stops.txt", "mobility/_data/osm/audomarois.osm.pbf",
                 "mobility/_data/services.csv", "mobility/observatory/templates/report.html",
                 "mobility/locale/fr/LC_MESSAGES/mobility.mo", "mobility/locale/en/LC_MESSAGES/mobility.mo",
                 "mobility/locale/en/LC_MESSAGES/mobility.po"):
        assert path in names, path
    assert not any(n.endswith(".sqlite") for n in names)


@pytest.mark.slow
def test_wheel_info_and_serve_from_another_folder(installed):
    bindir, work, _ = installed
    env = _env(work.parent)
    where = subprocess.run([str(bindir / "python"), "-c", "import mobility, mobility.config as c; "
                            "print(mobility.__file__); print(c.DATA_DIR); print(c.WEB_DIR)"],
                           cwd=work, env=env, capture_output=True, text=True, timeout=60)
    assert where.returncode == 0, where.stderr
    for line in where.stdout.split():
        assert str(ROOT) not in line, where.stdout  # the installed copy, not the checkout

    info = subprocess.run([str(bindir / "mobility"), "info", "--json"], cwd=work, env=env, capture_output=True,
                          text=True, timeout=600)
    assert info.returncode == 0, info.stderr[-2000:]
    summary = json.loads(info.stdout)
    assert summary, info.stdout

    proc = subprocess.Popen([str(bindir / "mobility"), "serve", "--port", "0", "--threads", "2"], cwd=work,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        line = proc.stdout.readline()
        match = re.search(r"http://[^/\s]+/", line)
        assert match, line
        url = match.group(0)
        deadline = time.monotonic() + 300
        while True:
            try:
                with urllib.request.urlopen(url + "api/health", timeout=10) as resp:
                    health = json.load(resp)
                    if health["status"] == "ok":
                        break
            except urllib.error.HTTPError as exc:  # 503 while the data loads
                assert exc.code == 503, exc
            assert time.monotonic() < deadline, "the data did not load"
            time.sleep(1)
        assert health["version"] == mobility.__version__
        with urllib.request.urlopen(url, timeout=30) as resp:
            page = resp.read().decode()
        assert resp.status == 200 and "<html" in page.lower()
        # the app's own stylesheet, with its version (the form page no longer links Leaflet's: issue 10)
        css = re.search(r'href="(/static/[^"]+\.css(?:\?v=[0-9a-f]+)?)"', page)
        assert css, "the page links no stylesheet"
        with urllib.request.urlopen(url.rstrip("/") + css.group(1), timeout=30) as resp:
            assert resp.status == 200 and resp.read()
        with urllib.request.urlopen(url + "?lang=en", timeout=30) as resp:  # the catalogs of the wheel
            assert "Audomarois mobility centre" in resp.read().decode()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
