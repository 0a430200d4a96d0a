"""``distributed.pool``: the 2015 ``Pool`` and ``RemoteData``; re-exports from rayexec."""

from rayexec import Pool, RemoteData  # noqa: F401
