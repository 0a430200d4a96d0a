"""``distributed.worker_client``: re-exports from rayexec."""

from rayexec import local_client, worker_client  # noqa: F401
