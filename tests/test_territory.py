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
DAY = dt.date(2026, 12, 1)  # a school-term Tuesday
WINDOW = (dt.time(8, 0), dt.time(9, 0))


@pytest.fixture(scope="module")
def ctx(embedded_context):
    return embedded_context


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


# --------------------------------------------------------------------------------------------- PNG map
@pytest.fixture(scope="module")
def surface(ctx):
    from mobility.analysis.surface import compute_surface

    return compute_surface(ctx, "france_services", DAY, WINDOW, step_min=30)


def _texts(fig) -> dict[str, object]:
    return {t.get_gid(): t for t in fig.axes[0].texts + fig.texts if t.get_gid()}


@pytest.mark.slow  # multi-second; CI's second step runs it
def test_png_map_is_lambert93_with_names_tad_zones_and_source(ctx, surface, tmp_path):
    import geopandas as gpd
    import matplotlib.pyplot as plt
    from PIL import Image

    from mobility.analysis.maps import render_surface, surface_figure

    fig = surface_figure(ctx, surface, "p50", lang="fr")
    ax = fig.axes[0]
    assert ax.get_gid() == "EPSG:2154"
    # the axes are Lambert-93 metres: the territory's projected bounds, not degrees
    l93 = gpd.GeoSeries(list(ctx.communes["geometry"]), crs="EPSG:4326").to_crs("EPSG:2154")
    x0, y0, x1, y1 = l93.total_bounds
    (ax0, ax1), (ay0, ay1) = ax.get_xlim(), ax.get_ylim()
    assert ax0 <= x0 < x1 <= ax1 and ay0 <= y0 < y1 <= ay1 and ax1 - ax0 < 1.2 * (x1 - x0)
    # commune boundaries drawn from the projected polygons
    patches = {p.get_gid(): p for p in ax.patches if p.get_gid()}
    so = int(np.nonzero(ctx.communes["name"].to_numpy() == "Saint-Omer")[0][0])
    verts = patches["commune:62765"].get_path().vertices
    assert np.allclose(verts[:-1].mean(axis=0), np.asarray(l93.iloc[so].exterior.coords)[:-1].mean(axis=0), atol=1.0)
    # names of the main towns, over their commune (a label may be nudged off another, staying over its anchor)
    fig.canvas.draw()
    to_data = ax.transData.inverted()
    texts = _texts(fig)
    names = {g.split(":", 1)[1]: t for g, t in texts.items() if g.startswith("commune-name:")}
    main = ctx.communes[ctx.communes["population"] >= 2000]
    assert set(names) == set(main["insee"]) and len(names) >= 10
    for code, t in names.items():
        k = int(np.nonzero(ctx.communes["insee"].to_numpy() == code)[0][0])
        assert t.get_text() == ctx.communes["name"].iloc[k]
        (bx0, by0), (bx1, by1) = to_data.transform(t.get_window_extent().get_points())
        assert l93.iloc[k].distance(shapely.box(bx0, by0, bx1, by1)) < 300, t.get_text()
    # TAD zones: hatched patches, each named
    zones = {g.split(":", 1)[1] for g in patches if g.startswith("tad:")}
    assert zones == {"TAD-AIRE", "TAD-EPER", "TAD-FAUQ", "TAD-LUMB"}
    assert all(patches[f"tad:{z}"].get_hatch() for z in zones)
    assert {texts[f"tad-name:{z}"].get_text() for z in zones} >= {"TAD Pays de Lumbres", "TAD Pays de Fauquembergues"}
    # lines with their numbers, sites by category, legend, scale bar, north arrow
    numbers = {t.get_text() for g, t in texts.items() if g.startswith("line-number:")}
    assert {"1", "3", "4", "5", "R1", "R2", "R3", "R4"} <= numbers
    assert {c.get_gid() for c in ax.collections} >= {"sites:france_services", "sites:mairie", "target", "roads"}
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "zone TAD (transport à la demande)" in legend and "limite communale" in legend
    assert any(p.get_gid() == "scale-bar" for p in ax.patches) and texts["north-arrow"].get_text() == "N"
    # caption and source line, in French
    cap = texts["caption"].get_text()
    assert "mardi 1 décembre 2026" in cap and "08:00–09:00" in cap and "médiane" in cap
    assert "vers" in cap and "TAD" in cap
    assert texts["source"].get_text().startswith(
        "Données : réseau reconstruit, limites IGN Admin Express, populations INSEE")
    assert "EPSG:2154" in texts["source"].get_text()
    plt.close(fig)

    en = surface_figure(ctx, surface, "p50", lang="en", size="large")
    t_en = _texts(en)
    assert t_en["source"].get_text().startswith("Data: reconstructed network, IGN Admin Express boundaries, INSEE")
    assert "Tuesday 1 December 2026" in t_en["caption"].get_text()
    assert sum(g.startswith("commune-name:") for g in t_en) == 89  # the large map names every commune
    plt.close(en)

    path = render_surface(ctx, surface, tmp_path / "map.png", lang="fr")
    meta = Image.open(path).text
    assert meta["Comment"] == "CRS EPSG:2154" and "IGN Admin Express" in meta["Source"]


def test_isochrones_are_cut_along_the_outline(ctx, surface):
    from mobility.analysis.isochrones import isochrone_polygons

    territory = shapely.union_all(list(ctx.communes["geometry"]))
    polys = isochrone_polygons(surface, (15, 30, 45, 60), "p50")
    assert not polys[-1]["geometry"].is_empty
    for p in polys:
        assert p["geometry"].difference(territory).area <= 1e-9 * territory.area, p["time_min"]
    # uncut, the union of the reached cells' squares would stick out of the outline
    g = surface.grid
    reached = np.nonzero(surface.stat_min("p50") <= 60)[0]
    assert shapely.union_all(g.boxes(reached)).difference(territory).area > 0
