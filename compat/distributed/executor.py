"""``distributed.executor``: the 2015 module of ``Executor``; re-exports from rayexec."""

from rayexec import Executor, Future, as_completed, progress, wait  # noqa: F401
