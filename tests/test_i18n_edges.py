"""Acceptance checks of issue 10 (items 1 and 5) at the edges: API errors in the asked language, no French
sentence in the English command-line output (nor English in the French one), compressed answers only for
clients that accept it, and year-long caching of versioned static files."""

from __future__ import annotations

import gzip
import re

import pytest

from mobility import i18n
from mobility.interfaces.cli import main
from mobility.interfaces.web import IMMUTABLE, create_app

THEROUANNE = "12 rue de l'Église, Thérouanne"
#: a farm road in the Fauquembergues TAD zone (see test_advice.py): the trip starts with a booked TAD ride
IN_FAUQ_ZONE = "50.54309509508218,2.2215832450358017"


def _fragments(lang: str, other: str) -> set[str]:
    """Literal pieces of the ``lang`` catalog's sentences (between placeholders) that the ``other`` language's
    catalog does not also contain: text in ``lang`` only ("France services" is the same in both)."""
    others = " ".join(i18n.msgstrs(other).values())
    out = set()
    for text in i18n.msgstrs(lang).values():
        for piece in re.split(r"\{[^}]*\}", text):
            piece = piece.strip(" :;,.()—-'\"«»“”")
            if len(piece) >= 8 and " " in piece and piece not in others:
                out.add(piece)
    return out


def sentences_of(lang: str, other: str, output: str) -> list[str]:
    """The pieces of ``lang``'s catalog found in ``output``."""
    return sorted(f for f in _fragments(lang, other) if f in output)


def test_the_scanner_sees_french():
    assert "réservez par téléphone au" in " ".join(_fragments("fr", "en"))
    assert sentences_of("fr", "en", "Prendre le bus 12 à Gare, descendre à Mairie") != []


# ------------------------------------------------------------------------------------------------ JSON API
@pytest.fixture(scope="module")
def client(embedded_context):
    return create_app(context=embedded_context).test_client()


def _error(resp) -> str:
    assert 400 <= resp.status_code < 500, resp.status_code
    return resp.get_json()["error"]["message"]


def test_api_error_in_the_asked_language(client):
    en = _error(client.get("/api/plan?from=xyzzy&to=caf&lang=en"))
    fr = _error(client.get("/api/plan?from=xyzzy&to=caf&lang=fr"))
    assert en == "no address matches “xyzzy”" and not sentences_of("fr", "en", en)
    assert fr == "aucune adresse ne correspond à « xyzzy »" and not sentences_of("en", "fr", fr)
    # by Accept-Language when there is no lang parameter; French when it names neither language
    assert _error(client.get("/api/plan?from=xyzzy&to=caf", headers={"Accept-Language": "en-GB,en;q=0.8"})) == en
    assert _error(client.get("/api/plan?from=xyzzy&to=caf", headers={"Accept-Language": "fr-FR,fr;q=0.9"})) == fr
    assert _error(client.get("/api/plan?from=xyzzy&to=caf", headers={"Accept-Language": "de"})) == fr
    # lang= wins over the header; a JSON body's lang too
    assert _error(client.get("/api/plan?from=xyzzy&to=caf&lang=fr", headers={"Accept-Language": "en"})) == fr
    assert _error(client.post("/api/plan", json={"from": "xyzzy", "to": "caf", "lang": "en"})) == en


def test_api_parameter_errors_in_words(client):
    en = _error(client.get("/api/plan?from=Arques&to=&lang=en"))
    assert en.startswith("Please give the destination") and "parameter" not in en
    fr = _error(client.get("/api/plan?from=Arques&to=", headers={"Accept-Language": "fr"}))
    assert fr.startswith("Indiquez la destination")
    assert _error(client.get("/api/nowhere?lang=en")) == "No such page or resource."
    fr = _error(client.get("/api/nowhere", headers={"Accept-Language": "fr"}))
    assert fr == "Cette page ou ressource n'existe pas."
    # numbers in the locale's notation
    assert "20\u202f000" in _error(client.get("/api/plan?from=Arques&to=caf&max_walk_m=1e9&lang=fr"))
    assert "20,000" in _error(client.get("/api/plan?from=Arques&to=caf&max_walk_m=1e9&lang=en"))


@pytest.mark.parametrize("path", ["/itineraire", "/operateur/", "/operateur/imprimer"])
def test_pages_have_no_sentence_of_the_other_language(client, path):
    import html

    query = ("from=50.54309509508218%2C2.2215832450358017&to=caf&date=2026-12-01&time=09%3A00"
             "&booked_at=2026-11-30T17%3A30")  # a TAD ride to book, the day changed
    for lang, other in (("en", "fr"), ("fr", "en")):
        page = client.get(f"{path}?{query}&lang={lang}")
        assert page.status_code == 200
        text = html.unescape(re.sub(r"<[^>]+>", " ", page.get_data(as_text=True)))
        assert sentences_of(other, lang, text) == [], (lang, sentences_of(other, lang, text))
    # issue 10: one booking box with the phone in one format ("Call 03 … — book before …"), not the planner's
    # sentence beside it; in English on an English page
    english = client.get(f"{path}?{query}&lang=en").get_data(as_text=True)
    assert "book before" in english and "Réserver au" not in english and "réserver avant" not in english


def test_page_error_in_the_page_language(client):
    page = client.get("/itineraire?from=xyzzy&to=caf&lang=en").get_data(as_text=True)
    # issue 10 item 3: the page says it at the field, in the field's own words (ferr_not_found)
    assert "We cannot find \u201cxyzzy\u201d" in page and "Nous ne trouvons pas" not in page
    assert "aucune adresse" not in page and 'aria-invalid="true"' in page


# ------------------------------------------------------------------------------------------------ CLI
PLAN = ["plan", "--from", THEROUANNE, "--to", "svc-019", "--depart", "2026-12-02T09:00",
        "--booked-at", "2026-11-30T10:00", "--return-after", "60"]
#: a TAD ride whose booking day has passed: booking line, day changed, service at arrival
TAD = ["plan", "--from", IN_FAUQ_ZONE, "--to", "caf", "--depart", "2026-12-01T09:00",
       "--booked-at", "2026-11-30T17:30"]


@pytest.mark.parametrize("args", [PLAN, TAD], ids=["return_trip", "tad"])
def test_cli_english_output_has_no_french_sentence(capsys, args):
    assert main(args + ["--lang", "en"]) == 0
    out = capsys.readouterr().out
    assert sentences_of("fr", "en", out) == [], out
    assert main(args + ["--lang", "fr"]) == 0
    fr = capsys.readouterr().out
    assert sentences_of("en", "fr", fr) == [], fr
    if args is TAD:  # the booking line of the TAD leg, in each language
        assert "Book by phone on" in out and "Réserver au" in fr


def test_cli_errors_follow_lang(capsys):
    assert main(["plan", "--from", "xyzzy", "--to", "caf", "--depart", "2026-12-02T09:00", "--lang", "en"]) == 2
    err = capsys.readouterr().err
    assert err == "mobility: error: no address matches “xyzzy”\n" and not sentences_of("fr", "en", err)
    assert main(["plan", "--from", "xyzzy", "--to", "caf", "--depart", "2026-12-02T09:00", "--lang", "fr"]) == 2
    assert "aucune adresse ne correspond à « xyzzy »" in capsys.readouterr().err


def test_cli_language_defaults_to_the_locale(capsys, monkeypatch):
    args = ["plan", "--from", "xyzzy", "--to", "caf", "--depart", "2026-12-02T09:00"]
    for name in ("LC_ALL", "LC_MESSAGES", "LANGUAGE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", "en_GB.UTF-8")
    assert main(args) == 2 and "no address matches" in capsys.readouterr().err
    monkeypatch.setenv("LANG", "de_DE.UTF-8")  # neither language: French
    assert main(args) == 2 and "aucune adresse" in capsys.readouterr().err
    with pytest.raises(SystemExit):  # an argument error is worded in the --lang read ahead
        main(["plan", "--from", "x", "--to", "y", "--depart", "soon", "--lang", "en"])
    assert "is not a date and time" in capsys.readouterr().err


# ------------------------------------------------------------------------------------------------ compression
def test_json_answers_and_pages_compressed_when_accepted(client):
    plain = client.get("/api/services?lang=en")
    assert "Content-Encoding" not in plain.headers and plain.get_json()["services"]
    assert "Accept-Encoding" in plain.headers.get("Vary", "")
    zipped = client.get("/api/services?lang=en", headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.data) == plain.data and len(zipped.data) < len(plain.data) / 3
    br = client.get("/api/services?lang=en", headers={"Accept-Encoding": "br"})
    assert br.headers["Content-Encoding"] == "br"
    import brotli

    assert brotli.decompress(br.data) == plain.data
    assert "Content-Encoding" not in client.get("/api/services", headers={"Accept-Encoding": "identity"}).headers
    page = client.get("/?lang=en", headers={"Accept-Encoding": "gzip, deflate, br"})
    assert page.headers["Content-Encoding"] == "br"
    layer = client.get("/api/layers/communes.geojson", headers={"Accept-Encoding": "gzip"})
    assert layer.headers["Content-Encoding"] == "gzip" and gzip.decompress(layer.data).startswith(b"{")


def test_static_files_versioned_cached_and_compressed(client):
    page = client.get("/").get_data(as_text=True)
    url = re.search(r'src="(/static/js/app\.js\?v=[0-9a-f]{12})"', page).group(1)
    raw = client.get(url)
    assert raw.headers["Cache-Control"] == IMMUTABLE and "Content-Encoding" not in raw.headers
    body = raw.get_data()
    zipped = client.get(url, headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["Content-Encoding"] == "gzip" and gzip.decompress(zipped.get_data()) == body
    assert zipped.headers["Cache-Control"] == IMMUTABLE
    css = re.search(r'href="(/static/css/[^"]+\?v=[0-9a-f]{12})"', page)
    assert css and client.get(css.group(1), headers={"Accept-Encoding": "br"}).headers["Content-Encoding"] == "br"
    # without its version (or with a stale one) a file is revalidated, not kept a year
    assert client.get("/static/js/app.js").headers["Cache-Control"] == "no-cache"
    assert client.get("/static/js/app.js?v=000000000000").headers["Cache-Control"] == "no-cache"


def test_js_strings_in_the_page_language(client):
    en = client.get("/?lang=en").get_data(as_text=True)
    fr = client.get("/?lang=fr").get_data(as_text=True)
    assert '"js_no_suggestion": "No suggestion"' in en and '"js_no_suggestion": "Aucune suggestion"' in fr


def test_flask_babel_reads_the_same_catalogs(client):
    from flask_babel import gettext

    app = client.application
    with app.test_request_context("/?lang=en"):
        app.preprocess_request()
        assert gettext("site_title") == "Audomarois mobility centre"
    with app.test_request_context("/"):
        app.preprocess_request()
        assert gettext("site_title") == "Centrale de mobilité de l'Audomarois"


def test_api_answer_words_follow_accept_language(client):
    q = "/api/plan?from=Place+Foch%2C+Saint-Omer&to=svc-001&date=2026-12-01&time=10:30&arrive_by=1"
    fr, en = client.get(q), client.get(q, headers={"Accept-Language": "en-GB"})
    assert "Accept-Language" in en.headers["Vary"]
    msg = lambda r: r.get_json()["itineraries"][0]["service_at_arrival"]["message"]  # noqa: E731
    assert "n'ouvre qu'à" in msg(fr) and "opens only at" in msg(en)
    assert msg(client.get(q + "&lang=fr", headers={"Accept-Language": "en-GB"})) == msg(fr)


# ------------------------------------------------------------------------------------------------ analysis CLI
def _run(argv, capsys) -> tuple[int, str, str]:
    code = main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.slow  # multi-second; CI's second step runs it
def test_scenario_output_in_the_asked_language(tmp_path, capsys):
    site = tmp_path / "site.csv"
    site.write_text("action,kind,id,name,categories,lat,lon\nadd,site,new-sp,Nouvelle antenne,sous_prefecture,"
                    "50.6372,2.3960\n", encoding="utf-8")
    args = ["scenario", str(site), "--category", "sous_prefecture", "--window", "08:00-08:30", "--step-min", "30",
            "--no-tad", "--csv", str(tmp_path / "diff.csv")]
    code, out, err = _run([*args, "--lang", "en"], capsys)
    assert code == 0, err
    assert "add site Nouvelle antenne" in out and f"wrote {tmp_path / 'diff.csv'}" in out
    assert sentences_of("fr", "en", out + err) == [], out + err
    code, fr, err = _run([*args, "--lang", "fr"], capsys)
    assert code == 0 and "ajout du site Nouvelle antenne" in fr and sentences_of("en", "fr", fr) == [], fr
    # a scenario file error, in English with --lang en
    bad = tmp_path / "bad.csv"
    bad.write_text("action,kind,id\nmove,site,x\n", encoding="utf-8")
    code, _, err = _run(["scenario", str(bad), "--lang", "en"], capsys)
    assert code == 2 and "scenario line 2: action must be 'add' or 'remove', not 'move'" in err
    code, _, err = _run(["scenario", str(bad), "--lang", "fr"], capsys)
    assert code == 2 and "scénario, ligne 2 : l'action doit être" in err


def test_access_opportunities_output_in_the_asked_language(embedded_context, tmp_path, capsys):
    a = embedded_context.planner.network.addresses
    near = a[(a["lat"] - 50.75).abs() + (a["lon"] - 2.255).abs() < 0.02].head(6)
    pts = tmp_path / "pts.csv"
    pts.write_text("id,lat,lon,population,jobs\n" + "".join(
        f"p{i},{r.lat},{r.lon},{10 + i},{5 * i}\n" for i, r in enumerate(near.itertuples())), encoding="utf-8")
    args = ["access", "--points", str(pts), "--opportunities", "jobs", "--within", "30", "--window", "08:00-08:30",
            "--step-min", "30", "--no-tad"]
    code, out, err = _run([*args, "--lang", "en"], capsys)
    assert code == 0, err
    assert "Tuesday 1 December 2026" in out and "opportunities reachable by the average resident" in out
    assert "profiles by origin" in out or "profiles by destination" in out
    assert sentences_of("fr", "en", out + err) == [], out + err
    code, fr, err = _run([*args, "--lang", "fr"], capsys)
    assert code == 0 and "mardi 1 décembre 2026" in fr and sentences_of("en", "fr", fr) == [], fr


def test_english_page_colon_without_the_french_space(client):
    query = "from=Arques&to=caf&date=2026-12-01&time=09%3A00"
    en = client.get(f"/itineraire?{query}&lang=en").get_data(as_text=True)
    fr = client.get(f"/itineraire?{query}&lang=fr").get_data(as_text=True)
    assert re.search(r"Option 1:", en) and "Option 1 :" not in en and "At arrival :" not in en
    assert "Option 1 :" in fr


def test_isochrone_labels_follow_the_request_language(client):
    q = {"to": "svc-001", "date": "2026-12-01", "time": "09:00", "window": "60"}
    en = client.get("/api/isochrones", query_string={**q, "lang": "en"}).get_json()["properties"]
    fr = client.get("/api/isochrones", query_string={**q, "lang": "fr"}).get_json()["properties"]
    assert en["statistic_label"] == i18n.message("map_median", "en") + i18n.message("map_of_time", "en")
    assert en["modes_label"] == i18n.message("modes_transit_tad", "en") and en["modes"] == fr["modes"]
    assert fr["modes_label"] == i18n.message("modes_transit_tad", "fr") != en["modes_label"]
