"""Timeouts as distributed takes them: seconds, a ``timedelta`` or a string such as ``"200ms"``."""

from __future__ import annotations

from datetime import timedelta

from dask.utils import parse_timedelta


def parse_timeout(timeout) -> float | None:
    """Seconds from a number, a ``timedelta`` or a string; None (wait forever) stays None.

    >>> parse_timeout("200ms"), parse_timeout(3), parse_timeout(None)
    (0.2, 3, None)
    >>> parse_timeout([1])
    Traceback (most recent call last):
      ...
    TypeError: a timeout is seconds, a timedelta or a string such as '200ms', not a list
    """
    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float, str, timedelta)):
        raise TypeError("a timeout is seconds, a timedelta or a string such as '200ms', "
                        f"not a {type(timeout).__name__}")
    return parse_timedelta(timeout, default="s")
