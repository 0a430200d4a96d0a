"""``distributed.multi_lock``: re-exports from rayexec."""

from rayexec import MultiLock  # noqa: F401
