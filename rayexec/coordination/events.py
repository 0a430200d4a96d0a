"""Event: a flag shared by name; ``wait`` blocks until someone ``set``s it.

>>> event = Event("go")                                  # doctest: +SKIP
>>> future = client.submit(lambda e: e.wait(timeout=10), event)  # doctest: +SKIP
>>> event.set()                                          # doctest: +SKIP
>>> future.result()                                      # doctest: +SKIP
True
"""

from __future__ import annotations

from ..timeouts import parse_timeout
from .named import Named, call, run


class Event(Named):
    """A cluster-wide ``asyncio.Event``: clients and tasks see the same flag by name.

    A waiting task does not hold its CPU: Ray lends it back while the task
    blocks.

    >>> event = Event("a")            # doctest: +SKIP
    >>> event.wait(timeout="100ms")   # doctest: +SKIP
    False
    >>> event.set(); event.is_set()   # doctest: +SKIP
    True
    """

    kind = "event"

    def wait(self, timeout=None):
        """Block until the flag is set: True, or False if ``timeout`` passed first."""
        return run(self.client, call, "event_wait", self.name, parse_timeout(timeout))

    def clear(self):
        """Lower the flag: later waiters block."""
        return run(self.client, call, "event_clear", self.name)

    def set(self):
        """Raise the flag: every waiter wakes."""
        return run(self.client, call, "event_set", self.name)

    def is_set(self):
        """Whether the flag is raised."""
        return run(self.client, call, "event_is_set", self.name)

    def __reduce__(self):
        return (Event, (self.name,))

    def __repr__(self) -> str:
        return f"<Event: {self.name}>"
