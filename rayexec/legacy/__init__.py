"""distributed's earliest API: ``Pool``/``RemoteData`` and ``distributed.dask.get``."""
