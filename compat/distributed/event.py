"""``distributed.event``: re-exports from rayexec."""

from rayexec import Event  # noqa: F401
