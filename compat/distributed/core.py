"""``distributed.core``: re-exports from rayexec (placeholders: no distributed protocol on Ray)."""

from rayexec import Status, connect, rpc  # noqa: F401
