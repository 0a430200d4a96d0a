"""``distributed.metrics``: the clocks distributed's code and tests read."""

from time import monotonic, time  # noqa: F401
