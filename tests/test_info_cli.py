"""``mobility info`` on the embedded data, the structural validation of the embedded GTFS, and bad input."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

from mobility.config import DEFAULT_GTFS_PATHS, DEFAULT_OSM_PATH
from mobility.interfaces.cli import main
from mobility.loaders.gtfs import load_feed
from mobility.loaders.gtfs_validate import validate_feed


def test_embedded_gtfs_passes_structural_validation():
    problems = validate_feed(load_feed(DEFAULT_GTFS_PATHS[0]).load_all())
    errors = [p for p in problems if p.severity == "error"]
    assert errors == [], errors[:5]


def test_info_summarises_the_embedded_data(capsys):
    assert main(["info", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["communes"] == 89 and info["population"] == 128316
    feed = info["feeds"][0]
    assert feed["stops"] >= 150 and feed["trips"] > 300 and feed["tad_zones"] >= 4
    assert feed["service_range"][0] <= "2026-12-01" <= feed["service_range"][1]
    assert info["service_sites"] >= 100
    assert info["walk_network"]["edges"] > 1000 and info["drive_network"]["edges"] > 1000


def test_info_readable_output(capsys):
    assert main(["info", "--lang", "en"]) == 0
    out = capsys.readouterr().out
    assert "89 (128,316 inhabitants)" in out and "TAD" in out and "Walk network" in out
    assert main(["info", "--lang", "fr"]) == 0
    out = capsys.readouterr().out
    assert "89 (128\u202f316 habitants)" in out and "Réseau piéton" in out


def test_info_on_a_missing_file_is_one_line_and_non_zero(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "mobility.interfaces.cli", "info", "--gtfs",
                           str(tmp_path / "nope.zip"), "--osm", str(DEFAULT_OSM_PATH)],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "nope.zip" in proc.stderr and "not found" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_info_on_a_malformed_row_names_file_line_and_field(tmp_path, capsys):
    feed = tmp_path / "broken"
    shutil.copytree(DEFAULT_GTFS_PATHS[0], feed)
    lines = (feed / "stop_times.txt").read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    col = header.index("arrival_time")
    row = lines[5].split(",")
    row[col] = "7h30"
    lines[5] = ",".join(row)
    (feed / "stop_times.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert main(["info", "--gtfs", str(feed), "--osm", str(DEFAULT_OSM_PATH)]) == 2
    err = capsys.readouterr().err
    assert "stop_times.txt" in err and "line 6" in err and "arrival_time" in err and "7h30" in err
