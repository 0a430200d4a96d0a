"""Seed 004, the earliest distributed: Pool / RemoteData and distributed.dask.get,
run as a doctest through the shim.

Run as: PYTHONPATH=<checkout>/compat python compat_seed_004.py <host:port>
Today's dask refuses ``compute(get=...)``; the scheduler= spelling replaces it.

Pool
----

>>> import sys
>>> from distributed import Pool
>>> pool = Pool(sys.argv[1])  # Provide address of center
>>> A = pool.map(lambda x: x**2, range(10))
>>> B = pool.map(lambda x: -x, A)
>>> total = pool.apply(sum, [B])
>>> total.get()
-285
>>> B = pool.map(lambda x: -x, A)
>>> pool.gather(A)
[0, 1, 4, 9, 16, 25, 36, 49, 64, 81]

get
---

>>> from distributed.dask import get
>>> ip, port = sys.argv[1].rsplit(":", 1)
>>> inc = lambda x: x + 1
>>> dsk = {'a': 1, 'b': (inc, 'a')}
>>> get(ip, int(port), dsk, 'b')
2
>>> from functools import partial
>>> get2 = partial(get, ip, int(port))
>>> import dask.array as da
>>> x = da.arange(10, chunks=(5,))
>>> int(x.sum().compute(scheduler=get2))
45
>>> x.sum().compute(get=get2)
Traceback (most recent call last):
...
TypeError: ...get=...
>>> pool.close()
"""

if __name__ == "__main__":
    import doctest
    import sys

    failures, _ = doctest.testmod(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    sys.exit(1 if failures else 0)
