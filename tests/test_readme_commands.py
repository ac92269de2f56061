"""Every ``mobility`` command of the README's bash blocks runs as written, from a scratch folder where
``data`` points at the repository's ``data/`` (so relative paths resolve and outputs land outside the
checkout). ``mobility serve`` gets ``--port 0`` (any free port) and is stopped once it answers; the
analytics commands (isochrones, accessibility, scenarios: half a minute each) and the street export are marked slow. Commands
on ``data/official`` need the online download of ``scripts/fetch_data.py`` and skip, saying so.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SLOW = {"isochrone", "access", "scenario", "streets"}


_ASSIGN = re.compile(r"^([A-Z_][A-Z0-9_]*)=(\S+)$")


def readme_commands() -> list[str]:
    """The ``mobility`` commands of the README's bash blocks: continued lines joined, the block's variables
    (``R=../shared/...``, kept from one block to the next as in one shell session) expanded, trailing comments
    dropped."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    out = []
    variables: dict[str, str] = {}
    for block in re.findall(r"```bash\n(.*?)```", text, flags=re.S):
        for line in re.sub(r"\\\n\s*", " ", block).splitlines():
            m = _ASSIGN.match(line.strip())
            if m:
                variables[m.group(1)] = m.group(2)
            elif line.startswith("mobility"):
                for name, value in variables.items():
                    line = line.replace(f"${name}", value)
                out.append(shlex.join(shlex.split(line, comments=True)))  # without the trailing comment
    return out


def _params() -> list:
    return list(_each_param())


def _each_param():
    for cmd in readme_commands():
        sub = shlex.split(cmd)[1]
        yield pytest.param(cmd, id=cmd[:60], marks=[pytest.mark.slow] if sub in SLOW else [])


def test_readme_has_the_commands():
    subs = {shlex.split(cmd)[1] for cmd in readme_commands()}
    assert {"info", "plan", "services", "geocode", "serve", "isochrone", "access", "scenario", "streets",
            "--version"} <= subs


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    """A folder standing where the checkout stands: ``data`` is the repository's, ``../shared`` the one beside
    the repository (when present)."""
    folder = tmp_path_factory.mktemp("readme")
    (folder / "data").symlink_to(ROOT / "data")
    shared = folder.parent / "shared"
    if (ROOT.parent / "shared").is_dir() and not shared.exists():
        shared.symlink_to(ROOT.parent / "shared")
    return folder


@pytest.mark.parametrize("command", _params())
def test_readme_command_runs(command, scratch):
    args = shlex.split(command)[1:]
    if any(a.startswith("data/official") for a in args):
        pytest.skip("needs data/official from scripts/fetch_data.py (online)")
    if any("HOST:" in a for a in args):
        pytest.skip("needs a Dask cluster at the placeholder HOST")
    if any(a.startswith("../shared") for a in args) and not (ROOT.parent / "shared").is_dir():
        pytest.skip(f"real data not available: {ROOT.parent / 'shared'} is absent")
    argv = [sys.executable, "-m", "mobility.interfaces.cli", *args]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    if args[0] == "serve":
        argv[argv.index("--port") + 1] = "0"
        proc = subprocess.Popen(argv, cwd=scratch, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                text=True)
        try:
            url = re.search(r"http://\S+/", proc.stdout.readline())
            assert url, "serve printed no URL"
            deadline = time.monotonic() + 120
            while True:
                try:
                    with urllib.request.urlopen(url.group(0) + "api/health", timeout=10) as resp:
                        assert resp.status == 200
                        break
                except urllib.error.HTTPError as exc:
                    assert exc.code == 503 and time.monotonic() < deadline  # still loading
                    time.sleep(1)
                except urllib.error.URLError:  # --workers N: refused until the workers listen
                    assert time.monotonic() < deadline and proc.poll() is None
                    time.sleep(0.2)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
        return
    done = subprocess.run(argv, cwd=scratch, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip()
    outputs = [args[i + 1] for i, a in enumerate(args[:-1]) if a in ("--out", "--csv")]
    for name in outputs:
        assert (scratch / name).is_file() and (scratch / name).stat().st_size > 0, name
