"""Functions the benchmarks run, importable (as library code is) by every system's workers.

A function defined in ``__main__`` is pickled by value to compute its key (dask's
``tokenize``), about half a millisecond per ``submit`` in rayexec and distributed
alike; an importable one is named by reference.
"""


def noop(x):
    return x
