"""A progress bar over futures: in a terminal it blocks, like ``wait``, while showing how
far along it is; in a notebook it returns at once and the bar moves by itself."""

from __future__ import annotations

import sys
import threading

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


def progress(*futures, notebook=None, multi=True, complete=True, group_by="prefix",
             file=None, **kwargs):
    """Draw a bar until all ``futures`` are done (finished, failed or cancelled).

    Takes futures, lists of them or dask collections backed by futures.  In a
    terminal it returns when all are done; in a notebook (``notebook=True``,
    or found running in a kernel) it returns the live bar at once.

    >>> from rayexec import progress
    >>> progress(client.map(time.sleep, [0.5] * 4))  # doctest: +SKIP
    100%|██████████| 4/4 [00:01<00:00, 3.98it/s]
    """
    from tqdm import tqdm

    if group_by not in ("spans", "prefix") and not callable(group_by):
        raise ValueError(f"`group_by` should be 'spans', 'prefix', or a Callable, got {group_by!r}")
    found = futures_of(list(futures))
    if notebook is None:
        notebook = in_kernel()
    if notebook:
        bar = _notebook_bar(len(found), kwargs.get("desc"))
    else:
        bar = tqdm(total=len(found), unit="task", file=file or sys.stderr,
                   desc=kwargs.get("desc"))
    left = threading.Semaphore(0)
    lock = threading.Lock()
    remaining = [len(found)]

    def on_done(_state):
        with lock:
            bar.update(1)
            remaining[0] -= 1
            if remaining[0] == 0:
                bar.close()
        left.release()

    if not found:
        bar.close()
    for future in found:
        future._state.add_callback(on_done)
    if notebook:
        return bar
    for _ in found:
        left.acquire()
    return None
