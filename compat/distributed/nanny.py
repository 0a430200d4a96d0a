"""``distributed.nanny``: re-exports from rayexec."""

from rayexec import Nanny  # noqa: F401
