"""Shared fixtures: an isolated cache folder, the embedded-data planner and context, and ../shared/realdata."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
REALDATA = ROOT.parent / "shared" / "realdata"


@pytest.fixture(scope="session", autouse=True)
def _isolated_cache(tmp_path_factory):
    """Built networks go to a per-session folder, never to the user's cache."""
    path = tmp_path_factory.mktemp("mobility-cache")
    old = os.environ.get("MOBILITY_CACHE_DIR")
    os.environ["MOBILITY_CACHE_DIR"] = str(path)
    yield path
    if old is None:
        os.environ.pop("MOBILITY_CACHE_DIR", None)
    else:
        os.environ["MOBILITY_CACHE_DIR"] = old


@pytest.fixture(scope="session", autouse=True)
def _isolated_journal(tmp_path_factory):
    """The observatory journal of the web tests goes to a per-session SQLite file, never to data/."""
    path = tmp_path_factory.mktemp("observatory") / "journal.sqlite"
    old = os.environ.get("MOBILITY_DB_URL")
    os.environ["MOBILITY_DB_URL"] = f"sqlite:///{path}"
    yield path
    if old is None:
        os.environ.pop("MOBILITY_DB_URL", None)
    else:
        os.environ["MOBILITY_DB_URL"] = old


@pytest.fixture(scope="session")
def realdata() -> Path:
    """The folder of real feeds and extracts; tests using it skip where ../shared is absent."""
    if not REALDATA.is_dir():
        pytest.skip(f"real data not available: {REALDATA} is absent (it sits beside the repository in CI)")
    return REALDATA


@pytest.fixture(scope="session")
def embedded_planner():
    """Planner over the embedded (reconstructed) Audomarois data."""
    from mobility.planning.planner import Planner

    return Planner.load()


@pytest.fixture(scope="session")
def embedded_context():
    """Request context (planner, sites, geocoder, communes) over the embedded data."""
    from mobility.planning.context import load_context

    return load_context()
