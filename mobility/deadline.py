"""A per-request compute deadline: the interfaces say how long a request may compute (:func:`within`), the
planner checks it between its searches (:func:`check`) and stops with :class:`~mobility.errors.DeadlineExceeded`
(HTTP 503) instead of finishing work nobody waits for any more. Without a deadline, :func:`check` does nothing.

A context variable carries it, so each request thread (and each asyncio task) has its own.
"""

from __future__ import annotations

import contextvars
import time
from contextlib import contextmanager
from typing import Iterator

from mobility.errors import DeadlineExceeded

_DEADLINE: contextvars.ContextVar[float | None] = contextvars.ContextVar("mobility_deadline", default=None)


@contextmanager
def within(seconds: float | None) -> Iterator[None]:
    """Run the block with a deadline ``seconds`` from now (None: no deadline; an enclosing, earlier one stays)."""
    if seconds is None:
        yield
        return
    limit = time.monotonic() + float(seconds)
    outer = _DEADLINE.get()
    token = _DEADLINE.set(limit if outer is None else min(outer, limit))
    try:
        yield
    finally:
        _DEADLINE.reset(token)


def check() -> None:
    """DeadlineExceeded when the current deadline has passed."""
    limit = _DEADLINE.get()
    if limit is not None and time.monotonic() > limit:
        raise DeadlineExceeded("err_deadline")
