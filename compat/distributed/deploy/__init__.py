"""``distributed.deploy``: cluster objects; re-exports from rayexec."""

from rayexec import (  # noqa: F401
    Adaptive,
    LocalCluster,
    SpecCluster,
    SSHCluster,
    SubprocessCluster,
)
