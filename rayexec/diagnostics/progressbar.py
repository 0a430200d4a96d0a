"""A progress bar over futures: in a terminal it blocks, like ``wait``, while showing how
far along it is; in a notebook it returns at once and the bar moves by itself."""

from __future__ import annotations

import sys
import threading
import time

from ..functions import futures_of


def in_kernel() -> bool:
    """Whether this runs inside an IPython kernel (a notebook), as distributed guesses it.

    >>> in_kernel()
    False
    """
    ipython = sys.modules.get("IPython")  # a notebook has imported IPython long before
    get_ipython = getattr(ipython, "get_ipython", None)
    return get_ipython is not None and getattr(get_ipython(), "kernel", None) is not None


def _notebook_bar(total: int, desc):
    """tqdm's notebook widget; its text bar when the widgets are not installed."""
    try:
        from tqdm.notebook import tqdm as notebook_tqdm

        return notebook_tqdm(total=total, unit="task", desc=desc)
    except ImportError:  # tqdm's widget needs ipywidgets
        from tqdm import tqdm

        return tqdm(total=total, unit="task", desc=desc, file=sys.stderr)


class _Updates:
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


class TextProgressBar:
    """distributed's terminal bar on standard output, over futures (or collections).

    ``[#####               ] | 50% Completed |  1.2s``: redrawn every
    ``interval`` and whenever a future is done; it stops when all are done, or
    at the first that failed (``status`` is then ``"error"``), and clears its
    line, as distributed's does.  ``start=False`` leaves the waiting to
    :meth:`listen`; ``file=`` draws on another stream.

    >>> TextProgressBar(client.map(time.sleep, [0.5] * 4))  # doctest: +SKIP
    [########################################] | 100% Completed |  1.0s
    """

    def __init__(self, keys, scheduler=None, interval="100ms", width=40, loop=None,
                 complete=True, start=True, **kwargs):
        from dask.utils import parse_timedelta

        self.futures = futures_of(keys if isinstance(keys, (list, tuple, set)) else [keys])
        self.interval = parse_timedelta(interval, default="s")
        self.width = width
        self.complete = complete
        self.file = kwargs.get("file")
        self.status: str | None = None
        self._last_response: dict | None = None
        self.comm: _Updates | None = None  # while listening, and closed after
        self._started = time.time()
        if start:
            self.listen()

    @property
    def elapsed(self) -> float:
        return time.time() - self._started

    def listen(self) -> None:
        """Draw until the futures are done (or one failed)."""
        states = [future._state for future in self.futures]
        self.comm = _Updates(states)
        try:
            self._redraw_until_done(states, self.comm.changed)
        finally:
            self.comm.close()
        self._write("\33[2K\r")

    def _redraw_until_done(self, states: list, changed: threading.Condition) -> None:
        while True:
            with changed:
                remaining = sum(not s.done() for s in states)
                failed = any(s.status == "error" for s in states)
                status = "error" if failed else "finished" if remaining == 0 else "running"
                self._last_response = {"all": len(states), "remaining": remaining,
                                       "status": status}
                self.status = status
                self._draw(remaining, len(states))
                if status != "running":
                    break
                changed.wait(self.interval)

    def _draw(self, remaining: int, total: int) -> None:
        from dask.utils import format_time

        done = (1 - remaining / total) if total else 1.0
        self._write(f"\r[{'#' * int(self.width * done):<{self.width}}] | "
               f"{int(100 * done)}% Completed | {format_time(self.elapsed)}")

    def _write(self, text: str) -> None:
        out = self.file or sys.stdout  # looked up now: pytest and notebooks swap it
        try:
            out.write(text)
            out.flush()
        except ValueError:  # the stream was closed
            pass


def progress(*futures, notebook=None, multi=True, complete=True, group_by="prefix",
             **kwargs):
    """Show how far along ``futures`` are: futures, lists of them, or dask
    collections backed by futures.

    In a terminal it draws distributed's text bar (:class:`TextProgressBar`) on
    standard output and returns when all are done; in a notebook
    (``notebook=True``, or found running in a kernel) it returns a live bar
    (tqdm's widget) at once.

    >>> from rayexec import progress
    >>> progress(client.map(time.sleep, [0.5] * 4))  # doctest: +SKIP
    [########################################] | 100% Completed |  1.0s
    """
    if group_by not in ("spans", "prefix") and not callable(group_by):
        raise ValueError(f"`group_by` should be 'spans', 'prefix', or a Callable, got {group_by!r}")
    found = futures_of(list(futures))
    if notebook is None:
        notebook = in_kernel()
    if not notebook:
        TextProgressBar(found, complete=complete, **kwargs)
        return None
    bar = _notebook_bar(len(found), kwargs.get("desc"))
    lock = threading.Lock()
    remaining = [len(found)]

    def on_done(_state):
        with lock:
            bar.update(1)
            remaining[0] -= 1
            if remaining[0] == 0:
                bar.close()

    if not found:
        bar.close()
    for future in found:
        future._state.add_callback(on_done)
    return bar
