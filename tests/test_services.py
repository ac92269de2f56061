"""Service categories vocabulary and the service catalogue loader (CSV, GeoJSON, validation errors)."""

from __future__ import annotations

import csv
import json
from datetime import datetime
from pathlib import Path

import pytest

from mobility.config import DEFAULT_SERVICES_PATH
from mobility.errors import DataError, NotFoundError
from mobility.loaders.services import ServiceCatalogue, load_services
from mobility.domain.categories import (
    CATEGORIES, category_label, find_category, known_categories, match_category, resolve_category,
)

HEADER = ["id", "name", "categories", "commune", "insee", "address", "lat", "lon", "coord_quality",
          "opening_hours", "wheelchair", "phone", "status", "source", "note"]
ROWS = [
    ["caf-so", "CAF du Pas-de-Calais - accueil de Saint-Omer", "caf", "Saint-Omer", "62765",
     "1 rue de la Caf, 62500 Saint-Omer", "50.7480", "2.2550", "exact", "Mo-Fr 08:30-12:00,13:30-16:30; PH off",
     "yes", "", "open", "test", ""],
    ["fs-lumbres", "France services de Lumbres", "france_services;caf;cpam", "Lumbres", "62534",
     "2 place, 62380 Lumbres", "50.7066", "2.1213", "street", "Mo-Fr 09:00-12:00; We 14:00-17:00",
     "limited", "", "", "test", "hosts CAF and CPAM desks"],
    ["mairie-arques", "Mairie d'Arques", "mairie", "Arques", "62040", "", "50.7360", "2.3030", "exact",
     "", "", "", "", "test", ""],
    ["cpam-so", "CPAM Saint-Omer", "cpam", "Saint-Omer", "62765", "", "50.7500", "2.2500", "exact",
     "We 14:00-17:00", "oui", "", "", "test", ""],
]


def write_csv(path: Path, rows: list[list[str]], header: list[str] = HEADER) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path


@pytest.fixture
def catalogue(tmp_path) -> ServiceCatalogue:
    return load_services(write_csv(tmp_path / "services.csv", ROWS))


# ------------------------------------------------------------------------------------------------ categories
def test_vocabulary_has_every_category_with_labels():
    assert known_categories() == [
        "france_services", "maison_services_publics", "caf", "cpam", "france_travail", "pmi", "cias",
        "relais_petite_enfance", "point_information_jeunesse", "sous_prefecture", "hospital", "mairie",
        "intercommunalite", "gare", "tourisme", "maison_adolescents"]
    for cat in CATEGORIES.values():
        assert cat.label_fr and cat.label_en
    assert category_label("mairie") == "Mairie" and category_label("mairie", "en") == "Town hall"
    assert "Pôle emploi" in category_label("france_travail")


@pytest.mark.parametrize("text, key", [
    ("caf", "caf"), ("CAF", "caf"), ("allocations familiales", "caf"), ("Caisse d'allocations familiales", "caf"),
    ("mairie", "mairie"), ("town hall", "mairie"), ("Hôtel de ville", "mairie"),
    ("hôpital", "hospital"), ("HOPITAL", "hospital"), ("hospital", "hospital"),
    ("france services", "france_services"), ("France-Services", "france_services"),
    ("pole emploi", "france_travail"), ("Pôle Emploi", "france_travail"), ("job centre", "france_travail"),
    ("sécurité sociale", "cpam"), ("sous-préfecture", "sous_prefecture"), ("office de tourisme", "tourisme"),
    ("maison des ados", "maison_adolescents"), ("relais petite enfance", "relais_petite_enfance"),
    ("train station", "gare"), ("cias", "cias"), ("PMI", "pmi"), ("point_information_jeunesse", "point_information_jeunesse"),
])
def test_resolve_category_french_english_synonyms(text, key):
    assert resolve_category(text) == key


def test_category_in_a_sentence():
    assert find_category("I need the CAF") == "caf"
    assert find_category("je cherche la maison france services") == "france_services"
    assert match_category("I need the CAF") is None  # exact match only


def test_unknown_category_lists_known_ones():
    with pytest.raises(NotFoundError) as exc:
        resolve_category("boulangerie")
    message = str(exc.value)
    assert "unknown service category 'boulangerie'" in message
    for key in known_categories():
        assert key in message


# ------------------------------------------------------------------------------------------------ loading
def test_load_csv(catalogue):
    assert len(catalogue) == 4
    fs = catalogue.get("fs-lumbres")
    assert fs.categories == ("france_services", "caf", "cpam") and fs.main_category == "france_services"
    assert (fs.lat, fs.lon, fs.wheelchair) == (50.7066, 2.1213, "limited")
    assert fs.opening_hours.is_open(datetime(2026, 6, 3, 15, 0))  # Wednesday afternoon
    assert not fs.opening_hours.is_open(datetime(2026, 6, 3, 10, 0))
    assert catalogue.get("mairie-arques").opening_hours is None
    assert catalogue.get("mairie-arques").is_open(datetime(2026, 6, 3, 10, 0)) is None
    assert catalogue.get("cpam-so").wheelchair == "yes"
    assert catalogue.categories() == ["france_services", "caf", "cpam", "mairie"]


def test_get_unknown_site(catalogue):
    with pytest.raises(NotFoundError, match="unknown service site 'nope'"):
        catalogue.get("nope")


def test_i_need_the_caf(catalogue):
    ids = [s.id for s in catalogue.by_category("I need the CAF")]
    assert ids == ["caf-so", "fs-lumbres"]  # the CAF office first, then the France Services hosting CAF desks
    assert [s.id for s in catalogue.by_category("allocations familiales")] == ids
    assert [s.id for s in catalogue.search("I need the CAF")] == ids
    assert [s.id for s in catalogue.by_category("town hall")] == ["mairie-arques"]


def test_search_ranks_by_commune_and_name(catalogue):
    assert [s.id for s in catalogue.search("assurance maladie saint omer")] == ["cpam-so", "fs-lumbres"]
    assert [s.id for s in catalogue.search("lumbres")] == ["fs-lumbres"]
    assert catalogue.search("zzz") == []


def test_by_unknown_category(catalogue):
    with pytest.raises(NotFoundError, match="known categories: france_services"):
        catalogue.by_category("boulangerie")


def test_to_frame(catalogue):
    frame = catalogue.to_frame()
    assert list(frame.columns) == ["id", "name", "main_category", "categories", "commune", "insee", "lat", "lon"]
    assert frame.loc[frame["id"] == "fs-lumbres", "categories"].item() == "france_services;caf;cpam"


def test_load_geojson(tmp_path):
    features = []
    for row in ROWS:
        props = dict(zip(HEADER, row))
        lat, lon = float(props.pop("lat")), float(props.pop("lon"))
        features.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]},
                         "properties": props})
    features[1]["properties"]["categories"] = ["france_services", "caf"]  # a JSON list works too
    path = tmp_path / "services.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    cat = load_services(path)
    assert [s.id for s in cat.by_category("caf")] == ["caf-so", "fs-lumbres"]
    assert (cat.get("caf-so").lat, cat.get("caf-so").lon) == (50.748, 2.255)


def test_load_geojson_bad_geometry(tmp_path):
    props = dict(zip(HEADER, ROWS[0]))
    feature = {"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[2, 50], [2, 51]]},
               "properties": props}
    path = tmp_path / "bad.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    with pytest.raises(DataError, match=r"bad.geojson, field 'geometry': feature 1 \(id caf-so\): geometry must"):
        load_services(path)


# ------------------------------------------------------------------------------------------------ bad rows
def _bad(row_index: int, column: str, value: str) -> list[list[str]]:
    rows = [list(r) for r in ROWS]
    rows[row_index][HEADER.index(column)] = value
    return rows


@pytest.mark.parametrize("column, value, problem", [
    ("lat", "cinquante", "lat 'cinquante' is not a number"),
    ("lon", "", "lon is empty"),
    ("lat", "95.0", "lat 95.0 is out of range"),
    ("categories", "caf;boulangerie", "unknown service category 'boulangerie'; known categories: france_services"),
    ("categories", ";", "categories is empty"),
    ("opening_hours", "Mo-Fr 08:00-12:00 14:00-17:00", "found '1' where expected the end, ';'"),
    ("wheelchair", "maybe", "wheelchair 'maybe' is not one of"),
    ("insee", "625", "insee '625' is not a 5-character INSEE code"),
    ("id", "caf-so", "duplicate id 'caf-so' (first seen at line 2)"),
    ("name", " ", "name is empty"),
])
def test_bad_rows_name_file_line_field(tmp_path, column, value, problem):
    path = write_csv(tmp_path / "services.csv", _bad(2, column, value))
    with pytest.raises(DataError) as exc:
        load_services(path)
    err = exc.value
    assert (err.path, err.line, err.field) == (str(path), 4, column)
    assert str(err).startswith(f"{path}, line 4, field '{column}': ")
    assert problem in str(err)


def test_opening_hours_error_gives_position(tmp_path):
    path = write_csv(tmp_path / "services.csv", _bad(0, "opening_hours", "Mo-Fx 08:00-12:00"))
    with pytest.raises(DataError, match=r"line 2, field 'opening_hours': invalid syntax, found 'F' where expected a weekday .* at position 3"):
        load_services(path)


def test_missing_columns_and_files(tmp_path):
    path = write_csv(tmp_path / "s.csv", [r[:5] for r in ROWS], header=HEADER[:5])
    with pytest.raises(DataError, match="line 1: missing column\\(s\\) lat, lon"):
        load_services(path)
    with pytest.raises(DataError, match="not found"):
        load_services(tmp_path / "nope.csv")
    (tmp_path / "ragged.csv").write_text(",".join(HEADER) + "\nx,y,caf\n")
    with pytest.raises(DataError, match="line 2: 3 values for 15 columns"):
        load_services(tmp_path / "ragged.csv")


def test_multiline_quoted_field_keeps_line_numbers(tmp_path):
    rows = [list(r) for r in ROWS]
    rows[0][HEADER.index("note")] = "a note\non two lines"
    rows[1][HEADER.index("lat")] = "x"
    with pytest.raises(DataError, match="line 4, field 'lat'"):
        load_services(write_csv(tmp_path / "s.csv", rows))


# ------------------------------------------------------------------------------------------------ real data
@pytest.mark.skipif(not DEFAULT_SERVICES_PATH.exists(), reason=f"{DEFAULT_SERVICES_PATH} not generated yet")
def test_default_services_file_loads():
    cat = load_services(DEFAULT_SERVICES_PATH)
    assert len(cat) > 0
    assert cat.by_category("caf")
    for site in cat:
        assert 50.4 < site.lat < 51.0 and 1.8 < site.lon < 2.6, site.id
