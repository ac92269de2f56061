"""Issue 16 acceptance on the analytics side: the grid lies in the real territory and each commune's
residents add up to its INSEE population; the planner-grade PNG map (Lambert-93, names, TAD zones, source)."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import numpy as np
import pytest
import shapely

ROOT = Path(__file__).resolve().parent.parent
DAY = dt.date(2026, 12, 1)
WINDOW = (dt.time(8, 0), dt.time(9, 0))


@pytest.fixture(scope="module")
def ctx():
    from mobility.planning.context import load_context

    return load_context()


@pytest.fixture(scope="module")
def grid(ctx):
    from mobility.analysis.grid import build_grid

    return build_grid(ctx.communes, ctx.planner.network)


def insee_population() -> dict[str, int]:
    with open(ROOT / "data" / "facts" / "communes.csv", encoding="utf-8", newline="") as f:
        return {r["insee"]: int(r["population"]) for r in csv.DictReader(f)}


def test_territory_covers_every_grid_cell_and_stop(ctx, grid):
    territory = shapely.union_all(list(ctx.communes["geometry"]))
    shapely.prepare(territory)
    assert shapely.contains_xy(territory, grid.lon, grid.lat).all()  # every cell (evaluated at its centre)
    boxes = grid.boxes()
    assert (shapely.area(shapely.intersection(boxes, territory)) > 0).all()
    # the grid is clipped: no cell of the bounding box whose centre lies outside the outline is kept
    assert grid.n_cells < 0.8 * grid.nx * grid.ny
    stops = ctx.planner.network.stops
    inside = shapely.contains_xy(territory, stops["lon"].to_numpy(float), stops["lat"].to_numpy(float))
    outside_names = set(stops["stop_name"][~inside])
    assert outside_names == {"Renescure (gare)", "Watten-Éperlecques (gare)"}  # stations beyond the territory


def test_each_cell_belongs_to_the_commune_whose_polygon_holds_it(ctx, grid):
    geoms = list(ctx.communes["geometry"])
    for c in np.unique(grid.commune):
        cells = np.nonzero(grid.commune == c)[0]
        assert shapely.contains_xy(geoms[c], grid.lon[cells], grid.lat[cells]).all(), ctx.communes["name"][c]


def test_population_per_commune_is_insee(ctx, grid):
    """Residents are spread over the built-up cells (address points) of their own commune and add up, per
    commune, to its INSEE population (population municipale, data/facts/communes.csv)."""
    insee = insee_population()
    per_commune = np.bincount(grid.pop_commune, weights=grid.pop_value, minlength=len(ctx.communes))
    assert len(insee) == len(ctx.communes) == 89
    for k, code in enumerate(ctx.communes["insee"]):
        assert per_commune[k] == pytest.approx(insee[code], rel=1e-9), code
    assert grid.weighting == "addresses"
    # every populated cell is one of the commune's own cells or holds some of its addresses
    a = ctx.planner.network.addresses
    addr_cells = grid.cell_of(a["lat"].to_numpy(float), a["lon"].to_numpy(float))
    built = set(addr_cells[addr_cells >= 0].tolist())
    own = grid.commune[grid.pop_cell] == grid.pop_commune
    assert own.all()
    assert np.isin(grid.pop_cell, list(built)).mean() > 0.95
    assert (grid.population > 0).sum() < 0.5 * grid.n_cells  # built-up cells, not the fields


def test_access_table_population_is_insee(ctx):
    from mobility.analysis.access import accessibility

    table, _ = accessibility(ctx, DAY, WINDOW, categories=["sous_prefecture"], step_min=30, modes="transit")
    insee = insee_population()
    assert dict(zip(table["insee"], table["population"])) == insee
