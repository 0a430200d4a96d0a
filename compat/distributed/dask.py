"""``distributed.dask``: the 2015 ``get(ip, port, dsk, keys)``; re-exports from rayexec.

Today's dask refuses ``compute(get=...)``; write
``x.compute(scheduler=functools.partial(get, ip, port))``.
"""

from rayexec.legacy.dask import get  # noqa: F401
