"""``distributed.queues``: re-exports from rayexec."""

from rayexec import Queue  # noqa: F401
