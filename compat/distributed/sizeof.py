"""``distributed.sizeof``: dask's ``sizeof``, which distributed re-exports."""

from dask.sizeof import sizeof  # noqa: F401
