"""Seed 002, the first dask.distributed, run as a doctest through the shim.

Run as: PYTHONPATH=<checkout>/compat python compat_seed_002.py
It starts its own scheduler and worker (Ray nodes) on free ports and stops them.
On Ray, workers and clients use one address, so both of the seed's ports name it.

Scheduler and Worker
--------------------

>>> import subprocess, sys
>>> from dask.distributed import Scheduler, Worker, Client
>>> s = Scheduler()
>>> s.address_to_workers == s.address_to_clients
True
>>> s.address_to_clients
'tcp://127.0.0.1:...'
>>> w = Worker(scheduler=s.address_to_workers, nthreads=1)

Client
------

>>> c = Client(s.address_to_clients)
>>> from operator import add
>>> dsk = {'x': 1, 'y': (add, 'x', 2)}
>>> c.get(dsk, 'y')  # causes distributed work
3

Store Collections
-----------------

>>> import dask.bag as db
>>> b = db.from_sequence(range(5)).map(lambda x: x + 1)
>>> c.set_collection('mybag', b)

Other clients, here in another process, retrieve this collection:

>>> other = '''
... import sys
... from dask.distributed import Client
... c = Client(sys.argv[1])
... b = c.get_collection('mybag')
... print(b.compute())
... '''
>>> out = subprocess.run([sys.executable, "-c", other, s.address_to_clients],
...                      capture_output=True, text=True, timeout=120)
>>> print(out.stdout.strip() or out.stderr[-2000:])
[1, 2, 3, 4, 5]
>>> c.unpublish_dataset('mybag')
>>> c.close()
>>> w.close()
>>> s.close()
"""

if __name__ == "__main__":
    import doctest
    import sys

    failures, _ = doctest.testmod(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    sys.exit(1 if failures else 0)
