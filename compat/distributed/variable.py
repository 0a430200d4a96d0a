"""``distributed.variable``: re-exports from rayexec."""

from rayexec import Variable  # noqa: F401
