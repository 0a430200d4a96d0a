"""``distributed.scheduler``: re-exports from rayexec."""

from rayexec import KilledWorker, Scheduler  # noqa: F401
