"""Seed 001, distributed's Executor walkthrough, run as a doctest through the shim.

Run as: PYTHONPATH=<checkout>/compat python compat_seed_001.py <address>
The examples are the seed's, with its 2015 spellings updated where today's dask
requires it (``get=`` -> ``scheduler=``, ``set_options`` -> ``config.set``,
``dask.imperative.do`` -> ``dask.delayed``) and smaller data.

Executor
========

>>> import sys
>>> from distributed import Executor
>>> e = Executor(sys.argv[1])
>>> Executor.__module__
'rayexec.client'

Submit and Gather
=================

>>> def inc(x):
...     return x + 1
>>> future = e.submit(inc, 1)  # calls inc(1) on a worker
>>> future.result()
2
>>> future
<Future: finished, type: int, key: inc-...>
>>> e.gather([future])  # collect result from remote worker
[2]

map and gather
==============

>>> futures = e.map(inc, range(5))  # calls inc(0), inc(1), inc(2), ...
>>> futures
[<Future: ...key: inc-...>, <Future: ...>, <Future: ...>, <Future: ...>, <Future: ...>]
>>> e.gather(futures)  # collect remote data to local process
[1, 2, 3, 4, 5]

Submit and map on futures
=========================

>>> def double(x):
...     return 2 * x
>>> future1 = e.submit(inc, 1)
>>> future2 = e.submit(double, future1)  # use submit directly on future
>>> e.gather([future2])
[4]
>>> def add(x, y):
...     return x + y
>>> futures = e.map(add, range(10), range(10))
>>> total = e.submit(sum, futures)   # call sum on a list of futures
>>> e.gather([total])
[90]

Scatter
=======

>>> data = e.scatter([1, 2, 3])
>>> data
[<Future: finished, type: int, key: int-...>, <Future: finished, ...>, <Future: finished, ...>]
>>> e.gather(e.map(inc, data))
[2, 3, 4]

Exceptions
==========

>>> def div(x, y):
...     return x / y
>>> future = e.submit(div, 1, 0)  # divides by zero
>>> future.exception()  # collect exception from remote worker
ZeroDivisionError('division by zero')
>>> future.status
'error'
>>> future
<Future: error, key: div-...>
>>> import traceback
>>> any("return x / y" in line for line in traceback.format_tb(future.traceback()))
True
>>> future2 = e.submit(inc, future)  # computations on failed futures fail
>>> future2.exception()
ZeroDivisionError('division by zero')
>>> e.gather([future])  # gathering bad futures raise exceptions
Traceback (most recent call last):
...
ZeroDivisionError: division by zero

Restart
=======

>>> _ = e.restart()
>>> future
<Future: cancelled, key: div-...>
>>> e.submit(inc, 10).result()   # new work runs right away
11

Wait on futures
===============

>>> from time import sleep
>>> a, b, c = e.map(sleep, [0.1, 0.2, 0.3])  # returns immediately
>>> from distributed import wait
>>> done, not_done = wait([a, b, c])
>>> len(done), len(not_done)
(3, 0)
>>> from distributed import progress
>>> import contextlib, io
>>> bar = io.StringIO()  # the seed's text bar, drawn with carriage returns
>>> with contextlib.redirect_stdout(bar):
...     progress([a, b, c])
>>> print(bar.getvalue().split(chr(13))[-2])  # doctest: +ELLIPSIS
[########################################] | 100% Completed | ...
>>> from distributed import as_completed
>>> seq = as_completed(e.map(sleep, [0.3, 0.2, 0.1]))
>>> sorted(f.status for f in seq)
['finished', 'finished', 'finished']

Manage Memory
=============

>>> futures2 = e.map(inc, range(3))
>>> del futures2

Dask collections
================

>>> import dask
>>> import dask.array as da
>>> x = da.random.normal(loc=10, scale=0.1, size=(1000, 1000), chunks=(250, 250))
>>> y = x.mean()
>>> round(float(y.compute(scheduler=e.get)))
10
>>> with dask.config.set(scheduler=e.get):
...     round(float(y.compute()))
10
>>> futures = e.compute(y)
>>> round(float(e.gather(futures)))
10

Dask Imperative (today's dask.delayed)
======================================

>>> from dask import delayed as do
>>> filenames = ["a", "bb", "ccc"]
>>> values1 = [do(len)(filename) for filename in filenames]  # lazy
>>> values2 = [do(inc)(val1) for val1 in values1]
>>> values3 = [do(double)(val2) for val2 in values2]
>>> futures3 = e.compute(values3)  # only final results persist
>>> e.gather(futures3)
[4, 6, 8]

Dask Imperative and Futures
===========================

>>> futures1 = e.map(len, filenames)  # base computations on persistent data
>>> values2 = [do(inc)(future) for future in futures1]  # complex work
>>> values3 = [do(double)(val2) for val2 in values2]  # more work
>>> e.gather(e.compute(values3))
[4, 6, 8]
>>> e.close()
"""

if __name__ == "__main__":
    import doctest
    import sys

    failures, _ = doctest.testmod(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    sys.exit(1 if failures else 0)
