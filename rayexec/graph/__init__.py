"""dask graphs on Ray: normalise what dask hands over, cut it into parts, run one Ray task per part.

The Client's dask methods (``get``, ``compute``, ``persist``) live in :mod:`.methods`; see
``docs/dask.md`` for how a graph travels.
"""
