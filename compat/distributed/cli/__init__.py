"""``distributed.cli``: the modules dask's command line loads for ``dask scheduler``
and ``dask worker``."""
