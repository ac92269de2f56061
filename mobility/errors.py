"""Error types with messages meant for people: every loader and planner error says what and where.

An error raised with a message key of the catalogs (see :mod:`mobility.i18n`) and its parameters,
``InputError("err_param_empty", name="to")``, is translated at the edge: ``exc.text(lang)`` (the API by
``lang``/``Accept-Language``, the command line by ``--lang``); ``str(exc)`` is its English sentence (logs).
An error raised with a plain sentence keeps it in every language.
"""

from __future__ import annotations

from typing import Any

from mobility import i18n


class MobilityError(Exception):
    """Base class: an error the user can act on. Interfaces print its message, never a traceback."""

    #: short machine-readable code used by the JSON API
    code = "error"
    #: HTTP status the JSON API answers with
    http_status = 400

    def __init__(self, message: Any = "", /, *args: Any, **params: Any) -> None:
        self.key = message if i18n.has_message(message) else None
        self.params = params
        super().__init__(i18n.message(message, "en", **params) if self.key else message, *args)

    def text(self, lang: str | None) -> str:
        """The message in ``lang`` (the sentence itself when the error was raised without a key)."""
        return i18n.message(self.key, i18n.lang_of(lang), **self.params) if self.key else str(self)


class DataError(MobilityError):
    """Input data is missing or malformed. The message names the file, and where known the line and field."""

    code = "bad_data"
    http_status = 500

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None,
                 field: str | None = None) -> None:
        self.path = path
        self.line = line
        self.field = field
        where = []
        if path:
            where.append(str(path))
        if line is not None:
            where.append(f"line {line}")
        if field:
            where.append(f"field '{field}'")
        Exception.__init__(self, f"{': '.join([', '.join(where), message]) if where else message}")
        self.key, self.params = None, {}


class InputError(MobilityError):
    """A request parameter is invalid (bad coordinates, date outside the feed, unknown id...)."""

    code = "bad_request"
    http_status = 400


class NotFoundError(MobilityError):
    """An identifier (stop, site, category) does not exist."""

    code = "not_found"
    http_status = 404


class NoRouteError(MobilityError):
    """The request is valid but no itinerary satisfies it."""

    code = "no_itinerary"
    http_status = 422


class DeadlineExceeded(MobilityError):
    """A request ran past its compute deadline (see :mod:`mobility.deadline`) and was stopped."""

    code = "timeout"
    http_status = 503
