"""A progress bar over futures: in a terminal it blocks, like ``wait``, while showing how
far along it is; in a notebook it returns at once and the bar moves by itself."""

from __future__ import annotations

import importlib.util
import sys
import threading

from ..functions import futures_of
from .progress_counts import FuturesProgress, Updates, group_of, tracked_states


def in_kernel() -> bool:
    """Whether this runs inside an IPython kernel (a notebook), as distributed guesses it.

    >>> in_kernel()
    False
    """
    ipython = sys.modules.get("IPython")  # a notebook has imported IPython long before
    get_ipython = getattr(ipython, "get_ipython", None)
    return get_ipython is not None and getattr(get_ipython(), "kernel", None) is not None


class TextProgressBar(FuturesProgress):
    """distributed's terminal bar on standard output, over futures (or collections).

    ``[#####               ] | 50% Completed |  1.2s``: redrawn every
    ``interval`` and whenever a future is done; it stops when all are done, or
    at the first that failed (``status`` is then ``"error"``), and clears its
    line, as distributed's does.  It counts the futures' dependencies too
    (``complete=True``) or only what has not run yet (``complete=False``).
    ``start=False`` leaves the waiting to :meth:`listen`; ``file=`` draws on
    another stream.

    >>> TextProgressBar(client.map(time.sleep, [0.5] * 4))  # doctest: +SKIP
    [########################################] | 100% Completed |  1.0s
    """

    def __init__(self, keys, scheduler=None, interval="100ms", width=40, loop=None,
                 complete=True, start=True, **kwargs):
        super().__init__(keys, interval, complete)
        self.width = width
        self.file = kwargs.get("file")
        if start:
            self.listen()

    def listen(self) -> None:
        """Draw until the futures are done (or one failed)."""
        states = tracked_states(self.futures, self.complete)
        self.comm = Updates(states)
        try:
            self._redraw_until_done(states, self.comm.changed)
        finally:
            self.comm.close()
        self._write("\33[2K\r")

    def _redraw_until_done(self, states: list, changed: threading.Condition) -> None:
        while True:
            with changed:
                response = self._count(states)
                self._draw(response["remaining"], response["all"])
                if response["status"] != "running":
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
    (``notebook=True``, or found running in a kernel) it returns distributed's
    widget at once, already moving: one bar per key prefix
    (:class:`~.progress_widgets.MultiProgressWidget`; per span with
    ``group_by="spans"``), or a single bar with ``multi=False``.  Without
    ipywidgets a notebook gets the text bar.  ``complete=True`` counts the
    futures' dependencies too.

    >>> from rayexec import progress
    >>> progress(client.map(time.sleep, [0.5] * 4))  # doctest: +SKIP
    [########################################] | 100% Completed |  1.0s
    """
    group_of(group_by)  # a ValueError for an unknown grouping, notebook or not
    found = futures_of(list(futures))
    if notebook is None:
        notebook = in_kernel()
    if not notebook:
        TextProgressBar(found, complete=complete, **kwargs)
        return None
    if importlib.util.find_spec("ipywidgets") is None:
        TextProgressBar(found, complete=complete, **kwargs)  # a notebook shows it too
        return None
    from .progress_widgets import MultiProgressWidget, ProgressWidget

    if multi:
        bar = MultiProgressWidget(found, complete=complete, group_by=group_by, **kwargs)
    else:
        bar = ProgressWidget(found, complete=complete, **kwargs)
    bar.start()
    return bar
