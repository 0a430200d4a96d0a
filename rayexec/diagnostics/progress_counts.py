"""What a progress bar counts: the task states it follows (with their
dependencies), how many are done per group, and whether one failed -- shared by
the terminal's bar and the notebook's widgets."""

from __future__ import annotations

import threading
import time

from ..errors import CancelledError
from ..functions import futures_of
from ..keys import key_prefix
from ..state import FINISHED, PENDING


class Updates:
    """How a bar hears that its futures are done: a callback on each one.  It is
    the bar's ``comm`` (distributed's bars hear through a scheduler connection),
    closed -- the callbacks removed -- when the bar stops."""

    def __init__(self, states: list):
        self.changed = threading.Condition()
        self._states = states
        self._closed = False
        for state in states:
            state.add_callback(self._on_done)

    def _on_done(self, _state) -> None:
        with self.changed:
            self.changed.notify_all()

    def close(self) -> None:
        for state in self._states:
            state.remove_callback(self._on_done)
        self._closed = True

    def closed(self) -> bool:
        return self._closed


DEFAULT_SPAN = ("default", "default")  # the group of tasks made outside any span


def group_of(group_by):
    """state -> its group, for ``group_by``: "prefix", "spans" or a function of the key."""
    if group_by in (None, "prefix"):
        return lambda state: key_prefix(state.key)
    if group_by == "spans":
        return lambda state: state.span or DEFAULT_SPAN
    if callable(group_by):
        return lambda state: group_by(state.key)
    raise ValueError(f"`group_by` should be 'spans', 'prefix', or a Callable, got {group_by!r}")


def tracked_states(futures: list, complete: bool) -> list:
    """The task states a bar follows: the futures' own, and those of the futures
    their calls took, and so on, as distributed's bars follow a key's
    dependencies.  With ``complete=False`` a dependency already computed is left
    out (with what it took), as distributed leaves out what is in memory."""
    found: dict[int, object] = {}
    stack = [(future._state, True) for future in futures]
    while stack:
        state, given = stack.pop()
        if id(state) in found or (not given and not complete and state.status == FINISHED):
            continue
        found[id(state)] = state
        if state.spec is not None and (complete or state.status != FINISHED):
            # (function, args, kwargs) of the call
            stack.extend((future._state, False)
                         for future in futures_of(list(state.spec[1:])))
    return list(found.values())


class FuturesProgress:
    """What a progress bar knows: the states it follows, grouped (``group_of``:
    state -> group, or None for a single group), and how far along each group is.

    ``_last_response`` is what was last counted, shaped as distributed's bars get
    it from their scheduler: ``{"all": n, "remaining": n, "status": s}``, with
    per-group dicts for ``n`` when grouped; ``"exception"`` and ``"key"`` of the
    first task that failed.  As in distributed, a failed task remains to be done.
    """

    def __init__(self, keys, interval="100ms", complete=True, group_of=None):
        from dask.utils import parse_timedelta

        self.futures = futures_of(keys if isinstance(keys, (list, tuple, set)) else [keys])
        self.interval = parse_timedelta(interval, default="s")
        self.complete = complete
        self.status: str | None = None
        self._last_response: dict | None = None
        self.comm: Updates | None = None  # while listening, and closed after
        self._group_of = group_of
        self._started = time.time()

    @property
    def elapsed(self) -> float:
        return time.time() - self._started

    def _count(self, states: list) -> dict:
        """Count where ``states`` are; the response, also kept as ``_last_response``
        and ``status``."""
        group_of = self._group_of or (lambda _state: None)
        all_, remaining, failed = {}, {}, None
        for state in states:
            group = group_of(state)
            all_[group] = all_.get(group, 0) + 1
            # As in distributed, a task counts as done once its result is there; one
            # that failed, was cancelled or lost its data stops the bar.
            remaining[group] = remaining.get(group, 0) + (state.status != FINISHED)
            if failed is None and state.status not in (FINISHED, PENDING):
                failed = state
        status = ("error" if failed is not None
                  else "running" if any(remaining.values()) else "finished")
        if self._group_of is None:
            all_, remaining = sum(all_.values()), sum(remaining.values())
        response = {"all": all_, "remaining": remaining, "status": status}
        if failed is not None:
            response["exception"] = failed.exception or CancelledError(failed.key)
            response["key"] = failed.key
        self._last_response, self.status = response, status
        return response
