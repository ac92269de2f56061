"""Names of days and months and the written date of a day ("mercredi 2 décembre 2026"), from Babel's locale
data (see :mod:`mobility.i18n`): one source for the planner's sentences, the booking instructions, the web
pages and the map captions. French for an unknown language."""

from __future__ import annotations

from mobility.i18n import day_text, month_name, weekday_name, weekday_names  # noqa: F401
