"""``distributed.semaphore``: re-exports from rayexec."""

from rayexec import Semaphore  # noqa: F401
