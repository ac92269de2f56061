"""Offline geocoder: normalisation, fuzzy matching, ranking, reverse look-up and resolve() messages."""

from __future__ import annotations

import re
from contextlib import contextmanager

import pandas as pd
import pytest
from shapely.geometry import box

from mobility.errors import InputError
from mobility.planning.geocode import Geocoder, parse_coordinates
from mobility.domain.textnorm import damerau_levenshtein, key, tokens

# A toy territory: five square communes side by side (lon 2.20..2.30, lat 50.70..50.80).
COMMUNES = [  # insee, name, lon_min, lat_min
    ("62765", "Saint-Omer", 2.20, 50.70),
    ("62040", "Arques", 2.22, 50.70),
    ("62811", "Thérouanne", 2.24, 50.70),
    ("62525", "Longuenesse", 2.26, 50.70),
    ("62764", "Saint-Martin-lez-Tatinghem", 2.28, 50.70),
]


def _communes() -> pd.DataFrame:
    rows = []
    for insee, name, x, y in COMMUNES:
        rows.append({"insee": insee, "name": name, "lat": y + 0.01, "lon": x + 0.01, "population": 1000,
                     "geometry": box(x, y, x + 0.02, y + 0.02)})
    return pd.DataFrame(rows)


def _centre(name: str) -> tuple[float, float]:
    for _, n, x, y in COMMUNES:
        if n == name:
            return y + 0.01, x + 0.01
    raise KeyError(name)


def _addresses() -> pd.DataFrame:
    rows = []
    streets = {
        "Thérouanne": ["Rue de l'Église", "Place de la Morinie"],
        "Arques": ["Rue de l'Église", "Avenue du Général de Gaulle", "Rue de Saint-Omer"],
        "Saint-Omer": ["Boulevard de Strasbourg", "Rue d'Arras", "Place du Maréchal Foch"],
        "Longuenesse": ["Rue Saint-Exupéry", "Chemin du Bois"],
        "Saint-Martin-lez-Tatinghem": ["Impasse des Tilleuls"],
    }
    postcodes = {"Thérouanne": "62129", "Arques": "62510", "Saint-Omer": "62500", "Longuenesse": "62219",
                 "Saint-Martin-lez-Tatinghem": "62500"}
    oid = 0
    for city, names in streets.items():
        lat0, lon0 = _centre(city)
        for s, street in enumerate(names):
            for n in range(1, 21):
                oid += 1
                rows.append({"osm_id": f"n{oid}", "lat": lat0 - 0.008 + 0.004 * s, "lon": lon0 - 0.008 + 0.0007 * n,
                             "housenumber": str(n), "street": street, "city": city, "postcode": postcodes[city]})
    rows.append({"osm_id": "n9999", "lat": 50.7105, "lon": 2.2505, "housenumber": "12 bis",
                 "street": "Rue de l'Église", "city": "Thérouanne", "postcode": "62129"})
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def geocoder() -> Geocoder:
    streets = pd.DataFrame([{"name": "Rue des Écoles", "city": "Thérouanne", "lat": 50.712, "lon": 2.252},
                            {"name": "Route de Boulogne", "city": None, "lat": 50.705, "lon": 2.205}])
    stops = pd.DataFrame([{"stop_id": "S1", "stop_name": "Saint-Omer Gare", "lat": 50.711, "lon": 2.215},
                          {"stop_id": "S2", "stop_name": "Arques Centre", "lat": 50.711, "lon": 2.231}])
    services = pd.DataFrame([{"id": "caf-so", "name": "CAF du Pas-de-Calais", "lat": 50.712, "lon": 2.211,
                              "commune": "Saint-Omer"}])
    return Geocoder.build(addresses=_addresses(), streets=streets, communes=_communes(), stops=stops,
                          services=services)


# ------------------------------------------------------------------------------------------ normalisation
def test_tokens_expand_abbreviations_and_drop_stop_words():
    assert tokens("12 r de l'Église") == ["12", "rue", "eglise"]
    assert key("ST-OMER") == key("st omer") == key("Saint Omer") == "saint omer"
    assert tokens("av du Gal de Gaulle") == ["avenue", "general", "gaulle"]
    assert tokens("bd, pl, rte, chem, imp, all, ste") == [
        "boulevard", "place", "route", "chemin", "impasse", "allee", "sainte"]


def test_damerau_levenshtein():
    assert damerau_levenshtein("therouane", "therouanne") == 1
    assert damerau_levenshtein("arqeus", "arques") == 1  # transposition
    assert damerau_levenshtein("abc", "xyz", limit=1) == 2


def test_parse_coordinates():
    assert parse_coordinates("50.75,2.25") == (50.75, 2.25)
    assert parse_coordinates(" 50.75 2.25 ") == (50.75, 2.25)
    assert parse_coordinates("50,75; 2,25") == (50.75, 2.25)
    assert parse_coordinates("12 rue de l'église") is None
    assert parse_coordinates("12 3") is None


# ------------------------------------------------------------------------------------------ search
@pytest.mark.parametrize("text", ["st omer", "ST-OMER", "saint omer", "Saint-Omer", "saint-omer", "SAINT OMER"])
def test_commune_variants(geocoder, text):
    best = geocoder.search(text)[0]
    assert (best.kind, best.label) == ("commune", "Saint-Omer")
    assert geocoder.resolve(text).label == "Saint-Omer"


def test_address_with_abbreviations_and_no_accents(geocoder):
    best = geocoder.resolve("12 r de l eglise therouanne")
    assert best.kind == "address"
    assert best.label == "12 Rue de l'Église, 62129 Thérouanne"
    assert (best.housenumber, best.street, best.commune) == ("12", "Rue de l'Église", "Thérouanne")


def test_ranking_address_before_street_before_commune(geocoder):
    results = geocoder.search("12 rue de l'église Thérouanne")
    kinds = [r.kind for r in results]
    assert kinds[0] == "address" and results[0].commune == "Thérouanne"
    assert kinds.index("address") < kinds.index("street") < kinds.index("commune")
    street = next(r for r in results if r.kind == "street")
    assert street.commune == "Thérouanne"


def test_housenumber_suffix(geocoder):
    assert geocoder.resolve("12 bis rue de l'eglise, therouanne").housenumber == "12 bis"


@pytest.mark.parametrize("text, label", [
    ("therouane", "Thérouanne"),  # missing letter
    ("thérouanne", "Thérouanne"),
    ("arqeus", "Arques"),  # transposition
    ("longuenese", "Longuenesse"),
    ("bd de strasbourg st omer", "Boulevard de Strasbourg, Saint-Omer"),
    ("boulevard strasbourgg", "Boulevard de Strasbourg, Saint-Omer"),
    ("av du gal de gaulle", "Avenue du Général de Gaulle, Arques"),
    ("pl mal foch", "Place du Maréchal Foch, Saint-Omer"),
    ("imp des tilleuls", "Impasse des Tilleuls, Saint-Martin-lez-Tatinghem"),
    ("rue des ecoles therouanne", "Rue des Écoles, Thérouanne"),
    ("saint martin lez tatinghem", "Saint-Martin-lez-Tatinghem"),
])
def test_fuzzy_matching(geocoder, text, label):
    assert geocoder.resolve(text).label == label


def test_street_without_city_gets_commune_from_polygons(geocoder):
    best = geocoder.resolve("rte de boulogne")
    assert (best.kind, best.commune) == ("street", "Saint-Omer")


def test_prefix_completion(geocoder):
    assert geocoder.search("longuen")[0].label == "Longuenesse"


def test_stops_and_services(geocoder):
    stop = geocoder.search("gare st omer")[0]
    assert (stop.kind, stop.id) == ("stop", "S1")
    service = geocoder.search("caf pas de calais")[0]
    assert (service.kind, service.id, service.commune) == ("service", "caf-so", "Saint-Omer")


def test_rue_de_saint_omer_ranks_below_commune(geocoder):
    labels = [r.label for r in geocoder.search("saint omer")]
    assert labels.index("Saint-Omer") < labels.index("Rue de Saint-Omer, Arques")


# ------------------------------------------------------------------------------------------ resolve errors
@contextmanager
def raises_fr(words: str):
    """An InputError whose French message (the geocoder's errors are translated at the edge) has ``words``."""
    with pytest.raises(InputError) as exc:
        yield
    assert re.search(words, exc.value.text("fr")), exc.value.text("fr")


def test_geocoder_messages_in_english_too(geocoder):
    with pytest.raises(InputError) as exc:
        geocoder.resolve("zzzz qqqq")
    assert str(exc.value) == exc.value.text("en") == "no address matches “zzzz qqqq”"

def test_ambiguous_street_lists_candidates(geocoder):
    with pytest.raises(InputError) as exc:
        geocoder.resolve("rue de l'église")
    message = exc.value.text("fr")  # the message in French (str(exc) is the English one)
    assert "plusieurs lieux" in message
    assert "Thérouanne" in message and "Arques" in message
    assert "précisez la commune" in message


def test_ambiguous_communes(geocoder):
    # a house number present in two communes' "Rue de l'Église"
    with raises_fr("plusieurs lieux"):
        geocoder.resolve("5 rue de l eglise")


def test_no_match(geocoder):
    with raises_fr("aucune adresse ne correspond à « zzzz qqqq »"):
        geocoder.resolve("zzzz qqqq")
    with raises_fr("adresse vide"):
        geocoder.resolve("  ")


def test_coordinates_inside_and_outside(geocoder):
    inside = geocoder.resolve("50.7105, 2.2505")
    assert inside.kind == "point" and inside.commune == "Thérouanne"
    assert "12 bis Rue de l'Église" in inside.label
    with raises_fr("en dehors de l'Audomarois"):
        geocoder.resolve("48.8566,2.3522")  # Paris
    with raises_fr("inversées"):
        geocoder.resolve("2.2505,50.7105")
    assert geocoder.search("48.8566,2.3522") == []
    assert geocoder.contains(50.71, 2.25) and not geocoder.contains(48.85, 2.35)


# ------------------------------------------------------------------------------------------ reverse
def test_reverse_nearest_address(geocoder):
    res = geocoder.reverse(50.71051, 2.25051)
    assert res.kind == "address" and res.housenumber == "12 bis"
    assert res.distance_m is not None and res.distance_m < 5


def test_build_from_minimal_inputs():
    geo = Geocoder.build(communes=_communes().drop(columns=["geometry"]))
    assert geo.resolve("Arques").kind == "commune"
    assert geo.contains(50.71, 2.23)  # bounding box of the communes
    with raises_fr("géocodage inverse"):
        Geocoder.build().reverse(50.7, 2.2)


# ------------------------------------------------------------------------------------------ real data
def test_default_communes_and_services():
    from mobility.config import DEFAULT_COMMUNES_PATH, DEFAULT_SERVICES_PATH
    if not (DEFAULT_COMMUNES_PATH.exists() and DEFAULT_SERVICES_PATH.exists()):
        pytest.skip("data/communes.geojson or data/services.csv not generated yet")
    import geopandas as gpd

    from mobility.loaders.services import load_services
    communes = gpd.read_file(DEFAULT_COMMUNES_PATH)
    services = load_services(DEFAULT_SERVICES_PATH)
    geo = Geocoder.build(communes=pd.DataFrame(communes), services=services)
    for text in ("st omer", "ST-OMER", "saint omer"):
        assert geo.resolve(text).label == "Saint-Omer"
    assert all(geo.contains(s.lat, s.lon) for s in services)
    with raises_fr("en dehors de l'Audomarois"):
        geo.resolve("48.8566,2.3522")


def test_bad_inputs_raise_data_error():
    from mobility.errors import DataError
    with pytest.raises(DataError, match="'communes' needs a name column"):
        Geocoder.build(communes=pd.DataFrame({"insee": ["62765"]}))
    with pytest.raises(DataError, match="'stops' lacks column\\(s\\) stop_name"):
        Geocoder.build(stops=pd.DataFrame({"stop_id": ["S1"], "lat": [50.7], "lon": [2.2]}))
    # GTFS column names are accepted for stops
    geo = Geocoder.build(stops=pd.DataFrame({"stop_id": ["S1"], "stop_name": ["Gare"], "stop_lat": [50.7],
                                             "stop_lon": [2.2]}))
    assert geo.resolve("gare").id == "S1"
