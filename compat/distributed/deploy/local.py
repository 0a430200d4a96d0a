"""``distributed.deploy.local``: re-exports from rayexec."""

from rayexec import LocalCluster  # noqa: F401
