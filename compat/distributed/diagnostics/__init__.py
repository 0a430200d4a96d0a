"""``distributed.diagnostics``: re-exports from rayexec."""

from rayexec import progress  # noqa: F401
