"""``client.scheduler``: the head's address, and the scheduler's read-only calls.

In distributed, ``client.scheduler`` is a connection to the scheduler: each
attribute is a remote call, awaited.  Libraries built on distributed use a few
of them directly -- xgboost asks ``await client.scheduler.who_has(keys=...)``
to place its training where the data is, and ``identity()`` for the workers
alive.  Those with an answer on Ray give it, from the same sources as the
client's own methods (``who_has``, ``scheduler_info``); any other call names
itself as having no counterpart, rather than failing on a missing attribute.

>>> client.scheduler.address            # doctest: +SKIP
'tcp://127.0.0.1:6379'
>>> await client.scheduler.who_has(keys=[future.key])  # doctest: +SKIP
{'inc-1c8d...': ('tcp://127.0.0.1:40000',)}
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..asynchronous import in_thread
from .context import SchedulerAddress


@dataclass(frozen=True)
class SchedulerRPC(SchedulerAddress):
    """The scheduler as ``client.scheduler`` gives it (see the module's docstring)."""

    client: Any = field(default=None, compare=False, repr=False)

    def who_has(self, keys=None):
        """An awaitable: for each key, the workers holding its data (tuples, as the
        scheduler answers)."""
        return in_thread(self._who_has, keys)

    def identity(self, **kwargs):
        """An awaitable: the scheduler's description, its ``workers`` among it."""
        return in_thread(self.client.scheduler_info)

    def _who_has(self, keys) -> dict[str, tuple[str, ...]]:
        client = self.client
        if keys is None:
            states = client._states_of()
        else:  # only the keys asked for are located (unknown keys: no worker)
            states = [s for s in map(client._states.get, keys) if s is not None]
        where = client._who_has(states)
        return {key: tuple(where.get(key, ())) for key in (where if keys is None else keys)}

    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        raise AttributeError(
            f"client.scheduler.{name}: distributed's scheduler call {name!r} has no "
            "counterpart on Ray (the scheduler answers who_has and identity)")
