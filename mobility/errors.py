"""Error types with messages meant for people: every loader and planner error says what and where."""

from __future__ import annotations


class MobilityError(Exception):
    """Base class: an error the user can act on. Interfaces print its message, never a traceback."""

    #: short machine-readable code used by the JSON API
    code = "error"
    #: HTTP status the JSON API answers with
    http_status = 400


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
        super().__init__(f"{': '.join([', '.join(where), message]) if where else message}")


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
