"""``distributed.threadpoolexecutor``: re-exports from rayexec."""

from rayexec import rejoin, secede  # noqa: F401
