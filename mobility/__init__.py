"""mobility: door-to-service trip planning for the Audomarois.

Layers, each depending only on the ones before it:

1. ``mobility.loaders``   read GTFS (+ GTFS-Flex), OSM, communes and service sites;
2. ``mobility.network``   build compact timetable arrays and CSR street graphs, cached on disk;
3. ``mobility.routing``   routing kernels (RAPTOR rounds, street Dijkstra);
4. ``mobility.planning``  door-to-door and door-to-service planning, itineraries, geocoding;
   ``mobility.analysis``  travel-time surfaces and accessibility figures for planners;
5. ``mobility.interfaces`` command line, JSON API and web pages.
"""

__version__ = "0.1.0"
