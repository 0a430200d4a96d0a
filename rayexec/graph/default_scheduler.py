"""Making dask compute on the default rayexec client, and giving dask back its own.

dask picks a scheduler from, in order: the ``scheduler=`` argument, the
``scheduler`` config value, a distributed client, the collection's default.
rayexec uses the config value: while a rayexec client is the default, dask's
``scheduler`` is that client (dask then calls ``client.get``, and
``dask.persist`` calls ``client.persist``), and dataframe shuffles use the
``"tasks"`` method, which needs no service on the workers.  When the last
client closes, both settings return to what they were before the first.

(The example changes dask's global settings, so it is shown, not run; the
behaviour is tested in ``tests/test_dask_scheduler.py``.)

>>> import dask
>>> class Client:  # any object named like a client with a ``get``
...     def get(self, dsk, keys, **kwargs): ...
>>> c = Client()
>>> activate(c); dask.config.get("scheduler") is c  # doctest: +SKIP
True
>>> deactivate(c, None); dask.config.get("scheduler", None) is None  # doctest: +SKIP
True
"""

from __future__ import annotations

import threading
from typing import Any

import dask

_SCHEDULER = "scheduler"
_SHUFFLE = "dataframe.shuffle.method"
_lock = threading.Lock()
_before: dict[str, Any] | None = None  # the settings before the first client took over


def activate(client: Any) -> None:
    """Make ``client`` dask's scheduler."""
    global _before
    with _lock:
        if _before is None:
            _before = {name: dask.config.get(name, None) for name in (_SCHEDULER, _SHUFFLE)}
        settings = {_SCHEDULER: client}
        if not _before[_SHUFFLE]:
            settings[_SHUFFLE] = "tasks"
        dask.config.set(settings)


def deactivate(client: Any, successor: Any | None) -> None:
    """``client`` closed: hand dask to ``successor``, or restore dask's own settings.

    Settings someone else changed meanwhile are left as they are.
    """
    global _before
    with _lock:
        if _before is None:
            return
        ours = dask.config.get(_SCHEDULER, None) is client
        if successor is not None:
            if ours:
                dask.config.set({_SCHEDULER: successor})
            return
        if ours:
            dask.config.set(_before)
        _before = None
