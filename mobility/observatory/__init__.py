"""The observatory of users' needs: a journal of plan requests, survey answers, and reports of unmet demand.

Layers: :mod:`.db` (engine, schema, migrations), :mod:`.journal` (what a plan request leaves behind),
:mod:`.surveys` (the questionnaire and its answers), :mod:`.report` (figures, charts, HTML/CSV/GeoPackage).
Interfaces import this package; it never imports them. Privacy by design: a request is kept as a commune
INSEE code and categorical facts, never a name, an address, coordinates or an IP address.
"""
