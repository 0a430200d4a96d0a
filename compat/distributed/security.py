"""``distributed.security``: re-exports from rayexec (a placeholder: Ray uses token auth)."""

from rayexec import Security  # noqa: F401
