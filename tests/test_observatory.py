"""The observatory: journal on a real SQLite file (concurrency, restart, migration, purge, privacy), surveys,
access control, summary and report figures against direct SQL counts."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import logging
import multiprocessing
import re
from pathlib import Path

import pytest
import sqlalchemy as sa

from mobility.errors import InputError, NoRouteError, NotFoundError
from mobility.observatory import db, journal as jn, report
from mobility.observatory.surveys import AlreadyAnswered, load_survey, record_answers

ROOT = Path(__file__).resolve().parents[1]
DAY = "2026-12-01"
TOKEN = "t0ken-for-tests"


@pytest.fixture()
def db_url(tmp_path):
    yield f"sqlite:///{tmp_path / 'journal.sqlite'}"
    db.dispose_all()


def _entry(at: dt.datetime, **kw) -> jn.Entry:
    return jn.Entry(ref=jn.new_ref(), created_at=at, channel=kw.pop("channel", "resident"),
                    outcome=kw.pop("outcome", "served"), **kw)


def _count(engine, sql: str, **params) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text(sql), params).scalar_one()


# ------------------------------------------------------------------------------------------ database

def test_migration_from_an_empty_database(db_url):
    engine = db.engine_for(db_url)
    assert db.current_revision(engine) == "0001"
    insp = sa.inspect(engine)
    assert {"requests", "survey_responses", "survey_answers", "alembic_version"} <= set(insp.get_table_names())
    assert {c["name"] for c in insp.get_columns("requests")} == set(db.requests.c.keys())
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    db.upgrade(engine)  # running it again is a no-op
    assert db.current_revision(engine) == "0001"


def _writer(url: str, worker: int, n: int, go) -> None:
    """One process: its own engine and background journal, as one waitress worker would have; one row per
    transaction so that the eight processes really fight for the write lock."""
    journal = jn.Journal(url)
    journal.batch = 1
    go.wait(60)
    for i in range(n):
        journal.record(jn.Entry(ref=f"w{worker:02d}n{i:04d}" + "0" * 8, created_at=dt.datetime(2026, 11, 1, 8),
                                channel=jn.CHANNELS[i % 3], outcome="served", commune_insee="62765"))
    journal.close(60)
    assert journal.written == n, (journal.written, journal.failed)


@pytest.mark.slow
def test_concurrent_writers_lose_nothing_and_a_restart_keeps_them(db_url):
    ctx = multiprocessing.get_context("spawn")
    go = ctx.Event()
    procs = [ctx.Process(target=_writer, args=(db_url, w, 125, go)) for w in range(8)]
    for p in procs:  # all start on an empty file: they also race to create the schema
        p.start()
    go.set()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0] * 8
    engine = db.engine_for(db_url)
    assert _count(engine, "SELECT count(*) FROM requests") == 1000
    assert _count(engine, "SELECT count(DISTINCT ref) FROM requests") == 1000
    db.dispose_all()  # a restart: a new engine on the same file
    engine = db.engine_for(db_url)
    assert _count(engine, "SELECT count(*) FROM requests") == 1000
    assert _count(engine, "SELECT count(*) FROM requests WHERE ref LIKE 'w07n0124%'") == 1


def test_threads_share_one_journal(db_url):
    import threading

    journal = jn.Journal(db_url)
    threads = [threading.Thread(target=lambda: [journal.record(_entry(dt.datetime(2026, 11, 2))) for _ in range(50)])
               for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert journal.flush(30)
    assert _count(journal.engine, "SELECT count(*) FROM requests") == 400
    journal.close()


def test_purge_removes_exactly_the_expired_rows(db_url):
    engine = db.engine_for(db_url)
    now = dt.datetime(2026, 12, 1, 12, 0)
    cutoff = dt.datetime(2024, 12, 1, 12, 0)  # 24 months
    stamps = [cutoff - dt.timedelta(days=400), cutoff - dt.timedelta(seconds=1), cutoff,
              cutoff + dt.timedelta(seconds=1), now - dt.timedelta(days=3)]
    entries = [_entry(t) for t in stamps]
    jn.write_entries(engine, entries)
    survey = load_survey()
    for e in entries:
        record_answers(engine, survey, e.ref, {"useful": "yes", "obstacles": ["cost", "booking"]})
    assert jn.purge(engine, 24, now, dry_run=True)["requests"] == 2
    assert _count(engine, "SELECT count(*) FROM requests") == 5
    counts = jn.purge(engine, 24, now)
    assert counts["requests"] == 2 and counts["survey_responses"] == 2
    with engine.connect() as conn:
        left = {r for (r,) in conn.execute(sa.text("SELECT ref FROM requests"))}
        answered = {r for (r,) in conn.execute(sa.text("SELECT request_ref FROM survey_responses"))}
    assert left == {e.ref for e in entries[2:]} == answered
    assert _count(engine, "SELECT count(*) FROM survey_answers") == 3 * 3
    assert jn.purge(engine, 24, now)["requests"] == 0


def test_retention_cutoff_is_calendar_months():
    assert jn.retention_cutoff(24, dt.datetime(2026, 2, 28, 10)) == dt.datetime(2024, 2, 28, 10)
    assert jn.retention_cutoff(1, dt.datetime(2026, 3, 31)) == dt.datetime(2026, 2, 28)
    assert jn.retention_cutoff(12, dt.datetime(2026, 1, 15, tzinfo=dt.timezone.utc)) == dt.datetime(2025, 1, 15)


def test_journal_failure_is_a_warning(caplog):
    journal = jn.Journal("sqlite:////proc/no-such-dir/journal.sqlite")
    with caplog.at_level(logging.WARNING, logger="mobility.observatory.journal"):
        journal.record(_entry(dt.datetime(2026, 11, 2)))
        assert journal.flush(30)
    assert journal.failed == 1 and journal.written == 0
    assert "not written" in caplog.text


# ------------------------------------------------------------------------------------------ entries

class _Ctx:
    communes = None
    catalogue = None


def test_entry_reads_the_day_change_of_the_answer():
    leg_bus = {"mode": "bus"}
    leg_tad = {"mode": "tad", "booking": {"phone": "03"}}
    it = {"departure": "2026-12-03T08:00:00+01:00", "duration_s": 3600, "wait_s": 600, "walk_s": 300,
          "walk_m": 410.4, "tad_bookings": 1, "legs": [{"mode": "walk"}, leg_tad, leg_bus]}
    when = dt.datetime(2026, 12, 2, 9, 0)
    answer = {"origin": {"name": "x", "lat": 0, "lon": 0}, "itineraries": [it],
              "day_changed": {"reason": "booking_closed", "message": "..."}, "date": "2026-12-03"}
    e = jn.entry_from_answer(_Ctx(), "api", when=when, answer=answer)
    assert (e.outcome, e.reason, e.served_date) == ("served_other_day", "booking_closed", dt.date(2026, 12, 3))
    assert (e.modes, e.travel_min, e.wait_min, e.walk_min, e.walk_m, e.tad_booking) == ("bus,tad", 60, 10, 5, 410, True)
    # without the planner's word, a different travel day is still seen
    e = jn.entry_from_answer(_Ctx(), "api", when=when, answer={**answer, "day_changed": None, "date": None})
    assert (e.outcome, e.reason) == ("served_other_day", "no_service")
    same = {**it, "departure": "2026-12-02T08:00:00+01:00", "legs": [{"mode": "walk"}], "tad_bookings": 0}
    e = jn.entry_from_answer(_Ctx(), "resident", when=when, answer={"itineraries": [same], "day_changed": None})
    assert (e.outcome, e.reason, e.modes, e.tad_booking) == ("served", None, "walk_only", False)
    e = jn.entry_from_answer(_Ctx(), "operator", when=when,
                             answer={"itineraries": [], "opening": {"open_on_arrival": False}})
    assert (e.outcome, e.reason) == ("no_itinerary", "site_closed")
    assert jn.entry_from_answer(_Ctx(), "api", error=NoRouteError("x")).outcome == "no_itinerary"
    e = jn.entry_from_answer(_Ctx(), "api", error=NotFoundError("x"))
    assert (e.outcome, e.reason) == ("bad_input", "not_found")
    with pytest.raises(ValueError):
        jn.entry_from_answer(_Ctx(), "fax")


# ------------------------------------------------------------------------------------------ surveys

def test_survey_validation_and_one_answer_per_request(db_url, tmp_path):
    engine = db.engine_for(db_url)
    e = _entry(dt.datetime(2026, 11, 3), channel="operator")
    jn.write_entries(engine, [e])
    survey = load_survey()
    for bad in ({"nope": "yes"}, {"useful": "maybe-not"}, {"useful": ["yes", "no"]}, {"comment": "x" * 301},
                {"obstacles": ["cost", 3]}, {}, "yes"):
        with pytest.raises(InputError):
            record_answers(engine, survey, e.ref, bad)
    with pytest.raises(NotFoundError):
        record_answers(engine, survey, "0" * 32, {"useful": "yes"})
    record_answers(engine, survey, e.ref, {"useful": "no", "obstacles": ["cost", "cost", "mobility"],
                                           "comment": "  trop   tôt, rappelez le 06 12 34 56 78 ou a.b@c.fr  "})
    with pytest.raises(AlreadyAnswered):
        record_answers(engine, survey, e.ref, {"useful": "yes"})
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT question, value FROM survey_answers ORDER BY id")).all()
        assert conn.execute(sa.text("SELECT channel FROM survey_responses")).scalar_one() == "operator"
    assert [tuple(r) for r in rows] == [("useful", "no"), ("obstacles", "cost"), ("obstacles", "mobility"),
                                        ("comment", "trop tôt, rappelez le […] ou […]")]
    # the observatory changes the questions in the data file, no code
    data = json.loads((ROOT / "data" / "observatory" / "survey.json").read_text(encoding="utf-8"))
    data["questions"].append({"key": "frequency", "type": "choice", "label": {"fr": "Souvent ?", "en": "Often?"},
                              "choices": [{"value": "weekly", "label": {"fr": "Chaque semaine", "en": "Weekly"}}]})
    path = tmp_path / "survey.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    custom = load_survey(path)
    assert custom.validate({"frequency": "weekly"}) == [("frequency", "weekly")]
    assert custom.localized("en")["questions"][-1]["choices"][0]["label"] == "Weekly"


# ------------------------------------------------------------------------------------------ web

@pytest.fixture(scope="module")
def web_context():
    from mobility.planning.context import load_context

    return load_context()


def _app(web_context, url: str, token: str | None = TOKEN):
    from mobility.interfaces.web import create_app

    return create_app({"MOBILITY_DB_URL": url, "MOBILITY_OBSERVATORY_TOKEN": token}, context=web_context)


def _all_values(engine) -> list[tuple[str, str, object]]:
    out = []
    insp = sa.inspect(engine)
    with engine.connect() as conn:
        for table in insp.get_table_names():
            for row in conn.execute(sa.text(f'SELECT * FROM "{table}"')).mappings():
                out += [(table, col, value) for col, value in row.items()]
    return out


def test_web_journal_keeps_no_address_nor_coordinates(web_context, db_url):
    app = _app(web_context, db_url)
    client = app.test_client()
    address = "12 rue de l'Église, Thérouanne"
    asked = [
        client.get("/itineraire", query_string={"from": address, "to": "mairie", "date": DAY, "time": "09:30",
                                                "arrive_by": "1"}),
        client.get("/operateur/", query_string={"from": "50.7536,2.2677", "to": "caf", "date": DAY, "time": "08:00"}),
        client.get("/api/plan", query_string={"from": "Place Foch, Saint-Omer", "to": "svc-001", "date": DAY,
                                              "time": "10:30"}),
        client.get("/api/plan", query_string={"from": "50.7536,2.2677", "to": "svc-001", "date": DAY,
                                              "time": "10:30"}),  # the same again: from the answer cache
        client.get("/api/plan", query_string={"from": "50.7536,2.2677", "to": "svc-001", "date": DAY,
                                              "time": "10:30"}),
        client.get("/api/plan", query_string={"from": "48.8566,2.3522", "to": "caf", "date": DAY}),
        client.get("/itineraire", query_string={"from": "", "to": "caf"}),
    ]
    assert [r.status_code for r in asked] == [200, 200, 200, 200, 200, 400, 400]
    ref = asked[2].headers["X-Observatory-Ref"]
    assert re.fullmatch(r"[0-9a-f]{32}", ref)
    page = asked[0].get_data(as_text=True)
    assert 'id="survey-form"' in page
    page_ref = re.search(r'name="ref" value="([0-9a-f]{32})"', page).group(1)
    resp = client.post("/enquete", data={"ref": page_ref, "useful": "partly", "obstacles": ["booking", "too_long"],
                                         "comment": "Merci"})
    assert resp.status_code == 200 and "Merci" in resp.get_data(as_text=True)
    assert client.post("/enquete", data={"ref": page_ref, "useful": "no"}).status_code == 409
    assert client.post("/api/survey", json={"ref": ref, "answers": {"useful": "yes"}}).status_code == 201
    app.extensions["observatory"].journal.flush()
    engine = db.engine_for(db_url)
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT channel, outcome, commune_insee, destination_category FROM requests "
                                    "ORDER BY id")).all()
    assert [r.channel for r in rows] == ["resident", "operator", "api", "api", "api", "api", "resident"]
    assert rows[0].commune_insee == "62811" and rows[0].destination_category == "mairie"  # Thérouanne
    assert rows[1].commune_insee == "62765"  # Saint-Omer
    assert [r.outcome for r in rows[-2:]] == ["bad_input", "bad_input"]
    # no row holds a typed address, a resolved label, coordinates or an IP address
    answers = [r.get_json() for r in asked[2:5]]
    forbidden = ["église", "eglise", "foch", "rue ", "127.0.0.1", "50.75", "2.26", "48.85", "2.35"]
    forbidden += [a["origin"]["name"].lower() for a in answers]
    coord = re.compile(r"(?<![:\d])-?\d{1,3}\.\d{3,}")  # a decimal degree, not the seconds of a time
    for table, col, value in _all_values(engine):
        words = set(col.lower().split("_"))
        assert not words & {"lat", "lon", "latitude", "longitude", "addr", "address", "ip", "name", "label"}, col
        assert not isinstance(value, float), (table, col, value)
        text = str(value).lower()
        assert not coord.search(text), (table, col, value)
        assert not any(w in text for w in forbidden), (table, col, value)


def test_no_itinerary_still_counts_for_its_commune(web_context, db_url):
    app = _app(web_context, db_url)
    client = app.test_client()
    impossible = {"from": "Delettes", "to": "Thérouanne", "date": "2026-12-02", "time": "09:30", "max_walk_m": "100",
                  "allow_tad": "0"}  # no bus links them and they are too far apart to walk, any day
    resp = client.get("/api/plan", query_string=impossible)
    assert resp.status_code == 422 and resp.headers.get("X-Observatory-Ref") is None
    page = client.get("/itineraire", query_string=impossible)
    assert page.status_code == 422 and 'id="survey-form"' in page.get_data(as_text=True)  # unmet: ask why
    typo = client.get("/itineraire", query_string={"from": "", "to": "svc-001"})
    assert typo.status_code == 400 and 'id="survey-form"' not in typo.get_data(as_text=True)
    app.extensions["observatory"].journal.flush()
    with db.engine_for(db_url).connect() as conn:
        rows = conn.execute(sa.text("SELECT channel, outcome, reason, commune_insee FROM requests ORDER BY id")).all()
    assert [tuple(r) for r in rows[:2]] == [("api", "no_itinerary", "no_service", "62265"),  # Delettes
                                            ("resident", "no_itinerary", "no_service", "62265")]
    assert rows[2].outcome == "bad_input" and rows[2].commune_insee is None


def test_plans_are_answered_when_the_journal_cannot_be_written(web_context, caplog):
    app = _app(web_context, "sqlite:////proc/no-such-dir/journal.sqlite")
    client = app.test_client()
    with caplog.at_level(logging.WARNING):
        resp = client.get("/api/plan", query_string={"from": "Place Foch, Saint-Omer", "to": "svc-001",
                                                     "date": DAY, "time": "10:30"})
        assert resp.status_code == 200 and resp.get_json()["itineraries"]
        app.extensions["observatory"].journal.flush(30)
    assert "observatory journal" in caplog.text


def test_access_needs_the_token(web_context, db_url):
    disabled = _app(web_context, db_url, token=None).test_client()
    for path in ("/api/observatory/summary", "/observatoire/", "/observatoire/export.csv"):
        resp = disabled.get(path, headers={"Authorization": f"Bearer {TOKEN}"})
        assert resp.status_code == 403, path
        assert "MOBILITY_OBSERVATORY_TOKEN" in resp.get_data(as_text=True)
    assert disabled.get("/api/observatory/summary").get_json()["error"]["code"] == "observatory_disabled"
    client = _app(web_context, db_url).test_client()
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
        resp = client.get("/api/observatory/summary", headers=headers)
        assert resp.status_code == 401 and resp.get_json()["error"]["code"] == "unauthorized"
        assert resp.headers["WWW-Authenticate"].startswith("Bearer")
        assert client.get("/observatoire/", headers=headers).status_code == 401
        assert client.get("/observatoire/export.gpkg", headers=headers).status_code == 401
    assert 'id="login-form"' in client.get("/observatoire/").get_data(as_text=True)
    assert client.post("/observatoire/connexion", data={"token": "wrong"}).status_code == 401
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    assert client.get("/api/observatory/summary", headers=bearer).status_code == 200
    resp = client.post("/observatoire/connexion", data={"token": TOKEN})
    assert resp.status_code == 302 and "HttpOnly" in resp.headers["Set-Cookie"]
    assert TOKEN not in resp.headers["Set-Cookie"]
    assert client.get("/observatoire/").status_code == 200  # the cookie now
    english = client.get("/observatoire/?lang=en").get_data(as_text=True)
    assert "Observatory of users&#39; needs" in english and "Log out" in english
    client.post("/observatoire/deconnexion")
    assert client.get("/observatoire/").status_code == 401
    bad = client.get("/api/observatory/summary?from=2026-12-31&to=2026-01-01", headers=bearer)
    assert bad.status_code == 400 and bad.get_json()["error"]["code"] == "bad_request"
    assert client.get("/api/observatory/summary?channel=fax", headers=bearer).status_code == 400


def test_summary_conforms_to_the_openapi_document(web_context, db_url):
    from openapi_schema_validator import OAS30Validator

    app = _app(web_context, db_url)
    client = app.test_client()
    client.get("/api/plan", query_string={"from": "Place Foch, Saint-Omer", "to": "caf", "date": DAY, "time": "9:30"})
    spec = client.get("/api/openapi.json").get_json()
    body = client.get(f"/api/observatory/summary?from={dt.date.today()}",
                      headers={"Authorization": f"Bearer {TOKEN}"}).get_json()
    assert body["requests"] == 1 and body["by_channel"]["api"] == 1
    OAS30Validator({"$ref": "#/components/schemas/ObservatorySummary", "components": spec["components"]}).validate(body)
    assert spec["paths"]["/api/survey"]["post"]["responses"]["201"]
    resp = client.post("/api/survey", json={"ref": "f" * 32, "answers": {"useful": "yes"}})
    assert resp.status_code == 404 and resp.get_json()["error"]["code"] == "not_found"
    assert client.post("/api/survey", data="x", content_type="text/plain").status_code == 415


# ------------------------------------------------------------------------------------------ figures

def _seed_module():
    spec = importlib.util.spec_from_file_location("seed_observatory", ROOT / "scripts" / "seed_observatory.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def seeded(web_context, tmp_path_factory):
    """A seeded demo journal: 40 requests over November 2026 replayed through the planner."""
    url = f"sqlite:///{tmp_path_factory.mktemp('seeded') / 'journal.sqlite'}"
    counts = _seed_module().seed(web_context, db.engine_for(url), dt.date(2026, 11, 2), 28, 40, seed_=7,
                                 survey_share=0.5)
    yield url, counts
    db.dispose_all()


def test_seeded_dashboard_matches_sql_counts(web_context, seeded):
    url, counts = seeded
    engine = db.engine_for(url)
    period = "from=2026-11-01&to=2026-12-31"
    client = _app(web_context, url).test_client()
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    s = client.get(f"/api/observatory/summary?{period}", headers=bearer).get_json()
    assert s["requests"] == counts["requests"] == _count(engine, "SELECT count(*) FROM requests") == 40
    for outcome, n in s["by_outcome"].items():
        assert n == _count(engine, "SELECT count(*) FROM requests WHERE outcome = :o", o=outcome), outcome
    assert sum(s["by_outcome"].values()) == 40
    assert len({k for k, v in s["by_outcome"].items() if v}) >= 3  # a realistic mix
    for c in s["by_commune"]:
        sql = "SELECT count(*) FROM requests WHERE commune_insee " + ("= :c" if c["insee"] else "IS NULL")
        assert c["requests"] == _count(engine, sql, c=c["insee"])
    assert len(s["by_commune"]) >= 10
    for c in s["by_category"]:
        assert c["unmet"] == _count(engine, "SELECT count(*) FROM requests WHERE destination_category IS :c "
                                            "AND outcome IN ('served_other_day', 'no_itinerary')", c=c["category"])
    assert s["surveys"]["responses"] == counts["surveys"] == _count(engine, "SELECT count(*) FROM survey_responses")
    for value, n in s["surveys"]["questions"]["useful"].items():
        assert n == _count(engine, "SELECT count(*) FROM survey_answers WHERE question = 'useful' AND value = :v",
                           v=value)
    assert s["tad"]["requests"] == _count(engine, "SELECT count(*) FROM requests WHERE tad_booking")
    assert sum(d["resident"] + d["operator"] + d["api"] for d in s["by_day"]) == 40
    only = client.get(f"/api/observatory/summary?{period}&channel=operator", headers=bearer).get_json()
    assert only["requests"] == _count(engine, "SELECT count(*) FROM requests WHERE channel = 'operator'")
    # the dashboard shows the same figures
    html = client.get(f"/observatoire/?{period}", headers=bearer).get_data(as_text=True)
    assert f'<strong id="fig-requests">{s["requests"]}</strong>' in html
    assert f'<strong id="fig-unmet">{s["unmet"]["requests"]}</strong>' in html
    for outcome, n in s["by_outcome"].items():
        assert f'data-outcome="{outcome}">{n}<' in html
    assert html.count('<img src="data:image/png;base64,') >= 5 and 'id="chart-communes_map"' in html
    # exports: every commune of the layer, the same counts
    csv_text = client.get(f"/observatoire/export.csv?{period}", headers=bearer).get_data(as_text=True)
    lines = csv_text.strip().splitlines()
    assert lines[0].split(",")[:4] == ["insee", "name", "population", "requests"]
    assert sum(int(line.split(",")[3]) for line in lines[1:]) == 40
    assert len(lines) - 1 >= len(web_context.communes)


def test_cli_report_and_exports(seeded, tmp_path, capsys):
    import geopandas as gpd

    from mobility.interfaces.cli import main

    url, _ = seeded
    out = tmp_path / "report.html"
    assert main(["observatory", "report", "--db", url, "--from", "2026-11-01", "--to", "2026-11-30",
                 "--out", str(out)]) == 0
    html = out.read_text(encoding="utf-8")
    assert "data:image/png;base64," in html and 'id="chart-communes_map"' in html
    assert not re.search(r'(src|href)="(https?:)?//', html)  # self-contained: nothing to fetch
    total = _count(db.engine_for(url), "SELECT count(*) FROM requests WHERE created_at < '2026-12-01'")
    assert f'<strong id="fig-requests">{total}</strong>' in html
    gpkg = tmp_path / "demand.gpkg"
    assert main(["observatory", "export", "--db", url, "--from", "2026-11-01", "--out", str(gpkg)]) == 0
    layer = gpd.read_file(gpkg, layer="demand_by_commune")
    assert layer.crs.to_epsg() == 4326 and int(layer["requests"].sum()) <= total
    assert set(layer.columns) >= {"insee", "name", "population", "requests", "unmet", "geometry"}
    assert main(["observatory", "report", "--db", url, "--from", "2026-12-31", "--to", "2026-01-01",
                 "--out", str(out)]) == 2
    capsys.readouterr()
    assert main(["observatory", "purge", "--db", url, "--dry-run", "--lang", "en"]) == 0
    assert "would delete 0 requests" in capsys.readouterr().out
    assert main(["observatory", "purge", "--db", url, "--dry-run", "--lang", "fr"]) == 0
    assert "0 demandes et 0 réponses à l'enquête" in capsys.readouterr().out


def test_filters_refuse_bad_values():
    with pytest.raises(InputError):
        report.Filters.parse("2026-13-01", None)
    with pytest.raises(InputError):
        report.Filters.parse(None, None, category="caf; drop table")
    f = report.Filters.parse(None, "2026-11-30")
    assert (f.start, f.end) == (dt.date(2026, 10, 31), dt.date(2026, 11, 30))
