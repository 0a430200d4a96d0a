"""``distributed.spans``: re-exports from rayexec."""

from rayexec.diagnostics.spans import span  # noqa: F401
