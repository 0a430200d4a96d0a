"""A progress bar over futures: blocks, like ``wait``, while showing how far along it is."""

from __future__ import annotations

import sys
import threading

from tqdm.auto import tqdm

from ..functions import futures_of


def progress(*futures, notebook=None, multi=True, complete=True, group_by="prefix",
             file=None, **kwargs) -> None:
    """Draw a bar until all ``futures`` are done (finished, failed or cancelled).

    Takes futures, lists of them or dask collections backed by futures.

    >>> from rayexec import progress
    >>> progress(client.map(time.sleep, [0.5] * 4))  # doctest: +SKIP
    100%|██████████| 4/4 [00:01<00:00, 3.98it/s]
    """
    if group_by not in ("spans", "prefix") and not callable(group_by):
        raise ValueError(f"`group_by` should be 'spans', 'prefix', or a Callable, got {group_by!r}")
    found = futures_of(list(futures))
    left = threading.Semaphore(0)
    with tqdm(total=len(found), unit="task", file=file or sys.stderr,
              desc=kwargs.get("desc")) as bar:
        lock = threading.Lock()

        def on_done(_state):
            with lock:
                bar.update(1)
            left.release()

        for future in found:
            future._state.add_callback(on_done)
        for _ in found:
            left.acquire()
