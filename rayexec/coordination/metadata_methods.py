"""Client methods for the cluster's shared metadata and event log.

distributed keeps both on its scheduler; here they live on the cluster's
coordination actor (:mod:`rayexec.coordination.named`), so every client and task of
the cluster sees them.  As in distributed, values and messages are plain data
(numbers, strings, lists, dicts).
"""

from __future__ import annotations

import time

from .named import call, run

_no_default = "__no_default__"


def _as_keys(key) -> list:
    return list(key) if isinstance(key, (list, tuple)) else [key]


class MetadataMethods:
    """Mixed into :class:`rayexec.Client`."""

    def set_metadata(self, key, value):
        """Store ``value`` under ``key``; a list of keys names a place in nested dicts.

        >>> client.set_metadata(["run", "step"], 3)  # doctest: +SKIP
        >>> client.get_metadata("run")                # doctest: +SKIP
        {'step': 3}
        """
        return run(self, call, "meta_set", _as_keys(key), value)

    def get_metadata(self, keys, default=_no_default):
        """The value stored under ``keys``; ``KeyError`` when missing and no ``default``.

        >>> client.get_metadata(["run", "step"])          # doctest: +SKIP
        3
        >>> client.get_metadata("absent", default=None)   # doctest: +SKIP
        """
        return run(self, self._get_metadata, _as_keys(keys), default)

    def _get_metadata(self, keys: list, default):
        try:
            return call("meta_get", keys)
        except KeyError:
            if default is _no_default:
                raise
            return default

    def log_event(self, topic, msg):
        """Record ``msg`` under ``topic`` (or each of several topics) with the time.

        >>> client.log_event("loads", {"file": "a.csv"})  # doctest: +SKIP
        >>> client.get_events("loads")                    # doctest: +SKIP
        ((1795409782.24, {'file': 'a.csv'}),)
        """
        topics = [topic] if isinstance(topic, str) else list(topic)
        return run(self, call, "event_log", topics, time.time(), msg)

    def get_events(self, topic=None):
        """The ``(time, message)`` events of ``topic``; without one, every topic's, by topic."""
        return run(self, call, "event_list", topic)
