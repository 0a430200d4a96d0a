"""``distributed.worker``: what a task asks about where it runs; re-exports from rayexec."""

from builtins import print  # noqa: F401  (see distributed/__init__.py)
from warnings import warn  # noqa: F401

from rayexec import Worker, get_client, get_worker, rejoin, secede  # noqa: F401
