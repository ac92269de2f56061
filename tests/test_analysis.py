"""Planner analytics on the embedded data: surfaces vs door-to-door queries, isochrones, population, scenarios,
PNG maps, the Dask executor path."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import numpy as np
import pytest

DAY = dt.date(2026, 12, 1)
WINDOW = (dt.time(8, 0), dt.time(9, 0))


@pytest.fixture(scope="module")
def ctx():
    from mobility.planning.context import load_context

    return load_context()


@pytest.fixture(scope="module")
def surface(ctx):
    from mobility.analysis.surface import compute_surface

    return compute_surface(ctx, "sous_prefecture", DAY, WINDOW, step_min=10)


def _plan_options():
    from mobility.planning.planner import PlanOptions

    names = {f.name for f in dataclasses.fields(PlanOptions)}
    # surfaces are public transport + walking: compare with the planner without on-demand legs
    return PlanOptions(**({"allow_tad": False} if "allow_tad" in names else {}))


def _planner_times(ctx, s, cells, direction):
    from mobility.analysis.surface import UNREACHED
    from mobility.errors import NoRouteError

    opts = _plan_options()
    origin = ctx.planner.service_day_origin(DAY).replace(tzinfo=None)
    out = np.full((len(cells), s.n_departures), UNREACHED, np.int64)
    for a, c in enumerate(cells):
        cell = (float(s.grid.lat[c]), float(s.grid.lon[c]))
        for i, d in enumerate(s.departures_s):
            when = origin + dt.timedelta(seconds=int(d))
            for p in s.target.points:
                o, de = (cell, (p.lat, p.lon)) if direction == "to" else ((p.lat, p.lon), cell)
                try:
                    res = ctx.planner.plan(o, de, when, options=opts)
                except NoRouteError:
                    continue
                ea = min(it.arrival for it in res.itineraries).replace(tzinfo=None)
                v = int((ea - when).total_seconds())
                if v <= s.limit_min * 60:
                    out[a, i] = min(out[a, i], v)
    return out


def _sample(s, per_status=3, seed=0):
    rng = np.random.default_rng(seed)
    st = s.status()
    picks = [rng.choice(np.nonzero(st == k)[0], min(per_status, int((st == k).sum())), replace=False)
             for k in ("served", "walk", "no_service")]
    return np.concatenate(picks)


def test_surface_to_site_matches_door_to_door_queries(ctx, surface):
    cells = _sample(surface)
    ref = _planner_times(ctx, surface, cells, "to")
    got = surface.times_s[cells].astype(np.int64)
    assert np.array_equal(got.min(axis=1), ref.min(axis=1))  # the minimum over the window, exactly
    assert np.array_equal(got, ref)  # and every departure


def test_surface_from_point_matches_door_to_door_queries(ctx):
    from mobility.analysis.surface import compute_surface

    s = compute_surface(ctx, "50.7500,2.2520", DAY, WINDOW, step_min=15, direction="from")
    cells = _sample(s, 2, seed=1)
    assert np.array_equal(s.times_s[cells].astype(np.int64), _planner_times(ctx, s, cells, "from"))


def test_statistics_and_no_service_are_explicit(surface):
    from mobility.analysis.surface import UNREACHED

    df = surface.to_frame()
    st = df["status"]
    assert {"served", "no_service", "outside_network"} <= set(st)
    ns = df[st == "no_service"]
    assert ns["min_min"].isna().all() and (ns["share_reached"] == 0).all()  # never a walking time
    served = df[st == "served"]
    assert (served["min_min"] <= served["p5_min"].fillna(np.inf)).all()
    assert (served["p5_min"].fillna(np.inf) <= served["p25_min"].fillna(np.inf)).all()
    assert (served["p25_min"].fillna(np.inf) <= served["p50_min"].fillna(np.inf)).all()
    # planned departure never longer than the actual trip; offered more often (no initial wait)
    ok = surface.times_s != UNREACHED
    assert (surface.planned_s[ok] <= surface.times_s[ok]).all()
    assert ((surface.planned_s != UNREACHED).sum(axis=1) >= ok.sum(axis=1)).all()


def test_population_adds_up(ctx, surface):
    g = surface.grid
    pops = ctx.communes["population"].to_numpy(float)
    assert g.population.sum() == pytest.approx(pops.sum(), rel=1e-9)
    per_commune = np.bincount(g.pop_commune, weights=g.pop_value, minlength=len(pops))
    assert np.allclose(per_commune, pops, rtol=1e-9)


def test_isochrones_valid_nested_and_written(ctx, surface, tmp_path):
    import geopandas as gpd
    import shapely

    from mobility.analysis.isochrones import isochrone_polygons, write_isochrones

    polys = isochrone_polygons(surface, (15, 30, 45, 60), "p50")
    geoms = [p["geometry"] for p in polys]
    assert all(g.is_valid for g in geoms) and not geoms[-1].is_empty
    for small, big in zip(geoms, geoms[1:]):
        assert small.difference(big).area <= 1e-12 * max(big.area, 1e-12)
        assert big.area >= small.area
    gj = write_isochrones(surface, tmp_path / "iso.geojson")
    fc = json.loads(gj.read_text())
    assert fc["type"] == "FeatureCollection" and sorted(f["properties"]["time_min"] for f in fc["features"]) == [15, 30, 45, 60]
    assert all(shapely.geometry.shape(f["geometry"]).is_valid for f in fc["features"])
    gp = write_isochrones(surface, tmp_path / "iso.gpkg")
    gdf = gpd.read_file(gp, layer="isochrones")
    assert list(gdf["time_min"]) == [15, 30, 45, 60] and gdf.is_valid.all()


def test_isochrones_geojson_api(ctx):
    from mobility.analysis.isochrones import isochrones_geojson

    fc = isochrones_geojson(ctx, "sous_prefecture", DAY, WINDOW, step_min=15)
    assert fc["type"] == "FeatureCollection" and len(fc["features"]) == 4
    assert fc["properties"]["date"] == DAY.isoformat()


def test_adding_a_site_never_worsens_any_cell(ctx, surface):
    from mobility.analysis.scenario import Change, difference_table, scenario_inputs
    from mobility.analysis.surface import compute_surface

    change = Change("add", "site", "new-1", "Nouveau site", ("sous_prefecture",), 50.700, 2.250)
    target, tt = scenario_inputs(ctx, (change,), "sous_prefecture", DAY, surface.options)
    assert len(target.points) == 2 and tt is None
    scen = compute_surface(ctx, target, DAY, WINDOW, step_min=10)
    assert (scen.times_s.astype(np.int64) <= surface.times_s.astype(np.int64)).all()
    assert (scen.times_s < surface.times_s).any()
    table = difference_table(surface, scen)
    assert (table["population_losing"] == 0).all() and table["population_gaining"].sum() > 0


def test_removing_a_line_never_improves(ctx, surface):
    from mobility.analysis.scenario import without_routes
    from mobility.analysis.surface import compute_surface

    tt = ctx.planner.network.timetable(DAY, walk_speed_mps=1.2, max_walk_m=2000.0, min_transfer_s=120)
    cut = without_routes(tt, {tt.route_orig_ids[0]})
    scen = compute_surface(ctx, "sous_prefecture", DAY, WINDOW, step_min=10, timetable=cut)
    assert (scen.times_s.astype(np.int64) >= surface.times_s.astype(np.int64)).all()


def test_png_map_is_produced(ctx, surface, tmp_path):
    import matplotlib.image as mpimg

    from mobility.analysis.maps import render_surface

    path = render_surface(ctx, surface, tmp_path / "map.png")
    assert path.stat().st_size > 50_000
    img = mpimg.imread(path)
    colours = np.unique((img[..., :3] * 255).astype(np.uint8).reshape(-1, 3), axis=0)
    assert len(colours) > 20


def test_accessibility_table(ctx):
    from mobility.analysis.access import accessibility

    table, summary = accessibility(ctx, DAY, WINDOW, categories=["france_services", "sous_prefecture"], step_min=15)
    assert len(table) == 2 * len(ctx.communes)
    fs = table[table["category"] == "france_services"]
    assert fs["population"].sum() == pytest.approx(ctx.communes["population"].sum(), abs=len(fs))
    assert ((fs["share_15"] <= fs["share_30"]) & (fs["share_30"] <= fs["share_45"])).all()
    assert "% of residents within 30 min of a" in summary["summary"].iloc[0]


def test_dask_local_cluster_matches_in_process(ctx):
    pytest.importorskip("dask.distributed")
    from dask.distributed import Client, LocalCluster

    from mobility.analysis.executors import SurfaceJob, register_context, run_jobs

    key = register_context(ctx)
    jobs = [SurfaceJob(key, t, DAY, WINDOW, 15) for t in ("sous_prefecture", "france_services")]
    local = run_jobs(jobs)
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as cluster, Client(cluster) as client:
        remote = run_jobs(jobs, client)
    for a, b in zip(local, remote):
        assert np.array_equal(a.times_s, b.times_s) and np.array_equal(a.planned_s, b.planned_s)


def test_cli_isochrone_writes_geojson(tmp_path, capsys):
    from mobility.interfaces.cli import main

    out = tmp_path / "iso.geojson"
    assert main(["isochrone", "--to", "sous_prefecture", "--date", DAY.isoformat(), "--window", "08:00-09:00",
                 "--step-min", "15", "--out", str(out)]) == 0
    assert json.loads(out.read_text())["type"] == "FeatureCollection"
    assert "% of residents" in capsys.readouterr().out
