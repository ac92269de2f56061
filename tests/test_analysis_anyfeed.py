"""Issue 17: analytics on any territory's feeds (--gtfs/--osm/--services/--population, default date from the feed,
--json, progress only on a terminal) and cumulative-opportunity accessibility (counts within T minutes per
departure-window percentile, gravity), checked against direct planner answers; the Audomarois figures unchanged."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "data" / "analysis"
DAY = dt.date(2026, 12, 1)
WINDOW = (dt.time(8, 0), dt.time(9, 0))
#: printed by ``mobility isochrone --to sous_prefecture --window 08:00-09:00 --step-min 15 --no-tad`` with the
#: revision before issue 17 (6cda900): shares within 15/30/45/60 min, no service, outside the walk network;
#: re-recorded when doors and cell centres were linked to every way within 10 m (issue 11): 30 min 21.8 -> 22.1 %,
#: 45 min 29.0 -> 29.3 %, the others unchanged
ISO_BEFORE = {"15": 13.1, "30": 22.1, "45": 29.3, "60": 38.7, "no_service": 60.8, "outside": 0.0}
#: sha256 of that command's ``--out cells.csv`` with the same revision (re-recorded with the door links)
ISO_CSV_BEFORE = "c906e8eb1b339878e91002798cc86c79b5954ea3ea8ac64a020b5196c7235f13"


@pytest.fixture(scope="module")
def ctx(embedded_context):
    return embedded_context


def _cli(argv, capsys):
    from mobility.interfaces.cli import main

    code = main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


# ------------------------------------------------------------------------------------------- points input

def test_points_loader_reads_columns_and_names_bad_lines(tmp_path):
    from mobility.errors import DataError
    from mobility.loaders.points import load_points, weight_column

    p = tmp_path / "pts.csv"
    p.write_text("id,lon,lat,population,jobs,label\na,2.25,50.75,10,3,x\nb,2.26,50.76,0,,y\n", encoding="utf-8")
    pts = load_points(p)
    assert list(pts["id"]) == ["a", "b"] and pts["lat"].tolist() == [50.75, 50.76]
    assert weight_column(pts, "jobs").tolist() == [3.0, 0.0]  # an empty cell is 0
    with pytest.raises(DataError, match="numeric columns: population, jobs"):
        weight_column(pts, "label")
    p.write_text("id,lat,lon,population\na,50.7,2.2,1\nb,95,2.2,1\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"pts.csv, line 3, field 'lat': '95' is not a latitude"):
        load_points(p)
    p.write_text("id,lat,population\na,50.7,1\n", encoding="utf-8")
    with pytest.raises(DataError, match="missing column 'lon'"):
        load_points(p)
    p.write_text("id,lat,lon,population\na,50.7,2.2,1\na,50.7,2.3,1\n", encoding="utf-8")
    with pytest.raises(DataError, match="line 3, field 'id': duplicate id 'a'"):
        load_points(p)


def test_cli_bad_points_file_is_one_line_exit_2(tmp_path, capsys):
    p = tmp_path / "pts.csv"
    p.write_text("id,lat,lon,population\na,50.7,x,1\n", encoding="utf-8")
    code, out, err = _cli(["access", "--points", str(p), "--opportunities", "population"], capsys)
    assert code == 2 and err.strip().count("\n") == 0 and "line 2, field 'lon'" in err
    code, _, err = _cli(["access", "--opportunities", "jobs", "--lang", "en"], capsys)
    assert code == 2 and "both --points and --opportunities" in err
    code, _, err = _cli(["access", "--opportunities", "jobs", "--lang", "fr"], capsys)
    assert code == 2 and "demandent --points et --opportunities" in err


def _commune_points(ctx, tmp_path) -> Path:
    """The communes' populations as points at their centres (a points population input)."""
    c = ctx.communes
    path = tmp_path / "communes_points.csv"
    pd.DataFrame({"id": c["insee"], "lat": c["lat"], "lon": c["lon"], "population": c["population"]}).to_csv(
        path, index=False)
    return path


def test_population_points_are_counted_in_their_cells(ctx, tmp_path):
    from mobility.analysis.access import accessibility
    from mobility.planning.context import load_context

    path = _commune_points(ctx, tmp_path)
    c2 = load_context(population_path=path)
    assert c2.population_points is not None and len(c2.communes) == len(ctx.communes)
    table, summary = accessibility(c2, DAY, WINDOW, categories=["sous_prefecture"], step_min=30, modes="transit")
    # every commune's residents in the cell of its centre: the commune table holds the same totals
    assert table["population"].tolist() == pytest.approx(ctx.communes["population"].tolist(), abs=1)
    from mobility.analysis.surface import grid_for

    g = grid_for(c2)
    assert g.weighting == "points" and (g.population > 0).sum() <= len(ctx.communes)
    assert g.population.sum() == pytest.approx(ctx.communes["population"].sum())


def test_points_area_when_no_communes(embedded_planner, tmp_path):
    from mobility.planning.context import points_area

    pts = pd.DataFrame({"lat": [50.70, 50.75, 50.78], "lon": [2.20, 2.30, 2.25], "population": [1.0, 2.0, 3.0]})
    area = points_area(pts, pad_m=500.0)
    import shapely

    assert len(area) == 1 and area["population"].iloc[0] == 6
    assert shapely.contains_xy(area["geometry"].iloc[0], pts["lon"], pts["lat"]).all()


# ------------------------------------------------------------------------------------------- dates, CLI

def test_default_date_is_the_feeds_first_weekday_with_service(ctx):
    from mobility.analysis.surface import first_service_weekday
    from mobility.interfaces.analysis_cli import default_date

    net = ctx.planner.network
    d = first_service_weekday(net)
    lo, hi = net.service_range()
    assert lo <= d <= hi and d.weekday() < 5 and all(f.active_service_ids(d) for f in net.feeds)
    assert all(x.weekday() >= 5 or not all(f.active_service_ids(x) for f in net.feeds)
               for x in (lo + dt.timedelta(days=i) for i in range((d - lo).days)))
    assert default_date(ctx, embedded=True) == DAY  # the embedded data keep their school-term Tuesday
    assert default_date(ctx, embedded=False) == d


@pytest.mark.slow  # ~8 s (two isochrones and two access tables): CI's second step
def test_audomarois_figures_unchanged_by_the_new_options(ctx, tmp_path, capsys):
    """Default runs print and write what the revision before issue 17 did; naming the embedded data
    explicitly (--gtfs, --osm, --services, --population) gives the same figures."""
    iso = tmp_path / "cells.csv"
    code, out, _ = _cli(["isochrone", "--to", "sous_prefecture", "--window", "08:00-09:00", "--step-min", "15",
                         "--no-tad", "--out", str(iso), "--lang", "en"], capsys)
    assert code == 0
    for t in (15, 30, 45, 60):
        assert f"within {t:3d} min: {ISO_BEFORE[str(t)]:5.1f} % of residents" in out
    assert f"no service within 90 min: {ISO_BEFORE['no_service']:.1f} % of residents" in out
    assert hashlib.sha256(iso.read_bytes()).hexdigest() == ISO_CSV_BEFORE
    net = ctx.planner.network
    explicit = [*sum((["--gtfs", p] for p in net.gtfs_paths), []), "--osm", net.osm_path,
                "--services", ctx.services_path, "--population", ctx.communes_path, "--date", DAY.isoformat()]
    a1, a2 = tmp_path / "a1.csv", tmp_path / "a2.csv"
    base = ["access", "--category", "sous_prefecture", "--window", "08:00-09:00", "--step-min", "30", "--no-tad"]
    assert _cli([*base, "--out", str(a1)], capsys)[0] == 0
    code, out, _ = _cli([*base, *explicit, "--out", str(a2), "--json"], capsys)
    assert code == 0
    golden = (GOLDEN / "access_sous_prefecture_transit.csv").read_bytes()
    assert a1.read_bytes() == golden and a2.read_bytes() == golden
    summary = json.loads(out)["summary"][0]
    assert summary["category"] == "sous_prefecture" and summary["share_30"] == pytest.approx(0.265, abs=0.001)
    code, out, _ = _cli(["isochrone", "--to", "sous_prefecture", "--window", "08:00-09:00", "--step-min", "15",
                         "--no-tad", "--out", str(tmp_path / "c2.csv"), "--json", *explicit], capsys)
    data = json.loads(out)
    assert code == 0 and data["date"] == DAY.isoformat()
    assert round(100 * data["share_within"]["30"], 1) == ISO_BEFORE["30"]
    assert (tmp_path / "c2.csv").read_bytes() == iso.read_bytes()


def test_progress_bar_only_on_a_terminal(capsys, monkeypatch):
    import sys

    args = ["access", "--category", "sous_prefecture", "--window", "08:00-08:30", "--step-min", "30", "--no-tad",
            "--json"]
    _, out, err = _cli(args, capsys)
    assert "job/s" not in err and json.loads(out)["command"] == "access"
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    from mobility.interfaces import analysis_cli

    assert analysis_cli._progress() is True


# ------------------------------------------------------------------------------------------- opportunities

@pytest.fixture(scope="module")
def small_points(ctx):
    """40 points of the Audomarois (addresses around Saint-Omer and a few villages) with two opportunity
    columns and a population."""
    rng = np.random.default_rng(17)
    a = ctx.planner.network.addresses
    near = a[(a["lat"] - 50.75).abs() + (a["lon"] - 2.255).abs() < 0.06]
    rows = near.iloc[rng.choice(len(near), 36, replace=False)]
    far = a.iloc[rng.choice(len(a), 4, replace=False)]
    pts = pd.concat([rows, far])
    return pd.DataFrame({"id": [f"p{i}" for i in range(len(pts))], "lat": pts["lat"].to_numpy(float),
                         "lon": pts["lon"].to_numpy(float),
                         "population": rng.integers(0, 500, len(pts)).astype(float),
                         "jobs": np.where(rng.random(len(pts)) < 0.4, rng.integers(1, 300, len(pts)), 0).astype(float),
                         "schools": np.where(rng.random(len(pts)) < 0.2, 1, 0).astype(float)})


def _planner_count(planner, pts, origins, column, date, departures, percentile, within_min, limit_min,
                   booked_at=None, allow_tad=False):
    """Opportunities of ``column`` within ``within_min`` per origin, by asking the planner door to door for
    every (origin, opportunity point, departure), then the nearest-rank percentile per destination."""
    import math

    from mobility.errors import InputError, NoRouteError
    from mobility.planning.planner import DOOR_SNAP_MAX_M, PlanOptions

    opts = PlanOptions(allow_tad=allow_tad)
    weights = pts[column].to_numpy(float)
    dests = np.nonzero(weights > 0)[0]
    out = {}
    for o in origins:
        o_pt = (float(pts["lat"].iloc[o]), float(pts["lon"].iloc[o]))
        if planner.network.walk.snap(*o_pt, DOOR_SNAP_MAX_M) is None:  # the planner refuses this origin
            out[o] = {w: np.nan for w in within_min}
            continue
        counts = {w: 0.0 for w in within_min}
        for j in dests:
            times = []
            for when in departures:
                try:
                    res = planner.plan(o_pt, (float(pts["lat"].iloc[j]), float(pts["lon"].iloc[j])), when,
                                       options=opts, booked_at=booked_at)
                except (NoRouteError, InputError):
                    times.append(math.inf)
                    continue
                ea = min(it.arrival for it in res.itineraries).replace(tzinfo=None)
                v = (ea - when).total_seconds()
                times.append(v if v <= limit_min * 60 else math.inf)
            rank = max(1, math.ceil(percentile / 100 * len(times))) - 1
            tp = sorted(times)[rank]
            for w in within_min:
                counts[w] += weights[j] * (tp <= w * 60)
        out[o] = counts
    return out


def test_opportunities_match_planner_answers(ctx, small_points):
    from mobility.analysis.opportunities import opportunity_access

    window = (dt.time(8, 0), dt.time(8, 40))
    res = opportunity_access(ctx, small_points, ["jobs", "schools"], DAY, window, within_min=(20, 45),
                             percentiles=(25, 75), step_min=20, modes="transit", by="origin")
    origin = ctx.planner.service_day_origin(DAY).replace(tzinfo=None)
    departures = [origin + dt.timedelta(seconds=int(s)) for s in
                  range(8 * 3600, 8 * 3600 + 40 * 60 + 1, 20 * 60)]
    sample = [0, 5, 11, 37]
    for p in (25, 75):
        ref = _planner_count(ctx.planner, small_points, sample, "jobs", DAY, departures, p, (20, 45), 90)
        for o in sample:
            for w in (20, 45):
                got = res.count("jobs", w, p)[o]
                assert (np.isnan(got) and np.isnan(ref[o][w])) or got == ref[o][w], (o, p, w)
    assert np.nansum(res.count("jobs", 45, 75)) > 0  # some are reached: the test can fail
    assert (np.nan_to_num(res.count("jobs", 20, 25)) <= np.nan_to_num(res.count("jobs", 45, 25))).all()
    # percentile 25 (a good departure) reaches at least what percentile 75 does
    assert (np.nan_to_num(res.count("jobs", 45, 25)) >= np.nan_to_num(res.count("jobs", 45, 75))).all()


def test_by_origin_and_by_destination_and_executors_agree(ctx, small_points):
    pytest.importorskip("dask.distributed")
    from dask.distributed import Client, LocalCluster

    from mobility.analysis.opportunities import opportunity_access

    kw = dict(within_min=(30, 60), percentiles=(50,), step_min=30, modes="transit+tad", decay_per_min=0.05)
    a = opportunity_access(ctx, small_points, ["jobs", "schools"], DAY, WINDOW, by="origin", **kw)
    b = opportunity_access(ctx, small_points, ["jobs", "schools"], DAY, WINDOW, by="destination", chunk=3, **kw)
    assert a.direction == "from" and b.direction == "to"
    assert np.array_equal(np.isnan(a.values), np.isnan(b.values))
    ok = ~np.isnan(a.values)
    counts = ok[..., :2]
    assert np.array_equal(a.values[..., :2][counts], b.values[..., :2][counts])  # counts: exactly
    np.testing.assert_allclose(a.values[ok], b.values[ok], rtol=1e-12)  # gravity: float sums in another order
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        c = opportunity_access(ctx, small_points, ["jobs", "schools"], DAY, WINDOW, by="destination", chunk=3,
                               executor=client, **kw)
    assert np.array_equal(np.nan_to_num(b.values, nan=-1), np.nan_to_num(c.values, nan=-1))
    # gravity never exceeds the count within the limit, and the summary is population-weighted
    g = a.values[:, 0, 0, 2]
    assert (g[np.isfinite(g)] <= a.values[:, 0, 0, 1][np.isfinite(g)] + 1e-9).all()
    s = a.summary()
    row = s[s["measure"] == "jobs_30min_p50"].iloc[0]
    pop = small_points["population"].to_numpy()
    v = a.count("jobs", 30, 50)
    m = np.isfinite(v) & (pop > 0)
    assert row["mean"] == pytest.approx((v[m] * pop[m]).sum() / pop[m].sum())
    assert row["share"] == pytest.approx(row["mean"] / small_points["jobs"].sum())


def test_cli_opportunities_write_csv_gpkg_and_json(small_points, tmp_path, capsys):
    gpd = pytest.importorskip("geopandas")
    pts = tmp_path / "pts.csv"
    small_points.to_csv(pts, index=False)
    csv_out, gpkg = tmp_path / "acc.csv", tmp_path / "acc.gpkg"
    code, out, err = _cli(["access", "--points", str(pts), "--opportunities", "jobs,schools", "--within", "30,60",
                           "--window", "08:00-08:30", "--step-min", "30", "--no-tad", "--out", str(csv_out),
                           "--out", str(gpkg), "--json"], capsys)
    assert code == 0, err
    data = json.loads(out)
    assert data["measure"] == "cumulative_opportunities" and data["date"] == DAY.isoformat()
    assert {r["measure"] for r in data["summary"]} == {"jobs_30min_p50", "jobs_60min_p50", "schools_30min_p50",
                                                      "schools_60min_p50"}
    table = pd.read_csv(csv_out)
    assert len(table) == len(small_points) and "jobs_60min_p50" in table
    layer = gpd.read_file(gpkg, layer="access")
    assert len(layer) == len(small_points) and layer.crs.to_epsg() == 4326
    assert np.allclose(layer["jobs_30min_p50"].fillna(-1), table["jobs_30min_p50"].fillna(-1))
    code, _, err = _cli(["access", "--points", str(pts), "--opportunities", "nope"], capsys)
    assert code == 2 and "no numeric column 'nope'" in err


# ------------------------------------------------------------------------------------------- Porto Alegre

@pytest.fixture(scope="module")
def poa(realdata):
    from mobility.loaders.points import load_points
    from mobility.planning.context import load_context

    d = realdata / "porto_alegre"
    ctx = load_context([d / "poa_eptc.zip", d / "poa_trensurb.zip"], d / "poa_osm.pbf")
    return d, ctx, load_points(d / "poa_hexgrid.csv")


@pytest.mark.slow
def test_porto_alegre_cli_writes_csv_and_geopackage(poa, tmp_path, capsys):
    gpd = pytest.importorskip("geopandas")
    d, _, pts = poa
    csv_out, gpkg = tmp_path / "poa.csv", tmp_path / "poa.gpkg"
    code, out, err = _cli(["access", "--gtfs", str(d / "poa_eptc.zip"), "--gtfs", str(d / "poa_trensurb.zip"),
                           "--osm", str(d / "poa_osm.pbf"), "--points", str(d / "poa_hexgrid.csv"),
                           "--opportunities", "jobs", "--within", "30,60", "--window", "08:00-08:30",
                           "--step-min", "15", "--out", str(csv_out), "--out", str(gpkg), "--json"], capsys)
    assert code == 0, err
    data = json.loads(out)
    assert data["date"] == "2019-04-15"  # the first weekday with bus and metro service
    table = pd.read_csv(csv_out)
    assert len(table) == 1227 and len(gpd.read_file(gpkg, layer="access")) == 1227
    assert (table["jobs_30min_p50"].dropna() <= table["jobs_60min_p50"].dropna()).all()
    assert table["jobs_60min_p50"].max() > 10_000


@pytest.mark.slow
def test_porto_alegre_counts_equal_planner_answers_on_20_hexagons(poa):
    """On 20 sampled hexagons, the healthcare opportunities within 30 and 60 min equal a direct count over
    the planner's answers to every healthcare hexagon."""
    from mobility.analysis.opportunities import opportunity_access

    d, ctx, pts = poa
    day = dt.date(2019, 4, 16)
    rng = np.random.default_rng(20)
    sample = np.sort(rng.choice(len(pts), 20, replace=False))
    res = opportunity_access(ctx, pts, ["healthcare"], day, (dt.time(8, 0), dt.time(8, 0)), within_min=(30, 60),
                             step_min=5, modes="transit", origins=sample)
    origin = ctx.planner.service_day_origin(day).replace(tzinfo=None)
    ref = _planner_count(ctx.planner, pts, sample, "healthcare", day, [origin + dt.timedelta(hours=8)], 50,
                         (30, 60), 90)
    got30, got60 = res.count("healthcare", 30, 50), res.count("healthcare", 60, 50)
    for i, o in enumerate(sample):
        for w, got in ((30, got30), (60, got60)):
            assert (np.isnan(got[i]) and np.isnan(ref[o][w])) or got[i] == ref[o][w], (o, w)
    assert np.nansum(got60) > 0


def test_cli_scenario_json_summary(tmp_path, capsys):
    """``scenario --json``: the same table as the text output, as JSON on stdout (the CSV path on stderr)."""
    site = tmp_path / "site.csv"
    site.write_text("action,kind,id,name,categories,lat,lon\nadd,site,new-sp,Nouvelle antenne,sous_prefecture,"
                    "50.6372,2.3960\n", encoding="utf-8")
    out = tmp_path / "diff.csv"
    code, text, err = _cli(["scenario", str(site), "--category", "sous_prefecture", "--window", "08:00-08:30",
                            "--step-min", "30", "--no-tad", "--csv", str(out), "--json", "--lang", "en"], capsys)
    assert code == 0, err
    data = json.loads(text)
    assert data["command"] == "scenario" and data["date"] == DAY.isoformat() and f"wrote {out}" in err
    rows = data["categories"][0]["rows"]
    table = pd.read_csv(out)
    assert [r["population_gaining"] for r in rows] == table["population_gaining"].tolist()
    assert table["population_gaining"].sum() > 0  # a site in Aire-sur-la-Lys brings residents within reach
