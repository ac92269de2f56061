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
def ctx(embedded_context):
    return embedded_context


@pytest.fixture(scope="module")
def surface(ctx):
    from mobility.analysis.surface import compute_surface

    return compute_surface(ctx, "sous_prefecture", DAY, WINDOW, step_min=10, modes="transit")


@pytest.fixture(scope="module")
def booked_at():
    """Analytics assume TAD rides booked in advance: the planner reference books the day before at 08:00."""
    return dt.datetime.combine(DAY - dt.timedelta(days=1), dt.time(8, 0))


def _plan_options():
    from mobility.planning.planner import PlanOptions

    names = {f.name for f in dataclasses.fields(PlanOptions)}
    # surfaces are public transport + walking: compare with the planner without on-demand legs
    return PlanOptions(**({"allow_tad": False} if "allow_tad" in names else {}))


def _planner_times(ctx, s, cells, direction, booked_at=None, planner=None):
    """Per (cell, departure) earliest-arrival times of ``planner.plan`` (TAD allowed when ``booked_at``)."""
    from mobility.analysis.surface import UNREACHED
    from mobility.errors import NoRouteError
    from mobility.planning.planner import PlanOptions

    planner = planner or ctx.planner
    opts = _plan_options() if booked_at is None else PlanOptions()
    origin = ctx.planner.service_day_origin(DAY).replace(tzinfo=None)
    out = np.full((len(cells), s.n_departures), UNREACHED, np.int64)
    for a, c in enumerate(cells):
        cell = (float(s.grid.lat[c]), float(s.grid.lon[c]))
        for i, d in enumerate(s.departures_s):
            when = origin + dt.timedelta(seconds=int(d))
            for p in s.target.points:
                o, de = (cell, (p.lat, p.lon)) if direction == "to" else ((p.lat, p.lon), cell)
                try:
                    res = planner.plan(o, de, when, options=opts, booked_at=booked_at)
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

    s = compute_surface(ctx, "50.7500,2.2520", DAY, WINDOW, step_min=15, direction="from", modes="transit")
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
    scen = compute_surface(ctx, target, DAY, WINDOW, step_min=10, modes="transit")
    assert (scen.times_s.astype(np.int64) <= surface.times_s.astype(np.int64)).all()
    assert (scen.times_s < surface.times_s).any()
    table = difference_table(surface, scen)
    assert (table["population_losing"] == 0).all() and table["population_gaining"].sum() > 0


def test_removing_a_line_never_improves(ctx, surface):
    from mobility.analysis.scenario import without_routes
    from mobility.analysis.surface import compute_surface

    tt = ctx.planner.network.timetable(DAY, walk_speed_mps=1.2, max_walk_m=2000.0, min_transfer_s=120)
    cut = without_routes(tt, {tt.route_orig_ids[0]})
    scen = compute_surface(ctx, "sous_prefecture", DAY, WINDOW, step_min=10, timetable=cut, modes="transit")
    assert (scen.times_s.astype(np.int64) >= surface.times_s.astype(np.int64)).all()


@pytest.mark.slow  # ~6 s; tests/test_territory.py checks the PNG map's artists in the default step
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


@pytest.mark.slow  # ~3 s: CI's second step (test_i18n_edges runs the isochrone labels in the default step)
def test_cli_isochrone_writes_geojson(tmp_path, capsys):
    from mobility.interfaces.cli import main

    out = tmp_path / "iso.geojson"
    assert main(["isochrone", "--to", "sous_prefecture", "--date", DAY.isoformat(), "--window", "08:00-09:00",
                 "--step-min", "15", "--out", str(out), "--lang", "en"]) == 0
    assert json.loads(out.read_text())["type"] == "FeatureCollection"
    assert "% of residents" in capsys.readouterr().out


# ------------------------------------------------------------------------------------------- TAD

def _in_zones(ctx, grid):
    from mobility.analysis.tad import zone_mask

    out = np.zeros(grid.n_cells, bool)
    for z in ctx.planner.network.flex.zones:
        out |= zone_mask(grid, z)
    return out


@pytest.fixture(scope="module")
def tad_pair(ctx):
    """Surfaces to the Mairie d'Éperlecques (inside TAD zone TAD-EPER) without and with TAD."""
    from mobility.analysis.surface import compute_surface

    kw = dict(step_min=15)
    return (compute_surface(ctx, "svc-024", DAY, WINDOW, modes="transit", **kw),
            compute_surface(ctx, "svc-024", DAY, WINDOW, **kw))


def test_tad_surface_matches_planner_with_tad_in_a_zone(ctx, tad_pair, booked_at):
    base, s = tad_pair
    assert s.modes == "transit+tad" and "booked in advance" in s.describe()
    assert "réservé à l'avance" in s.describe(lang="fr") and "mardi 1 décembre 2026" in s.describe(lang="fr")
    inz = _in_zones(ctx, s.grid)
    st, bst = s.status(), base.status()
    rng = np.random.default_rng(3)
    gained = np.nonzero(inz & (bst == "no_service") & (st == "served"))[0]
    assert len(gained) > 0  # TAD-zone cells with no service without TAD get a time with it
    same_zone = np.nonzero(inz & (st == "served") & (s.grid.lat > 50.78) & (s.grid.lon < 2.2))[0]
    outside = np.nonzero(~inz & (st == "served") & s.grid.snapped)[0]
    cells = np.concatenate([rng.choice(gained, 2, replace=False), rng.choice(same_zone, 1, replace=False),
                            rng.choice(outside, 1, replace=False)])
    ref = _planner_times(ctx, s, cells, "to", booked_at)
    got = s.times_s[cells].astype(np.int64)
    assert np.array_equal(got.min(axis=1), ref.min(axis=1))  # the minimum over the window, exactly
    assert np.array_equal(got, ref)
    # never worse than without TAD; the TAD option is only an addition
    assert (s.times_s.astype(np.int64) <= base.times_s.astype(np.int64)).all()


def test_tad_surface_from_a_point_matches_planner(ctx, booked_at):
    from mobility.analysis.surface import compute_surface

    s = compute_surface(ctx, "50.7536,2.2671", DAY, (dt.time(8, 0), dt.time(8, 30)), step_min=30,
                        direction="from")
    inz = _in_zones(ctx, s.grid)
    cells = np.random.default_rng(4).choice(np.nonzero(inz & (s.status() == "served"))[0], 3, replace=False)
    assert np.array_equal(s.times_s[cells].astype(np.int64), _planner_times(ctx, s, cells, "from", booked_at))


def test_modes_option(ctx, tad_pair):
    from mobility.analysis.surface import compute_surface
    from mobility.errors import InputError

    base, s = tad_pair
    assert base.modes == "transit" and "TAD" not in base.describe()
    with pytest.raises(InputError):
        compute_surface(ctx, "svc-024", DAY, WINDOW, modes="car")


# ------------------------------------------------------------------------------------------- scenarios

EXAMPLE = __import__("pathlib").Path(__file__).resolve().parents[1] / "data" / "scenarios" / \
    "ligne_eperlecques_tad_plateau.geojson"


def test_scenario_file_format(tmp_path):
    from mobility.analysis.scenario import load_scenario
    from mobility.errors import InputError

    line, zone = load_scenario(EXAMPLE)
    assert (line.kind, line.action, zone.kind, zone.action) == ("line", "add", "zone", "add")
    assert line.properties["headway_min"] == 30 and zone.geom["type"] == "Polygon"
    bad = tmp_path / "bad.csv"
    bad.write_text("action,kind,name,stops\nadd,line,X,62765_GARE\n", encoding="utf-8")
    with pytest.raises(InputError, match="at least 2 stops"):
        load_scenario(bad)
    csvf = tmp_path / "zone.csv"
    csvf.write_text("action,kind,name,hubs,wkt\nadd,tad_zone,Z,62765_GARE,"
                    "\"POLYGON ((2.2 50.7, 2.3 50.7, 2.3 50.75, 2.2 50.7))\"\n", encoding="utf-8")
    assert load_scenario(csvf)[0].geom["type"] == "Polygon"


def test_adding_a_line_never_worsens_and_improves_near_it(ctx):
    from mobility.analysis.scenario import difference_table, load_scenario, scenario_setup
    from mobility.analysis.surface import compute_surface
    from mobility.planning.planner import PlanOptions

    line = load_scenario(EXAMPLE)[0]
    n_stops = len(ctx.planner.network.stops)
    target, kw = scenario_setup(ctx, (line,), "svc-024", DAY, PlanOptions())
    assert len(ctx.planner.network.stops) == n_stops  # the cached baseline is not modified
    base = compute_surface(ctx, "svc-024", DAY, WINDOW, step_min=15, modes="transit")
    scen = compute_surface(ctx, target, DAY, WINDOW, step_min=15, modes="transit", **kw)
    assert (scen.times_s.astype(np.int64) <= base.times_s.astype(np.int64)).all()
    better = np.nonzero((scen.times_s < base.times_s).any(axis=1))[0]
    assert len(better) > 0
    # the improved cells are near the line (Saint-Omer - Tilques - Moulle - Houlle - Éperlecques)
    assert np.median(scen.grid.lat[better]) > 50.74
    table = difference_table(base, scen)
    assert (table["population_losing"] == 0).all() and table["population_gaining"].sum() > 0
    # and the scenario surface is the scenario planner's answer
    cell = better[:1]
    ref = _planner_times(ctx, scen, cell, "to", planner=kw["planner"])
    assert np.array_equal(scen.times_s[cell].astype(np.int64), ref)


def test_adding_a_tad_zone_never_worsens_and_improves_near_it(ctx):
    from mobility.analysis.comparison import compare
    from mobility.analysis.scenario import load_scenario

    zone = load_scenario(EXAMPLE)[1]
    [r] = compare(ctx, (zone,), DAY, WINDOW, categories=["france_services"], step_min=20)
    assert (r.scenario.times_s.astype(np.int64) <= r.baseline.times_s.astype(np.int64)).all()
    better = np.nonzero((r.scenario.times_s < r.baseline.times_s).any(axis=1))[0]
    assert len(better) > 0
    lat, lon = r.scenario.grid.lat[better], r.scenario.grid.lon[better]
    assert ((lat >= 50.60) & (lat <= 50.71) & (lon >= 2.14) & (lon <= 2.32)).mean() > 0.9
    assert (r.table["population_losing"] == 0).all() and r.table["population_gaining"].sum() > 0
    assert list(r.table["threshold_min"]) == [15, 30, 45, 60]


@pytest.mark.slow  # multi-second; CI's second step runs it
def test_cli_scenario_reports_population_gaining(tmp_path, capsys):
    from mobility.interfaces.cli import main

    out = tmp_path / "diff.csv"
    assert main(["scenario", str(EXAMPLE), "--category", "france_services", "--date", DAY.isoformat(),
                 "--window", "08:00-09:00", "--step-min", "30", "--csv", str(out), "--lang", "en"]) == 0
    text = capsys.readouterr().out
    assert "population_gaining" in text and "add TAD zone" in text
    import pandas as pd

    assert pd.read_csv(out)["population_gaining"].sum() > 0


def test_removing_a_tad_zone_never_improves(ctx, tad_pair):
    from mobility.analysis.scenario import Change, scenario_setup
    from mobility.analysis.surface import compute_surface
    from mobility.planning.planner import PlanOptions

    base, s = tad_pair
    target, kw = scenario_setup(ctx, (Change("remove", "zone", "TAD-EPER"),), "svc-024", DAY, PlanOptions())
    assert len(ctx.planner.network.flex.hops) == 12 and len(kw["flex"].hops) == 9  # a copy, the baseline intact
    cut = compute_surface(ctx, target, DAY, WINDOW, step_min=15, **kw)
    assert (cut.times_s.astype(np.int64) >= s.times_s.astype(np.int64)).all()
    assert (cut.times_s.astype(np.int64) <= base.times_s.astype(np.int64)).all()  # other zones still help
    assert (cut.times_s > s.times_s).any()
