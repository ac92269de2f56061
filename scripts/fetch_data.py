#!/usr/bin/env python3
"""Download the official data for users who are online: the Mouvéo GTFS and the Geofabrik OSM extract.

Nothing in the project calls this script: the embedded data set is a reconstruction (see README), and
the tests never download. Run it on a machine with internet access, then point the commands at the
files it writes::

    python scripts/fetch_data.py --out data/official
    mobility info --gtfs data/official/mouveo.gtfs.zip --osm data/official/audomarois.osm.pbf

The GTFS is found through the transport.data.gouv.fr API (dataset of the CA du Pays de Saint-Omer,
"Réseau urbain Mouvéo", licence ODbL); the OSM extract of the former Nord-Pas-de-Calais region comes
from Geofabrik (© OpenStreetMap contributors, ODbL) and is clipped to the territory's bounding box
(with a 3 km margin) so that the loaders do not read the whole region.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TDG_DATASETS_API = "https://transport.data.gouv.fr/api/datasets"
TDG_DATASET_SLUGS = ("reseau-urbain-mouveo", "transports-en-commun-audomarois-mouveo")
GEOFABRIK_URL = "https://download.geofabrik.de/europe/france/nord-pas-de-calais-latest.osm.pbf"
MARGIN_DEG = 0.03  # about 3 km


def _download(url: str, dest: Path) -> Path:
    print(f"downloading {url}", file=sys.stderr)
    req = urllib.request.Request(url, headers={"User-Agent": "mobility-audomarois/0.1 (fetch_data.py)"})
    with urllib.request.urlopen(req, timeout=120) as resp, open(dest, "wb") as fh:
        shutil.copyfileobj(resp, fh)
    return dest


def find_mouveo_gtfs_url() -> str:
    """URL of the GTFS resource of the Mouvéo dataset on transport.data.gouv.fr."""
    for slug in TDG_DATASET_SLUGS:
        try:
            with urllib.request.urlopen(f"{TDG_DATASETS_API}/{slug}", timeout=60) as resp:
                dataset = json.load(resp)
        except OSError:
            continue
        for res in dataset.get("resources", []):
            if str(res.get("format", "")).upper() == "GTFS" and res.get("url"):
                return res["url"]
    raise SystemExit("could not find the Mouvéo GTFS on transport.data.gouv.fr; download it by hand")


def territory_bbox() -> tuple[float, float, float, float]:
    """(min_lon, min_lat, max_lon, max_lat) of the communes in data/facts/communes.csv, with a margin."""
    import csv

    with open(ROOT / "data" / "facts" / "communes.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    lons = [float(r["lon"]) for r in rows]
    lats = [float(r["lat"]) for r in rows]
    return (min(lons) - 3 * MARGIN_DEG, min(lats) - 2 * MARGIN_DEG, max(lons) + 3 * MARGIN_DEG,
            max(lats) + 2 * MARGIN_DEG)


def clip_osm(src: Path, dest: Path, bbox: tuple[float, float, float, float]) -> None:
    """Keep the ways with a node inside ``bbox`` and every node they use (two passes with pyosmium)."""
    import osmium

    min_lon, min_lat, max_lon, max_lat = bbox
    inside: set[int] = set()
    for node in osmium.FileProcessor(str(src), osmium.osm.NODE):
        if min_lon <= node.location.lon <= max_lon and min_lat <= node.location.lat <= max_lat:
            inside.add(node.id)
    needed: set[int] = set()
    ways = []
    for way in osmium.FileProcessor(str(src), osmium.osm.WAY):
        refs = [n.ref for n in way.nodes]
        if any(r in inside for r in refs):
            needed.update(refs)
            ways.append(way.id)
    keep_ways = set(ways)
    writer = osmium.SimpleWriter(str(dest), overwrite=True)
    try:
        for obj in osmium.FileProcessor(str(src), osmium.osm.NODE | osmium.osm.WAY):
            if obj.is_node() and (obj.id in needed or obj.id in inside):
                writer.add_node(obj)
            elif obj.is_way() and obj.id in keep_ways:
                writer.add_way(obj)
    finally:
        writer.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "data" / "official", help="output folder")
    parser.add_argument("--gtfs-url", help="GTFS URL (default: looked up on transport.data.gouv.fr)")
    parser.add_argument("--osm-url", default=GEOFABRIK_URL, help="OSM .pbf URL (default: Geofabrik Nord-Pas-de-Calais)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    gtfs = _download(args.gtfs_url or find_mouveo_gtfs_url(), args.out / "mouveo.gtfs.zip")
    region = _download(args.osm_url, args.out / "region.osm.pbf")
    clipped = args.out / "audomarois.osm.pbf"
    clip_osm(region, clipped, territory_bbox())
    region.unlink()
    print(f"wrote {gtfs} and {clipped}")
    print(f"next: mobility info --gtfs {gtfs} --osm {clipped}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
