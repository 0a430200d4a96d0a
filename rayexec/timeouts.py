"""Timeouts as distributed takes them: seconds, a ``timedelta`` or a string such as ``"200ms"``."""

from __future__ import annotations

from dask.utils import parse_timedelta


def parse_timeout(timeout) -> float | None:
    """Seconds from a number, a ``timedelta`` or a string; None (wait forever) stays None.

    >>> parse_timeout("200ms"), parse_timeout(3), parse_timeout(None)
    (0.2, 3, None)
    """
    return None if timeout is None else parse_timedelta(timeout, default="s")
