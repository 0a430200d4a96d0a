"""``distributed.diagnostics.progressbar``: re-exports from rayexec."""

from rayexec import progress  # noqa: F401
