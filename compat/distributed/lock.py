"""``distributed.lock``: re-exports from rayexec."""

from rayexec import Lock  # noqa: F401
