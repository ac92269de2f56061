"""Build script: metadata and dependencies are in setup.cfg; this file maps the top-level ``web/`` and
``data/`` folders into the package as ``mobility/_web`` and ``mobility/_data``, so a wheel carries the
templates, static files and embedded data (found through importlib.resources, see mobility/config.py)."""

from setuptools import find_packages, setup

RESOURCES = {"mobility._web": "web", "mobility._data": "data"}

setup(
    packages=find_packages(include=["mobility", "mobility.*"]) + list(RESOURCES),
    package_dir=RESOURCES,
    package_data={
        "mobility._web": ["templates/*.html", "static/*.svg", "static/css/*.css", "static/js/*.js"],
        "mobility._data": ["*.csv", "*.geojson", "facts/*.csv", "gtfs/*/*.txt", "gtfs/*/*.geojson",
                           "osm/*.osm.pbf", "scenarios/*.geojson", "observatory/*.json"],
        "mobility": ["locale/*/LC_MESSAGES/*.po", "locale/*/LC_MESSAGES/*.mo"],
        "mobility.observatory": ["migrations/*.py", "migrations/*.mako", "migrations/versions/*.py",
                                 "templates/*.html"],
    },
)
